// Helpers shared by the test files (header-only; not a test unit itself).
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "bohmflow/checkpoint.hpp"
#include "bohmflow/distributed.hpp"
#include "bohmflow/fft_reference.hpp"
#include "bohmflow/potentials.hpp"
#include "bohmflow/psi_snapshots.hpp"

namespace bohmflow {

// A port the kernel says is free right now.
// Multi-process tests on CPUs need Gloo, which CUDA wheels of PyTorch lack.
inline bool built_with_gloo() {
  const auto backends = distributed_backends();
  return std::find(backends.begin(), backends.end(), "gloo") != backends.end();
}
#define BOHMFLOW_REQUIRE_GLOO() \
  if (!built_with_gloo()) GTEST_SKIP() << "built without Gloo (no multi-process training on CPUs)"

inline int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  const int port = ntohs(address.sin_port);
  close(fd);
  return port;
}

// Scratch files, one folder per test: ctest runs every test as its own
// process, in parallel, so two tests must never share a file name.
inline std::filesystem::path scratch_path(const std::string& name) {
  const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
  const auto dir = std::filesystem::path(BOHMFLOW_BINARY_DIR) / "test_scratch" / test->test_suite_name() /
                   test->name();
  std::filesystem::create_directories(dir);
  return dir / name;
}

// ψ snapshots at `times` of a harmonic system's FFT reference on N points per
// axis of [−L, L] (one thread), written to the scratch file `name`; returns its path.
inline std::string write_harmonic_snapshots(const ParameterMap& system, int N, double L,
                                            std::vector<double> times, const std::string& name) {
  FftOptions fft;
  fft.stepper.N = N;
  fft.stepper.L = L;
  fft.stepper.threads = 1;
  fft.T = times.back();
  fft.save_psi_at = std::move(times);
  const auto path = scratch_path(name).string();
  save_psi_snapshots(solve_fft_reference(*make_system("harmonic", system), fft), path);
  return path;
}

// A whole text file ("" when missing).
inline std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The system of `system_args` with a zero network on a tiny architecture:
// the score is the Gaussian baseline's alone.
inline Model baseline_only_model(const std::string& potential, const ParameterMap& system) {
  ModelArgs args;
  args.potential = potential;
  args.system = system;
  args.network.hidden_dims = {4};
  args.network.n_freq = 1;
  auto model = build_model(args);
  torch::NoGradGuard no_grad;
  for (auto& p : model.network->parameters()) p.zero_();
  return model;
}

// A harmonic system with ħ ≠ 1, m ≠ 1, two frequencies, a shifted centre, a
// squeezed and displaced initial state and a phase: nothing is 1 or 0 by accident.
inline ParameterMap general_harmonic_parameters() {
  return {{"d", 2},          {"hbar", 0.7},    {"mass", 1.3},  {"omega_0", 1.0}, {"omega_1", 1.7},
          {"centre", 0.4},   {"mean", 1.1},    {"sigma0", 0.35}, {"phase", -2.0}};
}

// Saves `model` as a checkpoint trained with T and dt (epoch 0) and returns its path.
inline std::string save_model_checkpoint(const Model& model, const std::string& potential,
                                         const std::string& baseline, double T, double dt,
                                         const std::filesystem::path& path) {
  Checkpoint checkpoint;
  checkpoint.model.potential = potential;
  checkpoint.model.system = model.system->parameters();
  checkpoint.model.network = model.network->options();
  checkpoint.model.baseline = parse_option<BaselineKind>(baseline);
  checkpoint.training_json = "{\"T\": " + std::to_string(T) + ", \"dt\": " + std::to_string(dt) + "}";
  store_parameters(*model.network, checkpoint);
  save_checkpoint(path.string(), checkpoint);
  return path.string();
}

// A coherent state (ground-state width σ² = ħ/2mω, displaced by q₀ − a, with
// momentum p₀ = ħc) in the harmonic well of each axis, ħ = 0.7, m = 1.3,
// ω = 1, 1.7: the Gaussian baseline is exact, so the learned part is zero and
// only the time step separates the trajectories' wave from the closed form.
//   q_t = a + (q₀ − a) cos ωt + p₀/(mω) sin ωt,   p_t = −mω(q₀ − a) sin ωt + p₀ cos ωt,
//   S(x, t) = −ħωt/2 + p_t(x − a) − p_t(q_t − a)/2 + p₀a + p₀(q₀ − a)/2   (S₀ = p₀x),
//   a(t) = Π_axes e^{−iωt/2} exp(−|α|²(1 − e^{−iωt})),   α = (q₀ − a)/2σ + iσp₀/ħ.
struct CoherentState {
  double hbar = 0.7, mass = 1.3, centre = 0.4, q0 = 1.1, c = -2.0;
  std::vector<double> omega{1.0, 1.7};
  ParameterMap parameters() const {
    return {{"d", 2},          {"hbar", hbar}, {"mass", mass}, {"omega_0", omega[0]}, {"omega_1", omega[1]},
            {"centre", centre}, {"mean", q0},   {"phase", c}};
  }
  std::complex<double> autocorrelation(double t) const {
    std::complex<double> a = 1.0;
    for (const double w : omega) {
      const double sigma = std::sqrt(hbar / (2 * mass * w));
      const double alpha2 = std::pow((q0 - centre) / (2 * sigma), 2) + std::pow(sigma * hbar * c / hbar, 2);
      a *= std::exp(std::complex<double>(0, -w * t / 2)) *
           std::exp(-alpha2 * (1.0 - std::exp(std::complex<double>(0, -w * t))));
    }
    return a;
  }
  // S(x, t) summed over the axes, for x (M, 2).
  torch::Tensor phase(const torch::Tensor& x, double t) const {
    auto S = torch::zeros({x.size(0)}, torch::kFloat64);
    const double p0 = hbar * c;
    for (int i = 0; i < 2; ++i) {
      const double w = omega[i];
      const double q = centre + (q0 - centre) * std::cos(w * t) + p0 / (mass * w) * std::sin(w * t);
      const double p = -mass * w * (q0 - centre) * std::sin(w * t) + p0 * std::cos(w * t);
      S += -hbar * w * t / 2 + p * (x.select(1, i) - centre) - p * (q - centre) / 2 + p0 * centre +
           p0 * (q0 - centre) / 2;
    }
    return S;
  }
};

}  // namespace bohmflow
