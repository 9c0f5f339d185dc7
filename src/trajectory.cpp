#include "bohmflow/trajectory.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

#include <torch/torch.h>

#include "bohmflow/potentials.hpp"

namespace bohmflow {

int64_t TrajectoryOptions::n_steps() const {
  // A small tolerance so that T = 0.2, dt = 0.01 gives 20 steps despite
  // 0.2/0.01 = 19.999…; T = 3.14159 still truncates to 314.
  return static_cast<int64_t>(std::floor(T / dt + 1e-9));
}

void TrajectoryOptions::validate() const {
  if (!(dt > 0) || !std::isfinite(dt)) {
    throw std::invalid_argument("TrajectoryOptions::dt = " + std::to_string(dt) + ": must be > 0");
  }
  if (!(T >= dt) || !std::isfinite(T)) {
    throw std::invalid_argument("TrajectoryOptions::T = " + std::to_string(T) +
                                ": must be finite and >= dt");
  }
  // Far beyond any run, and below where floor(T/dt) stops fitting an int64.
  constexpr double kMaxSteps = 1e9;
  if (!(T / dt <= kMaxSteps)) {
    std::ostringstream message;
    message << "TrajectoryOptions: T/dt = " << T / dt << " leapfrog steps (T = " << T << ", dt = " << dt
            << "): at most " << kMaxSteps;
    throw std::invalid_argument(message.str());
  }
}

torch::Tensor sample_initial_positions(const System& system, int64_t M,
                                       const torch::TensorOptions& options,
                                       torch::Generator* generator) {
  const auto& init = system.initial_state();
  const auto mean = torch::tensor(init.mean, torch::kFloat64).to(options);
  const auto sigma = torch::tensor(init.sigma, torch::kFloat64).to(options);
  auto z = generator ? torch::randn({M, system.dim()}, *generator, torch::kFloat64)
                     : torch::randn({M, system.dim()}, torch::kFloat64);
  return mean + sigma * z.to(options);
}

LeapfrogState initial_state(const System& system, const torch::Tensor& x0, ScoreOrder order) {
  const int64_t M = x0.size(0), d = x0.size(1);
  LeapfrogState s;
  s.x = x0;
  s.v = torch::tensor(system.initial_state().velocity, torch::kFloat64).to(x0.options()).expand({M, d}).clone();
  if (order >= ScoreOrder::kJacobian) {
    s.F = torch::eye(d, x0.options()).expand({M, d, d}).clone();
    s.G = torch::zeros({M, d, d}, x0.options());
  }
  if (order >= ScoreOrder::kTangent) {
    s.dF = torch::zeros({M, d, d, d}, x0.options());
    s.dG = torch::zeros({M, d, d, d}, x0.options());
  }
  return s;
}

LeapfrogStep leapfrog_step(const System& system, const ScoreNetImpl& network,
                           const LeapfrogState& state, double t, double dt, bool first, bool last,
                           ScoreOrder order) {
  LeapfrogStep out;
  out.force = bohmian_force(system, network, state.x, t, order);
  const auto& f = out.force;
  const bool with_F = order >= ScoreOrder::kJacobian;
  const bool with_tangents = order >= ScoreOrder::kTangent;

  // Kick rates: a, J_a F and DJ_a[u_m] F + J_a Ḟ_m (u_m = F e_m).
  const auto kick = [&](const LeapfrogState& s, double h, const LeapfrogState& base) {
    LeapfrogState k;
    k.x = s.x;
    k.v = base.v + h * f.acceleration;
    if (with_F) {
      k.F = s.F;
      k.G = base.G + h * torch::matmul(f.jacobian, s.F);
    }
    if (with_tangents) {
      k.dF = s.dF;
      const auto directional = torch::einsum("pjm,pjkl->pmkl", {s.F, f.jacobian_gradient});
      k.dG = base.dG + h * (torch::matmul(directional, s.F.unsqueeze(1)) +
                            torch::matmul(f.jacobian.unsqueeze(1), s.dF));
    }
    return k;
  };

  out.at = first ? state : kick(state, 0.5 * dt, state);
  if (last) return out;
  const auto half = kick(out.at, 0.5 * dt, out.at);
  out.next.x = half.x + dt * half.v;
  out.next.v = half.v;
  if (with_F) {
    out.next.F = half.F + dt * half.G;
    out.next.G = half.G;
  }
  if (with_tangents) {
    out.next.dF = half.dF + dt * half.dG;
    out.next.dG = half.dG;
  }
  return out;
}

namespace {

Propagation propagate_chunk(const System& system, const ScoreNetImpl& network,
                            const torch::Tensor& x0, const TrajectoryOptions& options, bool with_F) {
  const int64_t n = options.n_steps();
  const auto order = with_F ? ScoreOrder::kJacobian : ScoreOrder::kForce;
  std::vector<torch::Tensor> xs, vs, energies, Fs, ts;
  auto state = initial_state(system, x0, order);
  for (int64_t step = 0; step <= n; ++step) {
    const double t = static_cast<double>(step) * options.dt;
    auto result = leapfrog_step(system, network, state, t, options.dt, step == 0, step == n, order);
    xs.push_back(result.at.x);
    vs.push_back(result.at.v);
    energies.push_back(0.5 * system.mass() * result.at.v.square().sum(-1) +
                       system.potential(result.at.x) + result.force.quantum);
    if (with_F) Fs.push_back(result.at.F);
    ts.push_back(torch::full({1}, t, x0.options()));
    state = std::move(result.next);
  }
  Propagation out;
  out.t = torch::cat(ts);
  out.x = torch::stack(xs);
  out.v = torch::stack(vs);
  out.energy = torch::stack(energies);
  if (with_F) out.F = torch::stack(Fs);
  return out;
}

}  // namespace

Propagation propagate(const System& system, const ScoreNetImpl& network, const torch::Tensor& x0,
                      const TrajectoryOptions& options, bool with_F) {
  options.validate();
  if (options.chunk_size < 0) throw std::invalid_argument("TrajectoryOptions::chunk_size must be >= 0");
  torch::NoGradGuard no_grad;
  const int64_t M = x0.size(0);
  const int64_t chunk = options.chunk_size > 0 ? options.chunk_size : M;
  std::vector<Propagation> parts;
  for (int64_t start = 0; start < M; start += chunk) {
    parts.push_back(propagate_chunk(system, network, x0.narrow(0, start, std::min(chunk, M - start)),
                                    options, with_F));
  }
  if (parts.size() == 1) return std::move(parts.front());
  const auto join = [&](auto member) {
    std::vector<torch::Tensor> pieces;
    for (const auto& part : parts) pieces.push_back(part.*member);
    return torch::cat(pieces, 1);  // particles are axis 1 of (K, M, …)
  };
  Propagation out;
  out.t = parts.front().t;
  out.x = join(&Propagation::x);
  out.v = join(&Propagation::v);
  out.energy = join(&Propagation::energy);
  if (with_F) out.F = join(&Propagation::F);
  return out;
}

double chunk_jet_bytes(int64_t M, const ScoreNetOptions& network, const TrajectoryOptions& options) {
  // Per particle and hidden unit: the value, its d first and d² second
  // derivatives, kJetCopies times over (the temporaries of one step).
  constexpr double kJetCopies = 4.0;
  const double d = static_cast<double>(network.d);
  const double chunk = static_cast<double>(options.chunk_size > 0 ? std::min(options.chunk_size, M) : M);
  double units = 0;
  for (const auto width : network.hidden_dims) units += static_cast<double>(width);
  return kJetCopies * 8.0 * chunk * units * (1.0 + d + d * d);
}

double propagation_bytes(int64_t M, const ScoreNetOptions& network, const TrajectoryOptions& options, bool with_F) {
  const double d = static_cast<double>(network.d);
  const double steps = static_cast<double>(options.n_steps() + 1);
  const double per_step = 2.0 * d + 1.0 + (with_F ? d * d : 0.0);
  return 2.0 * 8.0 * steps * static_cast<double>(M) * per_step + chunk_jet_bytes(M, network, options);
}

void require_finite_path(const Propagation& path, int64_t offset) {
  const auto finite = torch::isfinite(path.x).all(-1).logical_and(torch::isfinite(path.energy));  // (K, m)
  if (finite.all().item<bool>()) return;
  const auto bad = finite.logical_not().nonzero();  // rows (step, particle), step-major
  const int64_t step = bad[0][0].item<int64_t>(), particle = bad[0][1].item<int64_t>();
  throw std::runtime_error("propagate: the trajectory of particle " + std::to_string(offset + particle) +
                           " is not finite from step " + std::to_string(step) + " (t = " +
                           std::to_string(path.t[step].item<double>()) +
                           "); the network or the system diverges there");
}

}  // namespace bohmflow
