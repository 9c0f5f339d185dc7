// The .npy member format (NEP 1, numpy/lib/format.py), without LibTorch so the
// reference library can read and write arrays on its own.
//
//   .npy member = "\x93NUMPY" | major | minor | header_len (u16 LE for 1.0,
//                 u32 LE for 2.0 and 3.0) | header | data
//   header      = "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }"
//                 + spaces + '\n', so that the data starts at a multiple of 64
//   data        = numel · itemsize bytes, C order (or Fortran order on read)
//
// Every size is guarded against overflow and against the member it claims to
// describe, because the bytes come from files we did not write.
#include "npy_format.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <utility>

namespace bohmflow {
namespace detail {

// ---- errors ------------------------------------------------------------------

std::string where(const std::string& file, const std::string& key) {
  std::string out = "npz file '" + file + "'";
  if (!key.empty()) out += ", key '" + key + "'";
  return out;
}

[[noreturn]] void fail(const std::string& file, const std::string& key, const std::string& what) {
  throw std::runtime_error(where(file, key) + ": " + what);
}

// ---- dtypes ------------------------------------------------------------------

namespace {

// One row per DType: its name, its little-endian .npy descr and its size (per
// character for unicode). The tensor dtypes live in npz_tensor.cpp, the only
// file that may name them.
struct DTypeInfo {
  DType dtype;
  const char* name;
  const char* descr;
  int64_t size;
};

const DTypeInfo kDTypes[] = {
    {DType::Float64, "float64", "<f8", 8},
    {DType::Float32, "float32", "<f4", 4},
    {DType::Complex128, "complex128", "<c16", 16},
    {DType::Int64, "int64", "<i8", 8},
    {DType::Int32, "int32", "<i4", 4},
    {DType::UInt8, "uint8", "|u1", 1},
    {DType::Bool, "bool", "|b1", 1},
    {DType::Unicode, "unicode", "<U", 4},
};

const DTypeInfo& info(DType dtype) {
  for (const auto& row : kDTypes) {
    if (row.dtype == dtype) return row;
  }
  throw std::logic_error("bohmflow::npz: unknown DType");
}

}  // namespace

// ---- sizes -------------------------------------------------------------------

namespace {

bool mul_ok(int64_t a, int64_t b, int64_t* out) { return !__builtin_mul_overflow(a, b, out); }

// numel and byte count of (dtype, shape, unicode_length); false on a negative
// dimension or an overflow of int64.
bool checked_sizes(DType dtype, const std::vector<int64_t>& shape, int64_t unicode_length,
                   int64_t* numel, int64_t* element_size, int64_t* bytes) {
  int64_t n = 1;
  for (const int64_t dim : shape) {
    if (dim < 0 || !mul_ok(n, dim, &n)) return false;
  }
  int64_t size = info(dtype).size;
  if (dtype == DType::Unicode && (unicode_length < 0 || !mul_ok(unicode_length, size, &size))) {
    return false;
  }
  int64_t total = 0;
  if (!mul_ok(n, size, &total)) return false;
  *numel = n;
  *element_size = size;
  *bytes = total;
  return true;
}

}  // namespace

std::string shape_string(const std::vector<int64_t>& shape) {
  if (shape.empty()) return "()";
  std::string out = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(shape[i]);
  }
  return out + (shape.size() == 1 ? ",)" : ")");
}

// Throws std::invalid_argument unless `array` is self-consistent.
void validate_array(const NpyArray& array, const std::string& context) {
  int64_t numel = 0, element_size = 0, bytes = 0;
  if (!checked_sizes(array.dtype, array.shape, array.unicode_length, &numel, &element_size,
                     &bytes)) {
    throw std::invalid_argument(context + ": shape " + shape_string(array.shape) +
                                " has a negative dimension or its size overflows");
  }
  if (array.dtype == DType::Unicode && array.unicode_length < 1) {
    throw std::invalid_argument(context + ": unicode_length must be >= 1 for DType::Unicode");
  }
  if (static_cast<uint64_t>(bytes) != array.data.size()) {
    throw std::invalid_argument(context + ": " + dtype_name(array.dtype) + " shape " +
                                shape_string(array.shape) + " needs " + std::to_string(bytes) +
                                " bytes but data holds " + std::to_string(array.data.size()));
  }
}

// ---- UTF-8 / UTF-32 ----------------------------------------------------------

namespace {

// Strict UTF-8 decoder; returns false at the first invalid sequence.
bool decode_utf8(const std::string& text, std::vector<uint32_t>* out, size_t* bad_offset) {
  out->clear();
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = s[i];
    uint32_t cp = 0;
    int extra = 0;
    uint32_t min = 0;
    if (c < 0x80) {
      cp = c;
    } else if ((c & 0xE0) == 0xC0) {
      cp = c & 0x1F, extra = 1, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      cp = c & 0x0F, extra = 2, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      cp = c & 0x07, extra = 3, min = 0x10000;
    } else {
      *bad_offset = i;
      return false;
    }
    for (int k = 1; k <= extra; ++k) {
      if (i + k >= n || (s[i + k] & 0xC0) != 0x80) {
        *bad_offset = i;
        return false;
      }
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      *bad_offset = i;
      return false;
    }
    out->push_back(cp);
    i += extra + 1;
  }
  return true;
}

}  // namespace

