// Score network s_θ(x, t) = s_base(x, t) + ∇ₓφ_θ(x, t).
//
// φ_θ is an MLP with softplus activations and a scalar output. Time enters
// through e(t) = [sin(f_k t)…, cos(f_k t)…], f_k = 2^k, k = 0…n_freq−1:
//   FiLM (default):  h ← (1 + γ) ⊙ softplus(h W + b) + β,  γ = e W_γ + b_γ,  β = e W_β + b_β
//   concat:          the first layer reads [x, e(t)], then h ← softplus(h W + b)
//   output:          φ = h W_out + b_out
// With symmetry "permutation" the MLP reads the sorted coordinates,
//   φ_θ(x, t) = MLP(sort(x), t),
// so φ is invariant under every exchange of coordinates and s, ∇s, … are
// equivariant: identical particles in one dimension (the interacting
// bosons). The MLP then only has to represent the fundamental domain
// x_1 ≤ … ≤ x_d, a d!-th of the space, and the ensemble it moves stays
// exactly exchange-symmetric. The price: φ's gradient can jump across the
// planes x_i = x_j, which the pointwise Fisher loss does not see
// (docs/benchmarks.md, *The exchange-symmetric network*). (The baseline is
// added in the original coordinates; for exchange symmetry it must be
// symmetric itself.)
// With symmetry "deepsets" the first hidden layer is a per-particle encoder
// whose outputs are averaged over the particles before the next layer:
//   φ_θ(x, t) = MLP'( (1/d) Σ_i enc(x_i, t), t ),   enc = the first FiLM/softplus layer on one x_i,
// invariant under exchanges and smooth everywhere (no kink on x_i = x_j, so
// the velocities of two coinciding particles agree, as for the exact
// bosonic state). With pair_width > 0 a pair encoder joins it,
//   φ_θ(x, t) = MLP'( (1/d) Σ_j enc(x_j, t) ⊕ (1/(d(d−1))) Σ_{i≠j} enc₂(x_i − x_j, t), t ),
// which gives the pair correlations the interaction builds a direct route.
// Each encoder unit depends on one coordinate (or one difference), so its
// derivative streams are ∂_j^n (or lie within {i, j}) and the jets start at
// the pooled layer (JetLayout::pooled_layer, pooled_pair_layer).
// The quantum potential and the Bohmian acceleration that follow from s are
// in bohmian_dynamics.hpp.
//
// Derivatives in x are propagated forward through the layers as jets (see
// src/jets.hpp): exact, batched over particles, one GEMM per layer, and
// differentiable once in θ by reverse-mode autograd (the softplus layers
// bring their own backward; a second derivative through them throws).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "bohmflow/baseline.hpp"
#include "bohmflow/option_words.hpp"

namespace bohmflow {

namespace detail {
class JetLayout;
}

// How φ reads t: FiLM modulation of every hidden layer (the reference's) or
// the Fourier features concatenated to x.
enum class Conditioning { kFilm, kConcat };
template <>
struct OptionWords<Conditioning> {
  static constexpr const char* option = "conditioning";
  static constexpr std::pair<Conditioning, const char*> words[] = {{Conditioning::kFilm, "film"},
                                                                    {Conditioning::kConcat, "concat"}};
};

// Exchange symmetry of φ (above): none, sorted coordinates, or deep sets.
enum class Symmetry { kNone, kPermutation, kDeepSets };
template <>
struct OptionWords<Symmetry> {
  static constexpr const char* option = "symmetry";
  static constexpr std::pair<Symmetry, const char*> words[] = {
      {Symmetry::kNone, "none"}, {Symmetry::kPermutation, "permutation"}, {Symmetry::kDeepSets, "deepsets"}};
};

struct ScoreNetOptions {
  int d = 4;                             // spatial dimension
  std::vector<int64_t> hidden_dims = {128, 128};  // widths of the hidden layers
  int n_freq = 4;                        // Fourier frequencies 2^0 … 2^(n_freq−1)
  Conditioning conditioning = Conditioning::kFilm;
  double output_scale = 0.01;            // std of the initial output weights
  Symmetry symmetry = Symmetry::kNone;   // permutation: φ reads sort(x); deepsets: the particles' mean encoding
  int64_t pair_width = 0;                // "deepsets": units of the pair encoder enc₂(x_i − x_j); 0 = none
  void validate() const;
};

// How the softplus layers propagate the jets: "fused", the AVX2 kernel
// (float64 on the CPU, the fast path there); "generic", ATen tensor
// operations on any device and dtype (GPUs, float32); "auto", fused where it
// applies and generic elsewhere. Both give the same numbers to rounding.
enum class JetEngine { kAuto, kFused, kGeneric };
template <>
struct OptionWords<JetEngine> {
  static constexpr const char* option = "jet engine";
  static constexpr std::pair<JetEngine, const char*> words[] = {
      {JetEngine::kAuto, "auto"}, {JetEngine::kFused, "fused"}, {JetEngine::kGeneric, "generic"}};
};

// The floating dtype of a computation: "float64" (the reference's) or
// "float32" (GPUs without fast float64); checkpoints store float64 either way.
torch::Dtype parse_dtype(const std::string& name);
std::string dtype_name(torch::Dtype dtype);

// How a network computes, not what it is: either choice gives the same
// numbers to rounding, so neither is part of the architecture.
struct ComputeOptions {
  JetEngine jets = JetEngine::kAuto;     // the jet engine of the softplus layers
  torch::Dtype dtype = torch::kFloat64;  // float64 (the reference's) or float32
  // Names the offending option; jets 'fused' needs float64 on the CPU.
  void validate(const torch::Device& device = torch::kCPU) const;
};

// How many x-derivatives an evaluation carries (each level includes the previous).
enum class ScoreOrder {
  kScore = 1,     // s only (plain reverse-mode gradient of φ; inference without Q)
  kForce = 3,     // s, ∇s, ∇Δφ: the Bohmian acceleration (∇Δφ traced, not from ∇³φ)
  kJacobian = 4,  // + ∇²Δφ, ∂_s∇³φ: the Jacobian of the acceleration (F/G)
  kTangent = 5,   // + ∇³Δφ: its derivative along the flow (x₀-tangents)
};

// Per-particle derivatives of the score, dense, float64 by default.
struct ScoreDerivatives {
  torch::Tensor score;        // s = s_base + ∇φ: (M, d)
  torch::Tensor jacobian;     // S = ∇s = −B + ∇²φ: (M, d, d), symmetric          [kForce]
  torch::Tensor grad_lap;     // ∇Δφ: (M, d)                                      [kForce]
  torch::Tensor third;        // ∇³φ: (M, d, d, d)                                [kJacobian]
  torch::Tensor hess_lap;     // ∇²Δφ: (M, d, d)                                  [kJacobian]
  torch::Tensor third_s;      // Σ_i s_i ∂_i∇³φ: (M, d, d, d) (4th order along s) [kJacobian]
  torch::Tensor grad3_lap;    // ∇³Δφ: (M, d, d, d)                               [kTangent]
};

class ScoreNetImpl : public torch::nn::Module {
 public:
  // The baseline is fixed (not trained); pass GaussianBaseline with kind
  // "none" for a pure network.
  ScoreNetImpl(const ScoreNetOptions& options, std::shared_ptr<const GaussianBaseline> baseline);
  ~ScoreNetImpl() override;

