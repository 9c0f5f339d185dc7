// libFuzzer target: load_checkpoint on arbitrary bytes.
//
// Beyond the NPZ reader (npz_fuzz covers it more cheaply) this reaches what a
// checkpoint adds: the format tag, the args JSON, the typed reads of the
// scalars, and the parameters checked against the architecture the args
// describe. The zip-aware mutator keeps mutated members behind valid CRCs.
//
// checkpoint.hpp promises errors that name the file and the key, which the
// library throws as std::runtime_error (or std::invalid_argument from the
// NPZ layer); any other exception, a crash, a sanitizer report or a leak is
// a finding.
#include <cstdint>
#include <stdexcept>

#include <torch/torch.h>

#include "bohmflow/checkpoint.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // One thread: each input is small, and parallel runs (-jobs) share the cores.
  torch::set_num_threads(1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using bohmflow::fuzz::report;
  try {
    bohmflow::load_checkpoint(bohmflow::fuzz::write_scratch_file(data, size));
    report("loaded");
  } catch (const std::runtime_error& e) {
    report(e.what());
  } catch (const std::invalid_argument& e) {
    report(e.what());
  }
  return 0;
}

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size,
                                          unsigned int seed) {
  return bohmflow::fuzz::mutate_zip_aware(data, size, max_size, seed);
}
