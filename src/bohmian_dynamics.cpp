// The quantum potential and the Bohmian acceleration from the network's score
// derivatives; the equations stand in include/bohmflow/bohmian_dynamics.hpp.
#include "bohmflow/bohmian_dynamics.hpp"

#include <stdexcept>

#include <torch/torch.h>

namespace bohmflow {

// Q = −(ħ²/4m)(∇·s + ½|s|²)
torch::Tensor quantum_potential(const System& system, const ScoreDerivatives& derivatives) {
  const double c = system.hbar() * system.hbar() / (4.0 * system.mass());
  const auto divergence = derivatives.jacobian.diagonal(0, 1, 2).sum(-1);
  return -c * (divergence + 0.5 * derivatives.score.square().sum(-1));
}

BohmianForce bohmian_force(const System& system, const ScoreNetImpl& network,
                           const torch::Tensor& x, double t, ScoreOrder order) {
  if (order < ScoreOrder::kForce) {
    throw std::invalid_argument("bohmian_force: needs at least ScoreOrder::kForce");
  }
  const auto D = network.derivatives(x, t, order);
  const auto V = system.potential_derivatives(
      x, order == ScoreOrder::kForce ? 1 : order == ScoreOrder::kJacobian ? 2 : 3);
  const double m = system.mass();
  const double c = system.hbar() * system.hbar() / (4.0 * m);
  const auto& s = D.score;
  const auto& S = D.jacobian;

  BohmianForce out;
  out.score = s;
  out.quantum = quantum_potential(system, D);
  const auto S_s = torch::matmul(S, s.unsqueeze(-1)).squeeze(-1);
  const auto grad_Q = -c * (D.grad_lap + S_s);
  out.acceleration = -(V.gradient + grad_Q) / m;
  if (order == ScoreOrder::kForce) return out;

  const auto K = torch::einsum("pi,pikl->pkl", {s, D.third});
  const auto hess_Q = -c * (D.hess_lap + torch::matmul(S, S) + K);
  out.jacobian = -(V.hessian + hess_Q) / m;
  if (order == ScoreOrder::kJacobian) return out;

  const auto& T3 = D.third;
  const auto grad_hess_Q =
      -c * (D.grad3_lap + torch::einsum("pjki,pil->pjkl", {T3, S}) +
            torch::einsum("pki,pjil->pjkl", {S, T3}) + torch::einsum("pji,pikl->pjkl", {S, T3}) +
            D.third_s);
  out.jacobian_gradient = -(V.third + grad_hess_Q) / m;
  return out;
}

}  // namespace bohmflow
