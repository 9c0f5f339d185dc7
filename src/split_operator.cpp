// The split-operator propagator and its grid; the equations stand in
// include/bohmflow/fft_reference.hpp.
//
// Layout of ψ (N^d complex128, C order) seen by the two passes of a step:
//   ψ[o · n_in + c],  o = outer index over the first d_out = ⌊d/2⌋ axes (n_out = N^d_out),
//                     c = inner index over the last d_in = ⌈d/2⌉ axes (n_in = N^d_in).
// Inner pass, per block o (contiguous, in cache): [inverse FFT over the inner
// axes] → moments of |φ|² and Σ ψ₀* ψ → × h² = e^{−iV dt/ħ} → forward FFT over the inner axes →
// × inner kinetic phase. Outer pass, per block of `block` columns c: gather the
// (n_out, block) sub-array, forward FFT over the outer axes, × outer kinetic
// phase (and 1/N^d), inverse FFT, scatter. Between steps ψ is "mixed": the
// inner axes are still in k space; the next inner pass starts with their
// inverse FFT. The kinetic phase is separable, e^{−iħ|k|²dt/2m} = Π_i e^{−iħk_i²dt/2m},
// so its inner and outer factors are applied in whichever pass holds those axes in k space.
#include "bohmflow/fft_reference.hpp"

#include <omp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iomanip>
#include <limits>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include "bohmflow/npz.hpp"
#include "bohmflow/system.hpp"
#include "fftw_plans.hpp"
#include "internal_checks.hpp"

