// Split-operator FFT reference solution of the time-dependent Schrödinger equation
//
//   iħ ∂ψ/∂t = [−ħ²∇²/(2m) + V(x)] ψ,   x ∈ ℝ^d,  d = 1 … 6,
//
// on the tensor grid x_i ∈ linspace(−L, L, N) (both ends, dx = x₁ − x₀ = 2L/(N−1)),
// periodic through the FFT with k_i = 2π fftfreq(N, dx), advanced by Strang splitting
//
//   ψ(t + dt) = e^{−iV dt/2ħ} F⁻¹ e^{−iħ|k|² dt/2m} F e^{−iV dt/2ħ} ψ(t),   t_n = n dt,
//
// from the system's initial state ψ₀ ∝ Π_i exp(−(x_i − μ_i)²/(4σ_i²)) e^{i m v_i x_i/ħ},
// normalised on the grid (Σ|ψ₀|² dV = 1, dV = dx^d). Observables at every step
// n = 0 … n_steps, n_steps = floor(T/dt):
//
//   norm = Σ|ψ|² dV,   ⟨x_i⟩ = Σ x_i |ψ|² dV / norm,   σ_i = sqrt(max(⟨x_i²⟩ − ⟨x_i⟩², 0)),
//
//   a(t_n) = ⟨ψ₀|ψ_n⟩ = Σ ψ₀* ψ_n dV   (the autocorrelation, complex),
//
// and the conserved energy of ψ₀, E_exact = ⟨T⟩ + ⟨V⟩ with
//   ⟨T⟩ = Σ_k |ψ̂_k|² ħ²|k|²/(2m) · dV/N^d   (ψ̂ the unnormalised DFT),   ⟨V⟩ = Σ V|ψ₀|² dV,
// evaluated again at the ψ snapshots and at T (conserved up to the splitting error).
// These conventions (numpy's linspace and fftfreq, int(T/dt) steps) are those of
// the BohmianFlow reference solver, so results agree with it to round-off.
//
// How it is computed (split_operator.cpp): two half kicks in a row are one full
// kick, so SplitOperator stores φ_n = e^{+iV dt/2ħ} ψ_n and h = e^{−iV dt/2ħ}, and steps
// φ_{n+1} = F⁻¹ e^{−iħ|k|²dt/2m} F h² φ_n; |φ_n|² = |ψ_n|², so the observables come out
// of the same memory pass as the kick, and so does a(t_n) = Σ ψ₀* (h φ_n) dV, with ψ₀*
// from its per-axis factors (no grid of it). The d-dimensional FFT is split
// into the last ⌈d/2⌉ axes (contiguous blocks, transformed in cache together
// with the kick) and the first ⌊d/2⌋ axes (gathered in column blocks,
// transformed, multiplied by their kinetic phase and transformed back in
// cache): two passes over ψ per step. Memory: ψ and h, N^d complex128
// each; V itself is never stored whole (it is evaluated in chunks).
#pragma once

#include <complex>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bohmflow/option_words.hpp"

namespace bohmflow {

class SystemDefinition;  // bohmflow/system.hpp

// How FFTW plans the transforms of a step: FFTW_ESTIMATE's heuristics, or
// FFTW_MEASURE's timed search (about 0.3 s at d = 4), which found no faster
// step at N = 32 or 64 on a 2-core Xeon (docs/performance.md, *The FFT reference*).
enum class FftwPlanner { kEstimate, kMeasure };
template <>
struct OptionWords<FftwPlanner> {
  static constexpr const char* option = "fftw_planner";
  static constexpr std::pair<FftwPlanner, const char*> words[] = {{FftwPlanner::kEstimate, "estimate"},
                                                                  {FftwPlanner::kMeasure, "measure"}};
};

// Grid and time step of one propagation.
struct SplitOperatorOptions {
  int N = 64;          // grid points per axis, linspace(−L, L, N) with both ends
  double L = 8.0;      // half-width of the box [−L, L] per axis
  double dt = 0.01;    // Strang time step
  int threads = 0;     // OpenMP threads for every pass; 0: omp_get_max_threads()
  bool autocorrelation = true;  // a(t_n) at every step, from ψ₀'s per-axis factors: no more memory
  FftwPlanner planner = FftwPlanner::kEstimate;  // FFTW_ESTIMATE or FFTW_MEASURE
  void validate() const;  // std::invalid_argument naming the field, e.g. "SplitOperatorOptions::dt = -1: must be > 0"
};

// Options of solve_fft_reference.
struct FftOptions {
  SplitOperatorOptions stepper;     // grid, time step and threads
  double T = 3.14159;               // final time; n_steps = floor(T/dt)
  std::vector<double> save_psi_at;  // times whose ψ is kept; step round(t/dt), must be ≤ n_steps
  void validate() const;            // also validates `stepper`
  int64_t n_steps() const;          // floor(T/dt), as Python's int(T/dt)
};

// Moments of |ψ|² on the grid.
struct Moments {
  double norm = 0.0;          // Σ|ψ|² dV
  std::vector<double> mean;   // (d) ⟨x_i⟩
  std::vector<double> sigma;  // (d) sqrt(max(⟨x_i²⟩ − ⟨x_i⟩², 0))
  std::complex<double> autocorrelation;  // a(t_n) = Σ ψ₀* ψ_n dV (0 without SplitOperatorOptions::autocorrelation)
};

// Grid axis linspace(−L, L, N) exactly as numpy computes it: x_j = j·(2L/(N−1)) − L, x_{N−1} = L.
std::vector<double> grid_axis(int N, double L);  // (N)
// k = 2π fftfreq(N, dx), dx = x₁ − x₀ of grid_axis(N, L): 0, 1, …, ⌈N/2⌉−1, −⌊N/2⌋, …, −1 times 2π/(N dx).
std::vector<double> grid_wavenumbers(int N, double L);  // (N)

// Bytes that SplitOperator allocates for a d-dimensional grid of options.N
// points per axis (ψ, the kick and φ₀*, plus small buffers); +infinity when
// N^d overflows.
double split_operator_bytes(int d, const SplitOperatorOptions& options);

// The propagator. Holds ψ_n (as φ_n, see above) and steps it in place.
// `system` must outlive the SplitOperator (V is re-evaluated for ψ snapshots).
class SplitOperator {
 public:
  // Builds the grid, the kinetic phases, e^{−iV dt/2ħ}, the FFTW plans, ψ = ψ₀,
  // and ⟨T⟩, ⟨V⟩ of ψ₀. Throws std::invalid_argument for invalid options or a
  // system with d outside 1 … 6, std::runtime_error when ψ and the kick do not
  // fit in the available memory (checked before allocating).
  SplitOperator(const SystemDefinition& system, const SplitOperatorOptions& options);
  ~SplitOperator();
  SplitOperator(const SplitOperator&) = delete;
  SplitOperator& operator=(const SplitOperator&) = delete;

