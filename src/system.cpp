// The systems' definitions and the registry that builds them by name. The
// equations stand in include/bohmflow/system.hpp; their terms in potential_terms.hpp.
#include "bohmflow/system.hpp"


#include <omp.h>

#include <cmath>
#include <functional>
#include <sstream>
#include <stdexcept>

#include "internal_checks.hpp"
#include "potential_terms.hpp"

namespace bohmflow {
namespace {

using detail::format_number;
using detail::require;

int integer_parameter(const std::string& system, const std::string& key, double value) {
  require(std::isfinite(value) && value == std::round(value), system,
          "parameter '" + key + "' = " + format_number(value) + " must be an integer");
  return static_cast<int>(value);
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
// SystemDefinition::parameters() both read these tables ("d" is common to all).
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
const Fields<HenonHeilesOptions> kHenonHeilesFields = {
    {"lam", &HenonHeilesOptions::lam},   {"q0", &HenonHeilesOptions::q0},     {"sigma0", &HenonHeilesOptions::sigma0},
    {"hbar", &HenonHeilesOptions::hbar}, {"mass", &HenonHeilesOptions::mass}};
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

// ---- SystemDefinition ----------------------------------------------------------

SystemDefinition::SystemDefinition(double hbar, double mass, InitialState initial)
    : hbar_(hbar), mass_(mass), initial_(std::move(initial)) {}

std::vector<double> SystemDefinition::potential_on_grid(const std::vector<std::vector<double>>& axes,
                                                        int threads) const {
  const SystemDefinition& system = *this;
  const int d = static_cast<int>(axes.size());
  require(d == system.dim(), "potential_on_grid",
          "grid has " + std::to_string(d) + " axes but the system has d = " +
              std::to_string(system.dim()));
  int64_t total = 1;
  for (const auto& axis : axes) total *= static_cast<int64_t>(axis.size());
  std::vector<double> values(total);
#pragma omp parallel num_threads(threads > 0 ? threads : omp_get_max_threads())
  {
    std::vector<double> x(d);
#pragma omp for schedule(static)
    for (int64_t point = 0; point < total; ++point) {
      int64_t rest = point;
      for (int k = d - 1; k >= 0; --k) {
        const int64_t n = static_cast<int64_t>(axes[k].size());
        x[k] = axes[k][rest % n];
        rest /= n;
      }
      values[point] = system.potential_at(x.data());
    }
  }
  return values;
}

// ---- systems whose V comes from a file -------------------------------------------

ParameterMap FileSystemOptions::assign(const ParameterMap& parameters, const std::string& where) {
  if (auto it = parameters.find("d"); it != parameters.end()) d = integer_parameter(where, "d", it->second);
  ParameterMap rest;
  for (const auto& [key, value] : parameters) {
    if (key == "d") continue;
    if (key == "hbar") {
      hbar = value;
    } else if (key == "mass") {
      mass = value;
    } else if (!set_vector_parameter(mean, d, "mean", key, value, where) &&
               !set_vector_parameter(sigma, d, "sigma", key, value, where) &&
               !set_vector_parameter(velocity, d, "velocity", key, value, where)) {
      rest[key] = value;
    }
  }
  // Axes that "sigma_i" or "velocity_i" left out keep the defaults.
  for (auto& value : sigma) value = std::isnan(value) ? std::sqrt(0.5) : value;
  for (auto& value : velocity) value = std::isnan(value) ? 0.0 : value;
  return rest;
}

void FileSystemOptions::validate(const std::string& where) const {
  require(d >= 1, where, "d = " + std::to_string(d) + " must be >= 1 (set d, or give the initial mean on every axis)");
  require(std::isfinite(hbar) && hbar > 0, where, "hbar = " + format_number(hbar) + " must be > 0");
  require(std::isfinite(mass) && mass > 0, where, "mass = " + format_number(mass) + " must be > 0");
  require(!mean.empty(), where, "the initial mean is required (parameter mean or mean_i, flag --initial-mean)");
  const auto check = [&](const std::vector<double>& values, const std::string& name, bool positive) {
    if (values.empty()) return;
    require(values.size() == static_cast<size_t>(d), where,
            name + " has " + std::to_string(values.size()) + " values but d = " + std::to_string(d));
    for (int i = 0; i < d; ++i) {
      const std::string key = name + "_" + std::to_string(i);
      require(!std::isnan(values[i]), where, key + " is not set");
      require(std::isfinite(values[i]) && (!positive || values[i] > 0), where,
              key + " = " + format_number(values[i]) + (positive ? " must be finite and > 0" : " must be finite"));
    }
  };
  check(mean, "mean", false);
  check(sigma, "sigma", true);
  check(velocity, "velocity", false);
}

InitialState FileSystemOptions::initial_state() const {
  return {mean, sigma.empty() ? std::vector<double>(d, std::sqrt(0.5)) : sigma,
          velocity.empty() ? std::vector<double>(d, 0.0) : velocity};
}

ParameterMap FileSystemOptions::parameters() const {
  ParameterMap values{{"d", d}, {"hbar", hbar}, {"mass", mass}};
  const auto state = initial_state();
  for (int i = 0; i < d; ++i) {
    const std::string axis = "_" + std::to_string(i);
    values["mean" + axis] = state.mean[i];
    values["sigma" + axis] = state.sigma[i];
    values["velocity" + axis] = state.velocity[i];
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

MorseChainDefinition::MorseChainDefinition(const MorseChainOptions& options)
    : SystemDefinition(options.hbar, options.mass, (options.validate(), morse_initial_state(options))),
      options_(options) {}

std::string MorseChainDefinition::label() const {
  std::ostringstream out;
  out << "Morse chain (d=" << options_.d << ", D=" << options_.D << ", beta=" << options_.beta
      << ", lam=" << options_.lam << ")";
  return out.str();
}

// sigma0 as resolved (0 stands for the ground-state width).
ParameterMap MorseChainDefinition::parameters() const {
  auto values = field_values(kMorseChainFields, options_);
  values["sigma0"] = initial_state().sigma[0];
  return values;
}

double MorseChainDefinition::potential_at(const double* x) const {
  double v = 0.0;
  for (int i = 0; i < options_.d; ++i) v += detail::morse_site(x[i], options_);
  for (int i = 0; i + 1 < options_.d; ++i) v += options_.lam * x[i] * x[i + 1];
  return v;
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

DoubleWellDefinition::DoubleWellDefinition(const DoubleWellOptions& options)
    : SystemDefinition(options.hbar, options.mass,
                       (options.validate(),
                        InitialState{std::vector<double>(options.d, 0.0),
                                     std::vector<double>(options.d, options.sigma0),
                                     std::vector<double>(options.d, 0.0)})),
      options_(options) {}

std::string DoubleWellDefinition::label() const {
  std::ostringstream out;
  out << "Double well (a=" << options_.a << ", D=" << options_.D << ", sigma0=" << options_.sigma0
      << ")";
  return out.str();
}

ParameterMap DoubleWellDefinition::parameters() const { return field_values(kDoubleWellFields, options_); }

double DoubleWellDefinition::potential_at(const double* x) const {
  double v = 0.0;
  for (int i = 0; i < options_.d; ++i) v += detail::double_well_site(x[i], options_);
  return v;
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

HarmonicDefinition::HarmonicDefinition(const HarmonicOptions& options)
    : SystemDefinition(options.hbar, options.mass, harmonic_initial_state(with_defaults(options))),
      options_(with_defaults(options)) {}

std::string HarmonicDefinition::label() const {
  std::ostringstream out;
  out << "Harmonic (d=" << options_.d << ", omega=" << options_.omega[0]
      << (options_.d > 1 ? ",..." : "") << ")";
  return out.str();
}

ParameterMap HarmonicDefinition::parameters() const {
  auto values = field_values(kHarmonicFields, options_);
  for (const auto& axis : kHarmonicAxes) {
    const auto& per_axis = options_.*axis.member;
    for (int i = 0; i < options_.d; ++i) values[axis.name + ("_" + std::to_string(i))] = per_axis[i];
  }
  return values;
}

std::optional<Trap> HarmonicDefinition::trap() const {
  Trap trap{options_.centre, std::vector<double>(dim() * dim(), 0.0)};
  for (int i = 0; i < dim(); ++i) trap.stiffness[i * dim() + i] = mass() * options_.omega[i] * options_.omega[i];
  return trap;
}

double HarmonicDefinition::potential_at(const double* x) const {
  double v = 0.0;
  for (int i = 0; i < options_.d; ++i) {
    v += detail::harmonic_site(x[i], mass() * options_.omega[i] * options_.omega[i], options_.centre[i]);
  }
  return v;
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
}  // namespace

InteractingBosonsDefinition::InteractingBosonsDefinition(const InteractingBosonsOptions& options)
    : SystemDefinition(options.hbar, options.mass, bosons_initial_state(options)), options_(options) {}

std::string InteractingBosonsDefinition::label() const {
  std::ostringstream out;
  out << "Interacting bosons (d=" << options_.d << ", g=" << options_.g << ", s2=" << options_.s2
      << ", omega=" << options_.omega << ", hbar=" << options_.hbar << ")";
  return out.str();
}

// sigma0 as resolved (0 stands for the trap's ground-state width).
ParameterMap InteractingBosonsDefinition::parameters() const {
  auto values = field_values(kInteractingBosonsFields, options_);
  values["sigma0"] = initial_state().sigma[0];
  return values;
}

std::optional<Trap> InteractingBosonsDefinition::trap() const {
  Trap trap{std::vector<double>(dim(), 0.0), std::vector<double>(dim() * dim(), 0.0)};
  for (int i = 0; i < dim(); ++i) trap.stiffness[i * dim() + i] = mass() * options_.omega * options_.omega;
  return trap;
}

double InteractingBosonsDefinition::potential_at(const double* x) const {
  const double k = mass() * options_.omega * options_.omega;
  double v = 0.0;
  for (int i = 0; i < options_.d; ++i) {
    v += 0.5 * k * x[i] * x[i];
    for (int j = i + 1; j < options_.d; ++j) v += detail::bosons_pair(x[i] - x[j], options_);
  }
  return v;
}

// ---- Hénon–Heiles ----------------------------------------------------------------

void HenonHeilesOptions::validate() const {
  const std::string where = "henon_heiles";
  require(d >= 2, where, "d = " + std::to_string(d) + " must be >= 2 (the coupling joins neighbours)");
  require(std::isfinite(lam), where, "lam = " + format_number(lam) + " must be finite");
  require(std::isfinite(q0), where, "q0 = " + format_number(q0) + " must be finite");
  require(sigma0 >= 0, where, "sigma0 = " + format_number(sigma0) + " must be >= 0 (0: ground-state width)");
  require(hbar > 0, where, "hbar = " + format_number(hbar) + " must be > 0");
  require(mass > 0, where, "mass = " + format_number(mass) + " must be > 0");
}

namespace {
InitialState henon_heiles_initial_state(const HenonHeilesOptions& o) {
  o.validate();
  const double sigma = o.sigma0 > 0 ? o.sigma0 : std::sqrt(o.hbar / (2.0 * o.mass));
  return InitialState{std::vector<double>(o.d, o.q0), std::vector<double>(o.d, sigma),
                      std::vector<double>(o.d, 0.0)};
}
}  // namespace

HenonHeilesDefinition::HenonHeilesDefinition(const HenonHeilesOptions& options)
    : SystemDefinition(options.hbar, options.mass, henon_heiles_initial_state(options)), options_(options) {}

std::string HenonHeilesDefinition::label() const {
  std::ostringstream out;
  out << "Henon-Heiles (d=" << options_.d << ", lam=" << options_.lam << ")";
  return out.str();
}

// sigma0 as resolved (0 stands for the ground-state width).
ParameterMap HenonHeilesDefinition::parameters() const {
  auto values = field_values(kHenonHeilesFields, options_);
  values["sigma0"] = initial_state().sigma[0];
  return values;
}

std::optional<Trap> HenonHeilesDefinition::trap() const {
  Trap trap{std::vector<double>(dim(), 0.0), std::vector<double>(dim() * dim(), 0.0)};
  for (int i = 0; i < dim(); ++i) trap.stiffness[i * dim() + i] = 1.0;
  return trap;
}

double HenonHeilesDefinition::potential_at(const double* x) const {
  double v = 0.0;
  for (int i = 0; i < options_.d; ++i) v += 0.5 * x[i] * x[i];
  for (int i = 0; i + 1 < options_.d; ++i) v += detail::henon_heiles_pair(x[i], x[i + 1], options_);
  return v;
}

// ---- registry ----------------------------------------------------------------------

namespace {

using Factory = std::function<std::unique_ptr<SystemDefinition>(const ParameterMap&)>;

// Applies overrides through `set`, which returns false for an unknown key.
template <typename Options, typename Setter>
Options apply_overrides(const std::string& system, const ParameterMap& overrides, Options options,
                        Setter set) {
  for (const auto& [key, value] : overrides) {
    if (key == "d") continue;  // read first, since vector parameters need it
    require(std::isfinite(value), system, "parameter '" + key + "' = " + format_number(value) + " must be finite");
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
    return std::unique_ptr<SystemDefinition>(new SystemType(options));
  };
}

const std::map<std::string, Factory>& registry() {
  static const std::map<std::string, Factory> factories = {
      {"morse_chain", factory<MorseChainDefinition>("morse_chain", kMorseChainFields)},
      {"double_well", factory<DoubleWellDefinition>("double_well", kDoubleWellFields)},
      {"interacting_bosons", factory<InteractingBosonsDefinition>("interacting_bosons", kInteractingBosonsFields)},
      {"henon_heiles", factory<HenonHeilesDefinition>("henon_heiles", kHenonHeilesFields)},
      {"harmonic", factory<HarmonicDefinition>("harmonic", kHarmonicFields,
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

std::unique_ptr<SystemDefinition> make_system_definition(const std::string& name,
                                                         const ParameterMap& overrides) {
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
