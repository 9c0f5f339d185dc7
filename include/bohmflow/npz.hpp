// NPZ archives that numpy.load reads and numpy.savez writes.
//
// An .npz file is a zip archive of .npy members, one per key ("t.npy" holds
// key "t"; keys may contain '/'). Each .npy member is: the magic "\x93NUMPY",
// a version, a header length, a Python-literal dict {'descr': '<f8',
// 'fortran_order': False, 'shape': (3, 4), } padded with spaces and a '\n' to
// a multiple of 64 bytes, then the raw data.
//
// Supported element types: float64, float32, complex128, int64, int32, uint8, bool
// and numpy unicode scalars/arrays ('<U…', UTF-32LE). Writing is always C order,
// little-endian, format version 1.0 (2.0 when the header exceeds 65535 bytes),
// stored or deflated (np.savez / np.savez_compressed). Reading accepts format
// versions 1.0, 2.0 and 3.0, stored and deflated members, Fortran order
// (transposed into C order on load) and big-endian ('>') data (byte-swapped on
// load). Byte-order chars: '<', '>' and '=' for every type; '|' only for bool
// ('|b1', '|u1'), where numpy writes it. Members whose names do not end in ".npy"
// (numpy exposes them as raw bytes) and directory entries are skipped.
//
// Errors: a file's content that is wrong (missing file, not a zip, truncated
// or corrupt member, unsupported dtype, malformed header, a header whose shape
// disagrees with the member's size, a missing key, a dtype or shape that typed
// access does not accept) throws std::runtime_error; a bad argument (empty
// key, an NpyArray whose data does not match its shape) throws
// std::invalid_argument. Every message names the file and, where there is one,
// the key: "npz file 'run/ckpt.npz', key 'w': ...".
#pragma once

#include <complex>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "bohmflow/tensor_declarations.hpp"

namespace bohmflow {

enum class DType { Float64, Float32, Complex128, Int64, Int32, UInt8, Bool, Unicode };

// Human-readable name: "float64", "float32", "complex128", "int64", "int32",
// "uint8", "bool", "unicode".
std::string dtype_name(DType dtype);

// One array: element type, shape and C-ordered little-endian bytes.
struct NpyArray {
  DType dtype = DType::Float64;
  std::vector<int64_t> shape;  // () for a scalar
  int64_t unicode_length = 0;  // characters per element, for DType::Unicode
  std::vector<char> data;      // numel * element size bytes, C order

  // Both throw std::invalid_argument for a negative dimension or an overflow.
  int64_t numel() const;         // product of shape (1 for a scalar)
  int64_t element_size() const;  // bytes per element (4 * unicode_length for Unicode)

  // Constructors for the common cases; values.size() must equal the product
  // of shape (std::invalid_argument otherwise).
  static NpyArray from_doubles(const std::vector<double>& values, std::vector<int64_t> shape);
  static NpyArray from_int64s(const std::vector<int64_t>& values, std::vector<int64_t> shape);
  static NpyArray from_complex(const std::vector<std::complex<double>>& values,
                               std::vector<int64_t> shape);
  static NpyArray scalar(double value);
  static NpyArray scalar_int(int64_t value);
  static NpyArray scalar_bool(bool value);
  // A uint8 array (n) holding `bytes` (e.g. a file's content).
  static NpyArray from_bytes(const std::string& bytes);
  // numpy '<U…' scalar from UTF-8 (std::invalid_argument for invalid UTF-8).
  // The empty string becomes '<U1', as numpy stores it.
  static NpyArray string(const std::string& utf8);

  // A tensor of any supported dtype (kFloat64, kFloat32, kComplexDouble,
  // kInt64, kInt32, kBool) on any device: detached, copied to CPU, made
  // contiguous. Other dtypes throw std::invalid_argument. Defined in the
  // LibTorch part of the library (npz_tensor.cpp).
  static NpyArray from_tensor(const torch::Tensor& tensor);
};

// An ordered collection of named arrays, read from or written to one .npz.
class Npz {
 public:
  // Reads every member into memory. Throws std::runtime_error naming the file
  // (and the key) for: a missing file, a file that is not a zip, a truncated
  // or corrupt member (CRC), an unsupported dtype or format version, a
  // malformed header, or a header whose shape disagrees with the member's
  // size.
  static Npz load(const std::string& path);

