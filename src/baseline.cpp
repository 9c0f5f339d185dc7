#include "bohmflow/baseline.hpp"

#include <cmath>
#include <sstream>
#include <stdexcept>

#include <torch/torch.h>

#include "bohmflow/potentials.hpp"

namespace bohmflow {
namespace {

torch::Tensor to_tensor(const Eigen::MatrixXd& m, const torch::TensorOptions& options) {
  auto t = torch::empty({m.rows(), m.cols()}, torch::kFloat64);
  auto a = t.accessor<double, 2>();
  for (Eigen::Index i = 0; i < m.rows(); ++i)
    for (Eigen::Index j = 0; j < m.cols(); ++j) a[i][j] = m(i, j);
  return t.to(options);
}

Eigen::VectorXd gradient_at(const System& system, const Eigen::VectorXd& r) {
  auto x = torch::from_blob(const_cast<double*>(r.data()), {1, r.size()}, torch::kFloat64).clone();
  const auto g = system.gradient(x).contiguous();
  return Eigen::Map<const Eigen::VectorXd>(g.data_ptr<double>(), r.size());
}

Eigen::MatrixXd hessian_at(const System& system, const Eigen::VectorXd& r) {
  auto x = torch::from_blob(const_cast<double*>(r.data()), {1, r.size()}, torch::kFloat64).clone();
  const auto h = system.hessian(x).reshape({r.size(), r.size()}).contiguous();
  Eigen::MatrixXd H = Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic,
                                                     Eigen::RowMajor>>(h.data_ptr<double>(),
                                                                       r.size(), r.size());
  return 0.5 * (H + H.transpose());
}

double potential_at(const System& system, const Eigen::VectorXd& r) {
  auto x = torch::from_blob(const_cast<double*>(r.data()), {1, r.size()}, torch::kFloat64).clone();
  return system.potential(x).item<double>();
}

// Newton's method from the origin with a backtracking line search; where the
// Hessian is not positive definite the step falls back to steepest descent.
Eigen::VectorXd find_minimum(const System& system, const BaselineOptions& options) {
  Eigen::VectorXd r = Eigen::VectorXd::Zero(system.dim());
  double v = potential_at(system, r);
  for (int iteration = 0; iteration < options.max_iterations; ++iteration) {
    const Eigen::VectorXd g = gradient_at(system, r);
    if (g.lpNorm<Eigen::Infinity>() < options.gradient_tolerance) return r;
    Eigen::LLT<Eigen::MatrixXd> llt(hessian_at(system, r));
    Eigen::VectorXd step = llt.info() == Eigen::Success ? Eigen::VectorXd(-llt.solve(g)) : Eigen::VectorXd(-g);
    if (step.dot(g) >= 0) step = -g;
    double alpha = 1.0;
    for (int k = 0; k < 60; ++k, alpha *= 0.5) {
      const double v_new = potential_at(system, r + alpha * step);
      if (v_new <= v + 1e-4 * alpha * step.dot(g) || k == 59) {
        r += alpha * step;
        v = v_new;
        break;
      }
    }
  }
  const double residual = gradient_at(system, r).lpNorm<Eigen::Infinity>();
  if (residual < 1e3 * options.gradient_tolerance) return r;
  std::ostringstream out;
  out << "GaussianBaseline: finding the minimum of " << system.label() << " did not converge in "
      << options.max_iterations << " Newton iterations (|grad V| = " << residual << ")";
  throw std::runtime_error(out.str());
}

}  // namespace

void BaselineOptions::validate() const {
  if (kind != "minimum" && kind != "trap" && kind != "none") {
    throw std::invalid_argument("BaselineOptions::kind = '" + kind +
                                "': must be 'minimum', 'trap' or 'none'");
  }
  if (max_iterations < 1) throw std::invalid_argument("BaselineOptions::max_iterations must be >= 1");
  if (!(gradient_tolerance > 0)) {
    throw std::invalid_argument("BaselineOptions::gradient_tolerance must be > 0");
  }
}

GaussianBaseline::GaussianBaseline(const System& system, const BaselineOptions& options)
    : kind_(options.kind), hbar_over_mass_(system.hbar() / system.mass()) {
  options.validate();
  const int d = system.dim();
  if (!enabled()) {
    equilibrium_ = omega_ = q0_ = qdot0_ = sigma0_sq_ = Eigen::VectorXd::Zero(d);
    modes_ = Eigen::MatrixXd::Identity(d, d);
    return;
  }
  Eigen::MatrixXd stiffness;
  if (kind_ == "trap") {
    const auto trap = system.trap();
    if (!trap) {
      throw std::invalid_argument("GaussianBaseline: kind 'trap', but " + system.label() +
                                  " has no harmonic trap (use 'minimum' or 'none')");
    }
    equilibrium_ = Eigen::Map<const Eigen::VectorXd>(trap->centre.data(), d);
    stiffness = Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
        trap->stiffness.data(), d, d);
  } else {
    equilibrium_ = find_minimum(system, options);
    stiffness = hessian_at(system, equilibrium_);
  }
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eigen(stiffness / system.mass());
  const Eigen::VectorXd curvature = eigen.eigenvalues();  // ω² (ascending)
  for (int k = 0; k < d; ++k) {
    if (!(curvature(k) > 0)) {
      std::ostringstream out;
      out << "GaussianBaseline: the Hessian of " << system.label() << " at its minimum has eigenvalue "
          << k << " = " << curvature(k) * system.mass()
          << " <= 0, so there is no harmonic expansion (choose another baseline)";
      throw std::runtime_error(out.str());
    }
  }
  omega_ = curvature.cwiseSqrt();
  modes_ = eigen.eigenvectors();

