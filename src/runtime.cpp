#include "bohmflow/runtime.hpp"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace bohmflow {

void tune_memory_allocator() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 1 << 30);    // allocations below 1 GiB come from the heap
  mallopt(M_TRIM_THRESHOLD, 1 << 30);    // and stay there when freed
  mallopt(M_TOP_PAD, 256 << 20);         // grow the heap in 256 MiB steps
#endif
}

}  // namespace bohmflow
