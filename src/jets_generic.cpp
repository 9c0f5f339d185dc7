// The Faà di Bruno softplus layer in ATen tensor operations (JetKernel::kGeneric):
// the same terms as the fused kernel of jets.cpp, on any device and in any
// floating dtype, and the oracle that kernel is tested against.
//
// A layer's output streams are Σ_terms c σ^{(k)}(z) Π_b F_b (jets.hpp). The
// terms are grouped by their number of factors n; per group one gather per
// factor row, a product, and one index_add into the outputs. The (particle,
// unit) pairs are walked in column blocks so that the gathered (T_n, L)
// operands stay within a memory budget; on a GPU one block is usually all.
#include "jets.hpp"

#include <algorithm>
#include <array>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

namespace bohmflow {
namespace detail {
namespace {

// Elements of one gathered operand: about 16 MB in float64 on the CPU (the
// operands of a block then stay in the last-level cache's neighbourhood),
// 256 MB on a GPU (few, large kernels).
int64_t block_budget(const torch::Device& device) { return device.is_cpu() ? (int64_t{1} << 21) : (int64_t{1} << 25); }

// What one call needs of the layout's device tables, as tensors (the graph
// keeps them alive, whatever happens to the layout).
struct GenericTables {
  int64_t S, d, n_tl, n_p;
  int K;  // highest σ order of the forward
  torch::Tensor traced_lower, pair_left, pair_right;
  std::array<torch::Tensor, 4> output, sigma, factors, coefficients;

