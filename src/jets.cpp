#include "jets.hpp"

#include <algorithm>
#include <functional>
#include <stdexcept>
#include <tuple>

#include <torch/torch.h>

namespace bohmflow {
namespace detail {
namespace {

// All sorted multi-indices of length n over {0, …, d−1}.
std::vector<std::vector<int>> sorted_multi_indices(int d, int n) {
  std::vector<std::vector<int>> out;
  std::vector<int> current;
  std::function<void(int)> extend = [&](int start) {
    if (static_cast<int>(current.size()) == n) {
      out.push_back(current);
      return;
    }
    for (int i = start; i < d; ++i) {
      current.push_back(i);
      extend(i);
      current.pop_back();
    }
  };
  extend(0);
  return out;
}

// All set partitions of {0, …, n−1}, each a list of blocks of positions.
std::vector<std::vector<std::vector<int>>> set_partitions(int n) {
  std::vector<std::vector<std::vector<int>>> out;
  std::vector<std::vector<int>> blocks;
  std::function<void(int)> place = [&](int position) {
    if (position == n) {
      out.push_back(blocks);
      return;
    }
    // By index: the recursion appends blocks, which may reallocate.
    for (size_t b = 0; b < blocks.size(); ++b) {
      blocks[b].push_back(position);
      place(position + 1);
      blocks[b].pop_back();
    }
    blocks.push_back({position});
    place(position + 1);
    blocks.pop_back();
  };
  place(0);
  return out;
}

// Rows of [W; 1] per stream in the first layer: enough for order 4 or traced |β| = 3.
constexpr int64_t kFirstRows = 4;

torch::Tensor index_tensor(const std::vector<int64_t>& values, std::vector<int64_t> shape) {
  return torch::tensor(values, torch::kInt64).reshape(shape);
}

}  // namespace

// σ = log(1 + eᶻ); with p = sigmoid(z), q = p(1 − p):
//   σ' = p, σ'' = q, σ''' = q(1 − 2p), σ⁗ = q(1 − 6p + 6p²), σ⁽⁵⁾ = q(1 − 2p)(1 − 12p + 12p²).
torch::Tensor softplus_derivatives(const torch::Tensor& z, int max_k) {
  const auto p = torch::sigmoid(z);
  const auto q = p * (1 - p);
  std::vector<torch::Tensor> out = {torch::softplus(z), p, q};
  if (max_k >= 3) out.push_back(q * (1 - 2 * p));
  if (max_k >= 4) out.push_back(q * (1 - 6 * p + 6 * p * p));
  if (max_k >= 5) out.push_back(q * (1 - 2 * p) * (1 - 12 * p + 12 * p * p));
  out.resize(max_k + 1);
  return torch::stack(out, 0);
}

JetLayout::JetLayout(int d, JetLevel level) : d_(d), level_(level) {
  if (d < 1) throw std::invalid_argument("JetLayout: d must be >= 1");
  switch (level) {
    case JetLevel::kGradient: max_order_ = 1, traced_order_ = -1; break;
    case JetLevel::kForce: max_order_ = 2, traced_order_ = 1; break;
    case JetLevel::kJacobian: max_order_ = 4, traced_order_ = -1; break;
    case JetLevel::kTangent: max_order_ = 4, traced_order_ = 3; break;
  }
  for (int n = 1; n <= max_order(); ++n) {
    for (auto& alpha : sorted_multi_indices(d, n)) {
      full_index_[alpha] = static_cast<int64_t>(entries_.size());
      entries_.push_back(alpha);
      entry_traced_.push_back(false);
    }
  }
  if (has_traced()) {
    for (auto& beta : sorted_multi_indices(d, traced_order_)) {
      traced_index_[beta] = static_cast<int64_t>(entries_.size());
      entries_.push_back(beta);
      entry_traced_.push_back(true);
    }
  }
  build_tables();
}

int64_t JetLayout::full(std::vector<int> alpha) const {
  std::sort(alpha.begin(), alpha.end());
  const auto it = full_index_.find(alpha);
  if (it == full_index_.end()) {
    throw std::logic_error("JetLayout: no full entry of order " + std::to_string(alpha.size()));
  }
  return it->second;
}

int64_t JetLayout::traced(std::vector<int> beta) const {
  std::sort(beta.begin(), beta.end());
  const auto it = traced_index_.find(beta);
  if (it == traced_index_.end()) throw std::logic_error("JetLayout: no traced entry");
  return it->second;
}

void JetLayout::build_tables() {
  const int64_t S = num_streams();

  // Extended factors: streams, then traced lower entries, then pairs.
  std::map<std::vector<int>, int64_t> traced_lower_id;
  std::map<std::pair<std::vector<int>, std::vector<int>>, int64_t> pair_id;
  std::vector<int64_t> tl_table, pl_table, pr_table;
  const auto traced_lower = [&](std::vector<int> beta) {
    std::sort(beta.begin(), beta.end());
    auto [it, inserted] = traced_lower_id.emplace(beta, traced_lower_id.size());
    if (inserted) {
      for (int i = 0; i < d_; ++i) {
        auto entry = beta;
        entry.push_back(i);
        entry.push_back(i);
        tl_table.push_back(full(entry));
      }
    }
    return it->second;
  };
  const auto pair = [&](std::vector<int> A, std::vector<int> B) {
    std::sort(A.begin(), A.end());
    std::sort(B.begin(), B.end());
    if (B < A) std::swap(A, B);
    auto [it, inserted] = pair_id.emplace(std::make_pair(A, B), pair_id.size());
    if (inserted) {
      for (int i = 0; i < d_; ++i) {
        auto a = A, b = B;
        a.push_back(i);
        b.push_back(i);
        pl_table.push_back(full(a));
        pr_table.push_back(full(b));
      }
    }
    return it->second;
  };

  // Terms (output, σ order, sorted factors) → multiplicity. Extended factor
  // ids are encoded as (kind, id) and resolved to flat indices at the end.
  using Factor = std::pair<int, int64_t>;  // 0: stream, 1: traced lower, 2: pair
  std::map<std::tuple<int64_t, int, std::vector<Factor>>, double> terms;

  for (int64_t e = 0; e < S; ++e) {
    const auto& values = entries_[e];
    const int n = static_cast<int>(values.size());
    if (!entry_traced_[e]) {
      for (const auto& partition : set_partitions(n)) {
        std::vector<Factor> factors;
        for (const auto& block : partition) {
          std::vector<int> alpha;
          for (int p : block) alpha.push_back(values[p]);
          factors.emplace_back(0, full(alpha));
        }
        std::sort(factors.begin(), factors.end());
        terms[{e, static_cast<int>(partition.size()), factors}] += 1.0;
      }
      continue;
    }
    // Traced entry ∂_β Δ: positions 0…n−1 carry β, positions n and n+1 the
    // traced pair (i, i).
    for (const auto& partition : set_partitions(n + 2)) {
      std::vector<Factor> factors;
      std::vector<int> with_i, with_j;
      bool shared = false;
      for (const auto& block : partition) {
        const bool has_i = std::count(block.begin(), block.end(), n) > 0;
        const bool has_j = std::count(block.begin(), block.end(), n + 1) > 0;
        std::vector<int> rest;
        for (int p : block) if (p < n) rest.push_back(values[p]);
        if (has_i && has_j) {
          shared = true;
          factors.emplace_back(static_cast<int>(rest.size()) == n ? Factor{0, traced(rest)}
                                                : Factor{1, traced_lower(rest)});
        } else if (has_i) {
          with_i = rest;
        } else if (has_j) {
          with_j = rest;
        } else {
          factors.emplace_back(0, full(rest));
        }
      }
      if (!shared) factors.emplace_back(2, pair(with_i, with_j));
      std::sort(factors.begin(), factors.end());
      terms[{e, static_cast<int>(partition.size()), factors}] += 1.0;
    }
  }

  const int64_t n_tl = static_cast<int64_t>(traced_lower_id.size());
  const int64_t n_p = static_cast<int64_t>(pair_id.size());
  if (n_tl > 0) traced_lower_ = index_tensor(tl_table, {n_tl, d_});
  if (n_p > 0) {
    pair_left_ = index_tensor(pl_table, {n_p, d_});
    pair_right_ = index_tensor(pr_table, {n_p, d_});
  }
  const auto flat = [&](const Factor& f) {
    return f.first == 0 ? f.second : f.first == 1 ? S + f.second : S + n_tl + f.second;
  };

  // Group by (σ order, number of factors).
  std::map<std::pair<int, int>, std::tuple<std::vector<int64_t>, std::vector<int64_t>,
                                           std::vector<double>>> grouped;
  for (const auto& [key, coefficient] : terms) {
    const auto& [output, order, factors] = key;
    auto& [factor_ids, outputs, coefficients] =
        grouped[{order, static_cast<int>(factors.size())}];
    for (const auto& f : factors) factor_ids.push_back(flat(f));
    outputs.push_back(output);
    coefficients.push_back(coefficient);
  }
  for (const auto& [key, tables] : grouped) {
    const auto& [factor_ids, outputs, coefficients] = tables;
    const int64_t n = static_cast<int64_t>(outputs.size());
    groups_.push_back({key.first, index_tensor(factor_ids, {n, key.second}),
                       index_tensor(outputs, {n}),
                       torch::tensor(coefficients, torch::kFloat64)});
  }

  // First layer: rows of [W; 1] whose product gives Π_{i∈α} W_i.
  std::vector<int64_t> rows, traced_flags, orders;
  for (int64_t e = 0; e < S; ++e) {
    auto padded = entries_[e];
    for (int v : padded) rows.push_back(v);
    for (size_t k = padded.size(); k < kFirstRows; ++k) rows.push_back(d_);
    traced_flags.push_back(entry_traced_[e] ? 1 : 0);
    orders.push_back(static_cast<int64_t>(padded.size()) + (entry_traced_[e] ? 2 : 0));
  }
  first_rows_ = index_tensor(rows, {S, kFirstRows});
  first_traced_ = index_tensor(traced_flags, {S});
  stream_order_ = index_tensor(orders, {S});

  // Dense index maps: dense position → stream.
  const auto dense_table = [&](int order, bool is_traced) {
    int64_t count = 1;
    for (int k = 0; k < order; ++k) count *= d_;
    std::vector<int64_t> table(count);
    for (int64_t flat_index = 0; flat_index < count; ++flat_index) {
      std::vector<int> alpha(order);
      int64_t rest = flat_index;
      for (int k = order - 1; k >= 0; --k) {
        alpha[k] = static_cast<int>(rest % d_);
        rest /= d_;
      }
      table[flat_index] = is_traced ? traced(alpha) : full(alpha);
    }
    return index_tensor(table, {count});
  };
  dense_index_.resize(max_order() + 1);
  for (int n = 1; n <= max_order(); ++n) dense_index_[n] = dense_table(n, false);
  if (has_traced()) traced_dense_index_ = dense_table(traced_order(), true);
}

torch::Tensor JetLayout::first_layer(const torch::Tensor& z, const torch::Tensor& W) const {
  const int64_t S = num_streams(), H = W.size(1);
  const auto device = z.device();
  const auto W_ext = torch::cat({W, torch::ones({1, H}, W.options())}, 0);
  auto products = W_ext.index_select(0, first_rows_.to(device).flatten()).view({S, 4, H}).prod(1);
  if (has_traced()) {
    const auto norm2 = W.square().sum(0, /*keepdim=*/true);  // Σ_j W_j²
    const auto traced_mask = first_traced_.to(device).to(W.scalar_type()).unsqueeze(1);
    products = products * (1 + traced_mask * (norm2 - 1));
  }
  const auto sigma = softplus_derivatives(z, max_sigma_order());            // (K+1, M, H)
  const auto per_stream = sigma.index_select(0, stream_order_.to(device));  // (S, M, H)
  return per_stream * products.unsqueeze(1);
}

torch::Tensor JetLayout::extended_factors(const torch::Tensor& Xz) const {
  if (!has_traced()) return Xz;
  const int64_t M = Xz.size(1), H = Xz.size(2);
  const auto device = Xz.device();
  const int64_t n_tl = traced_lower_.size(0), n_p = pair_left_.size(0);
  const auto traced_lower =
      Xz.index_select(0, traced_lower_.to(device).flatten()).view({n_tl, d_, M, H}).sum(1);
  const auto pairs = (Xz.index_select(0, pair_left_.to(device).flatten()) *
                      Xz.index_select(0, pair_right_.to(device).flatten()))
                         .view({n_p, d_, M, H})
                         .sum(1);
  return torch::cat({Xz, traced_lower, pairs}, 0);
}

torch::Tensor JetLayout::softplus_layer(const torch::Tensor& z, const torch::Tensor& Xz) const {
  const auto device = z.device();
  const auto sigma = softplus_derivatives(z, max_sigma_order());
  const auto factors = extended_factors(Xz);
  auto out = torch::zeros_like(Xz);
  for (const auto& group : groups_) {
    const auto ids = group.factors.to(device);
    auto product = factors.index_select(0, ids.select(1, 0));
    for (int64_t f = 1; f < ids.size(1); ++f) product = product * factors.index_select(0, ids.select(1, f));
    const auto coefficients = group.coefficients.to(device, z.scalar_type()).view({-1, 1, 1});
    product = product * coefficients * sigma[group.sigma_order].unsqueeze(0);
    out = out.index_add(0, group.outputs.to(device), product);
  }
  return out;
}

torch::Tensor JetLayout::dense(const torch::Tensor& X, const torch::Tensor& index, int order) const {
  if (!index.defined()) throw std::logic_error("JetLayout: this jet level does not carry that order");
  std::vector<int64_t> shape = {X.size(1)};
  for (int k = 0; k < order; ++k) shape.push_back(d_);
  return X.index_select(0, index.to(X.device())).t().reshape(shape);
}

torch::Tensor JetLayout::full_dense(const torch::Tensor& X, int order) const {
  if (order > max_order()) {
    throw std::logic_error("JetLayout: order " + std::to_string(order) + " needs JetLevel::kJacobian");
  }
  return dense(X, dense_index_[order], order);
}

torch::Tensor JetLayout::gradient(const torch::Tensor& X) const { return full_dense(X, 1); }
torch::Tensor JetLayout::hessian(const torch::Tensor& X) const { return full_dense(X, 2); }
torch::Tensor JetLayout::third(const torch::Tensor& X) const { return full_dense(X, 3); }
torch::Tensor JetLayout::fourth(const torch::Tensor& X) const { return full_dense(X, 4); }
torch::Tensor JetLayout::laplacian_derivatives(const torch::Tensor& X) const {
  return dense(X, traced_dense_index_, traced_order());
}

}  // namespace detail
}  // namespace bohmflow
