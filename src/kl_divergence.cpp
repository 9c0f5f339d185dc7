#include "bohmflow/kl_divergence.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <limits>
#include <sstream>
#include <stdexcept>

#include <torch/torch.h>

#include "bohmflow/npz.hpp"
#include "bohmflow/potentials.hpp"
#include "bohmflow/psi_snapshots.hpp"
#include "bohmflow/score_network.hpp"
#include "bohmflow/trajectory.hpp"
#include "internal_checks.hpp"
#include "interpolation.hpp"

namespace bohmflow {

void KlOptions::validate() const {
  detail::require(M >= 1, "KlOptions::M", "must be >= 1, got " + std::to_string(M));
  detail::require(floor >= 0, "KlOptions::floor", "must be >= 0, got " + detail::format_number(floor));
  detail::require(dt > 0, "KlOptions::dt", "must be > 0, got " + detail::format_number(dt));
  detail::require(batch >= 1, "KlOptions::batch", "must be >= 1, got " + std::to_string(batch));
}

std::string KlResult::table() const {
  std::ostringstream out;
  out << std::setw(8) << "t" << std::setw(12) << "KL" << std::setw(12) << "+-" << std::setw(15) << "H(rho_theta)"
      << std::setw(12) << "H_cross" << std::setw(13) << "out-of-grid" << "\n";
  out << std::fixed;
  for (const auto& row : rows) {
    out << std::setprecision(4) << std::setw(8) << row.t << std::setprecision(6) << std::setw(12)
        << row.kl << std::setw(12) << row.kl_error << std::setprecision(4) << std::setw(15) << row.entropy << std::setw(12)
        << row.cross_entropy << std::setw(13) << row.out_of_grid << "\n";
  }
  out << "(M = " << M << " particles; +-: Monte Carlo standard error of KL; out-of-grid particles\n"
      << " are left out of the means)\n";
  return out.str();
}

torch::Tensor detail::interpolate_multilinear(const std::vector<std::vector<double>>& axes,
                                      const torch::Tensor& field, const torch::Tensor& points) {
  const int64_t d = static_cast<int64_t>(axes.size());
  if (field.dim() != d || points.dim() != 2 || points.size(1) != d) {
    throw std::invalid_argument("interpolate_multilinear: need a " + std::to_string(d) +
                                "-dimensional field and (M, " + std::to_string(d) + ") points");
  }
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  std::vector<double> lo, dx;
  std::vector<int64_t> size, stride(static_cast<size_t>(d));
  int64_t s = 1;
  for (int64_t k = d - 1; k >= 0; --k) {
    const auto& axis = axes[static_cast<size_t>(k)];
    if (axis.size() < 2 || field.size(k) != static_cast<int64_t>(axis.size())) {
      throw std::invalid_argument("interpolate_multilinear: axis " + std::to_string(k) +
                                  " has " + std::to_string(axis.size()) + " points, the field " +
                                  std::to_string(field.size(k)));
    }
    stride[static_cast<size_t>(k)] = s;
    s *= field.size(k);
  }
  for (const auto& axis : axes) {
    lo.push_back(axis.front());
    dx.push_back(axis[1] - axis[0]);
    size.push_back(static_cast<int64_t>(axis.size()));
  }
  const auto x = points.to(torch::kCPU, torch::kFloat64);
  const auto u = (x - torch::tensor(lo, f64)) / torch::tensor(dx, f64);
  const auto cell = torch::floor(u);
  const auto frac = u - cell;
  const auto i0 = cell.to(torch::kInt64);
  const auto inside = ((i0 >= 0) & (i0 < torch::tensor(size, torch::kInt64) - 1)).all(1);
  // Outside points read cell 0 (their result is replaced by NaN below).
  const auto base = (torch::where(inside.unsqueeze(1), i0, torch::zeros_like(i0)) *
                     torch::tensor(stride, torch::kInt64))
                        .sum(1);
  const auto flat = field.to(torch::kCPU, torch::kFloat64).contiguous().view(-1);
  auto result = torch::zeros({x.size(0)}, f64);
  for (int64_t corner = 0; corner < (int64_t{1} << d); ++corner) {
    auto weight = torch::ones({x.size(0)}, f64);
    int64_t offset = 0;
    for (int64_t k = 0; k < d; ++k) {
      const bool upper = (corner >> k) & 1;
      const auto f = frac.select(1, k);
      weight = weight * (upper ? f : 1.0 - f);
      if (upper) offset += stride[static_cast<size_t>(k)];
    }
    result += weight * flat.index_select(0, base + offset);
  }
  return torch::where(inside, result,
                      torch::full_like(result, std::numeric_limits<double>::quiet_NaN()));
}

KlResult reverse_kl(const System& system, const ScoreNetImpl& network, const PsiSnapshots& psi,
                    const KlOptions& options, const StepCallback& progress) {
  options.validate();
  // A tabulated grid's snapshots ("grid") stand for whatever system was tabulated.
  if ((psi.potential != system.name() && psi.potential != "grid") || psi.d != system.dim()) {
    throw std::invalid_argument("psi snapshots '" + psi.source + "' are of " + psi.potential +
                                " in d = " + std::to_string(psi.d) + ", the model is " +
                                system.name() + " in d = " + std::to_string(system.dim()));
  }
  torch::NoGradGuard no_grad;
  const double t_max = *std::max_element(psi.times.begin(), psi.times.end());
  const TrajectoryOptions trajectory{std::max(t_max, options.dt), options.dt};
  const int64_t n_steps = trajectory.n_steps();
  const size_t S = psi.size();
  std::vector<int64_t> steps;
  std::vector<torch::Tensor> log_exact;  // S × (N,)*d: log(|ψ|² + floor)
  for (size_t k = 0; k < S; ++k) {
    steps.push_back(std::min<int64_t>(std::llround(psi.times[k] / options.dt), n_steps));
    log_exact.push_back(torch::log(psi.density(k) + options.floor));
  }

  // Drawn in float64 on the host, so the particles do not depend on the device.
  const auto params = network.parameters().front().options();
  torch::manual_seed(options.seed);
  const auto x0 = sample_initial_positions(system, options.M, torch::kFloat64).to(params);
  std::vector<std::vector<torch::Tensor>> log_learned(S), log_reference(S);  // per batch, (B)
  for (int64_t start = 0; start < options.M; start += options.batch) {
    const auto batch = x0.slice(0, start, std::min(start + options.batch, options.M));
    const auto log_rho0 = system.initial_log_density(batch).to(torch::kCPU, torch::kFloat64);
    const auto path = propagate(system, network, batch, trajectory, /*with_F=*/true);
    for (size_t k = 0; k < S; ++k) {
      const auto x = path.x[steps[k]].to(torch::kCPU, torch::kFloat64);
      const auto log_det = std::get<1>(torch::linalg_slogdet(path.F[steps[k]])).to(torch::kCPU, torch::kFloat64);
      log_learned[k].push_back(log_rho0 - log_det);
      log_reference[k].push_back(detail::interpolate_multilinear(psi.grids, log_exact[k], x));
    }
    if (progress) progress(std::min(start + options.batch, options.M), options.M);
  }

  KlResult result;
  result.M = options.M;
  result.floor = options.floor;
  for (size_t k = 0; k < S; ++k) {
    const auto learned = torch::cat(log_learned[k]);
    const auto exact = torch::cat(log_reference[k]);
    const auto valid = ~torch::isnan(exact);
    KlRow row;
    row.t = psi.times[k];
    row.step = steps[k];
    row.out_of_grid = options.M - valid.sum().item<int64_t>();
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const bool any = row.out_of_grid < options.M;
    const auto l = learned.masked_select(valid), e = exact.masked_select(valid);
    row.kl = any ? (l - e).mean().item<double>() : nan;
    row.kl_error = any ? (l - e).std(/*unbiased=*/true).item<double>() / std::sqrt(static_cast<double>(l.numel()))
                       : nan;
    row.entropy = any ? -l.mean().item<double>() : nan;
    row.cross_entropy = any ? -e.mean().item<double>() : nan;
    result.rows.push_back(row);
  }
  return result;
}

void save_kl(const KlResult& result, const std::string& path) {
  const int64_t S = static_cast<int64_t>(result.rows.size());
  std::vector<double> t, kl, kl_err, h, hc;
  std::vector<int64_t> step, n_out;
  for (const auto& row : result.rows) {
    t.push_back(row.t);
    step.push_back(row.step);
    kl.push_back(row.kl);
    kl_err.push_back(row.kl_error);
    h.push_back(row.entropy);
    hc.push_back(row.cross_entropy);
    n_out.push_back(row.out_of_grid);
  }
  Npz npz;
  npz.set("t", NpyArray::from_doubles(t, {S}));
  npz.set("step", NpyArray::from_int64s(step, {S}));
  npz.set("kl", NpyArray::from_doubles(kl, {S}));
  npz.set("kl_err", NpyArray::from_doubles(kl_err, {S}));
  npz.set("H_L", NpyArray::from_doubles(h, {S}));
  npz.set("H_cross", NpyArray::from_doubles(hc, {S}));
  npz.set("n_out", NpyArray::from_int64s(n_out, {S}));
  npz.set("M", result.M);
  npz.set("floor", result.floor);
  detail::create_parent_directory(path);
  npz.save(path);
}

}  // namespace bohmflow
