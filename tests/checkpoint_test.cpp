#include "bohmflow/checkpoint.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>

#include "bohmflow/npz.hpp"
#include "test_support.hpp"

namespace bohmflow {
namespace {

std::string scratch(const std::string& name) { return scratch_path(name).string(); }

Checkpoint small_checkpoint() {
  Checkpoint c;
  c.model.potential = "morse_chain";
  c.model.system = {{"d", 2}, {"lam", 0.25}};
  c.model.network.hidden_dims = {6, 5};
  c.model.network.n_freq = 2;
  c.model.network.symmetry = Symmetry::kPermutation;
  auto model = build_model(c.model);
  store_parameters(*model.network, c);
  for (const auto& [name, p] : c.params) {
    c.adam_m[name] = torch::randn_like(p);
    c.adam_v[name] = torch::rand_like(p);
  }
  c.adam_step = 17;
  c.lr = 5e-4;
  c.epoch = 17;
  c.losses = {1.0, 0.5, 0.25};
  c.rng_state = {1, -2, 3};
  c.training_json = R"({"M": 64, "seed": 0})";
  return c;
}

TEST(Checkpoint, RoundTripsEverything) {
  const auto c = small_checkpoint();
  const auto path = scratch("roundtrip.npz");
  save_checkpoint(path, c);
  const auto r = load_checkpoint(path);
  EXPECT_EQ(r.model.potential, "morse_chain");
  EXPECT_EQ(r.model.system.at("lam"), 0.25);
  EXPECT_EQ(r.model.network.hidden_dims, (std::vector<int64_t>{6, 5}));
  EXPECT_EQ(r.model.network.symmetry, Symmetry::kPermutation);
  EXPECT_EQ(r.adam_step, 17);
  EXPECT_EQ(r.lr, 5e-4);
  EXPECT_EQ(r.losses, c.losses);
  EXPECT_EQ(r.rng_state, c.rng_state);
  for (const auto& [name, p] : c.params) {
    EXPECT_TRUE(torch::equal(p, r.params.at(name))) << name;
    EXPECT_TRUE(torch::equal(c.adam_m.at(name), r.adam_m.at(name))) << name;
  }
  // The rebuilt network computes what the original computes.
  auto a = build_model(c.model);
  restore_parameters(*a.network, c, "memory");
  auto b = load_model(path);
  const auto x = torch::randn({4, 2}, torch::kFloat64);
  EXPECT_TRUE(torch::equal(a.network->potential(x, 0.3), b.network->potential(x, 0.3)));
}

// The "deepsets" encoders store (1, h) weights where the plain network has (d, h₀).
TEST(Checkpoint, RoundTripsADeepSetsNetwork) {
  auto c = small_checkpoint();
  c.model.network.symmetry = Symmetry::kDeepSets;
  c.model.network.pair_width = 3;
  c.params.clear();
  store_parameters(*build_model(c.model).network, c);
  for (const auto& [name, p] : c.params) c.adam_m[name] = c.adam_v[name] = torch::rand_like(p);
  EXPECT_EQ(c.params.at("spatial_0_W").sizes(), (std::vector<int64_t>{1, 6}));
  const auto path = scratch("roundtrip_deepsets.npz");
  save_checkpoint(path, c);
  auto a = build_model(c.model);
  restore_parameters(*a.network, c, "memory");
  auto b = load_model(path);
  EXPECT_EQ(b.network->options().symmetry, Symmetry::kDeepSets);
  EXPECT_EQ(b.network->options().pair_width, 3);
  EXPECT_EQ(c.params.at("pair_W").sizes(), (std::vector<int64_t>{1, 3}));
  const auto x = torch::randn({4, 2}, torch::kFloat64);
  EXPECT_TRUE(torch::equal(a.network->potential(x, 0.3), b.network->potential(x, 0.3)));
}

TEST(Checkpoint, RejectsAMismatchedArchitectureNamingTheKey) {
  auto c = small_checkpoint();
  c.params["spatial_1_W"] = torch::zeros({6, 7}, torch::kFloat64);
  const auto path = scratch("mismatch.npz");
  save_checkpoint(path, c);
  try {
    load_checkpoint(path);
    FAIL() << "loaded a checkpoint with a wrong shape";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("params/spatial_1_W"), std::string::npos) << what;
    EXPECT_NE(what.find("mismatch.npz"), std::string::npos) << what;
  }
}

TEST(Checkpoint, RejectsFilesThatAreNotCheckpoints) {
  const auto path = scratch("not_a_checkpoint.npz");
  Npz npz;
  npz.set("t", 1.0);
  npz.save(path);
  EXPECT_THROW(load_checkpoint(path), std::runtime_error);
  EXPECT_THROW(load_checkpoint(scratch("missing.npz")), std::runtime_error);
}

// An enum option's word in the args JSON that is none of its words is an
// error naming the file and the key, not a crash or a silent default.
TEST(Checkpoint, AnUnknownOptionWordInTheArgsIsRefused) {
  auto npz = Npz::load(std::string(BOHMFLOW_SOURCE_DIR) + "/checkpoints/morse_d4.npz");
  std::string args = npz.string("args");
  const auto at = args.find("\"film\"");
  ASSERT_NE(at, std::string::npos) << args;
  args.replace(at, 6, "\"fi1m\"");
  npz.set("args", args);
  const auto path = scratch_path("unknown_word.npz").string();
  npz.save(path);
  try {
    load_checkpoint(path);
    FAIL();
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("key 'args': conditioning 'fi1m': must be film or concat"),
              std::string::npos)
        << error.what();
  }
}

