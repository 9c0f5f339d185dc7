// Memory checks before large allocations; see memory.hpp.
#include "bohmflow/memory.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <stdexcept>

namespace bohmflow {
namespace {

constexpr double kSmallAllocationBytes = 64.0 * 1024 * 1024;  // smaller needs are not checked

}  // namespace

double available_memory_bytes() {
  double available = -1.0;
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  double value = 0;
  std::string unit;
  while (meminfo >> key >> value) {
    std::getline(meminfo, unit);
    if (key == "MemAvailable:") {
      available = value * 1024.0;
      break;
    }
  }
  if (available < 0) {
    available = static_cast<double>(sysconf(_SC_AVPHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGESIZE));
  }
  // A cgroup (v2) limit, as in containers, can be tighter than the machine.
  std::ifstream limit_file("/sys/fs/cgroup/memory.max");
  std::ifstream current_file("/sys/fs/cgroup/memory.current");
  std::string limit_text;
  double current = 0;
  if (limit_file >> limit_text && limit_text != "max" && current_file >> current) {
    available = std::min(available, std::stod(limit_text) - current);
  }
  return available;
}

std::string format_bytes(double bytes) {
  if (!std::isfinite(bytes) || bytes > 1e18) return "more than 1e18 B";
  std::ostringstream out;
  out << std::fixed << std::setprecision(bytes < 1e9 ? 0 : 2);
  if (bytes < 1e9) {
    out << bytes / 1e6 << " MB";
  } else if (bytes < 1e12) {
    out << bytes / 1e9 << " GB";
  } else {
    out << bytes / 1e12 << " TB";
  }
  return out.str();
}

void require_memory(double needed, const std::string& where, const std::string& what, const std::string& remedy) {
  if (needed < kSmallAllocationBytes) return;
  const double available = available_memory_bytes();
  if (!(needed <= available)) {
    throw std::runtime_error(where + ": " + what + " needs " + format_bytes(needed) + " but only " +
                             format_bytes(available) + " of memory is available (MemAvailable); " + remedy);
  }
}

}  // namespace bohmflow
