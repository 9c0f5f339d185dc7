// Checkpoints: NPZ files that numpy reads, holding everything needed to
// rebuild and resume a model.
//
//   params/<name>            network parameters (names of ScoreNetImpl, e.g. spatial_0_W)
//   adam/m/<name>, adam/v/<name>, adam/step   Adam moments and step count
//   lr, epoch, losses        learning rate, epochs trained, loss history
//   rng_state                int64 words of the training RNG (optional)
//   plateau/best, plateau/wait   reduce-on-plateau state (optional)
//   args                     JSON: {"potential", "system", "network", "baseline", "training"},
//                            and "script_sha256", "script_source" for a TorchScript potential
//   system/script            uint8: the TorchScript potential's bytes (potential "script" only)
//   provenance, format       origin text; "bohmflow-checkpoint-1"
#pragma once

#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "bohmflow/baseline.hpp"
#include "bohmflow/potentials.hpp"
#include "bohmflow/score_network.hpp"
#include "bohmflow/trajectory.hpp"

namespace bohmflow {

// What a checkpoint's `args` say about the model.
struct ModelArgs {
  std::string potential = "morse_chain";  // registry name, or "script" (scripted_system.hpp)
  ParameterMap system;                    // system parameters (overrides of the defaults)
  std::string script;                     // potential "script": the module's bytes
  std::string script_source;              // potential "script": the file they came from (labels only)
  ScoreNetOptions network;                // architecture
  BaselineKind baseline = BaselineKind::kMinimum;  // BaselineOptions::kind
};

struct Checkpoint {
  ModelArgs model;
  std::string training_json = "{}";  // the "training" object of args, verbatim JSON
  std::map<std::string, torch::Tensor> params, adam_m, adam_v;
  int64_t adam_step = 0;
  double lr = 0;
  int64_t epoch = 0;
  std::vector<double> losses;
  std::vector<int64_t> rng_state;
  double plateau_best = std::numeric_limits<double>::infinity();  // PlateauSchedule state
  int64_t plateau_wait = 0;
  std::string provenance;
};

// Reads and validates a checkpoint: the format tag, the args JSON, and the
// presence and shape of every parameter the args' architecture needs. Errors
// name the file and the key.
Checkpoint load_checkpoint(const std::string& path);
// Writes atomically (temporary file + rename): a failed save never replaces
// a good checkpoint.
void save_checkpoint(const std::string& path, const Checkpoint& checkpoint);

// The args as JSON text, and back.
std::string model_args_json(const ModelArgs& model, const std::string& training_json);

// The system `args` describe: make_system, or for potential "script" a
// ScriptedSystem of args.script.
std::unique_ptr<System> make_model_system(const ModelArgs& args);

// Where a command is given a TorchScript file (`path`, from `flag`) for a
// checkpoint (`source`) whose args hold their own script: a file with the
// same SHA-256 is accepted; another is an std::invalid_argument naming both
// hashes, unless `allow_change`, when the file's bytes replace the stored
// ones. A checkpoint of a built-in system refuses any file.
void use_script_file(ModelArgs& args, const std::string& path, const std::string& flag, bool allow_change,
                     const std::string& source);

// T and dt the checkpoint was trained with (its "training" args); a field
// it lacks (e.g. an imported checkpoint) keeps TrajectoryOptions' default.
TrajectoryOptions trained_trajectory(const Checkpoint& checkpoint);

// System + baseline + network rebuilt from a checkpoint, on `device`.
struct Model {
  std::unique_ptr<System> system;
  std::shared_ptr<const GaussianBaseline> baseline;
  ScoreNet network{nullptr};
};
// The parameters are drawn in float64 on the CPU (the same on every device)
// and then moved to `device` and `dtype`.
Model build_model(const ModelArgs& args, const torch::Device& device = torch::kCPU,
                  torch::Dtype dtype = torch::kFloat64);
// The model `args` describe with `checkpoint`'s parameters (read from
// `source`, named in errors), on `device` in `compute`'s dtype and jet engine.
// Refuses parameters holding NaN or Inf (require_finite_parameters).
Model restore_model(const ModelArgs& args, const Checkpoint& checkpoint, const std::string& source,
                    const torch::Device& device = torch::kCPU, const ComputeOptions& compute = {});
// The same for the checkpoint file `path` and the arguments it stores.
Model load_model(const std::string& path, const torch::Device& device = torch::kCPU,
                 const ComputeOptions& compute = {});

// Copies a network's parameters into / out of a checkpoint.
void store_parameters(const ScoreNetImpl& network, Checkpoint& checkpoint);
void restore_parameters(ScoreNetImpl& network, const Checkpoint& checkpoint, const std::string& source);
// std::runtime_error naming `source` and the first parameter with a NaN or
// an Inf ("checkpoint 'f.npz', key 'params/output_b': 1 of 1 values are not finite").
void require_finite_parameters(const Checkpoint& checkpoint, const std::string& source);

}  // namespace bohmflow
