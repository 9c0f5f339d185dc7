#include "bohmflow/spectrum.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <string>
#include <vector>

namespace bohmflow {
namespace {

using Complex = std::complex<double>;

std::vector<double> times(double T, int64_t K) {
  std::vector<double> t(K);
  for (int64_t k = 0; k < K; ++k) t[k] = T * static_cast<double>(k) / static_cast<double>(K - 1);
  return t;
}

// a(t) = Σ weight_n e^{−iE_n t/ħ} on `t`.
std::vector<Complex> lines(const std::vector<double>& t, const std::vector<std::pair<double, double>>& levels,
                           double hbar) {
  std::vector<Complex> a(t.size(), 0.0);
  for (size_t k = 0; k < t.size(); ++k) {
    for (const auto& [E, weight] : levels) a[k] += weight * std::exp(Complex(0, -E * t[k] / hbar));
  }
  return a;
}

// ∫₀^T e^{iωt} dt.
Complex integral(double omega, double T) {
  if (std::abs(omega * T) < 1e-8) return T;
  return (std::exp(Complex(0, omega * T)) - 1.0) / Complex(0, omega);
}

// One line at E₀ in closed form: cos² = ½ + ½ cos(πt/T).
double cos2_line(double E, double E0, double T, double hbar) {
  const double w = (E - E0) / hbar, s = M_PI / T;
  return (0.5 * integral(w, T) + 0.25 * integral(w + s, T) + 0.25 * integral(w - s, T)).real() / M_PI;
}

TEST(Spectrum, OneLineMatchesItsClosedFormForBothWindows) {
  const double hbar = 0.7, E0 = 1.3, T = 20.0;
  const auto t = times(T, 8001);
  const auto a = lines(t, {{E0, 1.0}}, hbar);
  SpectrumOptions options;
  options.hbar = hbar;
  options.E_min = -1.0;
  options.E_max = 4.0;
  options.n_E = 501;
  const auto cos2 = autocorrelation_spectrum(t, a, options);
  ASSERT_EQ(cos2.E.size(), 501u);
  EXPECT_EQ(cos2.E.front(), -1.0);
  EXPECT_EQ(cos2.E.back(), 4.0);
  double worst = 0.0;
  for (size_t j = 0; j < cos2.E.size(); ++j) {
    worst = std::max(worst, std::abs(cos2.sigma[j] - cos2_line(cos2.E[j], E0, T, hbar)));
  }
  EXPECT_LT(worst, 1e-5 * T);  // the trapezoid rule's error
  // The peak: (1/π) ∫ cos² = T/2π, at E₀.
  const auto peak = std::max_element(cos2.sigma.begin(), cos2.sigma.end()) - cos2.sigma.begin();
  EXPECT_NEAR(cos2.E[peak], E0, 0.01);
  EXPECT_NEAR(cos2_line(E0, E0, T, hbar), T / (2 * M_PI), 1e-12);

  options.window = SpectrumWindow::kNone;
  const auto plain = autocorrelation_spectrum(t, a, options);
  for (size_t j = 0; j < plain.E.size(); j += 50) {
    const double exact = integral((plain.E[j] - E0) / hbar, T).real() / M_PI;  // sin(ωT)/(πω)
    EXPECT_NEAR(plain.sigma[j], exact, 1e-5 * T) << plain.E[j];
  }
}

// Two levels: lines at their energies with their weights, and ∫σ dE = ħ a(0).
TEST(Spectrum, LinesSitAtTheLevelsAndIntegrateToHbar) {
  const double hbar = 1.0, T = 60.0;
  const auto t = times(T, 12001);
  const auto a = lines(t, {{1.0, 0.3}, {2.5, 0.7}}, hbar);
  SpectrumOptions options;
  options.E_min = -40.0;
  options.E_max = 44.0;
  options.n_E = 84001;
  const auto s = autocorrelation_spectrum(t, a, options);
  const double dE = (options.E_max - options.E_min) / (options.n_E - 1);
  double area = 0.0;
  for (double value : s.sigma) area += value * dE;
  EXPECT_NEAR(area, hbar * 1.0, 2e-3);
  const auto at = [&](double E) { return s.sigma[static_cast<size_t>(std::llround((E - options.E_min) / dE))]; };
  EXPECT_NEAR(at(1.0), 0.3 * T / (2 * M_PI), 1e-3 * T);
  EXPECT_NEAR(at(2.5), 0.7 * T / (2 * M_PI), 1e-3 * T);
  EXPECT_LT(std::abs(at(1.75)), 1e-3 * T);  // between the lines
}

TEST(Spectrum, RefusesBadSeriesAndOptions) {
  const auto t = times(1.0, 11);
  const auto a = lines(t, {{1.0, 1.0}}, 1.0);
  SpectrumOptions options;
  options.E_max = 2.0;
  const auto fails = [&](std::vector<double> tt, std::vector<Complex> aa, SpectrumOptions o, const std::string& what) {
    try {
      autocorrelation_spectrum(tt, aa, o);
      ADD_FAILURE() << "no error for " << what;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  auto shifted = t;
  shifted[0] = 0.1;
  fails(shifted, a, options, "t[0] = 0.1");
  auto unordered = t;
  std::swap(unordered[3], unordered[4]);
  fails(unordered, a, options, "t[4]");
  fails(t, std::vector<Complex>(a.begin(), a.end() - 1), options, "11 times and 10 values");
  auto broken = a;
  broken[5] = Complex(NAN, 0);
  fails(t, broken, options, "not finite");
  auto empty_range = options;
  empty_range.E_max = 0.0;
  fails(t, a, empty_range, "E_max > E_min");
  auto no_hbar = options;
  no_hbar.hbar = 0.0;
  fails(t, a, no_hbar, "hbar = 0");
  EXPECT_EQ(parse_option<SpectrumWindow>("cos2"), SpectrumWindow::kCos2);
  EXPECT_THROW(parse_option<SpectrumWindow>("hann"), std::invalid_argument);
  EXPECT_DOUBLE_EQ(spectrum_window(SpectrumWindow::kCos2, 0.5, 1.0), 0.5);
  EXPECT_NEAR(spectrum_window(SpectrumWindow::kCos2, 1.0, 1.0), 0.0, 1e-15);
}

}  // namespace
}  // namespace bohmflow
