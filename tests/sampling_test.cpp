#include "bohmflow/sampling.hpp"

#include <gtest/gtest.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cmath>

#include "bohmflow/checkpoint.hpp"
#include "bohmflow/evaluate.hpp"
#include "bohmflow/potentials.hpp"
#include "bohmflow/trajectory.hpp"
#include "test_support.hpp"

namespace bohmflow {
namespace {

TEST(Sampling, GaussHermiteRuleIntegratesPolynomialsExactly) {
  const auto [nodes, weights] = gauss_hermite_rule(5);
  // E[z^k] of the standard normal: 0 for odd k, (k−1)!! for even k; exact up to degree 2n−1 = 9.
  const double expected[10] = {1, 0, 1, 0, 3, 0, 15, 0, 105, 0};
  for (int k = 0; k < 10; ++k) {
    double sum = 0, magnitude = 0;  // round-off scales with Σ w|z|^k
    for (int i = 0; i < 5; ++i) {
      sum += weights[i] * std::pow(nodes[i], k);
      magnitude += weights[i] * std::pow(std::abs(nodes[i]), k);
    }
    EXPECT_NEAR(sum, expected[k], 1e-14 * std::max(1.0, magnitude)) << "degree " << k << ": " << sum;
  }
  // Degree 10 is beyond the rule: 945 is not reproduced.
  double tenth = 0;
  for (int i = 0; i < 5; ++i) tenth += weights[i] * std::pow(nodes[i], 10);
  EXPECT_GT(std::abs(tenth - 945.0), 1.0);
}

// The network is zero, so the score is the baseline's, exact for this system.
Model harmonic_baseline_model() { return baseline_only_model("harmonic", general_harmonic_parameters()); }

TEST(Sampling, GaussHermiteMomentsOfAHarmonicEnsembleAreExact) {
  const auto model = harmonic_baseline_model();
  TrajectoryOptions trajectory;
  trajectory.T = 1.0;
  SamplingOptions sampling;
  sampling.method = SamplingMethod::kGaussHermite;
  sampling.count = 9;  // 3 nodes per axis
  const auto points = initial_positions(*model.system, sampling);
  ASSERT_EQ(points.x0.size(0), 9);
  const auto steps = evenly_spaced_steps(trajectory.n_steps(), 11);
  const auto moments = ensemble_moments(propagate(*model.system, *model.network, points.x0, trajectory),
                                        steps, points.weights);

  // With an exact Gaussian score the leapfrog is an affine map x₀ ↦ A x₀ + b, so the
  // moments of the discrete dynamics follow from the images of μ and μ + σ e_i.
  const auto& init = model.system->initial_state();
  auto probes = torch::tensor(init.mean, torch::kFloat64).repeat({3, 1});
  probes[1][0] += init.sigma[0];
  probes[2][1] += init.sigma[1];
  const auto images = propagate(*model.system, *model.network, probes, trajectory).x;  // (K, 3, d)
  for (size_t k = 0; k < steps.size(); ++k) {
    const auto x = images[steps[k]];
    const auto mean = x[0];
    const auto columns = (x.slice(0, 1, 3) - mean);  // rows: A σ_i e_i
    const auto sigma = columns.square().sum(0).sqrt();
    EXPECT_LT((moments.means[k] - mean).abs().max().item<double>(), 1e-10) << "step " << steps[k];
    EXPECT_LT((moments.sigmas[k] - sigma).abs().max().item<double>(), 1e-10) << "step " << steps[k];
  }
  // And the closed form of the continuous dynamics, to the leapfrog's O(dt²).
  const auto closed = harmonic_moments(dynamic_cast<const Harmonic&>(*model.system), moments.t);
  EXPECT_LT((moments.means - closed.means).abs().max().item<double>(), 1e-4);
  EXPECT_LT((moments.sigmas.square() - closed.vars).abs().max().item<double>(), 1e-4);
}

TEST(Sampling, SobolMomentsOfTheGaussianBeatMonteCarloNoise) {
  const auto system = make_system("harmonic", {{"d", 3}, {"mean", 0.5}, {"sigma0", 2.0}});
  SamplingOptions sampling;
  sampling.method = SamplingMethod::kSobol;
  sampling.count = 4096;
  const auto points = initial_positions(*system, sampling);
  const auto mean = points.x0.mean(0), sigma = points.x0.std(0, /*unbiased=*/false);
  // Monte Carlo's standard error here is σ/√M = 0.031; scrambled Sobol is ~30× better.
  EXPECT_LT((mean - 0.5).abs().max().item<double>(), 2e-3);
  EXPECT_LT((sigma - 2.0).abs().max().item<double>(), 4e-3);
  // Deterministic for a seed, scrambled differently for another.
  EXPECT_TRUE(torch::equal(initial_positions(*system, sampling).x0, points.x0));
  sampling.seed += 1;
  EXPECT_FALSE(torch::equal(initial_positions(*system, sampling).x0, points.x0));
}

TEST(Sampling, MonteCarloIsTheTrainingSampler) {
  const auto system = make_system("morse_chain", {{"d", 2}});
  SamplingOptions sampling;
  sampling.count = 10;
  sampling.seed = 5;
  const auto points = initial_positions(*system, sampling);
  auto generator = at::detail::createCPUGenerator(5);
  EXPECT_TRUE(torch::equal(points.x0, sample_initial_positions(*system, 10, torch::kFloat64, &generator)));
  EXPECT_NEAR(points.weights.sum().item<double>(), 1.0, 1e-15);
  EXPECT_THROW(parse_option<SamplingMethod>("quasi"), std::invalid_argument);
}

}  // namespace
}  // namespace bohmflow
