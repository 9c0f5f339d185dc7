// Shared by the fuzz targets: handing an input to loaders that only take a
// path, and a zip-aware mutator, so that mutations reach the .npy members
// instead of dying at the zip CRC check.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace bohmflow::fuzz {

// Writes the input to this process's scratch file and returns its path. One
// file per process: libFuzzer's -jobs/-workers run separate processes.
const std::string& write_scratch_file(const uint8_t* data, size_t size);

// With BOHMFLOW_FUZZ_VERBOSE set, prints why an input was refused (or that it
// loaded), for replaying one input by hand; otherwise silent, as fuzzing needs.
void report(const char* outcome);

// LLVMFuzzerCustomMutator's body. For an input that libzip opens, it mutates
// one member's uncompressed bytes (or its name) and rebuilds the archive with
// a valid CRC, keeping each member's compression method; otherwise, and now
// and then anyway so the zip structure itself gets fuzzed, it falls back to
// libFuzzer's byte-level mutations.
size_t mutate_zip_aware(uint8_t* data, size_t size, size_t max_size, unsigned int seed);

}  // namespace bohmflow::fuzz
