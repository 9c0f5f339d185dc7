#include "bohmflow/potentials.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

namespace bohmflow {
namespace {

torch::Tensor random_positions(int64_t M, int d, uint64_t seed) {
  torch::manual_seed(seed);
  return 1.5 * torch::randn({M, d}, torch::kFloat64);
}

// Autograd of the (independent) potential formula is the oracle for the
// hand-written derivatives. Tolerance: float64 round-off of O(10) terms.
void expect_derivatives_match_autograd(const System& system) {
  const int d = system.dim();
  const int64_t M = 5;
  auto x = random_positions(M, d, 7).requires_grad_(true);
  const auto v = system.potential(x);
  const auto grad = torch::autograd::grad({v.sum()}, {x}, {}, true, true)[0];
  EXPECT_LT((grad - system.gradient(x)).abs().max().item<double>(), 1e-12) << system.name();

  std::vector<torch::Tensor> rows;
  for (int k = 0; k < d; ++k) {
    rows.push_back(torch::autograd::grad({grad.select(1, k).sum()}, {x}, {}, true, true)[0]);
  }
  const auto hess = torch::stack(rows, 1);  // (M, k, l)
  EXPECT_LT((hess - system.hessian(x)).abs().max().item<double>(), 1e-11) << system.name();

  // ∂_u ∇²V along two random directions per particle.
  const auto U = torch::randn({M, d, 2}, torch::kFloat64);
  const auto analytic = system.hessian_directional(x, U);  // (M, 2, d, d)
  const auto H = system.hessian(x);
  for (int j = 0; j < 2; ++j) {
    for (int k = 0; k < d; ++k) {
      for (int l = 0; l < d; ++l) {
        // allow_unused: a constant Hessian (harmonic) has no graph to x.
        auto g = H.requires_grad()
                     ? torch::autograd::grad({H.select(1, k).select(1, l).sum()}, {x}, {}, true,
                                             false, true)[0]
                     : torch::Tensor();
        if (!g.defined()) g = torch::zeros_like(x);
        const auto expected = (g * U.select(2, j)).sum(1);
        const auto got = analytic.select(1, j).select(1, k).select(1, l);
        EXPECT_LT((expected - got).abs().max().item<double>(), 1e-11)
            << system.name() << " j=" << j << " k=" << k << " l=" << l;
      }
    }
  }
}

TEST(Potentials, MorseChainDerivativesMatchAutograd) {
  expect_derivatives_match_autograd(*make_system("morse_chain", {{"d", 4}}));
}

TEST(Potentials, HenonHeilesDerivativesMatchAutograd) {
  for (const int d : {2, 4, 8}) expect_derivatives_match_autograd(*make_system("henon_heiles", {{"d", d}}));
}

// By hand at q = (1, −2, 0.5), λ = 0.111803:
//   V = ½(1 + 4 + ¼) + λ[(1·(−2) + 8/3) + (4·0.5 − 0.125/3)],
//   ∂₀V = 1 + 2λ(1)(−2),  ∂₁V = −2 + λ(1 − 4) + 2λ(−2)(0.5),  ∂₂V = 0.5 + λ(4 − 0.25);
// and central differences of V and ∇V.
TEST(Potentials, HenonHeilesHandValuesAndFiniteDifferences) {
  const auto system = make_system("henon_heiles", {{"d", 3}});
  const double lam = 0.111803;
  const auto q = torch::tensor({1.0, -2.0, 0.5}, torch::kFloat64).reshape({1, 3});
  EXPECT_NEAR(system->potential(q).item<double>(), 2.625 + lam * (2.0 / 3.0 + 2.0 - 0.125 / 3.0), 1e-14);
  const auto g = system->gradient(q);
  EXPECT_NEAR(g[0][0].item<double>(), 1.0 - 4.0 * lam, 1e-14);
  EXPECT_NEAR(g[0][1].item<double>(), -2.0 - 3.0 * lam - 2.0 * lam, 1e-14);
  EXPECT_NEAR(g[0][2].item<double>(), 0.5 + 3.75 * lam, 1e-14);
  const double h = 1e-5;
  const auto H = system->hessian(q);
  for (int k = 0; k < 3; ++k) {
    auto e = torch::zeros({1, 3}, torch::kFloat64);
    e[0][k] = h;
    const double dV = (system->potential(q + e) - system->potential(q - e)).item<double>() / (2 * h);
    EXPECT_NEAR(dV, g[0][k].item<double>(), 1e-9);
    const auto dg = (system->gradient(q + e) - system->gradient(q - e)) / (2 * h);
    EXPECT_LT((dg[0] - H[0][k]).abs().max().item<double>(), 1e-9);
  }
  // ψ₀: mean 2 and σ = 1/√2 on every axis, at rest; the grid value is the tensor's.
  EXPECT_EQ(system->initial_state().mean, std::vector<double>(3, 2.0));
  EXPECT_DOUBLE_EQ(system->initial_state().sigma[1], std::sqrt(0.5));
  const double point[3] = {1.0, -2.0, 0.5};
  EXPECT_NEAR(system->potential_at(point), system->potential(q).item<double>(), 1e-15);
  EXPECT_THROW(make_system("henon_heiles", {{"d", 1}}), std::invalid_argument);
}

TEST(Potentials, DoubleWellDerivativesMatchAutograd) {
  expect_derivatives_match_autograd(*make_system("double_well", {{"d", 2}}));
}

TEST(Potentials, HarmonicDerivativesMatchAutograd) {
  expect_derivatives_match_autograd(
      *make_system("harmonic", {{"d", 3}, {"omega_1", 2.0}, {"centre", 0.3}, {"mass", 1.7}}));
}

TEST(Potentials, InteractingBosonsDerivativesMatchAutograd) {
  // Range s2 = 0.5 against positions of spread 1.5: every pair term matters.
  expect_derivatives_match_autograd(*make_system("interacting_bosons", {{"d", 4}, {"s2", 0.5}, {"g", 2.0}}));
}

TEST(Potentials, InteractingBosonsMatchThePairSumAndFiniteDifferences) {
  const auto system =
      make_system("interacting_bosons", {{"d", 3}, {"s2", 0.3}, {"mass", 1.3}, {"omega", 0.8}});
  const auto x = random_positions(4, 3, 11);
  // The potential written out pair by pair.
  const double A = 1.0 / (2.0 * std::sqrt(2.0 * M_PI * 0.3)), k = 1.3 * 0.8 * 0.8;
  const auto V = system->potential(x);
  for (int p = 0; p < 4; ++p) {
    double v = 0;
    for (int a = 0; a < 3; ++a) {
      const double xa = x[p][a].item<double>();
      v += 0.5 * k * xa * xa;
      for (int b = a + 1; b < 3; ++b) {
        const double r = xa - x[p][b].item<double>();
        v += A * std::exp(-r * r / 0.6);
      }
    }
    EXPECT_NEAR(V[p].item<double>(), v, 1e-13);
  }
  // Central differences: of the gradient along u give H u, of the Hessian the directional third order.
  const double h = 1e-5;
  const auto U = torch::randn({4, 3, 1}, torch::kFloat64);
  const auto u = U.select(2, 0);
  const auto dH = (system->hessian(x + h * u) - system->hessian(x - h * u)) / (2 * h);
  EXPECT_LT((dH - system->hessian_directional(x, U).select(1, 0)).abs().max().item<double>(), 1e-7);
  const auto dg = (system->gradient(x + h * u) - system->gradient(x - h * u)) / (2 * h);
  const auto Hu = torch::matmul(system->hessian(x), u.unsqueeze(-1)).squeeze(-1);
  EXPECT_LT((dg - Hu).abs().max().item<double>(), 1e-7);
  // Permutation symmetry: swapping two particles swaps the gradient's entries.
  const auto swap = torch::tensor({1, 0, 2});
  const auto swapped = x.index_select(1, swap);
  EXPECT_LT((system->potential(swapped) - V).abs().max().item<double>(), 1e-14);
  EXPECT_LT((system->gradient(swapped).index_select(1, swap) - system->gradient(x)).abs().max().item<double>(),
            1e-14);
}

TEST(Potentials, InteractingBosonsStartInTheTrapGroundState) {
  const auto system = make_system("interacting_bosons", {{"d", 5}});
  ASSERT_EQ(system->dim(), 5);
  EXPECT_DOUBLE_EQ(system->hbar(), 0.1);  // DSM's value
  for (double sigma : system->initial_state().sigma) EXPECT_NEAR(sigma, std::sqrt(0.1 / 2.0), 1e-15);
  const auto trap = system->trap();
  ASSERT_TRUE(trap.has_value());
  EXPECT_DOUBLE_EQ(trap->stiffness[0], 1.0);
  EXPECT_DOUBLE_EQ(trap->stiffness[1], 0.0);
  EXPECT_FALSE(make_system("morse_chain")->trap().has_value());
}

TEST(Potentials, MorseChainValueAndDefaults) {
  auto system = make_system("morse_chain");
  ASSERT_EQ(system->dim(), 4);
  // V(x) by hand at x = (1, 0.5, 0, -1): on-site D(1-e^{-βx})², coupling λ Σ x_i x_{i+1}.
  const double D = 12.5, b = 0.2, lam = 0.3;
  const double xs[4] = {1.0, 0.5, 0.0, -1.0};
  double expected = 0;
  for (double xi : xs) expected += D * std::pow(1 - std::exp(-b * xi), 2);
  expected += lam * (1.0 * 0.5 + 0.5 * 0.0 + 0.0 * -1.0);
  auto x = torch::tensor({1.0, 0.5, 0.0, -1.0}, torch::kFloat64).reshape({1, 4});
  EXPECT_NEAR(system->potential(x).item<double>(), expected, 1e-14);
  // σ₀ = sqrt(ħ/(2mω₀)), ω₀ = β sqrt(2D) = 1 for the defaults.
  EXPECT_NEAR(system->initial_state().sigma[0], std::sqrt(0.5), 1e-15);
  EXPECT_DOUBLE_EQ(system->initial_state().mean[0], 1.0);
  EXPECT_DOUBLE_EQ(system->initial_state().mean[1], 0.0);
}

TEST(Potentials, DoubleWellHasMinimaAtPlusMinusA) {
  auto system = make_system("double_well");
  auto x = torch::tensor({-2.0, 0.0, 2.0}, torch::kFloat64).reshape({3, 1});
  const auto v = system->potential(x);
  EXPECT_DOUBLE_EQ(v[0].item<double>(), 0.0);
  EXPECT_DOUBLE_EQ(v[1].item<double>(), 1.0);  // barrier height D
  EXPECT_DOUBLE_EQ(v[2].item<double>(), 0.0);
}

TEST(Potentials, RegistryRejectsUnknownNamesAndParameters) {
  EXPECT_THROW(make_system("morse"), std::invalid_argument);
  try {
    make_system("morse_chain", {{"gamma", 1.0}});
    FAIL() << "unknown parameter accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("gamma"), std::string::npos);
  }
  try {
    make_system("morse_chain", {{"D", -1.0}});
    FAIL() << "negative D accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("D = -1"), std::string::npos);
  }
  EXPECT_THROW(make_system("harmonic", {{"d", 2}, {"omega_2", 1.0}}), std::invalid_argument);
  EXPECT_THROW(make_system("double_well", {{"d", 1.5}}), std::invalid_argument);
  // Every value finite, in every system: inf passes "> 0" but not this.
  for (const auto& [name, key] : std::vector<std::pair<std::string, std::string>>{
           {"morse_chain", "beta"}, {"harmonic", "omega_0"}, {"double_well", "a"}, {"henon_heiles", "lam"},
           {"interacting_bosons", "g"}}) {
    for (const double bad : {INFINITY, -INFINITY, NAN}) {
      try {
        make_system(name, {{key, bad}});
        FAIL() << name << " accepted " << key << " = " << bad;
      } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("parameter '" + key + "' = "), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("must be finite"), std::string::npos) << e.what();
      }
    }
  }
}

