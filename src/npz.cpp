// NPZ I/O: the .npy format (NEP 1, numpy/lib/format.py) inside a zip archive.
//
//   .npy member = "\x93NUMPY" | major | minor | header_len (u16 LE for 1.0,
//                 u32 LE for 2.0 and 3.0) | header | data
//   header      = "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }"
//                 + spaces + '\n', so that the data starts at a multiple of 64
//   data        = numel · itemsize bytes, C order (or Fortran order on read)
//
// The zip container and deflate are libzip's; this file parses and writes the
// .npy members and guards every size against overflow and against the member
// it claims to describe.
#include "bohmflow/npz.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "bohmflow's NPZ I/O assumes a little-endian host"
#endif

namespace bohmflow {
namespace {

// ---- errors ------------------------------------------------------------------

std::string where(const std::string& file, const std::string& key) {
  std::string out = "npz file '" + file + "'";
  if (!key.empty()) out += ", key '" + key + "'";
  return out;
}

[[noreturn]] void fail(const std::string& file, const std::string& key, const std::string& what) {
  throw std::runtime_error(where(file, key) + ": " + what);
}

std::string errno_text(int error) { return std::strerror(error); }

bool mul_ok(int64_t a, int64_t b, int64_t* out) { return !__builtin_mul_overflow(a, b, out); }

// ---- dtypes ------------------------------------------------------------------

// One row per DType: its name, its little-endian .npy descr, its size (per
// character for unicode) and its tensor dtype (none for unicode).
struct DTypeInfo {
  DType dtype;
  const char* name;
  const char* descr;
  int64_t size;
  torch::ScalarType scalar_type;
};

const DTypeInfo kDTypes[] = {
    {DType::Float64, "float64", "<f8", 8, torch::kFloat64},
    {DType::Float32, "float32", "<f4", 4, torch::kFloat32},
    {DType::Complex128, "complex128", "<c16", 16, torch::kComplexDouble},
    {DType::Int64, "int64", "<i8", 8, torch::kInt64},
    {DType::Int32, "int32", "<i4", 4, torch::kInt32},
    {DType::Bool, "bool", "|b1", 1, torch::kBool},
    {DType::Unicode, "unicode", "<U", 4, torch::kByte},  // scalar_type unused
};

const DTypeInfo& info(DType dtype) {
  for (const auto& row : kDTypes) {
    if (row.dtype == dtype) return row;
  }
  throw std::logic_error("bohmflow::npz: unknown DType");
}

// ---- sizes -------------------------------------------------------------------

std::string shape_string(const std::vector<int64_t>& shape) {
  if (shape.empty()) return "()";
  std::string out = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(shape[i]);
  }
  return out + (shape.size() == 1 ? ",)" : ")");
}

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

torch::ScalarType scalar_type_of(DType dtype) {
  if (dtype == DType::Unicode) throw std::logic_error("scalar_type_of: unicode is not a tensor");
  return info(dtype).scalar_type;
}

bool dtype_of(torch::ScalarType type, DType* out) {
  for (const auto& row : kDTypes) {
    if (row.dtype != DType::Unicode && row.scalar_type == type) {
      *out = row.dtype;
      return true;
    }
  }
  return false;
}

std::string scalar_type_name(torch::ScalarType type) {
  DType dtype;
  if (dtype_of(type, &dtype)) return dtype_name(dtype);
  return c10::toString(type);
}

// Lossless conversions that typed access performs (see npz.hpp).
bool converts_losslessly(DType from, DType to) {
  if (from == to) return true;
  switch (from) {
    case DType::Float32:
      return to == DType::Float64 || to == DType::Complex128;
    case DType::Float64:
      return to == DType::Complex128;
    case DType::Int32:
      return to == DType::Int64 || to == DType::Float64;
    default:
      return false;
  }
}

std::string describe(const NpyArray& array) {
  std::string name = array.dtype == DType::Unicode ? descr_of(array) : dtype_name(array.dtype);
  return name + " with shape " + shape_string(array.shape);
}

// ---- .npy header parsing -------------------------------------------------------

struct Descr {
  DType dtype = DType::Float64;
  int64_t unicode_length = 0;
  bool big_endian = false;
};

Descr parse_descr(const std::string& text, const std::string& file, const std::string& key) {
  auto unsupported = [&](const std::string& why) -> Descr {
    fail(file, key,
         "unsupported dtype descr '" + text + "'" + why +
             " (supported: <f8 <f4 <c16 <i8 <i4 |b1 <U…, also big-endian)");
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
  if (order == '|' && out.dtype != DType::Bool) {
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

// ---- files ---------------------------------------------------------------------

struct FdCloser {
  int fd = -1;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

std::string read_whole_file(const std::string& path) {
  FdCloser file;
  do {
    file.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (file.fd < 0 && errno == EINTR);
  if (file.fd < 0) fail(path, "", "cannot open: " + errno_text(errno));
  struct stat info {};
  if (::fstat(file.fd, &info) != 0) fail(path, "", "cannot stat: " + errno_text(errno));
  if (!S_ISREG(info.st_mode)) fail(path, "", "not a regular file");
  std::string bytes(static_cast<size_t>(info.st_size), '\0');
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t got = ::read(file.fd, &bytes[done], bytes.size() - done);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) fail(path, "", "read error: " + errno_text(errno));
    if (got == 0) fail(path, "", "file shrank while being read");
    done += static_cast<size_t>(got);
  }
  return bytes;
}

// ---- libzip handles --------------------------------------------------------------

struct ZipArchive {
  zip_t* archive = nullptr;
  ~ZipArchive() {
    if (archive) zip_discard(archive);
  }
};

struct ZipFile {
  zip_file_t* file = nullptr;
  ~ZipFile() {
    if (file) zip_fclose(file);
  }
};

struct ZipSource {
  zip_source_t* source = nullptr;
  ~ZipSource() {
    if (source) zip_source_free(source);
  }
};

std::string zip_error_text(zip_error_t* error) {
  std::string text = zip_error_strerror(error);
  zip_error_fini(error);
  return text;
}

// One member's uncompressed bytes; never allocates more than the archive
// could hold and checks the CRC (libzip verifies it when EOF is reached).
std::string read_member(zip_t* archive, zip_uint64_t index, const zip_stat_t& stat,
                        size_t archive_size, const std::string& file, const std::string& key) {
  if (!(stat.valid & ZIP_STAT_SIZE)) fail(file, key, "zip entry without an uncompressed size");
  // Deflate expands at most ~1032:1; stored members cannot exceed the archive.
  const uint64_t limit = (stat.valid & ZIP_STAT_COMP_METHOD) && stat.comp_method == ZIP_CM_STORE
                             ? archive_size
                             : static_cast<uint64_t>(archive_size) * 1032u + 4096u;
  if (stat.size > limit) {
    fail(file, key,
         "zip entry claims " + std::to_string(stat.size) + " bytes, more than an archive of " +
             std::to_string(archive_size) + " bytes can hold");
  }
  ZipFile member;
  member.file = zip_fopen_index(archive, index, 0);
  if (!member.file) fail(file, key, std::string("cannot open zip entry: ") + zip_strerror(archive));
  // Grow with the data actually inflated, so a size claim alone allocates
  // at most one chunk beyond what the member really holds.
  constexpr uint64_t kChunk = uint64_t{1} << 24;
  const uint64_t size = stat.size;
  std::string bytes;
  bytes.reserve(static_cast<size_t>(std::min(size, kChunk)));
  uint64_t done = 0;
  while (done < size) {
    const uint64_t want = std::min(size - done, kChunk);
    bytes.resize(static_cast<size_t>(done + want));
    const zip_int64_t got = zip_fread(member.file, &bytes[static_cast<size_t>(done)], want);
    if (got < 0) {
      fail(file, key, std::string("corrupt zip entry: ") + zip_file_strerror(member.file));
    }
    if (got == 0) {
      fail(file, key,
           "zip entry is truncated: " + std::to_string(done) + " of " + std::to_string(size) +
               " bytes");
    }
    done += static_cast<uint64_t>(got);
  }
  bytes.resize(static_cast<size_t>(done));
  char extra = 0;
  const zip_int64_t more = zip_fread(member.file, &extra, 1);
  if (more < 0) {
    fail(file, key, std::string("corrupt zip entry: ") + zip_file_strerror(member.file));
  }
  if (more > 0) fail(file, key, "zip entry is longer than its declared size");
  return bytes;
}

// Element i of a validated array (data.size() == numel · sizeof(T)).
template <typename T>
T element(const NpyArray& array, int64_t i) {
  T value;
  std::memcpy(&value, array.data.data() + i * static_cast<int64_t>(sizeof(T)), sizeof(T));
  return value;
}

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

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// An archive without members: the end-of-central-directory record alone.
const std::string kEmptyZip("PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 22);

}  // namespace

// ---- DType / NpyArray ------------------------------------------------------------

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

NpyArray NpyArray::from_tensor(const torch::Tensor& tensor) {
  if (!tensor.defined()) throw std::invalid_argument("NpyArray::from_tensor: undefined tensor");
  NpyArray array;
  if (!dtype_of(tensor.scalar_type(), &array.dtype)) {
    throw std::invalid_argument("NpyArray::from_tensor: unsupported dtype " +
                                scalar_type_name(tensor.scalar_type()) +
                                " (supported: float64, float32, complex128, int64, int32, bool)");
  }
  // resolve_conj/resolve_neg: lazily conjugated or negated views carry a bit
  // that contiguous() keeps, so their raw bytes are not their values.
  const torch::Tensor cpu =
      tensor.detach().to(torch::kCPU).resolve_conj().resolve_neg().contiguous();
  array.shape.assign(cpu.sizes().begin(), cpu.sizes().end());
  const size_t bytes = static_cast<size_t>(cpu.numel()) * cpu.element_size();
  array.data.resize(bytes);
  if (bytes > 0) std::memcpy(array.data.data(), cpu.data_ptr(), bytes);
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

void write_zip(const std::string& path,
               const std::vector<std::pair<std::string, std::string>>& members, bool compress) {
  if (members.empty()) {
    write_file_atomically(path, kEmptyZip);
    return;
  }
  zip_error_t error;
  zip_error_init(&error);
  ZipSource buffer;
  buffer.source = zip_source_buffer_create(nullptr, 0, 0, &error);
  if (!buffer.source) fail(path, "", "cannot create a zip buffer: " + zip_error_text(&error));
  zip_t* archive = zip_open_from_source(buffer.source, ZIP_TRUNCATE, &error);
  if (!archive) fail(path, "", "cannot create a zip archive: " + zip_error_text(&error));
  ZipArchive guard;
  guard.archive = archive;
  zip_source_keep(buffer.source);  // outlives zip_close, which writes into it

  for (const auto& [name, bytes] : members) {
    zip_source_t* source = zip_source_buffer(archive, bytes.data(), bytes.size(), 0);
    if (!source) fail(path, name, std::string("zip_source_buffer: ") + zip_strerror(archive));
    const zip_int64_t index = zip_file_add(archive, name.c_str(), source, ZIP_FL_ENC_UTF_8);
    if (index < 0) {
      zip_source_free(source);
      fail(path, name, std::string("cannot add zip entry: ") + zip_strerror(archive));
    }
    if (zip_set_file_compression(archive, static_cast<zip_uint64_t>(index),
                                 compress ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0) != 0) {
      fail(path, name, std::string("cannot set compression: ") + zip_strerror(archive));
    }
  }
  if (zip_close(archive) != 0) {
    fail(path, "", std::string("cannot write the zip archive: ") + zip_strerror(archive));
  }
  guard.archive = nullptr;  // closed

  if (zip_source_open(buffer.source) != 0) {
    fail(path, "",
         std::string("cannot read the zip buffer: ") +
             zip_error_strerror(zip_source_error(buffer.source)));
  }
  std::string bytes;
  char chunk[1 << 16];
  for (;;) {
    const zip_int64_t got = zip_source_read(buffer.source, chunk, sizeof chunk);
    if (got < 0) {
      const std::string text = zip_error_strerror(zip_source_error(buffer.source));
      zip_source_close(buffer.source);
      fail(path, "", "cannot read the zip buffer: " + text);
    }
    if (got == 0) break;
    bytes.append(chunk, static_cast<size_t>(got));
  }
  zip_source_close(buffer.source);
  write_file_atomically(path, bytes);
}

}  // namespace detail

// ---- Npz ----------------------------------------------------------------------------

Npz Npz::load(const std::string& path) {
  const std::string bytes = read_whole_file(path);
  Npz npz;
  npz.source_ = path;
  // libzip would open an empty file as an empty archive; numpy.load refuses it.
  if (bytes.empty()) fail(path, "", "empty file, not a zip archive");
  if (bytes == kEmptyZip) return npz;  // what np.savez() with no arrays writes

  zip_error_t error;
  zip_error_init(&error);
  ZipSource source;
  source.source = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  if (!source.source) fail(path, "", "cannot read: " + zip_error_text(&error));
  ZipArchive archive;
  archive.archive = zip_open_from_source(source.source, ZIP_RDONLY | ZIP_CHECKCONS, &error);
  if (!archive.archive) fail(path, "", "not a readable zip archive: " + zip_error_text(&error));
  source.source = nullptr;  // owned by the archive now

  const zip_int64_t count = zip_get_num_entries(archive.archive, 0);
  if (count < 0) fail(path, "", "cannot list the zip archive");
  for (zip_int64_t i = 0; i < count; ++i) {
    const auto index = static_cast<zip_uint64_t>(i);
    zip_stat_t stat;
    zip_stat_init(&stat);
    if (zip_stat_index(archive.archive, index, 0, &stat) != 0 || !(stat.valid & ZIP_STAT_NAME)) {
      fail(path, "",
           "cannot read zip entry " + std::to_string(i) + ": " + zip_strerror(archive.archive));
    }
    const std::string name = stat.name;
    if (!ends_with(name, ".npy")) continue;  // directories and non-array members
    const std::string key = name.substr(0, name.size() - 4);
    if (key.empty()) fail(path, "", "zip entry '.npy' has an empty key");
    if (npz.contains(key)) fail(path, key, "duplicate key in the archive");
    const std::string member = read_member(archive.archive, index, stat, bytes.size(), path, key);
    npz.order_.push_back(key);
    npz.arrays_.emplace(key, detail::decode_npy(member.data(), member.size(), path, key));
  }
  return npz;
}

void Npz::save(const std::string& path, bool compress) const {
  std::vector<std::pair<std::string, std::string>> members;
  members.reserve(order_.size());
  for (const auto& key : order_) {
    members.emplace_back(key + ".npy",
                         naming(path, key, [&] { return detail::encode_npy(arrays_.at(key)); }));
  }
  detail::write_zip(path, members, compress);
}

void Npz::set(const std::string& key, NpyArray array) {
  validate_key(key, where(source_, ""));
  validate_array(array, where(source_, key));
  auto it = arrays_.find(key);
  if (it != arrays_.end()) {
    it->second = std::move(array);
    return;
  }
  order_.push_back(key);
  arrays_.emplace(key, std::move(array));
}

void Npz::set(const std::string& key, const torch::Tensor& tensor) {
  validate_key(key, where(source_, ""));
  set(key, naming(source_, key, [&] { return NpyArray::from_tensor(tensor); }));
}

void Npz::set(const std::string& key, double value) { set(key, NpyArray::scalar(value)); }

void Npz::set(const std::string& key, int64_t value) { set(key, NpyArray::scalar_int(value)); }

void Npz::set(const std::string& key, bool value) { set(key, NpyArray::scalar_bool(value)); }

void Npz::set(const std::string& key, const std::string& value) {
  set(key, naming(source_, key, [&] { return NpyArray::string(value); }));
}

bool Npz::contains(const std::string& key) const { return arrays_.count(key) > 0; }

std::vector<std::string> Npz::keys() const { return order_; }

const NpyArray& Npz::at(const std::string& key) const {
  const auto it = arrays_.find(key);
  if (it == arrays_.end()) {
    std::string known;
    for (size_t i = 0; i < order_.size() && i < 20; ++i) {
      known += (i > 0 ? ", " : "") + order_[i];
    }
    if (order_.size() > 20) known += ", ...";
    fail(source_, key, "no such key (keys: " + (known.empty() ? "none" : known) + ")");
  }
  return it->second;
}

torch::Tensor Npz::tensor(const std::string& key) const {
  const NpyArray& array = at(key);
  if (array.dtype == DType::Unicode) {
    fail(source_, key,
         "holds a unicode string (" + descr_of(array) +
             "), not a numeric array; use string() or strings()");
  }
  torch::Tensor out =
      torch::empty(array.shape, torch::TensorOptions().dtype(scalar_type_of(array.dtype)));
  if (!array.data.empty()) std::memcpy(out.data_ptr(), array.data.data(), array.data.size());
  return out;
}

torch::Tensor Npz::tensor(const std::string& key, torch::ScalarType dtype,
                          const std::vector<int64_t>& expected_shape) const {
  DType wanted;
  if (!dtype_of(dtype, &wanted)) {
    throw std::invalid_argument(where(source_, key) + ": unsupported requested dtype " +
                                scalar_type_name(dtype));
  }
  const NpyArray& array = at(key);
  bool shape_ok = expected_shape.empty();
  if (!shape_ok && expected_shape.size() == array.shape.size()) {
    shape_ok = true;
    for (size_t i = 0; i < expected_shape.size(); ++i) {
      if (expected_shape[i] != -1 && expected_shape[i] != array.shape[i]) shape_ok = false;
    }
  }
  if (!shape_ok || !converts_losslessly(array.dtype, wanted)) {
    fail(source_, key,
         "expected " + dtype_name(wanted) + " with shape " +
             (expected_shape.empty() ? "(any)" : shape_string(expected_shape)) + ", got " +
             describe(array));
  }
  torch::Tensor native = tensor(key);
  return array.dtype == wanted ? native : native.to(dtype);
}

std::vector<double> Npz::doubles(const std::string& key) const {
  const NpyArray& array = at(key);
  const int64_t n = array.numel();
  std::vector<double> out(static_cast<size_t>(n));
  switch (array.dtype) {
    case DType::Float64:
      if (n > 0) std::memcpy(out.data(), array.data.data(), array.data.size());
      return out;
    case DType::Float32:
      for (int64_t i = 0; i < n; ++i) out[i] = element<float>(array, i);
      return out;
    case DType::Int32:
      for (int64_t i = 0; i < n; ++i) out[i] = element<int32_t>(array, i);
      return out;
    case DType::Int64:
      for (int64_t i = 0; i < n; ++i) {
        const int64_t v = element<int64_t>(array, i);
        constexpr int64_t exact = int64_t{1} << 53;
        if (v > exact || v < -exact) {
          fail(source_, key,
               "int64 value " + std::to_string(v) + " at index " + std::to_string(i) +
                   " is not exactly representable as a double");
        }
        out[i] = static_cast<double>(v);
      }
      return out;
    default:
      fail(
          source_, key,
          "expected a real numeric array (float64, float32, int64, int32), got " + describe(array));
  }
}

double Npz::scalar_double(const std::string& key) const {
  const NpyArray& array = at(key);
  if (array.numel() != 1) {
    fail(source_, key, "expected a single number, got " + describe(array));
  }
  return doubles(key)[0];
}

int64_t Npz::scalar_int(const std::string& key) const {
  const NpyArray& array = at(key);
  if (array.numel() != 1) fail(source_, key, "expected a single integer, got " + describe(array));
  switch (array.dtype) {
    case DType::Int64:
      return element<int64_t>(array, 0);
    case DType::Int32:
      return element<int32_t>(array, 0);
    case DType::Float64:
    case DType::Float32: {
      const double v = doubles(key)[0];
      // [-2^63, 2^63): the doubles that convert to int64 without overflow.
      if (!std::isfinite(v) || v != std::floor(v) || v < -9223372036854775808.0 ||
          v >= 9223372036854775808.0) {
        fail(source_, key,
             "expected an integer, got the " + dtype_name(array.dtype) + " value " +
                 std::to_string(v));
      }
      return static_cast<int64_t>(v);
    }
    default:
      fail(source_, key, "expected a single integer, got " + describe(array));
  }
}

bool Npz::scalar_bool(const std::string& key) const {
  const NpyArray& array = at(key);
  if (array.dtype != DType::Bool || array.numel() != 1) {
    fail(source_, key, "expected a single bool, got " + describe(array));
  }
  return array.data[0] != 0;
}

std::vector<std::string> Npz::strings(const std::string& key) const {
  const NpyArray& array = at(key);
  if (array.dtype != DType::Unicode) {
    fail(source_, key, "expected a unicode string (<U…), got " + describe(array));
  }
  const int64_t n = array.numel();
  const int64_t length = array.unicode_length;
  std::vector<std::string> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    std::vector<uint32_t> code_points(static_cast<size_t>(length));
    std::memcpy(code_points.data(), array.data.data() + i * length * 4,
                static_cast<size_t>(length) * 4);
    while (!code_points.empty() && code_points.back() == 0)
      code_points.pop_back();  // numpy pads with NUL
    for (const uint32_t cp : code_points) {
      if (!append_utf8(cp, &out[i])) {
        fail(
            source_, key,
            "element " + std::to_string(i) + " holds the invalid code point " + std::to_string(cp));
      }
    }
  }
  return out;
}

std::string Npz::string(const std::string& key) const {
  const NpyArray& array = at(key);
  if (array.dtype != DType::Unicode || array.numel() != 1) {
    fail(source_, key, "expected a single unicode string (<U…), got " + describe(array));
  }
  return strings(key)[0];
}

// ---- atomic write -------------------------------------------------------------------

void write_file_atomically(const std::string& path, const std::string& bytes) {
  const auto error = [&](const std::string& what) {
    throw std::runtime_error("cannot write '" + path + "': " + what);
  };
  const size_t slash = path.rfind('/');
  const std::string dir =
      slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  if (base.empty() || base == "." || base == "..") error("the path names a directory");
  const std::string prefix = slash == std::string::npos ? "" : path.substr(0, slash + 1);

  static std::atomic<unsigned> counter{0};
  std::string temporary;
  FdCloser file;
  for (int attempt = 0; attempt < 100 && file.fd < 0; ++attempt) {
    temporary = prefix + "." + base + ".tmp-" + std::to_string(::getpid()) + "-" +
                std::to_string(counter.fetch_add(1));
    do {
      file.fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    } while (file.fd < 0 && errno == EINTR);
    if (file.fd < 0 && errno != EEXIST) {
      error("cannot create a temporary file in '" + dir + "': " + errno_text(errno));
    }
  }
  if (file.fd < 0) error("cannot find a free temporary file name in '" + dir + "'");

  const auto abandon = [&](const std::string& what) {
    const int saved = errno;
    if (file.fd >= 0) ::close(file.fd);
    file.fd = -1;
    ::unlink(temporary.c_str());
    error(what + ": " + errno_text(saved));
  };
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t wrote = ::write(file.fd, bytes.data() + done, bytes.size() - done);
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote < 0) abandon("write to '" + temporary + "' failed");
    done += static_cast<size_t>(wrote);
  }
  if (::fsync(file.fd) != 0) abandon("fsync of '" + temporary + "' failed");
  const int fd = file.fd;
  file.fd = -1;
  if (::close(fd) != 0) abandon("close of '" + temporary + "' failed");
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    abandon("rename of '" + temporary + "' failed");
  }
  // Make the rename itself durable; a failure here leaves a complete file.
  FdCloser folder;
  folder.fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (folder.fd >= 0) ::fsync(folder.fd);
}

}  // namespace bohmflow