// Args that describe a model far larger than the parameters stored (a
// corrupt or crafted file) are refused before anything is built, naming the
// key: the fuzzer's findings (d = 2e4, n_freq = 2e9, 100000-wide layers).
TEST(Checkpoint, ArgsLargerThanTheStoredParametersAreRefusedBeforeBuilding) {
  const auto original = Npz::load(std::string(BOHMFLOW_SOURCE_DIR) + "/checkpoints/morse_d2.npz");
  const std::vector<std::pair<std::string, std::string>> edits{
      {"\"hidden_dims\":[32,32]", "\"hidden_dims\":[100000,100000]"},
      {"\"n_freq\":4", "\"n_freq\":2000000000"},
      {"\"d\":2.0", "\"d\":20000.0"},
      {"\"d\":2.0", "\"d\":1e300"}};
  for (const auto& [from, to] : edits) {
    auto npz = original;
    std::string args = npz.string("args");
    const auto at = args.find(from);
    ASSERT_NE(at, std::string::npos) << from << " in " << args;
    args.replace(at, from.size(), to);
    npz.set("args", args);
    const auto path = scratch_path("oversized.npz").string();
    npz.save(path);
    try {
      load_checkpoint(path);
      FAIL() << to << " was accepted";
    } catch (const std::runtime_error& error) {
      const std::string message = error.what();
      EXPECT_NE(message.find("oversized.npz': key 'args'"), std::string::npos) << message;
      EXPECT_TRUE(message.find("describes a network of at least") != std::string::npos ||
                  message.find("is not a dimension in [1, 4096]") != std::string::npos)
          << message;
    }
  }
}

// The reference's published checkpoint, converted by
// scripts/import_reference_checkpoint.py and shipped in checkpoints/.
TEST(Checkpoint, ImportedReferenceCheckpointLoads) {
  const std::string path = std::string(BOHMFLOW_SOURCE_DIR) + "/checkpoints/morse_d4.npz";
  const auto c = load_checkpoint(path);
  EXPECT_EQ(c.epoch, 45000);
  EXPECT_EQ(c.losses.size(), 45000u);
  EXPECT_EQ(c.model.network.hidden_dims, (std::vector<int64_t>{128, 128}));
  EXPECT_EQ(c.model.network.n_freq, 4);
  EXPECT_NE(c.provenance.find("MIT"), std::string::npos);
  auto model = load_model(path);
  EXPECT_EQ(model.system->dim(), 4);
  // φ at the origin at t = 0 equals the forward pass of the stored arrays.
  const auto x = torch::zeros({1, 4}, torch::kFloat64);
  auto h = torch::zeros({1, 4}, torch::kFloat64);
  const auto e = torch::tensor({0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0}, torch::kFloat64);
  for (int i = 0; i < 2; ++i) {
    const std::string s = std::to_string(i);
    h = torch::matmul(h, c.params.at("spatial_" + s + "_W")) + c.params.at("spatial_" + s + "_b");
    const auto gamma = torch::matmul(e, c.params.at("film_" + s + "_gamma_W")) + c.params.at("film_" + s + "_gamma_b");
    const auto beta = torch::matmul(e, c.params.at("film_" + s + "_beta_W")) + c.params.at("film_" + s + "_beta_b");
    h = (1 + gamma) * torch::softplus(h) + beta;
  }
  const double expected = (torch::matmul(h, c.params.at("output_W")) + c.params.at("output_b")).item<double>();
  EXPECT_NEAR(model.network->potential(x, 0.0).item<double>(), expected, 1e-12);
}

}  // namespace
}  // namespace bohmflow
