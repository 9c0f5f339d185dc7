// Fisher divergence between the network's score and the score of the density
// it transports:
//   L = mean_p [ mask_p · (1/K) Σ_{n∈selected} |s_θ(x_n, t_n) − y_n|² ],
//   y_n = ∇ ln ρ_θ(x_n, t_n) = F_n⁻ᵀ [s₀(x₀) − ∇_{x₀} ln|det F_n|],
//   ∂_{x₀m} ln|det F_n| = tr(F_n⁻¹ Ḟ_{n,m}),
// solved with F_n + 1e−8·I, each component of y clipped to ±target_clip, and
// mask_p = 0 for a particle whose fold measure (|det F_n|, or σ_min(F_n): see
// caustic_measure) is below caustic_threshold at any selected step (the mean
// still divides by all M particles). The gradient flows through the target too.
//
// The parameter gradient is reverse mode through the whole trajectory with
// per-step recomputation: the forward pass keeps only the leapfrog state of
// every step; the backward pass re-runs one step at a time with a graph and
// pulls the adjoint of the state back through it. Memory is
// O(chunk × n_steps × state) + one step's graph, never n_steps graphs.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <torch/types.h>

#include "bohmflow/sampling.hpp"
#include "bohmflow/trajectory.hpp"

namespace bohmflow {

// The fold measure of the caustic mask (FisherLossOptions::caustic_measure).
enum class CausticMeasure { kDet, kSingular };
template <>
struct OptionWords<CausticMeasure> {
  static constexpr const char* option = "caustic_measure";
  static constexpr std::pair<CausticMeasure, const char*> words[] = {{CausticMeasure::kDet, "det"},
                                                                      {CausticMeasure::kSingular, "singular"}};
};

// FisherLossOptions::chunk_size's default. On a CPU, sweeps of kCpuChunk
// particles keep the jets cache-sized. On a GPU a sweep costs its kernel
// launches whatever its size (on an H200, 256 particles took 0.23 s per
// 11-step sweep at M = 512 and at M = 5000: docs/performance.md), so a GPU
// sweeps as many particles as it can hold (loss_chunk).
constexpr int64_t kAutoChunk = -1;
constexpr int64_t kCpuChunk = 256;

struct FisherLossOptions {
  double caustic_threshold = 0.1;  // drop particles whose fold measure falls below this at a selected step
  // The fold measure: "det", |det F| (the reference's); "singular", the
  // smallest singular value of F. A caustic is where F turns singular; |det F|
  // sees that only while no other direction stretches, and at d = 8 the bosons'
  // relative coordinates stretch det F ten-thousandfold while single directions
  // fold (docs/benchmarks.md, *Where the learned flow folds*). σ_min sees both.
  CausticMeasure caustic_measure = CausticMeasure::kDet;
  double target_clip = 100.0;      // clip each target component to ±target_clip
  // Particles per sweep; bounds memory (d=4, 128×128, 256 particles: ~2 GB
  // peak RSS). kAutoChunk: kCpuChunk on a CPU, on a GPU the most that fit; 0: all.
  int64_t chunk_size = kAutoChunk;
  void validate() const;
};

struct FisherLossResult {
  double loss = 0;              // L
  double min_abs_det_F = 0;     // min over particles and selected steps of |det F|
  double masked_fraction = 0;   // fraction of particles dropped by the caustic mask
};

// The fold measure of F (…, d, d) → (…) that the caustic mask compares with
// caustic_threshold (FisherLossOptions::caustic_measure).
torch::Tensor caustic_measure(const torch::Tensor& F, CausticMeasure measure);

// x0: (M, d) initial positions. selected: step indices in [0, n_steps]
// (empty: every step). With accumulate_gradient, dL/dθ is added to the
// network parameters' .grad().
FisherLossResult fisher_loss(const System& system, const ScoreNetImpl& network,
                             const torch::Tensor& x0, const TrajectoryOptions& trajectory,
                             const std::vector<int64_t>& selected, const FisherLossOptions& options,
                             bool accumulate_gradient);

// The particles per sweep fisher_loss takes for M particles on `device`:
// chunk_size when set (0: all M); for kAutoChunk, min(M, kCpuChunk) on a CPU
// and on a GPU largest_fitting_chunk with fisher_loss_bytes.
int64_t loss_chunk(int64_t M, const ScoreNetOptions& network, const TrajectoryOptions& trajectory,
                   const FisherLossOptions& options, const torch::Device& device);

// The first of M, ⌈M/2⌉, ⌈M/4⌉, … above `floor` for which `device` can
// allocate twice `bytes(chunk)` (a margin for the estimate; the probe goes
// back to LibTorch's caching allocator at once), else min(M, floor).
int64_t largest_fitting_chunk(int64_t M, int64_t floor, const std::function<double(int64_t)>& bytes,
                              const torch::Device& device);

// Estimated peak bytes of fisher_loss with the gradient on M particles: one
// chunk's leapfrog states (x, v, F, G, Ḟ, Ġ at every step), one step's graph
// with its tangent jets, and the M positions (kAutoChunk counts as a CPU's
// sweeps: host memory is what the check guards). For checks before allocating.
double fisher_loss_bytes(int64_t M, const ScoreNetOptions& network, const TrajectoryOptions& trajectory,
                         const FisherLossOptions& options);

// How much one batch's loss and gradient scatter around those of an infinite
// batch: `repeats` batches of sampling.count starting points drawn by
// `sampling` (seeds sampling.seed, sampling.seed + 1, …). It is what an epoch's
// batch rule buys (train_morse --sampling): for the same M, scrambled Sobol
// batches give a smaller gradient_variance than independent draws when the
// loss is smooth in x₀. Leaves the parameters' gradients zero.
struct GradientSpread {
  double loss_mean = 0;              // mean over batches of L
  double loss_std = 0;               // their standard deviation
  double mean_gradient_norm_sq = 0;  // |ḡ|², ḡ the mean of the batch gradients
  double gradient_variance = 0;      // mean over batches of |g − ḡ|²
};
GradientSpread gradient_spread(const System& system, const ScoreNetImpl& network,
                               const TrajectoryOptions& trajectory, const FisherLossOptions& options,
                               const SamplingOptions& sampling, int repeats);

}  // namespace bohmflow