  int dim() const;
  int threads() const;                         // OpenMP threads of every pass
  int64_t points() const;                      // N^d
  int64_t step() const;                        // n: steps taken
  double time() const;                         // t_n = n dt
  const SplitOperatorOptions& options() const;
  const std::vector<double>& axis() const;         // (N) grid_axis(N, L), the same on every axis
  const std::vector<double>& wavenumbers() const;  // (N) grid_wavenumbers(N, L)
  double cell_volume() const;                      // dV = dx^d
  double initial_kinetic_energy() const;           // ⟨T⟩ of ψ₀ through the FFT
  double initial_potential_energy() const;         // ⟨V⟩ of ψ₀

  // One Strang step ψ_n → ψ_{n+1}. Returns the moments of ψ_n, computed in
  // the same pass as the kick.
  Moments advance();
  // Moments of the current ψ_n (one pass over ψ unless already known).
  Moments moments();
  // ψ_n: (N,)*d complex, C order (last axis fastest). Allocates N^d complex128.
  std::vector<std::complex<double>> wavefunction();
  // ⟨H⟩ = ⟨T⟩ + ⟨V⟩ of ψ_n, through the full FFT of a copy of ψ_n.
  double energy();
  // The same in e^{−iV dt/2ħ}'s memory instead of a copy: no step can follow
  // (advance() then throws std::logic_error).
  double final_energy();
  // |ψ_n|²: (N,)*d, C order.
  std::vector<double> density();
  // Bohmian velocity along `axis`, v = (ħ/m) Im(∂_axis ψ / ψ) with the
  // spectral derivative F⁻¹ ik F ψ along that axis; 0 where |ψ| ≤ 1e-30.
  // (N,)*d, C order. Allocates 3 N^d complex128 temporarily.
  std::vector<double> velocity_field(int axis);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Called after step `done` of `total` (done = 0 … total).
using StepCallback = std::function<void(int64_t done, int64_t total)>;

// What solve_fft_reference returns. Rows n = 0 … n_steps, K = n_steps + 1.
struct FftResult {
  FftOptions options;              // as given
  std::string potential;           // SystemDefinition::name()
  std::string label;               // SystemDefinition::label()
  std::map<std::string, double> parameters;  // SystemDefinition::parameters() (a ParameterMap)
  int d = 0;
  int threads = 0;                 // OpenMP threads used
  std::vector<double> t;           // (K) t_n = n dt
  std::vector<double> means;       // (K, d) row-major
  std::vector<double> sigmas;      // (K, d) row-major
  std::vector<double> norm;        // (K)
  std::vector<std::complex<double>> autocorrelation;  // (K) a(t_n); empty without FftOptions::stepper.autocorrelation
  std::vector<double> energy_times;  // (E) 0 (E_exact), the snapshot times, T: where ⟨H⟩ is evaluated
  std::vector<double> energies;      // (E) ⟨H⟩ of ψ at those times
  double E_exact = 0.0;            // ⟨T⟩ + ⟨V⟩ of ψ₀
  double kinetic_energy = 0.0;     // ⟨T⟩ of ψ₀
  double potential_energy = 0.0;   // ⟨V⟩ of ψ₀
  std::vector<int64_t> snapshot_steps;  // (S) distinct round(t/dt), ascending
  std::vector<double> snapshot_times;   // (S) the first requested time of each step
  std::vector<std::vector<std::complex<double>>> snapshots;  // S × (N,)*d, C order
  double seconds = 0.0;            // wall time of the solve

  int64_t rows() const { return static_cast<int64_t>(t.size()); }
  double max_norm_drift() const;   // max_n |norm_n − norm_0|
  double max_energy_drift() const;  // max |energies − E_exact|
  std::string brief_report() const;  // a few lines: grid, rows, E_exact, norm drift, time
};

// Runs the reference for `system` (its dimension sets d). Validates `options`.
FftResult solve_fft_reference(const SystemDefinition& system, const FftOptions& options,
                              const StepCallback& progress = {});

// Writes the moments: t (K), means (K, d), sigmas (K, d), norm (K), a (K,
// complex128, when computed), E_t and E (⟨H⟩ at those times), E_exact,
// E_kinetic, E_potential, the run (d, N, L, T, dt, n_steps), every system
// parameter as a float64 scalar, potential and label (unicode).
void save_fft_reference(const FftResult& result, const std::string& path);
// ψ snapshots (FftOptions::save_psi_at) are written by save_psi_snapshots (psi_snapshots.hpp).

}  // namespace bohmflow
