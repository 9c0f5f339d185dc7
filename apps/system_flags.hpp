// Command-line flags that override a system's parameters, shared by the drivers.
// (A header beside the apps: each apps/*.cpp is one executable.)
#pragma once

#include <CLI/CLI.hpp>

#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "bohmflow/system.hpp"
#include "fft_reference_job.hpp"

namespace bohmflow::apps {

// --potential NAME: a system from the registry (make_system), or with
// `scripted` also "script", a TorchScript file (--potential-file); its help
// lists them.
inline CLI::Option* add_potential_option(CLI::App& app, std::string& potential, bool scripted = false) {
  auto names = system_names();
  if (scripted) names.push_back("script");
  std::string list;
  for (const auto& name : names) list += (list.empty() ? "" : ", ") + name;
  return app.add_option("--potential", potential,
                 "system from the registry: " + list +
                     (scripted ? " (script: the TorchScript module of --potential-file, docs/systems.md)" : ""))
      ->check(CLI::IsMember(names))
      ->capture_default_str();
}

// --initial-mean, --initial-sigma, --initial-velocity (d values, or one for
// every axis) onto the parameters mean, sigma, velocity of a system whose V
// comes from a file (FileSystemOptions, system.hpp); d values also set d
// unless --d does.
inline void add_initial_state_options(CLI::App& app, std::map<std::string, double>& parameters) {
  const std::pair<const char*, const char*> flags[] = {
      {"mean", "centre of |psi0|^2 (required for a script or a grid)"},
      {"sigma", "standard deviation of |psi0|^2 per axis (default: 1/sqrt(2))"},
      {"velocity", "initial Bohmian velocity of every particle (default: 0)"}};
  for (const auto& [name, help] : flags) {
    const std::string key = name;
    app.add_option_function<std::vector<double>>(
        "--initial-" + key,
        [&parameters, key](const std::vector<double>& values) {
          if (values.size() == 1) {
            parameters[key] = values[0];
            return;
          }
          if (!parameters.count("d")) parameters["d"] = static_cast<double>(values.size());
          for (size_t i = 0; i < values.size(); ++i) parameters[key + "_" + std::to_string(i)] = values[i];
        },
        std::string(help) + "; d values or one for every axis (--potential script, --potential-grid)");
  }
}

// `flag` sets parameters[key] only when given, so the default stays the one
// in the system's options struct (system.hpp).
inline void add_system_parameter(CLI::App& app, const std::string& flag, const std::string& key,
                                 const std::string& help,
                                 std::map<std::string, double>& parameters) {
  app.add_option_function<double>(
      flag, [&parameters, key](const double& value) { parameters[key] = value; },
      help + " (default: the system's)");
}

// --param KEY=VALUE (repeatable): any system parameter.
inline void add_parameter_assignments(CLI::App& app, std::map<std::string, double>& parameters) {
  app.add_option_function<std::vector<std::string>>(
      "--param",
      [&parameters](const std::vector<std::string>& assignments) {
        for (const auto& text : assignments) {
          try {
            const auto [key, value] = parse_parameter_assignment(text);
            parameters[key] = value;
          } catch (const std::invalid_argument& error) {
            throw CLI::ValidationError("--param", error.what());
          }
        }
      },
      "KEY=VALUE: any other system parameter (repeatable), e.g. sigma0=0.3");
}

}  // namespace bohmflow::apps
