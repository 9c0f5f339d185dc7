// Taylor-mode "jets" of an MLP with respect to its d-dimensional input.
//
// For every hidden unit we carry, batched over particles, the symmetric
// derivative tensors up to a full order (one coefficient per sorted
// multi-index, e.g. ∂₀∂₀∂₂ for (0,0,2)) and, where the caller needs a
// Laplacian, traced entries ∂_βΔ (one coefficient per sorted β): ∇Δ for the
// acceleration (d streams instead of the d(d+1)(d+2)/6 of the full third
// order), ∇³Δ for the tangent equations. A softplus layer a = σ(z)
// maps them by Faà di Bruno's formula,
//     ∂_α a = Σ_{π ∈ partitions(α)} σ^{(|π|)}(z) Π_{B ∈ π} ∂_B z,
// and for the traced entries ∂_β Δa = Σ_i ∂_{β i i} a the two traced slots
// either share a block (a factor ∂_{B'} Δz) or sit in different blocks (a
// pair contraction P(A, B) = Σ_i ∂_{A i} z ∂_{B i} z). A linear layer maps
// every stream by the same W, so one GEMM per layer moves all of them.
//
// The layout enumerates all partitions once per (d, level) and lists the
// resulting products as terms (output, σ order, multiplicity, ≤ 4 factors).
// A layer evaluates all terms in one fused pass over cache-sized blocks of
// the M×H (particle, unit) pairs, and its backward is the product rule over
// the same terms, written out: no autograd graph inside the layer, and no
// gathered copies of the factors. Streams are the leading axis, (S, M, H),
// so that a block of every stream is contiguous and a layer's GEMM is one
// (S·M, H) × (H, H') product.
#pragma once

#include <algorithm>
#include <array>
#include <string>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include <torch/types.h>

namespace bohmflow {
namespace detail {

// What the caller needs, in increasing cost.
enum class JetLevel {
  kGradient = 1,  // order 1: s only
  kForce = 3,     // orders 1–2 and traced ∇Δφ: s, ∇s, ∇Δφ (the Bohmian acceleration)
  kJacobian = 4,  // orders 1–4: + ∇³φ, ∇²Δφ, ∂_s∇²∇φ (the Jacobian of the acceleration)
  kTangent = 5,   // + traced ∇³Δφ (the x₀-tangents of the Jacobian)
};

// How softplus_layer evaluates its terms: the fused AVX2 kernel (float64 on
// the CPU, cache-sized blocks, one pass) or ATen tensor operations on any
// device and dtype (gathers and index_add over column blocks; the oracle and
// the GPU path). Both compute the same sums in the same order of terms.
enum class JetKernel { kFused, kGeneric };

// Table shapes shared by the table builder (jet_tables.cpp) and the kernels.
constexpr int kMaxFactors = 4;                      // factors of one Faà di Bruno term
constexpr int kTermColumns = 3 + kMaxFactors;       // output, σ order, n factors, factor ids
constexpr int64_t kFirstRows = 4;                   // rows of [W; 1] per stream: order 4 or traced |β| = 3

class JetLayout {
 public:
  JetLayout(int d, JetLevel level);

  int dim() const { return d_; }
  JetLevel level() const { return level_; }
  int64_t num_streams() const { return static_cast<int64_t>(entries_.size()); }
  // Highest order carried in full: 1, 2, 4, 4 for kGradient … kTangent.
  int max_order() const { return max_order_; }
  // |β| of the traced entries ∂_βΔ: 1 for kForce, 3 for kTangent, −1 for none.
  int traced_order() const { return traced_order_; }
  bool has_traced() const { return traced_order_ >= 0; }
  // Highest σ derivative a layer needs: max(max_order, traced_order + 2).
  int max_sigma_order() const { return std::max(max_order_, traced_order_ + 2); }

  // Stream index of the full entry with this sorted multi-index (order 1…max_order).
  int64_t full(std::vector<int> alpha) const;
  // Stream index of the traced entry ∂_βΔ with |β| = traced_order.
  int64_t traced(std::vector<int> beta) const;

  // Streams of a = σ(z) at the first layer, where z = x W + b is linear in x:
  //   ∂_α a = σ^{(|α|)}(z) Π_{i∈α} W_i,   ∂_β Δa = σ^{(|β|+2)}(z) Π_{i∈β} W_i Σ_j W_j².
  // z: (M, H) pre-activations, W: (d, H) spatial weights. Returns (S, M, H).
  torch::Tensor first_layer(const torch::Tensor& z, const torch::Tensor& W) const;

  // Streams of z' = ((1/d) Σ_j σ(z_j)) W' after a per-particle encoder layer
  // z_jk = x_j w_k + c_k, whose units each depend on one coordinate: only the
  // pure streams ∂_j^n and ∂_j^{n−2}Δ (n = |α| + 2) of particle j's units are
  // non-zero, σ^{(n)}(z_jk) w_k^n. z: (M, d, h) pre-activations, w: (h),
  // W_scaled: (h, H') the next weights with the mean's 1/d (and any
  // per-unit scale) folded in. Returns (S, M, H'), differentiable by autograd.
  torch::Tensor pooled_layer(const torch::Tensor& z, const torch::Tensor& w,
                             const torch::Tensor& W_scaled) const;

