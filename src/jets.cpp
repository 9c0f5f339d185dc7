#include "jets.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <stdexcept>
#include <tuple>
#include <type_traits>

#include <torch/torch.h>

namespace bohmflow {
namespace detail {
namespace {

// σ = log(1 + eᶻ); with p = sigmoid(z), q = p(1 − p), and p' = q, q' = q(1 − 2p):
//   σ' = p,  σ⁽ᵏ⁾ = q R_k(p) (k ≥ 2),  R_2 = 1,  R_{k+1} = (1 − 2p) R_k + q R_k',
// e.g. R_3 = 1 − 2p, R_4 = 1 − 6p + 6p², R_5 = 1 − 14p + 36p² − 24p³.
// Returns the coefficients of R_k in powers of p for k = 2…max_k (R[0], R[1] empty).
std::vector<std::vector<double>> sigma_polynomials(int max_k) {
  std::vector<std::vector<double>> R(std::max(max_k, 2) + 1);
  R[2] = {1.0};
  for (int k = 2; k < max_k; ++k) {
    std::vector<double> next(R[k].size() + 1, 0.0);
    for (size_t n = 0; n < R[k].size(); ++n) {
      const double r = R[k][n];
      next[n] += r;          // (1 − 2p) r pⁿ
      next[n + 1] -= 2 * r;
      next[n] += n * r;      // (p − p²) n r pⁿ⁻¹
      next[n + 1] -= n * r;
    }
    R[k + 1] = std::move(next);
  }
  return R;
}

// Σ_n c_n pⁿ, for a tensor or a double p.
template <class T>
T horner(const std::vector<double>& c, const T& p) {
  T value = p * 0.0 + c.back();
  for (size_t n = c.size() - 1; n-- > 0;) value = value * p + c[n];
  return value;
}

// ---- The fused Faà di Bruno kernels -------------------------------------
//
// A layer's output streams are Σ_terms c σ^{(k)}(z) Π_b F_b over the terms of
// the layout, F_b a stream of z or an extended factor. Both passes walk the
// M·H (particle, unit) pairs in blocks short enough that every stream's slice
// of a block stays in cache, and compute the extended factors of a block on
// the fly.

// The block kernels are compiled twice, for x86-64-v3 (AVX2 + FMA: four
// doubles a lane) and for the baseline, and the loader picks one per machine;
// everything they call is inlined into them, so it follows the same choice.
#if defined(__GNUC__) && defined(__x86_64__) && defined(__linux__)
#define BOHMFLOW_KERNEL_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define BOHMFLOW_KERNEL_CLONES
#endif
#define BOHMFLOW_INLINE __attribute__((always_inline)) inline
#define BOHMFLOW_INLINE_LAMBDA __attribute__((always_inline))

constexpr int64_t kBlock = 128;     // (particle, unit) pairs per block

// Read-only views of a layout's tables and of one call's tensors.
struct KernelTables {
  int64_t S, d, n_tl, n_p, n_terms, MH;
  int max_sigma;
  const int64_t* terms;
  const double* coefficients;
  const int64_t *traced_lower, *pair_left, *pair_right;
  std::vector<std::vector<double>> R;  // σ polynomials up to max_sigma + 1 (the backward's)
};

// σ^{(k)} over a block, k = 1…K, into sigma[k·L + j] (row 0 unused).
BOHMFLOW_INLINE void sigma_block(const KernelTables& t, const double* z, int64_t L, int K, double* sigma) {
  for (int64_t j = 0; j < L; ++j) {
    const double p = 1.0 / (1.0 + std::exp(-z[j]));
    const double q = p * (1.0 - p);
    sigma[L + j] = p;
    for (int k = 2; k <= K; ++k) sigma[k * L + j] = q * horner(t.R[k], p);
  }
}

// The extended factors of a block: E[m·L + j], traced lower entries then pairs,
//   ∂_{β'}Δz = Σ_i ∂_{β' i i} z,   P(A, B) = Σ_i ∂_{A i} z ∂_{B i} z.
BOHMFLOW_INLINE void extended_block(const KernelTables& t, const double* X, int64_t j0, int64_t L, double* E) {
  std::fill(E, E + (t.n_tl + t.n_p) * L, 0.0);
  for (int64_t m = 0; m < t.n_tl; ++m) {
    double* e = E + m * L;
    for (int64_t i = 0; i < t.d; ++i) {
      const double* x = X + t.traced_lower[m * t.d + i] * t.MH + j0;
      for (int64_t j = 0; j < L; ++j) e[j] += x[j];
    }
  }
  for (int64_t m = 0; m < t.n_p; ++m) {
    double* e = E + (t.n_tl + m) * L;
    for (int64_t i = 0; i < t.d; ++i) {
      const double* a = X + t.pair_left[m * t.d + i] * t.MH + j0;
      const double* b = X + t.pair_right[m * t.d + i] * t.MH + j0;
      for (int64_t j = 0; j < L; ++j) e[j] += a[j] * b[j];
    }
  }
}

// out += c σ Π_b F_b over a block.
template <int N>
BOHMFLOW_INLINE void term_forward(double* out, double c, const double* sigma, const double* const* F, int64_t L) {
  const double* f[N];
  std::copy(F, F + N, f);
  for (int64_t j = 0; j < L; ++j) {
    double v = c * sigma[j];
    for (int b = 0; b < N; ++b) v *= f[b][j];
    out[j] += v;
  }
}

// The same term's share of the backward, with g the gradient of its output:
//   dσ += c g Π_b F_b,   dF_b += c g σ Π_{b' ≠ b} F_{b'}
// (prefix and suffix products, one pass). A factor may repeat within a term,
// so two dF_b may be the same slice; distinct slices never overlap, hence no
// dependence between iterations (ivdep).
template <int N>
BOHMFLOW_INLINE void term_backward(const double* g, double c, const double* sigma, const double* const* F,
                   double* d_sigma, double* const* dF, int64_t L) {
  const double* f[N];
  double* df[N];
  std::copy(F, F + N, f);
  std::copy(dF, dF + N, df);
#pragma GCC ivdep
  for (int64_t j = 0; j < L; ++j) {
    const double cg = c * g[j];
    double prefix[N + 1];
    prefix[0] = 1.0;
    for (int b = 0; b < N; ++b) prefix[b + 1] = prefix[b] * f[b][j];
    d_sigma[j] += cg * prefix[N];
    double suffix = cg * sigma[j];
    for (int b = N - 1; b >= 0; --b) {
      df[b][j] += prefix[b] * suffix;
      suffix *= f[b][j];
    }
  }
}

// Calls visit(std::integral_constant<int, n>) for a term's n = 1…4 factors,
// so that the loops over a block are unrolled for each n.
template <class Visit>
BOHMFLOW_INLINE void with_factor_count(int n, const Visit& visit) {
  switch (n) {
    case 1: visit(std::integral_constant<int, 1>{}); break;
    case 2: visit(std::integral_constant<int, 2>{}); break;
    case 3: visit(std::integral_constant<int, 3>{}); break;
    default: visit(std::integral_constant<int, 4>{}); break;
  }
}

// Factor f's slice of the block at j0: a stream of `streams` (S, M·H), or
// row f − S of the block's extended buffer (n_ext, L). For values and gradients alike.
template <class T>
BOHMFLOW_INLINE T* factor_block(const KernelTables& t, T* streams, T* extended, int64_t f, int64_t j0, int64_t L) {
  return f < t.S ? streams + f * t.MH + j0 : extended + (f - t.S) * L;
}

// Calls visit(r, row, F) for every term r, F its factors' slices of the block.
template <class Visit>
BOHMFLOW_INLINE void for_each_term(const KernelTables& t, const double* X, const double* E, int64_t j0, int64_t L,
                   const Visit& visit) {
  const double* F[kMaxFactors];
  for (int64_t r = 0; r < t.n_terms; ++r) {
    const int64_t* row = t.terms + r * kTermColumns;
    for (int b = 0; b < row[2]; ++b) F[b] = factor_block(t, X, E, row[3 + b], j0, L);
    visit(r, row, F);
  }
}

// Runs body(j0, L) over the blocks of [0, MH), split across intra-op threads.
template <class Body>
void for_each_block(int64_t MH, const Body& body) {
  const int64_t n_blocks = (MH + kBlock - 1) / kBlock;
  at::parallel_for(0, n_blocks, 1, [&](int64_t first, int64_t last) {
    for (int64_t block = first; block < last; ++block) {
      const int64_t j0 = block * kBlock;
      body(j0, std::min(kBlock, MH - j0));
    }
  });
}

// One block [j0, j0 + L) of the forward: out (S, M·H) from z (M·H), X (S, M·H).
BOHMFLOW_KERNEL_CLONES
void forward_block(const KernelTables& t, const double* z, const double* X, double* out, int64_t j0,
                   int64_t L) {
  std::vector<double> sigma((t.max_sigma + 1) * L), E((t.n_tl + t.n_p) * L);
  sigma_block(t, z + j0, L, t.max_sigma, sigma.data());
  extended_block(t, X, j0, L, E.data());
  for (int64_t s = 0; s < t.S; ++s) std::fill(out + s * t.MH + j0, out + s * t.MH + j0 + L, 0.0);
  for_each_term(t, X, E.data(), j0, L, [&](int64_t r, const int64_t* row, const double* const* F)
                                           BOHMFLOW_INLINE_LAMBDA {
    with_factor_count(static_cast<int>(row[2]), [&](auto n) BOHMFLOW_INLINE_LAMBDA {
      term_forward<decltype(n)::value>(out + row[0] * t.MH + j0, t.coefficients[r],
                                       sigma.data() + row[1] * L, F, L);
    });
  });
}

void faa_di_bruno_forward(const KernelTables& t, const double* z, const double* X, double* out) {
  for_each_block(t.MH, [&](int64_t j0, int64_t L) { forward_block(t, z, X, out, j0, L); });
}

// One block of the backward: dz (M·H), dX (S, M·H) from the output gradient g (S, M·H).
BOHMFLOW_KERNEL_CLONES
void backward_block(const KernelTables& t, const double* z, const double* X, const double* g,
                    double* dz, double* dX, int64_t j0, int64_t L) {
  const int K = t.max_sigma;
  const int64_t n_ext = t.n_tl + t.n_p;
  std::vector<double> sigma((K + 2) * L), E(n_ext * L), d_sigma((K + 1) * L, 0.0), dE(n_ext * L, 0.0);
  sigma_block(t, z + j0, L, K + 1, sigma.data());
  extended_block(t, X, j0, L, E.data());
  for (int64_t s = 0; s < t.S; ++s) std::fill(dX + s * t.MH + j0, dX + s * t.MH + j0 + L, 0.0);
  double* dF[kMaxFactors];
  for_each_term(t, X, E.data(), j0, L, [&](int64_t r, const int64_t* row, const double* const* F)
                                           BOHMFLOW_INLINE_LAMBDA {
    for (int b = 0; b < row[2]; ++b) dF[b] = factor_block(t, dX, dE.data(), row[3 + b], j0, L);
    with_factor_count(static_cast<int>(row[2]), [&](auto n) BOHMFLOW_INLINE_LAMBDA {
      term_backward<decltype(n)::value>(g + row[0] * t.MH + j0, t.coefficients[r],
                                        sigma.data() + row[1] * L, F, d_sigma.data() + row[1] * L,
                                        dF, L);
    });
  });
  // The extended factors' share, back onto the streams they are built from.
  for (int64_t m = 0; m < t.n_tl; ++m) {
    const double* de = dE.data() + m * L;
    for (int64_t i = 0; i < t.d; ++i) {
      double* dx = dX + t.traced_lower[m * t.d + i] * t.MH + j0;
      for (int64_t j = 0; j < L; ++j) dx[j] += de[j];
    }
  }
  for (int64_t m = 0; m < t.n_p; ++m) {
    const double* de = dE.data() + (t.n_tl + m) * L;
    for (int64_t i = 0; i < t.d; ++i) {
      const int64_t left = t.pair_left[m * t.d + i], right = t.pair_right[m * t.d + i];
      const double* a = X + left * t.MH + j0;
      const double* b = X + right * t.MH + j0;
      double* da = dX + left * t.MH + j0;
      double* db = dX + right * t.MH + j0;
      for (int64_t j = 0; j < L; ++j) da[j] += de[j] * b[j];
      for (int64_t j = 0; j < L; ++j) db[j] += de[j] * a[j];
    }
  }
  // dz = Σ_k σ^{(k+1)} dσ^{(k)}
  for (int64_t j = 0; j < L; ++j) {
    double v = 0;
    for (int k = 1; k <= K; ++k) v += sigma[(k + 1) * L + j] * d_sigma[k * L + j];
    dz[j0 + j] = v;
  }
}

void faa_di_bruno_backward(const KernelTables& t, const double* z, const double* X, const double* g,
                           double* dz, double* dX) {
  for_each_block(t.MH, [&](int64_t j0, int64_t L) { backward_block(t, z, X, g, dz, dX, j0, L); });
}

}  // namespace

// softplus_layer as an autograd Function: the forward and backward kernels
// above, with the layout's tables saved as tensors (the graph keeps them
// alive, whatever happens to the layout).
struct JetLayout::FaaDiBruno : public torch::autograd::Function<JetLayout::FaaDiBruno> {
  static KernelTables tables(const torch::autograd::AutogradContext& ctx, int64_t MH) {
    const auto& data = ctx.saved_data;
    const auto& terms = data.at("terms").toTensor();
    const auto& traced_lower = data.at("traced_lower").toTensor();
    const auto& pair_left = data.at("pair_left").toTensor();
    KernelTables t;
    t.S = data.at("S").toInt();
    t.d = data.at("d").toInt();
    t.n_tl = traced_lower.size(0);
    t.n_p = pair_left.size(0);
    t.n_terms = terms.size(0);
    t.MH = MH;
    t.max_sigma = static_cast<int>(data.at("max_sigma").toInt());
    t.terms = terms.data_ptr<int64_t>();
    t.coefficients = data.at("coefficients").toTensor().data_ptr<double>();
    t.traced_lower = traced_lower.data_ptr<int64_t>();
    t.pair_left = pair_left.data_ptr<int64_t>();
    t.pair_right = data.at("pair_right").toTensor().data_ptr<int64_t>();
    t.R = sigma_polynomials(t.max_sigma + 1);
    return t;
  }

  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& z,
                               const torch::Tensor& Xz, const JetLayout* layout) {
    TORCH_CHECK(z.device().is_cpu() && z.scalar_type() == torch::kFloat64 &&
                    Xz.device().is_cpu() && Xz.scalar_type() == torch::kFloat64,
                "JetLayout::softplus_layer: the fused kernel takes float64 CPU tensors");
    TORCH_CHECK(Xz.dim() == 3 && Xz.size(0) == layout->num_streams() && z.sizes() == Xz.sizes().slice(1),
                "JetLayout::softplus_layer: z (M, H) and Xz (S, M, H) do not match the layout");
    auto& data = ctx->saved_data;
    data["S"] = layout->num_streams();
    data["d"] = static_cast<int64_t>(layout->d_);
    data["max_sigma"] = static_cast<int64_t>(layout->max_sigma_order());
    data["terms"] = layout->terms_;
    data["coefficients"] = layout->coefficients_;
    data["traced_lower"] = layout->traced_lower_;
    data["pair_left"] = layout->pair_left_;
    data["pair_right"] = layout->pair_right_;
    const auto z_c = z.contiguous(), X_c = Xz.contiguous();
    ctx->save_for_backward({z_c, X_c});
    auto out = torch::empty_like(X_c);
    faa_di_bruno_forward(tables(*ctx, z_c.numel()), z_c.data_ptr<double>(), X_c.data_ptr<double>(),
                         out.data_ptr<double>());
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    TORCH_CHECK(!torch::GradMode::is_enabled(),
                "JetLayout::softplus_layer: its backward is not differentiable (create_graph)");
    const auto saved = ctx->get_saved_variables();
    const auto& z = saved[0];
    const auto& X = saved[1];
    if (!grads[0].defined()) return {torch::Tensor(), torch::Tensor(), torch::Tensor()};
    const auto g = grads[0].contiguous();
    auto dz = torch::empty_like(z);
    auto dX = torch::empty_like(X);
    faa_di_bruno_backward(tables(*ctx, z.numel()), z.data_ptr<double>(), X.data_ptr<double>(),
                          g.data_ptr<double>(), dz.data_ptr<double>(), dX.data_ptr<double>());
    return {dz, dX, torch::Tensor()};
  }
};

torch::Tensor softplus_derivatives(const torch::Tensor& z, int max_k) {
  const auto p = torch::sigmoid(z);
  const auto q = p * (1 - p);
  const auto R = sigma_polynomials(max_k);
  std::vector<torch::Tensor> out = {torch::softplus(z), p};
  for (int k = 2; k <= max_k; ++k) out.push_back(q * horner(R[k], p));
  out.resize(max_k + 1);
  return torch::stack(out, 0);
}

const JetLayout::DeviceTables& JetLayout::tables(const torch::Device& device) const {
  std::lock_guard<std::mutex> lock(tables_mutex_);
  auto& slot = device_tables_[device.str()];
  if (slot) return *slot;
  const auto on = [&](const torch::Tensor& t) { return t.defined() ? t.to(device) : t; };
  auto t = std::make_shared<DeviceTables>();
  t->first_rows = on(first_rows_.flatten());
  t->first_traced = on(first_traced_);
  t->stream_order = on(stream_order_);
  t->pure_slab = on(pure_slab_);
  t->pair_slab = on(pair_slab_);
  t->pair_factor = on(pair_factor_);
  for (const auto& index : dense_index_) t->dense_index.push_back(on(index));
  t->traced_dense_index = on(traced_dense_index_);
  t->traced_lower = on(traced_lower_.flatten());
  t->pair_left = on(pair_left_.flatten());
  t->pair_right = on(pair_right_.flatten());
  // The terms grouped by their factor count, each group in the terms' order.
  const auto n_factors = terms_.select(1, 2);
  for (int n = 1; n <= kMaxFactors; ++n) {
    const auto rows = torch::nonzero(n_factors == n).flatten();
    const auto group = terms_.index_select(0, rows);
    t->term_output[n - 1] = on(group.select(1, 0).contiguous());
    t->term_sigma[n - 1] = on(group.select(1, 1).contiguous());
    t->term_factors[n - 1] = on(group.narrow(1, 3, n).t().contiguous());
    t->term_coefficients[n - 1] = on(coefficients_.index_select(0, rows));
  }
  slot = std::move(t);
  return *slot;
}

torch::Tensor JetLayout::first_layer(const torch::Tensor& z, const torch::Tensor& W) const {
  const int64_t S = num_streams(), H = W.size(1);
  const auto& t = tables(z.device());
  const auto W_ext = torch::cat({W, torch::ones({1, H}, W.options())}, 0);
  auto products = W_ext.index_select(0, t.first_rows).view({S, kFirstRows, H}).prod(1);
  if (has_traced()) {
    const auto norm2 = W.square().sum(0, /*keepdim=*/true);  // Σ_j W_j²
    const auto traced_mask = t.first_traced.to(W.scalar_type()).unsqueeze(1);
    products = products * (1 + traced_mask * (norm2 - 1));
  }
  const auto sigma = softplus_derivatives(z, max_sigma_order());  // (K+1, M, H)
  const auto per_stream = sigma.index_select(0, t.stream_order);  // (S, M, H)
  return per_stream * products.unsqueeze(1);
}

namespace {

// Σ_k σ^{(n)}(z_…k) w_k^n W_k· for n = 1…K: the order-n streams of an
// encoder unit along its input, carried through the next weights.
// z: (M, …, h) → (K, M, …, H').
torch::Tensor encoder_slabs(const torch::Tensor& z, const torch::Tensor& w, const torch::Tensor& W_scaled, int K) {
  const auto sigma = softplus_derivatives(z, K).narrow(0, 1, K);
  std::vector<int64_t> shape(z.dim() + 1, 1);
  shape.front() = K;
  shape.back() = -1;
  const auto w_powers = w.unsqueeze(0).pow(torch::arange(1, K + 1, w.options()).view({K, 1})).view(shape);
  return torch::matmul(sigma * w_powers, W_scaled);
}

}  // namespace

torch::Tensor JetLayout::pooled_layer(const torch::Tensor& z, const torch::Tensor& w,
                                     const torch::Tensor& W_scaled) const {
  const int K = max_sigma_order();
  const int64_t M = z.size(0), H = W_scaled.size(1);
  const auto slabs = encoder_slabs(z, w, W_scaled, K).transpose(1, 2).reshape({K * d_, M, H});
  const auto zero = torch::zeros({1, M, H}, slabs.options());  // the mixed streams
  return torch::cat({slabs, zero}).index_select(0, tables(z.device()).pure_slab);
}

// Slab [n, i, j] = Σ_k σ^{(n)}(z_ijk) w_k^n W_k·, the pair (i, j)'s order-n
// streams before their sign. A pure stream ∂_a^n gathers the pairs (a, j)
// with sign +1 and (j, a) with (−1)^n; a stream on {a, b} the two pairs
// (a, b) and (b, a), each with the sign of its second coordinate's count.
torch::Tensor JetLayout::pooled_pair_layer(const torch::Tensor& z, const torch::Tensor& w,
                                          const torch::Tensor& W_scaled) const {
  const int K = max_sigma_order();
  const int64_t M = z.size(0), H = W_scaled.size(1);
  const auto off_diagonal = (1 - torch::eye(d_, z.options())).view({1, 1, d_, d_, 1});
  const auto slab = encoder_slabs(z, w, W_scaled, K) * off_diagonal;  // (K, M, d, d, H')
  const auto n = torch::arange(1, K + 1, z.options());
  const auto parity = torch::pow(-1.0, n).view({K, 1, 1, 1});
  const auto pure = slab.sum(3) + parity * slab.sum(2);                           // (K, M, d, H')
  const auto all = torch::cat({pure.transpose(1, 2).reshape({K * d_, M, H}),
                               slab.permute({0, 2, 3, 1, 4}).reshape({K * d_ * d_, M, H}),
                               torch::zeros({1, M, H}, slab.options())});
  const auto& t = tables(z.device());
  const auto& slabs = t.pair_slab;
  const auto factors = t.pair_factor.to(z.scalar_type());
  const auto first = all.index_select(0, slabs.select(1, 0)) * factors.select(1, 0).view({-1, 1, 1});
  return first + all.index_select(0, slabs.select(1, 1)) * factors.select(1, 1).view({-1, 1, 1});
}

torch::Tensor JetLayout::softplus_layer(const torch::Tensor& z, const torch::Tensor& Xz,
                                       JetKernel kernel) const {
  if (kernel == JetKernel::kGeneric) return generic_softplus_layer(z, Xz);
  return FaaDiBruno::apply(z, Xz, this);
}

torch::Tensor JetLayout::dense(const torch::Tensor& X, const torch::Tensor& index, int order) const {
  if (!index.defined()) throw std::logic_error("JetLayout: this jet level does not carry that order");
  std::vector<int64_t> shape = {X.size(1)};
  for (int k = 0; k < order; ++k) shape.push_back(d_);
  return X.index_select(0, index).t().reshape(shape);
}

torch::Tensor JetLayout::full_dense(const torch::Tensor& X, int order) const {
  if (order > max_order()) {
    throw std::logic_error("JetLayout: order " + std::to_string(order) + " needs JetLevel::kJacobian");
  }
  return dense(X, tables(X.device()).dense_index[order], order);
}

torch::Tensor JetLayout::gradient(const torch::Tensor& X) const { return full_dense(X, 1); }
torch::Tensor JetLayout::hessian(const torch::Tensor& X) const { return full_dense(X, 2); }
torch::Tensor JetLayout::third(const torch::Tensor& X) const { return full_dense(X, 3); }
torch::Tensor JetLayout::fourth(const torch::Tensor& X) const { return full_dense(X, 4); }
torch::Tensor JetLayout::laplacian_derivatives(const torch::Tensor& X) const {
  return dense(X, tables(X.device()).traced_dense_index, traced_order());
}

}  // namespace detail
}  // namespace bohmflow
