#include "bohmflow/score_network.hpp"

#include <algorithm>
#include <map>
#include <tuple>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "bohmflow/baseline.hpp"
#include "bohmflow/bohmian_dynamics.hpp"
#include "bohmflow/potentials.hpp"

namespace bohmflow {
namespace {

using torch::autograd::grad;

// A tiny network whose every parameter (biases and FiLM too) is O(1), so
// that each derivative stream is exercised.
ScoreNet tiny_network(const System& system, const std::string& conditioning,
                      std::vector<int64_t> hidden = {5, 4}, const std::string& symmetry = "none",
                      const std::string& baseline_kind = "minimum", int64_t pair_width = 0) {
  ScoreNetOptions options;
  options.pair_width = pair_width;
  options.d = system.dim();
  options.hidden_dims = hidden;
  options.n_freq = 2;
  options.conditioning = parse_option<Conditioning>(conditioning);
  options.symmetry = parse_option<Symmetry>(symmetry);
  BaselineOptions baseline_options;
  baseline_options.kind = parse_option<BaselineKind>(baseline_kind);
  auto baseline = std::make_shared<GaussianBaseline>(system, baseline_options);
  torch::manual_seed(3);
  ScoreNet net(options, baseline);
  torch::NoGradGuard no_grad;
  for (auto& p : net->parameters()) p.copy_(0.7 * torch::randn_like(p));
  return net;
}

// Derivative k of f (M, …) with respect to x, stacked on a new last axis.
torch::Tensor derivative(const torch::Tensor& f, const torch::Tensor& x) {
  const auto flat = f.reshape({f.size(0), -1});
  std::vector<torch::Tensor> columns;
  for (int64_t c = 0; c < flat.size(1); ++c) {
    auto g = grad({flat.select(1, c).sum()}, {x}, {}, true, true, true)[0];
    columns.push_back(g.defined() ? g : torch::zeros_like(x));
  }
  auto shape = f.sizes().vec();
  shape.push_back(x.size(1));
  return torch::stack(columns, 1).reshape(shape);
}

struct Oracle {
  torch::Tensor g, H, T3, T4, grad3_lap;
};

// Nested reverse-mode autograd: obviously correct, slow, tiny inputs only.
// Every tensor but grad3_lap stays differentiable in θ; grad3_lap too when asked.
Oracle nested_autograd(const ScoreNetImpl& net, const torch::Tensor& x0, double t,
                       bool differentiable_grad3_lap = false) {
  auto x = x0.clone().requires_grad_(true);
  Oracle o;
  o.g = derivative(net.potential(x, t).unsqueeze(-1), x).squeeze(1);  // (M, d)
  o.H = derivative(o.g, x);
  o.T3 = derivative(o.H, x);
  o.T4 = derivative(o.T3, x);
  // ∇³Δφ: only the traced fifth derivatives, Σ_i ∂_i (∂_j∂_k∂_l∂_i φ).
  const int64_t d = x.size(1);
  o.grad3_lap = torch::zeros_like(o.T3);
  for (int64_t j = 0; j < d; ++j)
    for (int64_t k = 0; k < d; ++k)
      for (int64_t l = 0; l < d; ++l)
        for (int64_t i = 0; i < d; ++i) {
          const auto fifth = grad({o.T4.select(1, j).select(1, k).select(1, l).select(1, i).sum()},
                                  {x}, {}, true, differentiable_grad3_lap, true)[0];
          if (fifth.defined()) o.grad3_lap.select(1, j).select(1, k).select(1, l).add_(fifth.select(1, i));
        }
  return o;
}

double max_abs(const torch::Tensor& a) { return a.abs().max().item<double>(); }

void expect_jets_match_oracle(const System& system, const std::string& conditioning,
                              std::vector<int64_t> hidden = {5, 4}, int64_t M = 3,
                              const std::string& symmetry = "none", int64_t pair_width = 0) {
  auto net = symmetry == "none" ? tiny_network(system, conditioning, hidden)
                                : tiny_network(system, conditioning, hidden, symmetry, "trap", pair_width);
  torch::manual_seed(5);
  const auto x = torch::randn({M, system.dim()}, torch::kFloat64);
  const double t = 0.37;
  const auto o = nested_autograd(*net, x, t);
  const auto D = net->derivatives(x, t, ScoreOrder::kTangent);
  const auto B = net->baseline().precision(t, x.options());
  const auto s = net->baseline().score(x, t) + o.g;
  // Jets and autograd run the same float64 arithmetic in different orders:
  // agreement to 1e-10 relative to the size of each tensor.
  const auto check = [](const torch::Tensor& got, const torch::Tensor& want, const char* what) {
    const double scale = std::max(1.0, max_abs(want));
    EXPECT_LT(max_abs(got - want) / scale, 1e-10) << what << " (scale " << scale << ")";
  };
  check(D.score, s, "score");
  check(D.jacobian, o.H - B, "jacobian");
  check(D.third, o.T3, "third");
  check(D.grad_lap, o.T3.diagonal(0, 2, 3).sum(-1), "grad_lap");
  check(D.hess_lap, o.T4.diagonal(0, 3, 4).sum(-1), "hess_lap");
  check(D.third_s, torch::einsum("pi,pijkl->pjkl", {s, o.T4}), "third_s");
  check(D.grad3_lap, o.grad3_lap, "grad3_lap");
  // Lower orders give the same numbers as the full jet (kForce's ∇Δφ comes
  // from its own traced streams, not from ∇³φ).
  for (auto order : {ScoreOrder::kScore, ScoreOrder::kForce, ScoreOrder::kJacobian}) {
    const auto lower = net->derivatives(x, t, order);
    check(lower.score, D.score, "lower-order score");
    if (order >= ScoreOrder::kForce) {
      check(lower.jacobian, D.jacobian, "lower-order jacobian");
      check(lower.grad_lap, D.grad_lap, "lower-order grad_lap");
    }
  }
}

TEST(ScoreNet, FilmJetsMatchNestedAutogradD2) {
  expect_jets_match_oracle(*make_system("morse_chain", {{"d", 2}}), "film");
}

TEST(ScoreNet, FilmJetsMatchNestedAutogradD3) {
  // Smaller network and batch: the nested-autograd oracle grows steeply with d.
  expect_jets_match_oracle(*make_system("morse_chain", {{"d", 3}}), "film", {3, 3}, 2);
}

// The exchange-symmetric network end to end: the oracle differentiates
// through torch's sort, the jets re-index their tensors by the rank of each
// x_i. (At d = 2 every reordering is a swap; the next test covers cycles.)
TEST(ScoreNet, PermutationSymmetricJetsMatchNestedAutogradD2) {
  expect_jets_match_oracle(*make_system("interacting_bosons", {{"d", 2}}), "film", {5, 4}, 6, "permutation");
}

// The same at d = 4, where the sorting permutations include 3- and 4-cycles
// (whose inverse differs from themselves), against the plain network (same
// weights, its jets checked above) evaluated at y = Π x and carried back by
// the permutation matrix on every axis: T_x[i, j, …] = Σ Π_ai Π_bj … T_y[a, b, …].
TEST(ScoreNet, PermutationSymmetricJetsAreThePlainJetsAtSortedPositions) {
  auto system = make_system("interacting_bosons", {{"d", 4}});
  auto symmetric = tiny_network(*system, "film", {6, 5}, "permutation", "trap");
  auto plain = tiny_network(*system, "film", {6, 5}, "none", "trap");
  torch::manual_seed(23);
  const auto x = torch::randn({8, 4}, torch::kFloat64);
  const double t = 0.7;
  const auto D = symmetric->derivatives(x, t, ScoreOrder::kTangent);
  const auto B = symmetric->baseline().precision(t, x.options());
  for (int64_t p = 0; p < x.size(0); ++p) {
    std::vector<int64_t> order = {0, 1, 2, 3};
    std::sort(order.begin(), order.end(),
              [&](int64_t i, int64_t j) { return x[p][i].item<double>() < x[p][j].item<double>(); });
    auto Pi = torch::zeros({4, 4}, torch::kFloat64);  // y_a = x_order[a]
    for (int64_t a = 0; a < 4; ++a) Pi[a][order[a]] = 1.0;
    const auto xp = x.narrow(0, p, 1);
    const auto y = torch::matmul(xp, Pi.t());
    const auto Y = plain->derivatives(y, t, ScoreOrder::kTangent);
    const auto grad_y = Y.score - plain->baseline().score(y, t);
    const auto hess_y = Y.jacobian + B;
    const auto back = [&](const torch::Tensor& T) {  // (1, d, …, d) in y → in x
      switch (T.dim()) {
        case 2: return torch::einsum("ai,pa->pi", {Pi, T});
        case 3: return torch::einsum("ai,bj,pab->pij", {Pi, Pi, T});
        default: return torch::einsum("ai,bj,ck,pabc->pijk", {Pi, Pi, Pi, T});
      }
    };
    const auto s = symmetric->baseline().score(xp, t) + back(grad_y);
    const auto expect_near = [&](const torch::Tensor& got, const torch::Tensor& want, const char* what) {
      EXPECT_LT(max_abs(got.narrow(0, p, 1) - want), 1e-12) << what << " at particle " << p;
    };
    expect_near(D.score, s, "score");
    expect_near(D.jacobian, back(hess_y) - B, "jacobian");
    expect_near(D.third, back(Y.third), "third");
    expect_near(D.grad_lap, back(Y.grad_lap), "grad_lap");
    expect_near(D.hess_lap, back(Y.hess_lap), "hess_lap");
    expect_near(D.grad3_lap, back(Y.grad3_lap), "grad3_lap");
    // third_s contracts ∂⁴φ with the full score; Y.third_s used the score at y.
    expect_near(D.third_s, back(Y.third_s), "third_s");
  }
}

// φ(Px) = φ(x), s(Px) = P s(x), and every derivative and the Bohmian force
// transform the same way, for a coordinate exchange P.
void expect_equivariant(const std::string& symmetry, int64_t pair_width = 0) {
  auto system = make_system("interacting_bosons", {{"d", 4}});
  auto net = tiny_network(*system, "film", {6, 5}, symmetry, "trap", pair_width);
  torch::manual_seed(21);
  const auto x = torch::randn({6, 4}, torch::kFloat64);
  const auto P = torch::tensor({2, 0, 3, 1}, torch::kLong);
  const auto xp = x.index_select(1, P);
  const double t = 0.45;
  EXPECT_LT(max_abs(net->potential(xp, t) - net->potential(x, t)), 1e-13);
  const auto D = net->derivatives(x, t, ScoreOrder::kTangent);
  const auto Dp = net->derivatives(xp, t, ScoreOrder::kTangent);
  const auto permuted = [&](torch::Tensor a) {
    for (int64_t axis = 1; axis < a.dim(); ++axis) a = a.index_select(axis, P);
    return a;
  };
  for (const auto& [got, want, what] :
       {std::tuple{Dp.score, D.score, "score"}, std::tuple{Dp.jacobian, D.jacobian, "jacobian"},
        std::tuple{Dp.third, D.third, "third"}, std::tuple{Dp.hess_lap, D.hess_lap, "hess_lap"},
        std::tuple{Dp.third_s, D.third_s, "third_s"}, std::tuple{Dp.grad3_lap, D.grad3_lap, "grad3_lap"}}) {
    EXPECT_LT(max_abs(got - permuted(want)), 1e-12) << what;
  }
  const auto F = bohmian_force(*system, *net, x, t, ScoreOrder::kTangent);
  const auto Fp = bohmian_force(*system, *net, xp, t, ScoreOrder::kTangent);
  EXPECT_LT(max_abs(Fp.acceleration - permuted(F.acceleration)), 1e-12);
  EXPECT_LT(max_abs(Fp.jacobian_gradient - permuted(F.jacobian_gradient)), 1e-11);
  EXPECT_LT(max_abs(Fp.quantum - F.quantum), 1e-12);
  // Without the symmetry the same network is not equivariant (the test can fail).
  auto plain = tiny_network(*system, "film", {6, 5}, "none", "trap");
  EXPECT_GT(max_abs(plain->potential(xp, t) - plain->potential(x, t)), 1e-3);
}

TEST(ScoreNet, PermutationSymmetricNetworkIsEquivariant) { expect_equivariant("permutation"); }

TEST(ScoreNet, DeepSetsNetworkIsEquivariant) {
  expect_equivariant("deepsets");
  expect_equivariant("deepsets", /*pair_width=*/3);
}

// The "deepsets" network written out from its stored parameters, one
// particle at a time: φ = MLP'((1/d) Σ_j enc(x_j, t), t). Independent of the
// tied, expanded weights the network itself runs on.
torch::Tensor deepsets_by_hand(const ScoreNetImpl& net, const torch::Tensor& x, double t) {
  std::map<std::string, torch::Tensor> p;
  for (const auto& [name, value] : net.named_parameters_in_order()) p[name] = value;
  const auto e = net.time_embedding(t);
  const bool film = net.options().conditioning == Conditioning::kFilm;
  const auto layer = [&](int i, const torch::Tensor& z) {
    auto h = torch::softplus(z);
    if (!film) return h;
    const auto& k = i < 0 ? std::string("pair_film") : "film_" + std::to_string(i);
    const auto gamma = torch::matmul(e, p[k + "_gamma_W"]) + p[k + "_gamma_b"];
    const auto beta = torch::matmul(e, p[k + "_beta_W"]) + p[k + "_beta_b"];
    return (1 + gamma) * h + beta;
  };
  const int64_t M = x.size(0), d = x.size(1);
  const auto with_time = [&](torch::Tensor u) {
    return film ? u : torch::cat({u, e.expand({M, e.size(0)})}, 1);
  };
  torch::Tensor pooled = torch::zeros({M, p["spatial_0_b"].size(0)}, x.options());
  for (int64_t j = 0; j < d; ++j) {
    pooled = pooled + layer(0, torch::matmul(with_time(x.narrow(1, j, 1)), p["spatial_0_W"]) + p["spatial_0_b"]) / d;
  }
  auto h = pooled;
  if (p.count("pair_W")) {
    torch::Tensor pairs = torch::zeros({M, p["pair_b"].size(0)}, x.options());
    for (int64_t i = 0; i < d; ++i)
      for (int64_t j = 0; j < d; ++j) {
        if (i == j) continue;
        const auto u = with_time(x.narrow(1, i, 1) - x.narrow(1, j, 1));
        pairs = pairs + layer(-1, torch::matmul(u, p["pair_W"]) + p["pair_b"]) / (d * (d - 1));
      }
    h = torch::cat({h, pairs}, 1);
  }
  const int n_layers = static_cast<int>(net.options().hidden_dims.size());
  for (int i = 1; i < n_layers; ++i) {
    const auto& k = "spatial_" + std::to_string(i);
    h = layer(i, torch::matmul(h, p[k + "_W"]) + p[k + "_b"]);
  }
  return (torch::matmul(h, p["output_W"]) + p["output_b"]).squeeze(-1);
}

TEST(ScoreNet, DeepSetsPotentialIsTheMeanOfAPerParticleEncoder) {
  auto system = make_system("interacting_bosons", {{"d", 5}});
  torch::manual_seed(31);
  const auto x = torch::randn({7, 5}, torch::kFloat64);
  for (const auto& conditioning : {"film", "concat"}) {
    // {6}: the mean goes straight into the output layer.
    for (const auto& hidden : {std::vector<int64_t>{6, 5, 4}, std::vector<int64_t>{6}}) {
     for (int64_t pair_width : {0, 3}) {
      auto net = tiny_network(*system, conditioning, hidden, "deepsets", "trap", pair_width);
      // The encoder reads one coordinate (and e(t), 2·n_freq = 4 entries, with concat).
      EXPECT_EQ(net->named_parameters_in_order().front().second.size(0),
                std::string(conditioning) == "film" ? 1 : 5);
      EXPECT_LT(max_abs(net->potential(x, 0.3) - deepsets_by_hand(*net, x, 0.3)), 1e-13)
          << conditioning << ", " << hidden.size() << " hidden layers, pair width " << pair_width;
     }
    }
  }
}

// The jets on the tied weights against nested autograd through the network.
// (The expansion itself is checked at d = 5 above, and the jets on general
// weights at d = 3; d = 3 here would add a minute of nested autograd.)
TEST(ScoreNet, DeepSetsJetsMatchNestedAutogradD2) {
  const auto system = make_system("interacting_bosons", {{"d", 2}});
  expect_jets_match_oracle(*system, "film", {4, 3}, 4, "deepsets");
  expect_jets_match_oracle(*system, "concat", {4}, 4, "deepsets");  // the mean straight into the output
  expect_jets_match_oracle(*system, "film", {4, 3}, 4, "deepsets", /*pair_width=*/3);
  expect_jets_match_oracle(*system, "concat", {4}, 4, "deepsets", /*pair_width=*/3);
}

// A deepsets network is a plain MLP with tied weights: first-layer units
// (j, k) with weights e_j w_k and (i, j, k), i ≠ j, with (e_i − e_j) w₂_k,
// and a next layer that reads each copy with its weight over d or d(d−1).
// The pooled jets (which never form those units) against the plain jets of
// that expanded network (checked against nested autograd above), at d = 4,
// where streams on three or four coordinates must vanish for every pair.
TEST(ScoreNet, DeepSetsJetsAreThoseOfTheExpandedPlainNetwork) {
  const int64_t d = 4, h0 = 3, h2 = 2, h1 = 5, units = d * h0 + d * (d - 1) * h2;
  auto system = make_system("interacting_bosons", {{"d", d}});
  auto pooled = tiny_network(*system, "film", {h0, h1}, "deepsets", "trap", h2);
  auto plain = tiny_network(*system, "film", {units, h1}, "none", "trap");
  std::map<std::string, torch::Tensor> p, q;
  for (const auto& [name, value] : pooled->named_parameters_in_order()) p[name] = value;
  for (const auto& [name, value] : plain->named_parameters_in_order()) q[name] = value;
  {
    torch::NoGradGuard no_grad;
    for (const auto& name : {"spatial_1_b", "film_1_gamma_W", "film_1_gamma_b", "film_1_beta_W", "film_1_beta_b",
                             "output_W", "output_b"}) {
      q[name].copy_(p[name]);
    }
    q["spatial_0_W"].zero_();
    // Copies encoder unit k of `prefix` (film prefix `film`) into plain unit u.
    const auto copy_unit = [&](int64_t u, const std::string& prefix, const std::string& film, int64_t k,
                               const torch::Tensor& direction, int64_t next_row, double pooling) {
      q["spatial_0_W"].select(1, u).copy_(direction * p[prefix + "_W"][0][k]);
      q["spatial_0_b"][u].copy_(p[prefix + "_b"][k]);
      for (const auto& part : {"_gamma_W", "_beta_W"}) q[std::string("film_0") + part].select(1, u).copy_(p[film + part].select(1, k));
      for (const auto& part : {"_gamma_b", "_beta_b"}) q[std::string("film_0") + part][u].copy_(p[film + part][k]);
      q["spatial_1_W"][u].copy_(p["spatial_1_W"][next_row] / pooling);
    };
    const auto e = torch::eye(d, torch::kFloat64);
    int64_t u = 0;
    for (int64_t j = 0; j < d; ++j)
      for (int64_t k = 0; k < h0; ++k) copy_unit(u++, "spatial_0", "film_0", k, e[j], k, d);
    for (int64_t i = 0; i < d; ++i)
      for (int64_t j = 0; j < d; ++j)
        for (int64_t k = 0; i != j && k < h2; ++k) copy_unit(u++, "pair", "pair_film", k, e[i] - e[j], h0 + k, d * (d - 1));
    ASSERT_EQ(u, units);
  }
  torch::manual_seed(41);
  const auto x = torch::randn({5, d}, torch::kFloat64);
  const double t = 0.55;
  EXPECT_LT(max_abs(pooled->potential(x, t) - plain->potential(x, t)), 1e-12);
  const auto A = pooled->derivatives(x, t, ScoreOrder::kTangent);
  const auto B = plain->derivatives(x, t, ScoreOrder::kTangent);
  for (const auto& [got, want, what] :
       {std::tuple{A.score, B.score, "score"}, std::tuple{A.jacobian, B.jacobian, "jacobian"},
        std::tuple{A.third, B.third, "third"}, std::tuple{A.hess_lap, B.hess_lap, "hess_lap"},
        std::tuple{A.third_s, B.third_s, "third_s"}, std::tuple{A.grad3_lap, B.grad3_lap, "grad3_lap"}}) {
    EXPECT_LT(max_abs(got - want) / std::max(1.0, max_abs(want)), 1e-12) << what;
  }
  const auto F = pooled->derivatives(x, t, ScoreOrder::kForce);
  EXPECT_LT(max_abs(F.grad_lap - B.grad_lap) / std::max(1.0, max_abs(B.grad_lap)), 1e-12) << "traced ∇Δφ";
}

TEST(ScoreNet, PairWidthNeedsTheDeepSetsNetwork) {
  ScoreNetOptions options;
  options.d = 3;
  options.pair_width = 4;
  EXPECT_THROW(options.validate(), std::invalid_argument);
  options.symmetry = Symmetry::kDeepSets;
  EXPECT_NO_THROW(options.validate());
}

TEST(ScoreNet, ConcatJetsMatchNestedAutogradD2) {
  expect_jets_match_oracle(*make_system("harmonic", {{"d", 2}, {"omega_1", 1.5}}), "concat");
}

// The parameter gradient of the jets (the layers' hand-written backward)
// against reverse mode through the nested-autograd oracle, for a random
// linear functional of every derivative the loss and inference use. Both are
// exact; 1e-10 relative for the same reason as above.
TEST(ScoreNet, JetParameterGradientsMatchNestedAutograd) {
  auto system = make_system("morse_chain", {{"d", 2}});
  auto net = tiny_network(*system, "film", {4, 3});
  torch::manual_seed(13);
  const auto x = torch::randn({2, 2}, torch::kFloat64);
  const double t = 0.6;
  const auto o = nested_autograd(*net, x, t, /*differentiable_grad3_lap=*/true);
  const auto s = net->baseline().score(x, t) + o.g;
  const auto D = net->derivatives(x, t, ScoreOrder::kTangent);
  const auto F = net->derivatives(x, t, ScoreOrder::kForce);  // traced ∇Δφ
  const auto functional = [](const std::vector<torch::Tensor>& parts) {
    torch::manual_seed(17);
    auto total = torch::zeros({}, torch::kFloat64);
    // randn, not randn_like: that would follow each part's strides, and the
    // jets' dense tensors are transposed views.
    for (const auto& part : parts) total = total + (torch::randn(part.sizes(), part.options()) * part).sum();
    return total;
  };
  const auto jets = functional({D.score, D.jacobian, D.third, D.hess_lap, D.third_s, D.grad3_lap,
                                F.jacobian, F.grad_lap});
  const auto oracle = functional({s, o.H, o.T3, o.T4.diagonal(0, 3, 4).sum(-1),
                                  torch::einsum("pi,pijkl->pjkl", {s, o.T4}), o.grad3_lap, o.H,
                                  o.T3.diagonal(0, 2, 3).sum(-1)});
  const auto parameters = net->parameters();
  const auto from_jets = grad({jets}, parameters, {}, false, false, true);
  const auto from_oracle = grad({oracle}, parameters, {}, false, false, true);
  for (size_t k = 0; k < parameters.size(); ++k) {
    const auto zero = torch::zeros_like(parameters[k]);
    const auto got = from_jets[k].defined() ? from_jets[k] : zero;
    const auto want = from_oracle[k].defined() ? from_oracle[k] : zero;
    EXPECT_LT(max_abs(got - want) / std::max(1.0, max_abs(want)), 1e-10) << "parameter " << k;
  }
}

// At d = 4 the nested-autograd oracle is too slow; the traced kForce streams
// are checked against ∇Δφ = tr ∇³φ from the full streams of kJacobian
// (themselves checked against autograd above). Same float64 sums in a
// different order: 1e-10 relative.
TEST(ScoreNet, ForceStreamsMatchFullStreamsD4) {
  auto system = make_system("morse_chain", {{"d", 4}});
  auto net = tiny_network(*system, "film", {7, 6});
  torch::manual_seed(11);
  const auto x = torch::randn({5, 4}, torch::kFloat64);
  const auto force = net->derivatives(x, 0.8, ScoreOrder::kForce);
  const auto full = net->derivatives(x, 0.8, ScoreOrder::kJacobian);
  EXPECT_FALSE(force.third.defined());
  for (const auto& [got, want] : {std::pair{force.score, full.score},
                                  std::pair{force.jacobian, full.jacobian},
                                  std::pair{force.grad_lap, full.grad_lap}}) {
    EXPECT_LT(max_abs(got - want) / std::max(1.0, max_abs(want)), 1e-10);
  }
}

TEST(ScoreNet, ScoreJacobianIsSymmetric) {
  auto system = make_system("morse_chain", {{"d", 3}});
  auto net = tiny_network(*system, "film");
  const auto x = torch::randn({4, 3}, torch::kFloat64);
  const auto S = net->derivatives(x, 1.1, ScoreOrder::kForce).jacobian;
  EXPECT_LT(max_abs(S - S.transpose(1, 2)), 1e-13);
}

TEST(ScoreNet, QuantumPotentialMatchesItsFormula) {
  auto system = make_system("morse_chain", {{"d", 2}});
  auto net = tiny_network(*system, "film");
  const auto x = torch::randn({4, 2}, torch::kFloat64);
  const double t = 0.9;
  const auto o = nested_autograd(*net, x, t);
  const auto s = net->baseline().score(x, t) + o.g;
  const auto B = net->baseline().precision(t, x.options());
  const auto div_s = o.H.diagonal(0, 1, 2).sum(-1) - B.trace();
  const auto expected = -(1.0 / 4.0) * (div_s + 0.5 * s.square().sum(-1));  // ħ = m = 1
  const auto Q = quantum_potential(*system, net->derivatives(x, t, ScoreOrder::kForce));
  EXPECT_LT(max_abs(Q - expected), 1e-12);
}

// The acceleration, its Jacobian and the Jacobian's gradient against
// autograd of Q built from the oracle's score (V's derivatives are tested in
// potentials_test).
TEST(ScoreNet, BohmianForceDerivativesMatchAutograd) {
  auto system = make_system("morse_chain", {{"d", 2}});
  auto net = tiny_network(*system, "film");
  torch::manual_seed(9);
  auto x = torch::randn({3, 2}, torch::kFloat64).requires_grad_(true);
  const double t = 0.5;
  const auto g = derivative(net->potential(x, t).unsqueeze(-1), x).squeeze(1);
  const auto s = net->baseline().score(x, t) + g;
  const auto div_s = derivative(s, x).diagonal(0, 1, 2).sum(-1);
  const auto Q = -(1.0 / 4.0) * (div_s + 0.5 * s.square().sum(-1));
  const auto a = -(system->gradient(x) + derivative(Q.unsqueeze(-1), x).squeeze(1));
  const auto J = derivative(a, x);        // [p, k, l] = ∂_l a_k
  const auto dJ = derivative(J, x);       // [p, k, l, j] = ∂_j J_kl
  const auto F = bohmian_force(*system, *net, x.detach(), t, ScoreOrder::kTangent);
  EXPECT_LT(max_abs(F.acceleration - a), 1e-11);
  EXPECT_LT(max_abs(F.jacobian - J), 1e-11);
  EXPECT_LT(max_abs(F.jacobian_gradient - dJ.permute({0, 3, 1, 2})), 1e-10);
}

TEST(ScoreNet, ParametersHaveTheReferenceLayout) {
  auto system = make_system("morse_chain");
  ScoreNet net(ScoreNetOptions{}, std::make_shared<GaussianBaseline>(*system));
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& [name, p] : net->named_parameters_in_order()) shapes[name] = p.sizes().vec();
  EXPECT_EQ(shapes.size(), 14u);
  EXPECT_EQ(shapes["spatial_0_W"], (std::vector<int64_t>{4, 128}));
  EXPECT_EQ(shapes["spatial_1_W"], (std::vector<int64_t>{128, 128}));
  EXPECT_EQ(shapes["film_1_gamma_W"], (std::vector<int64_t>{8, 128}));
  EXPECT_EQ(shapes["film_0_beta_b"], (std::vector<int64_t>{128}));
  EXPECT_EQ(shapes["output_W"], (std::vector<int64_t>{128, 1}));
  EXPECT_EQ(shapes["output_b"], (std::vector<int64_t>{1}));
  // Initial scales: spatial_1 ~ N(0, 1/128), output ~ N(0, 0.01²).
  const auto& params = net->named_parameters(false);
  EXPECT_NEAR(params["spatial_1_W"].std().item<double>(), std::sqrt(1.0 / 128), 0.01);
  EXPECT_NEAR(params["output_W"].std().item<double>(), 0.01, 0.003);
  EXPECT_EQ(params["spatial_0_b"].abs().sum().item<double>(), 0.0);
}

TEST(ScoreNet, FourierEmbeddingIsSinesThenCosines) {
  auto system = make_system("morse_chain", {{"d", 2}});
  auto net = tiny_network(*system, "film");
  const auto e = net->time_embedding(0.3);
  ASSERT_EQ(e.size(0), 4);
  EXPECT_DOUBLE_EQ(e[0].item<double>(), std::sin(0.3));
  EXPECT_DOUBLE_EQ(e[1].item<double>(), std::sin(0.6));
  EXPECT_DOUBLE_EQ(e[2].item<double>(), std::cos(0.3));
  EXPECT_DOUBLE_EQ(e[3].item<double>(), std::cos(0.6));
}

}  // namespace
}  // namespace bohmflow
