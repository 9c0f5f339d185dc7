// Reading a(t) back from the NPZ files that hold it: compute_fft_reference's
// (a at every step, E_exact, hbar) and autocorrelation's (a at the sampled
// times, energy, hbar). Without LibTorch: the spectrum command needs none.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <complex>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "bohmflow/npz.hpp"

namespace bohmflow::apps {

struct AutocorrelationSeries {
  std::vector<double> t;                    // (K) times, t[0] = 0
  std::vector<std::complex<double>> a;      // (K) a(t)
  double hbar = std::numeric_limits<double>::quiet_NaN();    // the file's hbar, NaN when absent
  double energy = std::numeric_limits<double>::quiet_NaN();  // E_exact, or the learned <H>(0)
};

// The series in `path` (given by `flag`). A file without `a`, such as an FFT
// reference written before compute_fft_reference stored it, is an error that
// names the file, the key and the commands that write one.
inline AutocorrelationSeries read_autocorrelation(const std::string& path, const std::string& flag) {
  const Npz npz = Npz::load(path);
  if (!npz.contains("a")) {
    throw std::runtime_error(flag + " " + path +
                             ": no key 'a' (the autocorrelation). FFT references hold it since "
                             "compute_fft_reference stores it (rerun compute_fft_reference with the same flags); "
                             "learned dynamics: autocorrelation --checkpoint FILE --data-out FILE");
  }
  AutocorrelationSeries series;
  series.t = npz.doubles("t");
  series.a = npz.complexes("a");
  if (series.a.size() != series.t.size()) {
    throw std::runtime_error(flag + " " + path + ": 'a' holds " + std::to_string(series.a.size()) +
                             " values for " + std::to_string(series.t.size()) + " times 't'");
  }
  if (npz.contains("hbar")) series.hbar = npz.scalar_double("hbar");
  if (npz.contains("E_exact")) {
    series.energy = npz.scalar_double("E_exact");
  } else if (npz.contains("energy")) {
    series.energy = npz.doubles("energy").at(0);
  }
  return series;
}

// The series in `path` at the leapfrog steps `steps` of a trajectory with step
// `dt` and final time `T`: an error naming the flag, the file and both time
// grids when it has no row at one of them.
inline std::vector<std::complex<double>> autocorrelation_at_steps(const std::string& path, const std::string& flag,
                                                                  const std::vector<int64_t>& steps, double dt,
                                                                  double T) {
  const auto series = read_autocorrelation(path, flag);
  const double file_dt = series.t.size() > 1 ? series.t[1] - series.t[0] : 0.0;
  const double file_T = series.t.empty() ? 0.0 : series.t.back();
  std::vector<std::complex<double>> a;
  for (const int64_t step : steps) {
    const double t = static_cast<double>(step) * dt;
    const auto row = file_dt > 0 ? static_cast<size_t>(std::llround(t / file_dt)) : 0;
    if (row >= series.t.size() || std::abs(series.t[row] - t) > 1e-9 * std::max(1.0, t)) {
      throw std::runtime_error(flag + " " + path + ": no row at t = " + std::to_string(t) + " (its dt = " +
                               std::to_string(file_dt) + ", T = " + std::to_string(file_T) +
                               "; the checkpoint's trajectory has dt = " + std::to_string(dt) +
                               ", T = " + std::to_string(T) + ")");
    }
    a.push_back(series.a[row]);
  }
  return a;
}

}  // namespace bohmflow::apps
