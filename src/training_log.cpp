#include "bohmflow/training_log.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <ostream>
#include <regex>
#include <stdexcept>

#include "bohmflow/npz.hpp"
#include "internal_checks.hpp"

namespace bohmflow {

void TrainingLog::append(const TrainingLog& other) {
  epochs.insert(epochs.end(), other.epochs.begin(), other.epochs.end());
  losses.insert(losses.end(), other.losses.begin(), other.losses.end());
  e_mean.insert(e_mean.end(), other.e_mean.begin(), other.e_mean.end());
  measured.insert(measured.end(), other.measured.begin(), other.measured.end());
  e_mean_resolution = std::max(e_mean_resolution, other.e_mean_resolution);
}

void TrainingLog::interpolate_energy() {
  std::vector<size_t> known;
  for (size_t i = 0; i < e_mean.size(); ++i) {
    if (!std::isnan(e_mean[i])) known.push_back(i);
  }
  if (known.empty()) return;
  size_t next = 0;  // first known row at or after i
  for (size_t i = 0; i < e_mean.size(); ++i) {
    while (next < known.size() && known[next] < i) ++next;
    if (!std::isnan(e_mean[i])) continue;
    if (next == 0) {
      e_mean[i] = e_mean[known.front()];
    } else if (next == known.size()) {
      e_mean[i] = e_mean[known.back()];
    } else {
      const size_t a = known[next - 1], b = known[next];
      const double span = static_cast<double>(epochs[b] - epochs[a]);
      const double w = span == 0 ? 0.0 : static_cast<double>(epochs[i] - epochs[a]) / span;
      e_mean[i] = (1 - w) * e_mean[a] + w * e_mean[b];
    }
  }
}

namespace {

// Half a unit of the last printed digit of a number: "2.3240" → 5e-05, "7.1e-04" → 5e-06.
double print_resolution(const std::string& text) {
  const size_t e = text.find_first_of("eE");
  const std::string mantissa = text.substr(0, e);
  const size_t point = mantissa.find('.');
  const int decimals = point == std::string::npos ? 0 : static_cast<int>(mantissa.size() - point - 1);
  const int exponent = e == std::string::npos ? 0 : std::stoi(text.substr(e + 1));
  return 0.5 * std::pow(10.0, exponent - decimals);
}

}  // namespace

TrainingLog parse_training_log(std::istream& in, const std::string& source) {
  static const std::regex epoch_line(R"(^Epoch\s+(\d+)/\d+:\s+loss=([\dEe\-+.]+))");
  static const std::regex energy(R"(\bE_mean=([\dEe\-+.]+))");
  const auto number = [&source](const std::string& text, size_t line_number) {
    try {
      size_t used = 0;
      const double value = std::stod(text, &used);
      if (used == text.size()) return value;
    } catch (const std::exception&) {
    }
    throw std::runtime_error("training log '" + source + "', line " + std::to_string(line_number) +
                             ": '" + text + "' is not a number");
  };
  TrainingLog log;
  std::string line;
  size_t line_number = 0;
  std::smatch match;
  while (std::getline(in, line)) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!std::regex_search(line, match, epoch_line)) continue;
    log.epochs.push_back(std::stoll(match[1].str()));
    log.losses.push_back(number(match[2].str(), line_number));
    if (std::regex_search(line, match, energy)) {
      log.e_mean.push_back(number(match[1].str(), line_number));
      log.measured.push_back(true);
      log.e_mean_resolution = std::max(log.e_mean_resolution, print_resolution(match[1].str()));
    } else {
      log.e_mean.push_back(std::numeric_limits<double>::quiet_NaN());
      log.measured.push_back(false);
    }
  }
  return log;
}

TrainingLog read_training_logs(const std::vector<std::string>& paths, std::ostream* warnings) {
  TrainingLog all;
  for (const auto& path : paths) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("training log '" + path + "': cannot be read");
    const auto log = parse_training_log(in, path);
    if (log.size() == 0) {
      if (warnings) *warnings << "warning: no epoch lines in training log '" << path << "'\n";
      continue;
    }
    all.append(log);
  }
  if (all.size() == 0) throw std::runtime_error("no epoch lines in any of the training logs given");
  all.interpolate_energy();
  return all;
}

void save_training_log(const TrainingLog& log, const std::string& path) {
  const int64_t E = static_cast<int64_t>(log.size());
  Npz npz;
  npz.set("epochs", NpyArray::from_int64s(log.epochs, {E}));
  npz.set("losses", NpyArray::from_doubles(log.losses, {E}));
  npz.set("e_mean", NpyArray::from_doubles(log.e_mean, {E}));
  npz.set("e_mean_resolution", log.e_mean_resolution);
  detail::create_parent_directory(path);
  npz.save(path);
}

}  // namespace bohmflow
