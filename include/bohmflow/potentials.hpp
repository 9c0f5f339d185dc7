// The systems of system.hpp with their exact derivatives, batched over
// particles, for the Bohmian dynamics: x is (M, d), float64 (or any floating
// dtype) on any device. The derivatives are analytic and written with
// differentiable tensor operations, so reverse-mode autograd through them is
// exact too.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <torch/types.h>

#include "bohmflow/system.hpp"

namespace bohmflow {

// A system with V's derivatives. Its identity (name, parameters, ħ, m, ψ₀,
// V at a point) is the SystemDefinition it was built from, so a System goes
// wherever a SystemDefinition does (the FFT reference).
struct PotentialDerivatives {
  torch::Tensor gradient;  // (M, d) ∇V
  torch::Tensor hessian;   // (M, d, d) ∇²V (order ≥ 2)
  torch::Tensor third;     // (M, d, d, d) [p, j, k, l] = ∂_j∂_k∂_l V (order 3)
};

class System : public SystemDefinition {
 public:
  std::string name() const final { return definition_->name(); }
  std::string label() const final { return definition_->label(); }
  ParameterMap parameters() const final { return definition_->parameters(); }
  std::optional<Trap> trap() const final { return definition_->trap(); }
  double potential_at(const double* x) const final { return definition_->potential_at(x); }
  std::vector<double> potential_on_grid(const std::vector<std::vector<double>>& axes,
                                        int threads = 0) const final {
    return definition_->potential_on_grid(axes, threads);
  }
  const SystemDefinition& definition() const { return *definition_; }
  // An equal system (for a baseline that keeps its own): by default
  // make_system(name(), parameters()).
  virtual std::unique_ptr<System> copy() const;

  // x: (M, d). Returns V: (M).
  virtual torch::Tensor potential(const torch::Tensor& x) const = 0;
  // x: (M, d). Returns ∇V: (M, d).
  virtual torch::Tensor gradient(const torch::Tensor& x) const = 0;
  // x: (M, d). Returns ∇²V: (M, d, d).
  virtual torch::Tensor hessian(const torch::Tensor& x) const = 0;
  // x: (M, d), U: (M, d, n) n directions per particle.
  // Returns (M, n, d, d): entry [p, j, k, l] = Σ_i ∂_i∂_k∂_l V(x_p) U[p, i, j],
  // the derivative of the Hessian along the j-th direction.
  virtual torch::Tensor hessian_directional(const torch::Tensor& x, const torch::Tensor& U) const = 0;
  // ∇V and, with `order` 2 or 3, ∇²V and ∇³V at x (M, d), for the Bohmian
  // force and its Jacobians: by default gradient(), hessian() and
  // hessian_directional(x, I); a system whose derivatives share one chain (a
  // TorchScript module's autograd) computes them together.
  virtual PotentialDerivatives potential_derivatives(const torch::Tensor& x, int order) const;

  // Exact score of |ψ₀|²: s₀(x) = −(x − μ)/σ². x: (M, d) → (M, d).
  torch::Tensor initial_score(const torch::Tensor& x) const;
  // log |ψ₀(x)|². x: (M, d) → (M).
  torch::Tensor initial_log_density(const torch::Tensor& x) const;
  // The phase of ψ₀ = |ψ₀| e^{iS₀/ħ}: S₀(x) = ħ c·x = m v₀·x. x: (M, d) → (M).
  torch::Tensor initial_phase(const torch::Tensor& x) const;

 protected:
  explicit System(std::shared_ptr<const SystemDefinition> definition);

 private:
  std::shared_ptr<const SystemDefinition> definition_;
};

// make_system_definition (system.hpp) with the derivatives: the same names,
// parameters and errors.
std::unique_ptr<System> make_system(const std::string& name, const ParameterMap& overrides = {});

// ---- the systems ------------------------------------------------------------

class MorseChain : public System {
 public:
  explicit MorseChain(const MorseChainOptions& options);
  const MorseChainOptions& options() const;
  torch::Tensor potential(const torch::Tensor& x) const override;
  torch::Tensor gradient(const torch::Tensor& x) const override;
  torch::Tensor hessian(const torch::Tensor& x) const override;
  torch::Tensor hessian_directional(const torch::Tensor& x, const torch::Tensor& U) const override;
};

class DoubleWell : public System {
 public:
  explicit DoubleWell(const DoubleWellOptions& options);
  const DoubleWellOptions& options() const;
  torch::Tensor potential(const torch::Tensor& x) const override;
  torch::Tensor gradient(const torch::Tensor& x) const override;
  torch::Tensor hessian(const torch::Tensor& x) const override;
  torch::Tensor hessian_directional(const torch::Tensor& x, const torch::Tensor& U) const override;
};

class Harmonic : public System {
 public:
  explicit Harmonic(const HarmonicOptions& options);
  const HarmonicOptions& options() const;
  torch::Tensor potential(const torch::Tensor& x) const override;
  torch::Tensor gradient(const torch::Tensor& x) const override;
  torch::Tensor hessian(const torch::Tensor& x) const override;
  torch::Tensor hessian_directional(const torch::Tensor& x, const torch::Tensor& U) const override;
};

// The cubic part's Hessian is linear in q, so its derivative along u is the
// same matrix at u: O(d) per particle and direction.
class HenonHeiles : public System {
 public:
  explicit HenonHeiles(const HenonHeilesOptions& options);
  const HenonHeilesOptions& options() const;
  torch::Tensor potential(const torch::Tensor& x) const override;
  torch::Tensor gradient(const torch::Tensor& x) const override;
  torch::Tensor hessian(const torch::Tensor& x) const override;
  torch::Tensor hessian_directional(const torch::Tensor& x, const torch::Tensor& U) const override;

 private:
  // ∇²V − I at q = y: diag(2λ y_{k+1} (k < d−1) − 2λ y_k (k > 0)), and 2λ y_k at
  // (k, k+1) and (k+1, k). y: (…, d) → (…, d, d).
  torch::Tensor cubic_hessian(const torch::Tensor& y) const;
};

// With r = x_i − x_j and f(r) = A exp(−r²/(2s₂)), A = g/(2√(2π s₂)), the pair
// sum's derivatives are those of f along e_i − e_j, so every order is a
// (d × d) matrix of f^{(n)}(x_a − x_b): O(d²) per particle.
class InteractingBosons : public System {
 public:
  explicit InteractingBosons(const InteractingBosonsOptions& options);
  const InteractingBosonsOptions& options() const;
  torch::Tensor potential(const torch::Tensor& x) const override;
  torch::Tensor gradient(const torch::Tensor& x) const override;
  torch::Tensor hessian(const torch::Tensor& x) const override;
  torch::Tensor hessian_directional(const torch::Tensor& x, const torch::Tensor& U) const override;
 private:
  // f^{(n)}(x_a − x_b) for every ordered pair, zero on the diagonal: (M, d, d).
  torch::Tensor pair_derivative(const torch::Tensor& x, int order) const;
};

}  // namespace bohmflow
