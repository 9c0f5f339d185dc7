// Exact 1D Bohmian trajectories; the equations stand in include/bohmflow/bohmian_1d.hpp.
#include "bohmflow/bohmian_1d.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iomanip>
#include <random>
#include <sstream>
#include <stdexcept>

#include "bohmflow/npz.hpp"
#include "bohmflow/potentials.hpp"
#include "internal_checks.hpp"
#include "interpolation.hpp"

namespace bohmflow {

using detail::format_number;
using detail::require;

void BohmianOptions::validate() const {
  stepper.validate();
  const std::string where = "BohmianOptions";
  require(std::isfinite(T) && T >= 0, where, "T = " + format_number(T) + ": must be finite and >= 0");
  require(T / stepper.dt < 1e12, where, "T / dt = " + format_number(T / stepper.dt) + ": too many steps");
  require(n_particles >= 1, where, "n_particles = " + std::to_string(n_particles) + ": must be >= 1");
  require(save_every >= 1, where, "save_every = " + std::to_string(save_every) + ": must be >= 1");
  require(integrator == "heun" || integrator == "euler", where,
          "integrator = '" + integrator + "': must be 'heun' or 'euler'");
}

int64_t BohmianOptions::n_steps() const { return static_cast<int64_t>(T / stepper.dt); }

std::vector<double> sample_initial_positions(const SystemDefinition& system, int n_particles, uint64_t seed) {
  require(system.dim() == 1, "sample_initial_positions",
          "system '" + system.name() + "' has d = " + std::to_string(system.dim()) + ", expected 1");
  require(n_particles >= 0, "sample_initial_positions",
          "n_particles = " + std::to_string(n_particles) + ": must be >= 0");
  const double mu = system.initial_state().mean[0];
  const double sigma = system.initial_state().sigma[0];
  std::mt19937_64 generator(seed);
  const auto uniform = [&generator]() {  // (0, 1]
    return (1.0 + static_cast<double>(generator() >> 11)) * 0x1.0p-53;
  };
  std::vector<double> x;
  x.reserve(n_particles + 1);
  while (static_cast<int>(x.size()) < n_particles) {
    const double radius = std::sqrt(-2.0 * std::log(uniform()));
    const double angle = 2.0 * M_PI * uniform();
    x.push_back(mu + sigma * radius * std::cos(angle));
    x.push_back(mu + sigma * radius * std::sin(angle));
  }
  x.resize(n_particles);
  std::sort(x.begin(), x.end());
  return x;
}

std::vector<double> detail::interpolate_uniform(const std::vector<double>& grid,
                                        const std::vector<double>& values,
                                        const std::vector<double>& x) {
  require(grid.size() >= 2 && values.size() == grid.size(), "interpolate_uniform",
          "grid has " + std::to_string(grid.size()) + " points and values " +
              std::to_string(values.size()) + "; need the same number, at least 2");
  const int64_t N = static_cast<int64_t>(grid.size());
  const double x0 = grid.front();
  const double h = (grid.back() - grid.front()) / static_cast<double>(N - 1);
  std::vector<double> out(x.size());
  for (size_t p = 0; p < x.size(); ++p) {
    if (x[p] <= grid.front()) {
      out[p] = values.front();
    } else if (x[p] >= grid.back()) {
      out[p] = values.back();
    } else {
      const int64_t j = std::clamp<int64_t>(static_cast<int64_t>((x[p] - x0) / h), 0, N - 2);
      const double w = (x[p] - grid[j]) / (grid[j + 1] - grid[j]);
      out[p] = values[j] + w * (values[j + 1] - values[j]);
    }
  }
  return out;
}

double BohmianTrajectories::max_norm_drift() const { return detail::max_drift(norm); }

std::string BohmianTrajectories::brief_report() const {
  std::ostringstream out;
  out << "Bohmian trajectories: " << label << "\n"
      << "  grid: N=" << options.stepper.N << ", L=" << options.stepper.L
      << ", dt=" << options.stepper.dt << ", T=" << options.T << ", " << options.n_steps()
      << " steps, integrator " << options.integrator << "\n"
      << "  particles: " << options.n_particles << ", saved " << saves() << " times (every "
      << options.save_every << " steps)\n";
  out << std::setprecision(3) << "  max |norm - norm(0)| = " << max_norm_drift() << "\n";
  out << std::fixed << std::setprecision(1) << "  wall time: " << seconds << " s\n";
  return out.str();
}

BohmianTrajectories solve_bohmian_1d(const SystemDefinition& system, const BohmianOptions& options,
                                     const StepCallback& progress) {
  options.validate();
  require(system.dim() == 1, "solve_bohmian_1d",
          "system '" + system.name() + "' has d = " + std::to_string(system.dim()) + ", expected 1");
  const auto start = std::chrono::steady_clock::now();
  BohmianTrajectories result;
  result.options = options;
  result.potential = system.name();
  result.label = system.label();
  result.parameters = system.parameters();

  SplitOperator stepper(system, options.stepper);
  const std::vector<double>& grid = stepper.axis();
  result.x_grid = grid;
  result.V_grid = system.potential_on_grid({grid}, options.stepper.threads);

  const double dt = options.stepper.dt;
  const double dx = grid[1] - grid[0];
  const int64_t n_steps = options.n_steps();
  const bool heun = options.integrator == "heun";
  std::vector<double> x = sample_initial_positions(system, options.n_particles, options.seed);

  const auto save = [&](int64_t n) {
    const std::vector<double> rho = stepper.density();
    double norm = 0.0;
    for (double value : rho) norm += value;
    result.t.push_back(n * dt);
    result.rho.insert(result.rho.end(), rho.begin(), rho.end());
    result.positions.insert(result.positions.end(), x.begin(), x.end());
    result.norm.push_back(norm * dx);
  };

  save(0);
  if (progress) progress(0, n_steps);  // set-up done
  std::vector<double> field = stepper.velocity_field(0);  // v_n on the grid
  for (int64_t n = 0; n < n_steps; ++n) {
    const std::vector<double> v = detail::interpolate_uniform(grid, field, x);  // v_n(x_n)
    stepper.advance();
    std::vector<double> next_field = stepper.velocity_field(0);         // v_{n+1}
    if (heun) {
      std::vector<double> predicted(x.size());
      for (size_t p = 0; p < x.size(); ++p) predicted[p] = x[p] + dt * v[p];
      const std::vector<double> v_next = detail::interpolate_uniform(grid, next_field, predicted);
      for (size_t p = 0; p < x.size(); ++p) x[p] += 0.5 * dt * (v[p] + v_next[p]);
    } else {
      for (size_t p = 0; p < x.size(); ++p) x[p] += dt * v[p];
    }
    field = std::move(next_field);
    if ((n + 1) % options.save_every == 0 || n + 1 == n_steps) save(n + 1);
    if (progress) progress(n + 1, n_steps);
  }
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

void save_bohmian_1d(const BohmianTrajectories& result, const std::string& path, bool compress) {
  const int64_t S = result.saves();
  const int64_t N = static_cast<int64_t>(result.x_grid.size());
  const int64_t P = result.n_particles();
  Npz npz;
  npz.set("x_grid", NpyArray::from_doubles(result.x_grid, {N}));
  npz.set("t_arr", NpyArray::from_doubles(result.t, {S}));
  // ρ as float32 (see the header): a plotting quantity.
  const auto rho = torch::from_blob(const_cast<double*>(result.rho.data()), {S, N},
                                    torch::TensorOptions().dtype(torch::kFloat64))
                       .to(torch::kFloat32);
  npz.set("rho", NpyArray::from_tensor(rho));
  npz.set("traj_x", NpyArray::from_doubles(result.positions, {S, P}));
  npz.set("V_grid", NpyArray::from_doubles(result.V_grid, {N}));
  npz.set("norm", NpyArray::from_doubles(result.norm, {S}));
  for (const auto& [key, value] : result.parameters) npz.set(key, value);
  npz.set("T", result.options.T);
  npz.set("dt", result.options.stepper.dt);
  npz.set("N", N);
  npz.set("L", result.options.stepper.L);
  npz.set("n_particles", P);
  npz.set("save_every", static_cast<int64_t>(result.options.save_every));
  npz.set("seed", static_cast<int64_t>(result.options.seed));
  npz.set("integrator", result.options.integrator);
  npz.set("potential", result.potential);
  npz.set("label", result.label);
  detail::create_parent_directory(path);
  npz.save(path, compress);
}

}  // namespace bohmflow
