// autocorrelation: a(t) = ⟨ψ(0)|ψ(t)⟩ and ⟨H⟩(t) of a checkpoint's learned
// dynamics, from the phase and density its trajectories carry
// (autocorrelation.hpp), with their Monte Carlo standard errors.
//
//   autocorrelation --checkpoint checkpoints/morse_d4.npz --M-test 20000 --fft-ref data/fft_ref_morse_d4.npz \
//                   --data-out data/autocorrelation_morse_d4.npz
#include <CLI/CLI.hpp>

#include <chrono>
#include <iomanip>
#include <iostream>

#include <torch/torch.h>

#include "bohmflow/bohmflow.hpp"
#include "app_main.hpp"
#include "autocorrelation_input.hpp"
#include "checkpoint_flags.hpp"
#include "compute_flags.hpp"

int main(int argc, char** argv) {
  std::string output, fft_path;
  bohmflow::SamplingOptions sampling;
  int64_t n_times = 101;
  CLI::App app{"Autocorrelation <psi(0)|psi(t)> and energy of a checkpoint's learned dynamics."};
  const bohmflow::apps::CheckpointFlags trained(app);
  bohmflow::apps::add_evaluation_points(app, sampling, n_times);
  app.add_option("--data-out", output, "NPZ with t, a (complex128), a_err, energy, energy_err, hbar")->required();
  app.add_option("--fft-ref", fft_path,
                 "exact a(t) to compare with (compute_fft_reference -o): prints max |a - a_FFT|, stores a_fft");
  bohmflow::apps::ComputeFlags flags(app);
  return bohmflow::apps::run_app(app, argc, argv, [&] {
    const auto start = std::chrono::steady_clock::now();
    bohmflow::require_writable(output, "--data-out");
    const auto [checkpoint, model, trajectory] = trained.load(flags);
    bohmflow::apps::require_particles_fit(
        bohmflow::propagated_autocorrelation_bytes(sampling.count, model.network->options(), trajectory),
        "--M-test", sampling.count);
    const auto steps = bohmflow::evenly_spaced_steps(trajectory.n_steps(), n_times);
    // The exact a at the same times, read before any work.
    auto exact = fft_path.empty() ? std::vector<std::complex<double>>{}
                                  : bohmflow::apps::autocorrelation_at_steps(fft_path, "--fft-ref", steps,
                                                                             trajectory.dt, trajectory.T);
    const auto points = bohmflow::initial_positions(*model.system, sampling);
    std::cout << "propagating " << points.describe << " with F, " << trajectory.n_steps() << " steps of "
              << trajectory.dt << ", " << model.system->label() << " (" << flags.describe() << ")\n";
    bohmflow::ProgressReporter progress(points.x0.size(0), "particles");
    const auto result = bohmflow::propagated_autocorrelation(
        *model.system, *model.network, points.x0.to(flags.device(), flags.compute().dtype), trajectory,
        steps, points.weights,
        [&progress](int64_t done, int64_t) { progress.update(done); });
    progress.finish();

    const auto modulus = result.a.abs();
    const double drift = (result.energy - result.energy[0]).abs().max().item<double>();
    std::cout << std::setprecision(4) << "| t | |a(t)| | ± | <H> |\n|---|---|---|---|\n";
    const int64_t K = result.t.size(0);
    for (int64_t k = 0; k < K; k += std::max<int64_t>(1, K / 10)) {
      std::cout << "| " << result.t[k].item<double>() << " | " << modulus[k].item<double>() << " | "
                << result.a_err[k].item<double>() << " | " << result.energy[k].item<double>() << " |\n";
    }
    bohmflow::Npz npz;
    npz.set("t", result.t);
    npz.set("a", result.a);
    npz.set("a_err", result.a_err);
    npz.set("energy", result.energy);
    npz.set("energy_err", result.energy_err);
    npz.set("max_energy_drift", drift);
    npz.set("hbar", model.system->hbar());
    if (!exact.empty()) {
      const auto a_fft = torch::from_blob(exact.data(), {K}, torch::kComplexDouble).clone();
      const auto gap = (result.a.to(torch::kComplexDouble) - a_fft).abs();
      const int64_t worst = gap.argmax().item<int64_t>();
      std::cout << std::setprecision(4) << "max |a - a_FFT| = " << gap[worst].item<double>() << " at t = "
                << result.t[worst].item<double>() << " (standard error there " << result.a_err[worst].item<double>()
                << ", largest " << result.a_err.max().item<double>() << ")\n";
      npz.set("a_fft", a_fft);
      npz.set("max_abs_a_error", gap[worst].item<double>());
      npz.set("fft_ref", fft_path);
    }
    npz.set("M_test", points.x0.size(0));
    npz.set("sampling", points.describe);
    npz.set("checkpoint", trained.path());
    npz.save(output);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << "max |<H>(t) - <H>(0)| = " << drift << "\nsaved " << output << " in " << seconds << " s\n";
  });
}
