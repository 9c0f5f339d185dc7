#include "bohmflow/scripted_system.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "bohmflow/baseline.hpp"
#include "bohmflow/checkpoint.hpp"
#include "bohmflow/fft_reference.hpp"
#include "bohmflow/npz.hpp"
#include "bohmflow/potential_grid.hpp"
#include "bohmflow/trainer.hpp"
#include "test_support.hpp"
#include "../src/sha256.hpp"

namespace bohmflow {
namespace {

// A module written by Python's torch.jit.save (tests/data/systems/make_test_modules.py).
std::string module_path(const std::string& name) {
  return std::string(BOHMFLOW_SOURCE_DIR) + "/tests/data/systems/" + name + ".pt";
}

// ħ, m and ψ₀ of `system` as FileSystemOptions parameters.
ParameterMap state_of(const SystemDefinition& system) { return file_system_state(system).parameters(); }

ScriptedSystem scripted(const std::string& name, ParameterMap parameters) {
  return ScriptedSystem({read_script_file(module_path(name)), name + ".pt", std::move(parameters)});
}

double max_abs_difference(const std::vector<double>& a, const std::vector<double>& b) {
  EXPECT_EQ(a.size(), b.size());
  double out = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) out = std::max(out, std::abs(a[i] - b[i]));
  return out;
}

// max |a − b| / max(1, max |b|).
double relative_error(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>() / std::max(1.0, b.abs().max().item<double>());
}

struct Pair {
  std::string module;  // tests/data/systems/<module>.pt
  std::string system;  // registry name of the same potential
};

void PrintTo(const Pair& pair, std::ostream* out) { *out << pair.module; }

class ScriptedAgainstBuiltIn : public ::testing::TestWithParam<std::tuple<Pair, int>> {};

TEST_P(ScriptedAgainstBuiltIn, EveryDerivativeAgreesTo1e12) {
  const auto& [pair, d] = GetParam();
  const auto builtin = make_system(pair.system, {{"d", d}});
  const auto script = scripted(pair.module, state_of(*builtin));
  torch::manual_seed(7);
  const auto x = 1.5 * torch::randn({9, d}, torch::kFloat64);
  const auto U = torch::randn({9, d, 3}, torch::kFloat64);
  EXPECT_LT(relative_error(script.potential(x), builtin->potential(x)), 1e-12);
  EXPECT_LT(relative_error(script.gradient(x), builtin->gradient(x)), 1e-12);
  EXPECT_LT(relative_error(script.hessian(x), builtin->hessian(x)), 1e-12);
  EXPECT_LT(relative_error(script.hessian_directional(x, U), builtin->hessian_directional(x, U)), 1e-12);
  // The identity directions, as the Bohmian dynamics ask for ∂_j∂_k∂_l V.
  const auto I = torch::eye(d, torch::kFloat64).expand({9, d, d});
  EXPECT_LT(relative_error(script.hessian_directional(x, I), builtin->hessian_directional(x, I)), 1e-12);
  // The fused call the Bohmian force makes, orders 1 to 3, against the built-in's.
  for (const int order : {1, 2, 3}) {
    const auto fused = script.potential_derivatives(x, order);
    EXPECT_LT(relative_error(fused.gradient, builtin->gradient(x)), 1e-12) << order;
    EXPECT_EQ(fused.hessian.defined(), order >= 2);
    EXPECT_EQ(fused.third.defined(), order >= 3);
    if (order >= 2) EXPECT_LT(relative_error(fused.hessian, builtin->hessian(x)), 1e-12) << order;
    if (order >= 3) EXPECT_LT(relative_error(fused.third, builtin->hessian_directional(x, I)), 1e-12);
  }
  // V on a grid, as the tabulation evaluates it.
  const std::vector<std::vector<double>> axes(d, {-0.5, 0.25, 1.0});
  const auto a = script.potential_on_grid(axes), b = builtin->potential_on_grid(axes);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-12 * std::max(1.0, std::abs(b[i])));
}

INSTANTIATE_TEST_SUITE_P(Systems, ScriptedAgainstBuiltIn,
                         ::testing::Combine(::testing::Values(Pair{"morse_chain", "morse_chain"},
                                                              Pair{"henon_heiles", "henon_heiles"}),
                                            ::testing::Values(2, 4, 8)),
                         [](const auto& info) {
                           return std::get<0>(info.param).module + "_d" + std::to_string(std::get<1>(info.param));
                         });

