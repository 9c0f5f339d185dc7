// fig4_moments: learned ⟨x_i⟩(t) and σ_i(t) against the FFT reference (Figure 4 data).
//
//   fig4_moments --checkpoint checkpoints/morse_d4.npz --fft-ref data/fft_ref_morse_d4.npz \
//                --M-test 20000 --data-out data/fig4_moments.npz [--sampling mc|sobol|gauss-hermite]
// T and dt come from the FFT reference file, and so does the system of a
// built-in checkpoint; the network from the checkpoint's arguments.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>

#include <torch/torch.h>

#include "bohmflow/bohmflow.hpp"
#include "app_main.hpp"
#include "checkpoint_flags.hpp"
#include "compute_flags.hpp"

namespace {

// ħ, m and ψ₀ of the reference's system, from the parameters its file stores
// (a table's under FileSystemOptions' names, a built-in system's under its own).
struct ReferenceState {
  double hbar = 1.0, mass = 1.0;
  bohmflow::InitialState initial;
};

ReferenceState reference_state(const bohmflow::Npz& fft, const std::string& potential, int d) {
  bohmflow::ParameterMap parameters{{"d", d}};
  if (potential == "grid") {
    bohmflow::FileSystemOptions state;
    for (const std::string key : {"hbar", "mass"}) {
      if (fft.contains(key)) parameters[key] = fft.scalar_double(key);
    }
    for (int k = 0; k < d; ++k) {
      for (const std::string name : {"mean", "sigma", "velocity"}) {
        const auto key = name + "_" + std::to_string(k);
        if (fft.contains(key)) parameters[key] = fft.scalar_double(key);
      }
    }
    state.assign(parameters, "--fft-ref");
    state.validate("--fft-ref");
    return {state.hbar, state.mass, state.initial_state()};
  }
  for (const auto& [key, value] : bohmflow::make_system(potential, {{"d", d}})->parameters()) {
    if (fft.contains(key)) parameters[key] = fft.scalar_double(key);
  }
  const auto system = bohmflow::make_system_definition(potential, parameters);
  return {system->hbar(), system->mass(), system->initial_state()};
}

// The model to compare with the reference: a built-in checkpoint takes the
// reference's system (every parameter of its potential the file stores); a
// TorchScript checkpoint, or a reference of a tabulated V, keeps the
// checkpoint's system, whose ħ, m and ψ₀ must then be the reference's. The
// dimensions must agree.
bohmflow::ModelArgs reference_system(const bohmflow::Npz& fft, const std::string& fft_path,
                                     const bohmflow::Checkpoint& checkpoint, const std::string& checkpoint_path) {
  for (const char* key : {"potential", "d", "T", "dt", "t", "means", "sigmas"}) {
    if (!fft.contains(key)) {
      throw std::invalid_argument("--fft-ref '" + fft_path + "': no '" + key +
                                  "' array (not a compute_fft_reference file?)");
    }
  }
  auto args = checkpoint.model;
  const auto d = static_cast<int>(fft.scalar_double("d"));
  if (d != args.network.d) {
    throw std::invalid_argument("--fft-ref '" + fft_path + "' holds a d = " + std::to_string(d) +
                                " reference but --checkpoint '" + checkpoint_path + "' is a d = " +
                                std::to_string(args.network.d) + " network");
  }
  const auto potential = fft.string("potential");
  if (potential != "grid" && args.potential != "script") {
    args.potential = potential;
    for (const auto& [key, value] : bohmflow::make_system(args.potential)->parameters()) {
      if (fft.contains(key)) args.system[key] = fft.scalar_double(key);
    }
    return args;
  }
  const auto theirs = reference_state(fft, potential, d);
  const auto mine = bohmflow::make_model_system(args);
  const auto require_same = [&](const std::string& what, double reference, double model) {
    if (std::abs(reference - model) > 1e-12 * std::max(1.0, std::abs(reference))) {
      throw std::invalid_argument("--fft-ref '" + fft_path + "' has " + what + " = " + std::to_string(reference) +
                                  " but --checkpoint '" + checkpoint_path + "' has " + std::to_string(model) +
                                  " (the learned and exact dynamics must start from the same state)");
    }
  };
  require_same("hbar", theirs.hbar, mine->hbar());
  require_same("mass", theirs.mass, mine->mass());
  for (int k = 0; k < d; ++k) {
    const auto axis = "_" + std::to_string(k);
    require_same("the initial mean" + axis, theirs.initial.mean[k], mine->initial_state().mean[k]);
    require_same("the initial sigma" + axis, theirs.initial.sigma[k], mine->initial_state().sigma[k]);
    require_same("the initial velocity" + axis, theirs.initial.velocity[k], mine->initial_state().velocity[k]);
  }
  return args;
}

}  // namespace

