#include "bohmflow/score_field.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "bohmflow/checkpoint.hpp"
#include "bohmflow/fft_reference.hpp"
#include "bohmflow/npz.hpp"
#include "bohmflow/psi_snapshots.hpp"
#include "test_support.hpp"

namespace bohmflow {
namespace {

namespace fs = std::filesystem;

const std::string kCheckpoint = std::string(BOHMFLOW_SOURCE_DIR) + "/checkpoints/morse_d4.npz";

fs::path scratch(const std::string& name) { return scratch_path(name); }

int run_app(const std::string& arguments) {
  const std::string command = std::string(BOHMFLOW_APPS_DIR) + "/score_field " + arguments +
                              " >'" + scratch("app.log").string() + "' 2>&1";
  return std::system(command.c_str());
}

// The network's score at x = g_i[a] e_di + g_j[b] e_dj, one point at a time.
torch::Tensor score_at(const ScoreNetImpl& network, int di, int dj, double xi, double xj, double t) {
  auto x = torch::zeros({1, network.options().d}, torch::kFloat64);
  x[0][di] = xi;
  x[0][dj] = xj;
  torch::NoGradGuard no_grad;
  return network.score(x, t)[0];
}

// A synthetic 4D snapshot file on a 6-point grid (random ψ), as the FFT reference writes it.
std::string write_synthetic_psi(const std::vector<double>& times) {
  const int d = 4, N = 6;
  const double L = 3.0;
  Npz npz;
  torch::manual_seed(5);
  for (size_t k = 0; k < times.size(); ++k) {
    npz.set("psi_" + std::to_string(k), torch::complex(torch::randn({N, N, N, N}, torch::kFloat64),
                                                       torch::randn({N, N, N, N}, torch::kFloat64)));
  }
  npz.set("t_snap", torch::tensor(times, torch::kFloat64));
  std::vector<int64_t> steps;
  for (double t : times) steps.push_back(std::llround(t / 0.01));
  npz.set("step_snap", torch::tensor(steps, torch::kInt64));
  npz.set("grids", torch::tensor(grid_axis(N, L), torch::kFloat64).repeat({d, 1}));
  npz.set("d", d);
  npz.set("N", N);
  npz.set("L", L);
  npz.set("dt", 0.01);
  npz.set("potential", "morse_chain");
  const auto path = scratch("synthetic_psi.npz").string();
  npz.save(path);
  return path;
}

TEST(ScoreField, SliceIsTheNetworkScoreAtTheSlicePoints) {
  const auto model = load_model(kCheckpoint);
  ScoreSliceOptions options;
  options.times = {1.0, 0.25};  // stored ascending
  options.dims = {2, 0};        // rows follow axis 2
  options.grid_N = 5;
  options.grid_L = 2.0;
  const auto slice = compute_score_slice(*model.network, options);
  EXPECT_EQ(slice.times, (std::vector<double>{0.25, 1.0}));
  EXPECT_EQ(slice.gi, grid_axis(5, 2.0));
  EXPECT_TRUE(slice.rho.empty());
  for (size_t k = 0; k < slice.times.size(); ++k) {
    for (int a = 0; a < 5; ++a) {
      for (int b = 0; b < 5; ++b) {
        const auto s = score_at(*model.network, 2, 0, slice.gi[a], slice.gj[b], slice.times[k]);
        // Same network, batched against one point: equal to round-off.
        EXPECT_NEAR(slice.s_i[k][a][b].item<double>(), s[2].item<double>(), 1e-12);
        EXPECT_NEAR(slice.s_j[k][a][b].item<double>(), s[0].item<double>(), 1e-12);
      }
    }
  }
}

// A slice larger than one network call (2^14 points) is evaluated in pieces:
// the same numbers as one call on all of its points.
TEST(ScoreField, ALargeSliceIsTheOneCallScore) {
  const auto model = load_model(kCheckpoint);
  ScoreSliceOptions options;
  options.times = {0.5};
  options.grid_N = 150;  // 22 500 points
  options.grid_L = 3.0;
  const auto slice = compute_score_slice(*model.network, options);
  const auto axis = grid_axis(150, 3.0);
  const auto points = slice_points(4, 0, 1, axis, axis);
  torch::NoGradGuard no_grad;
  const auto s = model.network->score(points, 0.5);
  EXPECT_LT((slice.s_i[0].reshape(-1) - s.select(1, 0)).abs().max().item<double>(), 1e-12);
  EXPECT_LT((slice.s_j[0].reshape(-1) - s.select(1, 1)).abs().max().item<double>(), 1e-12);
}

// A slice that cannot fit is refused before its axes are allocated, naming the option.
TEST(ScoreField, ASliceBeyondMemoryIsRefusedNamingGridN) {
  const auto model = load_model(kCheckpoint);
  ScoreSliceOptions options;
  options.grid_N = 2000000000;
  try {
    compute_score_slice(*model.network, options);
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("grid_N (score_field --grid-N)"), std::string::npos) << error.what();
  }
}

TEST(ScoreField, OptionsNameTheBrokenField) {
  ScoreSliceOptions options;
  options.dims = {1, 1};
  EXPECT_THROW(options.validate(4), std::invalid_argument);
  options.dims = {0, 4};
  try {
    options.validate(4);
    FAIL() << "expected an exception";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("ScoreSliceOptions::dims"), std::string::npos);
  }
}

