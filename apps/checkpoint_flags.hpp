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
#include "bohmflow/memory.hpp"
#include "bohmflow/sampling.hpp"
#include "compute_flags.hpp"

namespace bohmflow::apps {

// A checkpoint's model with its parameters, and the trajectory to run it on.
struct TrainedRun {
  Checkpoint checkpoint;
  Model model;
  TrajectoryOptions trajectory;
};

// --chunk onto TrajectoryOptions::chunk_size (trajectory.hpp), whose default it keeps.
inline void add_chunk_option(CLI::App& app, int64_t& chunk_size) {
  app.add_option("--chunk", chunk_size, "particles propagated together; bounds the memory (0: all at once)")
      ->default_str(std::to_string(TrajectoryOptions{}.chunk_size))
      ->check(at_least(0));
}

// Before any work: `bytes`, the estimated peak of running `count` particles
// (count_flag), must fit in the available memory; else an error naming the
// flags that lower it (count_flag, and `other_flag` unless empty).
inline void require_particles_fit(double bytes, const std::string& count_flag, int64_t count,
                                  const std::string& other_flag = "--chunk") {
  require_memory(bytes, count_flag + " " + std::to_string(count), "propagating " + std::to_string(count) + " particles",
                 "lower " + count_flag + (other_flag.empty() ? "" : " or " + other_flag));
}

// --checkpoint FILE, --T and --dt (default: the T and dt it was trained with), --chunk.
class CheckpointFlags {
 public:
  explicit CheckpointFlags(CLI::App& app) {
    app.add_option("--checkpoint", path_, "bohmflow checkpoint")->required()->check(CLI::ExistingFile);
    app.add_option("--T", T_, "final time (default: the checkpoint's training T)")->check(above(0));
    app.add_option("--dt", dt_, "leapfrog step (default: the checkpoint's training dt)")->check(above(0));
    add_chunk_option(app, chunk_size_);
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
    run.trajectory.chunk_size = chunk_size_;
    run.trajectory.validate();
    return run;
  }

 private:
  std::string path_;
  std::optional<double> T_, dt_;
  int64_t chunk_size_ = TrajectoryOptions{}.chunk_size;
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

// The evaluation points of the ensemble commands (fig4_moments,
// benchmark_moments, autocorrelation): --sampling mc|sobol|gauss-hermite,
// --M-test, --seed, and --n-times evenly spaced steps on [0, T].
inline void add_evaluation_points(CLI::App& app, SamplingOptions& sampling, int64_t& n_times) {
  add_sampling_options(app, sampling, {SamplingMethod::kMc, SamplingMethod::kSobol, SamplingMethod::kGaussHermite},
                       "--M-test", "particles (gauss-hermite: at most this many nodes)");
  app.add_option("--n-times", n_times, "evenly spaced evaluation steps on [0, T]")
      ->capture_default_str()
      ->check(at_least(1));
}

}  // namespace bohmflow::apps
