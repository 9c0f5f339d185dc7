// Physical systems as the exact solvers see them: a potential V(x) on ℝ^d,
// the constants ħ and m, and the initial Gaussian state. No LibTorch here:
// the FFT reference (fft_reference.hpp) needs only this; potentials.hpp adds
// the batched tensor derivatives that the Bohmian dynamics need.
//
//   Morse chain   V = Σ_i D (1 − e^{−β x_i})² + λ Σ_i x_i x_{i+1}
//   Double well   V = Σ_i D (x_i²/a² − 1)²                       (d = 1 in the paper)
//   Harmonic      V = Σ_i ½ m ω_i² (x_i − a_i)²
//   Interacting bosons (DSM's benchmark, arXiv 2305.19685)
//                 V = Σ_i ½ m ω² x_i² + Σ_{i<j} g/(2√(2π s₂)) exp(−(x_i − x_j)²/(2 s₂))
//   Hénon–Heiles  V = Σ_i ½ x_i² + λ Σ_i (x_i² x_{i+1} − x_{i+1}³/3);  any V: scripted_system.hpp
// Initial state: ψ₀(x) ∝ Π_i exp(−(x_i − μ_i)²/(4σ_i²)) · e^{i c·x}, so that
// |ψ₀|² is the product Gaussian N(μ, diag σ²) and every particle starts with
// the Bohmian velocity v₀ = ħ c / m.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace bohmflow {

// Named scalar parameters of a system, e.g. {"d", 4}, {"D", 12.5}.
using ParameterMap = std::map<std::string, double>;

// Product-Gaussian initial state with a linear phase.
struct InitialState {
  std::vector<double> mean;      // μ (d): centre of |ψ₀|²
  std::vector<double> sigma;     // σ (d): standard deviation of |ψ₀|² per axis
  std::vector<double> velocity;  // v₀ = ħc/m (d): Bohmian velocity of every particle
};

// A harmonic trap inside a potential: V_trap = ½ (x − centre)ᵀ K (x − centre).
struct Trap {
  std::vector<double> centre;     // (d)
  std::vector<double> stiffness;  // K, (d × d) row-major, symmetric positive definite
};

// What defines a system: its registry name and parameters, ħ, m, ψ₀ and V.
class SystemDefinition {
 public:
  virtual ~SystemDefinition() = default;

  virtual std::string name() const = 0;   // registry name, e.g. "morse_chain"
  virtual std::string label() const = 0;  // for plots and files
  // Every parameter that defines the system (including d, hbar, mass); passing
  // it back to make_system_definition(name(), parameters()) rebuilds an equal
  // system (with its file, for the systems whose V comes from one).
  virtual ParameterMap parameters() const = 0;
  // The system's harmonic trap, for the "trap" baseline; none by default.
  virtual std::optional<Trap> trap() const { return std::nullopt; }
  // V at one point x (d coordinates). Called from several OpenMP threads at once
  // (potential_on_grid), so it must not modify shared state.
  virtual double potential_at(const double* x) const = 0;
  // V on the tensor grid axes[0] × … × axes[d−1], C order (last axis fastest).
  // By default potential_at at every point on `threads` OpenMP threads (0:
  // omp_get_max_threads()); a system whose V is cheaper in bulk (a table, a
  // TorchScript module) overrides it.
  virtual std::vector<double> potential_on_grid(const std::vector<std::vector<double>>& axes,
                                                int threads = 0) const;

  int dim() const { return static_cast<int>(initial_.mean.size()); }
  double hbar() const { return hbar_; }
  double mass() const { return mass_; }
  const InitialState& initial_state() const { return initial_; }

 protected:
  SystemDefinition(double hbar, double mass, InitialState initial);

 private:
  double hbar_;
  double mass_;
  InitialState initial_;
};

// Creates a system by registry name with some parameters overridden; every
// parameter not given keeps the default of that system's options struct.
// Throws std::invalid_argument naming the system and the key for an unknown
// name, an unknown parameter or an invalid value.
std::unique_ptr<SystemDefinition> make_system_definition(const std::string& name,
                                                         const ParameterMap& overrides = {});
std::vector<std::string> system_names();

// ħ, m and ψ₀ of a system whose V comes from a file: a TorchScript module
// (scripted_system.hpp) or a table on the FFT grid (potential_grid.hpp). As
// parameters (ParameterMap, the drivers' --param):
//   d, hbar, mass, mean | mean_i, sigma | sigma_i, velocity | velocity_i
// where "mean" sets every axis and "mean_i" axis i.
struct FileSystemOptions {
  int d = 0;                     // dimensions; required (>= 1)
  double hbar = 1.0;             // ħ
  double mass = 1.0;             // m
  std::vector<double> mean;      // μ_i of |ψ₀|²; required
  std::vector<double> sigma;     // σ_i of |ψ₀|²; empty: 1/√2 on every axis
  std::vector<double> velocity;  // v₀_i, every particle's initial Bohmian velocity; empty: 0

  // Sets the keys above from `parameters` ("d" first) and returns the rest,
  // which belong to the caller (a module's attributes); `where` names the
  // system in errors.
  ParameterMap assign(const ParameterMap& parameters, const std::string& where);
  // std::invalid_argument naming `where` and the parameter (e.g. "mean_1 is not set").
  void validate(const std::string& where) const;
  InitialState initial_state() const;  // σ and v₀ filled in
  ParameterMap parameters() const;     // d, hbar, mass and every axis's mean_i, sigma_i, velocity_i
};

// ---- the systems ------------------------------------------------------------

