// The trainer's pieces that only it and its tests use (not installed): the
// print-time diagnostics, the log line the figure pipeline parses, and the
// names of per-epoch checkpoints.
#pragma once

#include <cstdint>
#include <string>

#include <torch/types.h>

#include "bohmflow/fisher_loss.hpp"
#include "bohmflow/potentials.hpp"
#include "bohmflow/score_network.hpp"
#include "bohmflow/trajectory.hpp"

namespace bohmflow::detail {

// Print-time diagnostics of the reference (evaluated on an independent batch).
struct TrainingDiagnostics {
  double E_mean = 0;         // mean over ~30 evenly spaced times of the ensemble-mean energy
  double E_std = 0;          // their standard deviation
  double min_abs_det_F = 0;  // min over particles and all steps of |det F|
  double min_singular_F = 0;  // min over particles and all steps of σ_min(F): a fold that det F hides
  double masked_fraction = 0;  // particles the caustic mask drops at some step
};
TrainingDiagnostics training_diagnostics(const System& system, const ScoreNetImpl& network,
                                         const torch::Tensor& x0, const TrajectoryOptions& trajectory,
                                         const FisherLossOptions& loss);

// The log line the figure pipeline parses, e.g.
// Epoch 100/45000: loss=7.123e-04, |grad|=0.0423, 0.18s/ep, lr=1.00e-03 | E_mean=2.3240, E_std=0.0004 | min|det F|=0.9412, min σ(F)=0.9134, masked=0.0000%
std::string format_epoch_line(int64_t epoch, int64_t total_epochs, double loss, double grad_norm,
                              double seconds_per_epoch, double lr, const TrainingDiagnostics& diagnostics);

// "<base>_ep<N>.npz" for checkpoint path "<base>.npz".
std::string epoch_checkpoint_path(const std::string& checkpoint_path, int64_t epoch);

}  // namespace bohmflow::detail
