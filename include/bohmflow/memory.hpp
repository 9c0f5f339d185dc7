// Memory checks made before large allocations: a size that cannot fit is
// refused with the numbers and what to change, instead of failing inside an
// allocator (or the kernel's OOM killer) after the work has begun.
#pragma once

#include <string>

namespace bohmflow {

// Memory the process may still allocate: MemAvailable of /proc/meminfo, or
// sysconf(_SC_AVPHYS_PAGES) · page size where that file is missing, capped by
// a cgroup v2 limit (containers).
double available_memory_bytes();

// "216 MB", "1.50 GB", "9007.20 TB".
std::string format_bytes(double bytes);

// Throws std::runtime_error("<where>: <what> needs … but only … of memory is
// available (MemAvailable); <remedy>") when `needed` bytes exceed
// available_memory_bytes(). Needs under 64 MiB are not checked (nor is /proc
// read for them).
void require_memory(double needed, const std::string& where, const std::string& what, const std::string& remedy);

}  // namespace bohmflow