struct MorseChainOptions {
  int d = 4;             // number of coupled oscillators
  double D = 12.5;       // Morse well depth
  double beta = 0.2;     // Morse range parameter
  double lam = 0.3;      // nearest-neighbour bilinear coupling λ
  double q0 = 1.0;       // initial displacement of mode 0
  double sigma0 = 0.0;   // initial width per mode; 0 means sqrt(ħ/(2 m ω₀)), ω₀ = β sqrt(2D/m)
  double hbar = 1.0;     // ħ
  double mass = 1.0;     // m
  void validate() const;
};

class MorseChainDefinition : public SystemDefinition {
 public:
  explicit MorseChainDefinition(const MorseChainOptions& options);
  std::string name() const override { return "morse_chain"; }
  std::string label() const override;
  ParameterMap parameters() const override;
  double potential_at(const double* x) const override;
  const MorseChainOptions& options() const { return options_; }

 private:
  MorseChainOptions options_;
};

struct DoubleWellOptions {
  int d = 1;             // independent axes, each the same quartic well
  double a = 2.0;        // minima at ±a
  double D = 1.0;        // barrier height
  double sigma0 = 0.5;   // initial width, centred on the barrier top x = 0
  double hbar = 1.0;     // ħ
  double mass = 1.0;     // m
  void validate() const;
};

class DoubleWellDefinition : public SystemDefinition {
 public:
  explicit DoubleWellDefinition(const DoubleWellOptions& options);
  std::string name() const override { return "double_well"; }
  std::string label() const override;
  ParameterMap parameters() const override;
  double potential_at(const double* x) const override;
  const DoubleWellOptions& options() const { return options_; }

 private:
  DoubleWellOptions options_;
};

struct HarmonicOptions {
  int d = 1;                   // dimensions
  std::vector<double> omega;   // ω_i; empty means 1 on every axis ("omega" sets all, "omega_i" one)
  std::vector<double> centre;  // a_i; empty means 0 ("centre"/"centre_i")
  std::vector<double> mean;    // μ_i of |ψ₀|²; empty means 0 ("mean"/"mean_i")
  std::vector<double> sigma0;  // σ_i of |ψ₀|²; empty means ground state sqrt(ħ/(2mω_i)) ("sigma0"/"sigma0_i")
  std::vector<double> phase;   // c_i of e^{ic·x}; empty means 0 ("phase"/"phase_i")
  double hbar = 1.0;           // ħ
  double mass = 1.0;           // m
  void validate() const;
};

class HarmonicDefinition : public SystemDefinition {
 public:
  explicit HarmonicDefinition(const HarmonicOptions& options);  // fills the empty vectors
  std::string name() const override { return "harmonic"; }
  std::string label() const override;
  ParameterMap parameters() const override;
  std::optional<Trap> trap() const override;  // the whole potential
  double potential_at(const double* x) const override;
  const HarmonicOptions& options() const { return options_; }  // every vector of size d

 private:
  HarmonicOptions options_;
};

struct InteractingBosonsOptions {
  int d = 2;             // number of particles (one coordinate each)
  double omega = 1.0;    // trap frequency ω
  double g = 1.0;        // pair interaction strength
  double s2 = 0.1;       // squared range s₂ of the Gaussian pair interaction
  double mean = 0.0;     // μ of |ψ₀|² on every axis
  double sigma0 = 0.0;   // σ of |ψ₀|² per axis; 0 means the trap's ground state sqrt(ħ/(2mω))
  double phase = 0.0;    // c of e^{ic·x} on every axis (v₀ = ħc/m)
  double hbar = 0.1;     // ħ (DSM's value)
  double mass = 1.0;     // m
  void validate() const;
};

class InteractingBosonsDefinition : public SystemDefinition {
 public:
  explicit InteractingBosonsDefinition(const InteractingBosonsOptions& options);
  std::string name() const override { return "interacting_bosons"; }
  std::string label() const override;
  ParameterMap parameters() const override;
  std::optional<Trap> trap() const override;  // ½ m ω² |x|²
  double potential_at(const double* x) const override;
  const InteractingBosonsOptions& options() const { return options_; }

 private:
  InteractingBosonsOptions options_;
};

// The Hénon–Heiles chain, the benchmark of MCTDH (Nest & Meyer, J. Chem. Phys.
// 117, 10499 (2002)):
//   V = Σ_k ½ q_k² + λ Σ_{k<d} (q_k² q_{k+1} − q_{k+1}³/3),
// from ψ₀ = Π_k exp(−(q_k − q0)²/2) (|ψ₀|² with mean q0 and σ = 1/√2 on every
// axis at ħ = m = 1), at rest.
struct HenonHeilesOptions {
  int d = 2;              // degrees of freedom, >= 2
  double lam = 0.111803;  // λ, the cubic coupling
  double q0 = 2.0;        // μ of |ψ₀|² on every axis
  double sigma0 = 0.0;    // σ of |ψ₀|² per axis; 0 means sqrt(ħ/(2m)), the harmonic part's ground state
  double hbar = 1.0;      // ħ
  double mass = 1.0;      // m
  void validate() const;
};

class HenonHeilesDefinition : public SystemDefinition {
 public:
  explicit HenonHeilesDefinition(const HenonHeilesOptions& options);
  std::string name() const override { return "henon_heiles"; }
  std::string label() const override;
  ParameterMap parameters() const override;
  std::optional<Trap> trap() const override;  // the harmonic part ½|q|²
  double potential_at(const double* x) const override;
  const HenonHeilesOptions& options() const { return options_; }

 private:
  HenonHeilesOptions options_;
};

}  // namespace bohmflow