bool append_utf8(uint32_t cp, std::string* out) {
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
  return true;
}

void validate_key(const std::string& key, const std::string& context) {
  if (key.empty()) throw std::invalid_argument(context + ": empty key");
  if (key.find('\0') != std::string::npos) {
    throw std::invalid_argument(context + ": key contains a NUL character");
  }
  std::vector<uint32_t> ignored;
  size_t bad = 0;
  if (!decode_utf8(key, &ignored, &bad)) {
    throw std::invalid_argument(context + ": key '" + key + "' is not valid UTF-8 (byte " +
                                std::to_string(bad) + ")");
  }
}

std::string descr_of(const NpyArray& array) {
  if (array.dtype == DType::Unicode) return "<U" + std::to_string(array.unicode_length);
  return info(array.dtype).descr;
}

std::string describe(const NpyArray& array) {
  std::string name = array.dtype == DType::Unicode ? descr_of(array) : dtype_name(array.dtype);
  return name + " with shape " + shape_string(array.shape);
}

// ---- .npy header parsing -------------------------------------------------------

namespace {

struct Descr {
  DType dtype = DType::Float64;
  int64_t unicode_length = 0;
  bool big_endian = false;
};

Descr parse_descr(const std::string& text, const std::string& file, const std::string& key) {
  auto unsupported = [&](const std::string& why) -> Descr {
    fail(file, key,
         "unsupported dtype descr '" + text + "'" + why +
             " (supported: <f8 <f4 <c16 <i8 <i4 |u1 |b1 <U…, also big-endian)");
  };
  if (text.size() < 2) return unsupported("");
  const char order = text[0];
  const std::string code = text.substr(1);
  if (order != '<' && order != '>' && order != '|' && order != '=') return unsupported("");
  Descr out;
  out.big_endian = order == '>';
  const DTypeInfo* known = nullptr;
  for (const auto& row : kDTypes) {
    if (row.dtype != DType::Unicode && code == row.descr + 1) known = &row;
  }
  if (code == "?") known = &info(DType::Bool);
  if (known) {
    out.dtype = known->dtype;
    out.big_endian = out.big_endian && known->size > 1;  // one byte: the order means nothing
  } else if (code.size() >= 2 && code[0] == 'U') {
    out.dtype = DType::Unicode;
    int64_t length = 0;
    for (size_t i = 1; i < code.size(); ++i) {
      const char c = code[i];
      if (c < '0' || c > '9') return unsupported("");
      if (!mul_ok(length, 10, &length) || __builtin_add_overflow(length, c - '0', &length)) {
        return unsupported(": length overflows");
      }
    }
    if (length < 1) return unsupported(": zero-length unicode");
    out.unicode_length = length;
  } else {
    return unsupported("");
  }
  if (order == '|' && out.dtype != DType::Bool && out.dtype != DType::UInt8) {
    return unsupported(": '|' (no byte order) is only valid for 1-byte types");
  }
  return out;
}

// The header dict, a Python literal: {'descr': str, 'fortran_order': bool,
// 'shape': tuple of ints, } with exactly these three keys, in any order.
class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& file, const std::string& key)
      : s_(text), file_(file), key_(key) {}

  void parse(std::string* descr, bool* fortran_order, std::vector<int64_t>* shape) {
    bool have_descr = false, have_fortran = false, have_shape = false;
    skip_space();
    expect('{');
    skip_space();
    while (!peek('}')) {
      const std::string name = parse_string();
      skip_space();
      expect(':');
      skip_space();
      if (name == "descr") {
        if (have_descr) error("duplicate key 'descr'");
        *descr = parse_string();
        have_descr = true;
      } else if (name == "fortran_order") {
        if (have_fortran) error("duplicate key 'fortran_order'");
        *fortran_order = parse_bool();
        have_fortran = true;
      } else if (name == "shape") {
        if (have_shape) error("duplicate key 'shape'");
        *shape = parse_shape();
        have_shape = true;
      } else {
        error("unexpected key '" + name + "'");
      }
      skip_space();
      if (peek(',')) {
        ++pos_;
        skip_space();
      } else if (!peek('}')) {
        error("expected ',' or '}'");
      }
    }
    ++pos_;  // '}'
    skip_space();
    if (pos_ != s_.size()) error("trailing characters after the dict");
    if (!have_descr || !have_fortran || !have_shape) {
      error("the dict needs the keys 'descr', 'fortran_order' and 'shape'");
    }
  }

 private:
  [[noreturn]] void error(const std::string& what) const {
    fail(file_, key_,
         "malformed .npy header at character " + std::to_string(pos_) + ": " + what + " in \"" +
             printable() + "\"");
  }

  std::string printable() const {
    std::string out;
    const size_t end = s_.find_last_not_of(" \n");
    for (const char c :
         s_.substr(0, end == std::string::npos ? 0 : std::min<size_t>(end + 1, 200))) {
      out += (c >= 0x20 && c < 0x7F) ? c : '?';
    }
    return s_.size() > 200 ? out + "..." : out;
  }

  bool peek(char c) const { return pos_ < s_.size() && s_[pos_] == c; }

  void expect(char c) {
    if (!peek(c)) error(std::string("expected '") + c + "'");
    ++pos_;
  }

  void skip_space() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\t' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }

  // '…' or "…" without escapes (numpy never writes escapes in these strings).
  std::string parse_string() {
    if (pos_ >= s_.size() || (s_[pos_] != '\'' && s_[pos_] != '"')) error("expected a string");
    const char quote = s_[pos_++];
    const size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] != quote) {
      if (s_[pos_] == '\\' || s_[pos_] == '\n') error("unsupported character in a string");
      ++pos_;
    }
    if (pos_ >= s_.size()) error("unterminated string");
    return s_.substr(start, pos_++ - start);
  }

  bool parse_bool() {
    if (s_.compare(pos_, 4, "True") == 0) {
      pos_ += 4;
      return true;
    }
    if (s_.compare(pos_, 5, "False") == 0) {
      pos_ += 5;
      return false;
    }
    error("expected True or False");
  }

  int64_t parse_int() {
    if (pos_ >= s_.size() || s_[pos_] < '0' || s_[pos_] > '9') {
      error("expected a non-negative integer");
    }
    int64_t value = 0;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      if (!mul_ok(value, 10, &value) || __builtin_add_overflow(value, s_[pos_] - '0', &value)) {
        error("integer overflows int64");
      }
      ++pos_;
    }
    if (peek('L')) ++pos_;  // Python 2 long literal, seen in old files
    return value;
  }

  // (), (n,), (n, m), (n, m,) — a 1-tuple needs its comma, as in Python.
  std::vector<int64_t> parse_shape() {
    expect('(');
    skip_space();
    std::vector<int64_t> shape;
    bool comma_after_last = false;
    while (!peek(')')) {
      shape.push_back(parse_int());
      skip_space();
      comma_after_last = false;
      if (peek(',')) {
        ++pos_;
        comma_after_last = true;
        skip_space();
      } else if (!peek(')')) {
        error("expected ',' or ')' in the shape");
      }
    }
    ++pos_;
    if (shape.size() == 1 && !comma_after_last) error("shape (n) is not a tuple; expected (n,)");
    return shape;
  }

  const std::string& s_;
  const std::string& file_;
  const std::string& key_;
  size_t pos_ = 0;
};

