// Initial positions x₀ ~ ρ₀ = N(μ, diag σ²) with weights, three ways:
//   "mc"             independent draws, weights 1/M (error ~σ/√M)
//   "sobol"          scrambled Sobol points (Boost.Random's generator, a random
//                    digital shift per seed) through the inverse normal CDF,
//                    weights 1/M (error ~(log M)^d/M for smooth observables)
//   "gauss-hermite"  the tensor Gauss–Hermite rule with n nodes per axis,
//                    exact for polynomials of degree ≤ 2n−1 in each x₀_i
// Every particle is a deterministic image of its x₀, so ensemble moments at
// any time are integrals over ρ₀: quadrature removes the sampling noise.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "bohmflow/option_words.hpp"

namespace bohmflow {

class System;

// How starting points are drawn: independent draws ("mc"), scrambled Sobol
// points ("sobol"), or a Gauss–Hermite product rule ("gauss-hermite").
enum class SamplingMethod { kMc, kSobol, kGaussHermite };
template <>
struct OptionWords<SamplingMethod> {
  static constexpr const char* option = "sampling";
  static constexpr std::pair<SamplingMethod, const char*> words[] = {
      {SamplingMethod::kMc, "mc"}, {SamplingMethod::kSobol, "sobol"}, {SamplingMethod::kGaussHermite, "gauss-hermite"}};
};

struct SamplingOptions {
  SamplingMethod method = SamplingMethod::kMc;
  int64_t count = 20000;       // points; gauss-hermite uses n^d ≤ count with the largest n
  uint64_t seed = 999;         // mc draws, sobol scrambling
  void validate() const;
};

struct WeightedPositions {
  torch::Tensor x0;       // (M, d) float64 on the CPU
  torch::Tensor weights;  // (M) float64, summing to 1
  std::string describe;   // e.g. "gauss-hermite, 12^4 = 20736 nodes"
};

WeightedPositions initial_positions(const System& system, const SamplingOptions& options);

// The same rules for the standard normal N(0, I_d): z (M, d) and weights (M),
// float64 on the CPU, with their description. initial_positions maps them to
// x₀ = μ + σ z.
WeightedPositions standard_normal_points(int d, const SamplingOptions& options);

// Nodes and weights of the n-point Gauss–Hermite rule for the standard
// normal measure (probabilists' Hermite), from the Golub–Welsch eigenproblem
// of the Jacobi matrix (zero diagonal, off-diagonal √k). Weights sum to 1.
std::pair<std::vector<double>, std::vector<double>> gauss_hermite_rule(int n);

}  // namespace bohmflow
