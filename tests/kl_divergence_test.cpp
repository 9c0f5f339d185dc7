#include "bohmflow/kl_divergence.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>

#include "bohmflow/baseline.hpp"
#include "bohmflow/fft_reference.hpp"
#include "bohmflow/npz.hpp"
#include "bohmflow/potentials.hpp"
#include "bohmflow/psi_snapshots.hpp"
#include "bohmflow/score_network.hpp"
#include "bohmflow/trajectory.hpp"
#include "../src/interpolation.hpp"
#include "test_support.hpp"

namespace bohmflow {
namespace {

using detail::interpolate_multilinear;

std::string scratch(const std::string& name) { return scratch_path(name).string(); }

TEST(KlDivergence, InterpolationIsExactForMultilinearFieldsAndNanOutside) {
  const std::vector<std::vector<double>> axes = {grid_axis(5, 2.0), grid_axis(4, 1.0), grid_axis(6, 3.0)};
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  const auto grid = torch::meshgrid({torch::tensor(axes[0], f64), torch::tensor(axes[1], f64),
                                     torch::tensor(axes[2], f64)},
                                    "ij");
  const auto f = [](const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& z) {
    return 1.0 + 2.0 * x - y + 0.5 * x * y - 0.3 * y * z + 0.7 * x * y * z;
  };
  const auto field = f(grid[0], grid[1], grid[2]);
  torch::manual_seed(1);
  const auto u = torch::rand({200, 3}, f64) * 1.98 - 0.99;  // inside
  const auto points = u * torch::tensor({2.0, 1.0, 3.0}, f64);
  const auto values = interpolate_multilinear(axes, field, points);
  const auto exact = f(points.select(1, 0), points.select(1, 1), points.select(1, 2));
  // A trilinear function is reproduced exactly by trilinear interpolation: round-off only.
  EXPECT_LT((values - exact).abs().max().item<double>(), 1e-12);
  const auto outside = torch::tensor({{2.5, 0.0, 0.0}, {0.0, -1.01, 0.0}, {0.0, 0.0, 3.0}}, f64);
  EXPECT_TRUE(torch::isnan(interpolate_multilinear(axes, field, outside)).all().item<bool>());
}

// A displaced, squeezed Gaussian in a harmonic well: the Gaussian baseline is
// its exact score, so ρ_θ = ρ and the KL estimate is only the interpolation
// error of log ρ on the grid (dx = 0.19 here).
class KlOfAHarmonicPacket : public ::testing::Test {
 protected:
  void SetUp() override {
    const ParameterMap packet{{"d", 2}, {"mean", 1.0}, {"sigma0", 0.5}};
    system_ = make_system("harmonic", packet);
    psi_ = load_psi_snapshots(write_harmonic_snapshots(packet, 64, 6.0, {0.0, 1.0}, "harmonic_packet_psi.npz"));
    options_.M = 2000;
    options_.batch = 700;  // not a divisor of M
  }
  ScoreNet network(const std::string& baseline) const {
    ScoreNetOptions net;
    net.d = 2;
    net.hidden_dims = {4};
    net.n_freq = 1;
    BaselineOptions b;
    b.kind = parse_option<BaselineKind>(baseline);
    ScoreNet n(net, std::make_shared<GaussianBaseline>(*system_, b));
    torch::NoGradGuard no_grad;
    for (auto& p : n->parameters()) p.zero_();
    return n;
  }
  std::unique_ptr<System> system_;
  PsiSnapshots psi_;
  KlOptions options_;
};

TEST_F(KlOfAHarmonicPacket, ExactScoreGivesKlNearZero) {
  int64_t calls = 0;
  const auto result = reverse_kl(*system_, *network("minimum"), psi_, options_,
                                 [&calls](int64_t, int64_t) { ++calls; });
  EXPECT_EQ(calls, 3);
  ASSERT_EQ(result.rows.size(), 2u);
  EXPECT_EQ(result.rows[1].step, 100);
  for (const auto& row : result.rows) {
    EXPECT_EQ(row.out_of_grid, 0);
    // Interpolating log ρ (a concave quadratic) linearly errs downwards by
    // dx²/12·|∂²log ρ| per axis on average: 0.024 in all at σ = 0.5, less once
    // the packet has spread. So KL is small and positive.
    EXPECT_GT(row.kl, 0.0) << row.t;
    EXPECT_LT(row.kl, 0.04) << row.t;
    EXPECT_NEAR(row.kl, row.cross_entropy - row.entropy, 1e-12);
    EXPECT_GT(row.kl_error, 0.0);
    EXPECT_LT(row.kl_error, row.kl);
  }
  // At t = 0, H(ρ_θ) is a Monte Carlo estimate of the Gaussian entropy
  // 1 + ln 2π + 2 ln σ (standard error about sqrt(2/M) = 0.03).
  EXPECT_NEAR(result.rows[0].entropy, 1.0 + std::log(2 * M_PI) + 2 * std::log(0.5), 0.1);
  EXPECT_NE(result.table().find("out-of-grid"), std::string::npos);

  const auto path = scratch("kl.npz");
  save_kl(result, path);
  const auto npz = Npz::load(path);
  EXPECT_EQ(npz.keys(), (std::vector<std::string>{"t", "step", "kl", "kl_err", "H_L", "H_cross", "n_out",
                                                  "M", "floor"}));
  EXPECT_EQ(npz.doubles("kl")[1], result.rows[1].kl);
  EXPECT_EQ(npz.scalar_double("floor"), options_.floor);
}

TEST_F(KlOfAHarmonicPacket, ParticlesOutsideTheGridAreCountedAndLeftOut) {
  // The central 20 x 20 points only (x in [-1.8, 1.8]): about 5% of the
  // packet (mean 1, sigma 0.5) lies past the upper edge on each axis.
  PsiSnapshots cropped = psi_;
  for (auto& g : cropped.grids) g = std::vector<double>(g.begin() + 22, g.begin() + 42);
  for (auto& p : cropped.psi) p = p.slice(0, 22, 42).slice(1, 22, 42).contiguous();
  const auto result = reverse_kl(*system_, *network("minimum"), cropped, options_);
  torch::manual_seed(options_.seed);
  const auto x0 = sample_initial_positions(*system_, options_.M, torch::kFloat64);
  const double lo = cropped.grids[0].front(), hi = cropped.grids[0].back();
  const int64_t inside = ((x0 >= lo) & (x0 < hi)).all(1).sum().item<int64_t>();
  EXPECT_GT(options_.M - inside, 50);
  EXPECT_EQ(result.rows[0].out_of_grid, options_.M - inside);
  EXPECT_TRUE(std::isfinite(result.rows[0].kl));
}

TEST_F(KlOfAHarmonicPacket, MissingQuantumForceShowsUpAsLargerKl) {
  // Without the score there is no quantum pressure: the squeezed packet
  // evolves classically and its density departs from the exact one.
  const auto exact = reverse_kl(*system_, *network("minimum"), psi_, options_);
  const auto wrong = reverse_kl(*system_, *network("none"), psi_, options_);
  EXPECT_NEAR(wrong.rows[0].kl, exact.rows[0].kl, 1e-12);  // same particles, F = I at t = 0
  EXPECT_GT(wrong.rows[1].kl, 10 * exact.rows[1].kl);
}

TEST_F(KlOfAHarmonicPacket, SnapshotsOfAnotherSystemAreRejected) {
  const auto morse = make_system("morse_chain", {{"d", 2}});
  try {
    reverse_kl(*morse, *network("none"), psi_, options_);
    FAIL() << "expected an exception";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("harmonic_packet_psi.npz"), std::string::npos);
  }
}

}  // namespace
}  // namespace bohmflow