// Under the trainer's backward sweep the derivatives are themselves
// differentiated: their gradients in x must be the analytic ones'.
TEST(ScriptedSystem, DerivativesAreDifferentiableLikeTheBuiltIns) {
  const auto builtin = make_system("morse_chain", {{"d", 3}});
  const auto script = scripted("morse_chain", state_of(*builtin));
  torch::manual_seed(3);
  const auto x0 = torch::randn({5, 3}, torch::kFloat64);
  const auto U = torch::randn({5, 3, 3}, torch::kFloat64);
  const auto W = torch::randn({5, 3, 3, 3}, torch::kFloat64);
  const auto through = [&](const System& system) {
    const auto x = x0.clone().requires_grad_(true);
    const auto y = (system.hessian_directional(x, U) * W).sum() + system.hessian(x).square().sum() +
                   system.gradient(x).pow(3).sum() + system.potential(x).sum();
    return torch::autograd::grad({y}, {x})[0];
  };
  EXPECT_LT(relative_error(through(script), through(*builtin)), 1e-11);
  // The fused derivatives too, each of them.
  const auto fused = [&](const System& system) {
    const auto x = x0.clone().requires_grad_(true);
    const auto D = system.potential_derivatives(x, 3);
    const auto y = (D.third * W).sum() + D.hessian.square().sum() + D.gradient.pow(3).sum();
    return torch::autograd::grad({y}, {x})[0];
  };
  EXPECT_LT(relative_error(fused(script), fused(*builtin)), 1e-11);
  // Without a graph around them, nothing keeps one.
  torch::NoGradGuard no_grad;
  EXPECT_FALSE(script.hessian_directional(x0, U).requires_grad());
  const auto D = script.potential_derivatives(x0, 3);
  EXPECT_FALSE(D.gradient.requires_grad() || D.hessian.requires_grad() || D.third.requires_grad());
}

// A linear V: its gradient is constant, so the higher derivatives have no graph at all.
TEST(ScriptedSystem, DerivativesPastAPolynomialsDegreeAreZero) {
  const auto slope = scripted("slope", {{"d", 3}, {"mean", 0.5}});
  const auto x = torch::randn({4, 3}, torch::kFloat64);
  EXPECT_TRUE(torch::equal(slope.gradient(x), torch::ones({4, 3}, torch::kFloat64)));
  EXPECT_TRUE(torch::equal(slope.hessian(x), torch::zeros({4, 3, 3}, torch::kFloat64)));
  const auto U = torch::randn({4, 3, 2}, torch::kFloat64);
  EXPECT_TRUE(torch::equal(slope.hessian_directional(x, U), torch::zeros({4, 2, 3, 3}, torch::kFloat64)));
  const auto leaf = x.clone().requires_grad_(true);
  EXPECT_TRUE(torch::equal(slope.hessian(leaf), torch::zeros({4, 3, 3}, torch::kFloat64)));
}

TEST(ScriptedSystem, FloatAttributesAreParameters) {
  const auto builtin = make_system("henon_heiles", {{"d", 2}, {"lam", 0.3}});
  auto parameters = state_of(*builtin);
  EXPECT_EQ(scripted("henon_heiles", parameters).attributes().at("lam"), 0.111803);
  parameters["lam"] = 0.3;
  const auto script = scripted("henon_heiles", parameters);
  EXPECT_EQ(script.attributes().at("lam"), 0.3);
  EXPECT_EQ(script.parameters().at("lam"), 0.3);
  const auto x = torch::randn({4, 2}, torch::kFloat64);
  EXPECT_LT(relative_error(script.hessian(x), builtin->hessian(x)), 1e-12);
  // A copy (the variational baseline keeps one) is the same system.
  const auto copy = script.copy();
  EXPECT_EQ(copy->parameters(), script.parameters());
  EXPECT_LT(relative_error(copy->gradient(x), script.gradient(x)), 1e-15);
  parameters["kappa"] = 1.0;
  try {
    scripted("henon_heiles", parameters);
    FAIL() << "an unknown parameter was accepted";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("unknown parameter 'kappa'"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("lam"), std::string::npos) << error.what();
  }
}

TEST(ScriptedSystem, StateParametersAndTheirDefaults) {
  const auto script = scripted("henon_heiles", {{"d", 3}, {"mean", 2.0}, {"velocity_1", 0.5}});
  EXPECT_EQ(script.dim(), 3);
  EXPECT_EQ(script.hbar(), 1.0);
  EXPECT_EQ(script.mass(), 1.0);
  EXPECT_EQ(script.initial_state().mean, std::vector<double>(3, 2.0));
  EXPECT_EQ(script.initial_state().sigma, std::vector<double>(3, std::sqrt(0.5)));
  EXPECT_EQ(script.initial_state().velocity, (std::vector<double>{0.0, 0.5, 0.0}));
  EXPECT_EQ(script.name(), "script");
  EXPECT_EQ(script.sha256(), script_sha256(read_script_file(module_path("henon_heiles"))));
}

