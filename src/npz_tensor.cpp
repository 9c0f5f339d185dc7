// The LibTorch half of the NPZ API: tensors into and out of NpyArray and Npz.
// It is the only NPZ file that includes torch, so that everything else can go
// into a library that does not link LibTorch.
#include "bohmflow/npz.hpp"

#include <torch/types.h>

#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "npy_format.hpp"

namespace bohmflow {

using detail::descr_of;
using detail::describe;
using detail::fail;
using detail::naming;
using detail::shape_string;
using detail::validate_key;
using detail::where;

namespace {

// The tensor dtype of every DType but Unicode, which is not a tensor.
struct TensorDType {
  DType dtype;
  torch::ScalarType scalar_type;
};

const TensorDType kTensorDTypes[] = {
    {DType::Float64, torch::kFloat64},
    {DType::Float32, torch::kFloat32},
    {DType::Complex128, torch::kComplexDouble},
    {DType::Int64, torch::kInt64},
    {DType::Int32, torch::kInt32},
    {DType::UInt8, torch::kByte},
    {DType::Bool, torch::kBool},
};

torch::ScalarType scalar_type_of(DType dtype) {
  if (dtype == DType::Unicode) throw std::logic_error("scalar_type_of: unicode is not a tensor");
  for (const auto& row : kTensorDTypes) {
    if (row.dtype == dtype) return row.scalar_type;
  }
  throw std::logic_error("bohmflow::npz: unknown DType");
}

bool dtype_of(torch::ScalarType type, DType* out) {
  for (const auto& row : kTensorDTypes) {
    if (row.scalar_type == type) {
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

}  // namespace

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

void Npz::set(const std::string& key, const torch::Tensor& tensor) {
  validate_key(key, where(source_, ""));
  set(key, naming(source_, key, [&] { return NpyArray::from_tensor(tensor); }));
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

}  // namespace bohmflow
