#include "bohmflow/autocorrelation.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <complex>

#include "bohmflow/checkpoint.hpp"
#include "bohmflow/npz.hpp"
#include "bohmflow/potentials.hpp"
#include "bohmflow/sampling.hpp"
#include "test_support.hpp"

namespace bohmflow {
namespace {

double max_autocorrelation_error(const CoherentState& state, double dt, const Autocorrelation** kept = nullptr) {
  static Autocorrelation last;
  const auto model = baseline_only_model("harmonic", state.parameters());
  SamplingOptions sampling;
  sampling.method = SamplingMethod::kGaussHermite;
  sampling.count = 400;
  const auto points = initial_positions(*model.system, sampling);
  const TrajectoryOptions options{1.6, dt, 128};
  const int64_t n = options.n_steps();
  last = propagated_autocorrelation(*model.system, *model.network, points.x0, options, {0, n / 4, n / 2, n},
                                    points.weights);
  if (kept != nullptr) *kept = &last;
  double error = 0;
  for (size_t k = 0; k < last.steps.size(); ++k) {
    const auto exact = state.autocorrelation(last.t[k].item<double>());
    const std::complex<double> learned(torch::real(last.a[k]).item<double>(), torch::imag(last.a[k]).item<double>());
    error = std::max(error, std::abs(learned - exact));
  }
  return error;
}

TEST(Autocorrelation, CoherentStateMatchesTheClosedFormToSecondOrder) {
  const CoherentState state;
  const Autocorrelation* result = nullptr;
  const double coarse = max_autocorrelation_error(state, 0.02);
  const double fine = max_autocorrelation_error(state, 0.01, &result);
  // a(0) = 1 to rounding with Gauss–Hermite points, and the error is the time step's.
  EXPECT_NEAR(torch::real(result->a[0]).item<double>(), 1.0, 1e-12);
  EXPECT_NEAR(torch::imag(result->a[0]).item<double>(), 0.0, 1e-12);
  EXPECT_LT(fine, 2e-4);
  EXPECT_GT(coarse / fine, 3.5);
  EXPECT_LT(coarse / fine, 4.5);
  // The energy of a coherent state: Σ ħω(|α|² + ½), constant along the run.
  EXPECT_LT((result->energy - result->energy[0]).abs().max().item<double>(), 1e-3);
}

TEST(Autocorrelation, PhaseAlongEachTrajectoryIsTheCoherentStates) {
  const CoherentState state;
  const auto model = baseline_only_model("harmonic", state.parameters());
  const auto x0 = sample_initial_positions(*model.system, 16, torch::kFloat64);
  double errors[2];
  for (const int refine : {1, 2}) {
    const TrajectoryOptions options{1.6, 0.02 / refine};
    const auto path = propagate(*model.system, *model.network, x0, options, /*with_F=*/true);
    const auto wave = trajectory_wave(*model.system, path, x0);
    const int64_t last = options.n_steps();
    const double t = path.t[last].item<double>();
    errors[refine - 1] = (wave.phase[last] - state.phase(path.x[last], t)).abs().max().item<double>();
    // ln ρ along the flow: a rigid translation of the Gaussian keeps ln ρ₀(x₀).
    EXPECT_LT((wave.log_density[last] - model.system->initial_log_density(x0)).abs().max().item<double>(), 1e-9);
  }
  EXPECT_LT(errors[1], 1e-3);
  EXPECT_GT(errors[0] / errors[1], 3.5);
  EXPECT_LT(errors[0] / errors[1], 4.5);
}

// With Monte Carlo points the error bars hold the exact value, and |a| ≤ 1.
TEST(Autocorrelation, MonteCarloErrorBarsCoverTheClosedForm) {
  const CoherentState state;
  const auto model = baseline_only_model("harmonic", state.parameters());
  torch::manual_seed(3);
  const auto x0 = sample_initial_positions(*model.system, 2000, torch::kFloat64);
  const TrajectoryOptions options{1.6, 0.01, 512};
  const auto result = propagated_autocorrelation(*model.system, *model.network, x0, options, {0, 40, 80, 160});
  for (int64_t k = 0; k < 4; ++k) {
    const auto exact = state.autocorrelation(result.t[k].item<double>());
    const std::complex<double> learned(torch::real(result.a[k]).item<double>(), torch::imag(result.a[k]).item<double>());
    const double err = result.a_err[k].item<double>();
    EXPECT_LT(std::abs(learned - exact), 4 * err + 1e-9) << "t = " << result.t[k].item<double>();
    EXPECT_LE(std::abs(learned), 1 + 4 * err);
    EXPECT_LT(err, 1.0 / std::sqrt(2000.0) + 1e-12);
  }
}

// The reference's published network: a(0) = 1 to rounding with Gauss–Hermite
// points, and on a short Monte Carlo run |a| ≤ 1 + 4 standard errors and a
// within 4 standard errors of the FFT reference's a(t).
TEST(Autocorrelation, ShippedCheckpointStartsAtOneAndStaysWithinItsErrorBars) {
  const auto model = load_model(std::string(BOHMFLOW_SOURCE_DIR) + "/checkpoints/morse_d4.npz");
  SamplingOptions sampling;
  sampling.method = SamplingMethod::kGaussHermite;
  sampling.count = 256;
  const auto nodes = initial_positions(*model.system, sampling);
  const auto start = propagated_autocorrelation(*model.system, *model.network, nodes.x0, {0.01, 0.01}, {0},
                                                nodes.weights);
  EXPECT_NEAR(torch::real(start.a[0]).item<double>(), 1.0, 1e-12);
  EXPECT_NEAR(torch::imag(start.a[0]).item<double>(), 0.0, 1e-12);

  torch::manual_seed(5);
  const auto x0 = sample_initial_positions(*model.system, 256, torch::kFloat64);
  const auto run = propagated_autocorrelation(*model.system, *model.network, x0, {0.3, 0.01}, {0, 10, 20, 30});
  const auto reference = Npz::load(std::string(BOHMFLOW_SOURCE_DIR) + "/data/fft_ref_morse_d4.npz");
  const auto exact = reference.complexes("a");
  for (int64_t k = 0; k < 4; ++k) {
    const std::complex<double> learned(torch::real(run.a[k]).item<double>(), torch::imag(run.a[k]).item<double>());
    const double err = run.a_err[k].item<double>();
    EXPECT_LE(std::abs(learned), 1 + 4 * err + 1e-12) << "t = " << run.t[k].item<double>();
    // (the grid normalises a(0) to 1 within 1e-11)
    EXPECT_LT(std::abs(learned - exact[run.steps[k]]), 4 * err + 1e-9) << "t = " << run.t[k].item<double>();
  }
  EXPECT_GT(run.a_err[3].item<double>(), 0.0);  // the run moved: the error bars are not trivially zero
}

}  // namespace
}  // namespace bohmflow
