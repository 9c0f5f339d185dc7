// Ensemble observables of propagated particles: per-coordinate means and
// standard deviations, and the ensemble energy ⟨½m|v|² + V + Q⟩, at chosen steps.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/types.h>

#include "bohmflow/trajectory.hpp"

namespace bohmflow {

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

}  // namespace bohmflow