  // Writes atomically (see write_file_atomically): on failure the old file is
  // untouched and no temporary file is left. compress = true gives what
  // np.savez_compressed writes. An empty Npz writes an empty zip archive.
  void save(const std::string& path, bool compress = false) const;

  // Adds or replaces a key (a replaced key keeps its place in the order).
  // Keys must be non-empty, valid UTF-8 without NUL (std::invalid_argument).
  void set(const std::string& key, NpyArray array);
  // Defined in the LibTorch part of the library (npz_tensor.cpp).
  void set(const std::string& key, const torch::Tensor& tensor);
  void set(const std::string& key, double value);   // float64 scalar
  void set(const std::string& key, int64_t value);  // int64 scalar
  void set(const std::string& key, int value) { set(key, static_cast<int64_t>(value)); }
  void set(const std::string& key, bool value);                // bool scalar
  void set(const std::string& key, const std::string& value);  // '<U…' scalar
  void set(const std::string& key, const char* value) { set(key, std::string(value)); }

  bool contains(const std::string& key) const;
  std::vector<std::string> keys() const;  // in insertion (file) order
  size_t size() const { return order_.size(); }

  // Raw access; throws naming the file and the key when the key is missing.
  const NpyArray& at(const std::string& key) const;

  // Typed access with validation. Every error names the file and the key.
  //
  // tensor(key): a CPU tensor of the stored dtype (unicode is not a tensor).
  //
  // tensor(key, dtype, expected_shape): expected_shape = {} accepts any shape;
  // otherwise the rank must match and every dimension must match, except -1
  // which accepts any size. The stored dtype must equal `dtype` or convert to
  // it without loss; the accepted widenings are
  //   float32 → float64, float32 → complex128, float64 → complex128,
  //   int32 → int64, int32 → float64.
  // Anything else (float64 → float32, int64 → float64, bool → int, …) throws
  // with the expected and the actual dtype and shape.
  //
  // Both are defined in the LibTorch part of the library (npz_tensor.cpp).
  torch::Tensor tensor(const std::string& key) const;  // native dtype, CPU
  torch::Tensor tensor(const std::string& key, torch::ScalarType dtype,
                       const std::vector<int64_t>& expected_shape) const;
  // float64/float32/int32 → double; int64 only where exactly representable
  // (|v| ≤ 2⁵³). bool, complex and unicode throw.
  std::vector<double> doubles(const std::string& key) const;
  double scalar_double(const std::string& key) const;  // as doubles(), exactly one element
  // complex128, or any real type doubles() reads (imaginary part 0).
  std::vector<std::complex<double>> complexes(const std::string& key) const;
  int64_t scalar_int(
      const std::string& key) const;               // int64/int32, or an integral float; one element
  bool scalar_bool(const std::string& key) const;  // bool, one element
  std::string string(const std::string& key) const;                // '<U…', one element, as UTF-8
  std::vector<std::string> strings(const std::string& key) const;  // '<U…', any shape, C order
  std::string bytes(const std::string& key) const;                 // uint8, one dimension

  const std::string& source() const { return source_; }  // path it was loaded from

 private:
  std::string source_ = "<in memory>";
  std::vector<std::string> order_;
  std::map<std::string, NpyArray> arrays_;
};

// Atomically replaces `path` with `bytes`: writes a temporary file in the same
// folder, fsyncs it, renames it over `path`, then fsyncs the folder. On any
// failure the temporary file is removed, `path` keeps its old content, and a
// std::runtime_error names `path`. Temporary files of `path` that an earlier
// process left behind (".<name>.tmp-<pid>-<n>" whose pid no longer runs) are
// removed first.
void write_file_atomically(const std::string& path, const std::string& bytes);

// Before a long run: checks that `path` can be written as
// write_file_atomically writes it, by creating and removing a temporary file
// beside it (creating its folder, as the savers do). Throws
// std::runtime_error naming `what` (the flag, e.g. "--data-out") and the path.
void require_writable(const std::string& path, const std::string& what);

}  // namespace bohmflow
