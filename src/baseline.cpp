#include "bohmflow/baseline.hpp"

#include <cmath>
#include <complex>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <torch/torch.h>

#include "bohmflow/potentials.hpp"
#include "device_constants.hpp"

namespace bohmflow {
namespace {

torch::Tensor to_tensor(const Eigen::MatrixXd& m, const torch::TensorOptions& options) {
  std::vector<double> values(static_cast<size_t>(m.size()));
  for (Eigen::Index i = 0; i < m.rows(); ++i)
    for (Eigen::Index j = 0; j < m.cols(); ++j) values[i * m.cols() + j] = m(i, j);
  return detail::device_constant(values, {m.rows(), m.cols()}, options);
}

Eigen::MatrixXd to_matrix(const torch::Tensor& t) {
  const auto c = t.to(torch::kFloat64).contiguous();
  return Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
      c.data_ptr<double>(), c.size(0), c.size(1));
}

// r as one particle: (1, d).
torch::Tensor as_particle(const Eigen::VectorXd& r) {
  return torch::from_blob(const_cast<double*>(r.data()), {1, r.size()}, torch::kFloat64).clone();
}

Eigen::VectorXd gradient_at(const System& system, const Eigen::VectorXd& r) {
  return to_matrix(system.gradient(as_particle(r))).row(0).transpose();
}

Eigen::MatrixXd hessian_at(const System& system, const Eigen::VectorXd& r) {
  const Eigen::MatrixXd H = to_matrix(system.hessian(as_particle(r)).reshape({r.size(), r.size()}));
  return 0.5 * (H + H.transpose());
}

double potential_at(const System& system, const Eigen::VectorXd& r) {
  return system.potential(as_particle(r)).item<double>();
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
      << options.max_iterations << " Newton iterations (|grad V| = " << residual
      << "): choose another baseline (--baseline trap or none)";
  throw std::runtime_error(out.str());
}

}  // namespace

// The variational Gaussian (q, p, A) on the nodes t_k = k·h, extended on
// demand; between nodes, cubic Hermite interpolation of q and Im A from their
// values and rates at both ends.
struct GaussianBaseline::VariationalPath {
  struct State {
    Eigen::VectorXd q, p;
    Eigen::MatrixXcd A;
  };
  struct Node {
    State state;
    Eigen::VectorXd q_rate;        // q̇
    Eigen::MatrixXd im_A_rate;     // Im Ȧ
  };

  std::unique_ptr<System> system;  // a copy: the baseline may outlive its argument
  double h = 0.0, hbar = 1.0, mass = 1.0;
  torch::Tensor z, weights;        // (N, d) standard normal points with their mirrors, (N)
  std::vector<Node> nodes;
  std::mutex mutex;                // nodes grow inside const queries

  // q̇ = p/m, ṗ = −⟨∇V⟩, Ȧ = −(2/m)A² − ½⟨∇²V⟩, ⟨·⟩ over N(q, Σ), Σ = (ħ/4)(Im A)⁻¹
  State rates(const State& y, double t) const {
    const int d = static_cast<int>(y.q.size());
    const Eigen::MatrixXd im_A = 0.5 * (y.A.imag() + y.A.imag().transpose());
    Eigen::LLT<Eigen::MatrixXd> llt(im_A);
    if (llt.info() != Eigen::Success) {
      std::ostringstream out;
      out << "GaussianBaseline: the variational Gaussian of " << system->label()
          << " lost its positive width at t = " << t << " (reduce BaselineOptions::time_step)";
      throw std::runtime_error(out.str());
    }
    const Eigen::MatrixXd covariance = (hbar / 4.0) * llt.solve(Eigen::MatrixXd::Identity(d, d));
    const Eigen::MatrixXd L = covariance.llt().matrixL();
    const auto x = as_particle(y.q) + torch::matmul(z, to_tensor(L, torch::kFloat64).t());
    const auto w = weights.unsqueeze(1);
    const Eigen::VectorXd force =
        -to_matrix((w * system->gradient(x)).sum(0, /*keepdim=*/true)).row(0).transpose();
    const Eigen::MatrixXd curvature = to_matrix((w.unsqueeze(2) * system->hessian(x)).sum(0));
    State rate;
    rate.q = y.p / mass;
    rate.p = force;
    const Eigen::MatrixXd symmetric = 0.5 * (curvature + curvature.transpose());
    rate.A = -(2.0 / mass) * y.A * y.A - 0.5 * symmetric.cast<std::complex<double>>();
    return rate;
  }

  Node node(const State& y, double t) const {
    const State rate = rates(y, t);
    return {y, rate.q, rate.A.imag()};
  }

  // Classical RK4 from the last node until node `last` exists.
  void extend_to(std::size_t last) {
    while (nodes.size() <= last) {
      const double t0 = h * static_cast<double>(nodes.size() - 1);
      const State& y = nodes.back().state;
      auto step = [](const State& base, const State& rate, double scale) {
        return State{base.q + scale * rate.q, base.p + scale * rate.p, base.A + scale * rate.A};
      };
      const State k1 = rates(y, t0);
      const State k2 = rates(step(y, k1, h / 2), t0 + h / 2);
      const State k3 = rates(step(y, k2, h / 2), t0 + h / 2);
      const State k4 = rates(step(y, k3, h), t0 + h);
      State next{y.q + h / 6 * (k1.q + 2 * k2.q + 2 * k3.q + k4.q),
                 y.p + h / 6 * (k1.p + 2 * k2.p + 2 * k3.p + k4.p),
                 y.A + h / 6 * (k1.A + 2 * k2.A + 2 * k3.A + k4.A)};
      next.A = 0.5 * (next.A + next.A.transpose()).eval();
      nodes.push_back(node(next, t0 + h));
    }
  }

