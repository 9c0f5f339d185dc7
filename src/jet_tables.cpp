// JetLayout's tables: the streams, the Faà di Bruno terms of the softplus
// layer, the first-layer, pooled and dense index maps. Built once per layout;
// the kernels in jets.cpp and jets_generic.cpp only read them.
#include "jets.hpp"

#include <algorithm>
#include <functional>
#include <map>
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

torch::Tensor index_tensor(const std::vector<int64_t>& values, std::vector<int64_t> shape) {
  return torch::tensor(values, torch::kInt64).reshape(shape);
}

// A factor of a term: its kind (0: stream, 1: traced lower entry, 2: pair
// contraction) and its id within the kind, resolved to a flat id at the end.
using Factor = std::pair<int, int64_t>;
// Terms (output stream, σ order, sorted factors) → multiplicity.
using TermMap = std::map<std::tuple<int64_t, int, std::vector<Factor>>, double>;

// The extended factors that traced entries' terms need, numbered as first
// met: traced lower entries ∂_β'Δz and pair contractions P(A, B), each
// stored as the d stream indices the kernels sum over.
class ExtendedFactors {
 public:
  ExtendedFactors(const JetLayout& layout, int d) : layout_(layout), d_(d) {}

  int64_t traced_lower(std::vector<int> beta) {
    std::sort(beta.begin(), beta.end());
    auto [it, inserted] = traced_lower_id_.emplace(beta, traced_lower_id_.size());
    if (inserted) {
      for (int i = 0; i < d_; ++i) {
        auto entry = beta;
        entry.push_back(i);
        entry.push_back(i);
        traced_lower_table.push_back(layout_.full(entry));
      }
    }
    return it->second;
  }

  int64_t pair(std::vector<int> A, std::vector<int> B) {
    std::sort(A.begin(), A.end());
    std::sort(B.begin(), B.end());
    if (B < A) std::swap(A, B);
    auto [it, inserted] = pair_id_.emplace(std::make_pair(A, B), pair_id_.size());
    if (inserted) {
      for (int i = 0; i < d_; ++i) {
        auto a = A, b = B;
        a.push_back(i);
        b.push_back(i);
        pair_left_table.push_back(layout_.full(a));
        pair_right_table.push_back(layout_.full(b));
      }
    }
    return it->second;
  }

  int64_t traced_lower_count() const { return static_cast<int64_t>(traced_lower_id_.size()); }
  int64_t pair_count() const { return static_cast<int64_t>(pair_id_.size()); }
  std::vector<int64_t> traced_lower_table, pair_left_table, pair_right_table;

 private:
  const JetLayout& layout_;
  int d_;
  std::map<std::vector<int>, int64_t> traced_lower_id_;
  std::map<std::pair<std::vector<int>, std::vector<int>>, int64_t> pair_id_;
};

// Full entry ∂_α: one term per set partition of α's positions, a stream per block.
void add_full_entry_terms(const JetLayout& layout, int64_t e, const std::vector<int>& values, TermMap& terms) {
  for (const auto& partition : set_partitions(static_cast<int>(values.size()))) {
    std::vector<Factor> factors;
    for (const auto& block : partition) {
      std::vector<int> alpha;
      for (int p : block) alpha.push_back(values[p]);
      factors.emplace_back(0, layout.full(alpha));
    }
    std::sort(factors.begin(), factors.end());
    terms[{e, static_cast<int>(partition.size()), factors}] += 1.0;
  }
}

// Traced entry ∂_β Δ: positions 0…n−1 carry β, positions n and n+1 the traced
// pair (i, i). A block holding both is a traced (lower) entry; blocks holding
// one each make a pair contraction.
void add_traced_entry_terms(const JetLayout& layout, ExtendedFactors& extended, int64_t e,
                            const std::vector<int>& values, TermMap& terms) {
  const int n = static_cast<int>(values.size());
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
        factors.emplace_back(static_cast<int>(rest.size()) == n ? Factor{0, layout.traced(rest)}
                                                                : Factor{1, extended.traced_lower(rest)});
      } else if (has_i) {
        with_i = rest;
      } else if (has_j) {
        with_j = rest;
      } else {
        factors.emplace_back(0, layout.full(rest));
      }
    }
    if (!shared) factors.emplace_back(2, extended.pair(with_i, with_j));
    std::sort(factors.begin(), factors.end());
    terms[{e, static_cast<int>(partition.size()), factors}] += 1.0;
  }
}

}  // namespace

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
  build_term_tables();
  build_layer_tables();
  build_dense_tables();
}

