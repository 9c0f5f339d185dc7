// Gaussian baseline score from a harmonic approximation of V.
//
// Expand V to second order at its minimum r_eq (or take the system's harmonic
// trap), with mass-weighted normal
// modes ∇²V(r_eq) = m U diag(ω²) Uᵀ. Each mode q = Uᵀ(x − r_eq) of a Gaussian
// state then evolves independently:
//   centroid  q_c(t) = q₀ cos ωt + (q̇₀/ω) sin ωt
//   width     σ²(t)  = A + B cos 2ωt,  A, B = ½(σ₀² ± σ_eq⁴/σ₀²),  σ_eq² = ħ/(2mω)
// (Ermakov), with q₀ = Uᵀ(μ − r_eq), q̇₀ = Uᵀv₀ and σ₀² = diag(Uᵀ Σ₀ U).
// The baseline score is the score of that Gaussian,
//   s_base(x, t) = −B(t) (x − x_c(t)),  B(t) = U diag(1/σ²(t)) Uᵀ,  x_c = r_eq + U q_c(t),
// exact when V is harmonic (and Σ₀ is diagonal in the normal modes).
#pragma once

#include <string>

#include <Eigen/Dense>
#include <torch/types.h>

namespace bohmflow {

class System;

struct BaselineOptions {
  // "minimum": expansion at the minimum of V (the reference); "trap": the
  // system's harmonic trap alone (System::trap(), exact when the rest of V
  // vanishes, e.g. interacting bosons at g = 0); "none": s_base = 0.
  std::string kind = "minimum";
  int max_iterations = 200;      // Newton iterations for the minimum
  double gradient_tolerance = 1e-12;  // stop when |∇V(r_eq)|∞ is below this
  void validate() const;
};

class GaussianBaseline {
 public:
  // Finds the minimum and the normal modes; throws std::runtime_error if the
  // minimisation fails or the Hessian has a non-positive eigenvalue (named).
  GaussianBaseline(const System& system, const BaselineOptions& options = {});

  // x: (M, d) positions at time t. Returns s_base: (M, d).
  torch::Tensor score(const torch::Tensor& x, double t) const;
  // B(t): (d, d), the (symmetric) precision matrix, so ∇s_base = −B(t).
  torch::Tensor precision(double t, const torch::TensorOptions& options) const;
  // x_c(t): (d).
  torch::Tensor centre(double t, const torch::TensorOptions& options) const;

  bool enabled() const { return kind_ != "none"; }
  const std::string& kind() const { return kind_; }
  int dim() const { return static_cast<int>(equilibrium_.size()); }
  const Eigen::VectorXd& equilibrium() const { return equilibrium_; }  // r_eq
  const Eigen::VectorXd& frequencies() const { return omega_; }        // ω_k
  const Eigen::MatrixXd& modes() const { return modes_; }              // U (columns)

  // Per-mode σ²(t) and q_c(t), (d) each.
  Eigen::VectorXd mode_variances(double t) const;
  Eigen::VectorXd mode_centroids(double t) const;

 private:
  std::string kind_;
  double hbar_over_mass_ = 1.0;
  Eigen::VectorXd equilibrium_, omega_, q0_, qdot0_, sigma0_sq_;
  Eigen::MatrixXd modes_;
};

}  // namespace bohmflow