  int64_t widest_gather() const {
    int64_t rows = S + n_tl + n_p;
    rows = std::max({rows, n_tl * d, n_p * d});
    for (const auto& o : output) rows = std::max(rows, o.size(0));
    return std::max<int64_t>(rows, 1);
  }
};

// The factors of a block: its streams X (S, L), then the traced lower entries
// ∂_{β'}Δz = Σ_i ∂_{β' i i} z and the pair contractions P(A, B) = Σ_i ∂_{A i} z ∂_{B i} z.
torch::Tensor block_factors(const GenericTables& t, const torch::Tensor& X) {
  const int64_t L = X.size(1);
  std::vector<torch::Tensor> parts{X};
  if (t.n_tl > 0) parts.push_back(X.index_select(0, t.traced_lower).view({t.n_tl, t.d, L}).sum(1));
  if (t.n_p > 0) {
    parts.push_back((X.index_select(0, t.pair_left) * X.index_select(0, t.pair_right))
                        .view({t.n_p, t.d, L})
                        .sum(1));
  }
  return torch::cat(parts, 0);
}

torch::Tensor forward_block(const GenericTables& t, const torch::Tensor& z, const torch::Tensor& X) {
  const auto sigma = softplus_derivatives(z, t.K);  // (K+1, L)
  const auto F = block_factors(t, X);
  auto out = torch::zeros_like(X);
  for (int n = 1; n <= 4; ++n) {
    if (t.output[n - 1].numel() == 0) continue;
    auto term = sigma.index_select(0, t.sigma[n - 1]) * t.coefficients[n - 1].unsqueeze(1);
    for (int b = 0; b < n; ++b) term.mul_(F.index_select(0, t.factors[n - 1][b]));
    out.index_add_(0, t.output[n - 1], term);
  }
  return out;
}

// The product rule over the same terms, with g the output gradient (S, L):
//   dσ^{(k)} += c g Π_b F_b,   dF_b += c g σ Π_{b' ≠ b} F_{b'}
// (prefix and suffix products), the extended factors' share back onto the
// streams they are built from, and dz = Σ_k σ^{(k+1)} dσ^{(k)}.
std::pair<torch::Tensor, torch::Tensor> backward_block(const GenericTables& t, const torch::Tensor& z,
                                                       const torch::Tensor& X, const torch::Tensor& g) {
  const int64_t L = X.size(1);
  const auto sigma = softplus_derivatives(z, t.K + 1);
  const auto F = block_factors(t, X);
  auto dF = torch::zeros_like(F);
  auto d_sigma = torch::zeros({t.K + 1, L}, X.options());
  for (int n = 1; n <= 4; ++n) {
    if (t.output[n - 1].numel() == 0) continue;
    const auto& ids = t.factors[n - 1];
    std::vector<torch::Tensor> f, prefix{g.index_select(0, t.output[n - 1]) * t.coefficients[n - 1].unsqueeze(1)};
    for (int b = 0; b < n; ++b) {
      f.push_back(F.index_select(0, ids[b]));
      prefix.push_back(prefix.back() * f.back());
    }
    d_sigma.index_add_(0, t.sigma[n - 1], prefix[n]);
    auto suffix = sigma.index_select(0, t.sigma[n - 1]);
    for (int b = n - 1; b >= 0; --b) {
      dF.index_add_(0, ids[b], prefix[b] * suffix);
      if (b > 0) suffix = suffix * f[b];
    }
  }
  auto dX = dF.narrow(0, 0, t.S).clone();
  if (t.n_tl > 0) dX.index_add_(0, t.traced_lower, dF.narrow(0, t.S, t.n_tl).repeat_interleave(t.d, 0));
  if (t.n_p > 0) {
    const auto d_pair = dF.narrow(0, t.S + t.n_tl, t.n_p).repeat_interleave(t.d, 0);
    dX.index_add_(0, t.pair_left, d_pair * X.index_select(0, t.pair_right));
    dX.index_add_(0, t.pair_right, d_pair * X.index_select(0, t.pair_left));
  }
  const auto dz = (sigma.narrow(0, 2, t.K) * d_sigma.narrow(0, 1, t.K)).sum(0);
  return {dz, dX};
}

// Runs body(j0, L) over column blocks of [0, N) that keep `rows` × L within the budget.
template <class Body>
void for_each_column_block(int64_t N, int64_t rows, const torch::Device& device, const Body& body) {
  const int64_t width = std::max<int64_t>(1, std::min(N, block_budget(device) / rows));
  for (int64_t j0 = 0; j0 < N; j0 += width) body(j0, std::min(width, N - j0));
}

void save_tables(torch::autograd::AutogradContext* ctx, const GenericTables& t) {
  auto& data = ctx->saved_data;
  data["S"] = t.S;
  data["d"] = t.d;
  data["K"] = static_cast<int64_t>(t.K);
  data["traced_lower"] = t.traced_lower;
  data["pair_left"] = t.pair_left;
  data["pair_right"] = t.pair_right;
  for (int n = 0; n < 4; ++n) {
    const auto key = std::to_string(n + 1);
    data["output" + key] = t.output[n];
    data["sigma" + key] = t.sigma[n];
    data["factors" + key] = t.factors[n];
    data["coefficients" + key] = t.coefficients[n];
  }
}

GenericTables saved_tables(const torch::autograd::AutogradContext& ctx) {
  const auto& data = ctx.saved_data;
  GenericTables t;
  t.S = data.at("S").toInt();
  t.d = data.at("d").toInt();
  t.K = static_cast<int>(data.at("K").toInt());
  t.traced_lower = data.at("traced_lower").toTensor();
  t.pair_left = data.at("pair_left").toTensor();
  t.pair_right = data.at("pair_right").toTensor();
  t.n_tl = t.traced_lower.numel() / t.d;
  t.n_p = t.pair_left.numel() / t.d;
  for (int n = 0; n < 4; ++n) {
    const auto key = std::to_string(n + 1);
    t.output[n] = data.at("output" + key).toTensor();
    t.sigma[n] = data.at("sigma" + key).toTensor();
    t.factors[n] = data.at("factors" + key).toTensor();
    t.coefficients[n] = data.at("coefficients" + key).toTensor();
  }
  return t;
}

}  // namespace

struct JetLayout::GenericFaaDiBruno : public torch::autograd::Function<JetLayout::GenericFaaDiBruno> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& z,
                               const torch::Tensor& Xz, const JetLayout* layout) {
    TORCH_CHECK(Xz.dim() == 3 && Xz.size(0) == layout->num_streams() && z.sizes() == Xz.sizes().slice(1),
                "JetLayout::softplus_layer: z (M, H) and Xz (S, M, H) do not match the layout");
    TORCH_CHECK(z.device() == Xz.device() && z.scalar_type() == Xz.scalar_type() &&
                    at::isFloatingType(z.scalar_type()),
                "JetLayout::softplus_layer: z and Xz must be floating tensors of one dtype on one device");
    const auto& device_tables = layout->tables(z.device());
    GenericTables t;
    t.S = layout->num_streams();
    t.d = layout->d_;
    t.K = layout->max_sigma_order();
    t.traced_lower = device_tables.traced_lower;
    t.pair_left = device_tables.pair_left;
    t.pair_right = device_tables.pair_right;
    t.n_tl = t.traced_lower.numel() / t.d;
    t.n_p = t.pair_left.numel() / t.d;
    for (int n = 0; n < 4; ++n) {
      t.output[n] = device_tables.term_output[n];
      t.sigma[n] = device_tables.term_sigma[n];
      t.factors[n] = device_tables.term_factors[n];
      t.coefficients[n] = device_tables.term_coefficients[n].to(z.scalar_type());
    }
    save_tables(ctx, t);
    const int64_t N = z.numel();
    const auto zf = z.reshape({N}), Xf = Xz.reshape({t.S, N});
    ctx->save_for_backward({zf, Xf});
    auto out = torch::empty_like(Xf);
    for_each_column_block(N, t.widest_gather(), z.device(), [&](int64_t j0, int64_t L) {
      out.narrow(1, j0, L).copy_(forward_block(t, zf.narrow(0, j0, L), Xf.narrow(1, j0, L)));
    });
    return out.view(Xz.sizes());
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    TORCH_CHECK(!torch::GradMode::is_enabled(),
                "JetLayout::softplus_layer: its backward is not differentiable (create_graph)");
    if (!grads[0].defined()) return {torch::Tensor(), torch::Tensor(), torch::Tensor()};
    const auto saved = ctx->get_saved_variables();
    const auto& z = saved[0];
    const auto& X = saved[1];
    const auto t = saved_tables(*ctx);
    const int64_t N = z.numel();
    const auto g = grads[0].reshape({t.S, N});
    auto dz = torch::empty_like(z);
    auto dX = torch::empty_like(X);
    for_each_column_block(N, t.widest_gather(), z.device(), [&](int64_t j0, int64_t L) {
      const auto [dz_block, dX_block] =
          backward_block(t, z.narrow(0, j0, L), X.narrow(1, j0, L), g.narrow(1, j0, L));
      dz.narrow(0, j0, L).copy_(dz_block);
      dX.narrow(1, j0, L).copy_(dX_block);
    });
    const auto sizes = grads[0].sizes();
    return {dz.view(sizes.slice(1)), dX.view(sizes), torch::Tensor()};
  }
};

torch::Tensor JetLayout::generic_softplus_layer(const torch::Tensor& z, const torch::Tensor& Xz) const {
  return GenericFaaDiBruno::apply(z, Xz, this);
}

}  // namespace detail
}  // namespace bohmflow
