// The spectrum of an autocorrelation function a(t) = ⟨ψ(0)|ψ(t)⟩ given on
// times 0 = t_0 < t_1 < … < t_{K−1} = T:
//
//   σ(E) = (1/π) Re ∫₀^T a(t) w(t) e^{iEt/ħ} dt,
//
// by the trapezoid rule on a's own times. Since a(−t) = a(t)*, this is the
// Fourier transform over [−T, T]: a(t) = Σ_n |c_n|² e^{−iE_n t/ħ} gives lines
// at the eigenvalues E_n with weights |c_n|², each as wide as the window's
// transform (about 2πħ/T), and ∫σ dE = ħ Re a(0) w(0). The window w tames the
// cut at T, whose sinc side lobes would otherwise reach far from every line.
#pragma once

#include <complex>
#include <cstdint>
#include <string>
#include <vector>

#include "bohmflow/option_words.hpp"

namespace bohmflow {

enum class SpectrumWindow { kNone, kCos2 };
template <>
struct OptionWords<SpectrumWindow> {
  static constexpr const char* option = "window";
  static constexpr std::pair<SpectrumWindow, const char*> words[] = {{SpectrumWindow::kCos2, "cos2"},
                                                                      {SpectrumWindow::kNone, "none"}};
};

// w(t) on [0, T]: kCos2 is cos²(πt/2T) (1 at t = 0, 0 at T), kNone is 1.
double spectrum_window(SpectrumWindow window, double t, double T);

struct SpectrumOptions {
  SpectrumWindow window = SpectrumWindow::kCos2;  // w(t)
  double E_min = 0.0;   // first energy of the grid
  double E_max = 0.0;   // last energy; > E_min
  int64_t n_E = 1001;   // energies, evenly spaced, both ends included
  double hbar = 1.0;    // ħ of the system
  void validate() const;  // std::invalid_argument naming the field
};

struct Spectrum {
  std::vector<double> E;      // (n_E) the energy grid
  std::vector<double> sigma;  // (n_E) σ(E)
};

// σ(E) of a(t) on `t` (t[0] = 0, increasing, at least 2 times, a finite).
// Throws std::invalid_argument naming what is wrong.
Spectrum autocorrelation_spectrum(const std::vector<double>& t, const std::vector<std::complex<double>>& a,
                                  const SpectrumOptions& options);

}  // namespace bohmflow
