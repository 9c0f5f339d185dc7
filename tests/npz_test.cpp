// Tests for the NPZ I/O (src/npz.cpp, npz_tensor.cpp, npy_format.cpp,
// zip_archive.cpp, atomic_file.cpp): round trips, interop with numpy itself,
// corrupt inputs and atomic writes. Values are compared bit for bit
// (tolerance 0): NPZ I/O copies bytes, so any difference at all is a bug.
#include "bohmflow/npz.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <map>
#include <random>
#include <sstream>

#include "../src/npy_format.hpp"
#include "../src/zip_archive.hpp"

namespace bohmflow {
namespace {

namespace fs = std::filesystem;

const char kPython[] = "/usr/bin/python3";

// A fresh, empty folder for one test.
fs::path scratch(const std::string& name) {
  const fs::path dir = fs::path(BOHMFLOW_BINARY_DIR) / "npz_test_scratch" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::vector<std::string> listing(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

// Runs `f`, expects an exception of type E and returns its message.
template <typename E, typename F>
std::string thrown_message(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type, message: " << e.what();
    return e.what();
  }
  ADD_FAILURE() << "expected an exception";
  return "";
}

void expect_mentions(const std::string& message, std::initializer_list<std::string> parts) {
  for (const auto& part : parts) {
    EXPECT_NE(message.find(part), std::string::npos)
        << "message lacks \"" << part << "\": " << message;
  }
}

// Same dtype, same shape, same bytes.
void expect_identical(const torch::Tensor& expected, const torch::Tensor& actual,
                      const std::string& what) {
  ASSERT_EQ(expected.scalar_type(), actual.scalar_type()) << what;
  ASSERT_EQ(expected.sizes(), actual.sizes()) << what;
  EXPECT_FALSE(actual.is_cuda()) << what;
  const auto a = expected.contiguous();
  const auto b = actual.contiguous();
  const size_t bytes = static_cast<size_t>(a.numel()) * a.element_size();
  if (bytes > 0) EXPECT_EQ(std::memcmp(a.data_ptr(), b.data_ptr(), bytes), 0) << what;
}

template <typename T>
torch::Tensor tensor_of(std::vector<T> values, std::vector<int64_t> shape, torch::ScalarType type) {
  return torch::from_blob(values.data(), shape, torch::TensorOptions().dtype(type)).clone();
}

template <typename T>
std::string bytes_of(const std::vector<T>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}

// Element bytes reversed in units of `unit`: what a '>' descr stores.
std::string big_endian(std::string bytes, size_t unit) {
  for (size_t i = 0; i + unit <= bytes.size(); i += unit) {
    std::reverse(bytes.begin() + i, bytes.begin() + i + unit);
  }
  return bytes;
}

// A .npy member with a hand-written header (no alignment padding needed).
std::string raw_npy(const std::string& dict, const std::string& data, int major = 1) {
  std::string out("\x93NUMPY", 6);
  out.push_back(static_cast<char>(major));
  out.push_back(0);
  const std::string header = dict + "\n";
  const int length_bytes = major == 1 ? 2 : 4;
  for (int i = 0; i < length_bytes; ++i) {
    out.push_back(static_cast<char>((header.size() >> (8 * i)) & 0xFF));
  }
  return out + header + data;
}

// Saves arange(n) as `key` in a one-member archive and returns its bytes.
std::string arange_archive(const fs::path& path, const std::string& key, int64_t n, bool compress) {
  Npz out;
  out.set(key, torch::arange(n, torch::TensorOptions().dtype(torch::kFloat64)));
  out.save(path, compress);
  return read_bytes(path);
}

// An unsigned little-endian field of `width` bytes in a zip header.
size_t little_endian(const std::string& bytes, size_t at, int width) {
  size_t value = 0;
  for (int i = width - 1; i >= 0; --i)
    value = (value << 8) | static_cast<unsigned char>(bytes[at + i]);
  return value;
}

// Writes `bytes` to `path` and expects Npz::load to throw a message that
// names the path and every one of `parts`.
void expect_load_fails(const fs::path& path, const std::string& bytes,
                       std::initializer_list<std::string> parts = {}) {
  write_bytes(path, bytes);
  const std::string message = thrown_message<std::runtime_error>([&] { Npz::load(path); });
  expect_mentions(message, {path.string()});
  expect_mentions(message, parts);
}

// Random values of `type`, covering the full range of each dtype's bytes.
torch::Tensor sample(torch::ScalarType type, const std::vector<int64_t>& shape) {
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  const auto base = 100.0 * torch::randn(shape, f64);
  switch (type) {
    case torch::kBool:
      return base > 0;
    case torch::kInt64:
      return (base * 1e15).to(torch::kInt64);
    case torch::kInt32:
      return (base * 1e6).to(torch::kInt32);
    case torch::kComplexDouble:
      return torch::complex(base, torch::randn(shape, f64));
    default:
      return base.to(type);
  }
}

bool have_numpy() {
  if (!fs::exists(kPython)) return false;
  return std::system((std::string(kPython) + " -c 'import numpy' >/dev/null 2>&1").c_str()) == 0;
}

// Runs `script` with /usr/bin/python3, argv[1] = dir; returns the exit code
// and appends the output to *log.
int run_python(const fs::path& dir, const std::string& script, std::string* log) {
  const fs::path file = dir / "check.py";
  const fs::path output = dir / "check.log";
  write_bytes(file, script);
  const std::string command = std::string(kPython) + " '" + file.string() + "' '" + dir.string() +
                              "' >'" + output.string() + "' 2>&1";
  const int status = std::system(command.c_str());
  *log = read_bytes(output);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

const std::vector<torch::ScalarType> kTypes = {torch::kFloat64,       torch::kFloat32,
                                               torch::kComplexDouble, torch::kInt64,
                                               torch::kInt32,         torch::kBool};
const std::vector<std::vector<int64_t>> kShapes = {{}, {5}, {2, 3, 4}, {0}, {3, 0, 2}};

// ---- round trips -----------------------------------------------------------------

TEST(Npz, RoundTripsEveryDtypeAndShape) {
  const fs::path dir = scratch("round_trip");
  torch::manual_seed(3);
  for (const bool compress : {false, true}) {
    Npz out;
    std::vector<std::string> keys;
    std::map<std::string, torch::Tensor> expected;
    for (const auto type : kTypes) {
      for (size_t s = 0; s < kShapes.size(); ++s) {
        // '/' in keys is legal in numpy and exercised here.
        const std::string key = std::string(c10::toString(type)) + "/shape" + std::to_string(s);
        expected[key] = sample(type, kShapes[s]);
        out.set(key, expected[key]);
        keys.push_back(key);
      }
    }
    const fs::path path = dir / (compress ? "compressed.npz" : "plain.npz");
    out.save(path, compress);
    const Npz in = Npz::load(path);
    EXPECT_EQ(in.source(), path.string());
    EXPECT_EQ(in.keys(), keys);
    for (const auto& key : keys) expect_identical(expected[key], in.tensor(key), key);
  }
}

TEST(Npz, PreservesFloatBitPatterns) {
  const fs::path dir = scratch("bit_patterns");
  const std::vector<double> specials = {0.0,      -0.0,      5e-324, -1e-310, 1e308,
                                        INFINITY, -INFINITY, NAN,    M_PI};
  Npz out;
  out.set("x", tensor_of(specials, {3, 3}, torch::kFloat64));
  out.set("y", tensor_of(std::vector<float>{-0.0f, 1e-45f, NAN, INFINITY}, {4}, torch::kFloat32));
  out.save(dir / "specials.npz");
  const Npz in = Npz::load(dir / "specials.npz");
  expect_identical(tensor_of(specials, {3, 3}, torch::kFloat64), in.tensor("x"), "x");
  expect_identical(
      tensor_of(std::vector<float>{-0.0f, 1e-45f, NAN, INFINITY}, {4}, torch::kFloat32),
      in.tensor("y"), "y");
}

TEST(Npz, RoundTripsScalarsAndStrings) {
  const fs::path dir = scratch("scalars");
  const std::string label = "Morse chain ψ₀ → ∞ 🚀";
  Npz out;
  out.set("dt", 0.125);
  out.set("steps", 1000);
  out.set("big", int64_t{-(int64_t{1} << 62)});
  out.set("flag", true);
  out.set("label", label);
  out.set("empty_label", "");
  out.set("raw", NpyArray::from_doubles({1, 2, 3, 4, 5, 6}, {2, 3}));
  out.set("z", NpyArray::from_complex({{1, -1}, {0.5, 2}}, {2}));
  out.set("ints", NpyArray::from_int64s({7, -8}, {1, 2}));
  out.save(dir / "scalars.npz", true);

  const Npz in = Npz::load(dir / "scalars.npz");
  EXPECT_EQ(in.scalar_double("dt"), 0.125);
  EXPECT_EQ(in.scalar_int("steps"), 1000);
  EXPECT_EQ(in.at("steps").dtype, DType::Int64);
  EXPECT_TRUE(in.at("steps").shape.empty());
  EXPECT_EQ(in.scalar_int("big"), -(int64_t{1} << 62));
  EXPECT_TRUE(in.scalar_bool("flag"));
  EXPECT_EQ(in.string("label"), label);
  EXPECT_EQ(in.at("label").unicode_length, 20);  // code points, not UTF-8 bytes
  EXPECT_EQ(in.string("empty_label"), "");
  EXPECT_EQ(in.at("empty_label").unicode_length, 1);  // numpy's '<U1' for ''
  EXPECT_EQ(in.doubles("raw"), (std::vector<double>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(in.at("raw").shape, (std::vector<int64_t>{2, 3}));
  expect_identical(tensor_of(std::vector<double>{1, -1, 0.5, 2}, {2, 2}, torch::kFloat64),
                   torch::view_as_real(in.tensor("z")), "z");
  EXPECT_EQ(in.doubles("ints"), (std::vector<double>{7, -8}));
  EXPECT_EQ(in.scalar_double("steps"), 1000.0);
}

TEST(Npz, ReplacingAKeyKeepsItsPlace) {
  Npz npz;
  npz.set("a", 1.0);
  npz.set("b", 2.0);
  npz.set("a", 3.0);
  EXPECT_EQ(npz.keys(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(npz.scalar_double("a"), 3.0);
  EXPECT_EQ(npz.size(), 2u);
}

TEST(Npz, EmptyArchiveRoundTrips) {
  const fs::path dir = scratch("empty_archive");
  Npz().save(dir / "empty.npz");
  EXPECT_EQ(Npz::load(dir / "empty.npz").size(), 0u);
  Npz().save(dir / "empty_compressed.npz", true);
  EXPECT_EQ(Npz::load(dir / "empty_compressed.npz").size(), 0u);
}

TEST(Npz, SetCopiesStridedConjugatedAndGradTensors) {
  const fs::path dir = scratch("strided");
  const auto grid =
      torch::arange(12, torch::TensorOptions().dtype(torch::kFloat64)).reshape({3, 4});
  const auto transposed = grid.t();             // (4, 3), not contiguous
  const auto stepped = grid.slice(1, 0, 4, 2);  // (3, 2), strided
  const auto z = torch::complex(grid, -2.0 * grid);
  const auto conjugated = z.conj();  // lazy conjugate view in LibTorch ≥ 1.10
  const auto leaf = grid.clone().requires_grad_(true);
  Npz out;
  out.set("transposed", transposed);
  out.set("stepped", stepped);
  out.set("conjugated", conjugated);
  out.set("leaf", leaf);
  if (torch::cuda::is_available()) out.set("cuda", grid.to(torch::kCUDA));
  out.save(dir / "views.npz");
  const Npz in = Npz::load(dir / "views.npz");
  expect_identical(transposed.contiguous(), in.tensor("transposed"), "transposed");
  expect_identical(stepped.contiguous(), in.tensor("stepped"), "stepped");
  expect_identical(torch::complex(grid, 2.0 * grid), in.tensor("conjugated"), "conjugated");
  expect_identical(grid, in.tensor("leaf"), "leaf");
  if (torch::cuda::is_available()) expect_identical(grid, in.tensor("cuda"), "cuda");
}

// ---- .npy format details -------------------------------------------------------

TEST(Npz, HeadersAreAlignedVersionOneDicts) {
  const std::string npy = detail::encode_npy(NpyArray::from_doubles({1, 2, 3}, {3}));
  ASSERT_GE(npy.size(), 10u);
  EXPECT_EQ(npy.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  const size_t header_len = little_endian(npy, 8, 2);
  EXPECT_EQ((10 + header_len) % 64, 0u);
  EXPECT_EQ(npy.size(), 10 + header_len + 24);
  const std::string header = npy.substr(10, header_len);
  EXPECT_EQ(header.rfind("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", 0), 0u)
      << header;
  EXPECT_EQ(header.back(), '\n');
  const std::string scalar = detail::encode_npy(NpyArray::scalar_bool(true));
  EXPECT_NE(scalar.find("{'descr': '|b1', 'fortran_order': False, 'shape': (), }"),
            std::string::npos);
}

TEST(Npz, LongHeadersUseVersionTwoAndVersionThreeReads) {
  // 25000 dimensions of size 1 make a header of ~75 kB > 65535 bytes.
  NpyArray many;
  many.dtype = DType::Float64;
  many.shape.assign(25000, 1);
  many.data.resize(8);
  const double value = -7.5;
  std::memcpy(many.data.data(), &value, 8);
  std::string npy = detail::encode_npy(many);
  ASSERT_GE(npy.size(), 12u);
  EXPECT_EQ(npy[6], 2);
  const size_t header_len = little_endian(npy, 8, 4);
  EXPECT_GT(header_len, 65535u);
  EXPECT_EQ((12 + header_len) % 64, 0u);
  for (const int version : {2, 3}) {
    npy[6] = static_cast<char>(version);  // 3.0 differs from 2.0 only in header encoding
    const NpyArray back = detail::decode_npy(npy.data(), npy.size(), "mem", "many");
    EXPECT_EQ(back.shape, many.shape);
    EXPECT_EQ(back.data, many.data);
  }
  const fs::path dir = scratch("long_header");
  Npz out;
  out.set("many", many);
  out.save(dir / "many.npz");
  EXPECT_EQ(Npz::load(dir / "many.npz").at("many").shape.size(), 25000u);
}

TEST(Npz, FortranOrderIsTransposedToCOrder) {
  const fs::path dir = scratch("fortran");
  // C-order value at (i, j, k) of arange(24).reshape(2, 3, 4) is 12i + 4j + k;
  // Fortran order stores i fastest.
  std::vector<int64_t> fortran;
  for (int k = 0; k < 4; ++k)
    for (int j = 0; j < 3; ++j)
      for (int i = 0; i < 2; ++i) fortran.push_back(12 * i + 4 * j + k);
  detail::write_zip(
      (dir / "f.npz").string(),
      {{"f.npy", raw_npy("{'descr': '<i8', 'fortran_order': True, 'shape': (2, 3, 4), }",
                         bytes_of(fortran))},
       {"column.npy", raw_npy("{'descr': '<f8', 'fortran_order': True, 'shape': (3,), }",
                              bytes_of(std::vector<double>{1, 2, 3}))}},
      false);
  const Npz in = Npz::load(dir / "f.npz");
  expect_identical(
      torch::arange(24, torch::TensorOptions().dtype(torch::kInt64)).reshape({2, 3, 4}),
      in.tensor("f"), "f");
  EXPECT_EQ(in.doubles("column"), (std::vector<double>{1, 2, 3}));
}

TEST(Npz, BigEndianDataIsByteSwapped) {
  const fs::path dir = scratch("big_endian");
  const std::vector<double> f8 = {1.5, -2.0, M_PI};
  const std::vector<int32_t> i4 = {1, -2, 1 << 30};
  const std::vector<double> c16 = {1.0, -1.0, 0.25, 8.0};  // (1 - i), (0.25 + 8i)
  const std::vector<uint32_t> u3 = {'a', 0x3C8, 0};        // "aψ" padded to 3
  detail::write_zip(
      (dir / "be.npz").string(),
      {{"f8.npy", raw_npy("{'descr': '>f8', 'fortran_order': False, 'shape': (3,), }",
                          big_endian(bytes_of(f8), 8))},
       {"i4.npy", raw_npy("{'descr': '>i4', 'fortran_order': False, 'shape': (3,), }",
                          big_endian(bytes_of(i4), 4))},
       {"c16.npy", raw_npy("{'descr': '>c16', 'fortran_order': False, 'shape': (2,), }",
                           big_endian(bytes_of(c16), 8))},
       {"u3.npy", raw_npy("{'descr': '>U3', 'fortran_order': False, 'shape': (), }",
                          big_endian(bytes_of(u3), 4))},
       {"b.npy", raw_npy("{'descr': '>b1', 'fortran_order': False, 'shape': (2,), }",
                         std::string("\x01\x00", 2))}},
      true);
  const Npz in = Npz::load(dir / "be.npz");
  EXPECT_EQ(in.doubles("f8"), f8);
  expect_identical(tensor_of(i4, {3}, torch::kInt32), in.tensor("i4"), "i4");
  expect_identical(tensor_of(c16, {2, 2}, torch::kFloat64), torch::view_as_real(in.tensor("c16")),
                   "c16");
  EXPECT_EQ(in.string("u3"), "aψ");
  expect_identical(tensor_of(std::vector<uint8_t>{1, 0}, {2}, torch::kUInt8).to(torch::kBool),
                   in.tensor("b"), "b");
}

TEST(Npz, SkipsMembersThatAreNotArrays) {
  const fs::path dir = scratch("non_npy");
  detail::write_zip((dir / "mixed.npz").string(),
                    {{"README.txt", "hello"}, {"a.npy", detail::encode_npy(NpyArray::scalar(2.5))}},
                    false);
  const Npz in = Npz::load(dir / "mixed.npz");
  EXPECT_EQ(in.keys(), std::vector<std::string>{"a"});
  EXPECT_EQ(in.scalar_double("a"), 2.5);
}

// ---- typed access ----------------------------------------------------------------

TEST(Npz, TypedAccessConvertsOnlyLosslessly) {
  const fs::path dir = scratch("typed");
  Npz out;
  out.set("f32", tensor_of(std::vector<float>{1.5f, -2.25f, 3, 4, 5, 6}, {2, 3}, torch::kFloat32));
  out.set("i32", tensor_of(std::vector<int32_t>{-1, 2}, {2}, torch::kInt32));
  out.set("f64", tensor_of(std::vector<double>{0.1}, {1}, torch::kFloat64));
  out.set("huge", int64_t{(int64_t{1} << 60) + 1});
  out.set("label", "x");
  out.set("half", 3.5);
  out.set("whole", 3.0);
  const std::string path = (dir / "typed.npz").string();
  out.save(path);
  const Npz in = Npz::load(path);

  // Widening conversions are exact: float32 values are doubles too.
  expect_identical(tensor_of(std::vector<double>{1.5, -2.25, 3, 4, 5, 6}, {2, 3}, torch::kFloat64),
                   in.tensor("f32", torch::kFloat64, {2, -1}), "f32 as f64");
  expect_identical(tensor_of(std::vector<int64_t>{-1, 2}, {2}, torch::kInt64),
                   in.tensor("i32", torch::kInt64, {}), "i32 as i64");
  expect_identical(tensor_of(std::vector<double>{-1, 2}, {2}, torch::kFloat64),
                   in.tensor("i32", torch::kFloat64, {-1}), "i32 as f64");
  EXPECT_EQ(in.tensor("f64", torch::kComplexDouble, {1}).scalar_type(), torch::kComplexDouble);

  expect_mentions(thrown_message<std::runtime_error>([&] {
                    in.tensor("f32", torch::kFloat32, {3, 3});
                  }),
                  {path, "'f32'", "(3, 3)", "(2, 3)", "float32"});
  expect_mentions(
      thrown_message<std::runtime_error>([&] { in.tensor("f32", torch::kFloat32, {2}); }),
      {path, "'f32'", "(2,)", "(2, 3)"});
  expect_mentions(
      thrown_message<std::runtime_error>([&] { in.tensor("f64", torch::kFloat32, {}); }),
      {path, "'f64'", "float32", "float64"});
  expect_mentions(thrown_message<std::runtime_error>([&] { in.tensor("f32", torch::kInt64, {}); }),
                  {path, "'f32'", "int64", "float32"});
  expect_mentions(thrown_message<std::runtime_error>([&] { in.tensor("label"); }),
                  {path, "'label'", "unicode"});
  expect_mentions(thrown_message<std::runtime_error>([&] { in.doubles("huge"); }),
                  {path, "'huge'"});
  expect_mentions(thrown_message<std::runtime_error>([&] { in.scalar_double("f32"); }),
                  {path, "'f32'", "(2, 3)"});
  expect_mentions(thrown_message<std::runtime_error>([&] { in.scalar_int("half"); }),
                  {path, "'half'"});
  EXPECT_EQ(in.scalar_int("whole"), 3);
  EXPECT_EQ(in.scalar_int("huge"), (int64_t{1} << 60) + 1);
  expect_mentions(thrown_message<std::runtime_error>([&] { in.scalar_bool("whole"); }),
                  {path, "'whole'", "bool"});
  expect_mentions(thrown_message<std::runtime_error>([&] { in.string("whole"); }),
                  {path, "'whole'"});
  expect_mentions(
      thrown_message<std::invalid_argument>([&] { in.tensor("f32", torch::kFloat16, {}); }),
      {path, "'f32'"});
}

TEST(Npz, MissingKeyNamesFileAndKey) {
  const fs::path dir = scratch("missing_key");
  Npz out;
  out.set("present", 1.0);
  const std::string path = (dir / "m.npz").string();
  out.save(path);
  const Npz in = Npz::load(path);
  for (const auto& access : std::vector<std::function<void()>>{
           [&] { in.at("absent"); }, [&] { in.tensor("absent"); },
           [&] { in.tensor("absent", torch::kFloat64, {}); }, [&] { in.scalar_double("absent"); },
           [&] { in.string("absent"); }}) {
    expect_mentions(thrown_message<std::runtime_error>(access), {path, "'absent'", "present"});
  }
  EXPECT_FALSE(in.contains("absent"));
  EXPECT_TRUE(in.contains("present"));
}

TEST(Npz, RejectsBadKeysAndInconsistentArrays) {
  Npz npz;
  EXPECT_THROW(npz.set("", 1.0), std::invalid_argument);
  EXPECT_THROW(npz.set(std::string("a\0b", 3), 1.0), std::invalid_argument);
  EXPECT_THROW(npz.set("\xff", 1.0), std::invalid_argument);
  NpyArray wrong = NpyArray::from_doubles({1, 2}, {2});
  wrong.shape = {3};
  expect_mentions(thrown_message<std::invalid_argument>([&] { npz.set("wrong", wrong); }),
                  {"'wrong'", "(3,)"});
  EXPECT_THROW(NpyArray::from_doubles({1, 2, 3}, {2, 2}), std::invalid_argument);
  EXPECT_THROW(NpyArray::from_int64s({1}, {-1}), std::invalid_argument);
  EXPECT_THROW(NpyArray::string("\xc3\x28"), std::invalid_argument);      // bad continuation
  EXPECT_THROW(NpyArray::string("\xed\xa0\x80"), std::invalid_argument);  // surrogate
  EXPECT_THROW(NpyArray::string("\xc0\xaf"), std::invalid_argument);      // overlong
  expect_mentions(thrown_message<std::invalid_argument>(
                      [&] { npz.set("half", torch::zeros({2}, torch::kFloat16)); }),
                  {"'half'", "Half"});
  EXPECT_THROW(npz.set("undefined", torch::Tensor()), std::invalid_argument);
  NpyArray huge;
  huge.shape = {int64_t{1} << 40, int64_t{1} << 40};
  EXPECT_THROW(huge.numel(), std::invalid_argument);
  EXPECT_EQ(npz.size(), 0u);
}

// ---- corrupt inputs ----------------------------------------------------------------

TEST(Npz, MissingOrUnreadableFileNamesThePath) {
  const fs::path dir = scratch("missing_file");
  const std::string missing = (dir / "nope.npz").string();
  expect_mentions(thrown_message<std::runtime_error>([&] { Npz::load(missing); }), {missing});
  expect_mentions(thrown_message<std::runtime_error>([&] { Npz::load(dir.string()); }),
                  {dir.string()});
  write_bytes(dir / "zero.npz", "");
  expect_mentions(thrown_message<std::runtime_error>([&] { Npz::load(dir / "zero.npz"); }),
                  {"zero.npz"});
}

TEST(Npz, TruncatedFilesThrowAtEveryCut) {
  const fs::path dir = scratch("truncated");
  torch::manual_seed(5);
  for (const bool compress : {false, true}) {
    Npz out;
    out.set("a", torch::randn({16, 8}, torch::kFloat64));
    out.set("label", "truncation");
    const fs::path path = dir / "whole.npz";
    out.save(path, compress);
    const std::string bytes = read_bytes(path);
    const size_t n = bytes.size();
    for (const size_t cut : {size_t{0}, size_t{1}, size_t{4}, size_t{10}, size_t{30}, size_t{64},
                             size_t{200}, n / 2, n - 100, n - 30, n - 22, n - 1}) {
      expect_load_fails(dir / ("cut_" + std::to_string(cut) + ".npz"), bytes.substr(0, cut));
    }
  }
}

TEST(Npz, RandomBytesThrow) {
  const fs::path dir = scratch("random");
  std::mt19937 rng(11);
  int case_index = 0;
  for (const size_t size : {1, 21, 22, 100, 4096}) {
    for (const std::string& prefix : {std::string(), std::string("PK\x03\x04", 4)}) {
      std::string bytes = prefix;
      while (bytes.size() < size + prefix.size()) bytes.push_back(static_cast<char>(rng()));
      expect_load_fails(dir / ("random_" + std::to_string(case_index++) + ".npz"), bytes);
    }
  }
}

TEST(Npz, CorruptedDataFailsTheCrc) {
  const fs::path dir = scratch("crc");
  for (const bool compress : {false, true}) {
    std::string bytes = arange_archive(dir / "good.npz", "values", 4096, compress);
    // 20 bytes into the member's data: past the local header (30 bytes + name + extra).
    ASSERT_EQ(bytes.substr(0, 4), std::string("PK\x03\x04", 4));
    const size_t offset = 30 + little_endian(bytes, 26, 2) + little_endian(bytes, 28, 2) + 20;
    ASSERT_LT(offset, bytes.size());
    bytes[offset] = static_cast<char>(bytes[offset] ^ 0x5A);
    expect_load_fails(dir / (compress ? "bad_deflate.npz" : "bad_stored.npz"), bytes, {"'values'"});
  }
}

TEST(Npz, ZipSizeClaimsBeyondTheDataThrow) {
  const fs::path dir = scratch("zip_size_claims");
  int index = 0;
  for (const bool compress : {false, true}) {
    const std::string good = arange_archive(dir / "good.npz", "w", 64, compress);
    const size_t local = good.find(std::string("PK\x03\x04", 4));
    const size_t central = good.find(std::string("PK\x01\x02", 4));
    ASSERT_EQ(local, 0u);
    ASSERT_NE(central, std::string::npos);
    const uint32_t actual = static_cast<uint32_t>(little_endian(good, central + 24, 4));
    ASSERT_EQ(actual, 64u * 8 + 128);  // .npy header + data: no zip64 here
    // Claim a little more and absurdly more in both the local and the central header.
    for (const uint32_t claim : {actual + 8, uint32_t{0x7FFFFFFF}}) {
      std::string bytes = good;
      std::memcpy(&bytes[local + 22], &claim, 4);
      std::memcpy(&bytes[central + 24], &claim, 4);
      expect_load_fails(dir / ("claim" + std::to_string(index++) + ".npz"), bytes);
    }
  }
}

TEST(Npz, CorruptMembersThrowNamingFileAndKey) {
  const fs::path dir = scratch("corrupt_members");
  const std::string four = bytes_of(std::vector<double>{1, 2, 3, 4});
  const std::string good_v1 =
      raw_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }", four);
  std::string long_header_len = good_v1;
  long_header_len[8] = '\xff';
  long_header_len[9] = '\xff';
  std::string bad_magic = good_v1;
  bad_magic[1] = 'X';
  std::string version4 = good_v1;
  version4[6] = 4;
  const auto member = [&](const std::string& dict, const std::string& data = "") {
    return raw_npy(dict, data.empty() ? four : data);
  };
  struct Case {
    std::string name;
    std::string bytes;
    std::string phrase;  // expected in the message besides the file and the key
  };
  const std::vector<Case> cases = {
      {"claims more data", member("{'descr': '<f8', 'fortran_order': False, 'shape': (5,), }"),
       "(40 bytes) but the member holds 32"},
      {"claims less data", member("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }"),
       "(24 bytes) but the member holds 32"},
      {"claims 2-D more", member("{'descr': '<f8', 'fortran_order': False, 'shape': (4, 2), }"),
       "(64 bytes)"},
      {"numel overflows",
       member("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }"),
       "overflows"},
      {"bytes overflow",
       member("{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904,), }"),
       "overflows"},
      {"int overflows",
       member("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,), }"),
       "overflows"},
      {"unicode overflows",
       member("{'descr': '<U4611686018427387904', 'fortran_order': False, "
              "'shape': (), }"),
       "overflows"},
      {"negative dim", member("{'descr': '<f8', 'fortran_order': False, 'shape': (-4,), }"),
       "non-negative"},
      {"no shape", member("{'descr': '<f8', 'fortran_order': False, }"), "needs the keys"},
      {"extra key", member("{'descr': '<f8', 'fortran_order': False, 'shape': (4,), 'x': 1, }"),
       "unexpected key 'x'"},
      {"duplicate key",
       member("{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (4,), }"),
       "duplicate key 'descr'"},
      {"not a tuple", member("{'descr': '<f8', 'fortran_order': False, 'shape': (4), }"),
       "not a tuple"},
      {"list shape", member("{'descr': '<f8', 'fortran_order': False, 'shape': [4], }"),
       "expected '('"},
      {"bad bool", member("{'descr': '<f8', 'fortran_order': 0, 'shape': (4,), }"),
       "True or False"},
      {"unterminated", member("{'descr': '<f8, 'fortran_order': False, 'shape': (4,), }"),
       "malformed"},
      {"no closing brace", member("{'descr': '<f8', 'fortran_order': False, 'shape': (4,), "),
       "malformed"},
      {"trailing junk", member("{'descr': '<f8', 'fortran_order': False, 'shape': (4,), } x"),
       "trailing characters"},
      {"not a dict", member("('<f8', False, (4,))"), "expected '{'"},
      {"empty header", member(""), "expected '{'"},
      {"unsupported dtype", member("{'descr': '<f2', 'fortran_order': False, 'shape': (16,), }"),
       "'<f2'"},
      {"int8", member("{'descr': '|i1', 'fortran_order': False, 'shape': (32,), }"), "'|i1'"},
      {"no byte order", member("{'descr': '|f8', 'fortran_order': False, 'shape': (4,), }"),
       "'|f8'"},
      {"structured", member("{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (4,), }"),
       "malformed"},
      {"zero-length unicode",
       member("{'descr': '<U0', 'fortran_order': False, 'shape': (), }", std::string()), "'<U0'"},
      {"header length too long", long_header_len, "header length 65535"},
      {"bad magic", bad_magic, "bad magic"},
      {"version 4", version4, "version 4.0"},
      {"truncated header", good_v1.substr(0, 40), "exceeds the member"},
      {"only magic", good_v1.substr(0, 7), "truncated"},
      {"empty member", std::string(), "truncated"},
  };
  int index = 0;
  for (const auto& [name, bytes, phrase] : cases) {
    for (const bool compress : {false, true}) {
      const std::string path = (dir / ("case" + std::to_string(index++) + ".npz")).string();
      // A good member first: the whole load must still fail.
      detail::write_zip(path, {{"good.npy", good_v1}, {"bad/key.npy", bytes}}, compress);
      const std::string message = thrown_message<std::runtime_error>([&] { Npz::load(path); });
      SCOPED_TRACE(name);
      expect_mentions(message, {path, "'bad/key'", phrase});
    }
  }
  // The well-formed member alone loads.
  detail::write_zip((dir / "good.npz").string(), {{"good.npy", good_v1}}, false);
  EXPECT_EQ(Npz::load(dir / "good.npz").doubles("good"), (std::vector<double>{1, 2, 3, 4}));
}

// ---- atomic writes -------------------------------------------------------------------

TEST(Npz, SaveReplacesContentAndLeavesNoTemporary) {
  const fs::path dir = scratch("atomic_replace");
  const fs::path path = dir / "state.npz";
  Npz first;
  first.set("epoch", 1);
  first.save(path);
  Npz second;
  second.set("epoch", 2);
  second.set("w", torch::ones({3}, torch::kFloat64));
  second.save(path, true);
  const Npz in = Npz::load(path);
  EXPECT_EQ(in.scalar_int("epoch"), 2);
  EXPECT_EQ(in.keys(), (std::vector<std::string>{"epoch", "w"}));
  EXPECT_EQ(listing(dir), std::vector<std::string>{"state.npz"});
}

TEST(Npz, SaveIntoMissingFolderThrowsAndLeavesNothing) {
  const fs::path dir = scratch("atomic_missing_folder");
  const std::string path = (dir / "absent" / "state.npz").string();
  Npz npz;
  npz.set("x", 1.0);
  expect_mentions(thrown_message<std::runtime_error>([&] { npz.save(path); }), {path});
  EXPECT_FALSE(fs::exists(dir / "absent"));
  EXPECT_TRUE(listing(dir).empty());
}

TEST(Npz, FailedRenameKeepsTargetAndRemovesTemporary) {
  const fs::path dir = scratch("atomic_rename");
  const fs::path target = dir / "taken.npz";  // a folder: rename() over it fails
  fs::create_directories(target / "inside");
  Npz npz;
  npz.set("x", 1.0);
  expect_mentions(thrown_message<std::runtime_error>([&] { npz.save(target); }), {target.string()});
  EXPECT_TRUE(fs::is_directory(target / "inside"));
  EXPECT_EQ(listing(dir), std::vector<std::string>{"taken.npz"});
}

TEST(Npz, FailedWriteKeepsOldFileAndRemovesTemporary) {
  const fs::path dir = scratch("atomic_write_fails");
  const fs::path path = dir / "state.npz";
  Npz old;
  old.set("epoch", 7);
  old.save(path);
  const std::string old_bytes = read_bytes(path);

  Npz big;
  big.set("w", torch::zeros({1 << 16}, torch::kFloat64));  // 512 KiB
  // A file-size limit of 64 KiB makes write() fail with EFBIG (SIGXFSZ ignored).
  struct rlimit saved {};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  struct rlimit limited = saved;
  limited.rlim_cur = 64 * 1024;
  auto* previous = std::signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limited), 0);
  std::string message;
  try {
    big.save(path);
  } catch (const std::runtime_error& e) {
    message = e.what();
  }
  setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, previous);

  expect_mentions(message, {path.string()});
  EXPECT_EQ(read_bytes(path), old_bytes);
  EXPECT_EQ(Npz::load(path).scalar_int("epoch"), 7);
  EXPECT_EQ(listing(dir), std::vector<std::string>{"state.npz"});
}

// Before a long run: the folder is probed (and made, as the savers make it),
// and temporaries that a dead process left of the same file are removed,
// by the probe and by every save, while other files' and live ones stay.
TEST(Npz, RequireWritableProbesTheFolderAndClearsStaleTemporaries) {
  const fs::path dir = scratch("preflight");
  const auto touch = [](const fs::path& path) { std::ofstream(path) << "left behind"; };
  const fs::path stale = dir / ".state.npz.tmp-2147483000-0";  // beyond any pid_max: no such process
  const fs::path live = dir / (".state.npz.tmp-" + std::to_string(::getpid()) + "-9");
  const fs::path other = dir / ".other.npz.tmp-2147483000-0";
  touch(stale);
  touch(live);
  touch(other);
  require_writable((dir / "state.npz").string(), "--data-out");
  EXPECT_EQ(listing(dir), (std::vector<std::string>{other.filename().string(), live.filename().string()}));

  require_writable((dir / "new" / "x.npz").string(), "--data-out");
  EXPECT_TRUE(fs::is_directory(dir / "new"));
  EXPECT_TRUE(fs::is_empty(dir / "new"));

  touch(dir / "plain");
  const std::string under_file = (dir / "plain" / "x.npz").string();
  expect_mentions(thrown_message<std::runtime_error>([&] { require_writable(under_file, "--output"); }),
                  {"--output", under_file, "cannot be written"});
  expect_mentions(thrown_message<std::runtime_error>([&] { require_writable((dir / "new").string(), "--output"); }),
                  {"--output", "is a directory"});

  touch(stale);
  Npz npz;
  npz.set("x", 1.0);
  npz.save(dir / "state.npz");
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(live));
}

// ---- interop with numpy ---------------------------------------------------------------

TEST(Npz, ReadsWhatNumpyWrites) {
  if (!have_numpy()) GTEST_SKIP() << kPython << " with numpy is not available";
  const fs::path dir = scratch("from_numpy");
  std::string log;
  ASSERT_EQ(run_python(dir, R"PY(
import sys
import numpy as np
d = sys.argv[1]
arrays = dict(
    f64=np.array([[1.5, -2.25, 1e300], [np.pi, -0.0, 5e-324]]),
    f32=np.array([1.5, -3.25, 0.0078125], dtype=np.float32),
    c128=np.array([complex(1, 2), complex(0, -3.5), 0.25]),  # -3.5j has real part -0.0
    i64=np.array([-(2**62), 7, 2**62], dtype=np.int64),
    i32=np.arange(-12, 12, dtype=np.int32).reshape(2, 3, 4),
    b=np.array([True, False, True]),
    flag=np.bool_(True),
    label=np.str_('Morse chain ψ₀ 🚀'),
    labels=np.array(['ab', 'cde', '']),
    fortran=np.asfortranarray(np.arange(24.0).reshape(2, 3, 4)),
    fortran_c=np.asfortranarray((np.arange(6) + 1j * np.arange(6)).reshape(2, 3)),
    big_i8=np.arange(5, dtype='>i8'),
    big_f8=np.array([1.5, -2.0], dtype='>f8'),
    big_c16=np.array([1 - 1j], dtype='>c16'),
    big_u=np.array('xy', dtype='>U2'),
    scalar=np.float64(0.125),
    count=42,
    empty=np.zeros((3, 0, 2)),
)
arrays['nested/key'] = np.ones(2)
assert not arrays['fortran'].flags.c_contiguous
np.savez(d + '/plain.npz', **arrays)
np.savez_compressed(d + '/compressed.npz', **arrays)
np.savez(d + '/empty.npz')
)PY",
                       &log),
            0)
      << log;

  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  for (const std::string name : {"plain.npz", "compressed.npz"}) {
    SCOPED_TRACE(name);
    const Npz in = Npz::load(dir / name);
    EXPECT_EQ(in.keys(), (std::vector<std::string>{"f64", "f32", "c128", "i64", "i32", "b", "flag",
                                                   "label", "labels", "fortran", "fortran_c",
                                                   "big_i8", "big_f8", "big_c16", "big_u", "scalar",
                                                   "count", "empty", "nested/key"}));
    expect_identical(tensor_of(std::vector<double>{1.5, -2.25, 1e300, M_PI, -0.0, 5e-324}, {2, 3},
                               torch::kFloat64),
                     in.tensor("f64"), "f64");
    expect_identical(tensor_of(std::vector<float>{1.5f, -3.25f, 0.0078125f}, {3}, torch::kFloat32),
                     in.tensor("f32"), "f32");
    expect_identical(
        tensor_of(std::vector<double>{1, 2, 0, -3.5, 0.25, 0}, {3, 2}, torch::kFloat64),
        torch::view_as_real(in.tensor("c128")), "c128");
    expect_identical(tensor_of(std::vector<int64_t>{-(int64_t{1} << 62), 7, int64_t{1} << 62}, {3},
                               torch::kInt64),
                     in.tensor("i64"), "i64");
    expect_identical(
        torch::arange(-12, 12, torch::TensorOptions().dtype(torch::kInt32)).reshape({2, 3, 4}),
        in.tensor("i32"), "i32");
    expect_identical(tensor_of(std::vector<uint8_t>{1, 0, 1}, {3}, torch::kUInt8).to(torch::kBool),
                     in.tensor("b"), "b");
    EXPECT_TRUE(in.scalar_bool("flag"));
    EXPECT_EQ(in.string("label"), "Morse chain ψ₀ 🚀");
    EXPECT_EQ(in.strings("labels"), (std::vector<std::string>{"ab", "cde", ""}));
    EXPECT_EQ(in.at("labels").unicode_length, 3);
    expect_identical(torch::arange(24, f64).reshape({2, 3, 4}), in.tensor("fortran"), "fortran");
    expect_identical(torch::complex(torch::arange(6, f64), torch::arange(6, f64)).reshape({2, 3}),
                     in.tensor("fortran_c"), "fortran_c");
    expect_identical(torch::arange(5, torch::TensorOptions().dtype(torch::kInt64)),
                     in.tensor("big_i8"), "big_i8");
    EXPECT_EQ(in.doubles("big_f8"), (std::vector<double>{1.5, -2.0}));
    expect_identical(tensor_of(std::vector<double>{1, -1}, {1, 2}, torch::kFloat64),
                     torch::view_as_real(in.tensor("big_c16")), "big_c16");
    EXPECT_EQ(in.string("big_u"), "xy");
    EXPECT_EQ(in.scalar_double("scalar"), 0.125);
    EXPECT_TRUE(in.at("scalar").shape.empty());
    EXPECT_EQ(in.scalar_int("count"), 42);
    EXPECT_EQ(in.at("count").dtype, DType::Int64);
    expect_identical(torch::zeros({3, 0, 2}, f64), in.tensor("empty"), "empty");
    expect_identical(torch::ones({2}, f64), in.tensor("nested/key"), "nested/key");
  }
  EXPECT_EQ(Npz::load(dir / "empty.npz").size(), 0u);
}

// A file's bytes (a TorchScript module in a checkpoint) as a uint8 array.
TEST(Npz, BytesRoundTripAsUint8ThatNumpyReads) {
  const fs::path dir = scratch("bytes");
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(255 - i);
  Npz out;
  out.set("blob", NpyArray::from_bytes(bytes));
  out.set("empty", NpyArray::from_bytes(""));
  out.set("x", 1.5);
  for (const bool compress : {false, true}) {
    out.save(dir / "bytes.npz", compress);
    const auto in = Npz::load(dir / "bytes.npz");
    EXPECT_EQ(in.bytes("blob"), bytes);
    EXPECT_EQ(in.bytes("empty"), "");
    EXPECT_EQ(in.at("blob").dtype, DType::UInt8);
    EXPECT_EQ(in.tensor("blob").scalar_type(), torch::kByte);
    const std::string message = thrown_message<std::runtime_error>([&] { in.bytes("x"); });
    expect_mentions(message, {"'x'", "expected a one-dimensional uint8 array"});
  }
  if (!have_numpy()) GTEST_SKIP() << kPython << " with numpy is not available";
  std::string log;
  EXPECT_EQ(run_python(dir, R"PY(
import sys
import numpy as np
with np.load(sys.argv[1] + '/bytes.npz') as z:
    assert z['blob'].dtype == np.uint8 and z['blob'].shape == (256,), z['blob']
    assert bytes(z['blob']) == bytes(range(255, -1, -1))
np.savez(sys.argv[1] + '/from_numpy.npz', blob=np.frombuffer(b'\x00\xffab', dtype=np.uint8))
)PY", &log), 0) << log;
  EXPECT_EQ(Npz::load(dir / "from_numpy.npz").bytes("blob"), std::string("\0\xff" "ab", 4));
}

TEST(Npz, NumpyReadsWhatWeWrite) {
  if (!have_numpy()) GTEST_SKIP() << kPython << " with numpy is not available";
  const fs::path dir = scratch("to_numpy");
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  Npz out;
  out.set("f64", tensor_of(std::vector<double>{1.5, -2.25, 1e300, M_PI, -0.0, 5e-324}, {2, 3},
                           torch::kFloat64));
  out.set("f32", tensor_of(std::vector<float>{1.5f, -3.25f, 0.0078125f}, {3}, torch::kFloat32));
  out.set("c128", torch::complex(torch::tensor({1.0, 0.0}, f64), torch::tensor({2.0, -3.5}, f64)));
  out.set("i64", tensor_of(std::vector<int64_t>{-(int64_t{1} << 62), 7}, {2}, torch::kInt64));
  out.set("i32",
          torch::arange(-12, 12, torch::TensorOptions().dtype(torch::kInt32)).reshape({2, 3, 4}));
  out.set("b", torch::tensor({1.0, -1.0, 2.0}, f64) > 0);
  out.set("flag", true);
  out.set("label", "Morse chain ψ₀ 🚀");
  out.set("empty_label", "");
  out.set("scalar", 0.125);
  out.set("count", 42);
  out.set("empty", torch::zeros({3, 0, 2}, f64));
  out.set("nested/key", torch::ones({2}, f64));
  out.set("transposed", torch::arange(6, f64).reshape({2, 3}).t());
  out.save(dir / "plain.npz");
  out.save(dir / "compressed.npz", true);
  Npz().save(dir / "empty.npz");

  std::string log;
  EXPECT_EQ(run_python(dir, R"PY(
import sys
import zipfile
import numpy as np
d = sys.argv[1]

def same(a, expected, dtype, shape):
    expected = np.asarray(expected, dtype=dtype).reshape(shape)
    assert a.dtype == np.dtype(dtype), (a.dtype, dtype)
    assert a.shape == shape, (a.shape, shape)
    assert a.tobytes() == expected.tobytes(), (a, expected)

for name, method in [('plain.npz', zipfile.ZIP_STORED), ('compressed.npz', zipfile.ZIP_DEFLATED)]:
    with zipfile.ZipFile(d + '/' + name) as archive:
        assert archive.testzip() is None
        assert all(info.compress_type == method for info in archive.infolist()), name
    with np.load(d + '/' + name) as z:
        assert z.files == ['f64', 'f32', 'c128', 'i64', 'i32', 'b', 'flag', 'label', 'empty_label',
                           'scalar', 'count', 'empty', 'nested/key', 'transposed'], z.files
        same(z['f64'], [[1.5, -2.25, 1e300], [np.pi, -0.0, 5e-324]], '<f8', (2, 3))
        same(z['f32'], [1.5, -3.25, 0.0078125], '<f4', (3,))
        same(z['c128'], [complex(1, 2), complex(0, -3.5)], '<c16', (2,))
        same(z['i64'], [-(2**62), 7], '<i8', (2,))
        same(z['i32'], np.arange(-12, 12), '<i4', (2, 3, 4))
        same(z['b'], [True, False, True], '|b1', (3,))
        same(z['flag'], True, '|b1', ())
        label = z['label']
        assert label.shape == () and label.dtype == np.dtype('<U16'), (label.shape, label.dtype)
        assert str(label) == 'Morse chain ψ₀ 🚀', str(label)
        assert z['empty_label'].dtype == np.dtype('<U1') and str(z['empty_label']) == ''
        same(z['scalar'], 0.125, '<f8', ())
        same(z['count'], 42, '<i8', ())
        same(z['empty'], np.zeros((3, 0, 2)), '<f8', (3, 0, 2))
        same(z['nested/key'], [1.0, 1.0], '<f8', (2,))
        same(z['transposed'], [[0, 3], [1, 4], [2, 5]], '<f8', (3, 2))
with np.load(d + '/empty.npz') as z:
    assert z.files == [], z.files
print('ok')
)PY",
                       &log),
            0)
      << log;
}

}  // namespace
}  // namespace bohmflow
