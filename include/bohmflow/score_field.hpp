// The learned score on a 2D slice (Figure 5).
//
// On the plane through the origin spanned by axes di and dj (every other
// coordinate 0), at the grid points (g_i[a], g_j[b]) and times t_k:
//
//   s_i_k[a, b] = s_θ(x, t_k)_di,   s_j_k[a, b] = s_θ(x, t_k)_dj,
//   x = g_i[a] e_di + g_j[b] e_dj,
//
// and, with FFT ψ snapshots, the exact slice density
//
//   rho_k[a, b] = |ψ(x', t_k)|²,   x'_di = g_i[a], x'_dj = g_j[b], x'_m = grid point nearest 0,
//
// (even N has no grid point at 0, so x' lies off the plane by at most dx/2).
// With ψ the axes are the file's grid and t_k the snapshot nearest each
// requested time (its own time, deduplicated, ascending); without ψ the axes
// are linspace(−L, L, N) and t_k the requested times in ascending order.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

namespace bohmflow {

class ScoreNetImpl;
struct PsiSnapshots;

struct ScoreSliceOptions {
  std::vector<double> times = {0.0, 3.14159};  // requested times
  std::vector<int> dims = {0, 1};              // the plotted axes di, dj (distinct)
  int grid_N = 64;                             // grid points per axis without ψ
  double grid_L = 8.0;                         // half-width linspace(−L, L, N) without ψ
  bool single_precision = false;               // store s and ρ as float32 (axes stay float64)
  void validate(int d) const;  // std::invalid_argument naming the field
};

struct ScoreSlice {
  int d = 0, di = 0, dj = 1;
  std::vector<double> gi, gj;        // (n_i), (n_j) axes
  std::vector<double> times;         // (K) t_k
  std::vector<torch::Tensor> s_i;    // K × (n_i, n_j) float64
  std::vector<torch::Tensor> s_j;    // K × (n_i, n_j)
  std::vector<torch::Tensor> rho;    // K × (n_i, n_j), empty without ψ
};

// Points of the slice: (n_i·n_j, d), row a·n_j + b = g_i[a] e_di + g_j[b] e_dj.
torch::Tensor slice_points(int d, int di, int dj, const std::vector<double>& gi,
                           const std::vector<double>& gj);

// Evaluates the network on the slice; `psi` may be null (no density).
ScoreSlice compute_score_slice(const ScoreNetImpl& network, const ScoreSliceOptions& options,
                               const PsiSnapshots* psi = nullptr);

// Writes gi, gj, di, dj, d, n_times and per time k: t_k, s_i_k, s_j_k (and
// rho_k with ψ), compressed, atomically; s and ρ as float32 when asked.
void save_score_slice(const ScoreSlice& slice, const std::string& path, bool single_precision);

}  // namespace bohmflow
