// Reverse Kullback–Leibler divergence of the learned density against the exact one.
//
// Particles x_i(0) ~ ρ₀ = |ψ₀|² move along the learned Bohmian flow with the
// deformation gradient F_i(t) = ∂x_i(t)/∂x_i(0); by the change of variables
//
//   log ρ_θ(x_i(t), t) = log ρ₀(x_i(0)) − log|det F_i(t)|,
//
// so with the exact density ρ = |ψ|² of an FFT snapshot,
//
//   KL(ρ_θ‖ρ)(t) = E_{ρ_θ}[log ρ_θ − log ρ] ≈ (1/M') Σ_i [log ρ_θ(x_i(t), t) − log ρ(x_i(t), t)]
//               = H_cross − H(ρ_θ),   H(ρ_θ) = −⟨log ρ_θ⟩,   H_cross = −⟨log ρ⟩,
//
// where log ρ is the multilinear interpolation of log(|ψ|² + floor) on the FFT
// grid, and the mean runs over the M' particles inside the grid (the others
// are counted, not used). At t = 0 (F = I) the estimate measures only the
// interpolation and the floor. The reference's scripts/kl_divergence.py does
// the same.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

#include "bohmflow/fft_reference.hpp"  // StepCallback

namespace bohmflow {

class System;
class ScoreNetImpl;
struct PsiSnapshots;

struct KlOptions {
  int64_t M = 20000;     // particles
  double floor = 1e-12;  // added to |ψ|² before the log
  double dt = 0.01;      // leapfrog step; snapshot t_k is compared at step round(t_k/dt)
  uint64_t seed = 42;    // torch seed of x₀ (the reference's default)
  int64_t batch = 1000;  // particles propagated together (memory: batch·(T/dt)·d² doubles for F)
  void validate() const;  // std::invalid_argument naming the field
};

// One snapshot time.
struct KlRow {
  double t = 0.0;             // snapshot time
  int64_t step = 0;           // leapfrog step compared, min(round(t/dt), n_steps)
  double kl = 0.0;            // KL(ρ_θ‖ρ)
  double kl_error = 0.0;      // its Monte Carlo standard error, std(log ρ_θ − log ρ)/sqrt(M')
  double entropy = 0.0;       // H(ρ_θ) = −⟨log ρ_θ⟩
  double cross_entropy = 0.0; // H_cross = −⟨log ρ⟩
  int64_t out_of_grid = 0;    // particles outside the grid, left out of the means
};

struct KlResult {
  int64_t M = 0;            // particles
  double floor = 0.0;       // KlOptions::floor used
  std::vector<KlRow> rows;  // one per snapshot, in the file's order
  std::string table() const;  // t, KL, its standard error, H(rho_theta), H_cross, out-of-grid
};

// The estimate above at every snapshot of `psi` (its system must be `system`:
// same potential name and d). `progress` is called after each batch with
// particles done and M.
KlResult reverse_kl(const System& system, const ScoreNetImpl& network, const PsiSnapshots& psi,
                    const KlOptions& options, const StepCallback& progress = {});

// Writes t, step, kl, kl_err, H_L, H_cross, n_out (S each), M, floor (the
// reference's keys, plus step, kl_err and floor).
void save_kl(const KlResult& result, const std::string& path);

}  // namespace bohmflow
