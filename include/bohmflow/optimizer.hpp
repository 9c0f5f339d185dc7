// The optimiser of the reference's training loop: global-norm gradient
// clipping followed by Adam (optax.chain(clip_by_global_norm, adam)), and its
// reduce-on-plateau learning-rate schedule. Written out here rather than taken
// from torch::optim so that every piece of state is explicit, lands in the
// checkpoint, and resumes bit for bit.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <torch/types.h>

namespace bohmflow {

// Rescales `gradients` in place so that their global 2-norm is at most
// max_norm (optax.clip_by_global_norm: g ← g·max_norm/‖g‖ when ‖g‖ > max_norm;
// max_norm <= 0 leaves them alone). Returns ‖g‖ before clipping.
double clip_by_global_norm(std::vector<torch::Tensor>& gradients, double max_norm);

struct AdamOptions {
  double beta1 = 0.9;    // decay of the first moment
  double beta2 = 0.999;  // decay of the second moment
  double eps = 1e-8;     // added to sqrt(v̂)
};

// Adam with bias correction, as optax.adam:
//   m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²,  k ← k+1,
//   θ ← θ − lr · m̂/(sqrt(v̂) + ε),  m̂ = m/(1−β₁ᵏ),  v̂ = v/(1−β₂ᵏ).
class Adam {
 public:
  explicit Adam(AdamOptions options = {});

  // One update of `parameters` (in place, without autograd) from `gradients`.
  void step(const std::vector<torch::Tensor>& parameters, const std::vector<torch::Tensor>& gradients,
            double lr);

  // State, keyed by parameter name (for checkpoints); moments are created
  // as zeros on the first step when absent.
  int64_t step_count() const { return step_count_; }
  void set_state(std::vector<torch::Tensor> m, std::vector<torch::Tensor> v, int64_t step_count);
  const std::vector<torch::Tensor>& first_moments() const { return m_; }
  const std::vector<torch::Tensor>& second_moments() const { return v_; }

 private:
  AdamOptions options_;
  std::vector<torch::Tensor> m_, v_;
  int64_t step_count_ = 0;
};

struct PlateauOptions {
  int64_t patience = 500;  // epochs; also the window of the smoothed loss; 0 disables the schedule
  double factor = 0.5;     // lr ← max(lr·factor, min_lr) on a plateau
  double min_lr = 1e-6;    // floor of the learning rate
  void validate() const;
};

// Reduce-on-plateau as in the reference: once `patience` losses exist, the
// mean of the last `patience` losses is compared with the best such mean
// times 0.999; after `patience` epochs without improvement the learning rate
// is multiplied by `factor` (not below min_lr) and the comparison restarts
// from the current mean.
class PlateauSchedule {
 public:
  explicit PlateauSchedule(PlateauOptions options = {});
  // Call after appending an epoch's loss to `losses`; returns the new lr.
  double update(const std::vector<double>& losses, double lr);

  // State for checkpoints.
  double best() const { return best_; }  // +inf until the first full window
  int64_t wait() const { return wait_; }  // epochs since the last improvement
  void set_state(double best, int64_t wait);

 private:
  PlateauOptions options_;
  double best_;
  int64_t wait_ = 0;
};

}  // namespace bohmflow
