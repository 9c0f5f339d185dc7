// What compute_fft_reference runs, and the KEY=VALUE parameter syntax of the
// drivers' --param flag. (Beside the apps, not in the library: only drivers
// need them; the tests include this header too.)
#pragma once

#include <filesystem>
#include <memory>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

#include "bohmflow/fft_reference.hpp"
#include "bohmflow/potential_grid.hpp"
#include "bohmflow/system.hpp"

namespace bohmflow::apps {

// "KEY=VALUE" (VALUE a number) → {KEY, VALUE}; std::invalid_argument otherwise.
inline std::pair<std::string, double> parse_parameter_assignment(const std::string& text) {
  const auto fail = [&]() {
    throw std::invalid_argument("parameter '" + text + "': expected KEY=VALUE with a number VALUE");
  };
  const auto equals = text.find('=');
  if (equals == std::string::npos || equals == 0 || equals + 1 == text.size()) fail();
  const std::string key = text.substr(0, equals);
  const std::string value_text = text.substr(equals + 1);
  size_t used = 0;
  double value = 0.0;
  try {
    value = std::stod(value_text, &used);
  } catch (const std::exception&) {
    fail();
  }
  if (used != value_text.size()) fail();
  return {key, value};
}

struct FftReferenceJob {
  std::string potential = "morse_chain";            // registry name for make_system_definition
  std::string potential_grid;                       // a tabulated V (potential_grid.hpp) instead; its N and L are the grid's
  ParameterMap parameters;                          // overrides of the system's defaults
  FftOptions fft;                                   // solver options
  std::string output = "data/fft_ref_morse_d4.npz"; // moments NPZ
  std::string psi_output;                           // ψ snapshots NPZ; empty: <output>_psi.npz
  double norm_drift_warning = 1e-10;                // warn when max |norm_n − norm_0| exceeds this

  // std::invalid_argument naming the field.
  void validate() const {
    const auto require = [](bool ok, const std::string& what) {
      if (!ok) throw std::invalid_argument("FftReferenceJob: " + what);
    };
    require(!potential.empty(), "potential is empty (a registry name, e.g. morse_chain)");
    require(!output.empty(), "output is empty");
    std::ostringstream warning;
    warning << norm_drift_warning;
    require(norm_drift_warning > 0, "norm_drift_warning = " + warning.str() + ": must be > 0");
    fft.validate();
  }

  // psi_output, or derived from output.
  std::string psi_output_path() const {
    if (!psi_output.empty()) return psi_output;
    std::filesystem::path path(output);
    if (path.extension() == ".npz") path.replace_extension();
    return path.string() + "_psi.npz";
  }
};

// The system of job.potential_grid: its V, with the state of the table's
// defaults overridden by job.parameters; the table's N and L become the
// job's (--N and --L, when given, must equal them).
inline std::unique_ptr<SystemDefinition> grid_system(FftReferenceJob& job, bool N_given, bool L_given) {
  const auto& path = job.potential_grid;
  auto grid = std::make_shared<PotentialGrid>(load_potential_grid(path));
  const auto disagree = [&](const std::string& flag, const std::string& given, const std::string& table) {
    throw std::invalid_argument(flag + " " + given + " disagrees with --potential-grid '" + path + "', tabulated with " +
                                table + " (leave " + flag + " out to use the table's)");
  };
  if (N_given && job.fft.stepper.N != grid->N) disagree("--N", std::to_string(job.fft.stepper.N), std::to_string(grid->N));
  if (L_given && std::abs(job.fft.stepper.L - grid->L) > 1e-12 * grid->L) {
    std::ostringstream given, table;
    given << job.fft.stepper.L;
    table << "L = " << grid->L;
    disagree("--L", given.str(), table.str());
  }
  job.fft.stepper.N = grid->N;
  job.fft.stepper.L = grid->L;
  FileSystemOptions state;
  const auto rest = state.assign(grid_state(*grid, job.parameters), "--potential-grid '" + path + "'");
  if (!rest.empty()) {
    throw std::invalid_argument("--potential-grid '" + path + "': unknown parameter '" + rest.begin()->first +
                                "' (a tabulated V takes d, hbar, mass, mean, sigma, velocity: --param, --initial-*)");
  }
  return std::make_unique<GridSystemDefinition>(grid, state, path);
}

}  // namespace bohmflow::apps