int main(int argc, char** argv) {
  std::string checkpoint_path = "checkpoints/morse_d4.npz";
  std::string fft_path = "data/fft_ref_morse_d4.npz";
  std::string output = "data/fig4_moments.npz";
  bohmflow::SamplingOptions sampling;
  int64_t n_times = 101;
  int64_t chunk_size = bohmflow::TrajectoryOptions{}.chunk_size;
  CLI::App app{"Moments of the learned dynamics against the FFT reference."};
  app.add_option("--checkpoint", checkpoint_path, "bohmflow checkpoint")->capture_default_str();
  app.add_option("--fft-ref", fft_path, "FFT reference moments (compute_fft_reference)")->capture_default_str();
  bohmflow::apps::add_evaluation_points(app, sampling, n_times);
  bohmflow::apps::add_chunk_option(app, chunk_size);
  app.add_option("--data-out", output, "output NPZ")->capture_default_str();
  const bohmflow::apps::ScriptFileFlags script(app);
  bohmflow::apps::ComputeFlags flags(app);
  return bohmflow::apps::run_app(app, argc, argv, [&] {
    const auto start = std::chrono::steady_clock::now();
    bohmflow::require_writable(output, "--data-out");
    const auto device = flags.apply();
    const auto& compute = flags.compute();
    const auto fft = bohmflow::Npz::load(fft_path);
    const auto checkpoint = script.load(checkpoint_path);
    const auto args = reference_system(fft, fft_path, checkpoint, checkpoint_path);
    auto model = bohmflow::restore_model(args, checkpoint, checkpoint_path, device, compute);
    bohmflow::TrajectoryOptions trajectory{fft.scalar_double("T"), fft.scalar_double("dt"), chunk_size};
    trajectory.validate();
    bohmflow::apps::require_particles_fit(
        bohmflow::propagated_moments_bytes(sampling.count, model.network->options(), trajectory), "--M-test",
        sampling.count);

    const auto points = bohmflow::initial_positions(*model.system, sampling);
    const int64_t M = points.x0.size(0);
    std::cout << "propagating " << points.describe << ", " << trajectory.n_steps() << " steps, "
              << model.system->label() << " (" << flags.describe() << ")\n";
    bohmflow::ProgressReporter progress(M, "particles");
    const auto moments = bohmflow::propagated_moments(
        *model.system, *model.network, points.x0.to(device, compute.dtype), trajectory,
        bohmflow::evenly_spaced_steps(trajectory.n_steps(), n_times), points.weights,
        [&progress](int64_t done, int64_t) { progress.update(done); });
    progress.finish();

    // Agreement with the reference at the evaluation times.
    const auto reference = bohmflow::fft_moments(fft, moments.t, "--fft-ref '" + fft_path + "'");
    const double mean_error = (moments.means - reference.means).abs().max().item<double>();
    const double sigma_error = (moments.sigmas - reference.vars.sqrt()).abs().max().item<double>();

    bohmflow::Npz npz;
    npz.set("t_learn", moments.t);
    npz.set("learned_means", moments.means);
    npz.set("learned_sigmas", moments.sigmas);
    npz.set("learned_energy", moments.energy);
    npz.set("fft_t", fft.tensor("t"));
    npz.set("fft_means", fft.tensor("means"));
    npz.set("fft_sigmas", fft.tensor("sigmas"));
    npz.set("d", static_cast<int64_t>(model.system->dim()));
    npz.set("T", trajectory.T);
    npz.set("epoch", checkpoint.epoch);
    npz.set("checkpoint", std::filesystem::path(checkpoint_path).filename().string());
    npz.set("M_test", M);
    npz.set("sampling", bohmflow::to_string(sampling.method));
    npz.set("dtype", bohmflow::dtype_name(compute.dtype));
    npz.save(output);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << "max |<x_i> - FFT| = " << mean_error << ", max |sigma_i - FFT| = " << sigma_error << " over "
              << moments.steps.size() << " times and " << model.system->dim() << " modes\n"
              << "saved " << output << " in " << seconds << " s\n";
  });
}
