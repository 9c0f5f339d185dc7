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
//
// The variational Gaussian (kind "variational"; Heller 1976, Coalson and
// Karplus 1990) instead follows V averaged over its own density. With
//   ψ = exp{(i/ħ)[(x − q)ᵀA(x − q) + pᵀ(x − q) + γ]},  |ψ|² = N(q, Σ),  Σ = (ħ/4)(Im A)⁻¹,
// the time-dependent variational principle gives
//   q̇ = p/m,   ṗ = −⟨∇V⟩,   Ȧ = −(2/m)A² − ½⟨∇²V⟩,
// ⟨·⟩ the average over N(q, Σ). It is exact for harmonic V, and for
// interacting particles it follows the mean-field spreading that a fixed
// harmonic expansion misses (the bosons' saddle at the origin). The baseline is
// that Gaussian: x_c = q, B = (4/ħ) Im A.
#pragma once

#include <memory>
#include <string>

#include <Eigen/Dense>
#include <torch/types.h>

#include "bohmflow/sampling.hpp"

namespace bohmflow {

class System;

// The Gaussian baseline's kind (BaselineOptions::kind below).
enum class BaselineKind { kMinimum, kTrap, kVariational, kNone };
template <>
struct OptionWords<BaselineKind> {
  static constexpr const char* option = "baseline";
  static constexpr std::pair<BaselineKind, const char*> words[] = {{BaselineKind::kMinimum, "minimum"},
                                                                    {BaselineKind::kTrap, "trap"},
                                                                    {BaselineKind::kVariational, "variational"},
                                                                    {BaselineKind::kNone, "none"}};
};

struct BaselineOptions {
  // "minimum": expansion at the minimum of V (the reference); "trap": the
  // system's harmonic trap alone (System::trap(), exact when the rest of V
  // vanishes, e.g. interacting bosons at g = 0); "variational": the
  // variational Gaussian (above); "none": s_base = 0.
  BaselineKind kind = BaselineKind::kMinimum;
  int max_iterations = 200;      // Newton iterations for the minimum
  double gradient_tolerance = 1e-12;  // stop when |∇V(r_eq)|∞ is below this
  // "variational": RK4 step of the equations of motion; between steps q and
  // Im A are cubic Hermite interpolants (error ~ (h/τ)⁴ for the fastest time scale τ).
  double time_step = 5e-3;
  // "variational": the rule for ⟨∇V⟩ and ⟨∇²V⟩ over N(q, Σ), x = q + Lz with
  // Σ = LLᵀ; every z also enters as −z, so the averages are exact for quadratic V.
  SamplingOptions averaging{SamplingMethod::kSobol, 2048, 7};
  void validate() const;
};

class GaussianBaseline {
 public:
  // Finds the minimum and the normal modes; throws std::runtime_error if the
  // minimisation fails or the Hessian has a non-positive eigenvalue (named).
  // "variational" keeps its own copy of the system and integrates on demand,
  // so x_c(t) and B(t) are available for any t >= 0.
  GaussianBaseline(const System& system, const BaselineOptions& options = {});

  // x: (M, d) positions at time t. Returns s_base: (M, d).
  torch::Tensor score(const torch::Tensor& x, double t) const;
  // B(t): (d, d), the (symmetric) precision matrix, so ∇s_base = −B(t).
  torch::Tensor precision(double t, const torch::TensorOptions& options) const;
  // x_c(t): (d).
  torch::Tensor centre(double t, const torch::TensorOptions& options) const;

  bool enabled() const { return kind_ != BaselineKind::kNone; }
  BaselineKind kind() const { return kind_; }
  int dim() const { return static_cast<int>(equilibrium_.size()); }
  const Eigen::VectorXd& equilibrium() const { return equilibrium_; }  // r_eq
  const Eigen::VectorXd& frequencies() const { return omega_; }        // ω_k
  const Eigen::MatrixXd& modes() const { return modes_; }              // U (columns)

  // Harmonic kinds ("minimum", "trap"): per-mode σ²(t) and q_c(t), (d) each.
  Eigen::VectorXd mode_variances(double t) const;
  Eigen::VectorXd mode_centroids(double t) const;

 private:
  struct VariationalPath;  // the variational Gaussian on t_k = k·h (baseline.cpp)
  std::shared_ptr<VariationalPath> path_;
  void require_harmonic(const char* what) const;  // throws for "variational"
  BaselineKind kind_;
  double hbar_over_mass_ = 1.0;
  Eigen::VectorXd equilibrium_, omega_, q0_, qdot0_, sigma0_sq_;
  Eigen::MatrixXd modes_;
};

}  // namespace bohmflow