const char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;
constexpr size_t kAlign = 64;

uint32_t read_le(const char* p, int bytes) {
  uint32_t value = 0;
  for (int i = bytes - 1; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(p[i]);
  return value;
}

void byte_swap(std::vector<char>* data, size_t unit) {
  if (unit <= 1) return;
  for (size_t offset = 0; offset + unit <= data->size(); offset += unit) {
    std::reverse(data->begin() + offset, data->begin() + offset + unit);
  }
}

// Fortran-ordered bytes (first index fastest) → C order.
std::vector<char> fortran_to_c(const std::vector<char>& in, const std::vector<int64_t>& shape,
                               int64_t numel, int64_t element_size) {
  const size_t ndim = shape.size();
  std::vector<int64_t> c_stride(ndim, 1);  // in elements
  for (size_t k = ndim; k-- > 1;) c_stride[k - 1] = c_stride[k] * shape[k];
  std::vector<char> out(in.size());
  std::vector<int64_t> index(ndim, 0);
  int64_t out_offset = 0;
  for (int64_t i = 0; i < numel; ++i) {
    std::memcpy(out.data() + out_offset * element_size, in.data() + i * element_size,
                static_cast<size_t>(element_size));
    for (size_t k = 0; k < ndim; ++k) {
      ++index[k];
      out_offset += c_stride[k];
      if (index[k] < shape[k]) break;
      out_offset -= c_stride[k] * shape[k];
      index[k] = 0;
    }
  }
  return out;
}

}  // namespace

}  // namespace detail

