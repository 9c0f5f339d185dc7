#include "bohmflow/score_field.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <torch/torch.h>

#include "bohmflow/fft_reference.hpp"
#include "bohmflow/memory.hpp"
#include "bohmflow/npz.hpp"
#include "bohmflow/psi_snapshots.hpp"
#include "bohmflow/score_network.hpp"
#include "internal_checks.hpp"

namespace bohmflow {
namespace {

// Points per network call: its activations stay a few hundred MB at any slice size.
constexpr int64_t kSliceChunk = int64_t{1} << 14;

// The slice's points and one time's score (d each), and s_i, s_j and ρ at every
// time, float64: refused before any of it is allocated when it does not fit.
void require_slice_fits(double n_i, double n_j, int d, size_t times) {
  const double bytes = 8.0 * n_i * n_j * (2.0 * d + 3.0 * static_cast<double>(times));
  require_memory(bytes, "compute_score_slice",
                 "a slice of " + detail::format_number(n_i) + " × " + detail::format_number(n_j) + " points at " +
                     std::to_string(times) + " time(s)",
                 "lower ScoreSliceOptions::grid_N (score_field --grid-N) or give fewer times");
}

}  // namespace

void ScoreSliceOptions::validate(int d) const {
  const std::string where = "ScoreSliceOptions";
  detail::require(!times.empty(), where + "::times", "give at least one time");
  for (double t : times) {
    detail::require(std::isfinite(t) && t >= 0, where + "::times",
                    "t = " + detail::format_number(t) + ": must be finite and >= 0");
  }
  detail::require(dims.size() == 2, where + "::dims", "give exactly two axes");
  for (int axis : dims) {
    detail::require(axis >= 0 && axis < d, where + "::dims",
                    "axis " + std::to_string(axis) + " outside 0.." + std::to_string(d - 1));
  }
  detail::require(dims[0] != dims[1], where + "::dims", "the two axes must differ");
  detail::require(grid_N >= 2, where + "::grid_N", "must be >= 2, got " + std::to_string(grid_N));
  detail::require(grid_L > 0, where + "::grid_L", "must be > 0, got " + detail::format_number(grid_L));
}

torch::Tensor slice_points(int d, int di, int dj, const std::vector<double>& gi,
                           const std::vector<double>& gj) {
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  const auto a = torch::tensor(gi, f64), b = torch::tensor(gj, f64);
  const auto grid = torch::meshgrid({a, b}, "ij");
  auto points = torch::zeros({a.numel() * b.numel(), d}, f64);
  points.select(1, di).copy_(grid[0].reshape(-1));
  points.select(1, dj).copy_(grid[1].reshape(-1));
  return points;
}

ScoreSlice compute_score_slice(const ScoreNetImpl& network, const ScoreSliceOptions& options,
                               const PsiSnapshots* psi) {
  const int d = network.options().d;
  options.validate(d);
  ScoreSlice out;
  out.d = d;
  out.di = options.dims[0];
  out.dj = options.dims[1];
  std::vector<size_t> snapshots;  // with ψ: snapshot index of each t_k
  if (psi) {
    if (psi->d != d) {
      throw std::invalid_argument("psi snapshots '" + psi->source + "' are " + std::to_string(psi->d) +
                                  "-dimensional, the network " + std::to_string(d) + "-dimensional");
    }
    out.gi = psi->grids[static_cast<size_t>(out.di)];
    out.gj = psi->grids[static_cast<size_t>(out.dj)];
    for (double t : options.times) snapshots.push_back(psi->nearest(t));
    std::sort(snapshots.begin(), snapshots.end(),
              [psi](size_t a, size_t b) { return psi->times[a] < psi->times[b]; });
    snapshots.erase(std::unique(snapshots.begin(), snapshots.end()), snapshots.end());
    for (size_t k : snapshots) out.times.push_back(psi->times[k]);
    require_slice_fits(static_cast<double>(out.gi.size()), static_cast<double>(out.gj.size()), d, out.times.size());
  } else {
    require_slice_fits(options.grid_N, options.grid_N, d, options.times.size());
    out.gi = out.gj = grid_axis(options.grid_N, options.grid_L);
    out.times = options.times;
    std::sort(out.times.begin(), out.times.end());
  }

  // On the network's device and dtype.
  const auto points = slice_points(d, out.di, out.dj, out.gi, out.gj)
                          .to(network.parameters().front().options());
  const int64_t n_i = static_cast<int64_t>(out.gi.size()), n_j = static_cast<int64_t>(out.gj.size());
  torch::NoGradGuard no_grad;
  for (size_t k = 0; k < out.times.size(); ++k) {
    std::vector<torch::Tensor> parts;
    for (int64_t first = 0; first < n_i * n_j; first += kSliceChunk) {
      const auto chunk = points.slice(0, first, std::min(first + kSliceChunk, n_i * n_j));
      parts.push_back(network.score(chunk, out.times[k]).to(torch::kCPU, torch::kFloat64));
    }
    const auto s = torch::cat(parts);
    out.s_i.push_back(s.select(1, out.di).reshape({n_i, n_j}).contiguous());
    out.s_j.push_back(s.select(1, out.dj).reshape({n_i, n_j}).contiguous());
    if (psi) {
      // ψ at the grid point nearest 0 on every axis off the plane.
      std::vector<torch::indexing::TensorIndex> index;
      for (int m = 0; m < d; ++m) {
        if (m == out.di || m == out.dj) {
          index.emplace_back(torch::indexing::Slice());
        } else {
          index.emplace_back(psi->nearest_grid_index(m, 0.0));
        }
      }
      auto rho = psi->density(snapshots[k]).index(index);
      if (out.di > out.dj) rho = rho.t();  // rows follow di
      out.rho.push_back(rho.contiguous());
    }
  }
  return out;
}

void save_score_slice(const ScoreSlice& slice, const std::string& path, bool single_precision) {
  const auto stored = [single_precision](const torch::Tensor& x) {
    return single_precision ? x.to(torch::kFloat32) : x;
  };
  Npz npz;
  const int64_t n_i = static_cast<int64_t>(slice.gi.size()), n_j = static_cast<int64_t>(slice.gj.size());
  npz.set("gi", NpyArray::from_doubles(slice.gi, {n_i}));
  npz.set("gj", NpyArray::from_doubles(slice.gj, {n_j}));
  npz.set("di", slice.di);
  npz.set("dj", slice.dj);
  npz.set("d", slice.d);
  npz.set("n_times", static_cast<int64_t>(slice.times.size()));
  for (size_t k = 0; k < slice.times.size(); ++k) {
    const std::string suffix = "_" + std::to_string(k);
    npz.set("t" + suffix, slice.times[k]);
    npz.set("s_i" + suffix, stored(slice.s_i[k]));
    npz.set("s_j" + suffix, stored(slice.s_j[k]));
    if (k < slice.rho.size()) npz.set("rho" + suffix, stored(slice.rho[k]));
  }
  detail::create_parent_directory(path);
  npz.save(path, /*compress=*/true);
}

}  // namespace bohmflow
