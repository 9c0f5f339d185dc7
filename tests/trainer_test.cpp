#include "bohmflow/trainer.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <sstream>

#include "test_support.hpp"
#include "../src/trainer_internal.hpp"

namespace bohmflow {
namespace {

using detail::epoch_checkpoint_path;
using detail::format_epoch_line;
using detail::training_diagnostics;
using detail::TrainingDiagnostics;

std::string scratch(const std::string& name) { return scratch_path(name).string(); }

// A tiny d=2 problem whose every piece of state matters: a step subset per
// epoch (generator), a short plateau window (schedule state), clipping.
ModelArgs tiny_model() {
  ModelArgs model;
  model.system = {{"d", 2}};
  model.network.hidden_dims = {8, 8};
  model.network.n_freq = 2;
  model.network.output_scale = 0.1;
  return model;
}

TrainingOptions tiny_training(const std::string& path, int64_t epochs) {
  TrainingOptions options;
  options.M = 12;
  options.n_epochs = epochs;
  options.lr = 3e-2;
  options.grad_clip = 0.05;
  options.n_checkpoints = 4;
  options.print_every = 1000;
  options.checkpoint_every = 0;
  options.checkpoint_path = path;
  options.diagnostics_batch = 8;
  options.trajectory.T = 0.05;
  options.plateau.patience = 2;
  return options;
}

std::vector<torch::Tensor> parameters_of(Trainer& trainer) {
  std::vector<torch::Tensor> out;
  for (const auto& [name, p] : trainer.network().named_parameters_in_order()) out.push_back(p.detach().clone());
  return out;
}

class NullStream : public std::ostream {
 public:
  NullStream() : std::ostream(nullptr) {}
};

// A resume that could not continue exactly is refused, naming the key.
TEST(Trainer, ResumeRefusesAnIncompleteOrInconsistentState) {
  auto communicator = make_communicator({}, torch::kCPU);
  NullStream log;
  const auto path = scratch("complete.npz");
  Trainer(tiny_model(), tiny_training(path, 3), *communicator).run(log);
  const auto good = load_checkpoint(path);
  Trainer(tiny_model(), tiny_training(scratch("unused.npz"), 1), *communicator).resume(good, path);

  const std::vector<std::pair<std::string, std::function<void(Checkpoint&)>>> cases = {
      {"rng_state", [](Checkpoint& c) { c.rng_state.clear(); }},
      {"adam/step", [](Checkpoint& c) { c.adam_step = 0; }},
      {"adam/m", [](Checkpoint& c) { c.adam_m.clear(); }},
      {"epoch", [](Checkpoint& c) { c.epoch = -4; }},
      {"losses", [](Checkpoint& c) { c.losses.pop_back(); }},
      {"lr", [](Checkpoint& c) { c.lr = 0.0; }},
  };
  for (const auto& [key, damage] : cases) {
    auto broken = good;
    damage(broken);
    Trainer trainer(tiny_model(), tiny_training(scratch("unused.npz"), 1), *communicator);
    try {
      trainer.resume(broken, path);
      ADD_FAILURE() << "resumed without " << key;
    } catch (const std::runtime_error& error) {
      EXPECT_NE(std::string(error.what()).find("key '" + key + "'"), std::string::npos) << error.what();
      EXPECT_NE(std::string(error.what()).find("--resume-weights-only"), std::string::npos) << error.what();
    }
  }
}

// --resume-weights-only: the weights, and nothing else, of another run.
TEST(Trainer, StartsANewRunFromACheckpointsWeights) {
  auto communicator = make_communicator({}, torch::kCPU);
  NullStream log;
  const auto path = scratch("donor.npz");
  Trainer(tiny_model(), tiny_training(path, 3), *communicator).run(log);
  auto donor = load_checkpoint(path);
  donor.rng_state.clear();  // as in an imported checkpoint

  Trainer trainer(tiny_model(), tiny_training(scratch("new.npz"), 2), *communicator);
  trainer.start_from_weights(donor, path);
  EXPECT_EQ(trainer.epoch(), 0);
  EXPECT_TRUE(trainer.losses().empty());
  const auto started = trainer.checkpoint();
  for (const auto& [name, value] : donor.params) EXPECT_TRUE(torch::equal(started.params.at(name), value)) << name;
  EXPECT_EQ(started.adam_step, 0);
  EXPECT_NE(started.provenance.find("a new run from the weights of '" + path + "' (epoch 3)"), std::string::npos)
      << started.provenance;
  ASSERT_EQ(trainer.run(log).outcome, TrainingResult::Outcome::kCompleted);
  EXPECT_EQ(trainer.epoch(), 2);
  EXPECT_EQ(load_checkpoint(scratch("new.npz")).losses.size(), 2u);
}

// Every app that loads a model refuses one with NaN or Inf, naming the parameter.
TEST(Trainer, NonFiniteParametersAreRefusedWhenAModelIsLoaded) {
  auto communicator = make_communicator({}, torch::kCPU);
  NullStream log;
  const auto path = scratch("finite.npz");
  Trainer(tiny_model(), tiny_training(path, 1), *communicator).run(log);
  auto c = load_checkpoint(path);
  EXPECT_NO_THROW(require_finite_parameters(c, path));
  c.params["spatial_1_b"][3] = std::numeric_limits<double>::infinity();
  try {
    restore_model(c.model, c, path);
    ADD_FAILURE() << "a model with Inf was restored";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("key 'params/spatial_1_b': 1 of 8 values are not finite"),
              std::string::npos)
        << error.what();
  }
}

TEST(Trainer, ResumeIsBitIdenticalToOneRun) {
  auto communicator = make_communicator({}, torch::kCPU);
  NullStream log;
  Trainer straight(tiny_model(), tiny_training(scratch("straight.npz"), 20), *communicator);
  ASSERT_EQ(straight.run(log).outcome, TrainingResult::Outcome::kCompleted);

  Trainer first(tiny_model(), tiny_training(scratch("first.npz"), 10), *communicator);
  first.run(log);
  Trainer second(tiny_model(), tiny_training(scratch("second.npz"), 10), *communicator);
  second.resume(load_checkpoint(scratch("first.npz")), scratch("first.npz"));
  EXPECT_EQ(second.epoch(), 10);
  ASSERT_EQ(second.run(log).outcome, TrainingResult::Outcome::kCompleted);

  EXPECT_EQ(second.epoch(), 20);
  EXPECT_EQ(second.losses(), straight.losses());  // every loss, exactly
  EXPECT_EQ(second.lr(), straight.lr());
  EXPECT_LT(straight.lr(), 3e-2);  // the plateau schedule did act
  const auto a = parameters_of(straight), b = parameters_of(second);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i], b[i])) << "parameter " << i;
  // The stored checkpoint says the same.
  const auto stored = load_checkpoint(scratch("second.npz"));
  EXPECT_EQ(stored.epoch, 20);
  EXPECT_EQ(stored.losses, straight.losses());
  EXPECT_EQ(stored.adam_step, 20);
}

