// Tabulated potentials for the FFT reference; the file's keys stand in
// include/bohmflow/potential_grid.hpp.
#include "bohmflow/potential_grid.hpp"

#include <omp.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <stdexcept>
#include <system_error>

#include "bohmflow/fft_reference.hpp"
#include "bohmflow/memory.hpp"
#include "bohmflow/npz.hpp"
#include "internal_checks.hpp"

namespace bohmflow {
namespace {

using detail::format_number;

constexpr int kMaxGridDimension = 6;  // the split-operator solver's

std::runtime_error grid_error(const std::string& path, const std::string& key, const std::string& what) {
  return std::runtime_error("potential grid '" + path + "'" + (key.empty() ? "" : ", key '" + key + "'") + ": " +
                            what);
}

std::string axis_key(int k) { return "axis_" + std::to_string(k); }

// The axis' N and L after checking it is linspace(−L, L, N) to 1e-9 of its spacing.
void check_axis(const std::vector<double>& axis, const std::string& path, const std::string& key) {
  const int64_t N = static_cast<int64_t>(axis.size());
  if (N < 2) throw grid_error(path, key, "has " + std::to_string(N) + " points; a grid axis needs at least 2");
  const double L = axis.back();
  const double dx = 2.0 * L / static_cast<double>(N - 1);
  if (!(std::isfinite(L) && L > 0)) {
    throw grid_error(path, key, "ends at " + format_number(L) + "; the axis must be linspace(-L, L, N) with L > 0");
  }
  for (int64_t j = 0; j < N; ++j) {
    const double expected = -L + static_cast<double>(j) * dx;
    if (!(std::abs(axis[j] - expected) <= 1e-9 * dx)) {
      throw grid_error(path, key,
                       "is not uniform and symmetric: point " + std::to_string(j) + " is " +
                           format_number(axis[j]) + ", linspace(-" + format_number(L) + ", " + format_number(L) +
                           ", " + std::to_string(N) + ") has " + format_number(expected) +
                           " (the FFT grid is the same uniform axis, symmetric about 0, on every axis)");
    }
  }
}

}  // namespace

ParameterMap grid_state(const PotentialGrid& grid, const ParameterMap& overrides) {
  auto parameters = grid.state;
  for (const auto& [key, value] : overrides) {
    if (key == "mean" || key == "sigma" || key == "velocity") {
      for (int k = 0; k < grid.d; ++k) parameters.erase(key + "_" + std::to_string(k));
    }
    parameters[key] = value;
  }
  if (!parameters.count("d")) parameters["d"] = grid.d;
  return parameters;
}

FileSystemOptions file_system_state(const SystemDefinition& system) {
  FileSystemOptions state;
  state.d = system.dim();
  state.hbar = system.hbar();
  state.mass = system.mass();
  state.mean = system.initial_state().mean;
  state.sigma = system.initial_state().sigma;
  state.velocity = system.initial_state().velocity;
  return state;
}

double potential_grid_bytes(int d, int N) {
  double points = 1.0;
  for (int k = 0; k < d; ++k) points *= N;
  return points > 9e15 ? std::numeric_limits<double>::infinity() : points * sizeof(double);
}

PotentialGrid load_potential_grid(const std::string& path) {
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  if (error) throw grid_error(path, "", "cannot be read (" + error.message() + ")");
  // The archive's bytes and V's copy are both held while reading.
  require_memory(2.0 * static_cast<double>(size), "--potential-grid " + path, "reading the tabulated potential",
                 "tabulate it on fewer points (tabulate_potential --N)");
  const auto npz = Npz::load(path);
  PotentialGrid grid;
  while (npz.contains(axis_key(grid.d))) ++grid.d;
  if (grid.d == 0) throw grid_error(path, "axis_0", "is missing (one key axis_k per dimension k)");
  if (grid.d > kMaxGridDimension) {
    throw grid_error(path, axis_key(grid.d - 1),
                     "d = " + std::to_string(grid.d) + " axes; the FFT reference handles d = 1 … 6");
  }
  std::vector<double> first;
  for (int k = 0; k < grid.d; ++k) {
    const auto key = axis_key(k);
    if (npz.at(key).dtype != DType::Float64 || npz.at(key).shape.size() != 1) {
      throw grid_error(path, key, "must be a one-dimensional float64 array");
    }
    const auto axis = npz.doubles(key);
    check_axis(axis, path, key);
    if (k == 0) {
      first = axis;
    } else if (axis.size() != first.size() || std::abs(axis.back() - first.back()) > 1e-9 * first.back()) {
      throw grid_error(path, key,
                       "is linspace(-" + format_number(axis.back()) + ", " + format_number(axis.back()) + ", " +
                           std::to_string(axis.size()) + ") but axis_0 is linspace(-" +
                           format_number(first.back()) + ", " + format_number(first.back()) + ", " +
                           std::to_string(first.size()) + "); the FFT grid is the same on every axis");
    }
  }
  grid.N = static_cast<int>(first.size());
  grid.L = first.back();
  if (!npz.contains("V")) throw grid_error(path, "V", "is missing");
  const auto& V = npz.at("V");
  const std::vector<int64_t> shape(grid.d, grid.N);
  if (V.dtype != DType::Float64 || V.shape != shape) {
    throw grid_error(path, "V",
                     "must be float64 of shape (" + std::to_string(grid.N) + ",)*" + std::to_string(grid.d) +
                         " to match the axes, got " + dtype_name(V.dtype) + " with " +
                         std::to_string(V.shape.size()) + " dimensions");
  }
  grid.V = npz.doubles("V");
  for (size_t i = 0; i < grid.V.size(); ++i) {
    if (!std::isfinite(grid.V[i])) {
      throw grid_error(path, "V", "holds " + format_number(grid.V[i]) + " at flat index " + std::to_string(i) +
                                      "; the propagator needs a finite V everywhere on the grid");
    }
  }
  for (const char* key : {"hbar", "mass"}) {
    if (npz.contains(key)) grid.state[key] = npz.scalar_double(key);
  }
  for (const char* name : {"mean", "sigma", "velocity"}) {
    const std::string key = std::string("initial_") + name;
    if (!npz.contains(key)) continue;
    const auto values = npz.doubles(key);
    if (values.size() != static_cast<size_t>(grid.d)) {
      throw grid_error(path, key, "has " + std::to_string(values.size()) + " values for d = " + std::to_string(grid.d));
    }
    for (int k = 0; k < grid.d; ++k) grid.state[std::string(name) + "_" + std::to_string(k)] = values[k];
  }
  if (npz.contains("potential")) grid.potential = npz.string("potential");
  if (npz.contains("label")) grid.label = npz.string("label");
  return grid;
}

void save_potential_grid(const PotentialGrid& grid, const std::string& path) {
  Npz npz;
  const auto axis = grid_axis(grid.N, grid.L);
  for (int k = 0; k < grid.d; ++k) npz.set(axis_key(k), NpyArray::from_doubles(axis, {grid.N}));
  npz.set("V", NpyArray::from_doubles(grid.V, std::vector<int64_t>(grid.d, grid.N)));
  for (const char* key : {"hbar", "mass"}) {
    if (grid.state.count(key)) npz.set(key, grid.state.at(key));
  }
  for (const char* name : {"mean", "sigma", "velocity"}) {
    std::vector<double> values;
    for (int k = 0; k < grid.d; ++k) {
      const auto it = grid.state.find(std::string(name) + "_" + std::to_string(k));
      if (it != grid.state.end()) values.push_back(it->second);
    }
    if (values.size() == static_cast<size_t>(grid.d)) {
      npz.set(std::string("initial_") + name, NpyArray::from_doubles(values, {grid.d}));
    }
  }
  if (!grid.potential.empty()) npz.set("potential", grid.potential);
  if (!grid.label.empty()) npz.set("label", grid.label);
  npz.save(path);
}

// ---- GridSystemDefinition -------------------------------------------------------

namespace {
FileSystemOptions checked_state(const PotentialGrid& grid, FileSystemOptions state, const std::string& source) {
  const std::string where = "potential grid '" + source + "'";
  if (state.d == 0) state.d = grid.d;
  detail::require(state.d == grid.d, where,
                  "the grid has " + std::to_string(grid.d) + " axes but the system has d = " + std::to_string(state.d));
  state.validate(where);
  return state;
}
}  // namespace

GridSystemDefinition::GridSystemDefinition(std::shared_ptr<const PotentialGrid> grid, const FileSystemOptions& state,
                                           std::string source)
    : SystemDefinition(state.hbar, state.mass, checked_state(*grid, state, source).initial_state()),
      grid_(std::move(grid)),
      source_(std::move(source)) {}

std::string GridSystemDefinition::label() const {
  return (grid_->label.empty() ? std::string("tabulated V") : grid_->label) + " (grid " + source_ + ", N=" +
         std::to_string(grid_->N) + ")";
}

ParameterMap GridSystemDefinition::parameters() const {
  auto values = file_system_state(*this).parameters();
  values["N"] = grid_->N;
  values["L"] = grid_->L;
  return values;
}

int64_t GridSystemDefinition::index_of(double x) const {
  const double dx = 2.0 * grid_->L / (grid_->N - 1);
  const double position = (x + grid_->L) / dx;
  const double j = std::round(position);
  if (!(j >= 0 && j < grid_->N && std::abs(position - j) <= 1e-9)) {
    throw std::invalid_argument("potential grid '" + source_ + "': x = " + format_number(x) +
                                " is not a point of its axis linspace(-" + format_number(grid_->L) + ", " +
                                format_number(grid_->L) + ", " + std::to_string(grid_->N) +
                                "); a tabulated V is known only there (run the FFT reference on the table's N and L)");
  }
  return static_cast<int64_t>(j);
}

double GridSystemDefinition::potential_at(const double* x) const {
  int64_t flat = 0;
  for (int k = 0; k < dim(); ++k) flat = flat * grid_->N + index_of(x[k]);
  return grid_->V[flat];
}

std::vector<double> GridSystemDefinition::potential_on_grid(const std::vector<std::vector<double>>& axes,
                                                            int threads) const {
  const int d = dim();
  detail::require(static_cast<int>(axes.size()) == d, "potential_on_grid",
                  "grid has " + std::to_string(axes.size()) + " axes but the system has d = " + std::to_string(d));
  std::vector<std::vector<int64_t>> indices(d);
  int64_t total = 1;
  for (int k = 0; k < d; ++k) {
    for (const double x : axes[k]) indices[k].push_back(index_of(x));
    total *= static_cast<int64_t>(axes[k].size());
  }
  std::vector<double> values(total);
#pragma omp parallel for schedule(static) num_threads(threads > 0 ? threads : omp_get_max_threads())
  for (int64_t point = 0; point < total; ++point) {
    int64_t rest = point, flat = 0, stride = 1;
    for (int k = d - 1; k >= 0; --k) {
      const int64_t n = static_cast<int64_t>(indices[k].size());
      flat += indices[k][rest % n] * stride;
      rest /= n;
      stride *= grid_->N;
    }
    values[point] = grid_->V[flat];
  }
  return values;
}

}  // namespace bohmflow
