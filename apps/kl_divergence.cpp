// kl_divergence: reverse KL(rho_theta || rho_exact) of the learned dynamics at
// the times of FFT psi snapshots.
//
//   kl_divergence --checkpoint checkpoints/morse_d4.npz --psi data/psi_morse_d4.npz \
//                 --M 20000 --data-out data/kl_morse_d4.npz
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <string>

#include "bohmflow/checkpoint.hpp"
#include "bohmflow/kl_divergence.hpp"
#include "bohmflow/npz.hpp"
#include "bohmflow/potentials.hpp"
#include "bohmflow/progress.hpp"
#include "bohmflow/psi_snapshots.hpp"
#include "app_main.hpp"
#include "checkpoint_flags.hpp"
#include "compute_flags.hpp"

int main(int argc, char** argv) {
  std::string checkpoint_path = "checkpoints/morse_d4.npz";
  std::string psi_path;
  std::string output;
  bohmflow::KlOptions options;
  CLI::App app{"Reverse KL divergence of the learned density against FFT psi snapshots."};
  app.add_option("--checkpoint", checkpoint_path, "bohmflow checkpoint")->capture_default_str();
  app.add_option("--psi", psi_path, "psi snapshots (compute_fft_reference --save-psi-at)")
      ->required();
  using bohmflow::apps::above;
  using bohmflow::apps::at_least;
  app.add_option("--M", options.M, "particles")->capture_default_str()->check(at_least(1));
  app.add_option("--floor", options.floor, "added to |psi|^2 before the log")->capture_default_str()->check(at_least(0));
  app.add_option("--dt", options.dt, "leapfrog step")->capture_default_str()->check(above(0));
  app.add_option("--seed", options.seed, "seed of the initial positions")->capture_default_str();
  app.add_option("--batch", options.batch, "particles propagated together; bounds the memory")
      ->capture_default_str()
      ->check(at_least(1));
  app.add_option("--data-out", output, "optional NPZ with t, kl, kl_err, H_L, H_cross, n_out, M");
  const bohmflow::apps::ScriptFileFlags script(app);
  bohmflow::apps::ComputeFlags compute(app);
  return bohmflow::apps::run_app(app, argc, argv, [&] {
    options.validate();
    if (!output.empty()) bohmflow::require_writable(output, "--data-out");
    const auto start = std::chrono::steady_clock::now();
    const auto device = compute.apply();
    const auto checkpoint = script.load(checkpoint_path);
    const auto model = bohmflow::restore_model(checkpoint.model, checkpoint, checkpoint_path, device, compute.compute());
    const auto psi = bohmflow::load_psi_snapshots(psi_path);
    if (!psi.times.empty()) {
      const bohmflow::TrajectoryOptions trajectory{psi.times.back(), options.dt, 0};
      bohmflow::apps::require_particles_fit(
          bohmflow::propagation_bytes(std::min(options.batch, options.M), model.network->options(), trajectory,
                                      /*with_F=*/true),
          "--batch", std::min(options.batch, options.M), "");
    }
    std::cout << "propagating M=" << options.M << " particles with F, " << model.system->label()
              << ", against " << psi.size() << " snapshots of " << psi_path << " (" << compute.describe() << ")\n";
    bohmflow::ProgressReporter progress(options.M, "particles");
    const auto result = bohmflow::reverse_kl(
        *model.system, *model.network, psi, options,
        [&progress](int64_t done, int64_t) { progress.update(done); });
    progress.finish();
    std::cout << result.table();
    if (!output.empty()) {
      bohmflow::save_kl(result, output);
      std::cout << "saved " << output << "\n";
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << "done in " << seconds << " s\n";
  });
}
