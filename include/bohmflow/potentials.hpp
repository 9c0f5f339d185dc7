// Physical systems: a potential V(x) on ℝ^d with its exact derivatives, the
// physical constants ħ and m, and the initial Gaussian state.
//
//   Morse chain   V = Σ_i D (1 − e^{−β x_i})² + λ Σ_i x_i x_{i+1}
//   Double well   V = Σ_i D (x_i²/a² − 1)²                       (d = 1 in the paper)
//   Harmonic      V = Σ_i ½ m ω_i² (x_i − a_i)²
//   Interacting bosons (DSM's benchmark, arXiv 2305.19685)
//                 V = Σ_i ½ m ω² x_i² + Σ_{i<j} g/(2√(2π s₂)) exp(−(x_i − x_j)²/(2 s₂))
//
// Initial state: ψ₀(x) ∝ Π_i exp(−(x_i − μ_i)²/(4σ_i²)) · e^{i c·x}, so that
// |ψ₀|² is the product Gaussian N(μ, diag σ²) and every particle starts with
// the Bohmian velocity v₀ = ħ c / m.
//
// Derivatives are analytic and batched over particles: x is (M, d), float64
// (or any floating dtype) on any device; they are written with differentiable
// tensor operations, so reverse-mode autograd through them is exact too.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <torch/types.h>

namespace bohmflow {

// A harmonic trap inside a potential: V_trap = ½ (x − centre)ᵀ K (x − centre).
struct Trap {
  std::vector<double> centre;     // (d)
  std::vector<double> stiffness;  // K, (d × d) row-major, symmetric positive definite
};

// Named scalar parameters of a system, e.g. {"d", 4}, {"D", 12.5}.
using ParameterMap = std::map<std::string, double>;

// Product-Gaussian initial state with a linear phase.
struct InitialState {
  std::vector<double> mean;      // μ (d): centre of |ψ₀|²
  std::vector<double> sigma;     // σ (d): standard deviation of |ψ₀|² per axis
  std::vector<double> velocity;  // v₀ = ħc/m (d): Bohmian velocity of every particle
};

class System {
 public:
  virtual ~System() = default;

  virtual std::string name() const = 0;   // registry name, e.g. "morse_chain"
  virtual std::string label() const = 0;  // for plots and files
  int dim() const { return static_cast<int>(initial_.mean.size()); }
  double hbar() const { return hbar_; }
  double mass() const { return mass_; }
  const InitialState& initial_state() const { return initial_; }

  // Every parameter that defines the system (including d, hbar, mass); passing
  // it back to make_system(name(), parameters()) rebuilds an equal system.
  virtual ParameterMap parameters() const = 0;

  // x: (M, d). Returns V: (M).
  virtual torch::Tensor potential(const torch::Tensor& x) const = 0;
  // x: (M, d). Returns ∇V: (M, d).
  virtual torch::Tensor gradient(const torch::Tensor& x) const = 0;
  // x: (M, d). Returns ∇²V: (M, d, d).
  virtual torch::Tensor hessian(const torch::Tensor& x) const = 0;
  // x: (M, d), U: (M, d, n) n directions per particle.
  // Returns (M, n, d, d): entry [p, j, k, l] = Σ_i ∂_i∂_k∂_l V(x_p) U[p, i, j],
  // the derivative of the Hessian along the j-th direction.
  virtual torch::Tensor hessian_directional(const torch::Tensor& x, const torch::Tensor& U) const = 0;

  // The system's harmonic trap, for the "trap" baseline; none by default.
  virtual std::optional<Trap> trap() const { return std::nullopt; }

  // Exact score of |ψ₀|²: s₀(x) = −(x − μ)/σ². x: (M, d) → (M, d).
  torch::Tensor initial_score(const torch::Tensor& x) const;
  // log |ψ₀(x)|². x: (M, d) → (M).
  torch::Tensor initial_log_density(const torch::Tensor& x) const;

 protected:
  System(double hbar, double mass, InitialState initial);
  double hbar_;
  double mass_;
  InitialState initial_;
};

// Creates a system by registry name with some parameters overridden; every
// parameter not given keeps the default of that system's options struct.
// Throws std::invalid_argument naming the system and the key for an unknown
// name, an unknown parameter or an invalid value.
std::unique_ptr<System> make_system(const std::string& name, const ParameterMap& overrides = {});
std::vector<std::string> system_names();

// V on the tensor grid axes[0] × … × axes[d−1], C order (last axis fastest).
// Evaluated in chunks through System::potential, so each formula lives once.
std::vector<double> potential_on_grid(const System& system,
                                      const std::vector<std::vector<double>>& axes);

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

class MorseChain : public System {
 public:
  explicit MorseChain(const MorseChainOptions& options);
  std::string name() const override { return "morse_chain"; }
  std::string label() const override;
  ParameterMap parameters() const override;
  torch::Tensor potential(const torch::Tensor& x) const override;
  torch::Tensor gradient(const torch::Tensor& x) const override;
  torch::Tensor hessian(const torch::Tensor& x) const override;
  torch::Tensor hessian_directional(const torch::Tensor& x, const torch::Tensor& U) const override;
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

class DoubleWell : public System {
 public:
  explicit DoubleWell(const DoubleWellOptions& options);
  std::string name() const override { return "double_well"; }
  std::string label() const override;
  ParameterMap parameters() const override;
  torch::Tensor potential(const torch::Tensor& x) const override;
  torch::Tensor gradient(const torch::Tensor& x) const override;
  torch::Tensor hessian(const torch::Tensor& x) const override;
  torch::Tensor hessian_directional(const torch::Tensor& x, const torch::Tensor& U) const override;
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
  void validate() const;       // also fills the empty vectors with their defaults
};

class Harmonic : public System {
 public:
  explicit Harmonic(HarmonicOptions options);
  std::string name() const override { return "harmonic"; }
  std::string label() const override;
  ParameterMap parameters() const override;
  torch::Tensor potential(const torch::Tensor& x) const override;
  torch::Tensor gradient(const torch::Tensor& x) const override;
  torch::Tensor hessian(const torch::Tensor& x) const override;
  torch::Tensor hessian_directional(const torch::Tensor& x, const torch::Tensor& U) const override;
  std::optional<Trap> trap() const override;  // the whole potential
  const HarmonicOptions& options() const { return options_; }

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

// With r = x_i − x_j and f(r) = A exp(−r²/(2s₂)), A = g/(2√(2π s₂)), the pair
// sum's derivatives are those of f along e_i − e_j, so every order is a
// (d × d) matrix of f^{(n)}(x_a − x_b): O(d²) per particle.
class InteractingBosons : public System {
 public:
  explicit InteractingBosons(const InteractingBosonsOptions& options);
  std::string name() const override { return "interacting_bosons"; }
  std::string label() const override;
  ParameterMap parameters() const override;
  torch::Tensor potential(const torch::Tensor& x) const override;
  torch::Tensor gradient(const torch::Tensor& x) const override;
  torch::Tensor hessian(const torch::Tensor& x) const override;
  torch::Tensor hessian_directional(const torch::Tensor& x, const torch::Tensor& U) const override;
  std::optional<Trap> trap() const override;  // ½ m ω² |x|²
  const InteractingBosonsOptions& options() const { return options_; }

 private:
  // f^{(n)}(x_a − x_b) for every ordered pair, zero on the diagonal: (M, d, d).
  torch::Tensor pair_derivative(const torch::Tensor& x, int order) const;
  InteractingBosonsOptions options_;
};

}  // namespace bohmflow