  // The same after a pair encoder z_ijk = (x_i − x_j) w_k + c_k over the
  // ordered pairs i ≠ j: a unit of pair (i, j) has ∂_i = w, ∂_j = −w, so its
  // stream α is non-zero only if α lies within {i, j}:
  //   σ^{(n)}(z_ijk) w_k^n (−1)^{#j in α} (2 for a traced stream, Δ giving w² + w²).
  // z: (M, d, d, h) (the diagonal is ignored), w: (h), W_scaled: (h, H')
  // with the mean's 1/(d(d−1)) folded in. Returns (S, M, H').
  torch::Tensor pooled_pair_layer(const torch::Tensor& z, const torch::Tensor& w,
                                  const torch::Tensor& W_scaled) const;

  // Streams of a = σ(z) from the streams of z. z: (M, H), Xz: (S, M, H)
  // (kFused: float64 on the CPU). Differentiable once in z and Xz (reverse
  // mode; the hand-written backward is not itself differentiable).
  torch::Tensor softplus_layer(const torch::Tensor& z, const torch::Tensor& Xz,
                               JetKernel kernel = JetKernel::kFused) const;

  // Dense per-particle tensors from the output streams X: (S, M) of a scalar function.
  torch::Tensor gradient(const torch::Tensor& X) const;      // (M, d)
  torch::Tensor hessian(const torch::Tensor& X) const;       // (M, d, d)
  torch::Tensor third(const torch::Tensor& X) const;         // (M, d, d, d), kJacobian+
  torch::Tensor fourth(const torch::Tensor& X) const;        // (M, d, d, d, d), kJacobian+
  // ∇^k Δ at the traced order k: ∇Δ (M, d) for kForce, ∇³Δ (M, d, d, d) for kTangent.
  torch::Tensor laplacian_derivatives(const torch::Tensor& X) const;

 private:
  struct FaaDiBruno;         // the autograd Function of softplus_layer (kFused)
  struct GenericFaaDiBruno;  // the same in ATen operations (kGeneric), jets_generic.cpp
  torch::Tensor generic_softplus_layer(const torch::Tensor& z, const torch::Tensor& Xz) const;
  // The index tables on one device: copied there once, so that no layer call
  // moves them from the host again (on a GPU each copy would wait for the
  // queued work).
  struct DeviceTables {
    torch::Tensor first_rows, first_traced, stream_order, pure_slab, pair_slab, pair_factor;
    std::vector<torch::Tensor> dense_index;
    torch::Tensor traced_dense_index;
    // kGeneric: the flattened extended-factor tables and the terms grouped by
    // their number of factors n = 1…4: output, σ order (T_n), factor ids
    // (n, T_n), multiplicities (T_n, float64).
    torch::Tensor traced_lower, pair_left, pair_right;
    std::array<torch::Tensor, 4> term_output, term_sigma, term_factors, term_coefficients;
  };
  const DeviceTables& tables(const torch::Device& device) const;
  // The tables, built once by the constructor (jet_tables.cpp).
  void build_tables();
  void build_term_tables();
  void build_layer_tables();
  void build_dense_tables();
  torch::Tensor dense(const torch::Tensor& X, const torch::Tensor& index, int order) const;
  torch::Tensor full_dense(const torch::Tensor& X, int order) const;

  int d_;
  JetLevel level_;
  int max_order_, traced_order_;
  std::vector<std::vector<int>> entries_;  // multi-index of each stream
  std::vector<bool> entry_traced_;
  std::map<std::vector<int>, int64_t> full_index_, traced_index_;

  // Extended factors beyond the streams (ids S, S+1, …): traced lower
  // entries ∂_{β'}Δz (|β'| < traced order), then pair contractions P(A, B).
  torch::Tensor traced_lower_;  // (n_tl, d): stream indices summed over the last axis
  torch::Tensor pair_left_, pair_right_;  // (n_p, d)
  // Terms, one row each: output stream, σ order, number of factors, then up
  // to 4 factor ids (−1 pads); and their multiplicities.
  torch::Tensor terms_;         // (n_terms, 7) int64
  torch::Tensor coefficients_;  // (n_terms) float64
  // First-layer tables: per stream the padded row indices into [W; 1] (S, 4)
  // and whether the stream is traced; σ order per stream.
  torch::Tensor first_rows_, first_traced_, stream_order_;
  // pooled_layer: per stream (n − 1)·d + j for a pure stream of order n in
  // axis j, or max_sigma_order·d (a zero slab) for a mixed one.
  torch::Tensor pure_slab_;
  // pooled_pair_layer: per stream two slab indices and their signed factors
  // (see pooled_pair_layer in jets.cpp).
  torch::Tensor pair_slab_, pair_factor_;  // (S, 2) int64, (S, 2) float64
  std::vector<torch::Tensor> dense_index_;  // per full order 1…max_order: dense → stream
  torch::Tensor traced_dense_index_;        // traced: dense β → stream
  mutable std::mutex tables_mutex_;
  mutable std::map<std::string, std::shared_ptr<const DeviceTables>> device_tables_;  // by device
};

// Softplus derivatives σ^{(k)}(z), k = 0…max_k, stacked: (max_k+1, …z's shape).
torch::Tensor softplus_derivatives(const torch::Tensor& z, int max_k);

}  // namespace detail
}  // namespace bohmflow