TEST(ScoreField, CliWritesTheDocumentedKeysAndTheLibraryScore) {
  const auto out = scratch("cli_no_psi.npz");
  ASSERT_EQ(run_app("--checkpoint '" + kCheckpoint + "' --times 0.0 3.14159 --dims 0 1 --grid-N 7 "
                    "--grid-L 3 --data-out '" + out.string() + "'"),
            0);
  const auto npz = Npz::load(out.string());
  const auto keys = npz.keys();
  EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()),
            (std::set<std::string>{"gi", "gj", "di", "dj", "d", "n_times", "t_0", "s_i_0", "s_j_0",
                                   "t_1", "s_i_1", "s_j_1"}));
  EXPECT_EQ(npz.scalar_int("n_times"), 2);
  EXPECT_EQ(npz.scalar_int("d"), 4);
  EXPECT_EQ(npz.scalar_double("t_1"), 3.14159);
  const auto gi = npz.doubles("gi"), gj = npz.doubles("gj");
  const auto model = load_model(kCheckpoint);
  for (int k = 0; k < 2; ++k) {
    const double t = npz.scalar_double("t_" + std::to_string(k));
    const auto s_i = npz.tensor("s_i_" + std::to_string(k), torch::kFloat64, {7, 7});
    const auto s_j = npz.tensor("s_j_" + std::to_string(k), torch::kFloat64, {7, 7});
    for (int a = 0; a < 7; ++a) {
      for (int b = 0; b < 7; ++b) {
        const auto s = score_at(*model.network, 0, 1, gi[a], gj[b], t);
        EXPECT_NEAR(s_i[a][b].item<double>(), s[0].item<double>(), 1e-12);
        EXPECT_NEAR(s_j[a][b].item<double>(), s[1].item<double>(), 1e-12);
      }
    }
  }
}

TEST(ScoreField, WithPsiTheSliceLiesOnTheFileGridAndStoresItsDensity) {
  const auto psi_path = write_synthetic_psi({0.0, 0.5, 1.0});
  const auto out = scratch("cli_psi.npz");
  // 0.4 and 0.45 both pick the snapshot at 0.5: stored once.
  ASSERT_EQ(run_app("--checkpoint '" + kCheckpoint + "' --psi '" + psi_path +
                    "' --times 0.4 0.45 1.1 --dims 1 3 --data-out '" + out.string() + "'"),
            0);
  const auto npz = Npz::load(out.string());
  const auto psi = load_psi_snapshots(psi_path);
  EXPECT_EQ(npz.scalar_int("n_times"), 2);
  EXPECT_EQ(npz.scalar_double("t_0"), 0.5);
  EXPECT_EQ(npz.scalar_double("t_1"), 1.0);
  EXPECT_EQ(npz.doubles("gi"), psi.grids[1]);
  // Axes 0 and 2 are fixed at the grid point nearest 0 (±0.6 on this grid).
  const int64_t zero = psi.nearest_grid_index(0, 0.0);
  EXPECT_NEAR(std::abs(psi.grids[0][zero]), 0.6, 1e-12);
  const auto expected =
      psi.density(1).index({zero, torch::indexing::Slice(), zero, torch::indexing::Slice()});
  EXPECT_TRUE(torch::allclose(npz.tensor("rho_0", torch::kFloat64, {6, 6}), expected, 0, 0));
  // The score is still the network's at the plane through the origin.
  const auto model = load_model(kCheckpoint);
  const auto s = score_at(*model.network, 1, 3, psi.grids[1][4], psi.grids[3][1], 1.0);
  EXPECT_NEAR(npz.tensor("s_j_1", torch::kFloat64, {6, 6})[4][1].item<double>(), s[3].item<double>(),
              1e-12);
}

TEST(ScoreField, CliRejectsAPsiFileOfAnotherSystemNamingIt) {
  const auto psi_path = write_synthetic_psi({0.0});
  auto npz = Npz::load(psi_path);
  npz.set("potential", "harmonic");
  const auto other = scratch("harmonic_psi.npz").string();
  npz.save(other);
  EXPECT_NE(run_app("--checkpoint '" + kCheckpoint + "' --psi '" + other + "' --data-out '" +
                    scratch("never.npz").string() + "'"),
            0);
  std::ifstream log(scratch("app.log"));
  const std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("--psi"), std::string::npos) << text;
  EXPECT_FALSE(fs::exists(scratch("never.npz")));
}

}  // namespace
}  // namespace bohmflow
