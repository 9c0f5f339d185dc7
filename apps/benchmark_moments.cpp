// benchmark_moments: a trained model's moments against an exact reference, in
// the layout of data/benchmarks/<problem>.npz (docs/benchmarks.md, docs/file-formats.md).
//
//   benchmark_moments --checkpoint checkpoints/bosons_d2.npz --fft-ref data/fft_ref_bosons_d2.npz \
//                     --sampling sobol --M-test 65536 --dt 0.01 --data-out data/benchmarks/bosons_d2.npz
// Without --fft-ref the reference is the closed form, which exists for the
// harmonic system and the bosons at g = 0; with --no-reference (systems beyond
// any grid) only the checks that need none: the spread of the coordinate
// variances (permutation symmetry) and the drift of the ensemble energy.
// T and dt default to the ones the checkpoint was trained with.
#include <CLI/CLI.hpp>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <vector>

#include <torch/torch.h>

#include "bohmflow/bohmflow.hpp"
#include "app_main.hpp"
#include "checkpoint_flags.hpp"
#include "compute_flags.hpp"

namespace {

// Checks without a reference. For a symmetric system the coordinate variances
// differ only by sampling error (their spread at t = 0 is pure sampling); the
// quantum energy ⟨½m|v|² + V + Q⟩ is conserved.
void add_checks_without_reference(const bohmflow::EnsembleMoments& learned, bohmflow::Npz& npz) {
  const auto vars = learned.sigmas.square();
  const auto spread = (vars.amax(1) - vars.amin(1)) / vars.mean(1);  // (K)
  const auto energy = learned.energy.to(torch::kFloat64);
  const double energy_drift = ((energy - energy[0]).abs().max() / energy[0].abs()).item<double>();
  npz.set("var_spread", spread);
  npz.set("max_energy_drift", energy_drift);
  std::cout << "max_i var_i − min_i var_i over their mean: " << spread[0].item<double>() << " at t = 0, max "
            << spread.max().item<double>() << " over t\n"
            << "ensemble energy: " << energy[0].item<double>() << " at t = 0, max |E(t) − E(0)|/|E(0)| = "
            << energy_drift << "\n";
}

// The FFT file's moments at times t (it must describe `system`), or the closed form without one.
bohmflow::ReferenceMoments reference_moments(const std::string& fft_path, const bohmflow::System& system,
                                             const torch::Tensor& t) {
  if (fft_path.empty()) {
    try {
      return bohmflow::closed_form_moments(system, t);
    } catch (const std::invalid_argument& error) {
      throw std::invalid_argument("--fft-ref (or --no-reference) is required: " + std::string(error.what()));
    }
  }
  const auto fft = bohmflow::Npz::load(fft_path);
  for (const auto& [key, value] : system.parameters()) {
    if (fft.contains(key) && std::abs(fft.scalar_double(key) - value) > 1e-12 * std::max(1.0, std::abs(value))) {
      throw std::invalid_argument(fft_path + ": parameter '" + key + "' is " + std::to_string(fft.scalar_double(key)) +
                                  ", the checkpoint's system has " + std::to_string(value));
    }
  }
  return bohmflow::fft_moments(fft, t, std::filesystem::path(fft_path).filename().string());
}

void add_reference_errors(const bohmflow::EnsembleMoments& learned, const bohmflow::ReferenceMoments& reference,
                          bohmflow::Npz& npz) {
  const auto errors = bohmflow::moment_errors(learned, reference);
  npz.set("ref_means", reference.means);
  npz.set("ref_vars", reference.vars);
  npz.set("reference", reference.source);
  npz.set("max_mean_error", errors.max_mean_error);
  npz.set("max_rel_var_error", errors.max_rel_var_error);
  npz.set("rms_mean_error", errors.rms_mean_error);
  npz.set("rel_l2_var_error", errors.rel_l2_var_error);
  std::cout << "against " << reference.source << " over " << learned.steps.size() << " times:\n"
            << "  max |Δmean| = " << errors.max_mean_error << ", max |Δvar|/var = " << errors.max_rel_var_error
            << "\n  RMS over t of |Δmean| = " << errors.rms_mean_error
            << ", ‖Δvar‖/‖var‖ = " << errors.rel_l2_var_error << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::string fft_path;
  std::string output;
  bohmflow::SamplingOptions sampling;
  int64_t n_times = 101;
  bool no_reference = false;
  double train_seconds = 0;
  std::string command;
  CLI::App app{"A trained model's moments against the closed form or an FFT reference."};
  const bohmflow::apps::CheckpointFlags trained(app);
  app.add_option("--fft-ref", fft_path,
                 "FFT reference (compute_fft_reference); omitted: the closed form (harmonic; bosons at g = 0)")
      ->check(CLI::ExistingFile);
  app.add_flag("--no-reference", no_reference, "no reference: only the symmetry and energy checks")
      ->excludes("--fft-ref");
  bohmflow::apps::add_evaluation_points(app, sampling, n_times);
  app.add_option("--train-seconds", train_seconds, "wall time the training took, stored as is")->capture_default_str();
  app.add_option("--command", command, "the command that produced the checkpoint, stored as is");
  app.add_option("--data-out", output, "output NPZ")->required();
  bohmflow::apps::ComputeFlags flags(app);
  return bohmflow::apps::run_app(app, argc, argv, [&] {
    const auto start = std::chrono::steady_clock::now();
    bohmflow::require_writable(output, "--data-out");
    const auto [checkpoint, model, trajectory] = trained.load(flags);

    bohmflow::apps::require_particles_fit(
        bohmflow::propagated_moments_bytes(sampling.count, model.network->options(), trajectory), "--M-test",
        sampling.count);
    // The reference at the evaluation times t_n = n·dt, read (or found missing) before any work.
    const auto steps = bohmflow::evenly_spaced_steps(trajectory.n_steps(), n_times);
    std::vector<double> times;
    for (const auto step : steps) times.push_back(static_cast<double>(step) * trajectory.dt);
    bohmflow::ReferenceMoments reference;
    if (!no_reference) reference = reference_moments(fft_path, *model.system, torch::tensor(times, torch::kFloat64));
    const auto points = bohmflow::initial_positions(*model.system, sampling);
    std::cout << "propagating " << points.describe << ", " << trajectory.n_steps() << " steps of " << trajectory.dt
              << ", " << model.system->label() << "\n";
    bohmflow::ProgressReporter progress(points.x0.size(0), "particles");
    const auto learned = bohmflow::propagated_moments(
        *model.system, *model.network, points.x0.to(flags.device(), flags.compute().dtype), trajectory, steps,
        points.weights,
        [&progress](int64_t done, int64_t) { progress.update(done); });
    progress.finish();

    bohmflow::Npz npz;
    npz.set("t", learned.t);
    npz.set("learned_means", learned.means);
    npz.set("learned_vars", learned.sigmas.square());
    npz.set("learned_energy", learned.energy);
    npz.set("epochs", checkpoint.epoch);
    npz.set("train_seconds", train_seconds);
    npz.set("sampling", points.describe);
    npz.set("command", command);
    npz.set("checkpoint", std::filesystem::path(trained.path()).filename().string());
    npz.set("potential", model.system->name());
    npz.set("d", static_cast<int64_t>(model.system->dim()));
    npz.set("T", trajectory.T);
    npz.set("dt", trajectory.dt);

    add_checks_without_reference(learned, npz);

    if (!no_reference) add_reference_errors(learned, reference, npz);
    std::filesystem::path parent = std::filesystem::path(output).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent);
    npz.save(output);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << "saved " << output << " in " << seconds << " s\n";
  });
}
