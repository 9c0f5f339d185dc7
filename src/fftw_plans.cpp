// FFTW resources of the split-operator solver; see fftw_plans.hpp.
#include "fftw_plans.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "bohmflow/fft_reference.hpp"

namespace bohmflow::detail {
namespace {


std::mutex& planner_mutex() {
  static std::mutex mutex;
  return mutex;
}

}  // namespace

// Buffers of 2 MiB and more are aligned to and advised onto transparent huge
// pages, which spares the TLB misses of the strided gathers of the outer pass.
FftwBuffer allocate_complex(int64_t count, const std::string& what) {
  constexpr size_t kHugePage = size_t{1} << 21;
  size_t bytes = sizeof(Complex) * static_cast<size_t>(std::max<int64_t>(count, 1));
  const bool huge = bytes >= kHugePage;
  const size_t alignment = huge ? kHugePage : 64;
  bytes = (bytes + alignment - 1) / alignment * alignment;  // aligned_alloc wants a multiple
  void* p = std::aligned_alloc(alignment, bytes);
  if (p == nullptr) {
    throw std::runtime_error("SplitOperator: cannot allocate " + what + " (" +
                             format_bytes(16.0 * count) + ")");
  }
#ifdef MADV_HUGEPAGE
  if (huge) madvise(p, bytes, MADV_HUGEPAGE);  // a hint: failure is harmless
#endif
  return FftwBuffer(static_cast<Complex*>(p));
}

Plan::Plan(fftw_plan plan, const std::string& what) : plan_(plan) {
  if (plan_ == nullptr) throw std::runtime_error("SplitOperator: FFTW could not plan " + what);
}

void Plan::reset() {
  if (plan_ != nullptr) {
    std::lock_guard<std::mutex> lock(planner_mutex());
    fftw_destroy_plan(plan_);
    plan_ = nullptr;
  }
}

Plan plan_interleaved(int rank, int N, int64_t howmany, int sign, unsigned flags,
                      Complex* buffer, const std::string& what) {
  std::vector<int> n(rank, N);
  std::lock_guard<std::mutex> lock(planner_mutex());
  return Plan(fftw_plan_many_dft(rank, n.data(), static_cast<int>(howmany), as_fftw(buffer),
                                 nullptr, static_cast<int>(howmany), 1, as_fftw(buffer), nullptr,
                                 static_cast<int>(howmany), 1, sign, flags),
              what);
}

Plan plan_along_axis(int64_t A, int64_t N, int64_t S, int sign, Complex* buffer) {
  fftw_iodim64 dim{static_cast<ptrdiff_t>(N), static_cast<ptrdiff_t>(S), static_cast<ptrdiff_t>(S)};
  fftw_iodim64 loops[2] = {
      {static_cast<ptrdiff_t>(A), static_cast<ptrdiff_t>(N * S), static_cast<ptrdiff_t>(N * S)},
      {static_cast<ptrdiff_t>(S), 1, 1}};
  std::lock_guard<std::mutex> lock(planner_mutex());
  return Plan(fftw_plan_guru64_dft(1, &dim, 2, loops, as_fftw(buffer), as_fftw(buffer), sign,
                                   FFTW_ESTIMATE),
              "the derivative along an axis");
}

}  // namespace bohmflow::detail
