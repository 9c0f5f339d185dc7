// The reference run: propagate, collect the moments and ψ snapshots, save
// them; the equations stand in include/bohmflow/fft_reference.hpp.
#include "bohmflow/fft_reference.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <limits>
#include <map>
#include <sstream>
#include <stdexcept>

#include "bohmflow/npz.hpp"
#include "bohmflow/psi_snapshots.hpp"
#include "bohmflow/system.hpp"
#include "fftw_plans.hpp"
#include "internal_checks.hpp"

namespace bohmflow {

using detail::kSmallerGrid;
using detail::format_number;
using detail::require;

// ---- the reference run ----------------------------------------------------------

double FftResult::max_norm_drift() const { return detail::max_drift(norm); }

double FftResult::max_energy_drift() const {
  double drift = 0.0;
  for (const double E : energies) drift = std::max(drift, std::abs(E - E_exact));
  return drift;
}

std::string FftResult::brief_report() const {
  std::ostringstream out;
  const auto& s = options.stepper;
  out << "FFT reference: " << label << "\n"
      << "  grid: d=" << d << ", N=" << s.N << ", L=" << s.L << ", dt=" << s.dt
      << ", T=" << options.T << ", threads=" << threads << "\n"
      << "  rows: " << rows() << " (t = 0 … " << (t.empty() ? 0.0 : t.back()) << ")\n"
      << std::setprecision(15) << "  E_exact = " << E_exact << "  (kinetic " << kinetic_energy
      << ", potential " << potential_energy << ")\n"
      << "  norm: " << (norm.empty() ? 0.0 : norm.front()) << " at t=0, " << std::setprecision(3)
      << "max |norm - norm(0)| = " << max_norm_drift() << "\n"
      << "  energy: max |<H> - E_exact| = " << max_energy_drift() << " at " << energies.size() << " times\n";
  if (!autocorrelation.empty()) {
    out << "  a(T) = " << autocorrelation.back().real() << (autocorrelation.back().imag() < 0 ? " - " : " + ")
        << std::abs(autocorrelation.back().imag()) << "i, |a(T)| = " << std::abs(autocorrelation.back()) << "\n";
  }
  out
      << std::fixed << std::setprecision(1) << "  wall time: " << seconds << " s\n";
  return out.str();
}

FftResult solve_fft_reference(const SystemDefinition& system, const FftOptions& options,
                              const StepCallback& progress) {
  options.validate();
  const auto start = std::chrono::steady_clock::now();
  FftResult result;
  result.options = options;
  result.potential = system.name();
  result.label = system.label();
  result.parameters = system.parameters();
  result.d = system.dim();
  const double dt = options.stepper.dt;
  const int64_t n_steps = options.n_steps();

  std::map<int64_t, double> snapshot_at;  // step → first requested time
  for (double t : options.save_psi_at) snapshot_at.emplace(std::llround(t / dt), t);
  // The snapshots, and one more copy of ψ for ⟨H⟩ at each (SplitOperator::energy).
  const double snapshot_bytes = (snapshot_at.empty() ? 0.0 : static_cast<double>(snapshot_at.size()) + 1.0) *
                                16.0 * std::pow(double(options.stepper.N), result.d);
  require_memory(split_operator_bytes(result.d, options.stepper) + snapshot_bytes, "solve_fft_reference",
                 "a grid of " + std::to_string(options.stepper.N) + "^" + std::to_string(result.d) +
                     " points (ψ and e^{−iV dt/2ħ}, complex128 each)" +
                     (snapshot_at.empty() ? std::string()
                                          : " with " + std::to_string(snapshot_at.size()) + " ψ snapshots"),
                 kSmallerGrid);

  SplitOperator stepper(system, options.stepper);
  result.kinetic_energy = stepper.initial_kinetic_energy();
  result.potential_energy = stepper.initial_potential_energy();
  result.E_exact = result.kinetic_energy + result.potential_energy;
  result.threads = stepper.threads();

  const int d = result.d;
  const int64_t rows = n_steps + 1;
  result.t.reserve(rows);
  result.means.reserve(rows * d);
  result.sigmas.reserve(rows * d);
  result.norm.reserve(rows);
  if (progress) progress(0, n_steps);  // set-up done
  for (int64_t n = 0; n <= n_steps; ++n) {
    const auto snapshot = snapshot_at.find(n);
    if (snapshot != snapshot_at.end()) {
      result.snapshot_steps.push_back(n);
      result.snapshot_times.push_back(snapshot->second);
      result.snapshots.push_back(stepper.wavefunction());
    }
    if (n == 0) {
      result.energy_times.push_back(0.0);
      result.energies.push_back(result.E_exact);
    } else if (n < n_steps && snapshot != snapshot_at.end()) {
      result.energy_times.push_back(n * dt);
      result.energies.push_back(stepper.energy());
    }
    const Moments m = n < n_steps ? stepper.advance() : stepper.moments();
    if (n == n_steps && n > 0) {
      result.energy_times.push_back(n * dt);
      result.energies.push_back(stepper.final_energy());
    }
    result.t.push_back(n * dt);
    result.norm.push_back(m.norm);
    if (options.stepper.autocorrelation) result.autocorrelation.push_back(m.autocorrelation);
    result.means.insert(result.means.end(), m.mean.begin(), m.mean.end());
    result.sigmas.insert(result.sigmas.end(), m.sigma.begin(), m.sigma.end());
    if (progress) progress(std::min(n + 1, n_steps), n_steps);
  }
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

void save_fft_reference(const FftResult& result, const std::string& path) {
  const int64_t K = result.rows();
  const int64_t d = result.d;
  Npz npz;
  npz.set("t", NpyArray::from_doubles(result.t, {K}));
  npz.set("means", NpyArray::from_doubles(result.means, {K, d}));
  npz.set("sigmas", NpyArray::from_doubles(result.sigmas, {K, d}));
  npz.set("norm", NpyArray::from_doubles(result.norm, {K}));
  if (!result.autocorrelation.empty()) npz.set("a", NpyArray::from_complex(result.autocorrelation, {K}));
  const int64_t E = static_cast<int64_t>(result.energies.size());
  npz.set("E_t", NpyArray::from_doubles(result.energy_times, {E}));
  npz.set("E", NpyArray::from_doubles(result.energies, {E}));
  npz.set("E_exact", result.E_exact);
  npz.set("E_kinetic", result.kinetic_energy);
  npz.set("E_potential", result.potential_energy);
  for (const auto& [key, value] : result.parameters) npz.set(key, value);
  npz.set("d", d);
  npz.set("N", static_cast<int64_t>(result.options.stepper.N));
  npz.set("L", result.options.stepper.L);
  npz.set("T", result.options.T);
  npz.set("dt", result.options.stepper.dt);
  npz.set("n_steps", result.options.n_steps());
  npz.set("potential", result.potential);
  npz.set("label", result.label);
  detail::create_parent_directory(path);
  npz.save(path);
}

void save_psi_snapshots(const FftResult& result, const std::string& path) {
  if (result.snapshots.empty()) {
    throw std::invalid_argument("save_psi_snapshots('" + path +
                                "'): the result holds no ψ snapshot (FftOptions::save_psi_at is empty)");
  }
  const int d = result.d;
  const int N = result.options.stepper.N;
  const double L = result.options.stepper.L;
  Npz npz;
  const std::vector<int64_t> shape(d, N);
  for (size_t i = 0; i < result.snapshots.size(); ++i) {
    npz.set("psi_" + std::to_string(i), NpyArray::from_complex(result.snapshots[i], shape));
  }
  const int64_t S = static_cast<int64_t>(result.snapshots.size());
  npz.set("t_snap", NpyArray::from_doubles(result.snapshot_times, {S}));
  npz.set("step_snap", NpyArray::from_int64s(result.snapshot_steps, {S}));
  std::vector<double> grids, k_grids;
  const std::vector<double> x = grid_axis(N, L), k = grid_wavenumbers(N, L);
  for (int i = 0; i < d; ++i) {
    grids.insert(grids.end(), x.begin(), x.end());
    k_grids.insert(k_grids.end(), k.begin(), k.end());
  }
  npz.set("grids", NpyArray::from_doubles(grids, {d, N}));
  npz.set("k_grids", NpyArray::from_doubles(k_grids, {d, N}));
  npz.set("d", d);
  npz.set("N", N);
  npz.set("L", L);
  npz.set("dt", result.options.stepper.dt);
  npz.set("potential", result.potential);
  npz.set("label", result.label);
  detail::create_parent_directory(path);
  npz.save(path);
}

}  // namespace bohmflow
