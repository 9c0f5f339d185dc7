// fold_statistics: how near a checkpoint's learned flow x₀ ↦ x(t) comes to
// folding, as quantiles over particles of |det F|, of the smallest singular
// value of F and of its condition number, at evenly spaced times (a Markdown
// table; --data-out also writes them as NPZ). A right density never folds; the
// reference's caustic mask watches |det F| only, which a stretch along other
// directions can keep large while one direction folds (docs/benchmarks.md,
// *Where the learned flow folds*).
//
//   fold_statistics --checkpoint checkpoints/bosons_d8.npz --M-test 1024 --n-times 21
#include <CLI/CLI.hpp>

#include <iomanip>
#include <iostream>
#include <sstream>

#include <torch/torch.h>

#include "bohmflow/bohmflow.hpp"
#include "app_main.hpp"
#include "checkpoint_flags.hpp"
#include "compute_flags.hpp"

int main(int argc, char** argv) {
  std::string output;
  bohmflow::SamplingOptions sampling;
  sampling.method = bohmflow::SamplingMethod::kSobol;
  sampling.count = 1024;
  int64_t n_times = 21;
  std::vector<double> levels{0.0, 0.01, 0.1, 0.5};
  CLI::App app{"Quantiles of |det F|, σ_min(F) and σ_max/σ_min along a checkpoint's trajectories."};
  const bohmflow::apps::CheckpointFlags trained(app);
  // Quantiles count every particle once: equally weighted points only.
  bohmflow::apps::add_sampling_options(app, sampling, {bohmflow::SamplingMethod::kMc, bohmflow::SamplingMethod::kSobol}, "--M-test", "particles");
  app.add_option("--n-times", n_times, "evenly spaced steps on [0, T]")->capture_default_str()->check(bohmflow::apps::at_least(1));
  app.add_option("--quantiles", levels, "levels q: the q-quantile of |det F| and σ_min, the (1 − q)-quantile of the condition")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  bohmflow::apps::ComputeFlags compute(app);
  app.add_option("--data-out", output, "also write t, levels, abs_det_F, min_singular_F, condition_F as NPZ");
  return bohmflow::apps::run_app(app, argc, argv, [&] {
    if (!output.empty()) bohmflow::require_writable(output, "--data-out");
    const auto [checkpoint, model, trajectory] = trained.load(compute);

    bohmflow::apps::require_particles_fit(
        bohmflow::propagation_bytes(sampling.count, model.network->options(), trajectory, /*with_F=*/true),
        "--M-test", sampling.count);
    const auto points = bohmflow::initial_positions(*model.system, sampling);
    std::cout << model.system->label() << ": " << points.describe << ", " << trajectory.n_steps() << " steps of "
              << trajectory.dt << " (" << compute.describe() << ")\n\n";
    const auto x0 = points.x0.to(compute.device(), compute.compute().dtype);
    const auto path = bohmflow::propagate(*model.system, *model.network, x0, trajectory, /*with_F=*/true);
    const auto stats =
        bohmflow::fold_statistics(path, bohmflow::evenly_spaced_steps(trajectory.n_steps(), n_times), levels);

    const auto row = [](const torch::Tensor& values) {
      std::ostringstream out;
      out << std::setprecision(3);
      for (int64_t q = 0; q < values.size(0); ++q) out << (q ? ", " : "") << values[q].item<double>();
      return out.str();
    };
    const std::string names = row(stats.levels);
    std::cout << std::setprecision(3) << "| t | \\|det F\\| at q = " << names << " | σ_min(F) at q = " << names
              << " | σ_max/σ_min at 1 − q |\n|---|---|---|---|\n";
    for (int64_t k = 0; k < stats.t.size(0); ++k) {
      std::cout << "| " << stats.t[k].item<double>() << " | " << row(stats.abs_det_F[k]) << " | "
                << row(stats.min_singular_F[k]) << " | " << row(stats.condition_F[k]) << " |\n";
    }
    if (!output.empty()) {
      bohmflow::Npz npz;
      npz.set("t", stats.t);
      npz.set("levels", stats.levels);
      npz.set("abs_det_F", stats.abs_det_F);
      npz.set("min_singular_F", stats.min_singular_F);
      npz.set("condition_F", stats.condition_F);
      npz.set("sampling", points.describe);
      npz.save(output);
      std::cout << "\nwrote " << output << "\n";
    }
  });
}
