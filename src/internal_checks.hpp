// Small helpers shared by the library's translation units (not installed).
#pragma once

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace bohmflow::detail {

// A number as `ostream <<` writes it (6 significant digits), for messages.
inline std::string format_number(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

// Throws std::invalid_argument("where: what") unless ok.
inline void require(bool ok, const std::string& where, const std::string& what) {
  if (!ok) throw std::invalid_argument(where + ": " + what);
}

// Creates the folder that will hold `path` (nothing for a bare file name).
inline void create_parent_directory(const std::string& path) {
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
}

// max_n |values[n] − values[0]|; 0 for an empty series.
inline double max_drift(const std::vector<double>& values) {
  double drift = 0.0;
  for (double value : values) drift = std::max(drift, std::abs(value - values.front()));
  return drift;
}

}  // namespace bohmflow::detail
