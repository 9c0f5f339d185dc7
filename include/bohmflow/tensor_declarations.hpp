// LibTorch's tensor types, declared rather than included, for the headers
// that the part of the library without LibTorch (bohmflow_fft) also uses:
// npz.hpp and psi_snapshots.hpp.
#pragma once

#include <cstdint>

// The declarations match LibTorch's own (ATen/core/TensorBody.h,
// c10/core/ScalarType.h, and torch/optim/optimizer.h's `using at::Tensor`), so
// torch::Tensor and torch::ScalarType name the same types with or without it.
namespace at {
class Tensor;
}  // namespace at
namespace c10 {
enum class ScalarType : int8_t;
}  // namespace c10
namespace torch {
using at::Tensor;
using c10::ScalarType;
}  // namespace torch
