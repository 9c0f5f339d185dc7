#include "bohmflow/evaluate.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdlib>

#include "bohmflow/checkpoint.hpp"
#include "bohmflow/memory.hpp"
#include "bohmflow/npz.hpp"
#include "bohmflow/potentials.hpp"
#include "test_support.hpp"

namespace bohmflow {
namespace {

TEST(Evaluate, HarmonicMomentsAreTheClosedFormWithPhaseVelocity) {
  const auto system = make_system("harmonic", general_harmonic_parameters());
  const auto& harmonic = dynamic_cast<const Harmonic&>(*system);
  const auto t = torch::tensor({0.0, 0.3, 1.0, 2.5}, torch::kFloat64);
  const auto moments = harmonic_moments(harmonic, t);
  ASSERT_EQ(moments.means.sizes(), (std::vector<int64_t>{4, 2}));
  // Written out here for ω = 1.7, t = 1: v₀ = ħc/m, var = σ²cos² + ħ²/(4σ²m²ω²) sin².
  const double v0 = 0.7 * -2.0 / 1.3, c = std::cos(1.7), s = std::sin(1.7);
  EXPECT_NEAR(moments.means[2][1].item<double>(), 0.4 + 0.7 * c + v0 / 1.7 * s, 1e-15);
  EXPECT_NEAR(moments.vars[2][1].item<double>(),
              0.35 * 0.35 * c * c + 0.49 / (4 * 0.1225 * 1.69 * 2.89) * s * s, 1e-15);
  // At t = 0 the initial state itself, and the phase sets the mean velocity ħc/m.
  EXPECT_NEAR(moments.means[0][0].item<double>(), 1.1, 1e-15);
  EXPECT_NEAR(moments.vars[0][1].item<double>(), 0.35 * 0.35, 1e-15);
  const double h = 1e-6;
  const auto near_zero = harmonic_moments(harmonic, torch::tensor({-h, h}, torch::kFloat64)).means;
  EXPECT_NEAR(((near_zero[1] - near_zero[0]) / (2 * h)).max().item<double>(), v0, 1e-8);
  EXPECT_EQ(moments.source, "closed form");
}

TEST(Evaluate, FoldStatisticsOfAGaussianPacketAreItsWidthRatios) {
  // A Gaussian packet moves as x(t) = mean(t) + (x₀ − μ₀) σ(t)/σ₀ per axis, so
  // F = diag(σ_i(t)/σ₀) for every particle: all quantiles are the same, and
  // with ω = 1 and 1.7 the axis that is narrowest changes with t.
  const auto model = baseline_only_model("harmonic", general_harmonic_parameters());
  const auto& harmonic = dynamic_cast<const Harmonic&>(*model.system);
  TrajectoryOptions trajectory;
  trajectory.T = 3.2;
  trajectory.dt = 0.005;
  const auto x0 = sample_initial_positions(*model.system, 20, torch::kFloat64);
  const auto path = propagate(*model.system, *model.network, x0, trajectory, /*with_F=*/true);
  const auto stats = fold_statistics(path, {0, 100, 250, 628}, {0.0, 0.5, 1.0});  // t = 0, 0.5, 1.25, 3.14
  ASSERT_EQ(stats.min_singular_F.sizes(), (std::vector<int64_t>{4, 3}));
  const auto ratios = harmonic_moments(harmonic, stats.t).vars.sqrt() / 0.35;  // (4, 2)
  const auto smallest = std::get<0>(ratios.min(1)), largest = std::get<0>(ratios.max(1));
  const auto narrowest = ratios.argmin(1);
  EXPECT_EQ(narrowest[1].item<int64_t>(), 1);
  EXPECT_EQ(narrowest[3].item<int64_t>(), 0);
  for (int64_t q = 0; q < 3; ++q) {
    // The leapfrog's O(dt²) error, relative.
    EXPECT_LT((stats.min_singular_F.select(1, q) / smallest - 1).abs().max().item<double>(), 1e-4);
    EXPECT_LT((stats.abs_det_F.select(1, q) / ratios.prod(1) - 1).abs().max().item<double>(), 1e-4);
    EXPECT_LT((stats.condition_F.select(1, q) / (largest / smallest) - 1).abs().max().item<double>(), 1e-4);
  }
  EXPECT_LT((stats.min_singular_F.select(1, 0) - stats.min_singular_F.select(1, 2)).abs().max().item<double>(), 1e-9);
  EXPECT_NEAR(stats.min_singular_F[0][1].item<double>(), 1.0, 1e-12);

  EXPECT_THROW(fold_statistics(path, {0}, {1.5}), std::invalid_argument);
  EXPECT_THROW(fold_statistics(path, {641}, {0.5}), std::invalid_argument);
  const auto without_F = propagate(*model.system, *model.network, x0, trajectory);
  EXPECT_THROW(fold_statistics(without_F, {0}, {0.5}), std::invalid_argument);
}

TEST(Evaluate, ClosedFormOfTheBosonsExistsAtZeroCouplingOnly) {
  const auto t = torch::linspace(0, 1, 5, torch::kFloat64);
  // At g = 0 the trap's ground state is stationary: var = ħ/(2mω) on every axis.
  const auto free = make_system("interacting_bosons", {{"d", 3}, {"g", 0.0}, {"omega", 2.0}, {"hbar", 0.3}});
  const auto moments = closed_form_moments(*free, t);
  EXPECT_LT((moments.vars - 0.3 / (2 * 2.0)).abs().max().item<double>(), 1e-15);
  EXPECT_LT(moments.means.abs().max().item<double>(), 1e-15);
  // A displaced start oscillates at ω: mean(t) = μ₀ cos ωt.
  const auto displaced = make_system("interacting_bosons", {{"d", 2}, {"g", 0.0}, {"mean", 0.5}});
  EXPECT_NEAR(closed_form_moments(*displaced, t).means[4][1].item<double>(), 0.5 * std::cos(1.0), 1e-15);
  const auto interacting = make_system("interacting_bosons", {{"d", 2}});
  EXPECT_THROW(closed_form_moments(*interacting, t), std::invalid_argument);
}

Npz synthetic_fft_reference() {
  // t_n = n·dt as the solver stores it; means = t, sigmas = 1 + t on both axes.
  const auto t = torch::arange(0, 101, torch::kFloat64) * 0.001;
  Npz fft;
  fft.set("t", t);
  fft.set("means", t.view({-1, 1}).repeat({1, 2}));
  fft.set("sigmas", (1 + t).view({-1, 1}).repeat({1, 2}));
  return fft;
}

TEST(Evaluate, FftMomentsAreTakenAtTheStoredTimes) {
  const auto fft = synthetic_fft_reference();
  const auto moments = fft_moments(fft, torch::tensor({0.0, 0.05, 0.01 * 7}, torch::kFloat64), "ref.npz");
  EXPECT_NEAR(moments.means[1][0].item<double>(), 0.05, 1e-15);
  EXPECT_NEAR(moments.means[2][1].item<double>(), 0.07, 1e-15);
  EXPECT_NEAR(moments.vars[1][1].item<double>(), 1.05 * 1.05, 1e-14);
  EXPECT_EQ(moments.source, "ref.npz");
}

TEST(Evaluate, FftMomentsRejectTimesTheFileDoesNotHold) {
  const auto fft = synthetic_fft_reference();
  try {
    fft_moments(fft, torch::tensor({0.0, 0.0505}, torch::kFloat64), "ref.npz");
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& error) {
    const std::string text = error.what();
    EXPECT_NE(text.find("ref.npz"), std::string::npos) << text;
    EXPECT_NE(text.find("0.0505"), std::string::npos) << text;
  }
  Npz empty;
  EXPECT_THROW(fft_moments(empty, torch::zeros({1}, torch::kFloat64), "empty.npz"), std::invalid_argument);
}

TEST(Evaluate, MomentErrorsAreTheMaximaAndRelativeNorms) {
  EnsembleMoments learned;
  learned.means = torch::tensor({{0.0, 1.0}, {0.5, 1.0}}, torch::kFloat64);
  learned.sigmas = torch::tensor({{1.0, 2.0}, {1.1, 2.0}}, torch::kFloat64);
  ReferenceMoments reference;
  reference.means = torch::tensor({{0.0, 1.0}, {0.2, 1.0}}, torch::kFloat64);
  reference.vars = torch::tensor({{1.0, 4.0}, {1.0, 4.0}}, torch::kFloat64);
  const auto errors = moment_errors(learned, reference);
  EXPECT_NEAR(errors.max_mean_error, 0.3, 1e-15);
  EXPECT_NEAR(errors.max_rel_var_error, 0.21, 1e-14);  // 1.1² = 1.21 against 1
  EXPECT_NEAR(errors.rms_mean_error, 0.3 / std::sqrt(2.0), 1e-15);  // RMS over the 2 times
  EXPECT_NEAR(errors.rel_l2_var_error, 0.21 / std::sqrt(1 + 16 + 1 + 16), 1e-14);
  reference.vars = torch::ones({3, 2}, torch::kFloat64);
  EXPECT_THROW(moment_errors(learned, reference), std::invalid_argument);
}

TEST(Evaluate, TrainedTrajectoryIsTheCheckpointsTAndDt) {
  Checkpoint checkpoint;
  checkpoint.training_json = R"({"T": 0.5, "dt": 0.005, "M": 10})";
  const auto trained = trained_trajectory(checkpoint);
  EXPECT_EQ(trained.T, 0.5);
  EXPECT_EQ(trained.dt, 0.005);
  checkpoint.training_json = "{}";  // e.g. an imported checkpoint: the defaults
  EXPECT_EQ(trained_trajectory(checkpoint).T, TrajectoryOptions{}.T);
}

// Moments swept chunk by chunk are the whole propagation's, bit for bit (the
// same particles in the same order); with other chunks they agree to rounding
// (BLAS may block the GEMMs differently); and they are the ensemble's means,
// population standard deviations and mean energy.
TEST(Evaluate, ChunkedMomentsAreTheWholePropagationsBitForBit) {
  auto model = baseline_only_model("morse_chain", {{"d", 2}});
  {
    torch::NoGradGuard no_grad;
    torch::manual_seed(7);
    for (auto& p : model.network->parameters()) p.copy_(0.3 * torch::randn_like(p));
  }
  const int64_t M = 11;
  const auto x0 = sample_initial_positions(*model.system, M, torch::kFloat64);
  const auto raw = torch::rand({M}, torch::kFloat64) + 0.5;
  const std::vector<int64_t> steps{0, 7, 20};
  const TrajectoryOptions chunked{0.2, 0.01, 4}, at_once{0.2, 0.01, 0};
  for (const auto& weights : {torch::Tensor(), raw / raw.sum()}) {
    const auto path = propagate(*model.system, *model.network, x0, chunked);
    const auto whole = ensemble_moments(path, steps, weights);
    std::vector<int64_t> reported;
    const auto swept = propagated_moments(*model.system, *model.network, x0, chunked, steps, weights,
                                          [&reported](int64_t done, int64_t) { reported.push_back(done); });
    EXPECT_EQ(reported, (std::vector<int64_t>{4, 8, 11}));
    EXPECT_TRUE(torch::equal(whole.t, swept.t));
    EXPECT_TRUE(torch::equal(whole.means, swept.means));
    EXPECT_TRUE(torch::equal(whole.sigmas, swept.sigmas));
    EXPECT_TRUE(torch::equal(whole.energy, swept.energy));
    const auto single = propagated_moments(*model.system, *model.network, x0, at_once, steps, weights);
    EXPECT_TRUE(torch::allclose(single.means, swept.means, 0, 1e-13));
    EXPECT_TRUE(torch::allclose(single.sigmas, swept.sigmas, 0, 1e-13));

    const auto index = torch::tensor(steps, torch::kInt64);
    const auto x = path.x.index_select(0, index);
    const auto w = weights.defined() ? weights : torch::full({M}, 1.0 / M, torch::kFloat64);
    const auto mean = (w.view({1, -1, 1}) * x).sum(1);
    const auto sigma = (w.view({1, -1, 1}) * (x - mean.unsqueeze(1)).square()).sum(1).sqrt();
    EXPECT_TRUE(torch::allclose(swept.means, mean, 0, 1e-14));
    EXPECT_TRUE(torch::allclose(swept.sigmas, sigma, 0, 1e-14));
    EXPECT_TRUE(torch::allclose(swept.energy, (w.view({1, -1}) * path.energy.index_select(0, index)).sum(1), 0, 1e-13));
  }
  EXPECT_THROW(propagated_moments(*model.system, *model.network, x0, chunked, {21}), std::invalid_argument);
  EXPECT_THROW(propagated_moments(*model.system, *model.network, x0, chunked, steps, torch::ones({3})),
               std::invalid_argument);
}

// The estimates grow with what they hold: M only through the positions once
// chunked, and an absurd size is refused with the numbers.
TEST(Evaluate, InferenceMemoryEstimatesScaleWithTheChunkNotM) {
  ScoreNetOptions network;
  network.d = 4;
  const TrajectoryOptions trajectory{3.14159, 0.01, 1024};
  const double small = propagated_moments_bytes(20000, network, trajectory);
  const double large = propagated_moments_bytes(2000000, network, trajectory);
  EXPECT_LT(small, 0.5e9);
  EXPECT_LT(large - small, 3 * 8.0 * 5 * 1980000 * 1.01);
  EXPECT_GT(propagation_bytes(20000, network, trajectory), 2 * small);  // every step of every particle
  EXPECT_GT(propagation_bytes(20000, network, trajectory, true), propagation_bytes(20000, network, trajectory));
  try {
    require_memory(propagated_moments_bytes(1000000000000, network, trajectory), "--M-test 1000000000000",
                   "propagating 1000000000000 particles", "lower --M-test or --chunk");
    FAIL() << "a TB-sized inference was accepted";
  } catch (const std::runtime_error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("--M-test 1000000000000: propagating"), std::string::npos) << message;
    EXPECT_NE(message.find(" TB but only "), std::string::npos) << message;
    EXPECT_NE(message.find("lower --M-test or --chunk"), std::string::npos) << message;
  }
}

// ---- the benchmark_moments command line --------------------------------------

const std::string kBenchmarkMoments = std::string(BOHMFLOW_APPS_DIR) + "/benchmark_moments";

TEST(BenchmarkMomentsCli, BaselineOfDsmsHarmonicProblemMatchesTheClosedForm) {
  // DSM's shifted oscillator with phase −5; the zero network leaves the exact baseline.
  auto model = baseline_only_model("harmonic", {{"centre", 0.1}, {"sigma0", std::sqrt(0.1)}, {"hbar", 0.01},
                                                {"phase", -5.0}});
  auto path = save_model_checkpoint(model, "harmonic", "trap", 1.0, 0.01, scratch_path("harmonic.npz"));
  const auto out = scratch_path("out.npz").string(), log = scratch_path("log.txt").string();
  const auto command = kBenchmarkMoments + " --checkpoint " + path +
                       " --sampling gauss-hermite --M-test 16 --train-seconds 12.5 --command 'by hand' --data-out " +
                       out + " > " + log + " 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << read_text(log);
  const auto npz = Npz::load(out);
  for (const char* key : {"t", "learned_means", "learned_vars", "ref_means", "ref_vars", "epochs", "train_seconds",
                          "sampling", "command"}) {
    EXPECT_TRUE(npz.contains(key)) << key;
  }
  EXPECT_EQ(npz.tensor("t").size(0), 101);
  EXPECT_EQ(npz.scalar_double("train_seconds"), 12.5);
  EXPECT_EQ(npz.string("command"), "by hand");
  // The leapfrog's O(dt²) is all that separates the baseline from the closed form.
  EXPECT_LT(npz.scalar_double("max_mean_error"), 1e-5);
  EXPECT_LT(npz.scalar_double("max_rel_var_error"), 1e-4);
  EXPECT_GT(npz.scalar_double("max_rel_var_error"), 0.0);

  // The bosons have no closed form: without --fft-ref it is an error naming the flag.
  path = save_model_checkpoint(baseline_only_model("interacting_bosons", {{"d", 1}}), "interacting_bosons", "trap",
                               1.0, 0.01, scratch_path("bosons.npz"));
  const auto failing = kBenchmarkMoments + " --checkpoint " + path + " --data-out " + out + " > " + log + " 2>&1";
  EXPECT_NE(std::system(failing.c_str()), 0);
  EXPECT_NE(read_text(log).find("--fft-ref"), std::string::npos) << read_text(log);
}

TEST(BenchmarkMomentsCli, WithoutReferenceChecksSymmetryAndEnergy) {
  // Free bosons (g = 0) with the trap baseline and a zero network: the exact,
  // permutation-symmetric dynamics of the trap's ground state.
  auto model = baseline_only_model("interacting_bosons", {{"d", 3}, {"g", 0.0}});
  const auto path = save_model_checkpoint(model, "interacting_bosons", "trap", 0.5, 0.01, scratch_path("free.npz"));
  const auto out = scratch_path("out.npz").string(), log = scratch_path("log.txt").string();
  const auto command = kBenchmarkMoments + " --checkpoint " + path +
                       " --no-reference --sampling gauss-hermite --M-test 64 --data-out " + out + " > " + log + " 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << read_text(log);
  const auto npz = Npz::load(out);
  EXPECT_FALSE(npz.contains("ref_vars"));
  // The tensor rule is symmetric in the coordinates, and so are the dynamics.
  EXPECT_LT(npz.tensor("var_spread").abs().max().item<double>(), 1e-12);
  EXPECT_LT(npz.scalar_double("max_energy_drift"), 1e-6);
  // --no-reference and --fft-ref exclude each other.
  const auto both = kBenchmarkMoments + " --checkpoint " + path + " --no-reference --fft-ref " + path +
                    " --data-out " + out + " > " + log + " 2>&1";
  EXPECT_NE(std::system(both.c_str()), 0);
}

// ---- the fold_statistics command line ----------------------------------------

TEST(FoldStatisticsCli, TheStandingGroundStateNeverFolds) {
  // Free bosons in the trap's ground state with the exact baseline: nothing
  // moves, so F = I at every time and every quantile is 1.
  auto model = baseline_only_model("interacting_bosons", {{"d", 3}, {"g", 0.0}});
  const auto path = save_model_checkpoint(model, "interacting_bosons", "trap", 1.0, 0.01, scratch_path("still.npz"));
  const auto out = scratch_path("fold.npz").string(), log = scratch_path("log.txt").string();
  const std::string app = std::string(BOHMFLOW_APPS_DIR) + "/fold_statistics --checkpoint " + path;
  const auto command = app + " --T 0.5 --n-times 6 --M-test 32 --quantiles 0 0.5 --data-out " + out + " > " + log + " 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << read_text(log);
  const auto npz = Npz::load(out);
  EXPECT_TRUE(torch::allclose(npz.tensor("t"), torch::linspace(0, 0.5, 6, torch::kFloat64), 0, 1e-12));
  for (const char* key : {"abs_det_F", "min_singular_F", "condition_F"}) {
    EXPECT_EQ(npz.tensor(key).sizes(), (std::vector<int64_t>{6, 2})) << key;
    EXPECT_LT((npz.tensor(key) - 1).abs().max().item<double>(), 1e-9) << key;
  }
  // Quantiles need equally weighted points: a weighted rule is refused, naming the flag.
  const auto weighted = app + " --sampling gauss-hermite > " + log + " 2>&1";
  EXPECT_NE(std::system(weighted.c_str()), 0);
  EXPECT_NE(read_text(log).find("--sampling"), std::string::npos) << read_text(log);
}

}  // namespace
}  // namespace bohmflow
