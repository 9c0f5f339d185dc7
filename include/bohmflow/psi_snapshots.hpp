// ψ snapshots of the split-operator FFT reference: written by the solver's
// driver, read back for analysis. compute_fft_reference --save-psi-at t₁ t₂ …
// --psi-out FILE writes (save_psi_snapshots):
//   psi_0, psi_1, …   (N,)*d complex128, C order: ψ(x, t_k) on the grid
//   t_snap (S), step_snap (S)   requested times and their steps round(t/dt)
//   grids (d, N)      x_i = linspace(−L, L, N) per axis
//   d, N, L, dt, potential
// The density at time t_k is ρ_k = |ψ_k|², normalised so that Σ ρ_k dV = 1.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bohmflow/fft_reference.hpp"
#include "bohmflow/tensor_declarations.hpp"

namespace bohmflow {

struct PsiSnapshots {
  std::string source;                      // file it was read from
  std::string potential;                   // registry name of the system
  int d = 0;                               // dimension
  int N = 0;                               // grid points per axis
  double L = 0.0;                          // half-width of the box
  double dt = 0.0;                         // FFT time step
  std::vector<std::vector<double>> grids;  // d axes of N points each
  std::vector<double> times;               // (S) t_k
  std::vector<int64_t> steps;              // (S) FFT step of t_k
  std::vector<torch::Tensor> psi;          // S × (N,)*d complex128

  size_t size() const;
  // Index of the snapshot whose time is closest to t (the first on a tie).
  size_t nearest(double t) const;
  // ρ_k = |ψ_k|²: (N,)*d float64.
  torch::Tensor density(size_t k) const;
  // Index of the grid point closest to `x` on axis `axis` (the first on a tie).
  int64_t nearest_grid_index(int axis, double x) const;
};

// Reads and validates a snapshot file: every key above present, psi_k of shape
// (N,)*d and complex, grids of shape (d, N). Errors name the file and the key.
// (LibTorch part of the library.)
PsiSnapshots load_psi_snapshots(const std::string& path);

// Writes result.snapshots in the layout above, plus k_grids (d, N) and the
// system's label. Throws std::invalid_argument when the result holds no
// snapshot. (bohmflow_fft: no LibTorch needed.)
void save_psi_snapshots(const FftResult& result, const std::string& path);

}  // namespace bohmflow
