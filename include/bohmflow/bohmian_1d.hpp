// Exact Bohmian trajectories of a one-dimensional wave function (Figure 1)
//
//   dx_p/dt = v(x_p, t),   v(x, t) = (ħ/m) Im(∂_x ψ / ψ),
//
// with ψ(x, t) from the split-operator reference (SplitOperator: same grid,
// same Strang step), ∂_x ψ spectral (F⁻¹ ik F ψ), and v linearly interpolated
// from the grid to the particles (numpy.interp: constant beyond the ends).
//
// Initial positions: P sorted samples of |ψ₀|² = N(μ, σ²), x_p = μ + σ z_p,
// with z_p standard normal from std::mt19937_64(seed) through an explicit
// Box–Muller transform (std::normal_distribution differs between standard
// libraries): u = (1 + (r >> 11)) 2⁻⁵³ ∈ (0, 1] from each 64-bit draw r, and
// for each pair (u₁, u₂): z = sqrt(−2 ln u₁) cos(2π u₂), z' = sqrt(−2 ln u₁) sin(2π u₂).
//
// Integrators, with v_n the field of ψ_n and dt the FFT step:
//   "heun":  x* = x_n + dt v_n(x_n),  x_{n+1} = x_n + dt/2 [v_n(x_n) + v_{n+1}(x*)]
//            (explicit trapezoid, second order in dt; the default)
//   "euler": x_{n+1} = x_n + dt v_n(x_n)   (the BohmianFlow reference; first order)
// Both use only the fields at the grid times, one per step.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "bohmflow/fft_reference.hpp"
#include "bohmflow/system.hpp"

namespace bohmflow {

struct BohmianOptions {
  SplitOperatorOptions stepper{4096, 8.0, 0.002, 0};  // N, L, dt, threads of the 1D FFT evolution
  double T = 3.141592653589793;    // final time; n_steps = floor(T/dt)
  int n_particles = 100;           // trajectories
  int save_every = 10;             // ρ and positions saved every this many steps, and at the last
  uint64_t seed = 42;              // std::mt19937_64 seed of the initial positions
  std::string integrator = "heun"; // "heun" (second order) or "euler" (the reference's)
  void validate() const;           // std::invalid_argument naming the field
  int64_t n_steps() const;         // floor(T/dt), as Python's int(T/dt)
};

// P sorted samples of N(μ, σ²) (the system's initial |ψ₀|², d = 1), as above. (P)
std::vector<double> sample_initial_positions(const SystemDefinition& system, int n_particles, uint64_t seed);

struct BohmianTrajectories {
  BohmianOptions options;
  std::string potential, label;              // SystemDefinition::name(), label()
  std::map<std::string, double> parameters;  // SystemDefinition::parameters()
  std::vector<double> x_grid;    // (N)
  std::vector<double> V_grid;    // (N) V on the grid
  std::vector<double> t;         // (S) saved times n·dt
  std::vector<double> rho;       // (S, N) |ψ|² at the saved times
  std::vector<double> positions; // (S, P) particle positions at the saved times
  std::vector<double> norm;      // (S) Σ|ψ|² dx
  double seconds = 0.0;          // wall time

  int64_t saves() const { return static_cast<int64_t>(t.size()); }
  int n_particles() const { return options.n_particles; }
  double max_norm_drift() const;  // max_n |norm_n − norm_0|
  std::string brief_report() const;
};

// Evolves ψ₀ of a one-dimensional `system` (std::invalid_argument for d ≠ 1)
// and moves the particles. Validates `options`.
BohmianTrajectories solve_bohmian_1d(const SystemDefinition& system, const BohmianOptions& options,
                                     const StepCallback& progress = {});

// NPZ keys: x_grid (N), t_arr (S), rho (S, N) float32 [see below], traj_x (S, P),
// V_grid (N), norm (S), T, dt, N, L, n_particles, save_every, seed, integrator,
// potential, label, and every system parameter (a, D, sigma0, … for the double
// well) as a float64 scalar. ρ is a plotting quantity: float32 (7 digits) halves
// the file (158 × 4096 × 4 B = 2.6 MB for Figure 1); `compress` deflates it further.
void save_bohmian_1d(const BohmianTrajectories& result, const std::string& path,
                     bool compress = true);

}  // namespace bohmflow
