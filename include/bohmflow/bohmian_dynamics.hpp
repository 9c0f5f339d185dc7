// The Bohmian dynamics the score implies: the quantum potential and the
// acceleration of every particle, with the derivatives the deformation
// gradient F and its x₀-tangents need (trajectory.hpp).
//
//   Q = −(ħ²/4m)(∇·s + ½|s|²),   a = −(∇V + ∇Q)/m.
#pragma once

#include <torch/types.h>

#include "bohmflow/potentials.hpp"
#include "bohmflow/score_network.hpp"

namespace bohmflow {

// Bohmian dynamics at the particles, from the score derivatives:
//   ∇Q   = −(ħ²/4m)(∇Δφ + S s)
//   ∇²Q  = −(ħ²/4m)(∇²Δφ + S S + K),          K_kl = Σ_i s_i ∂_i∂_k∂_l φ
//   ∂_j∇²Q_kl = −(ħ²/4m)(∂_j∇²Δφ_kl + Σ_i[∂_jkiφ S_il + S_ki ∂_jilφ] + Σ_i S_ji ∂_iklφ + ∂_s∂_j∂_k∂_lφ)
//   a = −(∇V + ∇Q)/m,  J_a = −(∇²V + ∇²Q)/m,  ∂_j J_a = −(∂_j∇²V + ∂_j∇²Q)/m
struct BohmianForce {
  torch::Tensor score;         // s: (M, d)
  torch::Tensor quantum;       // Q: (M)
  torch::Tensor acceleration;  // a: (M, d)
  torch::Tensor jacobian;      // J_a = ∂a/∂x: (M, d, d)                  [kJacobian]
  torch::Tensor jacobian_gradient;  // [p, j, k, l] = ∂_j (J_a)_kl: (M, d, d, d) [kTangent]
};

// Quantum potential Q = −(ħ²/4m)(∇·s + ½|s|²) from kForce derivatives: (M).
torch::Tensor quantum_potential(const System& system, const ScoreDerivatives& derivatives);

// Evaluates the network at x (M, d), t to the order the caller needs
// (kForce: a; kJacobian: + J_a; kTangent: + ∂J_a).
BohmianForce bohmian_force(const System& system, const ScoreNetImpl& network,
                           const torch::Tensor& x, double t, ScoreOrder order);

}  // namespace bohmflow
