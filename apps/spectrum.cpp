// spectrum: σ(E) = (1/π) Re ∫₀^T a(t) w(t) e^{iEt/ħ} dt of an autocorrelation,
// exact (compute_fft_reference's output) or learned (autocorrelation's), with
// its energy grid (spectrum.hpp).
//
//   spectrum --input data/fft_ref_morse_d4.npz --output data/spectrum_fft_morse_d4.npz
//   spectrum --input data/autocorrelation_morse_d4.npz --window none --E-min 0 --E-max 6 --output s.npz
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <iostream>

#include "bohmflow/npz.hpp"
#include "bohmflow/spectrum.hpp"
#include "app_main.hpp"
#include "autocorrelation_input.hpp"
#include "flag_helpers.hpp"

int main(int argc, char** argv) {
  std::string input, output;
  bohmflow::SpectrumOptions options;
  double hbar = 0.0;
  CLI::App app{"Spectrum sigma(E) of an autocorrelation a(t), from compute_fft_reference or autocorrelation."};
  app.add_option("--input", input, "NPZ with t and a (compute_fft_reference -o, autocorrelation --data-out)")
      ->required();
  app.add_option("--output", output, "NPZ with E, sigma, window, T, hbar")->required();
  bohmflow::apps::add_word_option(app, "--window", options.window, "w(t): cos2 is cos^2(pi t / 2T)");
  app.add_option("--E-min", options.E_min, "first energy (default 0)")->check(bohmflow::apps::finite());
  app.add_option("--E-max", options.E_max, "last energy (default 2 <H>)")->check(bohmflow::apps::finite());
  app.add_option("--n-E", options.n_E, "energies, both ends included")->capture_default_str();
  app.add_option("--hbar", hbar, "hbar (default: the file's)")->check(bohmflow::apps::above(0));
  return bohmflow::apps::run_app(app, argc, argv, [&] {
    bohmflow::require_writable(output, "--output");
    const auto series = bohmflow::apps::read_autocorrelation(input, "--input");
    options.hbar = hbar > 0 ? hbar : series.hbar;
    if (!(options.hbar > 0)) {
      throw std::runtime_error("--input " + input + " holds no 'hbar': pass --hbar");
    }
    if (app.count("--E-max") == 0) {
      if (!(series.energy > options.E_min)) {
        throw std::runtime_error("--input " + input + ": <H> = " + std::to_string(series.energy) +
                                 " gives no default range [--E-min, 2 <H>]: pass --E-min and --E-max");
      }
      options.E_max = 2.0 * series.energy;
    }
    const auto spectrum = bohmflow::autocorrelation_spectrum(series.t, series.a, options);
    const int64_t n = options.n_E;
    const auto peak = std::max_element(spectrum.sigma.begin(), spectrum.sigma.end()) - spectrum.sigma.begin();
    bohmflow::Npz npz;
    npz.set("E", bohmflow::NpyArray::from_doubles(spectrum.E, {n}));
    npz.set("sigma", bohmflow::NpyArray::from_doubles(spectrum.sigma, {n}));
    npz.set("window", bohmflow::to_string(options.window));
    npz.set("T", series.t.back());
    npz.set("hbar", options.hbar);
    npz.set("source", input);
    npz.save(output);
    std::cout << std::setprecision(6) << "sigma(E) on " << n << " energies in [" << options.E_min << ", "
              << options.E_max << "] from " << series.t.size() << " times up to T = " << series.t.back()
              << " (" << bohmflow::to_string(options.window) << " window, resolution 2 pi hbar / T = "
              << 2 * M_PI * options.hbar / series.t.back() << "); highest at E = " << spectrum.E[peak]
              << "\nsaved " << output << "\n";
  });
}