  // φ_θ(x, t) by a plain forward pass. x: (M, d) → (M). The autograd oracle.
  torch::Tensor potential(const torch::Tensor& x, double t) const;
  // s_θ(x, t). x: (M, d) → (M, d). Differentiable in θ (and in x).
  torch::Tensor score(const torch::Tensor& x, double t) const;
  // Score derivatives up to `order`, propagated as jets.
  ScoreDerivatives derivatives(const torch::Tensor& x, double t, ScoreOrder order) const;

  // The jet engine of derivatives() (default kAuto). kFused on parameters
  // other than float64 CPU ones is refused when derivatives() runs.
  void set_jet_engine(JetEngine engine) { jet_engine_ = engine; }
  JetEngine jet_engine() const { return jet_engine_; }

  // e(t): (2 n_freq), on the parameters' device and dtype.
  torch::Tensor time_embedding(double t) const;

  const ScoreNetOptions& options() const { return options_; }
  const GaussianBaseline& baseline() const { return *baseline_; }
  std::shared_ptr<const GaussianBaseline> baseline_ptr() const { return baseline_; }
  // Parameters in checkpoint order with their stable names ("spatial_0_W", …).
  std::vector<std::pair<std::string, torch::Tensor>> named_parameters_in_order() const;
  // Re-draws the initial weights from the current torch generator state.
  void reset_parameters();

 private:
  struct Layer {
    torch::Tensor W, b;                        // spatial: (in, h), (h)
    torch::Tensor gamma_W, gamma_b, beta_W, beta_b;  // FiLM: (2 n_freq, h), (h)
  };
  // Per-layer (scale, shift) of the activations at time t: (1+γ, β) or (1, 0).
  std::pair<torch::Tensor, torch::Tensor> modulation(const Layer& layer, const torch::Tensor& e) const;
  // First-layer pre-activation z = x W_x (+ e W_e) + b, and W_x.
  std::pair<torch::Tensor, torch::Tensor> first_preactivation(const torch::Tensor& x,
                                                              const torch::Tensor& e) const;
  const detail::JetLayout& layout(ScoreOrder order) const;
  // "deepsets": the encoders' pre-activations z (M, d, h₀) and z_pair
  // (M, d, d, h₂) with their weights w, w_pair on the input, the pooled
  // features h (M, h₀ + h₂) and their FiLM scale (h₀ + h₂).
  struct Encoding {
    torch::Tensor z, w, z_pair, w_pair, h, scale;
  };
  Encoding encode(const torch::Tensor& x, const torch::Tensor& e) const;

  ScoreNetOptions options_;
  std::shared_ptr<const GaussianBaseline> baseline_;
  std::vector<Layer> layers_;
  Layer pair_;  // "deepsets" with pair_width > 0: the pair encoder
  torch::Tensor output_W_, output_b_;
  torch::Tensor frequencies_;  // buffer: 2^k
  mutable std::vector<std::unique_ptr<detail::JetLayout>> layouts_;  // cache per order
  JetEngine jet_engine_ = JetEngine::kAuto;
};
TORCH_MODULE(ScoreNet);

}  // namespace bohmflow