namespace bohmflow {
namespace {

using detail::Complex;
using detail::FftwBuffer;
using detail::allocate_complex;
using detail::format_number;
using detail::kSmallerGrid;
using detail::Plan;
using detail::plan_along_axis;
using detail::plan_interleaved;
using detail::require;

constexpr int kMaxDim = 6;
constexpr int64_t kGatherElements = int64_t{1} << 16;     // outer-pass block: 1 MiB of complex128
constexpr int64_t kPotentialChunk = int64_t{1} << 18;     // grid points per potential_on_grid call
constexpr int64_t kParallelMinimum = int64_t{1} << 15;    // fewer points: one thread (no barriers)

// (a + ib)(c + id) without operator*'s NaN recovery, which blocks vectorisation.
inline Complex mul(const Complex& a, const Complex& b) {
  return {a.real() * b.real() - a.imag() * b.imag(), a.real() * b.imag() + a.imag() * b.real()};
}

int64_t power(int64_t base, int exponent) {
  int64_t result = 1;
  for (int i = 0; i < exponent; ++i) result *= base;
  return result;
}

// Calls fn(first, values) for consecutive chunks of V on the grid axis^d in C
// order; `first` is the flat index of values[0]. Chunks are ranges of the
// leading axis, evaluated through potential_on_grid on `threads` threads.
template <typename Fn>
void for_each_potential_chunk(const SystemDefinition& system, const std::vector<double>& axis, int d,
                              int threads, Fn&& fn) {
  const int64_t N = static_cast<int64_t>(axis.size());
  const int64_t row = power(N, d - 1);  // points per index of the leading axis
  const int64_t rows_per_chunk = std::max<int64_t>(1, kPotentialChunk / row);
  std::vector<std::vector<double>> axes(d, axis);
  for (int64_t a = 0; a < N; a += rows_per_chunk) {
    const int64_t b = std::min(N, a + rows_per_chunk);
    axes[0].assign(axis.begin() + a, axis.begin() + b);
    const std::vector<double> values = system.potential_on_grid(axes, threads);
    const auto bad = std::find_if(values.begin(), values.end(), [](double v) { return !std::isfinite(v); });
    if (bad != values.end()) {
      // The grid point, from its flat C-order index.
      int64_t rest = a * row + (bad - values.begin());
      std::string point;
      for (int i = d - 1; i >= 0; --i) {
        point = format_number(axis[rest % N]) + (i == d - 1 ? "" : ", ") + point;
        rest /= N;
      }
      throw std::invalid_argument("SplitOperator: " + system.label() + ": V = " + format_number(*bad) +
                                  " at x = (" + point + "); the FFT reference needs a finite V on the grid");
    }
    fn(a * row, values);
  }
}

}  // namespace

// ---- options and grid ------------------------------------------------------------

void SplitOperatorOptions::validate() const {
  const std::string where = "SplitOperatorOptions";
  require(N >= 2, where, "N = " + std::to_string(N) + ": must be >= 2");
  require(std::isfinite(L) && L > 0, where, "L = " + format_number(L) + ": must be finite and > 0");
  require(std::isfinite(dt) && dt > 0, where,
          "dt = " + format_number(dt) + ": must be finite and > 0");
  require(threads >= 0, where,
          "threads = " + std::to_string(threads) + ": must be >= 0 (0: all cores)");
}

int64_t FftOptions::n_steps() const { return static_cast<int64_t>(T / stepper.dt); }

void FftOptions::validate() const {
  stepper.validate();
  const std::string where = "FftOptions";
  require(std::isfinite(T) && T >= 0, where, "T = " + format_number(T) + ": must be finite and >= 0");
  require(T / stepper.dt < 1e15, where,
          "T / dt = " + format_number(T / stepper.dt) + ": too many steps");
  for (size_t i = 0; i < save_psi_at.size(); ++i) {
    const double t = save_psi_at[i];
    const std::string name = "save_psi_at[" + std::to_string(i) + "] = " + format_number(t);
    require(std::isfinite(t) && t >= 0, where, name + ": must be finite and >= 0");
    const auto step = std::llround(t / stepper.dt);
    require(step <= n_steps(), where,
            name + ": its step round(t/dt) = " + std::to_string(step) + " is beyond n_steps = " +
                std::to_string(n_steps()) + " (T = " + format_number(T) + ")");
  }
}

std::vector<double> grid_axis(int N, double L) {
  require(N >= 2, "grid_axis", "N = " + std::to_string(N) + ": must be >= 2");
  // numpy.linspace: arange(N) * step + start, then the end point set exactly.
  const double step = (L - (-L)) / (N - 1);
  std::vector<double> x(N);
  for (int j = 0; j < N; ++j) x[j] = j * step + (-L);
  x[N - 1] = L;
  return x;
}

std::vector<double> grid_wavenumbers(int N, double L) {
  const std::vector<double> x = grid_axis(N, L);
  const double dx = x[1] - x[0];
  // numpy.fft.fftfreq(N, dx) = [0, 1, …, ⌈N/2⌉−1, −⌊N/2⌋, …, −1] · 1/(N dx), then · 2π.
  const double val = 1.0 / (N * dx);
  std::vector<double> k(N);
  for (int j = 0; j < N; ++j) {
    const int frequency = j < (N + 1) / 2 ? j : j - N;
    k[j] = 2.0 * M_PI * (frequency * val);
  }
  return k;
}

double split_operator_bytes(int d, const SplitOperatorOptions& options) {
  const double points = std::pow(static_cast<double>(options.N), d);
  if (!(points < 4.0e18)) return std::numeric_limits<double>::infinity();
  // ψ and the half kick; ψ₀ (separable), the phases, plans and per-thread gather buffers are a few MB.
  return 2.0 * 16.0 * points + 4.0e6;
}

// ---- SplitOperator -------------------------------------------------------------

struct SplitOperator::Impl {
  enum PassFlags : unsigned {
    kInverse = 1,   // inverse FFT over the inner axes first (ψ was mixed)
    kMoments = 2,   // accumulate the marginals of |φ|² (and Σ ψ₀* ψ)
    kKick = 4,      // × h² = e^{−iV dt/ħ} (h the stored half kick)
    kForward = 8,   // forward FFT over the inner axes
    kKinetic = 16,  // × inner kinetic phase (after kForward)
  };

  Impl(const SystemDefinition& system, const SplitOperatorOptions& options);
  // The constructor's phases, in order.
  void build_grid();
  void build_kinetic_phases();
  void plan_transforms();
  void prepare_initial_state();

