// libFuzzer target: the NPZ reader on arbitrary bytes.
//
// An input is a whole .npz file, read with Npz::load through a scratch file
// (the reader only takes a path), then every key is read with each typed
// accessor and every array must survive an encode/decode round trip. An
// input that starts with the .npy magic is also decoded as a bare member, so
// the header parser gets fuzzed without the zip around it.
//
// Bad input must end in what npz.hpp documents, std::runtime_error or
// std::invalid_argument; any other exception, a crash, a sanitizer report or
// a leak is a finding.
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

#include "bohmflow/npz.hpp"
#include "fuzz_support.hpp"
#include "npy_format.hpp"

namespace bohmflow::fuzz {
namespace {

// What a caller can do with a loaded file; each call may refuse on its own.
void read_every_key(const Npz& npz) {
  for (const std::string& key : npz.keys()) {
    const NpyArray& array = npz.at(key);
    try {
      npz.doubles(key);
    } catch (const std::runtime_error&) {
    }
    try {
      npz.scalar_int(key);
    } catch (const std::runtime_error&) {
    }
    try {
      npz.scalar_bool(key);
    } catch (const std::runtime_error&) {
    }
    try {
      npz.strings(key);
    } catch (const std::runtime_error&) {
    }
    // What the reader accepted, the writer must write back unchanged.
    const std::string member = detail::encode_npy(array);
    const NpyArray again = detail::decode_npy(member.data(), member.size(), "round trip", key);
    if (again.dtype != array.dtype || again.shape != array.shape ||
        again.unicode_length != array.unicode_length || again.data != array.data) {
      __builtin_trap();
    }
  }
}

}  // namespace
}  // namespace bohmflow::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bohmflow;
  const char* bytes = reinterpret_cast<const char*>(data);
  if (size >= 6 && std::memcmp(bytes, "\x93NUMPY", 6) == 0) {
    try {
      detail::decode_npy(bytes, size, "input.npy", "x");
      fuzz::report("decoded as .npy");
    } catch (const std::runtime_error& e) {
      fuzz::report(e.what());
    } catch (const std::invalid_argument& e) {
      fuzz::report(e.what());
    }
  }
  Npz npz;
  try {
    npz = Npz::load(fuzz::write_scratch_file(data, size));
    fuzz::report(("loaded " + std::to_string(npz.size()) + " arrays").c_str());
  } catch (const std::runtime_error& e) {
    fuzz::report(e.what());
    return 0;
  } catch (const std::invalid_argument& e) {
    fuzz::report(e.what());
    return 0;
  }
  // Outside the try: a loaded file that the accessors or the writer choke on
  // is a finding.
  fuzz::read_every_key(npz);
  return 0;
}

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size,
                                          unsigned int seed) {
  return bohmflow::fuzz::mutate_zip_aware(data, size, max_size, seed);
}
