#include "bohmflow/baseline.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "bohmflow/potentials.hpp"

namespace bohmflow {
namespace {

// A harmonic system with ħ ≠ 1, m ≠ 1, a shifted centre, a displaced and
// squeezed initial state and a non-zero phase: the closed-form Gaussian is
//   mean(t) = a + (μ₀ − a) cos ωt + (v₀/ω) sin ωt
//   var(t)  = σ² cos² ωt + ħ²/(4σ²m²ω²) sin² ωt.
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
  GaussianBaseline baseline(*system);
  torch::manual_seed(0);
  const auto x = torch::randn({7, 2}, torch::kFloat64);
  for (double t : {0.0, 0.3, 1.9, 5.0}) {
    auto expected = torch::empty_like(x);
    for (int i = 0; i < 2; ++i) {
      const double w = omega[i], v0 = hbar * c / m;
      const double mean = a + (mu0 - a) * std::cos(w * t) + v0 / w * std::sin(w * t);
      const double var = sigma * sigma * std::pow(std::cos(w * t), 2) +
                         hbar * hbar / (4 * sigma * sigma * m * m * w * w) * std::pow(std::sin(w * t), 2);
      expected.select(1, i).copy_(-(x.select(1, i) - mean) / var);
    }
    // Round-off only: Newton converges to |∇V| < 1e-12.
    EXPECT_LT((baseline.score(x, t) - expected).abs().max().item<double>(), 1e-10) << "t=" << t;
  }
}

TEST(GaussianBaseline, TrapKindUsesTheSystemsTrap) {
  // Interacting bosons: the trap's ground state is stationary, so the trap
  // baseline is −x/σ² at every time, whatever g.
  auto system = make_system("interacting_bosons", {{"d", 3}, {"g", 1.0}});
  BaselineOptions options;
  options.kind = "trap";
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
  options.kind = "none";
  GaussianBaseline baseline(*system, options);
  const auto x = torch::ones({3, 1}, torch::kFloat64);
  EXPECT_EQ(baseline.score(x, 1.0).abs().max().item<double>(), 0.0);
  options.kind = "quadratic";
  EXPECT_THROW(GaussianBaseline(*system, options), std::invalid_argument);
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
