#include "bohmflow/fft_reference.hpp"

#include <gtest/gtest.h>
#include <unistd.h>
#include <torch/torch.h>

#include <cmath>
#include <complex>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "bohmflow/npz.hpp"
#include "bohmflow/potentials.hpp"
#include "bohmflow/psi_snapshots.hpp"
#include "../apps/fft_reference_job.hpp"
#include "test_support.hpp"

namespace bohmflow {
namespace {

using apps::FftReferenceJob;
using apps::parse_parameter_assignment;
using Complex = std::complex<double>;

FftOptions small_options(int N, double L, double T, double dt) {
  FftOptions options;
  options.stepper.N = N;
  options.stepper.L = L;
  options.stepper.dt = dt;
  options.T = T;
  return options;
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("bohmflow_fft_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

TEST(FftReference, GridMatchesNumpyLinspaceAndFftfreq) {
  const auto x = grid_axis(5, 2.0);
  const std::vector<double> expected_x{-2.0, -1.0, 0.0, 1.0, 2.0};
  for (int j = 0; j < 5; ++j) EXPECT_DOUBLE_EQ(x[j], expected_x[j]);
  // N = 4, L = 1.5: dx = 1, fftfreq(4, 1) = [0, 0.25, −0.5, −0.25]; N = 5: [0, .2, .4, −.4, −.2]/dx.
  const auto k4 = grid_wavenumbers(4, 1.5);
  const std::vector<double> f4{0.0, 0.25, -0.5, -0.25};
  for (int j = 0; j < 4; ++j) EXPECT_DOUBLE_EQ(k4[j], 2.0 * M_PI * f4[j]);
  const auto k5 = grid_wavenumbers(5, 2.0);
  const std::vector<double> f5{0.0, 0.2, 0.4, -0.4, -0.2};
  for (int j = 0; j < 5; ++j) EXPECT_NEAR(k5[j], 2.0 * M_PI * f5[j], 1e-15);
}

// Reference numbers from numpy (the BohmianFlow formulas: meshgrid, fftn,
// exp(-0.5j V dt) · ifftn(exp(-1j K2/2 dt) · fftn(exp(-0.5j V dt) · psi))) on
// small Morse grids. Tolerance 1e-12: the same discrete operator, summed in a
// different order.
struct NumpyCase {
  int d, N;
  double T, dt;
  int64_t n_steps;
  double E_exact;
  std::vector<double> means, sigmas;  // at the last step
};

TEST(FftReference, MorseChainMatchesNumpyReference) {
  const std::vector<NumpyCase> cases = {
      {2, 32, 0.2, 0.01, 20, 1.3058562276044783,
       {0.9871040780446144, -0.002903693642985493},
       {0.7131514262848392, 0.7061460540846209}},
      {3, 16, 0.5, 0.02, 25, 1.8147034372663913,
       {0.9201020474000968, -0.0176777365994763, 0.018651142722767973},
       {0.7444885019493179, 0.705386828519505, 0.7052537258823441}},
      {4, 16, 0.1, 0.01, 10, 2.323929161426376,
       {0.9963793008966666, -0.0007355791961531971, 0.0007623649186395878,
        0.0007621701928427289},
       {0.7105466519817484, 0.7089723838377865, 0.7089730559286933, 0.7089720032107103}},
  };
  for (const auto& c : cases) {
    const auto system = make_system("morse_chain", {{"d", c.d}});
    const auto result = solve_fft_reference(*system, small_options(c.N, 8.0, c.T, c.dt));
    ASSERT_EQ(result.rows(), c.n_steps + 1) << "d=" << c.d;
    EXPECT_NEAR(result.E_exact, c.E_exact, 1e-12) << "d=" << c.d;
    EXPECT_NEAR(result.t.back(), c.n_steps * c.dt, 1e-15);
    for (int i = 0; i < c.d; ++i) {
      EXPECT_NEAR(result.means[c.n_steps * c.d + i], c.means[i], 1e-12) << "d=" << c.d << " i=" << i;
      EXPECT_NEAR(result.sigmas[c.n_steps * c.d + i], c.sigmas[i], 1e-12) << "d=" << c.d << " i=" << i;
    }
    EXPECT_NEAR(result.norm.front(), 1.0, 1e-13);
  }
}

TEST(FftReference, HarmonicGroundStateEnergyIsHalf) {
  // ψ₀ is the exact ground state, resolved with dx = 0.126 ≪ σ = 0.71 and
  // |ψ₀(±L)| ~ 1e-14: the FFT energy is exact to round-off.
  const auto oscillator = make_system("harmonic");
  const auto one = solve_fft_reference(*oscillator, small_options(128, 8.0, 0.0, 0.01));
  EXPECT_NEAR(one.E_exact, 0.5, 1e-12);
  EXPECT_NEAR(one.kinetic_energy, 0.25, 1e-12);  // virial: ⟨T⟩ = ⟨V⟩
  const auto plane = make_system("harmonic", {{"d", 2}, {"omega_1", 2.0}});
  const auto two = solve_fft_reference(*plane, small_options(96, 8.0, 0.0, 0.01));
  EXPECT_NEAR(two.E_exact, 0.5 + 1.0, 1e-12);  // ½ħω₀ + ½ħω₁
}

TEST(FftReference, HarmonicGroundStateStaysPut) {
  // Strang splitting leaves the ground state stationary up to O(dt²) width
  // breathing: |Δσ| ≲ dt²/8 σ ≈ 1e-5 for dt = 0.01.
  const auto oscillator = make_system("harmonic");
  const auto result = solve_fft_reference(*oscillator, small_options(128, 8.0, 2.0, 0.01));
  for (int64_t n = 0; n < result.rows(); ++n) {
    EXPECT_NEAR(result.means[n], 0.0, 1e-12);
    EXPECT_NEAR(result.sigmas[n], std::sqrt(0.5), 2e-5);
  }
}

TEST(FftReference, CoherentStateMeanFollowsCosine) {
  // Displaced ground state: ⟨x⟩(t) = x₀ cos ωt exactly; Strang's phase error
  // is ω³dt²t/24 ≈ 3e-6 · x₀ at t = π for dt = 0.005, ω = 1.
  const auto oscillator = make_system("harmonic", {{"mean", 1.0}});
  const auto result = solve_fft_reference(*oscillator, small_options(128, 8.0, M_PI, 0.005));
  double worst = 0.0;
  for (int64_t n = 0; n < result.rows(); ++n) {
    worst = std::max(worst, std::abs(result.means[n] - std::cos(result.t[n])));
    EXPECT_NEAR(result.sigmas[n], std::sqrt(0.5), 1e-5);
  }
  EXPECT_LT(worst, 1e-5);
  // Anisotropic 2D: each axis at its own frequency.
  const auto plane = make_system(
      "harmonic", {{"d", 2}, {"omega_0", 1.0}, {"omega_1", 2.0}, {"mean_0", 1.0}, {"mean_1", -0.5}});
  const auto result2 = solve_fft_reference(*plane, small_options(64, 7.0, 1.5, 0.005));
  for (int64_t n = 0; n < result2.rows(); ++n) {
    EXPECT_NEAR(result2.means[2 * n], std::cos(result2.t[n]), 1e-5);
    EXPECT_NEAR(result2.means[2 * n + 1], -0.5 * std::cos(2.0 * result2.t[n]), 1e-5);
  }
}

// a(t_n), accumulated in the propagation's own pass from ψ₀'s per-axis
// factors, against the direct sum Σ ψ₀* ψ_n dV over the ψ snapshots: d = 2, 3, 4
// (one, two and four rows of the last axis per block; d = 3, 4 with a complex,
// off-centre ψ₀).
TEST(FftReference, AutocorrelationIsTheDirectSumOverTheGrid) {
  struct Case {
    std::string potential;
    ParameterMap parameters;
    int N;
  };
  const std::vector<Case> cases{
      {"morse_chain", {{"d", 2}}, 32},
      {"harmonic", {{"d", 3}, {"mean", 0.7}, {"phase", -1.5}, {"omega_1", 1.6}}, 16},
      {"harmonic", {{"d", 4}, {"mean", -0.4}, {"phase", 0.8}, {"omega_2", 1.3}}, 10}};
  for (const auto& c : cases) {
    const auto system = make_system(c.potential, c.parameters);
    auto options = small_options(c.N, 8.0, 0.6, 0.01);
    options.save_psi_at = {0.0, 0.3, 0.6};
    const auto result = solve_fft_reference(*system, options);
    ASSERT_EQ(result.autocorrelation.size(), static_cast<size_t>(result.rows()));
    const double dV = std::pow(16.0 / (c.N - 1), system->dim());
    const auto& psi0 = result.snapshots[0];
    for (size_t s = 0; s < result.snapshots.size(); ++s) {
      Complex direct = 0.0;
      for (size_t i = 0; i < psi0.size(); ++i) direct += std::conj(psi0[i]) * result.snapshots[s][i];
      direct *= dV;
      const Complex streamed = result.autocorrelation[result.snapshot_steps[s]];
      EXPECT_LT(std::abs(streamed - direct), 1e-12) << system->label() << ", t = " << result.snapshot_times[s];
    }
    EXPECT_NEAR(result.autocorrelation[0].real(), 1.0, 1e-12) << system->label();
    EXPECT_NEAR(result.autocorrelation[0].imag(), 0.0, 1e-12) << system->label();
    EXPECT_LT(std::abs(result.autocorrelation.back()), 0.999) << system->label();  // it moved
  }

  const auto system = make_system("morse_chain", {{"d", 2}});
  auto options = small_options(32, 8.0, 0.6, 0.01);
  const auto result = solve_fft_reference(*system, options);
  // Without it: the same moments bit for bit, no a(t), no "a" in the file.
  options.stepper.autocorrelation = false;
  const auto plain = solve_fft_reference(*system, options);
  EXPECT_TRUE(plain.autocorrelation.empty());
  EXPECT_EQ(plain.means, result.means);
  EXPECT_EQ(plain.sigmas, result.sigmas);
  const auto path = temp_path("plain.npz");
  save_fft_reference(plain, path);
  EXPECT_FALSE(Npz::load(path).contains("a"));
  std::remove(path.c_str());
}

// FFTW_ESTIMATE and FFTW_MEASURE plans compute the same DFT: the same
// propagation to round-off, whichever the planner.
TEST(FftReference, ThePlannerChangesNothingButRoundOff) {
  const auto system = make_system("morse_chain", {{"d", 4}});
  auto options = small_options(12, 8.0, 0.2, 0.01);
  EXPECT_EQ(options.stepper.planner, FftwPlanner::kEstimate);
  const auto estimate = solve_fft_reference(*system, options);
  options.stepper.planner = FftwPlanner::kMeasure;
  const auto measure = solve_fft_reference(*system, options);
  ASSERT_EQ(estimate.rows(), measure.rows());
  for (size_t i = 0; i < estimate.means.size(); ++i) {
    EXPECT_NEAR(estimate.means[i], measure.means[i], 1e-12);
    EXPECT_NEAR(estimate.sigmas[i], measure.sigmas[i], 1e-12);
  }
  for (int64_t n = 0; n < estimate.rows(); ++n) {
    EXPECT_LT(std::abs(estimate.autocorrelation[n] - measure.autocorrelation[n]), 1e-12);
  }
  EXPECT_NEAR(estimate.energies.back(), measure.energies.back(), 1e-12);
  EXPECT_GT(std::abs(estimate.autocorrelation.back() - 1.0), 1e-3);  // it moved
}

// A V that overflows on the grid is refused, naming the point: e^{−β x} at
// x = −8 with β = 1000 is inf (the Morse chain's parameters are all finite).
TEST(FftReference, ANonFinitePotentialOnTheGridNamesThePoint) {
  const auto system = make_system("morse_chain", {{"d", 2}, {"beta", 1000.0}});
  try {
    solve_fft_reference(*system, small_options(8, 8.0, 0.1, 0.01));
    FAIL() << "an infinite V was propagated";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("V = inf at x = (-8, -8)"), std::string::npos) << e.what();
  }
}

// The coherent state's a(t) in closed form: Strang splitting's error, second order in dt.
TEST(FftReference, CoherentStateAutocorrelationMatchesTheClosedFormToSecondOrder) {
  const CoherentState state;
  const auto system = make_system("harmonic", state.parameters());
  double errors[2];
  for (const int refine : {1, 2}) {
    const auto result = solve_fft_reference(*system, small_options(64, 8.0, 1.6, 0.02 / refine));
    errors[refine - 1] = 0.0;
    for (int64_t n = 0; n < result.rows(); ++n) {
      errors[refine - 1] =
          std::max(errors[refine - 1], std::abs(result.autocorrelation[n] - state.autocorrelation(result.t[n])));
    }
  }
  EXPECT_LT(errors[1], 1e-4);
  EXPECT_GT(errors[0] / errors[1], 3.5);
  EXPECT_LT(errors[0] / errors[1], 4.5);
}

// ⟨H⟩ at t = 0 is E_exact; later it drifts by the splitting error only
// (second order in dt), and at the snapshots it is evaluated too.
TEST(FftReference, EnergyIsConservedToTheSplittingError) {
  const auto system = make_system("morse_chain", {{"d", 2}});
  double drifts[2];
  for (const int refine : {1, 2}) {
    auto options = small_options(64, 8.0, 1.0, 0.02 / refine);
    options.save_psi_at = {0.5};
    const auto result = solve_fft_reference(*system, options);
    ASSERT_EQ(result.energy_times, (std::vector<double>{0.0, 0.5, result.t.back()}));
    EXPECT_EQ(result.energies[0], result.E_exact);
    drifts[refine - 1] = result.max_energy_drift();
  }
  // energy() and final_energy() against the constructor's ⟨T⟩ + ⟨V⟩ of ψ₀.
  SplitOperator stepper(*system, small_options(64, 8.0, 1.0, 0.01).stepper);
  const double E0 = stepper.initial_kinetic_energy() + stepper.initial_potential_energy();
  EXPECT_NEAR(stepper.energy(), E0, 1e-12 * std::abs(E0));
  EXPECT_NEAR(stepper.final_energy(), E0, 1e-12 * std::abs(E0));
  EXPECT_THROW(stepper.advance(), std::logic_error);
  EXPECT_LT(drifts[1], 1e-3);
  EXPECT_GT(drifts[0] / drifts[1], 3.5);
  EXPECT_LT(drifts[0] / drifts[1], 4.5);
}

TEST(FftReference, NormIsConserved) {
  // Every factor is unitary: the norm drifts only by round-off (≈ 1e-15 per step).
  const auto system = make_system("morse_chain", {{"d", 2}});
  const auto result = solve_fft_reference(*system, small_options(48, 8.0, 1.0, 0.01));
  EXPECT_EQ(result.rows(), 101);
  EXPECT_NEAR(result.norm.front(), 1.0, 1e-13);
  EXPECT_LT(result.max_norm_drift(), 1e-12);
}

// ---- an independent oracle: the Strang step with a naive separable DFT ----------

// In-place DFT along `axis` of a (N,)*d array: sign −1 forward, +1 backward (unnormalised).
void naive_dft(std::vector<Complex>& a, int d, int N, int axis, int sign) {
  int64_t S = 1;
  for (int i = axis + 1; i < d; ++i) S *= N;
  const int64_t A = static_cast<int64_t>(a.size()) / (S * N);
  std::vector<Complex> line(N), out(N);
  for (int64_t p = 0; p < A; ++p) {
    for (int64_t s = 0; s < S; ++s) {
      for (int j = 0; j < N; ++j) line[j] = a[(p * N + j) * S + s];
      for (int m = 0; m < N; ++m) {
        Complex sum = 0.0;
        for (int j = 0; j < N; ++j) sum += line[j] * std::polar(1.0, sign * 2.0 * M_PI * j * m / N);
        out[m] = sum;
      }
      for (int j = 0; j < N; ++j) a[(p * N + j) * S + s] = out[j];
    }
  }
}

// Flat index → coordinate of `axis`.
double coordinate(int64_t e, int d, int N, int axis, const std::vector<double>& x) {
  for (int i = d - 1; i > axis; --i) e /= N;
  return x[e % N];
}

struct NaiveState {
  std::vector<Complex> psi;
  std::vector<double> V;
};

NaiveState naive_initial(const System& system, int N, double L) {
  const int d = system.dim();
  const auto x = grid_axis(N, L);
  const double dV = std::pow(x[1] - x[0], d);
  int64_t total = 1;
  for (int i = 0; i < d; ++i) total *= N;
  auto points = torch::empty({total, d}, torch::kFloat64);
  auto acc = points.accessor<double, 2>();
  NaiveState state;
  state.psi.resize(total);
  const auto& init = system.initial_state();
  double norm = 0.0;
  for (int64_t e = 0; e < total; ++e) {
    double exponent = 0.0, phase = 0.0;
    for (int i = 0; i < d; ++i) {
      const double xi = coordinate(e, d, N, i, x);
      acc[e][i] = xi;
      exponent -= std::pow(xi - init.mean[i], 2) / (4.0 * init.sigma[i] * init.sigma[i]);
      phase += system.mass() * init.velocity[i] * xi / system.hbar();
    }
    state.psi[e] = std::exp(exponent) * std::polar(1.0, phase);
    norm += std::norm(state.psi[e]) * dV;
  }
  for (auto& value : state.psi) value /= std::sqrt(norm);
  const auto V = system.potential(points).contiguous();
  state.V.assign(V.data_ptr<double>(), V.data_ptr<double>() + total);
  return state;
}

void naive_step(NaiveState& s, const System& system, int N, double L, double dt) {
  const int d = system.dim();
  const auto k = grid_wavenumbers(N, L);
  const double hbar = system.hbar(), m = system.mass();
  const int64_t total = static_cast<int64_t>(s.psi.size());
  for (int64_t e = 0; e < total; ++e) s.psi[e] *= std::polar(1.0, -0.5 * s.V[e] * dt / hbar);
  for (int i = 0; i < d; ++i) naive_dft(s.psi, d, N, i, -1);
  for (int64_t e = 0; e < total; ++e) {
    double k2 = 0.0;
    for (int i = 0; i < d; ++i) k2 += std::pow(coordinate(e, d, N, i, k), 2);
    s.psi[e] *= std::polar(1.0, -hbar * k2 / (2.0 * m) * dt) / static_cast<double>(total);
  }
  for (int i = 0; i < d; ++i) naive_dft(s.psi, d, N, i, +1);
  for (int64_t e = 0; e < total; ++e) s.psi[e] *= std::polar(1.0, -0.5 * s.V[e] * dt / hbar);
}

Moments naive_moments(const std::vector<Complex>& psi, int d, int N, double L) {
  const auto x = grid_axis(N, L);
  const double dV = std::pow(x[1] - x[0], d);
  Moments m;
  double total = 0.0;
  for (const auto& value : psi) total += std::norm(value);
  m.norm = total * dV;
  for (int i = 0; i < d; ++i) {
    double s1 = 0.0, s2 = 0.0;
    for (size_t e = 0; e < psi.size(); ++e) {
      const double xi = coordinate(static_cast<int64_t>(e), d, N, i, x);
      s1 += xi * std::norm(psi[e]);
      s2 += xi * xi * std::norm(psi[e]);
    }
    m.mean.push_back(s1 / total);
    m.sigma.push_back(std::sqrt(std::max(s2 / total - std::pow(s1 / total, 2), 0.0)));
  }
  return m;
}

// The fused inner/outer passes (every split from d = 1 to 5, even and odd N)
// against the plain Strang step; a system with a different mean, width,
// velocity and frequency on every axis catches any axis mix-up. Tolerance
// 1e-12: the same operator, different round-off.
TEST(FftReference, SplitPassesMatchNaiveStrangStep) {
  struct Case { int d, N; };
  for (const Case c : {Case{1, 11}, Case{2, 8}, Case{3, 9}, Case{4, 6}, Case{5, 5}}) {
    ParameterMap parameters{{"d", c.d}};
    for (int i = 0; i < c.d; ++i) {
      const std::string s = "_" + std::to_string(i);
      parameters["omega" + s] = 0.8 + 0.3 * i;
      parameters["mean" + s] = 0.4 - 0.3 * i;
      parameters["sigma0" + s] = 0.9 + 0.1 * i;
      parameters["phase" + s] = 0.5 - 0.4 * i;
    }
    const auto system = make_system("harmonic", parameters);
    const double L = 4.0, dt = 0.05;
    SplitOperatorOptions options;
    options.N = c.N;
    options.L = L;
    options.dt = dt;
    SplitOperator stepper(*system, options);
    NaiveState naive = naive_initial(*system, c.N, L);
    const std::string where = "d=" + std::to_string(c.d) + " N=" + std::to_string(c.N);
    for (int n = 0; n < 4; ++n) {
      if (n == 2) {  // a read between steps must not disturb the state
        const auto psi = stepper.wavefunction();
        for (size_t e = 0; e < psi.size(); ++e) {
          ASSERT_NEAR(std::abs(psi[e] - naive.psi[e]), 0.0, 1e-12) << where << " e=" << e;
        }
      }
      const Moments got = stepper.advance();
      const Moments expected = naive_moments(naive.psi, c.d, c.N, L);
      EXPECT_NEAR(got.norm, expected.norm, 1e-12) << where;
      for (int i = 0; i < c.d; ++i) {
        EXPECT_NEAR(got.mean[i], expected.mean[i], 1e-12) << where << " n=" << n << " i=" << i;
        EXPECT_NEAR(got.sigma[i], expected.sigma[i], 1e-12) << where << " n=" << n << " i=" << i;
      }
      naive_step(naive, *system, c.N, L, dt);
    }
    EXPECT_EQ(stepper.step(), 4);
    const auto psi = stepper.wavefunction();
    for (size_t e = 0; e < psi.size(); ++e) {
      ASSERT_NEAR(std::abs(psi[e] - naive.psi[e]), 0.0, 1e-12) << where << " e=" << e;
    }
    const auto rho = stepper.density();
    for (size_t e = 0; e < psi.size(); ++e) ASSERT_NEAR(rho[e], std::norm(naive.psi[e]), 1e-12);

    // Bohmian velocity along the last axis against the naive spectral derivative.
    const int axis = c.d - 1;
    std::vector<Complex> derivative = naive.psi;
    naive_dft(derivative, c.d, c.N, axis, -1);
    const auto k = grid_wavenumbers(c.N, L);
    for (size_t e = 0; e < derivative.size(); ++e) {
      derivative[e] *= Complex(0.0, coordinate(static_cast<int64_t>(e), c.d, c.N, axis, k) / c.N);
    }
    naive_dft(derivative, c.d, c.N, axis, +1);
    // Round-off in ψ and ψ′ is relative to max|ψ|, so v = Im(ψ′/ψ) is good to ~1e-15 max|ψ|/|ψ|.
    double largest = 0.0;
    for (const auto& value : naive.psi) largest = std::max(largest, std::abs(value));
    const auto v = stepper.velocity_field(axis);
    for (size_t e = 0; e < v.size(); ++e) {
      const double expected = (derivative[e] / naive.psi[e]).imag();
      ASSERT_NEAR(v[e], expected, 1e-12 * (1.0 + std::abs(expected)) * largest / std::abs(naive.psi[e]))
          << where << " e=" << e;
    }
  }
}

TEST(FftReference, SnapshotsAreTakenAtRoundedSteps) {
  const auto oscillator = make_system("harmonic", {{"mean", 0.5}});
  auto options = small_options(64, 8.0, 0.1, 0.01);
  options.save_psi_at = {0.1, 0.0, 0.049, 0.05};  // steps 10, 0, 5, 5
  const auto result = solve_fft_reference(*oscillator, options);
  ASSERT_EQ(result.snapshots.size(), 3u);
  EXPECT_EQ(result.snapshot_steps, (std::vector<int64_t>{0, 5, 10}));
  EXPECT_EQ(result.snapshot_times, (std::vector<double>{0.0, 0.049, 0.1}));
  const double dx = grid_axis(64, 8.0)[1] - grid_axis(64, 8.0)[0];
  const auto x = grid_axis(64, 8.0);
  for (size_t s = 0; s < result.snapshots.size(); ++s) {
    double norm = 0.0, mean = 0.0;
    for (int j = 0; j < 64; ++j) {
      norm += std::norm(result.snapshots[s][j]) * dx;
      mean += x[j] * std::norm(result.snapshots[s][j]) * dx;
    }
    EXPECT_NEAR(norm, 1.0, 1e-12);
    EXPECT_NEAR(mean, result.means[result.snapshot_steps[s]], 1e-12);  // the same ψ_n
  }
  // ψ₀ is real and positive for a state at rest.
  for (int j = 0; j < 64; ++j) EXPECT_NEAR(result.snapshots[0][j].imag(), 0.0, 1e-15);
}

TEST(FftReference, SavedFilesHoldTheReferenceKeys) {
  const auto system = make_system("morse_chain", {{"d", 2}, {"q0", 0.5}});
  auto options = small_options(16, 8.0, 0.05, 0.01);
  options.save_psi_at = {0.0, 0.05};
  const auto result = solve_fft_reference(*system, options);
  const std::string moments_path = temp_path("moments.npz");
  const std::string psi_path = temp_path("psi.npz");
  save_fft_reference(result, moments_path);
  save_psi_snapshots(result, psi_path);

  const auto moments = Npz::load(moments_path);
  EXPECT_EQ(moments.tensor("t", torch::kFloat64, {6}).size(0), 6);
  EXPECT_EQ(moments.tensor("means", torch::kFloat64, {6, 2}).size(1), 2);
  EXPECT_EQ(moments.tensor("sigmas", torch::kFloat64, {6, 2}).size(0), 6);
  EXPECT_EQ(moments.tensor("norm", torch::kFloat64, {6}).size(0), 6);
  EXPECT_DOUBLE_EQ(moments.scalar_double("E_exact"), result.E_exact);
  EXPECT_EQ(moments.scalar_int("d"), 2);
  EXPECT_EQ(moments.scalar_int("N"), 16);
  EXPECT_DOUBLE_EQ(moments.scalar_double("L"), 8.0);
  EXPECT_DOUBLE_EQ(moments.scalar_double("T"), 0.05);
  EXPECT_DOUBLE_EQ(moments.scalar_double("dt"), 0.01);
  EXPECT_DOUBLE_EQ(moments.scalar_double("q0"), 0.5);
  EXPECT_DOUBLE_EQ(moments.scalar_double("D"), 12.5);
  EXPECT_EQ(moments.string("potential"), "morse_chain");
  EXPECT_EQ(moments.string("label"), system->label());
  EXPECT_DOUBLE_EQ(moments.doubles("means")[5 * 2], result.means[5 * 2]);

  const auto psi = Npz::load(psi_path);
  const auto psi_1 = psi.tensor("psi_1", torch::kComplexDouble, {16, 16});
  const auto parts = torch::view_as_real(psi_1).contiguous();  // (16, 16, 2)
  const double* stored = parts.data_ptr<double>();
  for (int e = 0; e < 256; ++e) {
    ASSERT_EQ(stored[2 * e], result.snapshots[1][e].real());
    ASSERT_EQ(stored[2 * e + 1], result.snapshots[1][e].imag());
  }
  EXPECT_EQ(psi.doubles("t_snap"), (std::vector<double>{0.0, 0.05}));
  EXPECT_EQ(psi.tensor("grids", torch::kFloat64, {2, 16}).size(0), 2);
  EXPECT_EQ(psi.scalar_int("d"), 2);
  std::filesystem::remove(moments_path);
  std::filesystem::remove(psi_path);

  FftResult empty = result;
  empty.snapshots.clear();
  EXPECT_THROW(save_psi_snapshots(empty, psi_path), std::invalid_argument);
}

TEST(FftReference, StepCountIsIntOfTOverDt) {
  auto options = small_options(16, 8.0, 3.14159, 0.01);
  EXPECT_EQ(options.n_steps(), 314);  // the reference's 315 rows
  options.T = 1.0;
  EXPECT_EQ(options.n_steps(), 100);
  options.T = 0.0;
  EXPECT_EQ(options.n_steps(), 0);
}

TEST(FftReference, ValidateNamesTheBrokenField) {
  const auto message = [](const FftOptions& options) {
    try {
      options.validate();
    } catch (const std::invalid_argument& error) {
      return std::string(error.what());
    }
    return std::string("no error");
  };
  auto options = small_options(16, 8.0, 1.0, 0.01);
  options.stepper.dt = -1.0;
  EXPECT_NE(message(options).find("dt = -1"), std::string::npos) << message(options);
  options = small_options(1, 8.0, 1.0, 0.01);
  EXPECT_NE(message(options).find("N = 1"), std::string::npos) << message(options);
  options = small_options(16, 0.0, 1.0, 0.01);
  EXPECT_NE(message(options).find("L = 0"), std::string::npos) << message(options);
  options = small_options(16, 8.0, 1.0, 0.01);
  options.save_psi_at = {0.5, 1.5};
  EXPECT_NE(message(options).find("save_psi_at[1] = 1.5"), std::string::npos) << message(options);
  options = small_options(16, 8.0, -1.0, 0.01);
  EXPECT_NE(message(options).find("T = -1"), std::string::npos) << message(options);
}

TEST(FftReference, RefusesGridsThatDoNotFitInMemory) {
  const auto system = make_system("harmonic", {{"d", 6}});
  SplitOperatorOptions options;
  options.N = 2048;  // 2048⁶ · 32 B ≈ 2e21 B
  try {
    SplitOperator stepper(*system, options);
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("memory"), std::string::npos) << error.what();
  }
  const auto seven = make_system("harmonic", {{"d", 7}});
  options.N = 2;
  EXPECT_THROW(SplitOperator(*seven, options), std::invalid_argument);
}

TEST(FftReference, ParsesParameterAssignments) {
  EXPECT_EQ(parse_parameter_assignment("sigma0=0.25"), (std::pair<std::string, double>{"sigma0", 0.25}));
  EXPECT_EQ(parse_parameter_assignment("omega_1=-2e-1"),
            (std::pair<std::string, double>{"omega_1", -0.2}));
  EXPECT_THROW(parse_parameter_assignment("sigma0"), std::invalid_argument);
  EXPECT_THROW(parse_parameter_assignment("=1"), std::invalid_argument);
  EXPECT_THROW(parse_parameter_assignment("a=1x"), std::invalid_argument);
  EXPECT_THROW(parse_parameter_assignment("a="), std::invalid_argument);
}

TEST(FftReference, JobDerivesThePsiPath) {
  FftReferenceJob job;
  job.output = "data/fft_ref_morse_d4.npz";
  EXPECT_EQ(job.psi_output_path(), "data/fft_ref_morse_d4_psi.npz");
  job.psi_output = "psi.npz";
  EXPECT_EQ(job.psi_output_path(), "psi.npz");
}

}  // namespace
}  // namespace bohmflow
