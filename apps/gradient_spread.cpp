// gradient_spread: how much one epoch's loss and gradient scatter, for
// independent (mc) and scrambled Sobol batches of a checkpoint's model, as a
// Markdown table. The ratio of the variances is the batch-size factor that
// train_morse --sampling sobol buys at no cost.
//
//   gradient_spread --checkpoint checkpoints/bosons_d8_T0.25.npz --M 64 --repeats 10
#include <CLI/CLI.hpp>

#include <iomanip>
#include <iostream>
#include <string>

#include <torch/torch.h>

#include "bohmflow/checkpoint.hpp"
#include "bohmflow/fisher_loss.hpp"
#include "app_main.hpp"
#include "checkpoint_flags.hpp"
#include "compute_flags.hpp"

int main(int argc, char** argv) {
  bohmflow::SamplingOptions sampling;
  sampling.count = 64;
  int repeats = 10;
  CLI::App app{"Scatter of the Fisher loss and its gradient over batches: mc against sobol."};
  const bohmflow::apps::CheckpointFlags trained(app);
  app.add_option("--M", sampling.count, "particles per batch")->capture_default_str()->check(bohmflow::apps::at_least(1));
  app.add_option("--repeats", repeats, "batches per rule")->capture_default_str()->check(bohmflow::apps::at_least(2));
  app.add_option("--seed", sampling.seed, "seed of the first batch")->capture_default_str();
  bohmflow::apps::ComputeFlags compute(app);
  return bohmflow::apps::run_app(app, argc, argv, [&] {
    const auto [checkpoint, model, trajectory] = trained.load(compute);
    bohmflow::apps::require_particles_fit(
        bohmflow::fisher_loss_bytes(sampling.count, model.network->options(), trajectory, {}), "--M", sampling.count,
        "");
    std::cout << model.system->label() << " (" << compute.describe() << "), T = " << trajectory.T
              << ", dt = " << trajectory.dt << ", " << repeats << " batches of M = " << sampling.count << " per rule\n\n"
              << "| batches | loss (mean ± std) | \\|mean gradient\\|² | E\\|g − mean\\|² |\n|---|---|---|---|\n";
    double mc_variance = 0;
    for (const auto method : {bohmflow::SamplingMethod::kMc, bohmflow::SamplingMethod::kSobol}) {
      sampling.method = method;
      const auto spread = bohmflow::gradient_spread(*model.system, *model.network, trajectory, {}, sampling, repeats);
      if (method == bohmflow::SamplingMethod::kMc) mc_variance = spread.gradient_variance;
      std::cout << std::setprecision(4) << "| " << bohmflow::to_string(method) << " | " << spread.loss_mean << " ± " << spread.loss_std
                << " | " << spread.mean_gradient_norm_sq << " | " << spread.gradient_variance << " |" << std::endl;
      if (method == bohmflow::SamplingMethod::kSobol) {
        std::cout << "\ngradient variance, mc over sobol: " << mc_variance / spread.gradient_variance << "\n";
      }
    }
  });
}
