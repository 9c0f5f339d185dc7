// Internal (not installed): the .npy member format, plus the checks and error
// wording that every NPZ translation unit shares, so that all of them report
// problems the same way. Free of LibTorch, like everything but npz_tensor.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "bohmflow/npz.hpp"

// NpyArray holds little-endian bytes, which this code reads and writes with
// memcpy; a big-endian host would need byte swaps throughout.
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "bohmflow's NPZ I/O assumes a little-endian host"
#endif

namespace bohmflow::detail {

// ---- .npy members ------------------------------------------------------------

// The .npy encoding of one array (format 1.0, or 2.0 for headers > 65535 bytes).
std::string encode_npy(const NpyArray& array);

// Decodes one .npy member of `size` bytes; `file` and `key` name it in errors.
NpyArray decode_npy(const char* data, size_t size, const std::string& file, const std::string& key);

// ---- errors ------------------------------------------------------------------

// "npz file 'F'" or "npz file 'F', key 'K'": how every message starts.
std::string where(const std::string& file, const std::string& key);

// Throws std::runtime_error(where(file, key) + ": " + what).
[[noreturn]] void fail(const std::string& file, const std::string& key, const std::string& what);

// Returns make(); a std::invalid_argument from it is rethrown naming the file
// and the key.
template <typename Make>
auto naming(const std::string& file, const std::string& key, Make make) -> decltype(make()) {
  try {
    return make();
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(where(file, key) + ": " + e.what());
  }
}

// ---- arrays and keys ---------------------------------------------------------

// A shape as Python writes a tuple: "()", "(3,)", "(3, 4)".
std::string shape_string(const std::vector<int64_t>& shape);

// Throws std::invalid_argument, prefixed by `context`, unless `array` is
// self-consistent (sizes do not overflow, data matches the shape).
void validate_array(const NpyArray& array, const std::string& context);

// Throws std::invalid_argument, prefixed by `context`, unless `key` is
// non-empty, valid UTF-8 and free of NUL.
void validate_key(const std::string& key, const std::string& context);

// Appends one code point as UTF-8; false for a surrogate or a value beyond
// U+10FFFF.
bool append_utf8(uint32_t cp, std::string* out);

// The array's .npy descr ('<f8', '<U7', ...).
std::string descr_of(const NpyArray& array);

// "float64 with shape (3,)" ('<U7 with shape ()' for unicode), for messages.
std::string describe(const NpyArray& array);

// ---- files -------------------------------------------------------------------

// The whole content of the regular file `path`; errors name `path` as an npz
// file. Defined in atomic_file.cpp, next to the writer it shares helpers with.
std::string read_whole_file(const std::string& path);

}  // namespace bohmflow::detail
