#include "bohmflow/evaluate.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <torch/torch.h>

#include "bohmflow/npz.hpp"
#include "bohmflow/potentials.hpp"

namespace bohmflow {

std::vector<int64_t> evenly_spaced_steps(int64_t n_steps, int64_t count) {
  if (n_steps < 0 || count < 1) throw std::invalid_argument("evenly_spaced_steps: need n_steps >= 0, count >= 1");
  count = std::min(count, n_steps + 1);
  std::vector<int64_t> steps;
  for (int64_t k = 0; k < count; ++k) {
    steps.push_back(count == 1 ? 0 : std::llround(static_cast<double>(k * n_steps) / static_cast<double>(count - 1)));
  }
  return steps;
}

namespace {

// Weighted means and variances by West's (1979) update, one particle at a
// time in index order, so that sweeping the particles in chunks adds the same
// terms in the same order as one sweep (the chunked moments are the whole
// run's, bit for bit). With W = Σw so far, for each new particle:
//   W += w,   δ = x − μ,   μ += (w/W)·δ,   S += w·δ·(x − μ);   σ² = S/W
class MomentAccumulator {
 public:
  MomentAccumulator(int64_t times, int64_t d)
      : times_(times), d_(d), mean_(times * d, 0.0), sum_sq_(times * d, 0.0), energy_(times, 0.0) {}

  // x (K', m, d) and energy (K', m) at the K' steps; w (m) or undefined (each particle weighs 1).
  void add(const torch::Tensor& x, const torch::Tensor& energy, const torch::Tensor& w) {
    const auto xs = x.to(torch::kCPU, torch::kFloat64).contiguous();
    const auto es = energy.to(torch::kCPU, torch::kFloat64).contiguous();
    const auto ws = w.defined() ? w.to(torch::kCPU, torch::kFloat64).contiguous() : torch::Tensor();
    const auto X = xs.accessor<double, 3>();
    const auto E = es.accessor<double, 2>();
    for (int64_t p = 0; p < xs.size(1); ++p) {
      const double weight = ws.defined() ? ws.data_ptr<double>()[p] : 1.0;
      total_weight_ += weight;
      if (total_weight_ == 0) continue;  // zero weights so far: nothing to average yet
      const double share = weight / total_weight_;
      for (int64_t k = 0; k < times_; ++k) {
        for (int64_t i = 0; i < d_; ++i) {
          double& mean = mean_[k * d_ + i];
          const double delta = X[k][p][i] - mean;
          mean += share * delta;
          sum_sq_[k * d_ + i] += weight * delta * (X[k][p][i] - mean);
        }
        energy_[k] += share * (E[k][p] - energy_[k]);
      }
    }
  }

  void finish(EnsembleMoments& out) const {
    const auto options = torch::TensorOptions().dtype(torch::kFloat64);
    out.means = torch::tensor(mean_, options).view({times_, d_});
    out.sigmas = (torch::tensor(sum_sq_, options).view({times_, d_}) / total_weight_).clamp_min(0).sqrt();
    out.energy = torch::tensor(energy_, options);
  }

