#include "bohmflow/potential_grid.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "bohmflow/fft_reference.hpp"
#include "bohmflow/npz.hpp"
#include "test_support.hpp"

namespace bohmflow {
namespace {

// `system` tabulated on linspace(−L, L, N)^d with its state, as tabulate_potential writes it.
PotentialGrid tabulate(const SystemDefinition& system, int N, double L) {
  PotentialGrid grid;
  grid.d = system.dim();
  grid.N = N;
  grid.L = L;
  grid.V = system.potential_on_grid(std::vector<std::vector<double>>(grid.d, grid_axis(N, L)));
  grid.state = file_system_state(system).parameters();
  grid.potential = system.name();
  return grid;
}

std::unique_ptr<GridSystemDefinition> grid_system(const std::string& path, ParameterMap overrides = {}) {
  auto grid = std::make_shared<PotentialGrid>(load_potential_grid(path));
  FileSystemOptions state;
  EXPECT_TRUE(state.assign(grid_state(*grid, overrides), "test").empty());
  return std::make_unique<GridSystemDefinition>(grid, state, path);
}

double max_abs_difference(const std::vector<double>& a, const std::vector<double>& b) {
  EXPECT_EQ(a.size(), b.size());
  double out = 0;
  for (size_t i = 0; i < a.size(); ++i) out = std::max(out, std::abs(a[i] - b[i]));
  return out;
}

// The reference of a built-in system through its table is the built-in path's.
TEST(PotentialGrid, TabulatedBuiltInGivesTheBuiltInReference) {
  for (const auto& [name, parameters] :
       std::vector<std::pair<std::string, ParameterMap>>{{"henon_heiles", {{"d", 2}}}, {"morse_chain", {{"d", 2}}}}) {
    const auto builtin = make_system_definition(name, parameters);
    FftOptions options;
    options.stepper.N = 32;
    options.stepper.L = 7.0;
    options.stepper.dt = 0.01;
    options.T = 0.5;
    const auto path = scratch_path(name + "_grid.npz").string();
    save_potential_grid(tabulate(*builtin, 32, 7.0), path);
    const auto tabulated = grid_system(path);
    EXPECT_EQ(tabulated->initial_state().mean, builtin->initial_state().mean);
    const auto a = solve_fft_reference(*builtin, options), b = solve_fft_reference(*tabulated, options);
    EXPECT_LT(max_abs_difference(a.means, b.means), 1e-12) << name;
    EXPECT_LT(max_abs_difference(a.sigmas, b.sigmas), 1e-12) << name;
    EXPECT_LT(max_abs_difference(a.norm, b.norm), 1e-12) << name;
    EXPECT_NEAR(a.E_exact, b.E_exact, 1e-12 * std::abs(a.E_exact)) << name;
    ASSERT_EQ(a.autocorrelation.size(), b.autocorrelation.size());
    for (size_t n = 0; n < a.autocorrelation.size(); ++n) {
      EXPECT_LT(std::abs(a.autocorrelation[n] - b.autocorrelation[n]), 1e-12) << name << " step " << n;
    }
    EXPECT_EQ(b.potential, "grid");
  }
}

TEST(PotentialGrid, RoundTripAndTheStateFromFlagsOverridesTheFiles) {
  const auto builtin = make_system_definition("henon_heiles", {{"d", 2}});
  const auto path = scratch_path("hh_grid.npz").string();
  save_potential_grid(tabulate(*builtin, 16, 6.0), path);
  const auto grid = load_potential_grid(path);
  EXPECT_EQ(grid.d, 2);
  EXPECT_EQ(grid.N, 16);
  EXPECT_EQ(grid.L, 6.0);
  EXPECT_EQ(grid.potential, "henon_heiles");
  EXPECT_EQ(grid.V, builtin->potential_on_grid({grid_axis(16, 6.0), grid_axis(16, 6.0)}));
  const auto moved = grid_system(path, {{"mean", 1.0}, {"hbar", 0.5}});
  EXPECT_EQ(moved->initial_state().mean, std::vector<double>(2, 1.0));
  EXPECT_EQ(moved->hbar(), 0.5);
  // V is known on the grid's points only.
  const double on[2] = {grid_axis(16, 6.0)[3], 6.0};
  EXPECT_EQ(moved->potential_at(on), grid.V[3 * 16 + 15]);
  const double off[2] = {0.1234, 6.0};
  EXPECT_THROW(moved->potential_at(off), std::invalid_argument);
}

// Each bad table stops on reading, naming the file and the key.
TEST(PotentialGrid, BadTablesAreRefusedNamingTheKey) {
  const auto builtin = make_system_definition("henon_heiles", {{"d", 2}});
  const auto good = tabulate(*builtin, 8, 4.0);
  const auto fails_with = [](Npz npz, const std::string& name, const std::string& fragment) {
    const auto path = scratch_path(name + ".npz").string();
    npz.save(path);
    try {
      load_potential_grid(path);
      ADD_FAILURE() << name << " was accepted";
    } catch (const std::exception& error) {
      const std::string what = error.what();
      EXPECT_NE(what.find(path), std::string::npos) << what;
      EXPECT_NE(what.find(fragment), std::string::npos) << name << ": " << what;
    }
  };
  const auto path = scratch_path("good_grid.npz").string();
  save_potential_grid(good, path);
  const auto base = Npz::load(path);
  auto bent = base;
  auto axis = grid_axis(8, 4.0);
  axis[3] += 0.01;
  bent.set("axis_1", NpyArray::from_doubles(axis, {8}));
  fails_with(bent, "bent", "key 'axis_1': is not uniform and symmetric");
  auto shifted = base;
  std::vector<double> positive;
  for (double x : grid_axis(8, 4.0)) positive.push_back(x + 4.0);
  shifted.set("axis_0", NpyArray::from_doubles(positive, {8}));
  fails_with(shifted, "shifted", "key 'axis_0': is not uniform and symmetric");
  auto unequal = base;
  unequal.set("axis_1", NpyArray::from_doubles(grid_axis(8, 5.0), {8}));
  fails_with(unequal, "unequal", "the FFT grid is the same on every axis");
  auto misshaped = base;
  misshaped.set("V", NpyArray::from_doubles(std::vector<double>(64 * 8), {8, 8, 8}));
  fails_with(misshaped, "misshaped", "key 'V': must be float64 of shape (8,)*2");
  auto holey = base;
  auto V = good.V;
  V[5] = std::nan("");
  holey.set("V", NpyArray::from_doubles(V, {8, 8}));
  fails_with(holey, "holey", "key 'V': holds nan at flat index 5");
  Npz empty;
  empty.set("V", NpyArray::from_doubles(good.V, {8, 8}));
  fails_with(empty, "no_axes", "key 'axis_0': is missing");
  // A state of another dimension than the table's.
  auto grid = std::make_shared<PotentialGrid>(good);
  FileSystemOptions state;
  state.assign({{"d", 3}, {"mean", 1.0}}, "test");
  try {
    GridSystemDefinition system(grid, state, "table.npz");
    ADD_FAILURE() << "a d = 3 state on a d = 2 table was accepted";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("the grid has 2 axes but the system has d = 3"), std::string::npos)
        << error.what();
  }
}

}  // namespace
}  // namespace bohmflow