  // x_c(t) = q(t), B(t) = (4/ħ) Im A(t).
  std::pair<Eigen::VectorXd, Eigen::MatrixXd> at(double t) {
    if (!(t >= 0)) {
      throw std::invalid_argument("GaussianBaseline: the variational Gaussian starts at t = 0; asked for t = " +
                                  std::to_string(t));
    }
    const auto k = static_cast<std::size_t>(std::floor(t / h));
    std::lock_guard<std::mutex> lock(mutex);
    extend_to(k + 1);
    const double s = t / h - static_cast<double>(k);
    const Node &a = nodes[k], &b = nodes[k + 1];
    // Cubic Hermite basis on [t_k, t_k+1].
    const double h00 = (1 + 2 * s) * (1 - s) * (1 - s), h10 = s * (1 - s) * (1 - s);
    const double h01 = s * s * (3 - 2 * s), h11 = -s * s * (1 - s);
    const Eigen::VectorXd q = h00 * a.state.q + h10 * h * a.q_rate + h01 * b.state.q + h11 * h * b.q_rate;
    const Eigen::MatrixXd im_A = h00 * a.state.A.imag() + h10 * h * a.im_A_rate + h01 * b.state.A.imag() +
                                 h11 * h * b.im_A_rate;
    return {q, (4.0 / hbar) * 0.5 * (im_A + im_A.transpose())};
  }
};

void BaselineOptions::validate() const {
  if (max_iterations < 1) throw std::invalid_argument("BaselineOptions::max_iterations must be >= 1");
  if (!(gradient_tolerance > 0)) {
    throw std::invalid_argument("BaselineOptions::gradient_tolerance must be > 0");
  }
  if (!(time_step > 0)) throw std::invalid_argument("BaselineOptions::time_step must be > 0");
  averaging.validate();
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
  const auto& initial = system.initial_state();
  const Eigen::VectorXd mean = Eigen::Map<const Eigen::VectorXd>(initial.mean.data(), d);
  const Eigen::VectorXd velocity = Eigen::Map<const Eigen::VectorXd>(initial.velocity.data(), d);
  const Eigen::VectorXd sigma = Eigen::Map<const Eigen::VectorXd>(initial.sigma.data(), d);
  if (kind_ == BaselineKind::kVariational) {
    equilibrium_ = omega_ = q0_ = qdot0_ = sigma0_sq_ = Eigen::VectorXd::Zero(d);
    modes_ = Eigen::MatrixXd::Identity(d, d);
    path_ = std::make_shared<VariationalPath>();
    path_->system = system.copy();
    path_->h = options.time_step;
    path_->hbar = system.hbar();
    path_->mass = system.mass();
    const auto points = standard_normal_points(d, options.averaging);
    path_->z = torch::cat({points.x0, -points.x0});
    path_->weights = 0.5 * torch::cat({points.weights, points.weights});
    // |ψ₀|² = N(μ, diag σ²) with phase e^{ic·x}: q = μ, p = m v₀, A = i(ħ/4) diag(1/σ²).
    VariationalPath::State start{mean, system.mass() * velocity, Eigen::MatrixXcd::Zero(d, d)};
    for (int i = 0; i < d; ++i) start.A(i, i) = {0.0, system.hbar() / (4.0 * sigma(i) * sigma(i))};
    path_->nodes.push_back(path_->node(start, 0.0));
    return;
  }
  Eigen::MatrixXd stiffness;
  if (kind_ == BaselineKind::kTrap) {
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
  q0_ = modes_.transpose() * (mean - equilibrium_);
  qdot0_ = modes_.transpose() * velocity;
  sigma0_sq_ = (modes_.transpose() * sigma.array().square().matrix().asDiagonal() * modes_).diagonal();
}

void GaussianBaseline::require_harmonic(const char* what) const {
  if (path_) {
    throw std::logic_error(std::string("GaussianBaseline::") + what +
                           ": the variational Gaussian has no fixed normal modes");
  }
}

// σ²(t) = A + B cos 2ωt, A, B = ½(σ₀² ± σ_eq⁴/σ₀²), σ_eq² = ħ/(2mω)
Eigen::VectorXd GaussianBaseline::mode_variances(double t) const {
  require_harmonic("mode_variances");
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
  require_harmonic("mode_centroids");
  Eigen::VectorXd out(omega_.size());
  for (Eigen::Index k = 0; k < omega_.size(); ++k) {
    out(k) = q0_(k) * std::cos(omega_(k) * t) + qdot0_(k) / omega_(k) * std::sin(omega_(k) * t);
  }
  return out;
}

torch::Tensor GaussianBaseline::precision(double t, const torch::TensorOptions& options) const {
  if (!enabled()) return torch::zeros({dim(), dim()}, options);
  if (path_) return to_tensor(path_->at(t).second, options);
  const Eigen::MatrixXd B =
      modes_ * mode_variances(t).cwiseInverse().asDiagonal() * modes_.transpose();
  return to_tensor(B, options);
}

torch::Tensor GaussianBaseline::centre(double t, const torch::TensorOptions& options) const {
  if (!enabled()) return torch::zeros({dim()}, options);
  if (path_) return to_tensor(path_->at(t).first, options).reshape({dim()});
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
