// Bohmian trajectories: kick–drift–kick leapfrog for x, v with the deformation
// gradient F = ∂x/∂x₀ (and G = ∂v/∂x₀) co-integrated, and optionally their
// x₀-tangents Ḟ_m = ∂F/∂x₀m, Ġ_m = ∂G/∂x₀m. With t_n = n·dt and a, J_a = ∂a/∂x:
//
//   v½ = v + dt/2·a(x)        G½ = G + dt/2·J_a(x)F       Ġ½_m = Ġ_m + dt/2·(DJ_a[u_m]F + J_a Ḟ_m)
//   x' = x + dt·v½            F' = F + dt·G½              Ḟ'_m = Ḟ_m + dt·Ġ½_m
//   v' = v½ + dt/2·a(x')      G' = G½ + dt/2·J_a(x')F'    Ġ'_m = Ġ½_m + dt/2·(DJ_a[u'_m]F' + J_a Ḟ'_m)
//
// with u_m = F e_m and DJ_a[u] = Σ_j u_j ∂_j J_a. F(0) = I, G(0) = 0, Ḟ(0) = Ġ(0) = 0,
// so F_n is exactly ∂x_n/∂x₀ of the discrete map and Ḟ_n its derivative.
// Per-particle energy E = ½m|v|² + V + Q.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/types.h>

#include "bohmflow/bohmian_dynamics.hpp"
#include "bohmflow/score_network.hpp"

namespace bohmflow {

class System;

struct TrajectoryOptions {
  double T = 3.14159;  // final time
  double dt = 0.01;    // leapfrog step
  int64_t chunk_size = 1024;  // particles per inference sweep: keeps the jets cache-sized; 0: all
  int64_t n_steps() const;  // floor(T/dt) (the reference's int(T/dt))
  void validate() const;    // dt > 0, T >= dt
};

// Leapfrog state at step n. v, G, Ġ are the half-step values v½_{n−1} etc.
// before the closing kick at x_n (at n = 0 the initial values themselves).
struct LeapfrogState {
  torch::Tensor x, v;    // (M, d)
  torch::Tensor F, G;    // (M, d, d), or undefined without F
  torch::Tensor dF, dG;  // (M, d, d, d): [p, m] = ∂/∂x₀m, or undefined without tangents
};

// What one leapfrog step evaluates at x_n: the state with full-step
// velocities, the force there, and the half-kicked-and-drifted state n+1.
struct LeapfrogStep {
  LeapfrogState at;    // full-step values at t_n
  BohmianForce force;  // a (and J_a, ∂J_a) at x_n
  LeapfrogState next;  // pre-kick state n+1 (undefined tensors when last)
};

// One leapfrog unit: the kick that closes step n−1 (skipped when first) and
// the kick + drift that open step n (skipped when last). `order` picks what
// is co-integrated: kForce (x, v), kJacobian (+F, G), kTangent (+Ḟ, Ġ).
LeapfrogStep leapfrog_step(const System& system, const ScoreNetImpl& network,
                           const LeapfrogState& state, double t, double dt, bool first, bool last,
                           ScoreOrder order);

// Draws x₀ ~ |ψ₀|²: (M, d), with the given generator (nullptr: the default).
torch::Tensor sample_initial_positions(const System& system, int64_t M,
                                       const torch::TensorOptions& options,
                                       torch::Generator* generator = nullptr);
// The initial state: x₀, v₀ = ħc/m on every particle, F = I, G = 0, tangents 0.
LeapfrogState initial_state(const System& system, const torch::Tensor& x0, ScoreOrder order);

// Trajectories for inference (no parameter gradient), every step recorded.
struct Propagation {
  torch::Tensor t;       // (K) times t_n, K = n_steps + 1
  torch::Tensor x, v;    // (K, M, d)
  torch::Tensor energy;  // (K, M): ½m|v|² + V + Q
  torch::Tensor F;       // (K, M, d, d) when with_F, else undefined
};
Propagation propagate(const System& system, const ScoreNetImpl& network, const torch::Tensor& x0,
                      const TrajectoryOptions& options, bool with_F = false);

// Throws std::runtime_error naming the earliest step and its first particle
// (counted from `offset`) where x or the energy is NaN or Inf, so that a
// diverging network stops an evaluation there instead of ending in NaN results.
void require_finite_path(const Propagation& path, int64_t offset = 0);

// Estimated peak bytes of propagate() on M particles through `network`: every
// step's x, v, energy (and with_F F), held twice while the chunks are joined,
// and one chunk's activations and jets. For checks before allocating.
double propagation_bytes(int64_t M, const ScoreNetOptions& network, const TrajectoryOptions& options,
                         bool with_F = false);
// The jets of one chunk of `options.chunk_size` particles alone (no recorded steps).
double chunk_jet_bytes(int64_t M, const ScoreNetOptions& network, const TrajectoryOptions& options);

}  // namespace bohmflow
