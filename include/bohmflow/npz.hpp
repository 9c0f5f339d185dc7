// NPZ archives that numpy.load reads and numpy.savez writes.
//
// An .npz file is a zip archive of .npy members, one per key ("t.npy" holds
// key "t"). Each .npy member is: the magic "\x93NUMPY", a version, a header
// length, a Python-literal dict {'descr': '<f8', 'fortran_order': False,
// 'shape': (3, 4), } padded to a multiple of 64 bytes, then the raw data.
//
// Supported element types: float64, float32, complex128, int64, int32, bool and
// numpy unicode scalars/arrays ('<U…', UTF-32LE). Writing is always C order
// and little-endian; reading also accepts Fortran order (transposed into C
// order on load) and compressed members (np.savez_compressed).
#pragma once

#include <complex>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <torch/types.h>

namespace bohmflow {

enum class DType { Float64, Float32, Complex128, Int64, Int32, Bool, Unicode };

// Human-readable name ("float64", "<U12" style for unicode is "unicode").
std::string dtype_name(DType dtype);

// One array: element type, shape and C-ordered little-endian bytes.
struct NpyArray {
  DType dtype = DType::Float64;
  std::vector<int64_t> shape;     // () for a scalar
  int64_t unicode_length = 0;     // characters per element, for DType::Unicode
  std::vector<char> data;         // numel * element size bytes, C order

  int64_t numel() const;          // product of shape (1 for a scalar)
  int64_t element_size() const;   // bytes per element

  // Constructors for the common cases.
  static NpyArray from_doubles(const std::vector<double>& values, std::vector<int64_t> shape);
  static NpyArray from_int64s(const std::vector<int64_t>& values, std::vector<int64_t> shape);
  static NpyArray from_complex(const std::vector<std::complex<double>>& values,
                               std::vector<int64_t> shape);
  static NpyArray scalar(double value);
  static NpyArray scalar_int(int64_t value);
  static NpyArray scalar_bool(bool value);
  static NpyArray string(const std::string& utf8);  // numpy '<U…' scalar

  // A tensor of any supported dtype (copied to CPU, made contiguous).
  static NpyArray from_tensor(const torch::Tensor& tensor);
};

// An ordered collection of named arrays, read from or written to one .npz.
class Npz {
 public:
  // Reads every member. Throws std::runtime_error naming the file (and the
  // member) for: a missing file, a file that is not a zip, a truncated or
  // corrupt member, an unsupported dtype, or a header whose shape disagrees
  // with the member's size.
  static Npz load(const std::string& path);

  // Writes atomically: a temporary file in the same folder, then rename.
  // compress = true gives what np.savez_compressed writes.
  void save(const std::string& path, bool compress = false) const;

  void set(const std::string& key, NpyArray array);
  void set(const std::string& key, const torch::Tensor& tensor);
  void set(const std::string& key, double value);
  void set(const std::string& key, int64_t value);
  void set(const std::string& key, int value) { set(key, static_cast<int64_t>(value)); }
  void set(const std::string& key, const std::string& value);
  void set(const std::string& key, const char* value) { set(key, std::string(value)); }

  bool contains(const std::string& key) const;
  std::vector<std::string> keys() const;  // in insertion (file) order

  // Raw access; throws naming the file and the key when the key is missing.
  const NpyArray& at(const std::string& key) const;

  // Typed access with validation. Every error names the file and the key.
  // expected_shape: an empty optional-like vector {} means "any shape"; use
  // -1 for a dimension that may be anything.
  torch::Tensor tensor(const std::string& key) const;  // native dtype, CPU
  torch::Tensor tensor(const std::string& key, torch::ScalarType dtype,
                       const std::vector<int64_t>& expected_shape) const;
  std::vector<double> doubles(const std::string& key) const;  // float64/32, int → double
  double scalar_double(const std::string& key) const;          // numeric scalar or 1-element array
  int64_t scalar_int(const std::string& key) const;            // integer (or integral float) scalar
  bool scalar_bool(const std::string& key) const;
  std::string string(const std::string& key) const;            // '<U…' scalar, as UTF-8

  const std::string& source() const { return source_; }  // path it was loaded from

 private:
  std::string source_ = "<in memory>";
  std::vector<std::string> order_;
  std::map<std::string, NpyArray> arrays_;
};

// Atomically replaces `path` with `bytes` (temporary file + fsync + rename).
void write_file_atomically(const std::string& path, const std::string& bytes);

}  // namespace bohmflow
