// The generic jet engine (ATen operations, any device and dtype) against the
// fused CPU kernel: every path a GPU takes, checked on the CPU.
#include "../src/jets.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "bohmflow/baseline.hpp"
#include "bohmflow/fisher_loss.hpp"
#include "bohmflow/npz.hpp"
#include "bohmflow/potentials.hpp"
#include "bohmflow/score_network.hpp"
#include "test_support.hpp"

namespace bohmflow {
namespace {

using detail::JetKernel;
using detail::JetLayout;
using detail::JetLevel;

double relative_gap(const torch::Tensor& got, const torch::Tensor& want) {
  const double scale = std::max(1e-300, want.abs().max().item<double>());
  return (got - want).abs().max().item<double>() / scale;
}

// Every stream of the layer's output and both input gradients, generic against fused.
TEST(Jets, GenericSoftplusLayerIsTheFusedKernel) {
  for (int d : {1, 2, 4, 8}) {
    for (auto level : {JetLevel::kGradient, JetLevel::kForce, JetLevel::kJacobian, JetLevel::kTangent}) {
      const JetLayout layout(d, level);
      torch::manual_seed(11 + d);
      const int64_t S = layout.num_streams(), M = 3, H = 5;
      const auto z = torch::randn({M, H}, torch::kFloat64).requires_grad_(true);
      const auto X = (0.5 * torch::randn({S, M, H}, torch::kFloat64)).requires_grad_(true);
      const auto g = torch::randn({S, M, H}, torch::kFloat64);
      const auto run = [&](JetKernel kernel) {
        const auto out = layout.softplus_layer(z, X, kernel);
        const auto grads = torch::autograd::grad({out}, {z, X}, {g});
        return std::vector<torch::Tensor>{out.detach(), grads[0], grads[1]};
      };
      const auto fused = run(JetKernel::kFused);
      const auto generic = run(JetKernel::kGeneric);
      const char* names[] = {"streams", "dz", "dX"};
      for (int k = 0; k < 3; ++k) {
        EXPECT_LT(relative_gap(generic[k], fused[k]), 1e-12)
            << names[k] << " at d = " << d << ", level " << static_cast<int>(level);
      }
    }
  }
}

// A parameter's gradient; zeros where nothing depends on it (φ's output
// bias never enters a derivative in x).
torch::Tensor gradient_of(const torch::Tensor& p) {
  return p.grad().defined() ? p.grad().clone() : torch::zeros_like(p);
}

// A tiny network with O(1) parameters everywhere, so that every stream matters.
ScoreNet tiny(const System& system, const std::string& symmetry, int64_t pair_width) {
  ScoreNetOptions options;
  options.d = system.dim();
  options.hidden_dims = {6, 5};
  options.n_freq = 2;
  options.symmetry = parse_option<Symmetry>(symmetry);
  options.pair_width = pair_width;
  BaselineOptions baseline;
  baseline.kind = system.trap() ? BaselineKind::kTrap : BaselineKind::kMinimum;
  torch::manual_seed(3);
  ScoreNet net(options, std::make_shared<GaussianBaseline>(system, baseline));
  torch::NoGradGuard no_grad;
  for (auto& p : net->parameters()) p.copy_(0.6 * torch::randn_like(p));
  return net;
}

std::vector<torch::Tensor> derivative_fields(const ScoreDerivatives& D) {
  return {D.score, D.jacobian, D.grad_lap, D.third, D.hess_lap, D.third_s, D.grad3_lap};
}

// The derivatives of plain, sorted, deepsets and pair networks, and their
// parameter gradients, through both engines.
TEST(Jets, GenericEngineGivesTheFusedNetworkDerivativesAndGradients) {
  struct Case {
    std::string symmetry;
    int64_t pair_width;
  };
  const std::vector<Case> cases = {{"none", 0}, {"permutation", 0}, {"deepsets", 0}, {"deepsets", 4}};
  for (int d : {1, 2, 4, 8}) {
    auto system = make_system("interacting_bosons", {{"d", d}});
    for (const auto& c : cases) {
      if (c.pair_width > 0 && d < 2) continue;
      auto net = tiny(*system, c.symmetry, c.pair_width);
      torch::manual_seed(5);
      const auto x = torch::randn({3, d}, torch::kFloat64);
      std::vector<std::vector<torch::Tensor>> results;
      for (auto engine : {JetEngine::kFused, JetEngine::kGeneric}) {
        net->set_jet_engine(engine);
        for (auto& p : net->parameters()) p.mutable_grad() = torch::Tensor();
        const auto D = net->derivatives(x, 0.37, ScoreOrder::kTangent);
        auto fields = derivative_fields(D);
        // A scalar that every field enters, with fixed random weights.
        torch::manual_seed(9);
        auto total = torch::zeros({}, torch::kFloat64);
        for (const auto& f : fields) total = total + (f * torch::randn_like(f)).sum();
        total.backward();
        for (auto& f : fields) f = f.detach();
        for (const auto& p : net->parameters()) fields.push_back(gradient_of(p));
        results.push_back(fields);
      }
      net->set_jet_engine(JetEngine::kAuto);
      for (size_t k = 0; k < results[0].size(); ++k) {
        EXPECT_LT(relative_gap(results[1][k], results[0][k]), 1e-12)
            << (k < 7 ? "derivative field " : "parameter gradient ") << k << ", d = " << d << ", "
            << c.symmetry << " pair_width " << c.pair_width;
      }
    }
  }
}

struct LossAndGradient {
  double loss;
  torch::Tensor gradient;
};

LossAndGradient loss_through(ScoreNetImpl& net, const System& system, const torch::Tensor& x0) {
  for (auto& p : net.parameters()) p.mutable_grad() = torch::Tensor();
  FisherLossOptions options;
  options.chunk_size = 5;  // two chunks
  const auto r = fisher_loss(system, net, x0, {0.05, 0.01}, {}, options, true);
  std::vector<torch::Tensor> flat;
  for (const auto& p : net.parameters()) flat.push_back(gradient_of(p).reshape({-1}).to(torch::kFloat64));
  return {r.loss, torch::cat(flat)};
}

// One whole loss and parameter gradient (the training step) through each engine.
TEST(Jets, FisherLossAndGradientAreTheSameThroughEitherEngine) {
  auto system = make_system("morse_chain", {{"d", 2}});
  auto net = tiny(*system, "none", 0);
  const auto x0 = sample_initial_positions(*system, 8, torch::kFloat64);
  net->set_jet_engine(JetEngine::kFused);
  const auto fused = loss_through(*net, *system, x0);
  net->set_jet_engine(JetEngine::kGeneric);
  const auto generic = loss_through(*net, *system, x0);
  EXPECT_GT(fused.loss, 1e-6);
  EXPECT_NEAR(generic.loss, fused.loss, 1e-10 * fused.loss);
  EXPECT_LT(relative_gap(generic.gradient, fused.gradient), 1e-10);
}

// float32 (generic engine) against float64 on a small case: the derivatives
// and the loss with its gradient, within 1e-4 relative.
TEST(Jets, Float32FollowsFloat64) {
  auto system = make_system("morse_chain", {{"d", 2}});
  auto net = tiny(*system, "none", 0);
  torch::manual_seed(5);
  const auto x = 0.3 * torch::randn({8, 2}, torch::kFloat64);
  const auto want = net->derivatives(x, 0.2, ScoreOrder::kTangent);
  const auto want_loss = loss_through(*net, *system, x);
  net->to(torch::kFloat32);
  const auto got = net->derivatives(x.to(torch::kFloat32), 0.2, ScoreOrder::kTangent);
  ASSERT_EQ(got.score.scalar_type(), torch::kFloat32);
  const auto want_fields = derivative_fields(want), got_fields = derivative_fields(got);
  for (size_t k = 0; k < want_fields.size(); ++k) {
    EXPECT_LT(relative_gap(got_fields[k].to(torch::kFloat64), want_fields[k]), 1e-4) << "field " << k;
  }
  const auto got_loss = loss_through(*net, *system, x.to(torch::kFloat32));
  EXPECT_NEAR(got_loss.loss, want_loss.loss, 1e-4 * want_loss.loss);
  EXPECT_LT(relative_gap(got_loss.gradient, want_loss.gradient), 1e-4);
}

TEST(Jets, FusedEngineRefusesWhatItCannotRun) {
  ComputeOptions compute;
  compute.jets = JetEngine::kFused;
  EXPECT_NO_THROW(compute.validate(torch::kCPU));
  compute.dtype = torch::kFloat32;
  try {
    compute.validate(torch::kCPU);
    ADD_FAILURE() << "fused float32 accepted";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("jets 'fused'"), std::string::npos) << error.what();
  }
  EXPECT_EQ(parse_option<JetEngine>(to_string(JetEngine::kGeneric)), JetEngine::kGeneric);
  EXPECT_EQ(parse_dtype(dtype_name(torch::kFloat32)), torch::kFloat32);
  EXPECT_THROW(parse_option<JetEngine>("fast"), std::invalid_argument);
  EXPECT_THROW(parse_dtype("float16"), std::invalid_argument);
  // The network itself refuses fused jets on float32 parameters.
  auto system = make_system("morse_chain", {{"d", 2}});
  auto net = tiny(*system, "none", 0);
  net->to(torch::kFloat32);
  net->set_jet_engine(JetEngine::kFused);
  EXPECT_THROW(net->derivatives(torch::zeros({2, 2}, torch::kFloat32), 0.0, ScoreOrder::kForce),
               std::invalid_argument);
}

const std::string kTrainMorse = std::string(BOHMFLOW_APPS_DIR) + "/train_morse";
const std::string kSmoke = " --d 2 --T 0.2 --M 64 --hidden-dims 32 32 --n-freq 2 --n-epochs 3 --lr-patience 0 "
                           "--print-every 10 --seed 4 ";

// train_morse's smoke run through --jets generic and --jets fused: the same parameters.
TEST(JetsCli, GenericAndFusedTrainTheSameParameters) {
  std::vector<Checkpoint> checkpoints;
  for (const std::string jets : {"fused", "generic"}) {
    const auto path = scratch_path(jets + ".npz").string();
    const auto log = scratch_path(jets + ".log").string();
    const auto command = kTrainMorse + kSmoke + "--device cpu --jets " + jets + " --checkpoint-path " + path + " > " + log + " 2>&1";
    ASSERT_EQ(std::system(command.c_str()), 0) << read_text(log);
    EXPECT_NE(read_text(log).find("jets " + jets), std::string::npos) << read_text(log);
    checkpoints.push_back(load_checkpoint(path));
    EXPECT_NE(checkpoints.back().training_json.find("\"jets\":\"" + jets + "\""), std::string::npos);
  }
  for (const auto& [name, fused] : checkpoints[0].params) {
    EXPECT_LT(relative_gap(checkpoints[1].params.at(name), fused), 1e-9) << name;
  }
}

// Bad compute flags: one line naming the flag, non-zero exit.
TEST(JetsCli, ComputeFlagsNameThemselves) {
  struct Row {
    std::string flags, fragment;
  };
  std::vector<Row> rows = {{"--jets fast", "--jets"},
                           {"--dtype float16", "--dtype"},
                           {"--jets fused --dtype float32", "jets 'fused'"}};
  if (!torch::cuda::is_available()) rows.push_back({"--device cuda", "--device cuda"});
  for (const auto& row : rows) {
    const auto err = scratch_path("err.txt").string();
    const auto command = kTrainMorse + kSmoke + row.flags + " --checkpoint-path " +
                         scratch_path("never.npz").string() + " > /dev/null 2> " + err;
    EXPECT_NE(std::system(command.c_str()), 0) << row.flags;
    EXPECT_NE(read_text(err).find(row.fragment), std::string::npos) << row.flags << ": " << read_text(err);
    EXPECT_FALSE(std::filesystem::exists(scratch_path("never.npz"))) << row.flags;
  }
}

// Every evaluation app runs its network through either engine and dtype:
// --jets generic gives the fused numbers, --dtype float32 nearly them.
TEST(JetsCli, EvaluationAppsTakeEveryEngine) {
  const std::string apps = std::string(BOHMFLOW_APPS_DIR) + "/";
  const std::string source = std::string(BOHMFLOW_SOURCE_DIR) + "/";
  const std::string checkpoint = source + "checkpoints/morse_d2.npz";
  // Exact ψ snapshots of the same system, for kl_divergence.
  const auto fft = scratch_path("fft.npz").string(), psi = scratch_path("psi.npz").string();
  const auto fft_command = apps + "compute_fft_reference --d 2 --N 32 --L 8 --T 0.3 --dt 0.01 --threads 1 -o " +
                           fft + " --save-psi-at 0 0.3 --psi-out " + psi + " > /dev/null 2>&1";
  ASSERT_EQ(std::system(fft_command.c_str()), 0);
  struct Row {
    std::string app, flags;
  };
  const std::vector<Row> rows = {
      {"fig4_moments", "--checkpoint " + checkpoint + " --fft-ref " + fft + " --M-test 64 --n-times 4"},
      {"benchmark_moments", "--checkpoint " + checkpoint + " --no-reference --T 0.3 --M-test 64 --n-times 4"},
      {"fold_statistics", "--checkpoint " + checkpoint + " --T 0.3 --M-test 64 --n-times 4"},
      {"score_field", "--checkpoint " + checkpoint + " --grid-N 8 --grid-L 3 --times 0 0.3"},
      {"kl_divergence", "--checkpoint " + checkpoint + " --psi " + psi + " --M 64 --batch 32"},
  };
  for (const auto& row : rows) {
    std::map<std::string, Npz> outputs;
    for (const std::string compute : {"--jets fused", "--jets generic", "--dtype float32"}) {
      const auto out = scratch_path(row.app + ".npz").string(), log = scratch_path(row.app + ".log").string();
      std::filesystem::remove(out);
      const auto command = apps + row.app + " " + row.flags + " --threads 1 --device cpu " + compute +
                           " --data-out " + out + " > " + log + " 2>&1";
      ASSERT_EQ(std::system(command.c_str()), 0) << command << "\n" << read_text(log);
      outputs.emplace(compute, Npz::load(out));
    }
    const auto& fused = outputs.at("--jets fused");
    size_t compared = 0;
    for (const auto& key : fused.keys()) {
      const auto dtype = fused.at(key).dtype;
      if (dtype != DType::Float64 && dtype != DType::Float32) continue;
      const auto want = fused.tensor(key);
      const auto ok = torch::isfinite(want);
      ASSERT_TRUE(ok.any().item<bool>()) << row.app << " " << key;
      const auto values = [&](const std::string& compute) {
        return torch::where(ok, outputs.at(compute).tensor(key).to(torch::kFloat64), want.to(torch::kFloat64));
      };
      EXPECT_LT(relative_gap(values("--jets generic"), want), 1e-10) << row.app << " " << key;
      EXPECT_LT(relative_gap(values("--dtype float32"), want), 1e-3) << row.app << " " << key;
      ++compared;
    }
    EXPECT_GE(compared, 3u) << row.app;
  }
}

// The compute flags of every app that runs a network fail the same way.
TEST(JetsCli, EvaluationAppsNameBadComputeFlags) {
  const std::string apps = std::string(BOHMFLOW_APPS_DIR) + "/";
  const std::string checkpoint = std::string(BOHMFLOW_SOURCE_DIR) + "/checkpoints/morse_d2.npz";
  std::vector<std::pair<std::string, std::string>> rows = {
      {"--jets fast", "--jets"}, {"--dtype float16", "--dtype"}, {"--threads -1", "--threads: must be >= 0"}};
  if (!torch::cuda::is_available()) rows.push_back({"--device cuda", "--device cuda"});
  const std::string C = " --checkpoint " + checkpoint, O = " --data-out " + scratch_path("never.npz").string();
  const std::vector<std::pair<std::string, std::string>> apps_args = {
      {"fig4_moments", C + O},       {"benchmark_moments", C + " --no-reference" + O},
      {"fold_statistics", C + O},    {"gradient_spread", C},
      {"score_field", C + O},        {"kl_divergence", C + " --psi " + checkpoint + O},
      {"bench_core", " --d 2 --M 8" + O}};
  for (const auto& [app, args] : apps_args) {
    for (const auto& [flags, fragment] : rows) {
      const auto err = scratch_path("err.txt").string(), out = scratch_path("never.npz").string();
      const auto command = apps + app + args + " " + flags + " > /dev/null 2> " + err;
      EXPECT_NE(std::system(command.c_str()), 0) << app << " " << flags;
      EXPECT_NE(read_text(err).find(fragment), std::string::npos) << app << " " << flags << ": " << read_text(err);
      EXPECT_FALSE(std::filesystem::exists(out)) << app << " " << flags;
    }
  }
}

}  // namespace
}  // namespace bohmflow
