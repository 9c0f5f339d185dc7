#include "bohmflow/psi_snapshots.hpp"

#include <cmath>
#include <stdexcept>

#include <torch/torch.h>

#include "bohmflow/npz.hpp"

namespace bohmflow {

size_t PsiSnapshots::nearest(double t) const {
  if (times.empty()) throw std::invalid_argument("psi snapshots '" + source + "': no snapshot");
  size_t best = 0;
  for (size_t k = 1; k < times.size(); ++k) {
    if (std::abs(times[k] - t) < std::abs(times[best] - t)) best = k;
  }
  return best;
}

size_t PsiSnapshots::size() const { return psi.size(); }

torch::Tensor PsiSnapshots::density(size_t k) const {
  if (k >= psi.size()) {
    throw std::out_of_range("psi snapshots '" + source + "': no snapshot " + std::to_string(k));
  }
  return torch::abs(psi[k]).square();
}

int64_t PsiSnapshots::nearest_grid_index(int axis, double x) const {
  if (axis < 0 || axis >= d) {
    throw std::out_of_range("psi snapshots '" + source + "': no axis " + std::to_string(axis));
  }
  const auto& g = grids[static_cast<size_t>(axis)];
  int64_t best = 0;
  for (size_t j = 1; j < g.size(); ++j) {
    if (std::abs(g[j] - x) < std::abs(g[static_cast<size_t>(best)] - x)) best = static_cast<int64_t>(j);
  }
  return best;
}

PsiSnapshots load_psi_snapshots(const std::string& path) {
  const auto npz = Npz::load(path);
  PsiSnapshots out;
  out.source = path;
  out.potential = npz.string("potential");
  const int64_t d = npz.scalar_int("d");
  const int64_t N = npz.scalar_int("N");
  if (d < 1 || N < 2) {
    throw std::runtime_error("npz file '" + path + "': d = " + std::to_string(d) + ", N = " +
                             std::to_string(N) + ": need d >= 1 and N >= 2");
  }
  out.d = static_cast<int>(d);
  out.N = static_cast<int>(N);
  out.L = npz.scalar_double("L");
  out.dt = npz.scalar_double("dt");
  const auto grids = npz.tensor("grids", torch::kFloat64, {d, N}).contiguous();
  for (int64_t i = 0; i < d; ++i) {
    const auto row = grids[i];
    out.grids.emplace_back(row.data_ptr<double>(), row.data_ptr<double>() + N);
  }
  out.times = npz.doubles("t_snap");
  const auto steps = npz.tensor("step_snap", torch::kInt64, {static_cast<int64_t>(out.times.size())});
  out.steps.assign(steps.data_ptr<int64_t>(), steps.data_ptr<int64_t>() + steps.numel());
  const std::vector<int64_t> shape(static_cast<size_t>(d), N);
  for (size_t k = 0; k < out.times.size(); ++k) {
    out.psi.push_back(npz.tensor("psi_" + std::to_string(k), torch::kComplexDouble, shape));
  }
  if (out.psi.empty()) throw std::runtime_error("npz file '" + path + "', key 't_snap': no snapshot");
  return out;
}

}  // namespace bohmflow
