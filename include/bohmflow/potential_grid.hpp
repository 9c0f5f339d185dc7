// V tabulated on the FFT reference's grid, so that the split-operator solver
// (which stays free of LibTorch) handles any system: tabulate_potential
// writes the table of any system, scripted or built in, and
// compute_fft_reference --potential-grid propagates on it.
//
// The file (NPZ, docs/file-formats.md):
//   axis_0 … axis_{d−1}   (N) float64, each linspace(−L, L, N), the same on every axis
//   V                     (N,)*d float64, C order (last axis fastest)
//   hbar, mass            float64 scalars (optional): defaults of the state below
//   initial_mean, initial_sigma, initial_velocity   (d) float64 (optional): ψ₀'s defaults
//   potential, label      unicode (optional): what was tabulated
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "bohmflow/system.hpp"

namespace bohmflow {

struct PotentialGrid {
  int d = 0;                 // axes
  int N = 0;                 // points per axis
  double L = 0.0;            // axis = grid_axis(N, L) (fft_reference.hpp), the same on every axis
  std::vector<double> V;     // (N,)*d, C order
  // The state the table was written with (hbar, mass, initial_*), as
  // FileSystemOptions parameters; empty when the file has none.
  ParameterMap state;
  std::string potential;     // registry name or "script"; may be empty
  std::string label;         // for reports; may be empty
};

// The state of a system on `grid`: the table's defaults (grid.state) with
// `overrides` on top, as FileSystemOptions parameters. An all-axes key of
// the overrides ("mean") replaces the table's per-axis ones ("mean_i"); d is
// the grid's unless given.
ParameterMap grid_state(const PotentialGrid& grid, const ParameterMap& overrides);

// ħ, m and ψ₀ of any system as FileSystemOptions: the state a table of its V
// is written with.
FileSystemOptions file_system_state(const SystemDefinition& system);

// Bytes of V for d axes of N points (+infinity when N^d overflows).
double potential_grid_bytes(int d, int N);

// Reads and validates: every axis present, float64, uniform to 1e-9 of its
// spacing, symmetric about 0 and equal to axis_0; V of shape (N,)*d and
// finite; d in 1 … 6. Errors name the file and the key. The file's size is
// checked against the available memory before it is read.
PotentialGrid load_potential_grid(const std::string& path);
// Writes atomically (the axes as grid_axis(N, L)).
void save_potential_grid(const PotentialGrid& grid, const std::string& path);

// A system whose V is a PotentialGrid: exact at the grid's points (what the
// FFT reference evaluates) and an error anywhere else; ħ, m and ψ₀ from
// `state`.
class GridSystemDefinition : public SystemDefinition {
 public:
  // `source` names the grid in errors and labels (its file).
  GridSystemDefinition(std::shared_ptr<const PotentialGrid> grid, const FileSystemOptions& state,
                       std::string source);
  std::string name() const override { return "grid"; }
  std::string label() const override;
  ParameterMap parameters() const override;  // the state's, and N, L
  double potential_at(const double* x) const override;
  std::vector<double> potential_on_grid(const std::vector<std::vector<double>>& axes,
                                        int threads = 0) const override;
  const PotentialGrid& grid() const { return *grid_; }

 private:
  // Index of coordinate x on the axis; std::invalid_argument when x is not one of its points.
  int64_t index_of(double x) const;

  std::shared_ptr<const PotentialGrid> grid_;
  std::string source_;
};

}  // namespace bohmflow
