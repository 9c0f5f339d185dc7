// Potentials, their analytic derivatives, and the registry that builds
// systems by name. The equations stand in include/bohmflow/potentials.hpp.
#include "bohmflow/potentials.hpp"

#include "device_constants.hpp"
#include "internal_checks.hpp"

#include <cmath>
#include <functional>
#include <sstream>
#include <stdexcept>

#include <torch/torch.h>

namespace bohmflow {
namespace {

using detail::format_number;
using detail::require;

int integer_parameter(const std::string& system, const std::string& key, double value) {
  require(std::isfinite(value) && value == std::round(value), system,
          "parameter '" + key + "' = " + format_number(value) + " must be an integer");
  return static_cast<int>(value);
}

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

// Vector parameters: "name" sets every axis, "name_i" one axis.
bool set_vector_parameter(std::vector<double>& values, int d, const std::string& base,
                          const std::string& key, double value, const std::string& system) {
  if (key == base) {
    values.assign(d, value);
    return true;
  }
  if (key.rfind(base + "_", 0) != 0) return false;
  const std::string index_text = key.substr(base.size() + 1);
  require(!index_text.empty() && index_text.find_first_not_of("0123456789") == std::string::npos,
          system, "unknown parameter '" + key + "'");
  const int index = std::stoi(index_text);
  require(index < d, system,
          "parameter '" + key + "': axis " + index_text + " is out of range for d = " +
              std::to_string(d));
  if (values.size() != static_cast<size_t>(d)) values.resize(d, std::nan(""));
  values[index] = value;
  return true;
}

// Each system's parameters, named once: the registry's overrides and
// System::parameters() both read these tables ("d" is common to all).
template <typename Options, typename Value = double>
struct Field {
  const char* name;
  Value Options::*member;
};
template <typename Options>
using Fields = std::vector<Field<Options>>;

const Fields<MorseChainOptions> kMorseChainFields = {
    {"D", &MorseChainOptions::D},   {"beta", &MorseChainOptions::beta}, {"lam", &MorseChainOptions::lam},
    {"q0", &MorseChainOptions::q0}, {"sigma0", &MorseChainOptions::sigma0}, {"hbar", &MorseChainOptions::hbar},
    {"mass", &MorseChainOptions::mass}};
const Fields<DoubleWellOptions> kDoubleWellFields = {
    {"a", &DoubleWellOptions::a},       {"D", &DoubleWellOptions::D}, {"sigma0", &DoubleWellOptions::sigma0},
    {"hbar", &DoubleWellOptions::hbar}, {"mass", &DoubleWellOptions::mass}};
const Fields<InteractingBosonsOptions> kInteractingBosonsFields = {
    {"omega", &InteractingBosonsOptions::omega},   {"g", &InteractingBosonsOptions::g},
    {"s2", &InteractingBosonsOptions::s2},         {"mean", &InteractingBosonsOptions::mean},
    {"sigma0", &InteractingBosonsOptions::sigma0}, {"phase", &InteractingBosonsOptions::phase},
    {"hbar", &InteractingBosonsOptions::hbar},     {"mass", &InteractingBosonsOptions::mass}};
const Fields<HarmonicOptions> kHarmonicFields = {{"hbar", &HarmonicOptions::hbar},
                                                 {"mass", &HarmonicOptions::mass}};
// Per-axis parameters: "name" sets every axis, "name_i" one.
const std::vector<Field<HarmonicOptions, std::vector<double>>> kHarmonicAxes = {
    {"omega", &HarmonicOptions::omega}, {"centre", &HarmonicOptions::centre}, {"mean", &HarmonicOptions::mean},
    {"sigma0", &HarmonicOptions::sigma0}, {"phase", &HarmonicOptions::phase}};

template <typename Options>
ParameterMap field_values(const Fields<Options>& fields, const Options& options) {
  ParameterMap values{{"d", options.d}};
  for (const auto& field : fields) values[field.name] = options.*field.member;
  return values;
}

template <typename Options>
bool set_field(const Fields<Options>& fields, Options& options, const std::string& key, double value) {
  for (const auto& field : fields) {
    if (key == field.name) {
      options.*field.member = value;
      return true;
    }
  }
  return false;
}

}  // namespace

// ---- System ------------------------------------------------------------------

System::System(double hbar, double mass, InitialState initial)
    : hbar_(hbar), mass_(mass), initial_(std::move(initial)) {}

// s₀(x) = −(x − μ)/σ²
torch::Tensor System::initial_score(const torch::Tensor& x) const {
  const auto mean = as_row(initial_.mean, x);
  const auto sigma = as_row(initial_.sigma, x);
  return -(x - mean) / sigma.square();
}

// log|ψ₀|² = Σ_i [−(x_i − μ_i)²/(2σ_i²) − ½ log(2π σ_i²)]
torch::Tensor System::initial_log_density(const torch::Tensor& x) const {
  const auto mean = as_row(initial_.mean, x);
  const auto sigma = as_row(initial_.sigma, x);
  const auto z = (x - mean) / sigma;
  return (-0.5 * z.square() - torch::log(sigma) - 0.5 * std::log(2.0 * M_PI)).sum(-1);
}

std::vector<double> potential_on_grid(const System& system,
                                      const std::vector<std::vector<double>>& axes) {
  const int d = static_cast<int>(axes.size());
  require(d == system.dim(), "potential_on_grid",
          "grid has " + std::to_string(d) + " axes but the system has d = " +
              std::to_string(system.dim()));
  int64_t total = 1;
  for (const auto& axis : axes) total *= static_cast<int64_t>(axis.size());
  std::vector<double> values(total);
  const int64_t chunk = 1 << 16;
  torch::NoGradGuard no_grad;
  auto x = torch::empty({chunk, d}, torch::kFloat64);
  for (int64_t start = 0; start < total; start += chunk) {
    const int64_t count = std::min(chunk, total - start);
    auto xa = x.accessor<double, 2>();
    for (int64_t p = 0; p < count; ++p) {
      int64_t rest = start + p;
      for (int k = d - 1; k >= 0; --k) {
        const int64_t n = static_cast<int64_t>(axes[k].size());
        xa[p][k] = axes[k][rest % n];
        rest /= n;
      }
    }
    const auto v = system.potential(x.narrow(0, 0, count)).contiguous();
    std::copy(v.data_ptr<double>(), v.data_ptr<double>() + count, values.begin() + start);
  }
  return values;
}

// ---- Morse chain -----------------------------------------------------------------

void MorseChainOptions::validate() const {
  const std::string where = "morse_chain";
  require(d >= 1, where, "d = " + std::to_string(d) + " must be >= 1");
  require(D > 0, where, "D = " + format_number(D) + " must be > 0");
  require(beta > 0, where, "beta = " + format_number(beta) + " must be > 0");
  require(std::isfinite(lam), where, "lam must be finite");
  require(std::isfinite(q0), where, "q0 must be finite");
  require(sigma0 >= 0, where, "sigma0 = " + format_number(sigma0) + " must be >= 0 (0: ground-state width)");
  require(hbar > 0, where, "hbar = " + format_number(hbar) + " must be > 0");
  require(mass > 0, where, "mass = " + format_number(mass) + " must be > 0");
}

namespace {
InitialState morse_initial_state(const MorseChainOptions& o) {
  const double omega0 = o.beta * std::sqrt(2.0 * o.D / o.mass);
  const double sigma = o.sigma0 > 0 ? o.sigma0 : std::sqrt(o.hbar / (2.0 * o.mass * omega0));
  InitialState state{std::vector<double>(o.d, 0.0), std::vector<double>(o.d, sigma),
                     std::vector<double>(o.d, 0.0)};
  state.mean[0] = o.q0;
  return state;
}
}  // namespace

MorseChain::MorseChain(const MorseChainOptions& options)
    : System(options.hbar, options.mass, (options.validate(), morse_initial_state(options))),
      options_(options) {}

std::string MorseChain::label() const {
  std::ostringstream out;
  out << "Morse chain (d=" << options_.d << ", D=" << options_.D << ", beta=" << options_.beta
      << ", lam=" << options_.lam << ")";
  return out.str();
}

// sigma0 as resolved (0 stands for the ground-state width).
ParameterMap MorseChain::parameters() const {
  auto values = field_values(kMorseChainFields, options_);
  values["sigma0"] = initial_.sigma[0];
  return values;
}

// On-site f(x) = D(1 − e)², e = e^{−βx}:
//   f' = 2Dβ(e − e²),  f'' = 2Dβ²(2e² − e),  f''' = 2Dβ³(e − 4e²).
torch::Tensor MorseChain::potential(const torch::Tensor& x) const {
  check_positions(x, dim(), name());
  const auto e = torch::exp(-options_.beta * x);
  auto v = (options_.D * (1.0 - e).square()).sum(-1);
  if (dim() > 1) v = v + options_.lam * (x.narrow(1, 0, dim() - 1) * x.narrow(1, 1, dim() - 1)).sum(-1);
  return v;
}

torch::Tensor MorseChain::gradient(const torch::Tensor& x) const {
  check_positions(x, dim(), name());
  const double D = options_.D, b = options_.beta;
  const auto e = torch::exp(-b * x);
  auto g = 2.0 * D * b * (e - e.square());
  if (dim() > 1) {
    // λ ∂/∂x_i Σ x_j x_{j+1} = λ (x_{i−1} + x_{i+1})
    const auto zero = torch::zeros_like(x.narrow(1, 0, 1));
    const auto left = torch::cat({zero, x.narrow(1, 0, dim() - 1)}, 1);
    const auto right = torch::cat({x.narrow(1, 1, dim() - 1), zero}, 1);
    g = g + options_.lam * (left + right);
  }
  return g;
}

torch::Tensor MorseChain::hessian(const torch::Tensor& x) const {
  check_positions(x, dim(), name());
  const double D = options_.D, b = options_.beta;
  const auto e = torch::exp(-b * x);
  auto h = diagonal_hessian(2.0 * D * b * b * (2.0 * e.square() - e));
  if (dim() > 1) {
    auto coupling = torch::zeros({dim(), dim()}, x.options());
    coupling.diagonal(1).fill_(options_.lam);
    coupling.diagonal(-1).fill_(options_.lam);
    h = h + coupling;
  }
  return h;
}

torch::Tensor MorseChain::hessian_directional(const torch::Tensor& x, const torch::Tensor& U) const {
  check_positions(x, dim(), name());
  const double D = options_.D, b = options_.beta;
  const auto e = torch::exp(-b * x);
  return diagonal_hessian_directional(2.0 * D * b * b * b * (e - 4.0 * e.square()), U);
}

// ---- Double well -----------------------------------------------------------------

void DoubleWellOptions::validate() const {
  const std::string where = "double_well";
  require(d >= 1, where, "d = " + std::to_string(d) + " must be >= 1");
  require(a > 0, where, "a = " + format_number(a) + " must be > 0");
  require(D > 0, where, "D = " + format_number(D) + " must be > 0");
  require(sigma0 > 0, where, "sigma0 = " + format_number(sigma0) + " must be > 0");
  require(hbar > 0, where, "hbar = " + format_number(hbar) + " must be > 0");
  require(mass > 0, where, "mass = " + format_number(mass) + " must be > 0");
}

DoubleWell::DoubleWell(const DoubleWellOptions& options)
    : System(options.hbar, options.mass,
             (options.validate(),
              InitialState{std::vector<double>(options.d, 0.0),
                           std::vector<double>(options.d, options.sigma0),
                           std::vector<double>(options.d, 0.0)})),
      options_(options) {}

std::string DoubleWell::label() const {
  std::ostringstream out;
  out << "Double well (a=" << options_.a << ", D=" << options_.D << ", sigma0=" << options_.sigma0
      << ")";
  return out.str();
}

ParameterMap DoubleWell::parameters() const { return field_values(kDoubleWellFields, options_); }

// f(x) = D(x²/a² − 1)²:  f' = 4D(x³/a⁴ − x/a²),  f'' = 4D(3x²/a⁴ − 1/a²),  f''' = 24D x/a⁴.
torch::Tensor DoubleWell::potential(const torch::Tensor& x) const {
  check_positions(x, dim(), name());
  const double a2 = options_.a * options_.a;
  return (options_.D * (x.square() / a2 - 1.0).square()).sum(-1);
}

torch::Tensor DoubleWell::gradient(const torch::Tensor& x) const {
  check_positions(x, dim(), name());
  const double a2 = options_.a * options_.a;
  return 4.0 * options_.D * x * (x.square() / (a2 * a2) - 1.0 / a2);
}

torch::Tensor DoubleWell::hessian(const torch::Tensor& x) const {
  check_positions(x, dim(), name());
  const double a2 = options_.a * options_.a;
  return diagonal_hessian(4.0 * options_.D * (3.0 * x.square() / (a2 * a2) - 1.0 / a2));
}

torch::Tensor DoubleWell::hessian_directional(const torch::Tensor& x, const torch::Tensor& U) const {
  check_positions(x, dim(), name());
  const double a2 = options_.a * options_.a;
  return diagonal_hessian_directional(24.0 * options_.D * x / (a2 * a2), U);
}

// ---- Harmonic --------------------------------------------------------------------

void HarmonicOptions::validate() const {
  const std::string where = "harmonic";
  require(d >= 1, where, "d = " + std::to_string(d) + " must be >= 1");
  require(hbar > 0, where, "hbar = " + format_number(hbar) + " must be > 0");
  require(mass > 0, where, "mass = " + format_number(mass) + " must be > 0");
  const auto check = [&](const std::vector<double>& v, const char* key, bool positive) {
    require(v.empty() || v.size() == static_cast<size_t>(d), where,
            std::string(key) + " has " + std::to_string(v.size()) + " entries, expected d = " +
                std::to_string(d));
    for (size_t i = 0; i < v.size(); ++i) {
      require(std::isfinite(v[i]) && (!positive || v[i] > 0), where,
              std::string(key) + "_" + std::to_string(i) + " = " + format_number(v[i]) +
                  (positive ? " must be > 0" : " must be finite"));
    }
  };
  check(omega, "omega", true);
  check(centre, "centre", false);
  check(mean, "mean", false);
  check(sigma0, "sigma0", true);
  check(phase, "phase", false);
}

namespace {
// Axes a parameter leaves unset take its default: every axis when the vector
// is empty, the NaN entries the registry leaves when only some "name_i" were given.
HarmonicOptions with_defaults(HarmonicOptions o) {
  const auto fill = [&o](std::vector<double>& values, const std::function<double(size_t)>& fallback) {
    if (values.empty() && o.d > 0) values.assign(o.d, std::nan(""));
    for (size_t i = 0; i < values.size(); ++i) {
      if (std::isnan(values[i])) values[i] = fallback(i);
    }
  };
  fill(o.omega, [](size_t) { return 1.0; });
  fill(o.centre, [](size_t) { return 0.0; });
  fill(o.mean, [](size_t) { return 0.0; });
  fill(o.phase, [](size_t) { return 0.0; });
  fill(o.sigma0, [&o](size_t i) {
    const double w = i < o.omega.size() ? o.omega[i] : 1.0;
    return std::sqrt(o.hbar / (2.0 * o.mass * w));
  });
  o.validate();
  return o;
}

InitialState harmonic_initial_state(const HarmonicOptions& o) {
  InitialState state{o.mean, o.sigma0, {}};
  for (double c : o.phase) state.velocity.push_back(o.hbar * c / o.mass);
  return state;
}
}  // namespace

Harmonic::Harmonic(HarmonicOptions options)
    : System(options.hbar, options.mass, harmonic_initial_state(with_defaults(options))),
      options_(with_defaults(std::move(options))) {}

std::string Harmonic::label() const {
  std::ostringstream out;
  out << "Harmonic (d=" << options_.d << ", omega=" << options_.omega[0]
      << (options_.d > 1 ? ",..." : "") << ")";
  return out.str();
}

ParameterMap Harmonic::parameters() const {
  auto values = field_values(kHarmonicFields, options_);
  for (const auto& axis : kHarmonicAxes) {
    const auto& per_axis = options_.*axis.member;
    for (int i = 0; i < options_.d; ++i) values[axis.name + ("_" + std::to_string(i))] = per_axis[i];
  }
  return values;
}

// With k_i = m ω_i²:  V = Σ ½ k_i (x_i − a_i)²,  ∇V = k ⊙ (x − a),  ∇²V = diag(k),  ∇³V = 0.
torch::Tensor Harmonic::potential(const torch::Tensor& x) const {
  check_positions(x, dim(), name());
  const auto k = mass() * as_row(options_.omega, x).square();
  return (0.5 * k * (x - as_row(options_.centre, x)).square()).sum(-1);
}

torch::Tensor Harmonic::gradient(const torch::Tensor& x) const {
  check_positions(x, dim(), name());
  const auto k = mass() * as_row(options_.omega, x).square();
  return k * (x - as_row(options_.centre, x));
}

torch::Tensor Harmonic::hessian(const torch::Tensor& x) const {
  check_positions(x, dim(), name());
  const auto k = mass() * as_row(options_.omega, x).square();
  return diagonal_hessian(k.expand_as(x));
}

torch::Tensor Harmonic::hessian_directional(const torch::Tensor& x, const torch::Tensor& U) const {
  check_positions(x, dim(), name());
  return torch::zeros({x.size(0), U.size(2), dim(), dim()}, x.options());
}

std::optional<Trap> Harmonic::trap() const {
  Trap trap{options_.centre, std::vector<double>(dim() * dim(), 0.0)};
  for (int i = 0; i < dim(); ++i) trap.stiffness[i * dim() + i] = mass() * options_.omega[i] * options_.omega[i];
  return trap;
}

// ---- Interacting bosons ------------------------------------------------------------

void InteractingBosonsOptions::validate() const {
  const std::string where = "interacting_bosons";
  require(d >= 1, where, "d = " + std::to_string(d) + " must be >= 1");
  require(omega > 0, where, "omega = " + format_number(omega) + " must be > 0");
  require(std::isfinite(g), where, "g = " + format_number(g) + " must be finite");
  require(s2 > 0, where, "s2 = " + format_number(s2) + " must be > 0");
  require(std::isfinite(mean), where, "mean = " + format_number(mean) + " must be finite");
  require(sigma0 >= 0, where, "sigma0 = " + format_number(sigma0) + " must be >= 0 (0: ground state)");
  require(std::isfinite(phase), where, "phase = " + format_number(phase) + " must be finite");
  require(hbar > 0, where, "hbar = " + format_number(hbar) + " must be > 0");
  require(mass > 0, where, "mass = " + format_number(mass) + " must be > 0");
}

namespace {
InitialState bosons_initial_state(const InteractingBosonsOptions& o) {
  o.validate();
  const double sigma = o.sigma0 > 0 ? o.sigma0 : std::sqrt(o.hbar / (2.0 * o.mass * o.omega));
  return InitialState{std::vector<double>(o.d, o.mean), std::vector<double>(o.d, sigma),
                      std::vector<double>(o.d, o.hbar * o.phase / o.mass)};
}

// diag(Σ_b W_ab) − W = Σ_{a<b} w_ab (e_a − e_b)(e_a − e_b)ᵀ for a symmetric
// pair matrix W with zero diagonal; W: (…, d, d).
torch::Tensor pair_laplacian(const torch::Tensor& W) { return torch::diag_embed(W.sum(-1)) - W; }
}  // namespace

InteractingBosons::InteractingBosons(const InteractingBosonsOptions& options)
    : System(options.hbar, options.mass, bosons_initial_state(options)), options_(options) {}

std::string InteractingBosons::label() const {
  std::ostringstream out;
  out << "Interacting bosons (d=" << options_.d << ", g=" << options_.g << ", s2=" << options_.s2
      << ", omega=" << options_.omega << ", hbar=" << options_.hbar << ")";
  return out.str();
}

// sigma0 as resolved (0 stands for the trap's ground-state width).
ParameterMap InteractingBosons::parameters() const {
  auto values = field_values(kInteractingBosonsFields, options_);
  values["sigma0"] = initial_.sigma[0];
  return values;
}

std::optional<Trap> InteractingBosons::trap() const {
  Trap trap{std::vector<double>(dim(), 0.0), std::vector<double>(dim() * dim(), 0.0)};
  for (int i = 0; i < dim(); ++i) trap.stiffness[i * dim() + i] = mass() * options_.omega * options_.omega;
  return trap;
}

// f(r) = A exp(−r²/(2s)):  f′ = −(r/s) f,  f″ = (r²/s² − 1/s) f,  f‴ = (3r/s² − r³/s³) f.
torch::Tensor InteractingBosons::pair_derivative(const torch::Tensor& x, int order) const {
  const double s = options_.s2;
  const double A = options_.g / (2.0 * std::sqrt(2.0 * M_PI * s));
  const auto r = x.unsqueeze(-1) - x.unsqueeze(-2);  // (M, d, d): x_a − x_b
  const auto f = A * torch::exp(-r.square() / (2.0 * s));
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
  const double k = mass() * options_.omega * options_.omega;
  return 0.5 * k * x.square().sum(-1) + 0.5 * pair_derivative(x, 0).sum({-2, -1});
}

// ∂_a V = k x_a + Σ_b f′(x_a − x_b)
torch::Tensor InteractingBosons::gradient(const torch::Tensor& x) const {
  check_positions(x, dim(), name());
  const double k = mass() * options_.omega * options_.omega;
  return k * x + pair_derivative(x, 1).sum(-1);
}

// ∇²V = k I + Σ_{a<b} f″(x_a − x_b) (e_a − e_b)(e_a − e_b)ᵀ
torch::Tensor InteractingBosons::hessian(const torch::Tensor& x) const {
  check_positions(x, dim(), name());
  const double k = mass() * options_.omega * options_.omega;
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

// ---- registry ----------------------------------------------------------------------

namespace {

using Factory = std::function<std::unique_ptr<System>(const ParameterMap&)>;

// Applies overrides through `set`, which returns false for an unknown key.
template <typename Options, typename Setter>
Options apply_overrides(const std::string& system, const ParameterMap& overrides, Options options,
                        Setter set) {
  for (const auto& [key, value] : overrides) {
    if (key == "d") continue;  // read first, since vector parameters need it
    if (!set(options, key, value)) {
      throw std::invalid_argument(system + ": unknown parameter '" + key + "'");
    }
  }
  return options;
}

template <typename Options>
Options with_dimension(const std::string& system, const ParameterMap& overrides) {
  Options options;
  if (auto it = overrides.find("d"); it != overrides.end()) {
    options.d = integer_parameter(system, "d", it->second);
  }
  return options;
}

// A system built from `fields` and the overrides; `more` sets the keys the
// table does not hold (returns false for an unknown one).
template <typename SystemType, typename Options>
Factory factory(const std::string& name, const Fields<Options>& fields,
                std::function<bool(Options&, const std::string&, double)> more = nullptr) {
  return [name, &fields, more](const ParameterMap& overrides) {
    auto options = apply_overrides(name, overrides, with_dimension<Options>(name, overrides),
                                   [&](Options& o, const std::string& key, double value) {
                                     return set_field(fields, o, key, value) || (more && more(o, key, value));
                                   });
    return std::unique_ptr<System>(new SystemType(options));
  };
}

const std::map<std::string, Factory>& registry() {
  static const std::map<std::string, Factory> factories = {
      {"morse_chain", factory<MorseChain>("morse_chain", kMorseChainFields)},
      {"double_well", factory<DoubleWell>("double_well", kDoubleWellFields)},
      {"interacting_bosons", factory<InteractingBosons>("interacting_bosons", kInteractingBosonsFields)},
      {"harmonic", factory<Harmonic>("harmonic", kHarmonicFields,
                                     {[](HarmonicOptions& o, const std::string& key, double value) {
                                       for (const auto& axis : kHarmonicAxes) {
                                         if (set_vector_parameter(o.*axis.member, o.d, axis.name, key, value,
                                                                  "harmonic")) {
                                           return true;
                                         }
                                       }
                                       return false;
                                     }})},
  };
  return factories;
}

}  // namespace

std::vector<std::string> system_names() {
  std::vector<std::string> names;
  for (const auto& entry : registry()) names.push_back(entry.first);
  return names;
}

std::unique_ptr<System> make_system(const std::string& name, const ParameterMap& overrides) {
  const auto& factories = registry();
  const auto it = factories.find(name);
  if (it == factories.end()) {
    std::string known;
    for (const auto& entry : factories) known += (known.empty() ? "" : ", ") + entry.first;
    throw std::invalid_argument("unknown system '" + name + "' (known: " + known + ")");
  }
  return it->second(overrides);
}

}  // namespace bohmflow