 private:
  int64_t times_, d_;
  double total_weight_ = 0;
  std::vector<double> mean_, sum_sq_, energy_;
};

void require_steps(const std::vector<int64_t>& steps, int64_t K, const std::string& where) {
  for (auto s : steps) {
    if (s < 0 || s >= K) throw std::invalid_argument(where + ": step " + std::to_string(s) + " out of range");
  }
}

void require_weights(const torch::Tensor& weights, int64_t M, const std::string& where) {
  if (weights.defined() && (weights.dim() != 1 || weights.size(0) != M)) {
    throw std::invalid_argument(where + ": " + std::to_string(weights.numel()) + " weights for " + std::to_string(M) +
                                " particles");
  }
}

}  // namespace

EnsembleMoments ensemble_moments(const Propagation& propagation, const std::vector<int64_t>& steps,
                                 const torch::Tensor& weights) {
  require_steps(steps, propagation.x.size(0), "ensemble_moments");
  require_weights(weights, propagation.x.size(1), "ensemble_moments");
  const auto index = torch::tensor(steps, torch::kInt64).to(propagation.x.device());
  EnsembleMoments out;
  out.steps = steps;
  out.t = propagation.t.index_select(0, index).to(torch::kCPU, torch::kFloat64);
  MomentAccumulator sums(static_cast<int64_t>(steps.size()), propagation.x.size(2));
  sums.add(propagation.x.index_select(0, index), propagation.energy.index_select(0, index), weights);
  sums.finish(out);
  return out;
}

EnsembleMoments propagated_moments(const System& system, const ScoreNetImpl& network, const torch::Tensor& x0,
                                   const TrajectoryOptions& options, const std::vector<int64_t>& steps,
                                   const torch::Tensor& weights,
                                   const std::function<void(int64_t, int64_t)>& progress) {
  options.validate();
  require_steps(steps, options.n_steps() + 1, "propagated_moments");
  const int64_t M = x0.size(0);
  require_weights(weights, M, "propagated_moments");
  const int64_t chunk = options.chunk_size > 0 ? std::min(options.chunk_size, M) : M;
  const auto index = torch::tensor(steps, torch::kInt64).to(x0.device());
  EnsembleMoments out;
  out.steps = steps;
  // t_n = n·dt in float64 whatever the propagation's dtype (float32 would round it).
  std::vector<double> times;
  for (const auto step : steps) times.push_back(static_cast<double>(step) * options.dt);
  out.t = torch::tensor(times, torch::kFloat64);
  MomentAccumulator sums(static_cast<int64_t>(steps.size()), x0.size(1));
  for (int64_t start = 0; start < M; start += chunk) {
    const int64_t count = std::min(chunk, M - start);
    const auto path = propagate(system, network, x0.narrow(0, start, count), options);
    require_finite_path(path, start);
    sums.add(path.x.index_select(0, index), path.energy.index_select(0, index),
             weights.defined() ? weights.narrow(0, start, count) : torch::Tensor());
    if (progress) progress(start + count, M);
  }
  sums.finish(out);
  return out;
}

double propagated_moments_bytes(int64_t M, const ScoreNetOptions& network, const TrajectoryOptions& options) {
  const int64_t chunk = options.chunk_size > 0 ? std::min(options.chunk_size, M) : M;
  return propagation_bytes(chunk, network, options) + 3.0 * 8.0 * static_cast<double>(M) * (network.d + 1.0);
}

FoldStatistics fold_statistics(const Propagation& propagation, const std::vector<int64_t>& steps,
                               const std::vector<double>& levels) {
  if (!propagation.F.defined()) {
    throw std::invalid_argument("fold_statistics: the propagation carries no F (propagate with with_F = true)");
  }
  require_steps(steps, propagation.F.size(0), "fold_statistics");
  require_finite_path(propagation);
  if (levels.empty()) throw std::invalid_argument("fold_statistics: no quantile levels");
  for (auto q : levels) {
    if (!(q >= 0 && q <= 1)) {
      throw std::invalid_argument("fold_statistics: quantile level " + std::to_string(q) + " is outside [0, 1]");
    }
  }
  const auto index = torch::tensor(steps, torch::kInt64).to(propagation.F.device());
  const auto F = propagation.F.index_select(0, index).to(torch::kFloat64).cpu();  // (K', M, d, d)
  const auto singular = torch::linalg_svdvals(F);                              // (K', M, d), descending
  const auto smallest = singular.select(-1, -1);
  const auto q = torch::tensor(levels, torch::kFloat64);
  const auto per_time = [&](const torch::Tensor& values, const torch::Tensor& at) {  // (K', M) → (K', Q)
    return torch::quantile(values, at, /*dim=*/1).transpose(0, 1).contiguous();
  };
  FoldStatistics out;
  out.t = propagation.t.index_select(0, index).to(torch::kFloat64).cpu();
  out.levels = q;
  out.abs_det_F = per_time(torch::linalg_det(F).abs(), q);
  out.min_singular_F = per_time(smallest, q);
  out.condition_F = per_time(singular.select(-1, 0) / smallest, 1 - q);
  return out;
}

ReferenceMoments harmonic_moments(const Harmonic& system, const torch::Tensor& t) {
  const auto& o = system.options();
  const auto opts = torch::TensorOptions().dtype(torch::kFloat64);
  const auto time = t.to(torch::kFloat64).cpu().view({-1, 1});
  const auto omega = torch::tensor(o.omega, opts).view({1, -1});
  const auto centre = torch::tensor(o.centre, opts).view({1, -1});
  const auto mu0 = torch::tensor(o.mean, opts).view({1, -1});
  const auto sigma = torch::tensor(o.sigma0, opts).view({1, -1});
  const double hbar_over_m = system.hbar() / system.mass();
  const auto v0 = hbar_over_m * torch::tensor(o.phase, opts).view({1, -1});
  const auto cos = torch::cos(omega * time), sin = torch::sin(omega * time);
  ReferenceMoments out;
  out.t = time.view({-1});
  out.means = centre + (mu0 - centre) * cos + v0 / omega * sin;
  out.vars = sigma.square() * cos.square() +
             (hbar_over_m * hbar_over_m) / (4.0 * sigma.square() * omega.square()) * sin.square();
  out.source = "closed form";
  return out;
}

ReferenceMoments closed_form_moments(const System& system, const torch::Tensor& t) {
  if (const auto* harmonic = dynamic_cast<const Harmonic*>(&system)) return harmonic_moments(*harmonic, t);
  if (const auto* bosons = dynamic_cast<const InteractingBosons*>(&system)) {
    const auto& o = bosons->options();
    if (o.g == 0) {
      const auto& initial = system.initial_state();
      const auto trap = make_system("harmonic", {{"d", system.dim()},
                                                 {"omega", o.omega},
                                                 {"mean", o.mean},
                                                 {"sigma0", initial.sigma[0]},
                                                 {"phase", o.phase},
                                                 {"hbar", system.hbar()},
                                                 {"mass", system.mass()}});
      return harmonic_moments(dynamic_cast<const Harmonic&>(*trap), t);
    }
  }
  throw std::invalid_argument(system.label() + " has no closed form (only harmonic, and interacting_bosons at g = 0)");
}

ReferenceMoments fft_moments(const Npz& fft, const torch::Tensor& t, const std::string& name) {
  for (const char* key : {"t", "means", "sigmas"}) {
    if (!fft.contains(key)) throw std::invalid_argument(name + ": no '" + key + "' array (not a compute_fft_reference file?)");
  }
  const auto file_t = fft.tensor("t", torch::kFloat64, {-1});
  const auto means = fft.tensor("means", torch::kFloat64, {file_t.size(0), -1});
  const auto sigmas = fft.tensor("sigmas", torch::kFloat64, {file_t.size(0), -1});
  const auto time = t.to(torch::kFloat64).cpu().view({-1});
  // The file's times are t_n = n·dt up to rounding: match each to its nearest.
  const auto distance = (time.view({-1, 1}) - file_t.view({1, -1})).abs();
  const auto [gap, index] = distance.min(1);
  const int64_t worst = gap.argmax().item<int64_t>();
  if (gap[worst].item<double>() > 1e-9) {
    throw std::invalid_argument(name + ": time " + std::to_string(time[worst].item<double>()) +
                                " is not one of the stored times (nearest " +
                                std::to_string(file_t[index[worst]].item<double>()) + ")");
  }
  ReferenceMoments out;
  out.t = time;
  out.means = means.index_select(0, index);
  out.vars = sigmas.index_select(0, index).square();
  out.source = name;
  return out;
}

MomentErrors moment_errors(const EnsembleMoments& learned, const ReferenceMoments& reference) {
  const auto means = learned.means.to(torch::kFloat64).cpu();
  const auto vars = learned.sigmas.to(torch::kFloat64).cpu().square();
  if (means.sizes() != reference.means.sizes() || vars.sizes() != reference.vars.sizes()) {
    throw std::invalid_argument("moment_errors: learned and reference moments differ in shape");
  }
  const auto mean_gap = means - reference.means;
  const auto var_gap = vars - reference.vars;
  MomentErrors out;
  out.max_mean_error = mean_gap.abs().max().item<double>();
  out.max_rel_var_error = (var_gap.abs() / reference.vars).max().item<double>();
  out.rms_mean_error = (mean_gap.square().sum(1).mean().sqrt()).item<double>();
  out.rel_l2_var_error = (var_gap.norm() / reference.vars.norm()).item<double>();
  return out;
}

}  // namespace bohmflow
