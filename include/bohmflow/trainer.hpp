// Training: minimise the Fisher divergence (fisher_loss.hpp) over epochs of
// fresh particles x₀ ~ ρ₀, with clipped Adam and the reduce-on-plateau
// schedule (optimizer.hpp), periodic diagnostics and checkpoints, resume, and
// data parallelism over ranks (distributed.hpp).
//
// The global batch of an epoch does not depend on the number of ranks: every
// rank draws all M initial positions from the shared generator and propagates
// its own slice of M/world_size; the slices' losses and gradients are summed
// across ranks (each rank's loss is its slice's mean, so the sum over ranks
// divided by world_size is the mean over all M) before the clip and the Adam
// step, which every rank then applies identically. Rank 0 alone logs and
// writes checkpoints.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include <torch/types.h>

#include "bohmflow/checkpoint.hpp"
#include "bohmflow/distributed.hpp"
#include "bohmflow/fisher_loss.hpp"
#include "bohmflow/optimizer.hpp"
#include "bohmflow/trajectory.hpp"

namespace bohmflow {

struct TrainingOptions {
  int64_t M = 5000;             // particles per epoch, all ranks together
  int64_t n_epochs = 45000;     // epochs of this run (a resumed run adds them to the stored epoch)
  double lr = 1e-3;             // initial Adam learning rate (a resumed run keeps the stored one)
  double grad_clip = 10.0;      // global-norm clip of the gradient; <= 0: none
  // Loss time steps per epoch: step 0 plus a fresh uniform subset of the
  // others, drawn without replacement; 0 (or >= n_steps + 1): every step.
  int64_t n_checkpoints = 0;
  int64_t print_every = 50;        // epochs between log lines (the first epoch always prints)
  int64_t checkpoint_every = 500;  // epochs between <base>_ep<N>.npz files; 0: none
  std::string checkpoint_path = "checkpoints/morse_d4.npz";  // <base>.npz: the final checkpoint
  uint64_t seed = 0;               // seed of the initial positions and step subsets
  // Each epoch's x₀ batch: "mc", independent draws; "sobol", the first M
  // scrambled Sobol points with a fresh random digital shift from the run's
  // generator (randomised quasi-Monte Carlo: unbiased, and for a smooth loss a
  // gradient with less variance than M independent draws give).
  SamplingMethod sampling = SamplingMethod::kMc;  // mc or sobol
  int64_t diagnostics_batch = 512; // independent particles behind E_mean, E_std, min|det F|, min σ(F), masked
  // Jet engine and dtype (not compared on resume). x₀ is drawn in float64 on
  // the host whatever the device and dtype, so every run with one seed trains
  // on the same batches.
  ComputeOptions compute;
  TrajectoryOptions trajectory;
  FisherLossOptions loss;
  AdamOptions adam;
  PlateauOptions plateau;
  void validate(int world_size) const;  // names the offending option
  std::string to_json() const;          // the "training" object stored in checkpoints
};

// Throws std::invalid_argument naming the first difference (potential, a
// system parameter, hidden_dims, n_freq, conditioning, symmetry, baseline) between a
// resume file's model and the one a run asks for.
void check_resume_compatible(const ModelArgs& stored, const ModelArgs& wanted, const std::string& source);

struct TrainingResult {
  enum class Outcome {
    kCompleted,    // all epochs done; final checkpoint written
    kInterrupted,  // stop requested; checkpoint of the last finished epoch written
    kNonFinite,    // loss, gradient or updated parameters not finite: stopped, nothing written
  };
  Outcome outcome = Outcome::kCompleted;
  int64_t epoch = 0;       // epochs trained in total (including resumed ones)
  std::string checkpoint;  // the file written last (rank 0), or the last good one
  std::string message;     // what happened, for the user
  double seconds = 0;      // wall time of this run
};

// Estimated peak bytes of one rank's epoch: its share of the loss and
// gradient (fisher_loss_bytes) or the diagnostics' propagation, the larger.
double training_bytes(const ScoreNetOptions& network, const TrainingOptions& options, int world_size);

class Trainer {
 public:
  // A fresh model (parameters initialised from `options.seed`, then
  // broadcast from rank 0) on `device`.
  Trainer(ModelArgs model, TrainingOptions options, Communicator& communicator,
          const torch::Device& device = torch::kCPU);
  // Continues from a checkpoint: parameters, Adam state, learning rate,
  // plateau state, RNG state and loss history, so that the run goes on bit
  // for bit. Throws if its architecture or system differs from this
  // trainer's, or (std::runtime_error naming the key) if the state is
  // incomplete or inconsistent: no generator state, Adam moments or step
  // missing or not matching the epoch, a negative epoch, a loss history of
  // another length than the epoch, a learning rate that is not > 0.
  void resume(const Checkpoint& checkpoint, const std::string& source);
  // A new run (epoch 0, fresh Adam, generator and history) from a
  // checkpoint's parameters only; its checkpoints' provenance says so.
  void start_from_weights(const Checkpoint& checkpoint, const std::string& source);

  // Runs options.n_epochs epochs. `log` receives the header and epoch lines
  // (rank 0); `stop_requested` is polled after every epoch (any rank asking
  // stops all of them after the same epoch).
  TrainingResult run(std::ostream& log, const std::function<bool()>& stop_requested = {});

  ScoreNetImpl& network() { return *model_.network; }
  const System& system() const { return *model_.system; }
  int64_t epoch() const { return epoch_; }
  double lr() const { return lr_; }
  const std::vector<double>& losses() const { return losses_; }
  Checkpoint checkpoint() const;  // the complete training state

 private:
  std::vector<int64_t> draw_selected_steps();
  torch::Tensor draw_initial_positions();  // the whole batch of an epoch (options_.sampling)
  std::string save(const std::string& path) const;  // rank 0 writes; every rank returns `path`
  // The phases of run().
  void log_header(std::ostream& log, int64_t total_epochs) const;
  struct ReducedStep {
    double loss = 0;                        // mean over all ranks' particles
    bool stop = false;                      // some rank was asked to stop
    std::vector<torch::Tensor> gradients;   // mean over ranks, in parameters_ order
  };
  ReducedStep reduced_loss_and_gradient(const std::function<bool()>& stop_requested);
  void log_epoch(std::ostream& log, int64_t total_epochs, double loss, double grad_norm,
                 double seconds_per_epoch) const;

  ModelArgs args_;
  TrainingOptions options_;
  Communicator& communicator_;
  torch::Device device_;
  Model model_;
  std::vector<torch::Tensor> parameters_;  // in named_parameters_in_order() order
  std::vector<std::string> names_;
  Adam adam_;
  PlateauSchedule plateau_;
  torch::Generator generator_;
  double lr_;
  int64_t epoch_ = 0;
  std::vector<double> losses_;
  std::string origin_;  // where the weights came from, for the provenance ("" : initialised here)
};

}  // namespace bohmflow
