#include "bohmflow/evaluate.hpp"

#include <cmath>
#include <stdexcept>

#include <torch/torch.h>

namespace bohmflow {

std::vector<int64_t> evenly_spaced_steps(int64_t n_steps, int64_t count) {
  if (n_steps < 0 || count < 1) throw std::invalid_argument("evenly_spaced_steps: need n_steps >= 0, count >= 1");
  count = std::min(count, n_steps + 1);
  std::vector<int64_t> steps;
  for (int64_t k = 0; k < count; ++k) {
    steps.push_back(count == 1 ? 0 : std::llround(static_cast<double>(k * n_steps) / static_cast<double>(count - 1)));
  }
  return steps;
}

EnsembleMoments ensemble_moments(const Propagation& propagation, const std::vector<int64_t>& steps,
                                 const torch::Tensor& weights) {
  const int64_t K = propagation.x.size(0);
  for (auto s : steps) {
    if (s < 0 || s >= K) throw std::invalid_argument("ensemble_moments: step " + std::to_string(s) + " out of range");
  }
  const auto index = torch::tensor(steps, torch::kInt64).to(propagation.x.device());
  const auto x = propagation.x.index_select(0, index);  // (K', M, d)
  EnsembleMoments out;
  out.steps = steps;
  out.t = propagation.t.index_select(0, index);
  const auto energy = propagation.energy.index_select(0, index);  // (K', M)
  if (!weights.defined()) {
    out.means = x.mean(1);
    out.sigmas = x.std(1, /*unbiased=*/false);
    out.energy = energy.mean(1);
    return out;
  }
  if (weights.dim() != 1 || weights.size(0) != x.size(1)) {
    throw std::invalid_argument("ensemble_moments: " + std::to_string(weights.numel()) + " weights for " +
                                std::to_string(x.size(1)) + " particles");
  }
  const auto w = weights.to(x.options());
  out.means = (w.view({1, -1, 1}) * x).sum(1);
  out.sigmas = (w.view({1, -1, 1}) * (x - out.means.unsqueeze(1)).square()).sum(1).sqrt();
  out.energy = (w.view({1, -1}) * energy).sum(1);
  return out;
}

}  // namespace bohmflow
