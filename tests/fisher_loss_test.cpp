#include "bohmflow/fisher_loss.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "bohmflow/baseline.hpp"
#include "bohmflow/potentials.hpp"
#include "test_support.hpp"

namespace bohmflow {
namespace {

ScoreNet make_net(const System& system, std::vector<int64_t> hidden, double scale, uint64_t seed) {
  ScoreNetOptions options;
  options.d = system.dim();
  options.hidden_dims = std::move(hidden);
  options.n_freq = 2;
  ScoreNet net(options, std::make_shared<GaussianBaseline>(system));
  torch::NoGradGuard no_grad;
  torch::manual_seed(seed);
  for (auto& p : net->parameters()) p.copy_(scale * torch::randn_like(p));
  return net;
}

TEST(FisherLoss, IsZeroAtStepZeroWhenTheNetworkReturnsTheInitialScore) {
  // Harmonic ground state: s_base(x, 0) = s₀(x); zero weights switch φ off.
  auto system = make_system("harmonic", {{"d", 2}, {"omega_1", 1.4}});
  auto net = make_net(*system, {6}, 0.0, 0);
  torch::manual_seed(0);
  const auto x0 = sample_initial_positions(*system, 50, torch::kFloat64);
  const auto r = fisher_loss(*system, *net, x0, {0.1, 0.01}, {0}, {}, false);
  // Only the 1e-8 regularisation of F = I remains: |s₀|²·1e-16.
  EXPECT_LT(r.loss, 1e-14);
  EXPECT_DOUBLE_EQ(r.masked_fraction, 0.0);
}

TEST(FisherLoss, ExactBaselineGivesZeroLossAtEveryStep) {
  // A displaced squeezed Gaussian in a harmonic well: the baseline is the
  // exact score at all times, so the target equals it up to integrator error.
  auto system = make_system("harmonic", {{"mean", 0.8}, {"sigma0", 0.5}});
  auto net = make_net(*system, {6}, 0.0, 0);
  torch::manual_seed(0);
  const auto x0 = sample_initial_positions(*system, 20, torch::kFloat64);
  const auto r = fisher_loss(*system, *net, x0, {1.0, 0.01}, {}, {}, false);
  EXPECT_LT(r.loss, 1e-6);
}

// Central differences on a tiny network: the checkpointed reverse sweep is
// the exact derivative of the loss the forward pass computes.
TEST(FisherLoss, GradientMatchesCentralFiniteDifferences) {
  auto system = make_system("morse_chain", {{"d", 2}});
  auto net = make_net(*system, {4, 3}, 0.3, 4);
  torch::manual_seed(1);
  const auto x0 = sample_initial_positions(*system, 3, torch::kFloat64);
  const TrajectoryOptions trajectory{0.05, 0.01};
  FisherLossOptions options;
  options.chunk_size = 2;  // exercises chunking too
  for (auto& p : net->parameters()) p.mutable_grad() = torch::Tensor();
  const auto r = fisher_loss(*system, *net, x0, trajectory, {}, options, true);
  ASSERT_GT(r.loss, 0);
  ASSERT_EQ(r.masked_fraction, 0.0);
  int checked = 0;
  for (auto& p : net->parameters()) {
    // Parameters that only shift φ by a constant (the last FiLM β) get none.
    const auto grad = p.grad().defined() ? p.grad().reshape({-1}) : torch::zeros({p.numel()}, p.options());
    auto flat = p.data().view({-1});
    for (int64_t i = 0; i < flat.numel(); i += std::max<int64_t>(1, flat.numel() / 3)) {
      const double h = 1e-5, saved = flat[i].item<double>();
      flat[i] = saved + h;
      const double up = fisher_loss(*system, *net, x0, trajectory, {}, options, false).loss;
      flat[i] = saved - h;
      const double down = fisher_loss(*system, *net, x0, trajectory, {}, options, false).loss;
      flat[i] = saved;
      const double fd = (up - down) / (2 * h);
      const double g = grad[i].item<double>();
      EXPECT_LT(std::abs(g - fd), 1e-6 * std::max(std::abs(fd), 1e-3 * r.loss)) << "g=" << g << " fd=" << fd;
      ++checked;
    }
  }
  EXPECT_GT(checked, 10);
}

TEST(FisherLoss, ChunksAreTheSetSizeOrAllOrOnACpuTwoHundredFiftySix) {
  const ScoreNetOptions network;
  const TrajectoryOptions trajectory{0.1, 0.01};
  FisherLossOptions options;
  const torch::Device cpu(torch::kCPU);
  EXPECT_EQ(options.chunk_size, kAutoChunk);
  EXPECT_EQ(loss_chunk(5000, network, trajectory, options, cpu), kCpuChunk);
  EXPECT_EQ(loss_chunk(100, network, trajectory, options, cpu), 100);
  options.chunk_size = 0;
  EXPECT_EQ(loss_chunk(5000, network, trajectory, options, cpu), 5000);
  options.chunk_size = 700;
  EXPECT_EQ(loss_chunk(5000, network, trajectory, options, cpu), 700);
  EXPECT_EQ(loss_chunk(300, network, trajectory, options, cpu), 300);
  options.chunk_size = -2;
  EXPECT_THROW(options.validate(), std::invalid_argument);
}

// The GPU's rule, probed here on the host's allocator: halve M until twice
// the estimate can be allocated (1e15 bytes cannot), never below the floor.
TEST(FisherLoss, LargestFittingChunkHalvesUntilTheProbeAllocates) {
  const torch::Device cpu(torch::kCPU);
  const auto up_to_1000 = [](int64_t chunk) { return chunk > 1000 ? 1e15 : 1000.0 * static_cast<double>(chunk); };
  EXPECT_EQ(largest_fitting_chunk(4096, 256, up_to_1000, cpu), 512);
  EXPECT_EQ(largest_fitting_chunk(1000, 256, up_to_1000, cpu), 1000);
  EXPECT_EQ(largest_fitting_chunk(5000, 256, up_to_1000, cpu), 625);
  const auto never = [](int64_t) { return 1e15; };
  EXPECT_EQ(largest_fitting_chunk(4096, 256, never, cpu), 256);
  EXPECT_EQ(largest_fitting_chunk(100, 256, never, cpu), 100);
  const auto absurd = [](int64_t) { return 1e30; };  // beyond int64: never tried
  EXPECT_EQ(largest_fitting_chunk(4096, 256, absurd, cpu), 256);
}

TEST(FisherLoss, CausticMaskDropsParticlesButDividesByAll) {
  auto system = make_system("morse_chain", {{"d", 2}});
  auto net = make_net(*system, {4}, 0.2, 5);
  torch::manual_seed(3);
  const auto x0 = sample_initial_positions(*system, 8, torch::kFloat64);
  FisherLossOptions all_masked;
  all_masked.caustic_threshold = 10.0;  // |det F| = 1 at t = 0 < 10
  const auto r = fisher_loss(*system, *net, x0, {0.05, 0.01}, {}, all_masked, false);
  EXPECT_EQ(r.loss, 0.0);
  EXPECT_EQ(r.masked_fraction, 1.0);
  EXPECT_NEAR(r.min_abs_det_F, 1.0, 0.05);
}

TEST(FisherLoss, CausticMeasuresAreTheDeterminantAndTheSmallestSingularValue) {
  const double c = std::cos(0.3), s = std::sin(0.3);
  const auto R = torch::tensor({c, -s, s, c}, torch::kFloat64).view({2, 2});
  const auto F = torch::matmul(torch::matmul(R, torch::diag(torch::tensor({10.0, -0.05}, torch::kFloat64))), R.t());
  EXPECT_NEAR(caustic_measure(F, CausticMeasure::kDet).item<double>(), 0.5, 1e-12);
  EXPECT_NEAR(caustic_measure(F, CausticMeasure::kSingular).item<double>(), 0.05, 1e-12);
  EXPECT_THROW(parse_option<CausticMeasure>("trace"), std::invalid_argument);
}

TEST(FisherLoss, SingularMeasureMasksAFoldThatTheDeterminantHides) {
  // Exact Gaussian dynamics, F = diag(σ_i(t)/σ_i(0)): by t = π/2 the narrow
  // axis spreads twelvefold while the wide one is squeezed to 0.12, so
  // |det F| >= 1 throughout while σ_min(F) falls far below the threshold.
  const auto model = baseline_only_model(
      "harmonic", {{"d", 2}, {"hbar", 0.7}, {"mass", 1.3}, {"sigma0_0", 0.15}, {"sigma0_1", 1.5}});
  const auto x0 = sample_initial_positions(*model.system, 6, torch::kFloat64);
  FisherLossOptions options;
  options.caustic_threshold = 0.5;
  const TrajectoryOptions trajectory{1.6, 0.01};
  const auto by_det = fisher_loss(*model.system, *model.network, x0, trajectory, {}, options, false);
  EXPECT_GT(by_det.min_abs_det_F, 0.99);
  EXPECT_EQ(by_det.masked_fraction, 0.0);
  options.caustic_measure = CausticMeasure::kSingular;
  const auto by_singular = fisher_loss(*model.system, *model.network, x0, trajectory, {}, options, false);
  EXPECT_EQ(by_singular.masked_fraction, 1.0);
  EXPECT_EQ(by_singular.loss, 0.0);
  EXPECT_THROW(parse_option<CausticMeasure>("trace"), std::invalid_argument);
}

// The Morse chain's loss is smooth in x₀, so scrambled Sobol batches scatter
// less than independent draws of the same size, and both estimate the same
// mean: the premise of train_morse --sampling sobol.
TEST(FisherLoss, SobolBatchesScatterLessThanIndependentDraws) {
  auto system = make_system("morse_chain", {{"d", 2}});
  auto net = make_net(*system, {8, 8}, 0.3, 4);
  const TrajectoryOptions trajectory{0.1, 0.025};
  SamplingOptions sampling;
  sampling.count = 64;
  sampling.method = SamplingMethod::kMc;
  const auto mc = gradient_spread(*system, *net, trajectory, {}, sampling, 12);
  sampling.method = SamplingMethod::kSobol;
  const auto sobol = gradient_spread(*system, *net, trajectory, {}, sampling, 12);
  EXPECT_LT(sobol.gradient_variance, mc.gradient_variance / 4);
  EXPECT_LT(sobol.loss_std, mc.loss_std / 2);
  // The same mean loss within three standard errors of the mc mean.
  EXPECT_NEAR(sobol.loss_mean, mc.loss_mean, 3 * mc.loss_std / std::sqrt(12.0));
  EXPECT_GT(mc.mean_gradient_norm_sq, 0);
  for (const auto& p : net->parameters()) {
    if (p.grad().defined()) EXPECT_EQ(p.grad().abs().max().item<double>(), 0.0);
  }
  EXPECT_THROW(gradient_spread(*system, *net, trajectory, {}, sampling, 1), std::invalid_argument);
}

}  // namespace
}  // namespace bohmflow