TEST(Trainer, TrainingLowersTheLossOfATinyProblem) {
  auto communicator = make_communicator({}, torch::kCPU);
  NullStream log;
  auto options = tiny_training(scratch("lower.npz"), 40);
  options.grad_clip = 10;
  options.lr = 1e-2;
  options.n_checkpoints = 0;
  options.plateau.patience = 0;
  Trainer trainer(tiny_model(), options, *communicator);
  trainer.run(log);
  const auto& losses = trainer.losses();
  const double early = (losses[0] + losses[1] + losses[2] + losses[3] + losses[4]) / 5;
  const double late = (losses[35] + losses[36] + losses[37] + losses[38] + losses[39]) / 5;
  EXPECT_LT(late, 0.5 * early) << "early " << early << ", late " << late;
}

TEST(Trainer, StopRequestWritesACheckpointOfTheLastEpoch) {
  auto communicator = make_communicator({}, torch::kCPU);
  NullStream log;
  const auto path = scratch("stopped.npz");
  Trainer trainer(tiny_model(), tiny_training(path, 10), *communicator);
  int polls = 0;
  const auto result = trainer.run(log, [&] { return ++polls == 3; });
  EXPECT_EQ(result.outcome, TrainingResult::Outcome::kInterrupted);
  EXPECT_EQ(result.epoch, 3);
  EXPECT_EQ(result.checkpoint, epoch_checkpoint_path(path, 3));
  EXPECT_EQ(load_checkpoint(result.checkpoint).epoch, 3);
}

