#include "bohmflow/spectrum.hpp"

#include <cmath>
#include <stdexcept>

#include "internal_checks.hpp"

namespace bohmflow {

using detail::format_number;
using detail::require;

double spectrum_window(SpectrumWindow window, double t, double T) {
  if (window == SpectrumWindow::kNone) return 1.0;
  const double c = std::cos(M_PI * t / (2.0 * T));
  return c * c;
}

void SpectrumOptions::validate() const {
  const std::string where = "SpectrumOptions";
  require(std::isfinite(E_min) && std::isfinite(E_max) && E_max > E_min, where,
          "E_min = " + format_number(E_min) + ", E_max = " + format_number(E_max) +
              ": must be finite with E_max > E_min");
  require(n_E >= 2 && n_E <= 100000000, where, "n_E = " + std::to_string(n_E) + ": must be in [2, 1e8]");
  require(std::isfinite(hbar) && hbar > 0, where, "hbar = " + format_number(hbar) + ": must be finite and > 0");
}

Spectrum autocorrelation_spectrum(const std::vector<double>& t, const std::vector<std::complex<double>>& a,
                                  const SpectrumOptions& options) {
  options.validate();
  const std::string where = "autocorrelation_spectrum";
  const size_t K = t.size();
  require(K >= 2 && a.size() == K, where,
          std::to_string(K) + " times and " + std::to_string(a.size()) +
              " values of a: need the same number, at least 2");
  require(t[0] == 0.0, where, "t[0] = " + format_number(t[0]) + ": the integral starts at t = 0");
  for (size_t k = 0; k < K; ++k) {
    require(std::isfinite(a[k].real()) && std::isfinite(a[k].imag()), where,
            "a at t = " + format_number(t[k]) + " is not finite");
    require(k == 0 || t[k] > t[k - 1], where,
            "t[" + std::to_string(k) + "] = " + format_number(t[k]) + ": times must increase");
  }
  // Trapezoid weights of each time, times the window, times a.
  const double T = t.back();
  std::vector<std::complex<double>> f(K);
  for (size_t k = 0; k < K; ++k) {
    const double left = k > 0 ? t[k] - t[k - 1] : 0.0, right = k + 1 < K ? t[k + 1] - t[k] : 0.0;
    f[k] = a[k] * (0.5 * (left + right) * spectrum_window(options.window, t[k], T) / M_PI);
  }
  Spectrum out;
  out.E.resize(options.n_E);
  out.sigma.resize(options.n_E);
  const double step = (options.E_max - options.E_min) / static_cast<double>(options.n_E - 1);
#pragma omp parallel for schedule(static)
  for (int64_t j = 0; j < options.n_E; ++j) {
    const double E = j + 1 == options.n_E ? options.E_max : options.E_min + j * step;
    double sum = 0.0;
    for (size_t k = 0; k < K; ++k) {
      const double phase = E * t[k] / options.hbar;  // Re(f e^{iφ})
      sum += f[k].real() * std::cos(phase) - f[k].imag() * std::sin(phase);
    }
    out.E[j] = E;
    out.sigma[j] = sum;
  }
  return out;
}

}  // namespace bohmflow