// The trap baseline's quadratic expansion at μ: K = ∇²V(μ), c = μ − K⁻¹∇V(μ).
TEST(ScriptedSystem, TrapIsTheHarmonicExpansionAtTheInitialMean) {
  const double lam = 0.111803;
  const auto script = scripted("henon_heiles", {{"d", 2}, {"mean", 2.0}});
  const auto trap = script.trap();
  ASSERT_TRUE(trap.has_value());
  // By hand at q = (2, 2): ∇V = (2 + 8λ, 2 + 4λ − 4λ), ∇²V = [[1 + 4λ, 4λ], [4λ, 1 − 4λ]].
  const double K[4] = {1 + 4 * lam, 4 * lam, 4 * lam, 1 - 4 * lam};
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(trap->stiffness[i], K[i], 1e-13);
  const double g[2] = {2 + 8 * lam, 2.0};
  const double det = K[0] * K[3] - K[1] * K[2];
  EXPECT_NEAR(trap->centre[0], 2 - (K[3] * g[0] - K[1] * g[1]) / det, 1e-12);
  EXPECT_NEAR(trap->centre[1], 2 - (-K[2] * g[0] + K[0] * g[1]) / det, 1e-12);
  // Where the Hessian is indefinite there is no trap, and the error says which flag.
  const auto saddle = scripted("henon_heiles", {{"d", 2}, {"mean_0", 0.0}, {"mean_1", -5.0}});
  try {
    BaselineOptions options;
    options.kind = BaselineKind::kTrap;
    GaussianBaseline baseline(saddle, options);
    FAIL() << "an indefinite trap was accepted";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("--baseline"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("not positive definite"), std::string::npos) << error.what();
  }
}

// Each bad module or file stops at construction with what was expected.
TEST(ScriptedSystem, BadModulesAreRefusedNamingTheFileAndTheProblem) {
  const auto fails_with = [](const std::string& script, const std::string& source, const ParameterMap& parameters,
                             const std::string& fragment) {
    try {
      ScriptedSystem({script, source, parameters});
      ADD_FAILURE() << source << " was accepted";
    } catch (const std::invalid_argument& error) {
      const std::string what = error.what();
      EXPECT_NE(what.find(source), std::string::npos) << what;
      EXPECT_NE(what.find(fragment), std::string::npos) << what;
    }
  };
  const ParameterMap state{{"d", 2}, {"mean", 1.0}};
  fails_with("PK\x03\x04 not a module", "garbage.pt", state, "is not a TorchScript module");
  fails_with(read_script_file(module_path("wrong_shape")), "wrong_shape.pt", state, "returned shape [2, 1], expected (2)");
  fails_with(read_script_file(module_path("fails")), "fails.pt", state, "forward(x) failed on a (2, 2) float64 input");
  fails_with(read_script_file(module_path("not_finite")), "not_finite.pt", {{"d", 2}, {"mean", 0.0}}, "not finite");
  fails_with(read_script_file(module_path("henon_heiles")), "hh.pt", {{"d", 2}}, "the initial mean is required");
  fails_with(read_script_file(module_path("henon_heiles")), "hh.pt", {{"d", 2}, {"mean", 1.0}, {"sigma", -1.0}},
             "sigma_0 = -1 must be finite and > 0");
  try {
    read_script_file(module_path("no_such_module"));
    ADD_FAILURE() << "a missing file was read";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("--potential-file"), std::string::npos) << error.what();
  }
}