// ---- DType / NpyArray ------------------------------------------------------------

using detail::checked_sizes;
using detail::decode_utf8;
using detail::info;
using detail::shape_string;

std::string dtype_name(DType dtype) { return info(dtype).name; }

int64_t NpyArray::numel() const {
  int64_t n = 0, size = 0, bytes = 0;
  if (!checked_sizes(dtype, shape, unicode_length, &n, &size, &bytes)) {
    throw std::invalid_argument("NpyArray: shape " + shape_string(shape) +
                                " has a negative dimension or its size overflows");
  }
  return n;
}

int64_t NpyArray::element_size() const {
  int64_t n = 0, size = 0, bytes = 0;
  if (!checked_sizes(dtype, {}, unicode_length, &n, &size, &bytes)) {
    throw std::invalid_argument("NpyArray: unicode_length " + std::to_string(unicode_length) +
                                " is negative or overflows");
  }
  return size;
}

namespace {

template <typename T>
NpyArray from_values(DType dtype, const std::vector<T>& values, std::vector<int64_t> shape,
                     const char* context) {
  NpyArray array;
  array.dtype = dtype;
  array.shape = std::move(shape);
  const int64_t numel = array.numel();
  if (static_cast<uint64_t>(numel) != values.size()) {
    throw std::invalid_argument(std::string(context) + ": shape " + shape_string(array.shape) +
                                " holds " + std::to_string(numel) + " elements but " +
                                std::to_string(values.size()) + " values were given");
  }
  array.data.resize(values.size() * sizeof(T));
  if (!values.empty()) std::memcpy(array.data.data(), values.data(), array.data.size());
  return array;
}

}  // namespace

NpyArray NpyArray::from_doubles(const std::vector<double>& values, std::vector<int64_t> shape) {
  return from_values(DType::Float64, values, std::move(shape), "NpyArray::from_doubles");
}

NpyArray NpyArray::from_int64s(const std::vector<int64_t>& values, std::vector<int64_t> shape) {
  return from_values(DType::Int64, values, std::move(shape), "NpyArray::from_int64s");
}

NpyArray NpyArray::from_complex(const std::vector<std::complex<double>>& values,
                                std::vector<int64_t> shape) {
  return from_values(DType::Complex128, values, std::move(shape), "NpyArray::from_complex");
}

NpyArray NpyArray::scalar(double value) { return from_doubles({value}, {}); }

NpyArray NpyArray::scalar_int(int64_t value) { return from_int64s({value}, {}); }

NpyArray NpyArray::from_bytes(const std::string& bytes) {
  NpyArray array;
  array.dtype = DType::UInt8;
  array.shape = {static_cast<int64_t>(bytes.size())};
  array.data.assign(bytes.begin(), bytes.end());
  return array;
}

NpyArray NpyArray::scalar_bool(bool value) {
  NpyArray array;
  array.dtype = DType::Bool;
  array.data = {static_cast<char>(value ? 1 : 0)};
  return array;
}

NpyArray NpyArray::string(const std::string& utf8) {
  std::vector<uint32_t> code_points;
  size_t bad = 0;
  if (!decode_utf8(utf8, &code_points, &bad)) {
    throw std::invalid_argument("NpyArray::string: invalid UTF-8 at byte " + std::to_string(bad));
  }
  if (code_points.empty()) code_points.push_back(0);  // numpy stores '' as '<U1'
  NpyArray array;
  array.dtype = DType::Unicode;
  array.unicode_length = static_cast<int64_t>(code_points.size());
  array.data.resize(code_points.size() * 4);
  std::memcpy(array.data.data(), code_points.data(), array.data.size());
  return array;
}

// ---- .npy encode / decode ----------------------------------------------------------