TEST(Potentials, ParametersRebuildAnEqualSystem) {
  for (const auto& name : system_names()) {
    auto a = make_system(name, {{"d", 2}});
    auto b = make_system(name, a->parameters());
    auto x = random_positions(4, 2, 3);
    EXPECT_TRUE(torch::equal(a->potential(x), b->potential(x))) << name;
    EXPECT_EQ(a->initial_state().sigma, b->initial_state().sigma) << name;
  }
}

TEST(Potentials, InitialScoreAndDensityAreThoseOfTheGaussian) {
  auto system = make_system("harmonic", {{"d", 2}, {"mean_0", 0.5}, {"sigma0_1", 0.3}});
  auto x = random_positions(6, 2, 11).requires_grad_(true);
  const auto logp = system->initial_log_density(x);
  const auto score = torch::autograd::grad({logp.sum()}, {x})[0];
  EXPECT_LT((score - system->initial_score(x)).abs().max().item<double>(), 1e-13);
  // Normalisation: at the mean, log p = -Σ log(sqrt(2π) σ_i).
  auto mu = torch::tensor({0.5, 0.0}, torch::kFloat64).reshape({1, 2});
  const double expected = -std::log(std::sqrt(2 * M_PI) * std::sqrt(0.5)) -
                          std::log(std::sqrt(2 * M_PI) * 0.3);
  EXPECT_NEAR(system->initial_log_density(mu).item<double>(), expected, 1e-14);
}

TEST(Potentials, PhaseGivesInitialVelocityHbarCOverM) {
  auto system = make_system("harmonic", {{"hbar", 0.01}, {"mass", 2.0}, {"phase", -5.0}});
  EXPECT_DOUBLE_EQ(system->initial_state().velocity[0], 0.01 * -5.0 / 2.0);
}

TEST(Potentials, GridValuesMatchPointwiseEvaluation) {
  auto system = make_system("morse_chain", {{"d", 2}});
  const std::vector<std::vector<double>> axes = {{-1.0, 0.0, 2.0}, {0.5, 1.5}};
  const auto grid = system->potential_on_grid(axes);
  ASSERT_EQ(grid.size(), 6u);
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 2; ++j) {
      auto x = torch::tensor({axes[0][i], axes[1][j]}, torch::kFloat64).reshape({1, 2});
      EXPECT_DOUBLE_EQ(grid[i * 2 + j], system->potential(x).item<double>());
    }
  }
}

}  // namespace
}  // namespace bohmflow