TEST(Sha256, KnownDigests) {
  EXPECT_EQ(detail::sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(detail::sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // 56 bytes: the padding spills into a second block.
  EXPECT_EQ(detail::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(detail::sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

// ---- checkpoints ----------------------------------------------------------------

ModelArgs scripted_morse_model(int d) {
  ModelArgs model;
  model.potential = "script";
  model.system = state_of(*make_system("morse_chain", {{"d", d}}));
  model.script = read_script_file(module_path("morse_chain"));
  model.script_source = "morse_chain.pt";
  model.network.hidden_dims = {8, 8};
  model.network.n_freq = 2;
  model.network.output_scale = 0.1;
  return model;
}

TEST(ScriptedCheckpoint, HoldsTheScriptAndItsHash) {
  auto model = build_model(scripted_morse_model(2));
  Checkpoint checkpoint;
  checkpoint.model = scripted_morse_model(2);
  store_parameters(*model.network, checkpoint);
  const auto path = scratch_path("scripted.npz").string();
  save_checkpoint(path, checkpoint);
  const auto npz = Npz::load(path);
  EXPECT_EQ(npz.bytes("system/script"), checkpoint.model.script);
  EXPECT_NE(npz.string("args").find(script_sha256(checkpoint.model.script)), std::string::npos);
  const auto loaded = load_checkpoint(path);
  EXPECT_EQ(loaded.model.script, checkpoint.model.script);
  EXPECT_EQ(loaded.model.script_source, "morse_chain.pt");
  const auto rebuilt = load_model(path);  // from the checkpoint alone
  EXPECT_EQ(rebuilt.system->name(), "script");
  const auto x = torch::randn({3, 2}, torch::kFloat64);
  EXPECT_LT(relative_error(rebuilt.system->hessian(x), make_system("morse_chain", {{"d", 2}})->hessian(x)), 1e-12);

  // The same file is accepted, another is refused naming both hashes, unless allowed.
  auto args = loaded.model;
  EXPECT_NO_THROW(use_script_file(args, module_path("morse_chain"), "--potential-file", false, path));
  try {
    use_script_file(args, module_path("henon_heiles"), "--potential-file", false, path);
    ADD_FAILURE() << "a script of another hash was accepted";
  } catch (const std::invalid_argument& error) {
    const std::string what = error.what();
    EXPECT_NE(what.find(script_sha256(read_script_file(module_path("henon_heiles")))), std::string::npos) << what;
    EXPECT_NE(what.find(script_sha256(checkpoint.model.script)), std::string::npos) << what;
  }
  use_script_file(args, module_path("henon_heiles"), "--potential-file", true, path);
  EXPECT_EQ(args.script, read_script_file(module_path("henon_heiles")));

  // Bytes that do not match the recorded hash are corruption.
  auto corrupt = Npz::load(path);
  auto bytes = checkpoint.model.script;
  bytes[bytes.size() / 2] ^= 1;
  corrupt.set("system/script", NpyArray::from_bytes(bytes));
  corrupt.save(scratch_path("corrupt.npz").string());
  try {
    load_checkpoint(scratch_path("corrupt.npz").string());
    ADD_FAILURE() << "a corrupt script was accepted";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("key 'system/script' has SHA-256"), std::string::npos) << error.what();
  }
}

// One epoch of the scripted Morse chain is the built-in one's, parameter by parameter.
TEST(ScriptedCheckpoint, OneEpochEqualsTheBuiltInSystemsTo1e10) {
  auto communicator = make_communicator({}, torch::kCPU);
  TrainingOptions options;
  options.M = 16;
  options.n_epochs = 1;
  options.print_every = 1000;
  options.checkpoint_every = 0;
  options.diagnostics_batch = 8;
  options.trajectory.T = 0.1;
  auto builtin_model = scripted_morse_model(2);
  builtin_model.potential = "morse_chain";
  builtin_model.system = {{"d", 2}};
  builtin_model.script.clear();
  std::ostringstream log;
  options.checkpoint_path = scratch_path("builtin_epoch.npz").string();
  Trainer builtin(builtin_model, options, *communicator);
  std::vector<torch::Tensor> initial;
  for (const auto& [name, p] : builtin.network().named_parameters_in_order()) initial.push_back(p.detach().clone());
  ASSERT_EQ(builtin.run(log).outcome, TrainingResult::Outcome::kCompleted);
  options.checkpoint_path = scratch_path("scripted_epoch.npz").string();
  Trainer script(scripted_morse_model(2), options, *communicator);
  ASSERT_EQ(script.run(log).outcome, TrainingResult::Outcome::kCompleted);
  const auto a = builtin.network().named_parameters_in_order(), b = script.network().named_parameters_in_order();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_LT((a[i].second - b[i].second).abs().max().item<double>(), 1e-10) << a[i].first;
  }
  EXPECT_NEAR(builtin.losses().at(0), script.losses().at(0), 1e-10 * std::abs(builtin.losses().at(0)));
  // The parameters moved: the comparison is not of two initialisations.
  double moved = 0;
  for (size_t i = 0; i < a.size(); ++i) moved = std::max(moved, (a[i].second - initial[i]).abs().max().item<double>());
  EXPECT_GT(moved, 1e-5);
}

// ---- the commands ---------------------------------------------------------------

// Runs build/apps/<command>; returns its exit status (its output in `log`).
int run_command(const std::string& command, const std::string& log) {
  return std::system((std::string(BOHMFLOW_APPS_DIR) + "/" + command + " > " + log + " 2>&1").c_str());
}

// Python module → table → FFT reference → training → every command that
// reads a checkpoint, none of them given the module again.
TEST(ScriptedWorkflow, FromAPythonModuleToMomentsAgainstItsReference) {
  const auto dir = scratch_path("workflow");
  std::filesystem::create_directories(dir);
  const auto at = [&](const std::string& name) { return (dir / name).string(); };
  std::string module = module_path("henon_heiles");
  // Where Python has torch, the example script itself writes the module.
  if (std::system(("/usr/bin/python3 " + std::string(BOHMFLOW_SOURCE_DIR) + "/scripts/systems/henon_heiles.py -o " +
                   at("hh.pt") + " > /dev/null 2>&1").c_str()) == 0) {
    module = at("hh.pt");
  }
  const std::string log = at("log");
  const std::string state = " --d 2 --initial-mean 2";
  const auto run = [&](const std::string& command) {
    EXPECT_EQ(run_command(command, log), 0) << command << "\n" << read_text(log);
  };
  run("tabulate_potential --potential script --potential-file " + module + state + " --N 32 --L 7 -o " +
      at("grid.npz"));
  // The table is the built-in Hénon–Heiles potential's.
  const auto grid = load_potential_grid(at("grid.npz"));
  const auto builtin = make_system_definition("henon_heiles", {{"d", 2}});
  const auto V = builtin->potential_on_grid({grid_axis(32, 7.0), grid_axis(32, 7.0)});
  ASSERT_EQ(grid.V.size(), V.size());
  for (size_t i = 0; i < V.size(); ++i) ASSERT_NEAR(grid.V[i], V[i], 1e-12 * std::max(1.0, std::abs(V[i])));
  EXPECT_EQ(grid.state.at("mean_1"), 2.0);

  run("compute_fft_reference --potential-grid " + at("grid.npz") + " --T 0.2 --dt 0.01 --save-psi-at 0.1 0.2 -o " +
      at("ref.npz"));
  const std::string train = "train --potential script --potential-file " + module + state +
                            " --baseline trap --hidden-dims 8 8 --n-freq 2 --M 8 --T 0.2 --threads 1 ";
  run(train + "--n-epochs 1 --checkpoint-path " + at("run.npz"));
  const std::string checkpoint = " --checkpoint " + at("run.npz");
  run("fig4_moments" + checkpoint + " --fft-ref " + at("ref.npz") + " --M-test 16 --data-out " + at("fig4.npz"));
  const auto fig4 = Npz::load(at("fig4.npz"));
  EXPECT_NEAR(fig4.doubles("fft_means")[1], 2.0, 1e-9);  // the table's ψ₀
  // Against the built-in system's reference too: the same ψ₀, so the checkpoint's system stands.
  run("compute_fft_reference --potential henon_heiles --d 2 --N 32 --L 7 --T 0.2 --dt 0.01 -o " + at("builtin.npz"));
  run("fig4_moments" + checkpoint + " --fft-ref " + at("builtin.npz") + " --M-test 16 --data-out " + at("fig4b.npz"));
  const auto fig4b = Npz::load(at("fig4b.npz"));
  EXPECT_LT(max_abs_difference(fig4b.doubles("learned_means"), fig4.doubles("learned_means")), 1e-12);
  run("benchmark_moments" + checkpoint + " --no-reference --M-test 8 --data-out " + at("bench.npz"));
  run("score_field" + checkpoint + " --psi " + at("ref_psi.npz") + " --data-out " + at("score.npz"));
  run("kl_divergence" + checkpoint + " --psi " + at("ref_psi.npz") + " --M 8 --data-out " + at("kl.npz"));
  run("autocorrelation" + checkpoint + " --M-test 8 --data-out " + at("a.npz"));
  run("fold_statistics" + checkpoint + " --M-test 8 --data-out " + at("folds.npz"));
  run("gradient_spread" + checkpoint + " --M 4 --repeats 2");
  // The same file is accepted; a resumed run takes the module from the checkpoint.
  run("benchmark_moments" + checkpoint + " --potential-file " + module + " --no-reference --M-test 8 --data-out " +
      at("bench.npz"));
  run("train --potential script" + state + " --baseline trap --hidden-dims 8 8 --n-freq 2 --M 8 --T 0.2 --threads 1 "
      "--resume " + at("run.npz") + " --n-epochs 1 --checkpoint-path " + at("resumed.npz"));
  EXPECT_EQ(load_checkpoint(at("resumed.npz")).epoch, 2);
}

}  // namespace
}  // namespace bohmflow
