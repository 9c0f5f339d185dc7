// Process-wide settings for bohmflow's drivers.
#pragma once

namespace bohmflow {

// Keeps freed memory in the heap instead of returning it to the kernel.
// Every leapfrog step allocates and frees the same large temporaries; with
// glibc's defaults each of them is a fresh mmap whose pages fault in again,
// which on a 2-core AMD EPYC (Debian 12) cost 3–4× the arithmetic itself. A no-op
// on non-glibc systems.
void tune_memory_allocator();

// LibTorch's intra-op threads: one per core this process may run on and no
// other process keeps busy (at least one), unless the user chose a count
// through OMP_NUM_THREADS. Debian's LibTorch starts with one thread; the jets
// and GEMMs of one leapfrog step split across particles, so every idle core
// helps, and a busy one hurts. Returns the thread count now in effect.
int use_all_cores();

// Both of the above. Call once at the start of main, after parsing (the CLIs
// do); an explicit torch::set_num_threads afterwards still wins.
void tune_runtime();

}  // namespace bohmflow
