// Command-line flags that override a system's parameters, shared by the drivers.
// (A header beside the apps: each apps/*.cpp is one executable.)
#pragma once

#include <CLI/CLI.hpp>

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "bohmflow/system.hpp"
#include "fft_reference_job.hpp"

namespace bohmflow::apps {

// --potential NAME: a system from the registry (make_system); its help lists them.
inline void add_potential_option(CLI::App& app, std::string& potential) {
  std::string names;
  for (const auto& name : system_names()) names += (names.empty() ? "" : ", ") + name;
  app.add_option("--potential", potential, "system from the registry: " + names)
      ->check(CLI::IsMember(system_names()))
      ->capture_default_str();
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
