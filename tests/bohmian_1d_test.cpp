#include "bohmflow/bohmian_1d.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "bohmflow/npz.hpp"
#include "bohmflow/potentials.hpp"
#include "../src/interpolation.hpp"

namespace bohmflow {
namespace {

using detail::interpolate_uniform;

BohmianOptions small_run(int N, double dt, double T, int particles) {
  BohmianOptions options;
  options.stepper.N = N;
  options.stepper.dt = dt;
  options.T = T;
  options.n_particles = particles;
  return options;
}

TEST(Bohmian1d, InitialPositionsAreSortedBoxMullerSamples) {
  const auto well = make_system("double_well");  // μ = 0, σ = 0.5
  const auto x = sample_initial_positions(*well, 100, 42);
  ASSERT_EQ(x.size(), 100u);
  EXPECT_TRUE(std::is_sorted(x.begin(), x.end()));
  EXPECT_EQ(x, sample_initial_positions(*well, 100, 42));  // deterministic
  EXPECT_NE(x, sample_initial_positions(*well, 100, 43));
  // The first pair by hand: u = (1 + (r >> 11)) 2⁻⁵³, z = sqrt(−2 ln u₁) (cos, sin)(2π u₂).
  std::mt19937_64 generator(7);
  const double u1 = (1.0 + static_cast<double>(generator() >> 11)) * 0x1.0p-53;
  const double u2 = (1.0 + static_cast<double>(generator() >> 11)) * 0x1.0p-53;
  const double z0 = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
  const double z1 = std::sqrt(-2.0 * std::log(u1)) * std::sin(2.0 * M_PI * u2);
  const auto pair = sample_initial_positions(*well, 2, 7);
  EXPECT_DOUBLE_EQ(pair[0], 0.5 * std::min(z0, z1));
  EXPECT_DOUBLE_EQ(pair[1], 0.5 * std::max(z0, z1));
  // Moments of many samples: 5 standard errors.
  const auto many = sample_initial_positions(*well, 40000, 1);
  double mean = 0.0, second = 0.0;
  for (double value : many) {
    mean += value / many.size();
    second += value * value / many.size();
  }
  EXPECT_NEAR(mean, 0.0, 5 * 0.5 / std::sqrt(40000.0));
  EXPECT_NEAR(second, 0.25, 5 * 0.25 * std::sqrt(2.0 / 40000.0));
}

TEST(Bohmian1d, InterpolationIsNumpyInterp) {
  const std::vector<double> grid{-1.0, 0.0, 1.0, 2.0};
  const std::vector<double> values{3.0, 1.0, 2.0, -2.0};
  const auto got = interpolate_uniform(grid, values, {-5.0, -1.0, -0.25, 0.5, 1.75, 2.0, 9.0});
  const std::vector<double> expected{3.0, 3.0, 1.5, 1.5, -1.0, -2.0, -2.0};
  for (size_t p = 0; p < expected.size(); ++p) EXPECT_NEAR(got[p], expected[p], 1e-15) << p;
  EXPECT_THROW(interpolate_uniform(grid, {1.0}, {0.0}), std::invalid_argument);
}

TEST(Bohmian1d, VelocityOfAMovingPacketIsItsGroupVelocity) {
  // ψ₀ = Gaussian · e^{icx}: v = ħc/m exactly where ψ is not negligible; the
  // periodic wrap of the spectral derivative costs ~|ψ(±L)|/|ψ(x)| ≲ 1e-10 in |x| < 2.
  const auto packet = make_system("harmonic", {{"phase", 0.7}});
  SplitOperatorOptions options;
  options.N = 256;
  SplitOperator stepper(*packet, options);
  const auto v = stepper.velocity_field(0);
  const auto& x = stepper.axis();
  for (size_t j = 0; j < x.size(); ++j) {
    if (std::abs(x[j]) < 2.0) EXPECT_NEAR(v[j], 0.7, 1e-9) << "x=" << x[j];
  }
}

TEST(Bohmian1d, CoherentStateParticlesMoveRigidly) {
  // A displaced ground state translates without changing shape, so every
  // particle moves with the centre: x_p(t) = x_p(0) + x₀(cos t − 1). Heun's
  // error is O(dt²) (≈ 1e-6 here), Euler's O(dt) (≈ 1e-3).
  const auto oscillator = make_system("harmonic", {{"mean", 1.0}});
  auto options = small_run(256, 0.005, 1.5, 20);
  options.save_every = 50;
  const auto heun = solve_bohmian_1d(*oscillator, options);
  options.integrator = "euler";
  const auto euler = solve_bohmian_1d(*oscillator, options);
  ASSERT_EQ(heun.saves(), 7);  // steps 0, 50, …, 300
  double heun_error = 0.0, euler_error = 0.0;
  for (int64_t s = 0; s < heun.saves(); ++s) {
    for (int p = 0; p < 20; ++p) {
      const double expected = heun.positions[p] + std::cos(heun.t[s]) - 1.0;
      heun_error = std::max(heun_error, std::abs(heun.positions[s * 20 + p] - expected));
      euler_error = std::max(euler_error, std::abs(euler.positions[s * 20 + p] - expected));
    }
  }
  EXPECT_LT(heun_error, 2e-5);
  EXPECT_LT(euler_error, 5e-3);
  EXPECT_LT(heun_error, euler_error / 20);
}

TEST(Bohmian1d, DoubleWellTrajectoriesDoNotCross) {
  const auto well = make_system("double_well");
  auto options = small_run(512, 0.005, 2.0, 60);
  options.save_every = 4;
  const auto result = solve_bohmian_1d(*well, options);
  ASSERT_EQ(result.saves(), 101);  // 400 steps, every 4
  for (int64_t s = 0; s < result.saves(); ++s) {
    const auto first = result.positions.begin() + s * 60;
    for (int p = 0; p + 1 < 60; ++p) {
      ASSERT_LT(first[p], first[p + 1]) << "t=" << result.t[s] << " p=" << p;
    }
    EXPECT_NEAR(result.norm[s], 1.0, 1e-12);  // Σ|ψ|² dx
  }
  // The packet spreads: the outermost particles leave the barrier top.
  EXPECT_GT(result.positions.back() - result.positions[result.positions.size() - 60],
            result.positions[59] - result.positions[0]);
}

TEST(Bohmian1d, SavesTheFigureKeys) {
  const auto well = make_system("double_well", {{"a", 1.5}});
  auto options = small_run(128, 0.01, 0.25, 8);
  const auto result = solve_bohmian_1d(*well, options);
  ASSERT_EQ(result.saves(), 4);  // steps 0, 10, 20 and the last, 25
  EXPECT_NEAR(result.t.back(), 0.25, 1e-15);
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("bohmflow_fig1_" + std::to_string(::getpid()) + ".npz"))
                               .string();
  save_bohmian_1d(result, path);
  const auto npz = Npz::load(path);
  EXPECT_EQ(npz.tensor("rho", torch::kFloat32, {4, 128}).size(1), 128);
  EXPECT_EQ(npz.tensor("traj_x", torch::kFloat64, {4, 8}).size(0), 4);
  EXPECT_EQ(npz.tensor("x_grid", torch::kFloat64, {128}).size(0), 128);
  EXPECT_EQ(npz.tensor("V_grid", torch::kFloat64, {128}).size(0), 128);
  EXPECT_EQ(npz.tensor("t_arr", torch::kFloat64, {4}).size(0), 4);
  EXPECT_DOUBLE_EQ(npz.scalar_double("a"), 1.5);
  EXPECT_DOUBLE_EQ(npz.scalar_double("D"), 1.0);
  EXPECT_DOUBLE_EQ(npz.scalar_double("sigma0"), 0.5);
  EXPECT_DOUBLE_EQ(npz.scalar_double("T"), 0.25);
  EXPECT_DOUBLE_EQ(npz.scalar_double("dt"), 0.01);
  EXPECT_EQ(npz.scalar_int("n_particles"), 8);
  EXPECT_EQ(npz.string("integrator"), "heun");
  // V_grid is V(x) = D (x²/a² − 1)².
  const auto V = npz.doubles("V_grid");
  const auto x = npz.doubles("x_grid");
  EXPECT_NEAR(V[5], std::pow(x[5] * x[5] / 2.25 - 1.0, 2), 1e-13);
  // ρ in float32: 7 significant digits of the float64 density.
  const auto rho = npz.tensor("rho", torch::kFloat64, {4, 128});
  EXPECT_NEAR(rho[3][64].item<double>(), result.rho[3 * 128 + 64], 1e-7 * result.rho[3 * 128 + 64]);
  std::filesystem::remove(path);
}

TEST(Bohmian1d, RejectsBadInput) {
  const auto plane = make_system("double_well", {{"d", 2}});
  EXPECT_THROW(solve_bohmian_1d(*plane, small_run(64, 0.01, 0.1, 4)), std::invalid_argument);
  auto options = small_run(64, 0.01, 0.1, 4);
  options.integrator = "rk4";
  try {
    options.validate();
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("integrator = 'rk4'"), std::string::npos);
  }
  options = small_run(64, 0.01, 0.1, 0);
  EXPECT_THROW(options.validate(), std::invalid_argument);
}

}  // namespace
}  // namespace bohmflow
