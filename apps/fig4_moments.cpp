// fig4_moments: learned ⟨x_i⟩(t) and σ_i(t) against the FFT reference (Figure 4 data).
//
//   fig4_moments --checkpoint checkpoints/morse_d4.npz --fft-ref data/fft_ref_morse_d4.npz \
//                --M-test 20000 --data-out data/fig4_moments.npz [--sampling mc|sobol|gauss-hermite]
// The system, T and dt come from the FFT reference file, the network from the
// checkpoint's arguments.
#include <CLI/CLI.hpp>

#include <chrono>
#include <filesystem>
#include <iostream>

#include <torch/torch.h>

#include "bohmflow/bohmflow.hpp"
#include "checkpoint_flags.hpp"
#include "compute_flags.hpp"

int main(int argc, char** argv) {
  std::string checkpoint_path = "checkpoints/morse_d4.npz";
  std::string fft_path = "data/fft_ref_morse_d4.npz";
  std::string output = "data/fig4_moments.npz";
  bohmflow::SamplingOptions sampling;
  int64_t n_times = 101;
  CLI::App app{"Moments of the learned dynamics against the FFT reference."};
  app.add_option("--checkpoint", checkpoint_path, "bohmflow checkpoint")->capture_default_str();
  app.add_option("--fft-ref", fft_path, "FFT reference moments (compute_fft_reference)")->capture_default_str();
  bohmflow::apps::add_sampling_options(app, sampling, {bohmflow::SamplingMethod::kMc, bohmflow::SamplingMethod::kSobol, bohmflow::SamplingMethod::kGaussHermite}, "--M-test",
                                       "particles (gauss-hermite: at most this many nodes)");
  app.add_option("--n-times", n_times, "evenly spaced evaluation steps")->capture_default_str()->check(bohmflow::apps::at_least(1));
  app.add_option("--data-out", output, "output NPZ")->capture_default_str();
  bohmflow::apps::ComputeFlags flags(app);
  CLI11_PARSE(app, argc, argv);
  try {
    const auto start = std::chrono::steady_clock::now();
    const auto device = flags.apply();
    const auto& compute = flags.compute();
    const auto fft = bohmflow::Npz::load(fft_path);
    const auto checkpoint = bohmflow::load_checkpoint(checkpoint_path);
    // The system of the FFT file: every parameter of that potential it stores.
    auto args = checkpoint.model;
    args.potential = fft.string("potential");
    for (const auto& [key, value] : bohmflow::make_system(args.potential)->parameters()) {
      if (fft.contains(key)) args.system[key] = fft.scalar_double(key);
    }
    auto model = bohmflow::restore_model(args, checkpoint, checkpoint_path, device, compute);
    const bohmflow::TrajectoryOptions trajectory{fft.scalar_double("T"), fft.scalar_double("dt")};

    const auto points = bohmflow::initial_positions(*model.system, sampling);
    const int64_t M = points.x0.size(0);
    std::cout << "propagating " << points.describe << ", " << trajectory.n_steps() << " steps, "
              << model.system->label() << " (" << flags.describe() << ")\n";
    const auto path =
        bohmflow::propagate(*model.system, *model.network, points.x0.to(device, compute.dtype), trajectory);
    const auto moments = bohmflow::ensemble_moments(
        path, bohmflow::evenly_spaced_steps(trajectory.n_steps(), n_times), points.weights);

    // Agreement with the reference at the evaluation steps (same step grid).
    const auto index = torch::tensor(moments.steps, torch::kInt64);
    const auto fft_means = fft.tensor("means", torch::kFloat64, {-1, -1});
    const auto fft_sigmas = fft.tensor("sigmas", torch::kFloat64, {-1, -1});
    const double mean_error = (moments.means - fft_means.index_select(0, index)).abs().max().item<double>();
    const double sigma_error = (moments.sigmas - fft_sigmas.index_select(0, index)).abs().max().item<double>();

    bohmflow::Npz npz;
    npz.set("t_learn", moments.t);
    npz.set("learned_means", moments.means);
    npz.set("learned_sigmas", moments.sigmas);
    npz.set("learned_energy", moments.energy);
    npz.set("fft_t", fft.tensor("t"));
    npz.set("fft_means", fft_means);
    npz.set("fft_sigmas", fft_sigmas);
    npz.set("d", static_cast<int64_t>(model.system->dim()));
    npz.set("T", trajectory.T);
    npz.set("epoch", checkpoint.epoch);
    npz.set("checkpoint", std::filesystem::path(checkpoint_path).filename().string());
    npz.set("M_test", M);
    npz.set("sampling", bohmflow::to_string(sampling.method));
    npz.set("dtype", bohmflow::dtype_name(compute.dtype));
    npz.save(output);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << "max |<x_i> - FFT| = " << mean_error << ", max |sigma_i - FFT| = " << sigma_error
              << " over " << moments.steps.size() << " times and " << model.system->dim() << " modes\n"
              << "saved " << output << " in " << seconds << " s\n";
  } catch (const std::exception& error) {
    std::cerr << "fig4_moments: " << error.what() << "\n";
    return 1;
  }
  return 0;
}
