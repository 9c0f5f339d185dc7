// Flags that name a trained checkpoint, the trajectory to run it on and the
// starting points, shared by the drivers that evaluate one (benchmark_moments,
// fold_statistics, gradient_spread). (A header beside the apps:
// each apps/*.cpp is one executable.)
#pragma once

#include <CLI/CLI.hpp>

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "bohmflow/checkpoint.hpp"
#include "bohmflow/scripted_system.hpp"
#include "bohmflow/memory.hpp"
#include "bohmflow/sampling.hpp"
#include "compute_flags.hpp"
#include "system_flags.hpp"

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

// --potential-file FILE, the TorchScript module of --potential script, and
// the initial state's flags.
inline void add_script_options(CLI::App& app, std::string& path, ParameterMap& parameters) {
  app.add_option("--potential-file", path,
                 "TorchScript module (torch.jit.save) whose forward maps x (M, d) float64 to V (M), for "
                 "--potential script (scripts/systems/*.py)");
  add_initial_state_options(app, parameters);
}

// model.script from `path` (--potential-file) when model.potential is
// "script"; a file for another potential, or none for a script, is an error
// naming the flags (`stored`: a checkpoint whose script stands in for the file).
inline void read_script_into(ModelArgs& model, const std::string& path, const Checkpoint* stored = nullptr) {
  if (model.potential != "script") {
    if (!path.empty()) throw std::invalid_argument("--potential-file '" + path + "' needs --potential script");
    return;
  }
  if (path.empty()) {
    if (stored != nullptr) {
      model.script = stored->model.script;
      model.script_source = stored->model.script_source;
      return;
    }
    throw std::invalid_argument("--potential script needs --potential-file (a TorchScript module, docs/systems.md)");
  }
  model.script = read_script_file(path, "--potential-file");
  model.script_source = std::filesystem::path(path).filename().string();
}

// --potential-file and --allow-script-change for a command that loads a
// checkpoint: a checkpoint of a TorchScript potential holds its script, so
// the file is optional, and checked against it (use_script_file).
class ScriptFileFlags {
 public:
  explicit ScriptFileFlags(CLI::App& app) {
    app.add_option("--potential-file", path_,
                   "TorchScript potential to check against the one the checkpoint holds (default: the checkpoint's)")
        ->check(CLI::ExistingFile);
    app.add_flag("--allow-script-change", allow_change_,
                 "use --potential-file even where its SHA-256 differs from the checkpoint's script");
  }
  void apply(Checkpoint& checkpoint, const std::string& source) const {
    if (!path_.empty()) use_script_file(checkpoint.model, path_, "--potential-file", allow_change_, source);
  }
  // The checkpoint at `path` with the file applied.
  Checkpoint load(const std::string& path) const {
    auto checkpoint = load_checkpoint(path);
    apply(checkpoint, path);
    return checkpoint;
  }

 private:
  std::string path_;
  bool allow_change_ = false;
};

// --checkpoint FILE, --T and --dt (default: the T and dt it was trained with), --chunk,
// --potential-file.
class CheckpointFlags {
 public:
  explicit CheckpointFlags(CLI::App& app) : script_(app) {
    app.add_option("--checkpoint", path_, "bohmflow checkpoint")->required()->check(CLI::ExistingFile);
    app.add_option("--T", T_, "final time (default: the checkpoint's training T)")->check(above(0));
    app.add_option("--dt", dt_, "leapfrog step (default: the checkpoint's training dt)")->check(above(0));
    add_chunk_option(app, chunk_size_);
  }

  const std::string& path() const { return path_; }

  // The model on `device` in `compute`'s dtype, with its jet engine.
  TrainedRun load(const torch::Device& device = torch::kCPU, const ComputeOptions& compute = {}) const {
    TrainedRun run;
    run.checkpoint = script_.load(path_);
    run.model = restore_model(run.checkpoint.model, run.checkpoint, path_, device, compute);
    run.trajectory = trained_trajectory(run.checkpoint);
    if (T_) run.trajectory.T = *T_;
    if (dt_) run.trajectory.dt = *dt_;
    run.trajectory.chunk_size = chunk_size_;
    run.trajectory.validate();
    return run;
  }
  // The same after `compute.apply()`: on its device, in its dtype.
  TrainedRun load(ComputeFlags& compute) const { return load(compute.apply(), compute.compute()); }

 private:
  ScriptFileFlags script_;
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