TEST(Trainer, NonFiniteLossStopsWithoutTouchingTheLastGoodCheckpoint) {
  auto communicator = make_communicator({}, torch::kCPU);
  NullStream log;
  const auto path = scratch("good.npz");
  Trainer good(tiny_model(), tiny_training(path, 2), *communicator);
  good.run(log);
  auto broken = load_checkpoint(path);
  broken.params["output_b"] = torch::full({1}, std::numeric_limits<double>::quiet_NaN(), torch::kFloat64);
  // Poison a hidden weight too: output_b alone cancels out of the score.
  broken.params["spatial_0_W"][0][0] = std::numeric_limits<double>::quiet_NaN();
  const auto broken_path = scratch("broken.npz");
  save_checkpoint(broken_path, broken);

  const std::string before = read_text(path);
  auto options = tiny_training(path, 5);
  options.checkpoint_every = 1;
  Trainer trainer(tiny_model(), options, *communicator);
  trainer.resume(load_checkpoint(broken_path), broken_path);
  const auto result = trainer.run(log);
  EXPECT_EQ(result.outcome, TrainingResult::Outcome::kNonFinite);
  EXPECT_EQ(result.epoch, 2);
  EXPECT_NE(result.message.find("epoch 3"), std::string::npos) << result.message;
  const std::string after = read_text(path);
  EXPECT_EQ(before, after);
  EXPECT_FALSE(std::filesystem::exists(epoch_checkpoint_path(path, 3)));
}

// Scrambled Sobol batches: a fresh digital shift per epoch from the run's
// generator, so a resumed run is still bit-identical to one run, and the
// batches differ from the mc ones.
TEST(Trainer, SobolBatchesResumeBitIdentically) {
  auto communicator = make_communicator({}, torch::kCPU);
  NullStream log;
  auto sobol = [](const std::string& path, int64_t epochs) {
    auto options = tiny_training(path, epochs);
    options.sampling = SamplingMethod::kSobol;
    return options;
  };
  Trainer straight(tiny_model(), sobol(scratch("sobol_straight.npz"), 6), *communicator);
  ASSERT_EQ(straight.run(log).outcome, TrainingResult::Outcome::kCompleted);
  Trainer first(tiny_model(), sobol(scratch("sobol_first.npz"), 3), *communicator);
  first.run(log);
  Trainer second(tiny_model(), sobol(scratch("sobol_second.npz"), 3), *communicator);
  second.resume(load_checkpoint(scratch("sobol_first.npz")), scratch("sobol_first.npz"));
  ASSERT_EQ(second.run(log).outcome, TrainingResult::Outcome::kCompleted);
  EXPECT_EQ(second.losses(), straight.losses());
  const auto a = parameters_of(straight), b = parameters_of(second);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i], b[i])) << "parameter " << i;

  Trainer mc(tiny_model(), tiny_training(scratch("mc.npz"), 6), *communicator);
  mc.run(log);
  ASSERT_EQ(mc.losses().size(), straight.losses().size());
  for (size_t k = 0; k < mc.losses().size(); ++k) EXPECT_NE(mc.losses()[k], straight.losses()[k]) << "epoch " << k;
  // Successive shifts give different batches, hence different losses.
  EXPECT_NE(straight.losses()[0], straight.losses()[1]);
}

TEST(Trainer, ResumeRejectsAnotherArchitecture) {
  auto communicator = make_communicator({}, torch::kCPU);
  NullStream log;
  const auto path = scratch("arch.npz");
  Trainer trainer(tiny_model(), tiny_training(path, 1), *communicator);
  trainer.run(log);
  auto other = tiny_model();
  other.network.hidden_dims = {8, 6};
  try {
    check_resume_compatible(load_checkpoint(path).model, other, path);
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("hidden_dims is [8, 8] but this run asks for [8, 6]"), std::string::npos)
        << e.what();
  }
  other = tiny_model();
  other.system["lam"] = 0.2;
  EXPECT_THROW(check_resume_compatible(load_checkpoint(path).model, other, path), std::invalid_argument);
  other = tiny_model();
  other.network.symmetry = Symmetry::kPermutation;
  EXPECT_THROW(check_resume_compatible(load_checkpoint(path).model, other, path), std::invalid_argument);
  other = tiny_model();
  other.network.pair_width = 4;
  EXPECT_THROW(check_resume_compatible(load_checkpoint(path).model, other, path), std::invalid_argument);
  other = tiny_model();
  other.baseline = BaselineKind::kVariational;  // the stored one is the default, "minimum"
  EXPECT_THROW(check_resume_compatible(load_checkpoint(path).model, other, path), std::invalid_argument);
}