void JetLayout::build_term_tables() {
  const int64_t S = num_streams();
  ExtendedFactors extended(*this, d_);
  TermMap terms;
  for (int64_t e = 0; e < S; ++e) {
    if (entry_traced_[e]) {
      add_traced_entry_terms(*this, extended, e, entries_[e], terms);
    } else {
      add_full_entry_terms(*this, e, entries_[e], terms);
    }
  }

  const int64_t n_tl = extended.traced_lower_count(), n_p = extended.pair_count();
  traced_lower_ = index_tensor(extended.traced_lower_table, {n_tl, d_});
  pair_left_ = index_tensor(extended.pair_left_table, {n_p, d_});
  pair_right_ = index_tensor(extended.pair_right_table, {n_p, d_});
  // Extended factor ids follow the streams: traced lower entries, then pairs.
  const auto flat = [&](const Factor& f) {
    return f.first == 0 ? f.second : f.first == 1 ? S + f.second : S + n_tl + f.second;
  };

  // Term rows in the order of their outputs (the map's), so that a block
  // writes one output after another.
  std::vector<int64_t> term_rows;
  std::vector<double> coefficients;
  for (const auto& [key, coefficient] : terms) {
    const auto& [output, order, factors] = key;
    if (static_cast<int>(factors.size()) > kMaxFactors) {
      throw std::logic_error("JetLayout: a term with more than 4 factors");
    }
    term_rows.insert(term_rows.end(), {output, order, static_cast<int64_t>(factors.size())});
    for (int b = 0; b < kMaxFactors; ++b) {
      term_rows.push_back(b < static_cast<int>(factors.size()) ? flat(factors[b]) : -1);
    }
    coefficients.push_back(coefficient);
  }
  const int64_t n_terms = static_cast<int64_t>(coefficients.size());
  terms_ = index_tensor(term_rows, {n_terms, kTermColumns});
  coefficients_ = torch::tensor(coefficients, torch::kFloat64);
}

void JetLayout::build_layer_tables() {
  const int64_t S = num_streams();
  // First layer: rows of [W; 1] whose product gives Π_{i∈α} W_i.
  std::vector<int64_t> rows, traced_flags, orders;
  for (int64_t e = 0; e < S; ++e) {
    auto padded = entries_[e];
    for (int v : padded) rows.push_back(v);
    for (size_t k = padded.size(); k < kFirstRows; ++k) rows.push_back(d_);
    traced_flags.push_back(entry_traced_[e] ? 1 : 0);
    orders.push_back(static_cast<int64_t>(padded.size()) + (entry_traced_[e] ? 2 : 0));
  }
  // Pooled slabs: pooled_layer stacks K·d (order n, axis j) slabs and a zero
  // one; pooled_pair_layer the K·d partner sums of the pure streams, then
  // K·d·d single ordered pairs, then a zero one.
  const int64_t K = max_sigma_order(), n_pure = K * d_, zero_pair_slab = K * d_ + K * d_ * d_;
  std::vector<int64_t> slabs, pair_slabs;
  std::vector<double> pair_factors;
  for (int64_t e = 0; e < S; ++e) {
    const auto& alpha = entries_[e];
    const double trace = entry_traced_[e] ? 2.0 : 1.0;
    const int64_t n = orders[e];
    std::map<int, int> count;
    for (int i : alpha) ++count[i];
    const int64_t pure = (n - 1) * d_ + alpha.front();
    slabs.push_back(count.size() == 1 ? pure : n_pure);
    if (count.size() == 1) {
      pair_slabs.insert(pair_slabs.end(), {pure, zero_pair_slab});
      pair_factors.insert(pair_factors.end(), {trace, 0.0});
    } else if (count.size() == 2) {
      const auto [a, c_a] = *count.begin();
      const auto [b, c_b] = *count.rbegin();
      const auto single = [&](int i, int j) { return n_pure + ((n - 1) * d_ + i) * d_ + j; };
      pair_slabs.insert(pair_slabs.end(), {single(a, b), single(b, a)});
      pair_factors.insert(pair_factors.end(), {trace * (c_b % 2 ? -1 : 1), trace * (c_a % 2 ? -1 : 1)});
    } else {
      pair_slabs.insert(pair_slabs.end(), {zero_pair_slab, zero_pair_slab});
      pair_factors.insert(pair_factors.end(), {0.0, 0.0});
    }
  }
  pure_slab_ = index_tensor(slabs, {S});
  pair_slab_ = index_tensor(pair_slabs, {S, 2});
  pair_factor_ = torch::tensor(pair_factors, torch::kFloat64).view({S, 2});
  first_rows_ = index_tensor(rows, {S, kFirstRows});
  first_traced_ = index_tensor(traced_flags, {S});
  stream_order_ = index_tensor(orders, {S});
}

void JetLayout::build_dense_tables() {
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

}  // namespace detail
}  // namespace bohmflow
