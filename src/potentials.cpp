// The systems' tensor derivatives; the equations stand in
// include/bohmflow/system.hpp, their terms in potential_terms.hpp.
#include "bohmflow/potentials.hpp"

#include "device_constants.hpp"
#include "internal_checks.hpp"
#include "potential_terms.hpp"

#include <cmath>
#include <stdexcept>

#include <torch/torch.h>

namespace bohmflow {
namespace {

using detail::require;

// Separable on-site terms Σ_i f(x_i): with f2 = f''(x) and f3 = f'''(x), both
// (M, d), the Hessian is diag(f2) and ∂_u∇²V is diag(f3 ⊙ u).
torch::Tensor diagonal_hessian(const torch::Tensor& f2) { return torch::diag_embed(f2); }

// f3: (M, d), U: (M, d, n) → (M, n, d, d).
torch::Tensor diagonal_hessian_directional(const torch::Tensor& f3, const torch::Tensor& U) {
  return torch::diag_embed((f3.unsqueeze(-1) * U).transpose(1, 2));
}

torch::Tensor as_row(const std::vector<double>& values, const torch::Tensor& like) {
  return detail::device_constant(values, {static_cast<int64_t>(values.size())}, like.options());
}

void check_positions(const torch::Tensor& x, int d, const std::string& system) {
  require(x.dim() == 2 && x.size(1) == d, system,
          "positions must have shape (M, " + std::to_string(d) + "), got " +
              std::to_string(x.dim()) + "-D tensor" +
              (x.dim() == 2 ? " with " + std::to_string(x.size(1)) + " columns" : ""));
}


// The definition a system was built from, as its concrete type.
template <typename Definition>
const Definition& definition_of(const System& system) {
  return static_cast<const Definition&>(system.definition());
}

}  // namespace

// ---- System ------------------------------------------------------------------

System::System(std::shared_ptr<const SystemDefinition> definition)
    : SystemDefinition(definition->hbar(), definition->mass(), definition->initial_state()),
      definition_(std::move(definition)) {}

std::unique_ptr<System> System::copy() const { return make_system(name(), parameters()); }

PotentialDerivatives System::potential_derivatives(const torch::Tensor& x, int order) const {
  PotentialDerivatives out;
  out.gradient = gradient(x);
  if (order >= 2) out.hessian = hessian(x);
  if (order >= 3) {
    const int64_t M = x.size(0), d = x.size(1);
    out.third = hessian_directional(x, torch::eye(d, x.options()).expand({M, d, d}));
  }
  return out;
}

// s₀(x) = −(x − μ)/σ²
torch::Tensor System::initial_score(const torch::Tensor& x) const {
  const auto mean = as_row(initial_state().mean, x);
  const auto sigma = as_row(initial_state().sigma, x);
  return -(x - mean) / sigma.square();
}

// log|ψ₀|² = Σ_i [−(x_i − μ_i)²/(2σ_i²) − ½ log(2π σ_i²)]
torch::Tensor System::initial_log_density(const torch::Tensor& x) const {
  const auto mean = as_row(initial_state().mean, x);
  const auto sigma = as_row(initial_state().sigma, x);
  const auto z = (x - mean) / sigma;
  return (-0.5 * z.square() - torch::log(sigma) - 0.5 * std::log(2.0 * M_PI)).sum(-1);
}

torch::Tensor System::initial_phase(const torch::Tensor& x) const {
  return mass() * (x * as_row(initial_state().velocity, x)).sum(-1);
}

// ---- Morse chain -----------------------------------------------------------------

MorseChain::MorseChain(const MorseChainOptions& options)
    : System(std::make_shared<MorseChainDefinition>(options)) {}

const MorseChainOptions& MorseChain::options() const {
  return definition_of<MorseChainDefinition>(*this).options();
}

// On-site f(x) = D(1 − e)², e = e^{−βx}:
//   f' = 2Dβ(e − e²),  f'' = 2Dβ²(2e² − e),  f''' = 2Dβ³(e − 4e²).
torch::Tensor MorseChain::potential(const torch::Tensor& x) const {
  check_positions(x, dim(), name());
  const auto& o = options();
  auto v = detail::morse_site(x, o).sum(-1);
  if (dim() > 1) v = v + o.lam * (x.narrow(1, 0, dim() - 1) * x.narrow(1, 1, dim() - 1)).sum(-1);
  return v;
}

torch::Tensor MorseChain::gradient(const torch::Tensor& x) const {
  check_positions(x, dim(), name());
  const double D = options().D, b = options().beta;
  const auto e = torch::exp(-b * x);
  auto g = 2.0 * D * b * (e - e.square());
  if (dim() > 1) {
    // λ ∂/∂x_i Σ x_j x_{j+1} = λ (x_{i−1} + x_{i+1})
    const auto zero = torch::zeros_like(x.narrow(1, 0, 1));
    const auto left = torch::cat({zero, x.narrow(1, 0, dim() - 1)}, 1);
    const auto right = torch::cat({x.narrow(1, 1, dim() - 1), zero}, 1);
    g = g + options().lam * (left + right);
  }
  return g;
}

torch::Tensor MorseChain::hessian(const torch::Tensor& x) const {
  check_positions(x, dim(), name());
  const double D = options().D, b = options().beta;
  const auto e = torch::exp(-b * x);
  auto h = diagonal_hessian(2.0 * D * b * b * (2.0 * e.square() - e));
  if (dim() > 1) {
    auto coupling = torch::zeros({dim(), dim()}, x.options());
    coupling.diagonal(1).fill_(options().lam);
    coupling.diagonal(-1).fill_(options().lam);
    h = h + coupling;
  }
  return h;
}

torch::Tensor MorseChain::hessian_directional(const torch::Tensor& x, const torch::Tensor& U) const {
  check_positions(x, dim(), name());
  const double D = options().D, b = options().beta;
  const auto e = torch::exp(-b * x);
  return diagonal_hessian_directional(2.0 * D * b * b * b * (e - 4.0 * e.square()), U);
}

// ---- Double well -----------------------------------------------------------------

DoubleWell::DoubleWell(const DoubleWellOptions& options)
    : System(std::make_shared<DoubleWellDefinition>(options)) {}

const DoubleWellOptions& DoubleWell::options() const {
  return definition_of<DoubleWellDefinition>(*this).options();
}

// f(x) = D(x²/a² − 1)²:  f' = 4D(x³/a⁴ − x/a²),  f'' = 4D(3x²/a⁴ − 1/a²),  f''' = 24D x/a⁴.
torch::Tensor DoubleWell::potential(const torch::Tensor& x) const {
  check_positions(x, dim(), name());
  return detail::double_well_site(x, options()).sum(-1);
}

torch::Tensor DoubleWell::gradient(const torch::Tensor& x) const {
  check_positions(x, dim(), name());
  const double a2 = options().a * options().a;
  return 4.0 * options().D * x * (x.square() / (a2 * a2) - 1.0 / a2);
}

torch::Tensor DoubleWell::hessian(const torch::Tensor& x) const {
  check_positions(x, dim(), name());
  const double a2 = options().a * options().a;
  return diagonal_hessian(4.0 * options().D * (3.0 * x.square() / (a2 * a2) - 1.0 / a2));
}

torch::Tensor DoubleWell::hessian_directional(const torch::Tensor& x, const torch::Tensor& U) const {
  check_positions(x, dim(), name());
  const double a2 = options().a * options().a;
  return diagonal_hessian_directional(24.0 * options().D * x / (a2 * a2), U);
}

// ---- Harmonic --------------------------------------------------------------------

Harmonic::Harmonic(const HarmonicOptions& options) : System(std::make_shared<HarmonicDefinition>(options)) {}

const HarmonicOptions& Harmonic::options() const { return definition_of<HarmonicDefinition>(*this).options(); }

// With k_i = m ω_i²:  V = Σ ½ k_i (x_i − a_i)²,  ∇V = k ⊙ (x − a),  ∇²V = diag(k),  ∇³V = 0.
torch::Tensor Harmonic::potential(const torch::Tensor& x) const {
  check_positions(x, dim(), name());
  const auto k = mass() * as_row(options().omega, x).square();
  return detail::harmonic_site(x, k, as_row(options().centre, x)).sum(-1);
}

torch::Tensor Harmonic::gradient(const torch::Tensor& x) const {
  check_positions(x, dim(), name());
  const auto k = mass() * as_row(options().omega, x).square();
  return k * (x - as_row(options().centre, x));
}

torch::Tensor Harmonic::hessian(const torch::Tensor& x) const {
  check_positions(x, dim(), name());
  const auto k = mass() * as_row(options().omega, x).square();
  return diagonal_hessian(k.expand_as(x));
}

torch::Tensor Harmonic::hessian_directional(const torch::Tensor& x, const torch::Tensor& U) const {
  check_positions(x, dim(), name());
  return torch::zeros({x.size(0), U.size(2), dim(), dim()}, x.options());
}

// ---- Interacting bosons ------------------------------------------------------------

namespace {
// diag(Σ_b W_ab) − W = Σ_{a<b} w_ab (e_a − e_b)(e_a − e_b)ᵀ for a symmetric
// pair matrix W with zero diagonal; W: (…, d, d).
torch::Tensor pair_laplacian(const torch::Tensor& W) { return torch::diag_embed(W.sum(-1)) - W; }
}  // namespace

InteractingBosons::InteractingBosons(const InteractingBosonsOptions& options)
    : System(std::make_shared<InteractingBosonsDefinition>(options)) {}

const InteractingBosonsOptions& InteractingBosons::options() const {
  return definition_of<InteractingBosonsDefinition>(*this).options();
}

// f(r) = A exp(−r²/(2s)):  f′ = −(r/s) f,  f″ = (r²/s² − 1/s) f,  f‴ = (3r/s² − r³/s³) f.
torch::Tensor InteractingBosons::pair_derivative(const torch::Tensor& x, int order) const {
  const double s = options().s2;
  const auto r = x.unsqueeze(-1) - x.unsqueeze(-2);  // (M, d, d): x_a − x_b
  const auto f = detail::bosons_pair(r, options());
  torch::Tensor out;
  switch (order) {
    case 0: out = f; break;
    case 1: out = -(r / s) * f; break;
    case 2: out = (r.square() / (s * s) - 1.0 / s) * f; break;
    case 3: out = (3.0 * r / (s * s) - r.pow(3) / (s * s * s)) * f; break;
    default: throw std::logic_error("InteractingBosons::pair_derivative: order " + std::to_string(order));
  }
  return out * (1.0 - torch::eye(dim(), x.options()));
}

torch::Tensor InteractingBosons::potential(const torch::Tensor& x) const {
  check_positions(x, dim(), name());
  const double k = mass() * options().omega * options().omega;
  return 0.5 * k * x.square().sum(-1) + 0.5 * pair_derivative(x, 0).sum({-2, -1});
}

// ∂_a V = k x_a + Σ_b f′(x_a − x_b)
torch::Tensor InteractingBosons::gradient(const torch::Tensor& x) const {
  check_positions(x, dim(), name());
  const double k = mass() * options().omega * options().omega;
  return k * x + pair_derivative(x, 1).sum(-1);
}

// ∇²V = k I + Σ_{a<b} f″(x_a − x_b) (e_a − e_b)(e_a − e_b)ᵀ
torch::Tensor InteractingBosons::hessian(const torch::Tensor& x) const {
  check_positions(x, dim(), name());
  const double k = mass() * options().omega * options().omega;
  return k * torch::eye(dim(), x.options()) + pair_laplacian(pair_derivative(x, 2));
}

// Σ_i u_i ∂_i∇²V = Σ_{a<b} f‴(x_a − x_b) (u_a − u_b) (e_a − e_b)(e_a − e_b)ᵀ
torch::Tensor InteractingBosons::hessian_directional(const torch::Tensor& x, const torch::Tensor& U) const {
  check_positions(x, dim(), name());
  const auto f3 = pair_derivative(x, 3).unsqueeze(1);         // (M, 1, d, d)
  const auto u = U.transpose(1, 2);                           // (M, n, d)
  const auto difference = u.unsqueeze(-1) - u.unsqueeze(-2);  // (M, n, d, d): u_a − u_b
  return pair_laplacian(f3 * difference);
}

// ---- Hénon–Heiles ----------------------------------------------------------------

HenonHeiles::HenonHeiles(const HenonHeilesOptions& options)
    : System(std::make_shared<HenonHeilesDefinition>(options)) {}

const HenonHeilesOptions& HenonHeiles::options() const {
  return definition_of<HenonHeilesDefinition>(*this).options();
}

torch::Tensor HenonHeiles::potential(const torch::Tensor& x) const {
  check_positions(x, dim(), name());
  const int64_t n = dim() - 1;
  return 0.5 * x.square().sum(-1) + detail::henon_heiles_pair(x.narrow(-1, 0, n), x.narrow(-1, 1, n), options()).sum(-1);
}

// With a = q_k, b = q_{k+1}:  ∂_a = 2λab,  ∂_b = λ(a² − b²).
torch::Tensor HenonHeiles::gradient(const torch::Tensor& x) const {
  check_positions(x, dim(), name());
  const int64_t n = dim() - 1;
  const double lam = options().lam;
  const auto a = x.narrow(-1, 0, n), b = x.narrow(-1, 1, n);
  return x + torch::constant_pad_nd(2.0 * lam * a * b, {0, 1}) +
         torch::constant_pad_nd(lam * (a.square() - b.square()), {1, 0});
}

// ∂_a² = 2λb,  ∂_a∂_b = 2λa,  ∂_b² = −2λb.
torch::Tensor HenonHeiles::cubic_hessian(const torch::Tensor& y) const {
  const int64_t n = dim() - 1;
  const double lam = options().lam;
  const auto a = y.narrow(-1, 0, n), b = y.narrow(-1, 1, n);
  const auto diagonal = torch::constant_pad_nd(2.0 * lam * b, {0, 1}) + torch::constant_pad_nd(-2.0 * lam * b, {1, 0});
  const auto coupling = 2.0 * lam * a;
  return torch::diag_embed(diagonal) + torch::diag_embed(coupling, 1) + torch::diag_embed(coupling, -1);
}

torch::Tensor HenonHeiles::hessian(const torch::Tensor& x) const {
  check_positions(x, dim(), name());
  return torch::eye(dim(), x.options()) + cubic_hessian(x);
}

// ∂³V: ∂_a²∂_b = 2λ, ∂_b³ = −2λ, so Σ_i u_i ∂_i∇²V is cubic_hessian(u).
torch::Tensor HenonHeiles::hessian_directional(const torch::Tensor& x, const torch::Tensor& U) const {
  check_positions(x, dim(), name());
  return cubic_hessian(U.transpose(1, 2));
}

// ---- registry ----------------------------------------------------------------------

std::unique_ptr<System> make_system(const std::string& name, const ParameterMap& overrides) {
  const auto definition = make_system_definition(name, overrides);
  const SystemDefinition* d = definition.get();
  if (auto* o = dynamic_cast<const MorseChainDefinition*>(d)) return std::make_unique<MorseChain>(o->options());
  if (auto* o = dynamic_cast<const DoubleWellDefinition*>(d)) return std::make_unique<DoubleWell>(o->options());
  if (auto* o = dynamic_cast<const HarmonicDefinition*>(d)) return std::make_unique<Harmonic>(o->options());
  if (auto* o = dynamic_cast<const HenonHeilesDefinition*>(d)) return std::make_unique<HenonHeiles>(o->options());
  if (auto* o = dynamic_cast<const InteractingBosonsDefinition*>(d)) {
    return std::make_unique<InteractingBosons>(o->options());
  }
  throw std::logic_error("make_system: system '" + name + "' has no derivatives (potentials.cpp)");
}

}  // namespace bohmflow
