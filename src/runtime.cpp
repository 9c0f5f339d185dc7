#include "bohmflow/runtime.hpp"

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
  if (cores > 0) at::set_num_threads(cores);
  return at::get_num_threads();
}

void tune_runtime() {
  tune_memory_allocator();
  use_all_cores();
}

}  // namespace bohmflow
