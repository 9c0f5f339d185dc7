#include "bohmflow/runtime.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include <ATen/Parallel.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif
#if defined(__linux__)
#include <sched.h>
#endif

namespace bohmflow {

void tune_memory_allocator() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 1 << 30);    // allocations below 1 GiB come from the heap
  mallopt(M_TRIM_THRESHOLD, 1 << 30);    // and stay there when freed
  mallopt(M_TOP_PAD, 256 << 20);         // grow the heap in 256 MiB steps
#endif
}

int use_all_cores() {
  if (std::getenv("OMP_NUM_THREADS") != nullptr) return at::get_num_threads();
  // The cores of this process's affinity mask (a container's CPU set), not the host's.
  int cores = static_cast<int>(std::thread::hardware_concurrency());
#if defined(__linux__)
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) cores = CPU_COUNT(&set);
#endif
  // Less the cores other processes keep busy (the 1-minute load average):
  // a thread that waits for a core stalls every parallel region it is part
  // of, and on a 2-core AMD EPYC (Debian 12) 2 threads beside a load of 4
  // ran 3–4× slower than 1 (docs/performance.md, *Threads*).
  double load = 0;
  if (std::FILE* file = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(file, "%lf", &load) != 1) load = 0;
    std::fclose(file);
  }
  cores -= static_cast<int>(std::lround(load));
  at::set_num_threads(std::max(cores, 1));
  return at::get_num_threads();
}

void tune_runtime() {
  tune_memory_allocator();
  use_all_cores();
}

}  // namespace bohmflow
