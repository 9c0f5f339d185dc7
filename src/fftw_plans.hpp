// FFTW resources of the split-operator solver: aligned buffers, in-place
// plans (created under one lock: FFTW's planner is not thread-safe; executing
// a plan is), and the memory check made before every large allocation.
#pragma once

#include <fftw3.h>

#include <complex>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>

#include "bohmflow/memory.hpp"

namespace bohmflow::detail {

using Complex = std::complex<double>;

// What to change when a grid does not fit (memory.hpp's require_memory).
inline constexpr char kSmallerGrid[] = "use a smaller N or d";

inline fftw_complex* as_fftw(Complex* p) { return reinterpret_cast<fftw_complex*>(p); }

struct FreeBuffer {
  void operator()(Complex* p) const { std::free(p); }
};
using FftwBuffer = std::unique_ptr<Complex[], FreeBuffer>;

// `count` complex128, 64-byte aligned (enough for FFTW's SIMD); `what` names
// the buffer when allocation fails.
FftwBuffer allocate_complex(int64_t count, const std::string& what);

// An in-place FFTW plan, executed on any array of the planned size and alignment.
class Plan {
 public:
  Plan() = default;
  Plan(fftw_plan plan, const std::string& what);
  ~Plan() { reset(); }
  Plan(Plan&& other) noexcept : plan_(std::exchange(other.plan_, nullptr)) {}
  Plan& operator=(Plan&& other) noexcept {
    if (this != &other) {
      reset();
      plan_ = std::exchange(other.plan_, nullptr);
    }
    return *this;
  }
  void execute(Complex* data) const { fftw_execute_dft(plan_, as_fftw(data), as_fftw(data)); }

 private:
  void reset();
  fftw_plan plan_ = nullptr;
};

// `howmany` interleaved in-place transforms over `rank` axes of N points:
// element j of transform b is buffer[j · howmany + b].
Plan plan_interleaved(int rank, int N, int64_t howmany, int sign, unsigned flags,
                      Complex* buffer, const std::string& what);

// Transforms along one axis of a (A, N, S) array: rank 1, howmany A × S.
Plan plan_along_axis(int64_t A, int64_t N, int64_t S, int sign, Complex* buffer);

}  // namespace bohmflow::detail