namespace detail {

std::string encode_npy(const NpyArray& array) {
  validate_array(array, "encode_npy");
  const std::string dict = "{'descr': '" + descr_of(array) +
                           "', 'fortran_order': False, 'shape': " + shape_string(array.shape) +
                           ", }";
  // Version 1.0: 10-byte prefix and a u16 length; 2.0: 12 bytes and a u32.
  size_t prefix = kMagicSize + 2 + 2;
  size_t header_len = dict.size() + 1;  // + '\n'
  header_len += (kAlign - (prefix + header_len) % kAlign) % kAlign;
  int major = 1;
  if (header_len > 65535) {
    major = 2;
    prefix = kMagicSize + 2 + 4;
    header_len = dict.size() + 1;
    header_len += (kAlign - (prefix + header_len) % kAlign) % kAlign;
    if (header_len > std::numeric_limits<uint32_t>::max()) {
      throw std::invalid_argument("encode_npy: header of " + std::to_string(header_len) +
                                  " bytes is too long for the .npy format");
    }
  }
  std::string out;
  out.reserve(prefix + header_len + array.data.size());
  out.append(kMagic, kMagicSize);
  out.push_back(static_cast<char>(major));
  out.push_back(0);
  for (size_t i = 0; i < prefix - kMagicSize - 2; ++i) {
    out.push_back(static_cast<char>((header_len >> (8 * i)) & 0xFF));
  }
  out += dict;
  out.append(header_len - dict.size() - 1, ' ');
  out.push_back('\n');
  out.append(array.data.data(), array.data.size());
  return out;
}

NpyArray decode_npy(const char* data, size_t size, const std::string& file,
                    const std::string& key) {
  if (size < kMagicSize + 4) {
    fail(file, key, "truncated .npy member (" + std::to_string(size) + " bytes)");
  }
  if (std::memcmp(data, kMagic, kMagicSize) != 0) fail(file, key, "not a .npy member (bad magic)");
  const int major = static_cast<unsigned char>(data[6]);
  const int minor = static_cast<unsigned char>(data[7]);
  if ((major != 1 && major != 2 && major != 3) || minor != 0) {
    fail(file, key,
         "unsupported .npy format version " + std::to_string(major) + "." + std::to_string(minor) +
             " (supported: 1.0, 2.0, 3.0)");
  }
  const size_t prefix = major == 1 ? kMagicSize + 4 : kMagicSize + 6;
  if (size < prefix) fail(file, key, "truncated .npy member (" + std::to_string(size) + " bytes)");
  const uint64_t header_len = read_le(data + kMagicSize + 2, major == 1 ? 2 : 4);
  if (header_len > size - prefix) {
    fail(file, key,
         ".npy header length " + std::to_string(header_len) + " exceeds the member (" +
             std::to_string(size) + " bytes)");
  }
  const std::string header(data + prefix, static_cast<size_t>(header_len));

  std::string descr_text;
  bool fortran_order = false;
  NpyArray array;
  HeaderParser(header, file, key).parse(&descr_text, &fortran_order, &array.shape);
  const Descr descr = parse_descr(descr_text, file, key);
  array.dtype = descr.dtype;
  array.unicode_length = descr.unicode_length;

  int64_t numel = 0, element_size = 0, bytes = 0;
  if (!checked_sizes(array.dtype, array.shape, array.unicode_length, &numel, &element_size,
                     &bytes)) {
    fail(file, key,
         "shape " + shape_string(array.shape) + " of " + descr_text +
             " overflows the size of an array");
  }
  const size_t available = size - prefix - static_cast<size_t>(header_len);
  if (static_cast<uint64_t>(bytes) != available) {
    fail(file, key,
         "header declares " + descr_text + " with shape " + shape_string(array.shape) + " (" +
             std::to_string(bytes) + " bytes) but the member holds " + std::to_string(available) +
             " data bytes");
  }
  const char* payload = data + prefix + header_len;
  array.data.assign(payload, payload + available);

  if (descr.big_endian) {
    byte_swap(&array.data, array.dtype == DType::Complex128 ? 8
                           : array.dtype == DType::Unicode  ? 4
                                                            : static_cast<size_t>(element_size));
  }
  if (array.dtype == DType::Bool) {
    for (char& b : array.data) b = b != 0 ? 1 : 0;  // torch's bool is exactly 0 or 1
  }
  if (fortran_order && array.shape.size() > 1 && numel > 1) {
    array.data = fortran_to_c(array.data, array.shape, numel, element_size);
  }
  return array;
}

}  // namespace detail

}  // namespace bohmflow
