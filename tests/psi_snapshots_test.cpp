#include "bohmflow/psi_snapshots.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>

#include "bohmflow/fft_reference.hpp"
#include "bohmflow/npz.hpp"
#include "bohmflow/potentials.hpp"
#include "test_support.hpp"

namespace bohmflow {
namespace {

std::string scratch(const std::string& name) { return scratch_path(name).string(); }

// Snapshots of a small 2D harmonic run at t = 0 and t = 0.2.
std::string write_snapshots() {
  return write_harmonic_snapshots({{"d", 2}, {"mean", 0.5}}, 16, 5.0, {0.0, 0.2}, "harmonic_psi.npz");
}

TEST(PsiSnapshots, RoundTripsWhatTheFftReferenceSaves) {
  const auto psi = load_psi_snapshots(write_snapshots());
  EXPECT_EQ(psi.potential, "harmonic");
  EXPECT_EQ(psi.d, 2);
  EXPECT_EQ(psi.N, 16);
  ASSERT_EQ(psi.size(), 2u);
  EXPECT_EQ(psi.times, (std::vector<double>{0.0, 0.2}));
  EXPECT_EQ(psi.steps, (std::vector<int64_t>{0, 20}));
  EXPECT_EQ(psi.grids[1], grid_axis(16, 5.0));
  EXPECT_EQ(psi.psi[1].sizes(), (std::vector<int64_t>{16, 16}));
  EXPECT_EQ(psi.nearest(0.15), 1u);
  EXPECT_EQ(psi.nearest(-3.0), 0u);
  // Even N: the points nearest 0 are ±dx/2.
  const int64_t zero = psi.nearest_grid_index(0, 0.0);
  EXPECT_TRUE(zero == 7 || zero == 8) << zero;
  EXPECT_EQ(psi.nearest_grid_index(1, 4.9), 15);
  // The density is normalised on the grid (the split-operator step is unitary).
  const double dx = psi.grids[0][1] - psi.grids[0][0];
  for (size_t k = 0; k < psi.size(); ++k) {
    EXPECT_NEAR(psi.density(k).sum().item<double>() * dx * dx, 1.0, 1e-12) << k;
  }
}

TEST(PsiSnapshots, MissingSnapshotNamesTheFileAndKey) {
  const auto psi = Npz::load(write_snapshots());
  Npz broken;
  for (const auto& key : psi.keys()) {
    if (key != "psi_1") broken.set(key, psi.at(key));
  }
  const auto path = scratch("broken_psi.npz");
  broken.save(path);
  try {
    load_psi_snapshots(path);
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("broken_psi.npz"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("psi_1"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace bohmflow