TEST(Trainer, RejectsOptionsNamingThem) {
  auto options = tiny_training(scratch("x.npz"), 1);
  options.M = 13;
  try {
    options.validate(2);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("M = 13 is not divisible by the number of ranks (2)"), std::string::npos);
  }
  options = tiny_training(scratch("x.npz"), 1);
  options.sampling = SamplingMethod::kGaussHermite;
  try {
    options.validate(1);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("sampling 'gauss-hermite': must be mc or sobol"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(parse_option<SamplingMethod>("halton"), std::invalid_argument);
  options = tiny_training(scratch("x.npz"), 1);
  try {
    parse_option<CausticMeasure>("trace");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("caustic_measure 'trace': must be det or singular"), std::string::npos)
        << e.what();
  }
  options = tiny_training(scratch("x.npz"), 1);
  options.trajectory.T = 0.055;
  EXPECT_THROW(options.validate(1), std::invalid_argument);  // not a multiple of dt
  options.trajectory.T = 3.14159;
  EXPECT_NO_THROW(options.validate(1));  // the paper's π is exempt
  options.trajectory.dt = -0.01;
  EXPECT_THROW(options.validate(1), std::invalid_argument);
}

TEST(Trainer, LogLineMatchesTheFigurePipelinesRegexes) {
  TrainingDiagnostics d;
  d.E_mean = 2.324;
  d.E_std = 4e-4;
  d.min_abs_det_F = 0.9412;
  d.min_singular_F = 0.9134;
  d.masked_fraction = 0;
  const auto line = format_epoch_line(100, 45000, 7.123e-4, 0.0423, 0.18, 1e-3, d);
  EXPECT_EQ(line,
            "Epoch 100/45000: loss=7.123e-04, |grad|=0.0423, 0.18s/ep, lr=1.00e-03 | E_mean=2.3240, "
            "E_std=0.0004 | min|det F|=0.9412, min σ(F)=0.9134, masked=0.0000%");
  std::smatch match;
  ASSERT_TRUE(std::regex_search(line, match, std::regex(R"(^Epoch\s+(\d+)/\d+:\s+loss=([\dEe\-+.]+))")));
  EXPECT_EQ(match[1], "100");
  EXPECT_DOUBLE_EQ(std::stod(match[2]), 7.123e-4);
  ASSERT_TRUE(std::regex_search(line, match, std::regex(R"(\bE_mean=([\dEe\-+.]+))")));
  EXPECT_DOUBLE_EQ(std::stod(match[1]), 2.324);
}

TEST(Trainer, DiagnosticsOfTheBaselineAloneConserveTheHarmonicEnergy) {
  // Harmonic well with the exact Gaussian baseline and a zero network: the
  // ensemble energy is the ground-state energy d/2 at every time.
  const auto built = baseline_only_model("harmonic", {{"d", 2}});
  TrajectoryOptions trajectory;
  trajectory.T = 1.0;
  trajectory.dt = 0.01;
  const auto x0 = sample_initial_positions(*built.system, 400, torch::kFloat64);
  const auto d = training_diagnostics(*built.system, *built.network, x0, trajectory, FisherLossOptions{});
  EXPECT_NEAR(d.E_mean, 1.0, 1e-3);
  EXPECT_LT(d.E_std, 1e-3);
  EXPECT_GT(d.min_abs_det_F, 0.99);
  EXPECT_NEAR(d.min_singular_F, 1.0, 1e-9);  // the ground state stands still: F = I
  EXPECT_EQ(d.masked_fraction, 0.0);
}

TEST(Trainer, EpochCheckpointNames) {
  EXPECT_EQ(epoch_checkpoint_path("checkpoints/morse_d4.npz", 500), "checkpoints/morse_d4_ep500.npz");
  EXPECT_EQ(epoch_checkpoint_path("run", 7), "run_ep7");
}

// ---- the train_morse command line ------------------------------------------

const std::string kTrainMorse = std::string(BOHMFLOW_APPS_DIR) + "/train_morse";

TEST(TrainMorseCli, ReferenceSmokeRunTrainsAndWritesItsCheckpoint) {
  const auto path = scratch("cli_smoke.npz"), log = scratch("cli_smoke.log");
  std::filesystem::remove(path);
  const auto command = kTrainMorse +
                       " --d 2 --T 0.2 --M 64 --hidden-dims 32 32 --n-freq 2 --n-epochs 20 --lr-patience 0 "
                       "--threads 1 --checkpoint-path " + path + " > " + log + " 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << read_text(log);
  const auto text = read_text(log);
  EXPECT_NE(text.find("Epoch 1/20: loss="), std::string::npos) << text;
  EXPECT_NE(text.find("Training complete"), std::string::npos) << text;
  const auto checkpoint = load_checkpoint(path);
  EXPECT_EQ(checkpoint.epoch, 20);
  EXPECT_EQ(checkpoint.losses.size(), 20u);
  EXPECT_EQ(checkpoint.model.network.hidden_dims, (std::vector<int64_t>{32, 32}));
}

