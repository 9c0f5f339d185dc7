// The interpolators behind the 1D Bohmian trajectories (bohmian_1d.cpp) and
// the KL estimate (kl_divergence.cpp); internal (not installed), tested directly.
#pragma once

#include <vector>

#include <torch/types.h>

namespace bohmflow::detail {

// numpy.interp(x, grid, values) for a uniform ascending grid: linear inside,
// values[0] / values[N−1] beyond the ends. grid, values: (N); x: (P) → (P).
std::vector<double> interpolate_uniform(const std::vector<double>& grid,
                                        const std::vector<double>& values,
                                        const std::vector<double>& x);

// Multilinear interpolation of `field` ((N_0, …, N_{d−1}) float64) given on the
// uniformly spaced axes at `points` (M, d); NaN for a point outside the grid
// (a cell index below 0 or at/after N_k − 1 on some axis). Returns (M).
torch::Tensor interpolate_multilinear(const std::vector<std::vector<double>>& axes,
                                      const torch::Tensor& field, const torch::Tensor& points);

}  // namespace bohmflow::detail
