#include "bohmflow/trajectory.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "bohmflow/baseline.hpp"
#include "bohmflow/potentials.hpp"

namespace bohmflow {
namespace {

// A network whose learned part is switched off: s = s_base exactly.
ScoreNet baseline_only(const System& system, const std::string& baseline_kind) {
  ScoreNetOptions options;
  options.d = system.dim();
  options.hidden_dims = {8};
  options.n_freq = 1;
  BaselineOptions b;
  b.kind = parse_option<BaselineKind>(baseline_kind);
  ScoreNet net(options, std::make_shared<GaussianBaseline>(system, b));
  torch::NoGradGuard no_grad;
  for (auto& p : net->parameters()) p.zero_();
  return net;
}

// The baseline plus a learned part with O(0.3) random weights, so that Q,
// its derivatives and the F equations are all exercised.
ScoreNet random_network(const System& system, uint64_t seed) {
  auto net = baseline_only(system, "minimum");
  torch::NoGradGuard no_grad;
  torch::manual_seed(seed);
  for (auto& p : net->parameters()) p.copy_(0.3 * torch::randn_like(p));
  return net;
}

TEST(Trajectory, NStepsTruncatesLikeTheReference) {
  EXPECT_EQ((TrajectoryOptions{3.14159, 0.01}).n_steps(), 314);
  EXPECT_EQ((TrajectoryOptions{0.2, 0.01}).n_steps(), 20);
  EXPECT_THROW((TrajectoryOptions{1.0, 0.0}).validate(), std::invalid_argument);
}

// With s = 0 there is no quantum force: F'' = −ω²F, F(0) = 1, so F = cos ωt
// up to the leapfrog's O(dt²) phase error (ω²t·dt²/24 ≈ 3e-5 at t = 2, ω = 1.5).
TEST(Trajectory, DeformationGradientOfAHarmonicWellWithZeroScoreIsCosine) {
  auto system = make_system("harmonic", {{"omega", 1.5}});
  auto net = baseline_only(*system, "none");
  const auto x0 = torch::tensor({-0.3, 0.1, 0.8}, torch::kFloat64).reshape({3, 1});
  const auto path = propagate(*system, *net, x0, {2.0, 0.01}, /*with_F=*/true);
  EXPECT_TRUE(torch::equal(path.F[0], torch::ones({3, 1, 1}, torch::kFloat64)));
  const auto expected = torch::cos(1.5 * path.t).view({-1, 1, 1, 1}).expand_as(path.F);
  EXPECT_LT((path.F - expected).abs().max().item<double>(), 1e-4);
}

TEST(Trajectory, EnsembleEnergyIsConservedOverTenPeriods) {
  // A displaced, squeezed Gaussian in a harmonic well: the baseline is its
  // exact score, so the ensemble energy ⟨½mv² + V + Q⟩ is conserved.
  auto system = make_system("harmonic", {{"mean", 1.0}, {"sigma0", 0.5}});
  auto net = baseline_only(*system, "minimum");
  // The flow is linear in x₀ here, so the ensemble energy depends on the
  // sample only through its first two moments: make them exact (quantile
  // points, standardised) and any drift left is the integrator's.
  auto z = torch::special_ndtri(torch::linspace(0.5 / 2000, 1 - 0.5 / 2000, 2000, torch::kFloat64));
  z = (z - z.mean()) / z.std(/*unbiased=*/false);
  const auto x0 = (1.0 + 0.5 * z).reshape({2000, 1});
  const auto path = propagate(*system, *net, x0, {10.0, 0.01});
  const auto e = path.energy.mean(1);
  EXPECT_LT((e - e[0]).abs().max().item<double>(), 1e-3);
}

TEST(Trajectory, PropagationWithAndWithoutFAgree) {
  auto system = make_system("morse_chain", {{"d", 2}});
  auto net = random_network(*system, 2);
  const auto x0 = sample_initial_positions(*system, 5, torch::kFloat64);
  const auto a = propagate(*system, *net, x0, {0.5, 0.01}, false);
  const auto b = propagate(*system, *net, x0, {0.5, 0.01}, true);
  EXPECT_TRUE(torch::allclose(a.x, b.x, 0, 1e-14));
  EXPECT_TRUE(torch::allclose(a.energy, b.energy, 0, 1e-13));
}

// A NaN stops an evaluation at the step and particle where it first appears.
TEST(Trajectory, NonFiniteTrajectoriesNameTheirFirstStepAndParticle) {
  Propagation path;
  path.t = torch::arange(6, torch::kFloat64) * 0.1;
  path.x = torch::zeros({6, 4, 2}, torch::kFloat64);
  path.energy = torch::zeros({6, 4}, torch::kFloat64);
  EXPECT_NO_THROW(require_finite_path(path));
  path.x[4][1][0] = std::nan("");
  path.energy[3][2] = INFINITY;
  try {
    require_finite_path(path, 100);
    FAIL() << "a NaN trajectory was accepted";
  } catch (const std::runtime_error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("particle 102 is not finite from step 3 (t = 0.3"), std::string::npos) << message;
  }
}

TEST(Trajectory, PropagationIsIndependentOfChunking) {
  auto system = make_system("morse_chain", {{"d", 2}});
  auto net = random_network(*system, 4);
  const auto x0 = sample_initial_positions(*system, 7, torch::kFloat64);
  TrajectoryOptions whole{0.2, 0.01, 0}, chunked{0.2, 0.01, 3};
  const auto a = propagate(*system, *net, x0, whole, true);
  const auto b = propagate(*system, *net, x0, chunked, true);
  // Row-wise the same arithmetic; BLAS may block the GEMMs differently.
  EXPECT_TRUE(torch::allclose(a.x, b.x, 0, 1e-13));
  EXPECT_TRUE(torch::allclose(a.F, b.F, 0, 1e-13));
  EXPECT_TRUE(torch::allclose(a.energy, b.energy, 0, 1e-12));
}

// The closed form for a Gaussian in a harmonic well (ħ, m ≠ 1, shifted
// centre, non-zero phase): the baseline-driven ensemble's moments follow it
// to Monte Carlo error (the same particles in both: exact Bohmian flow of a
// Gaussian is linear in x₀, so we compare the flow map itself).
TEST(Trajectory, BaselineFlowIsTheExactLinearMapForHarmonicGaussians) {
  const double hbar = 0.5, m = 2.0, w = 1.3, a = 0.2, mu0 = 0.7, sigma = 0.4, c = 1.5;
  auto system = make_system("harmonic", {{"hbar", hbar}, {"mass", m}, {"omega", w}, {"centre", a},
                                         {"mean", mu0}, {"sigma0", sigma}, {"phase", c}});
  auto net = baseline_only(*system, "minimum");
  const auto x0 = torch::linspace(-1.0, 2.0, 7, torch::kFloat64).reshape({7, 1});
  const auto path = propagate(*system, *net, x0, {2.0, 0.001});
  for (int64_t n : {0, 500, 1333, 2000}) {
    const double t = n * 0.001;
    const double v0 = hbar * c / m;
    const double mean = a + (mu0 - a) * std::cos(w * t) + v0 / w * std::sin(w * t);
    const double var = sigma * sigma * std::pow(std::cos(w * t), 2) +
                       hbar * hbar / (4 * sigma * sigma * m * m * w * w) * std::pow(std::sin(w * t), 2);
    // Bohmian flow of a Gaussian: x(t) = mean(t) + sqrt(var(t)/σ²)(x₀ − μ₀).
    const auto expected = mean + std::sqrt(var) / sigma * (x0 - mu0);
    EXPECT_LT((path.x[n] - expected).abs().max().item<double>(), 1e-5) << "t=" << t;
  }
}

}  // namespace
}  // namespace bohmflow
