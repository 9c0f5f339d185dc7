// Host constants (a system's parameters, a baseline's B(t) and x_c(t)) as
// tensors on the device and dtype of a computation (not installed).
//
// Copying host memory to a GPU waits for the work already queued there, so a
// copy in every leapfrog step would stall the device once per step. The first
// use of a constant copies it; later uses on that device and dtype share the
// copy. On the CPU nothing is cached (a copy costs nothing to wait for).
#pragma once

#include <vector>

#include <torch/types.h>

namespace bohmflow::detail {

// `values` as a tensor of `shape` with `options`' device and dtype. Callers
// must not modify the result in place.
torch::Tensor device_constant(const std::vector<double>& values, at::IntArrayRef shape,
                              const torch::TensorOptions& options);

}  // namespace bohmflow::detail