  const auto& initial = system.initial_state();
  const Eigen::VectorXd mean = Eigen::Map<const Eigen::VectorXd>(initial.mean.data(), d);
  const Eigen::VectorXd velocity = Eigen::Map<const Eigen::VectorXd>(initial.velocity.data(), d);
  const Eigen::VectorXd sigma = Eigen::Map<const Eigen::VectorXd>(initial.sigma.data(), d);
  q0_ = modes_.transpose() * (mean - equilibrium_);
  qdot0_ = modes_.transpose() * velocity;
  sigma0_sq_ = (modes_.transpose() * sigma.array().square().matrix().asDiagonal() * modes_).diagonal();
}

// σ²(t) = A + B cos 2ωt, A, B = ½(σ₀² ± σ_eq⁴/σ₀²), σ_eq² = ħ/(2mω)
Eigen::VectorXd GaussianBaseline::mode_variances(double t) const {
  Eigen::VectorXd out(omega_.size());
  for (Eigen::Index k = 0; k < omega_.size(); ++k) {
    const double eq = hbar_over_mass_ / (2.0 * omega_(k));
    const double ratio = eq * eq / sigma0_sq_(k);
    out(k) = 0.5 * (sigma0_sq_(k) + ratio) + 0.5 * (sigma0_sq_(k) - ratio) * std::cos(2.0 * omega_(k) * t);
  }
  return out;
}

// q_c(t) = q₀ cos ωt + (q̇₀/ω) sin ωt
Eigen::VectorXd GaussianBaseline::mode_centroids(double t) const {
  Eigen::VectorXd out(omega_.size());
  for (Eigen::Index k = 0; k < omega_.size(); ++k) {
    out(k) = q0_(k) * std::cos(omega_(k) * t) + qdot0_(k) / omega_(k) * std::sin(omega_(k) * t);
  }
  return out;
}

torch::Tensor GaussianBaseline::precision(double t, const torch::TensorOptions& options) const {
  if (!enabled()) return torch::zeros({dim(), dim()}, options);
  const Eigen::MatrixXd B =
      modes_ * mode_variances(t).cwiseInverse().asDiagonal() * modes_.transpose();
  return to_tensor(B, options);
}

torch::Tensor GaussianBaseline::centre(double t, const torch::TensorOptions& options) const {
  if (!enabled()) return torch::zeros({dim()}, options);
  const Eigen::VectorXd xc = equilibrium_ + modes_ * mode_centroids(t);
  return to_tensor(xc, options).reshape({dim()});
}

// s_base(x, t) = −B(t)(x − x_c(t))
torch::Tensor GaussianBaseline::score(const torch::Tensor& x, double t) const {
  const auto options = x.options();
  if (!enabled()) return torch::zeros_like(x);
  return -torch::matmul(x - centre(t, options), precision(t, options));
}

}  // namespace bohmflow
