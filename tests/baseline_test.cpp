#include "bohmflow/baseline.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <array>
#include <cmath>
#include <utility>

#include "bohmflow/potentials.hpp"

namespace bohmflow {
namespace {

// A harmonic system with ħ ≠ 1, m ≠ 1, a shifted centre, a displaced and
// squeezed initial state and a non-zero phase: the closed-form Gaussian is
//   mean(t) = a + (μ₀ − a) cos ωt + (v₀/ω) sin ωt
//   var(t)  = σ² cos² ωt + ħ²/(4σ²m²ω²) sin² ωt.
// The expansion at the minimum is exact up to round-off (Newton converges to
// |∇V| < 1e-12); the variational Gaussian up to its RK4 step and interpolation
// (0.3141 lies between nodes): (hω)⁴ ≈ 5e-9 per radian at h = 5e-3, over
// ωt ≈ 8.5 radians, on scores of size ~10, gives 2.5e-8 at t = 5 (and 1.6e-9
// at h = 2.5e-3, the fourth-order ratio).
TEST(GaussianBaseline, IsTheExactScoreOfAHarmonicGaussian) {
  const double hbar = 0.7, m = 1.3, a = 0.4, mu0 = 1.1, sigma = 0.35, c = -2.0;
  const double omega[2] = {1.0, 1.7};
  auto system = make_system("harmonic", {{"d", 2},
                                         {"hbar", hbar},
                                         {"mass", m},
                                         {"omega_0", omega[0]},
                                         {"omega_1", omega[1]},
                                         {"centre", a},
                                         {"mean", mu0},
                                         {"sigma0", sigma},
                                         {"phase", c}});
  for (const auto& [kind, tolerance] : {std::pair{"minimum", 1e-10}, std::pair{"variational", 1e-7}}) {
    BaselineOptions options;
    options.kind = parse_option<BaselineKind>(kind);
    GaussianBaseline baseline(*system, options);
    torch::manual_seed(0);
    const auto x = torch::randn({7, 2}, torch::kFloat64);
    for (double t : {0.0, 0.3141, 1.9, 5.0}) {
      auto expected = torch::empty_like(x);
      for (int i = 0; i < 2; ++i) {
        const double w = omega[i], v0 = hbar * c / m;
        const double mean = a + (mu0 - a) * std::cos(w * t) + v0 / w * std::sin(w * t);
        const double var = sigma * sigma * std::pow(std::cos(w * t), 2) +
                           hbar * hbar / (4 * sigma * sigma * m * m * w * w) * std::pow(std::sin(w * t), 2);
        expected.select(1, i).copy_(-(x.select(1, i) - mean) / var);
      }
      EXPECT_LT((baseline.score(x, t) - expected).abs().max().item<double>(), tolerance)
          << kind << " t=" << t;
    }
  }
}

// Interacting bosons from the trap's ground state: by symmetry the variational
// Gaussian keeps the centre of mass (direction 1) in the ground state,
// B 1 = (2mω/ħ) 1, because ∇²V_pair annihilates 1 at every point, and all
// relative directions share one width σ_r. Along them the average pair
// curvature over r = x_i − x_j ~ N(0, 2σ_r²) is, in closed form,
//   ⟨f''⟩ = −G √s₂ (s₂ + 2σ_r²)^(−3/2),  f(r) = G e^{−r²/(2s₂)},  G = g/(2√(2π s₂)),
// and Σ_{i<j}(e_i − e_j)² = d for a unit e ⊥ 1, so σ_r obeys the Ermakov equation
//   σ̈_r = ħ²/(4m²σ_r³) − (ω² + d⟨f''⟩/m) σ_r,
// integrated here by RK4. The baseline's averages are Sobol sums instead.
TEST(GaussianBaseline, VariationalBosonsSpreadWithTheMeanFieldWidth) {
  const int d = 4;
  const double hbar = 0.1, m = 1.0, omega = 1.0, g = 1.0, s2 = 0.1;
  auto system = make_system("interacting_bosons", {{"d", d}});  // DSM's values are the defaults
  BaselineOptions options;
  options.kind = BaselineKind::kVariational;
  GaussianBaseline baseline(*system, options);
  const double G = g / (2 * std::sqrt(2 * M_PI * s2));
  auto rate = [&](const std::array<double, 2>& y) {
    const double curvature = -G * std::sqrt(s2) * std::pow(s2 + 2 * y[0] * y[0], -1.5);
    return std::array<double, 2>{
        y[1], hbar * hbar / (4 * m * m * std::pow(y[0], 3)) - (omega * omega + d * curvature / m) * y[0]};
  };
  std::array<double, 2> y{std::sqrt(hbar / (2 * m * omega)), 0.0};
  const double h = 1e-4;
  const auto ones = torch::ones({d}, torch::kFloat64) / std::sqrt(double(d));
  const auto centre_of_mass = torch::outer(ones, ones);
  const auto relative = torch::eye(d, torch::kFloat64) - centre_of_mass;
  for (int n = 1; n <= 10000; ++n) {
    auto add = [](const std::array<double, 2>& a, const std::array<double, 2>& b, double s) {
      return std::array<double, 2>{a[0] + s * b[0], a[1] + s * b[1]};
    };
    const auto k1 = rate(y), k2 = rate(add(y, k1, h / 2)), k3 = rate(add(y, k2, h / 2)), k4 = rate(add(y, k3, h));
    for (int i = 0; i < 2; ++i) y[i] += h / 6 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
    if (n % 2500 != 0) continue;
    const double t = n * h;
    const auto B = baseline.precision(t, torch::kFloat64);
    const auto expected = (2 * m * omega / hbar) * centre_of_mass + relative / (y[0] * y[0]);
    // Relative widths: the Sobol averages' error (σ_r² grows from 0.05 to 0.52 here).
    EXPECT_LT(((B - expected).abs().max() / expected.abs().max()).item<double>(), 2e-3) << "t=" << t;
    // The centre of mass exactly.
    EXPECT_LT((torch::matmul(B, ones) - (2 * m * omega / hbar) * ones).abs().max().item<double>(), 1e-9)
        << "t=" << t;
    EXPECT_LT(baseline.centre(t, torch::kFloat64).abs().max().item<double>(), 1e-12) << "t=" << t;
  }
  // Earlier times after later ones come from the same table.
  const auto early = baseline.precision(0.25, torch::kFloat64);
  GaussianBaseline fresh(*system, options);
  EXPECT_LT((fresh.precision(0.25, torch::kFloat64) - early).abs().max().item<double>(), 1e-12);
  EXPECT_THROW(baseline.precision(-0.1, torch::kFloat64), std::invalid_argument);
  EXPECT_THROW(baseline.mode_variances(0.5), std::logic_error);
}

TEST(GaussianBaseline, TrapKindUsesTheSystemsTrap) {
  // Interacting bosons: the trap's ground state is stationary, so the trap
  // baseline is −x/σ² at every time, whatever g.
  auto system = make_system("interacting_bosons", {{"d", 3}, {"g", 1.0}});
  BaselineOptions options;
  options.kind = BaselineKind::kTrap;
  GaussianBaseline baseline(*system, options);
  const double variance = 0.1 / 2.0;  // ħ/(2mω)
  torch::manual_seed(3);
  const auto x = torch::randn({5, 3}, torch::kFloat64);
  for (double t : {0.0, 0.7}) {
    EXPECT_LT((baseline.score(x, t) + x / variance).abs().max().item<double>(), 1e-12) << "t=" << t;
  }
  // At g = 0 the trap is the whole potential: the same as the expansion at the minimum.
  auto free = make_system("interacting_bosons", {{"d", 3}, {"g", 0.0}, {"mean", 0.2}, {"phase", 1.5}});
  GaussianBaseline at_minimum(*free), trap(*free, options);
  EXPECT_LT((at_minimum.score(x, 0.9) - trap.score(x, 0.9)).abs().max().item<double>(), 1e-12);
  // A system without a trap says so.
  EXPECT_THROW(GaussianBaseline(*make_system("morse_chain"), options), std::invalid_argument);
}

TEST(GaussianBaseline, MorseChainNormalModesAreThoseOfTheTridiagonalHessian) {
  auto system = make_system("morse_chain");  // d = 4, 2Dβ² = 1, λ = 0.3
  GaussianBaseline baseline(*system);
  EXPECT_LT(baseline.equilibrium().norm(), 1e-12);
  // Eigenvalues of I + λ·tridiag(1, 0, 1): 1 + 2λ cos(kπ/(d+1)), k = 1..d.
  std::vector<double> expected;
  for (int k = 1; k <= 4; ++k) expected.push_back(std::sqrt(1 + 0.6 * std::cos(k * M_PI / 5)));
  std::sort(expected.begin(), expected.end());
  for (int k = 0; k < 4; ++k) EXPECT_NEAR(baseline.frequencies()(k), expected[k], 1e-12);
}

TEST(GaussianBaseline, DoubleWellBarrierTopIsRejectedWithTheEigenvalue) {
  auto system = make_system("double_well");
  try {
    GaussianBaseline baseline(*system);
    FAIL() << "expected a non-positive eigenvalue error";
  } catch (const std::runtime_error& e) {
    // V'' at the barrier top is −4D/a² = −1.
    EXPECT_NE(std::string(e.what()).find("eigenvalue 0 = -1"), std::string::npos) << e.what();
  }
}

TEST(GaussianBaseline, NoneGivesAZeroScore) {
  auto system = make_system("double_well");
  BaselineOptions options;
  options.kind = BaselineKind::kNone;
  GaussianBaseline baseline(*system, options);
  const auto x = torch::ones({3, 1}, torch::kFloat64);
  EXPECT_EQ(baseline.score(x, 1.0).abs().max().item<double>(), 0.0);
  EXPECT_THROW(parse_option<BaselineKind>("quadratic"), std::invalid_argument);
}

TEST(GaussianBaseline, PrecisionIsMinusTheScoreJacobian) {
  auto system = make_system("morse_chain");
  GaussianBaseline baseline(*system);
  auto x = torch::randn({1, 4}, torch::kFloat64).requires_grad_(true);
  const double t = 0.8;
  const auto s = baseline.score(x, t);
  const auto B = baseline.precision(t, x.options());
  for (int k = 0; k < 4; ++k) {
    const auto row = torch::autograd::grad({s.select(1, k).sum()}, {x}, {}, true)[0].reshape({4});
    EXPECT_LT((row + B[k]).abs().max().item<double>(), 1e-13);
  }
}

}  // namespace
}  // namespace bohmflow
