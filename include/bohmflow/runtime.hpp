// Process-wide settings for bohmflow's drivers.
#pragma once

namespace bohmflow {

// Keeps freed memory in the heap instead of returning it to the kernel.
// Every leapfrog step allocates and frees the same large temporaries; with
// glibc's defaults each of them is a fresh mmap whose pages fault in again,
// which on the development machine cost 3–4× the arithmetic itself. Call
// once at the start of main (the CLIs do); a no-op on non-glibc systems.
void tune_memory_allocator();

}  // namespace bohmflow
