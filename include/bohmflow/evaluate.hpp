// Ensemble observables of propagated particles: per-coordinate means and
// standard deviations, and the ensemble energy ⟨½m|v|² + V + Q⟩, at chosen steps.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <torch/types.h>

#include "bohmflow/trajectory.hpp"

namespace bohmflow {

class Harmonic;
class Npz;
class System;

struct EnsembleMoments {
  std::vector<int64_t> steps;  // leapfrog step indices
  torch::Tensor t;             // (K) times
  torch::Tensor means;         // (K, d) ⟨x_i⟩
  torch::Tensor sigmas;        // (K, d) population standard deviation of x_i
  torch::Tensor energy;        // (K) ensemble-mean energy
};

// `count` step indices evenly spaced on [0, n_steps] (rounded; at most n_steps + 1).
std::vector<int64_t> evenly_spaced_steps(int64_t n_steps, int64_t count);

// With `weights` (M, summing to 1; e.g. a quadrature's) the moments are
// weighted; without, every particle counts 1/M.
EnsembleMoments ensemble_moments(const Propagation& propagation, const std::vector<int64_t>& steps,
                                 const torch::Tensor& weights = {});

// The same moments of x0 (M, d) propagated options.chunk_size particles at a
// time, keeping one chunk's trajectories: memory is bounded by the chunk, not
// by M, and the result is bit for bit ensemble_moments(propagate(system,
// network, x0, options), steps, weights). `progress` (if set) gets (particles
// done, M) after each chunk.
EnsembleMoments propagated_moments(const System& system, const ScoreNetImpl& network, const torch::Tensor& x0,
                                   const TrajectoryOptions& options, const std::vector<int64_t>& steps,
                                   const torch::Tensor& weights = {},
                                   const std::function<void(int64_t, int64_t)>& progress = {});
// Its estimated peak bytes for M particles: one chunk's propagation_bytes
// (trajectory.hpp) and the positions and weights of all M. Figure 4's run
// (d = 4, 128×128, M = 20 000, chunk 1024) estimates 0.23 GB and peaks at
// 0.35 GB resident, of which LibTorch itself holds about 0.15 GB.
double propagated_moments_bytes(int64_t M, const ScoreNetOptions& network, const TrajectoryOptions& options);

// How near the flow x₀ ↦ x(t) comes to folding. A caustic is where
// F = ∂x/∂x₀ turns singular; |det F| (the reference's caustic mask) sees it only
// while no other direction stretches. At d = 8 the bosons' relative coordinates
// stretch det F ten-thousandfold while single directions fold
// (docs/benchmarks.md, *Where the learned flow folds*); the smallest singular
// value of F sees both. Every particle counts equally (mc or Sobol points, not
// a weighted rule).
struct FoldStatistics {
  torch::Tensor t;               // (K) times
  torch::Tensor levels;          // (Q) quantile levels q in [0, 1]
  torch::Tensor abs_det_F;       // (K, Q) the q-quantile over particles of |det F|
  torch::Tensor min_singular_F;  // (K, Q) of σ_min(F)
  torch::Tensor condition_F;     // (K, Q) the (1 − q)-quantile of σ_max(F)/σ_min(F): the worst first
};
FoldStatistics fold_statistics(const Propagation& propagation, const std::vector<int64_t>& steps,
                               const std::vector<double>& levels);

// Exact moments to compare with: per-coordinate means and variances at times t.
struct ReferenceMoments {
  torch::Tensor t;      // (K)
  torch::Tensor means;  // (K, d) ⟨x_i⟩
  torch::Tensor vars;   // (K, d) var(x_i)
  std::string source;   // "closed form" or the FFT file's name
};

// A Gaussian wave packet in the harmonic system, per axis (v₀ = ħc/m):
//   mean(t) = a + (μ₀ − a) cos ωt + (v₀/ω) sin ωt
//   var(t)  = σ² cos² ωt + ħ²/(4σ²m²ω²) sin² ωt
ReferenceMoments harmonic_moments(const Harmonic& system, const torch::Tensor& t);

// The closed form where the system has one: the harmonic system, and the
// interacting bosons at g = 0 (their trap alone). Throws std::invalid_argument
// naming the system otherwise.
ReferenceMoments closed_form_moments(const System& system, const torch::Tensor& t);

// The moments of an FFT reference file (compute_fft_reference) at times t;
// each must be one of the file's stored times (to 1e-9), else an error
// naming the file and the time.
ReferenceMoments fft_moments(const Npz& fft, const torch::Tensor& t, const std::string& name);

// Learned against reference moments over the K times and d coordinates.
struct MomentErrors {
  double max_mean_error = 0;     // max_{t,i} |Δ⟨x_i⟩|
  double max_rel_var_error = 0;  // max_{t,i} |Δvar_i| / var_i
  // L2 norms over the time grid (DSM reports L2-type errors of the moments;
  // the means of a symmetric system are 0, so theirs is absolute):
  double rms_mean_error = 0;     // sqrt(mean_t |Δ⟨x⟩(t)|²), |·| the norm over coordinates
  double rel_l2_var_error = 0;   // ‖Δvar‖₂ / ‖var‖₂ over all times and coordinates
};
MomentErrors moment_errors(const EnsembleMoments& learned, const ReferenceMoments& reference);

}  // namespace bohmflow
