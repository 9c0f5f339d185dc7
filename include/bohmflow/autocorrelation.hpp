// The wavefunction along Bohmian trajectories, and the autocorrelation
// a(t) = ⟨ψ(0)|ψ(t)⟩ it gives. A trajectory x_t from x₀ carries
//
//   ρ(x_t, t) = ρ₀(x₀) / |det F_t|,
//   S(x_t, t) = S₀(x₀) + ∫₀ᵗ L dt′,   L = ½m|v|² − V − Q = m|v|² − E,
//
// (S₀ = m v₀·x, the initial state's linear phase; Q from the learned score),
// so that ψ(x_t, t) = √ρ e^{iS/ħ} and, over particles x ~ ρ_t,
//
//   a(t) = E[ z ],   z = √(ρ₀(x_t) / ρ(x_t, t)) · e^{i(S(x_t, t) − S₀(x_t))/ħ},
//
// whose per-particle second moment E|z|² = ∫ρ₀ = 1 bounds its Monte Carlo
// error by 1/√M. The action integral is the trapezoid rule over the
// leapfrog's full steps, second order in dt like the positions.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include <torch/types.h>

#include "bohmflow/trajectory.hpp"

namespace bohmflow {

class System;

// Along every trajectory of `path` (propagated with F from x0): the phase S
// and ln ρ at each recorded step, (K, M) each.
struct TrajectoryWave {
  torch::Tensor phase;        // S(x_t, t)
  torch::Tensor log_density;  // ln ρ(x_t, t) = ln ρ₀(x₀) − ln|det F_t|
};
TrajectoryWave trajectory_wave(const System& system, const Propagation& path, const torch::Tensor& x0);

struct Autocorrelation {
  std::vector<int64_t> steps;  // leapfrog step indices
  torch::Tensor t;             // (K) times n·dt
  torch::Tensor a;             // (K) complex128 ⟨ψ(0)|ψ(t)⟩
  torch::Tensor a_err;         // (K) Monte Carlo standard error of a: sqrt(Σ w²|z − a|²)
  torch::Tensor energy;        // (K) ⟨H⟩ = E[½m|v|² + V + Q]
  torch::Tensor energy_err;    // (K) its standard error
};

// a(t) and ⟨H⟩(t) at `steps` for the particles x0 (M, d) with `weights` (M,
// summing to 1; undefined: 1/M each), propagated options.chunk_size at a time.
// `progress` (if set) gets (particles done, M) after each chunk.
Autocorrelation propagated_autocorrelation(const System& system, const ScoreNetImpl& network, const torch::Tensor& x0,
                                           const TrajectoryOptions& options, const std::vector<int64_t>& steps,
                                           const torch::Tensor& weights = {},
                                           const std::function<void(int64_t, int64_t)>& progress = {});
// Its estimated peak bytes for M particles: one chunk's propagation with F
// (propagation_bytes) and the positions and weights of all M.
double propagated_autocorrelation_bytes(int64_t M, const ScoreNetOptions& network, const TrajectoryOptions& options);

}  // namespace bohmflow
