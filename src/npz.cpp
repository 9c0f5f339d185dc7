// The Npz container without tensors: loading, saving, setting and the typed
// accessors that return plain C++ values. The tensor members are in
// npz_tensor.cpp, so this file builds without LibTorch.
#include "bohmflow/npz.hpp"

#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "npy_format.hpp"
#include "zip_archive.hpp"

namespace bohmflow {

using detail::append_utf8;
using detail::describe;
using detail::fail;
using detail::naming;
using detail::validate_array;
using detail::validate_key;
using detail::where;

namespace {

// Element i of a validated array (data.size() == numel · sizeof(T)).
template <typename T>
T element(const NpyArray& array, int64_t i) {
  T value;
  std::memcpy(&value, array.data.data() + i * static_cast<int64_t>(sizeof(T)), sizeof(T));
  return value;
}

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

// ---- Npz ----------------------------------------------------------------------------

Npz Npz::load(const std::string& path) {
  Npz npz;
  npz.source_ = path;
  detail::read_zip(path, [&](const std::string& name, const detail::ZipMemberReader& read) {
    if (!ends_with(name, ".npy")) return;  // directories and non-array members
    const std::string key = name.substr(0, name.size() - 4);
    if (key.empty()) fail(path, "", "zip entry '.npy' has an empty key");
    if (npz.contains(key)) fail(path, key, "duplicate key in the archive");
    const std::string member = read(key);
    npz.order_.push_back(key);
    npz.arrays_.emplace(key, detail::decode_npy(member.data(), member.size(), path, key));
  });
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

std::vector<std::complex<double>> Npz::complexes(const std::string& key) const {
  const NpyArray& array = at(key);
  if (array.dtype != DType::Complex128) {
    const std::vector<double> real = doubles(key);
    return {real.begin(), real.end()};
  }
  std::vector<std::complex<double>> out(static_cast<size_t>(array.numel()));
  if (!out.empty()) std::memcpy(out.data(), array.data.data(), array.data.size());
  return out;
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

std::string Npz::bytes(const std::string& key) const {
  const NpyArray& array = at(key);
  if (array.dtype != DType::UInt8 || array.shape.size() != 1) {
    fail(source_, key, "expected a one-dimensional uint8 array, got " + describe(array));
  }
  return std::string(array.data.begin(), array.data.end());
}

}  // namespace bohmflow