  // Per-thread accumulators of inner_pass.
  struct BlockSums {
    double* marginal = nullptr;   // (d, N) this thread's marginals
    Complex overlap{0.0, 0.0};    // Σ ψ₀* ψ over its blocks
    std::vector<int64_t> index;   // (d) multi-index of the current row
  };
  void inner_pass(unsigned flags);
  void kick_and_measure(int64_t o, unsigned flags, BlockSums& sums) const;
  void outer_pass();
  Moments moments_from_marginals() const;
  // ψ_n = e^{−iV dt/2ħ} φ_n into `out` (N^d), and Σ V|ψ_n|² dV.
  double real_space_psi(Complex* out) const;
  // Σ |ψ̂_k|² ħ²|k|²/2m · dV/N^d of ψ in `w` (real space, C order; transformed in place).
  double kinetic_energy_of(Complex* w) const;
  // ψ₀'s per-axis factors g_i (d, N), normalised on their axis.
  std::vector<std::vector<Complex>> initial_factors() const;
  void fill_initial_state(const std::vector<std::vector<Complex>>& factors);
  void to_real_space();

  const SystemDefinition& system;
  SplitOperatorOptions options;
  int d = 0;
  int threads = 1;
  int64_t N = 0, total = 0;
  int d_in = 0, d_out = 0;
  int64_t n_in = 0, n_out = 0, block = 1;
  std::vector<double> x, k;
  double dx = 0, dV = 0, hbar = 1, mass = 1;
  std::vector<Complex> kinetic_in, kinetic_out;  // (n_in), (n_out) phases; 1/N^d folded into one
  FftwBuffer psi, kick;                          // (N^d) φ_n and the half kick h = e^{−iV dt/2ħ}
  std::vector<Complex> initial_outer, initial_inner;  // (n_out), (n_in): ψ₀* = initial_outer[o] initial_inner[c]
  std::vector<FftwBuffer> gather;                // per thread (n_out · block)
  Plan inner_forward, inner_backward, outer_forward, outer_backward;
  std::vector<double> marginals;                 // (threads, d, N) Σ|φ|² over all axes but one
  std::vector<double> overlaps;                  // (threads, 2) Re, Im of Σ φ₀* φ
  bool mixed = false;                            // inner axes of ψ still in k space
  bool moments_known = false;
  Moments moments;
  int64_t step = 0;
  double kinetic0 = 0, potential0 = 0;
};

SplitOperator::Impl::Impl(const SystemDefinition& system_, const SplitOperatorOptions& options_)
    : system(system_), options(options_) {
  options.validate();
  build_grid();
  build_kinetic_phases();
  plan_transforms();
  prepare_initial_state();
}

// Grid, memory check, and the split into inner and outer axes.
void SplitOperator::Impl::build_grid() {
  d = system.dim();
  if (d < 1 || d > kMaxDim) {
    throw std::invalid_argument("SplitOperator: system '" + system.name() + "' has d = " +
                                std::to_string(d) + "; the FFT reference supports d = 1 … " +
                                std::to_string(kMaxDim));
  }
  N = options.N;
  require_memory(split_operator_bytes(d, options), "SplitOperator",
                 "a grid of " + std::to_string(N) + "^" + std::to_string(d) +
                     " points (ψ and e^{−iV dt/2ħ}, complex128 each)",
                 kSmallerGrid);
  total = power(N, d);
  threads = options.threads > 0 ? options.threads : omp_get_max_threads();
  hbar = system.hbar();
  mass = system.mass();
  x = grid_axis(options.N, options.L);
  k = grid_wavenumbers(options.N, options.L);
  dx = x[1] - x[0];
  dV = std::pow(dx, d);

  d_in = (d + 1) / 2;
  d_out = d - d_in;
  n_in = power(N, d_in);
  n_out = power(N, d_out);
  const int64_t target = std::max<int64_t>(1, kGatherElements / n_out);
  block = 1;
  for (int64_t b = std::min(target, n_in); b >= 1; --b) {
    if (n_in % b == 0) {
      block = b;
      break;
    }
  }
}

// Kinetic phases and energies per group of axes, from the per-axis factors.
void SplitOperator::Impl::build_kinetic_phases() {
  const double scale = 1.0 / static_cast<double>(total);
  std::vector<Complex> phase(N);
  for (int64_t j = 0; j < N; ++j) phase[j] = std::polar(1.0, -hbar * k[j] * k[j] / (2.0 * mass) * options.dt);
  const auto separable = [&](int rank, int64_t count, bool scaled, std::vector<Complex>& p) {
    p.assign(count, Complex(scaled ? scale : 1.0, 0.0));
    for (int64_t c = 0; c < count; ++c) {
      int64_t rest = c;
      for (int a = 0; a < rank; ++a) {
        p[c] = mul(p[c], phase[rest % N]);
        rest /= N;
      }
    }
  };
  separable(d_in, n_in, d_out == 0, kinetic_in);
  separable(d_out, n_out, d_out > 0, kinetic_out);
}

// FFTW plans, made on scratch buffers (FFTW_MEASURE overwrites them).
// Blocks of ψ sit at multiples of n_in from a 64-byte aligned base; when
// that stride could break FFTW's SIMD alignment, plan unaligned.
void SplitOperator::Impl::plan_transforms() {
  psi = allocate_complex(total, "ψ");
  kick = allocate_complex(total, "e^{−iV dt/2ħ}");
  const unsigned effort = options.planner == FftwPlanner::kMeasure ? FFTW_MEASURE : FFTW_ESTIMATE;
  const unsigned inner_flags = effort | ((n_in * sizeof(Complex)) % 64 == 0 ? 0u : FFTW_UNALIGNED);
  {
    FftwBuffer scratch = allocate_complex(n_in, "an FFT planning buffer");
    inner_forward = plan_interleaved(d_in, options.N, 1, FFTW_FORWARD, inner_flags, scratch.get(),
                                     "the inner forward transform");
    inner_backward = plan_interleaved(d_in, options.N, 1, FFTW_BACKWARD, inner_flags,
                                      scratch.get(), "the inner backward transform");
  }
  if (d_out > 0) {
    for (int t = 0; t < threads; ++t) gather.push_back(allocate_complex(n_out * block, "a gather buffer"));
    outer_forward = plan_interleaved(d_out, options.N, block, FFTW_FORWARD, effort,
                                     gather[0].get(), "the outer forward transform");
    outer_backward = plan_interleaved(d_out, options.N, block, FFTW_BACKWARD, effort,
                                      gather[0].get(), "the outer backward transform");
  }
  marginals.assign(static_cast<size_t>(threads) * d * N, 0.0);
  overlaps.assign(static_cast<size_t>(threads) * 2, 0.0);
}

// ⟨T⟩ and ⟨V⟩ of ψ₀, the half kick, and ψ = φ₀.
void SplitOperator::Impl::prepare_initial_state() {
  // ⟨T⟩ = Σ_k |ψ̂_k|² ħ²|k|²/2m · dV/N^d of ψ₀ = Π_i g_i: ψ̂ is the product of the
  // axes' DFTs ĝ_i and Σ_k |ĝ_i(k)|² = N/dx, so ⟨T⟩ = Σ_i Σ_k |ĝ_i(k)|² ħ²k²/2m · dx/N.
  const auto factors = initial_factors();
  std::vector<Complex> twiddle(N);  // e^{−2πi j/N}
  for (int64_t j = 0; j < N; ++j) twiddle[j] = std::polar(1.0, -2.0 * M_PI * static_cast<double>(j) / N);
  double kinetic = 0.0;
  for (int i = 0; i < d; ++i) {
    for (int64_t m = 0; m < N; ++m) {
      Complex transform(0.0, 0.0);
      for (int64_t j = 0; j < N; ++j) transform += mul(factors[i][j], twiddle[(m * j) % N]);
      kinetic += std::norm(transform) * hbar * hbar * k[m] * k[m] / (2.0 * mass);
    }
  }
  kinetic0 = kinetic * dx / static_cast<double>(N);

  // ψ₀; ⟨V⟩, h = e^{−iV dt/2ħ}, and φ₀ = h* ψ₀, chunk by chunk of V.
  fill_initial_state(factors);
  const double dt = options.dt;
  double potential_sum = 0.0;
  Complex* p = psi.get();
  Complex* f = kick.get();
  for_each_potential_chunk(system, x, d, threads, [&](int64_t first, const std::vector<double>& V) {
    const int64_t count = static_cast<int64_t>(V.size());
    for (int64_t i = 0; i < count; ++i) potential_sum += V[i] * std::norm(p[first + i]);
#pragma omp parallel for num_threads(threads) schedule(static) if (count >= kParallelMinimum)
    for (int64_t i = 0; i < count; ++i) {
      f[first + i] = std::polar(1.0, -0.5 * V[i] * dt / hbar);
      p[first + i] = mul(p[first + i], std::conj(f[first + i]));
    }
  });
  potential0 = potential_sum * dV;
}

// ψ₀ = Π_i g_i(x_i), each g_i(x) = exp(−(x − μ_i)²/(4σ_i²)) e^{i m v_i x/ħ}
// normalised on its axis (Σ|g_i|² dx = 1), so Σ|ψ₀|² dV = 1.
std::vector<std::vector<Complex>> SplitOperator::Impl::initial_factors() const {
  const InitialState& state = system.initial_state();
  std::vector<std::vector<Complex>> factors(d, std::vector<Complex>(N));
  for (int i = 0; i < d; ++i) {
    double norm = 0.0;
    for (int64_t j = 0; j < N; ++j) {
      const double z = x[j] - state.mean[i];
      factors[i][j] = std::exp(-z * z / (4.0 * state.sigma[i] * state.sigma[i])) *
                      std::polar(1.0, mass * state.velocity[i] * x[j] / hbar);
      norm += std::norm(factors[i][j]);
    }
    const double scale = 1.0 / std::sqrt(norm * dx);
    for (auto& value : factors[i]) value *= scale;
  }
  return factors;
}

void SplitOperator::Impl::fill_initial_state(const std::vector<std::vector<Complex>>& factors) {
  // Products over the outer axes (0 … d_out−1) and the inner axes (d_out … d−1).
  const auto product = [&](int first_axis, int rank, int64_t count) {
    std::vector<Complex> values(count, Complex(1.0, 0.0));
    for (int64_t c = 0; c < count; ++c) {
      int64_t rest = c;
      for (int a = first_axis + rank - 1; a >= first_axis; --a) {
        values[c] = mul(values[c], factors[a][rest % N]);
        rest /= N;
      }
    }
    return values;
  };
  const std::vector<Complex> outer = product(0, d_out, n_out);
  const std::vector<Complex> inner = product(d_out, d_in, n_in);
  Complex* p = psi.get();
#pragma omp parallel for num_threads(threads) schedule(static) if (total >= kParallelMinimum)
  for (int64_t o = 0; o < n_out; ++o) {
    for (int64_t c = 0; c < n_in; ++c) p[o * n_in + c] = mul(outer[o], inner[c]);
  }
  // a(t_n) = Σ ψ₀* ψ_n dV from the factors: no grid of ψ₀ to read at every step.
  if (options.autocorrelation) {
    initial_outer.resize(n_out);
    initial_inner.resize(n_in);
    std::transform(outer.begin(), outer.end(), initial_outer.begin(), [](Complex z) { return std::conj(z); });
    std::transform(inner.begin(), inner.end(), initial_inner.begin(), [](Complex z) { return std::conj(z); });
  }
  mixed = false;
  moments_known = false;
}

void SplitOperator::Impl::inner_pass(unsigned flags) {
  const bool accumulate = flags & kMoments;
  const bool overlap = accumulate && !initial_inner.empty();
  if ((overlap || (flags & kKick)) && !kick) {
    throw std::logic_error("SplitOperator: the half kick's memory is gone (after final_energy())");
  }
  if (accumulate) std::fill(marginals.begin(), marginals.end(), 0.0);
  if (overlap) std::fill(overlaps.begin(), overlaps.end(), 0.0);
#pragma omp parallel num_threads(threads) if (n_out > 1 && total >= kParallelMinimum)
  {
    BlockSums sums;
    sums.marginal = marginals.data() + static_cast<int64_t>(omp_get_thread_num()) * d * N;
    sums.index.assign(d, 0);
#pragma omp for schedule(static)
    for (int64_t o = 0; o < n_out; ++o) {
      Complex* p = psi.get() + o * n_in;
      if (flags & kInverse) inner_backward.execute(p);
      if (accumulate || (flags & kKick)) kick_and_measure(o, flags, sums);
      if (flags & kForward) {
        inner_forward.execute(p);
        if (flags & kKinetic) {
          for (int64_t c = 0; c < n_in; ++c) p[c] = mul(p[c], kinetic_in[c]);
        }
      }
    }
    if (overlap) {
      overlaps[2 * omp_get_thread_num()] = sums.overlap.real();
      overlaps[2 * omp_get_thread_num() + 1] = sums.overlap.imag();
    }
  }
}

// Block o of ψ in real space, row by row of the last axis, with h = e^{−iV dt/2ħ}:
// |φ|² into the marginals, Σ ψ₀* ψ with ψ = h φ (Σ_c initial_inner[c] ψ[c]
// per block, then × initial_outer[o]), and with kKick φ ← h (h φ) = e^{−iV dt/ħ} φ.
void SplitOperator::Impl::kick_and_measure(int64_t o, unsigned flags, BlockSums& sums) const {
  const bool accumulate = flags & kMoments;
  const bool kicked = flags & kKick;
  const bool overlap = accumulate && !initial_inner.empty();
  Complex* p = psi.get() + o * n_in;
  const Complex* f = kick ? kick.get() + o * n_in : nullptr;
  double* last = sums.marginal + (d - 1) * N;
  double block_sum = 0.0, overlap_re = 0.0, overlap_im = 0.0;
  std::fill(sums.index.begin() + d_out, sums.index.end(), 0);
  for (int64_t r = 0; r < n_in / N; ++r) {
    Complex* q = p + r * N;
    const Complex* h = f ? f + r * N : nullptr;  // used only with overlap or kKick, which need the kick
    if (accumulate) {
      double row_sum = 0.0;
#pragma omp simd reduction(+ : row_sum)
      for (int64_t j = 0; j < N; ++j) {
        const double rho = std::norm(q[j]);
        row_sum += rho;
        last[j] += rho;
      }
      block_sum += row_sum;
      for (int a = d_out; a < d - 1; ++a) sums.marginal[a * N + sums.index[a]] += row_sum;
      for (int a = d - 2; a >= d_out; --a) {  // next row
        if (++sums.index[a] < N) break;
        sums.index[a] = 0;
      }
    }
    if (overlap) {
      const Complex* w = initial_inner.data() + r * N;
#pragma omp simd reduction(+ : overlap_re, overlap_im)
      for (int64_t j = 0; j < N; ++j) {
        const Complex psi_n = mul(q[j], h[j]);
        overlap_re += w[j].real() * psi_n.real() - w[j].imag() * psi_n.imag();
        overlap_im += w[j].real() * psi_n.imag() + w[j].imag() * psi_n.real();
        if (kicked) q[j] = mul(psi_n, h[j]);
      }
    } else if (kicked) {
      for (int64_t j = 0; j < N; ++j) q[j] = mul(mul(q[j], h[j]), h[j]);
    }
  }
  if (accumulate) {
    int64_t rest = o;
    for (int a = d_out - 1; a >= 0; --a) {
      sums.marginal[a * N + rest % N] += block_sum;
      rest /= N;
    }
  }
  if (overlap) sums.overlap += mul(initial_outer[o], Complex(overlap_re, overlap_im));
}

void SplitOperator::Impl::outer_pass() {
  const int64_t blocks = n_in / block;
#pragma omp parallel num_threads(threads) if (total >= kParallelMinimum)
  {
    const int thread = omp_get_thread_num();
    Complex* g = gather[thread].get();
#pragma omp for schedule(static)
    for (int64_t q = 0; q < blocks; ++q) {
      const int64_t c0 = q * block;
      // Gather the (n_out, block) columns, one row per memcpy; scattered back below.
      for (int64_t o = 0; o < n_out; ++o) {
        std::memcpy(g + o * block, psi.get() + o * n_in + c0, block * sizeof(Complex));
      }
      outer_forward.execute(g);
      for (int64_t o = 0; o < n_out; ++o) {
        const Complex phase = kinetic_out[o];
        Complex* row = g + o * block;
        for (int64_t b = 0; b < block; ++b) row[b] = mul(row[b], phase);
      }
      outer_backward.execute(g);
      for (int64_t o = 0; o < n_out; ++o) {
        std::memcpy(psi.get() + o * n_in + c0, g + o * block, block * sizeof(Complex));
      }
    }
  }
}

Moments SplitOperator::Impl::moments_from_marginals() const {
  std::vector<double> marginal(d * N, 0.0);
  for (int t = 0; t < threads; ++t) {
    const double* m = marginals.data() + static_cast<int64_t>(t) * d * N;
    for (int64_t i = 0; i < d * N; ++i) marginal[i] += m[i];
  }
  Moments result;
  for (int a = 0; a < d; ++a) {
    double s0 = 0.0, s1 = 0.0, s2 = 0.0;
    for (int64_t j = 0; j < N; ++j) {
      const double w = marginal[a * N + j];
      s0 += w;
      s1 += x[j] * w;
      s2 += x[j] * x[j] * w;
    }
    const double mean = s1 / s0;
    result.mean.push_back(mean);
    result.sigma.push_back(std::sqrt(std::max(s2 / s0 - mean * mean, 0.0)));
    if (a == d - 1) result.norm = s0 * dV;
  }
  if (!initial_inner.empty()) {
    double re = 0.0, im = 0.0;
    for (int t = 0; t < threads; ++t) {  // in thread order: deterministic
      re += overlaps[2 * t];
      im += overlaps[2 * t + 1];
    }
    result.autocorrelation = Complex(re * dV, im * dV);
  }
  return result;
}

double SplitOperator::Impl::real_space_psi(Complex* out) const {
  const Complex* p = psi.get();
  const double half = 0.5 * options.dt / hbar;
  double potential = 0.0;
  for_each_potential_chunk(system, x, d, threads, [&](int64_t first, const std::vector<double>& V) {
    const int64_t count = static_cast<int64_t>(V.size());
    double sum = 0.0;
#pragma omp parallel for num_threads(threads) schedule(static) reduction(+ : sum) if (count >= kParallelMinimum)
    for (int64_t i = 0; i < count; ++i) {
      out[first + i] = mul(p[first + i], std::polar(1.0, -V[i] * half));  // ψ = e^{−iV dt/2ħ} φ
      sum += V[i] * std::norm(p[first + i]);
    }
    potential += sum;
  });
  return potential * dV;
}

double SplitOperator::Impl::kinetic_energy_of(Complex* w) const {
  // The full d-dimensional DFT, one axis at a time, in place.
  for (int axis = 0; axis < d; ++axis) {
    const Plan forward = plan_along_axis(power(N, axis), N, power(N, d - 1 - axis), FFTW_FORWARD, w);
    forward.execute(w);
  }
  double kinetic = 0.0;
#pragma omp parallel for num_threads(threads) schedule(static) reduction(+ : kinetic) if (total >= kParallelMinimum)
  for (int64_t e = 0; e < total; ++e) {
    int64_t rest = e;
    double energy = 0.0;
    for (int a = 0; a < d; ++a) {
      const int64_t j = rest % N;
      rest /= N;
      energy += hbar * hbar * k[j] * k[j] / (2.0 * mass);
    }
    kinetic += std::norm(w[e]) * energy;
  }
  return kinetic * dV / static_cast<double>(total);
}

void SplitOperator::Impl::to_real_space() {
  if (!mixed) return;
  inner_pass(kInverse | kMoments);
  moments = moments_from_marginals();
  moments_known = true;
  mixed = false;
}

SplitOperator::SplitOperator(const SystemDefinition& system, const SplitOperatorOptions& options)
    : impl_(std::make_unique<Impl>(system, options)) {}

SplitOperator::~SplitOperator() = default;

int SplitOperator::dim() const { return impl_->d; }
int SplitOperator::threads() const { return impl_->threads; }
int64_t SplitOperator::points() const { return impl_->total; }
int64_t SplitOperator::step() const { return impl_->step; }
double SplitOperator::time() const { return impl_->step * impl_->options.dt; }
const SplitOperatorOptions& SplitOperator::options() const { return impl_->options; }
const std::vector<double>& SplitOperator::axis() const { return impl_->x; }
const std::vector<double>& SplitOperator::wavenumbers() const { return impl_->k; }
double SplitOperator::cell_volume() const { return impl_->dV; }
double SplitOperator::initial_kinetic_energy() const { return impl_->kinetic0; }
double SplitOperator::initial_potential_energy() const { return impl_->potential0; }

Moments SplitOperator::advance() {
  Impl& s = *impl_;
  if (!s.kick) throw std::logic_error("SplitOperator::advance after final_energy(): the kick's memory is gone");
  unsigned flags = Impl::kKick | Impl::kForward | Impl::kKinetic;
  if (s.mixed) flags |= Impl::kInverse;
  const bool measure = !s.moments_known;
  if (measure) flags |= Impl::kMoments;
  s.inner_pass(flags);
  const Moments before = measure ? s.moments_from_marginals() : s.moments;
  if (s.d_out > 0) s.outer_pass();
  s.mixed = true;
  s.moments_known = false;
  ++s.step;
  return before;
}

Moments SplitOperator::moments() {
  Impl& s = *impl_;
  if (s.mixed) {
    s.to_real_space();
  } else if (!s.moments_known) {
    s.inner_pass(Impl::kMoments);
    s.moments = s.moments_from_marginals();
    s.moments_known = true;
  }
  return s.moments;
}

std::vector<std::complex<double>> SplitOperator::wavefunction() {
  Impl& s = *impl_;
  s.to_real_space();
  require_memory(16.0 * s.total, "SplitOperator::wavefunction", "a copy of ψ", kSmallerGrid);
  std::vector<Complex> out(s.total);
  s.real_space_psi(out.data());
  return out;
}

double SplitOperator::energy() {
  Impl& s = *impl_;
  s.to_real_space();
  require_memory(16.0 * s.total, "SplitOperator::energy", "a copy of ψ", kSmallerGrid);
  std::vector<Complex> copy(s.total);
  const double potential = s.real_space_psi(copy.data());
  return s.kinetic_energy_of(copy.data()) + potential;
}

double SplitOperator::final_energy() {
  Impl& s = *impl_;
  s.to_real_space();
  const double potential = s.real_space_psi(s.kick.get());
  const double kinetic = s.kinetic_energy_of(s.kick.get());
  s.kick.reset();
  return kinetic + potential;
}

std::vector<double> SplitOperator::density() {
  Impl& s = *impl_;
  s.to_real_space();
  std::vector<double> out(s.total);
  const Complex* p = s.psi.get();
#pragma omp parallel for num_threads(s.threads) schedule(static) if (s.total >= kParallelMinimum)
  for (int64_t i = 0; i < s.total; ++i) out[i] = std::norm(p[i]);
  return out;
}

std::vector<double> SplitOperator::velocity_field(int axis) {
  Impl& s = *impl_;
  require(axis >= 0 && axis < s.d, "SplitOperator::velocity_field",
          "axis = " + std::to_string(axis) + " is out of range for d = " + std::to_string(s.d));
  const std::vector<Complex> psi = wavefunction();
  require_memory(32.0 * s.total, "SplitOperator::velocity_field", "∂ψ and the velocity", kSmallerGrid);
  FftwBuffer derivative = allocate_complex(s.total, "∂ψ");
  const int64_t A = power(s.N, axis), S = power(s.N, s.d - 1 - axis);
  // Plan before filling: FFTW_ESTIMATE does not touch the array, but keep the order safe.
  const Plan forward = plan_along_axis(A, s.N, S, FFTW_FORWARD, derivative.get());
  const Plan backward = plan_along_axis(A, s.N, S, FFTW_BACKWARD, derivative.get());
  std::copy(psi.begin(), psi.end(), derivative.get());
  forward.execute(derivative.get());
  Complex* w = derivative.get();
  const double scale = 1.0 / static_cast<double>(s.N);
#pragma omp parallel for num_threads(s.threads) schedule(static) if (s.total >= kParallelMinimum)
  for (int64_t e = 0; e < s.total; ++e) {
    const int64_t j = (e / S) % s.N;
    w[e] = mul(w[e], Complex(0.0, s.k[j] * scale));  // ∂ → i k (and 1/N of the inverse)
  }
  backward.execute(derivative.get());
  std::vector<double> v(s.total);
  const double hbar_over_mass = s.hbar / s.mass;
#pragma omp parallel for num_threads(s.threads) schedule(static) if (s.total >= kParallelMinimum)
  for (int64_t e = 0; e < s.total; ++e) {
    const double modulus2 = std::norm(psi[e]);
    // Im(ψ'/ψ) = Im(ψ' conj ψ)/|ψ|²; |ψ| ≤ 1e-30 gives 0 (as the reference does).
    v[e] = modulus2 > 1e-60 ? hbar_over_mass * (w[e] * std::conj(psi[e])).imag() / modulus2 : 0.0;
  }
  return v;
}

}  // namespace bohmflow
