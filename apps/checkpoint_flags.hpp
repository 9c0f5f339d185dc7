// Flags that name a trained checkpoint, the trajectory to run it on and the
// starting points, shared by the drivers that evaluate one (benchmark_moments,
// fold_statistics, gradient_spread). (A header beside the apps:
// each apps/*.cpp is one executable.)
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "bohmflow/checkpoint.hpp"
#include "bohmflow/sampling.hpp"
#include "compute_flags.hpp"

namespace bohmflow::apps {

// A checkpoint's model with its parameters, and the trajectory to run it on.
struct TrainedRun {
  Checkpoint checkpoint;
  Model model;
  TrajectoryOptions trajectory;
};

// --checkpoint FILE, --T and --dt (default: the T and dt it was trained with).
class CheckpointFlags {
 public:
  explicit CheckpointFlags(CLI::App& app) {
    app.add_option("--checkpoint", path_, "bohmflow checkpoint")->required()->check(CLI::ExistingFile);
    app.add_option("--T", T_, "final time (default: the checkpoint's training T)")->check(above(0));
    app.add_option("--dt", dt_, "leapfrog step (default: the checkpoint's training dt)")->check(above(0));
  }

  const std::string& path() const { return path_; }

  // The model on `device` in `compute`'s dtype, with its jet engine.
  TrainedRun load(const torch::Device& device = torch::kCPU, const ComputeOptions& compute = {}) const {
    TrainedRun run;
    run.checkpoint = load_checkpoint(path_);
    run.model = restore_model(run.checkpoint.model, run.checkpoint, path_, device, compute);
    run.trajectory = trained_trajectory(run.checkpoint);
    if (T_) run.trajectory.T = *T_;
    if (dt_) run.trajectory.dt = *dt_;
    run.trajectory.validate();
    return run;
  }

 private:
  std::string path_;
  std::optional<double> T_, dt_;
};

// --sampling (one of `methods`), `count_flag` (the number of points) and --seed
// onto SamplingOptions (sampling.hpp), whose defaults they keep.
inline void add_sampling_options(CLI::App& app, SamplingOptions& sampling, const std::vector<SamplingMethod>& methods,
                                 const std::string& count_flag, const std::string& count_help) {
  std::string names;
  for (const auto method : methods) names += (names.empty() ? "" : " | ") + to_string(method);
  add_parsed_option(
      app, "--sampling", sampling.method,
      [methods, names](const std::string& word) {
        for (const auto method : methods) {
          if (to_string(method) == word) return method;
        }
        throw std::invalid_argument("sampling '" + word + "': must be one of " + names);
      },
      "initial positions: " + names, to_string(sampling.method));
  app.add_option(count_flag, sampling.count, count_help)->capture_default_str()->check(at_least(1));
  app.add_option("--seed", sampling.seed, "seed of the initial positions (mc) or the scrambling (sobol)")
      ->capture_default_str();
}

}  // namespace bohmflow::apps
