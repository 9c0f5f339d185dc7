#include "bohmflow/autocorrelation.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include <torch/torch.h>

#include "bohmflow/potentials.hpp"

namespace bohmflow {

TrajectoryWave trajectory_wave(const System& system, const Propagation& path, const torch::Tensor& x0) {
  if (!path.F.defined()) throw std::invalid_argument("trajectory_wave: the propagation carries no F (with_F)");
  const int64_t K = path.x.size(0);
  // L at every full step, and its trapezoid sums ∫₀^{t_n} L dt.
  const auto lagrangian = system.mass() * path.v.square().sum(-1) - path.energy;  // (K, M)
  const auto dt = K > 1 ? (path.t[1] - path.t[0]).item<double>() : 0.0;
  auto action = torch::zeros_like(lagrangian);
  if (K > 1) {
    action.narrow(0, 1, K - 1).copy_(
        (0.5 * dt * (lagrangian.narrow(0, 0, K - 1) + lagrangian.narrow(0, 1, K - 1))).cumsum(0));
  }
  TrajectoryWave wave;
  wave.phase = system.initial_phase(x0).unsqueeze(0) + action;
  wave.log_density = system.initial_log_density(x0).unsqueeze(0) - torch::linalg_det(path.F).abs().log();
  return wave;
}

Autocorrelation propagated_autocorrelation(const System& system, const ScoreNetImpl& network, const torch::Tensor& x0,
                                           const TrajectoryOptions& options, const std::vector<int64_t>& steps,
                                           const torch::Tensor& weights,
                                           const std::function<void(int64_t, int64_t)>& progress) {
  options.validate();
  const int64_t M = x0.size(0), K = static_cast<int64_t>(steps.size());
  for (const auto step : steps) {
    if (step < 0 || step > options.n_steps()) {
      throw std::invalid_argument("propagated_autocorrelation: step " + std::to_string(step) + " out of range");
    }
  }
  if (weights.defined() && (weights.dim() != 1 || weights.size(0) != M)) {
    throw std::invalid_argument("propagated_autocorrelation: " + std::to_string(weights.numel()) + " weights for " +
                                std::to_string(M) + " particles");
  }
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  const auto all_weights = weights.defined() ? weights.to(torch::kCPU, torch::kFloat64)
                                             : torch::full({M}, 1.0 / static_cast<double>(M), f64);
  const auto index = torch::tensor(steps, torch::kInt64).to(x0.device());
  // Σ w z, Σ w² z, Σ w² |z|² (real and imaginary parts), Σ w², and the same for E.
  auto sum_z = torch::zeros({2, K}, f64), sum_w2z = torch::zeros({2, K}, f64), sum_w2zz = torch::zeros({K}, f64);
  auto sum_e = torch::zeros({K}, f64), sum_w2e = torch::zeros({K}, f64), sum_w2ee = torch::zeros({K}, f64);
  double sum_w2 = 0;
  const int64_t chunk = options.chunk_size > 0 ? std::min(options.chunk_size, M) : M;
  for (int64_t start = 0; start < M; start += chunk) {
    const int64_t count = std::min(chunk, M - start);
    const auto x0_chunk = x0.narrow(0, start, count);
    const auto path = propagate(system, network, x0_chunk, options, /*with_F=*/true);
    require_finite_path(path, start);
    const auto wave = trajectory_wave(system, path, x0_chunk);
    const auto x = path.x.index_select(0, index);  // (K, m, d)
    const auto flat = x.reshape({-1, x.size(2)});
    const auto log_rho0 = system.initial_log_density(flat).view({K, count});
    const auto phase0 = system.initial_phase(flat).view({K, count});
    const auto modulus = (0.5 * (log_rho0 - wave.log_density.index_select(0, index))).exp();
    const auto angle = (wave.phase.index_select(0, index) - phase0) / system.hbar();
    const auto z = torch::stack({modulus * angle.cos(), modulus * angle.sin()}).to(torch::kCPU, torch::kFloat64);
    const auto energy = path.energy.index_select(0, index).to(torch::kCPU, torch::kFloat64);  // (K, m)
    const auto w = all_weights.narrow(0, start, count).view({1, -1});
    const auto w2 = w.square();
    sum_z += (w.unsqueeze(0) * z).sum(-1);
    sum_w2z += (w2.unsqueeze(0) * z).sum(-1);
    sum_w2zz += (w2 * z.square().sum(0)).sum(-1);
    sum_e += (w * energy).sum(-1);
    sum_w2e += (w2 * energy).sum(-1);
    sum_w2ee += (w2 * energy.square()).sum(-1);
    sum_w2 += w2.sum().item<double>();
    if (progress) progress(start + count, M);
  }
  // Σ w²|z − a|² = Σ w²|z|² − 2 Re(a* Σ w² z) + |a|² Σ w², the same for E.
  const auto total = all_weights.sum().item<double>();
  const auto a = sum_z / total;
  const auto a_var = sum_w2zz - 2 * (a * sum_w2z).sum(0) + a.square().sum(0) * sum_w2;
  const auto energy = sum_e / total;
  const auto energy_var = sum_w2ee - 2 * energy * sum_w2e + energy.square() * sum_w2;

  Autocorrelation out;
  out.steps = steps;
  std::vector<double> times;
  for (const auto step : steps) times.push_back(static_cast<double>(step) * options.dt);
  out.t = torch::tensor(times, f64);
  out.a = torch::complex(a[0].contiguous(), a[1].contiguous());
  out.a_err = a_var.clamp_min(0).sqrt();
  out.energy = energy;
  out.energy_err = energy_var.clamp_min(0).sqrt();
  return out;
}

double propagated_autocorrelation_bytes(int64_t M, const ScoreNetOptions& network, const TrajectoryOptions& options) {
  const int64_t chunk = options.chunk_size > 0 ? std::min(options.chunk_size, M) : M;
  return propagation_bytes(chunk, network, options, /*with_F=*/true) +
         3.0 * 8.0 * static_cast<double>(M) * (network.d + 1.0);
}

}  // namespace bohmflow