// A resumed run keeps the checkpoint's lr unless --resume-lr sets another.
TEST(TrainMorseCli, ResumeLrOverridesTheCheckpointsLearningRate) {
  const auto first = scratch("cli_resume_lr.npz"), log = scratch("cli_resume_lr.log");
  const std::string flags = " --d 2 --T 0.05 --M 16 --hidden-dims 8 --n-freq 1 --lr 1e-3 --lr-patience 0 "
                            "--threads 1 --print-every 1 ";
  const auto run = [&](const std::string& extra) {
    const auto command = kTrainMorse + flags + extra + " > " + log + " 2>&1";
    EXPECT_EQ(std::system(command.c_str()), 0) << read_text(log);
    return read_text(log);
  };
  run("--n-epochs 2 --checkpoint-path " + first);
  auto text = run("--n-epochs 1 --resume " + first + " --checkpoint-path " + scratch("cli_resume_kept.npz"));
  EXPECT_NE(text.find("Epoch 3/3:"), std::string::npos) << text;
  EXPECT_NE(text.find("lr=1.00e-03"), std::string::npos) << text;
  text = run("--n-epochs 1 --resume " + first + " --resume-lr 2.5e-4 --checkpoint-path " +
             scratch("cli_resume_new.npz"));
  EXPECT_NE(text.find("lr=2.50e-04"), std::string::npos) << text;
  EXPECT_EQ(load_checkpoint(scratch("cli_resume_new.npz")).lr, 2.5e-4);
  // Without --resume the flag has nothing to act on.
  const int status = std::system((kTrainMorse + flags + "--resume-lr 1e-4 > " + log + " 2>&1").c_str());
  EXPECT_NE(status, 0);
  EXPECT_NE(read_text(log).find("--resume-lr"), std::string::npos) << read_text(log);
}

TEST(TrainMorseCli, SigintWritesACheckpointAndSaysHowToResume) {
  const auto base = scratch("cli_sigint.npz"), err = scratch("cli_sigint.err"), out = scratch("cli_sigint.out");
  // A background job of a non-interactive shell starts with SIGINT ignored
  // until train_morse installs its handler: the signal goes once epochs are
  // printed, however long a loaded machine takes to get there.
  const auto command = "(" + kTrainMorse +
                       " --d 2 --T 0.05 --M 16 --hidden-dims 8 --n-freq 1 --n-epochs 100000 --threads 1 "
                       "--print-every 1 --checkpoint-path " + base + " > " + out + " 2> " + err +
                       " & pid=$!; for i in $(seq 600); do grep -q \"Epoch 2/\" " + out +
                       " 2>/dev/null && break; sleep 0.5; done; kill -INT $pid; wait $pid; exit $?)";
  const int status = std::system(("bash -c '" + command + "'").c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 128 + 2);
  const auto text = read_text(err);
  const auto at = text.find("resume with:");
  ASSERT_NE(at, std::string::npos) << text;
  const auto resume_at = text.find("--resume ", at);
  ASSERT_NE(resume_at, std::string::npos) << text;
  std::istringstream rest(text.substr(resume_at + 9));
  std::string written;
  rest >> written;
  const auto checkpoint = load_checkpoint(written);
  EXPECT_GT(checkpoint.epoch, 0);
  EXPECT_EQ(written, epoch_checkpoint_path(base, checkpoint.epoch));
  EXPECT_NE(text.find("--n-epochs " + std::to_string(100000 - checkpoint.epoch)), std::string::npos) << text;
}

TEST(TrainMorseCli, BadFlagsAreRejectedBeforeAnyWork) {
  const auto err = scratch("cli_bad.err");
  const auto run = [&](const std::string& flags) {
    const int status = std::system((kTrainMorse + " " + flags + " > /dev/null 2> " + err).c_str());
    EXPECT_NE(status, 0) << flags;
    return read_text(err);
  };
  EXPECT_NE(run("--M 5 --T 0.02 --n-epochs 1 --potential nowhere").find("--potential"), std::string::npos);
  EXPECT_NE(run("--T 1.005 --dt 0.01").find("T = 1.005 is not a multiple of dt = 0.01"), std::string::npos);
  EXPECT_NE(run("--dt 0").find("dt"), std::string::npos);
  EXPECT_NE(run("--device gpu").find("--device 'gpu'"), std::string::npos);
}

}  // namespace
}  // namespace bohmflow
