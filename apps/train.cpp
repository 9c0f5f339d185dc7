// train (also built as train_morse, the reference's name): trains the score
// network of any system of the registry by Fisher-divergence score matching on
// Bohmian trajectories (flags and defaults as the reference's train_morse.py).
//
//   train_morse --d 2 --T 0.2 --M 64 --hidden-dims 32 32 --n-freq 2 --n-epochs 20 \
//               --lr-patience 0 --checkpoint-path checkpoints/smoke.npz
//   train --potential interacting_bosons --param d=3 --T 1 --checkpoint-path bosons.npz
//   train --potential script --potential-file hh.pt --d 2 --initial-mean 2 --baseline trap …
//   torchrun --nproc_per_node=8 --no-python build/apps/train_morse --M 5000 …
//
// Several processes (RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT in the
// environment) train one model together: see distributed.hpp and
// docs/training.md, *Several processes, GPUs and nodes*.
#include <CLI/CLI.hpp>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <utility>

#include <torch/torch.h>

#include "bohmflow/bohmflow.hpp"
#include "app_main.hpp"
#include "checkpoint_flags.hpp"
#include "compute_flags.hpp"
#include "system_flags.hpp"

namespace {
std::atomic<int> g_signal{0};

extern "C" void request_stop(int signal) {
  g_signal.store(signal);
  std::signal(signal, SIG_DFL);  // a second one ends the process at once
}

std::string shell_quote(const std::string& text) {
  if (text.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,") ==
      std::string::npos) {
    return text;
  }
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

// The command line again, with --resume and --n-epochs replaced and without
// --resume-lr or --resume-weights-only (the interrupted run's checkpoint
// holds the lr it had reached and its whole state).
std::string resume_command(int argc, char** argv, const std::string& checkpoint, int64_t remaining) {
  std::ostringstream out;
  out << argv[0];
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--resume" || arg == "--n-epochs" || arg == "--resume-lr" || arg == "--resume-weights-only") {
      ++i;
      continue;
    }
    if (arg.rfind("--resume=", 0) == 0 || arg.rfind("--n-epochs=", 0) == 0 ||
        arg.rfind("--resume-lr=", 0) == 0 || arg.rfind("--resume-weights-only=", 0) == 0) {
      continue;
    }
    out << ' ' << shell_quote(arg);
  }
  out << " --resume " << shell_quote(checkpoint) << " --n-epochs " << remaining;
  return out.str();
}

// Everything the command line sets; the defaults are those of the options structs.
struct TrainFlags {
  bohmflow::ModelArgs model;
  bohmflow::TrainingOptions training;
  bohmflow::DistributedOptions distributed;
  std::string resume_path;
  std::string weights_path;          // --resume-weights-only
  std::string script_path;           // --potential-file (--potential script)
  std::string grad_mode = "jacfwd";  // accepted for the reference's command lines; no effect
  double resume_lr = 0;              // 0: a resumed run continues with the checkpoint's lr
};

void add_model_flags(CLI::App& app, bohmflow::ModelArgs& model, std::string& script_path) {
  bohmflow::apps::add_potential_option(app, model.potential, /*scripted=*/true);
  bohmflow::apps::add_system_parameter(app, "--d", "d", "dimension d", model.system);
  bohmflow::apps::add_system_parameter(app, "--lam", "lam", "nearest-neighbour coupling lambda", model.system);
  bohmflow::apps::add_parameter_assignments(app, model.system);
  bohmflow::apps::add_script_options(app, script_path, model.system);
  bohmflow::apps::add_word_option(app, "--baseline", model.baseline, "Gaussian baseline");
  app.add_option("--hidden-dims", model.network.hidden_dims, "hidden widths")->capture_default_str();
  bohmflow::apps::add_word_option(app, "--conditioning", model.network.conditioning, "time conditioning");
  app.add_option("--n-freq", model.network.n_freq, "Fourier frequencies 2^0 … 2^(n-1)")
      ->check(bohmflow::apps::at_least(1))
      ->capture_default_str();
  app.add_option("--output-scale", model.network.output_scale, "std of the initial output weights")
      ->capture_default_str();
  bohmflow::apps::add_word_option(app, "--symmetry", model.network.symmetry,
                                  "identical particles: permutation (the network reads sorted coordinates) or "
                                  "deepsets (it averages a per-particle encoder)");
  app.add_option("--pair-width", model.network.pair_width,
                 "deepsets: units of the pair encoder, which reads each difference x_i - x_j (0: none)")
      ->check(bohmflow::apps::at_least(0))
      ->capture_default_str();
}

void add_training_flags(CLI::App& app, TrainFlags& flags) {
  auto& training = flags.training;
  using bohmflow::apps::above;
  using bohmflow::apps::at_least;
  app.add_option("--T", training.trajectory.T, "final time (a multiple of dt, or π)")
      ->capture_default_str()
      ->check(above(0));
  app.add_option("--dt", training.trajectory.dt, "leapfrog step")->capture_default_str()->check(above(0));
  app.add_option("--M", training.M, "particles per epoch (all ranks together)")->capture_default_str()->check(at_least(1));
  app.add_option("--n-epochs", training.n_epochs, "epochs to train (added to a resumed run's)")
      ->capture_default_str()
      ->check(at_least(0));
  app.add_option("--lr", training.lr, "initial learning rate (a resumed run keeps its own: see --resume-lr)")
      ->capture_default_str();
  app.add_option("--grad-clip", training.grad_clip, "global gradient-norm clip (<= 0: none)")
      ->capture_default_str();
  app.add_option("--caustic-threshold", training.loss.caustic_threshold,
                 "drop particles whose fold measure (--caustic-measure) falls below this")
      ->capture_default_str();
  bohmflow::apps::add_word_option(app, "--caustic-measure", training.loss.caustic_measure,
                                  "fold measure of the caustic mask: |det F| (the reference's) or σ_min(F)");
  app.add_option("--target-clip", training.loss.target_clip, "clip score-target components to ±this")
      ->capture_default_str();
  app.add_option("--n-checkpoints", training.n_checkpoints,
                 "loss time steps per epoch: step 0 + a random subset (default: all steps)");
  app.add_option("--lr-patience", training.plateau.patience, "plateau patience in epochs (0: off)")
      ->capture_default_str();
  app.add_option("--lr-factor", training.plateau.factor, "lr factor on a plateau")->capture_default_str();
  app.add_option("--lr-min", training.plateau.min_lr, "lr floor")->capture_default_str();
  app.add_option("--grad-mode", flags.grad_mode,
                 "how the reference differentiates ln|det F| in x0; bohmflow always co-integrates the "
                 "exact forward tangents, so both give the same numbers")
      ->check(CLI::IsMember({"jacfwd", "jacrev"}))
      ->capture_default_str();
  bohmflow::apps::add_loss_chunk_option(app, training.loss.chunk_size);
  app.add_option("--print-every", training.print_every, "epochs between log lines")->capture_default_str();
  app.add_option("--checkpoint-every", training.checkpoint_every,
                 "epochs between <base>_ep<N>.npz checkpoints (0: final only)")
      ->capture_default_str();
  app.add_option("--checkpoint-path", training.checkpoint_path, "final checkpoint <base>.npz")
      ->capture_default_str();
  auto* resume_option =
      app.add_option("--resume", flags.resume_path, "continue from this checkpoint")->check(CLI::ExistingFile);
  app.add_option("--resume-lr", flags.resume_lr, "continue the resumed run at this lr instead of the checkpoint's")
      ->check(bohmflow::apps::above(0))
      ->needs(resume_option);
  app.add_option("--resume-weights-only", flags.weights_path,
                 "start a new run (epoch 0, fresh optimizer and generator) from this checkpoint's weights")
      ->check(CLI::ExistingFile)
      ->excludes(resume_option);
  app.add_option("--seed", training.seed, "seed of the parameters, particles and step subsets")
      ->capture_default_str();
  bohmflow::apps::add_word_option(app, "--sampling", training.sampling,
                                  "each epoch's particles: independent draws (mc) or scrambled Sobol points with a "
                                  "fresh shift per epoch (sobol); gauss-hermite is refused");
  app.add_option("--dist-timeout", flags.distributed.timeout_s,
                 "seconds before a missing rank or a stalled collective is an error")
      ->capture_default_str();
}

// "128×128".
std::string join(const std::vector<int64_t>& widths) {
  std::string text;
  for (const auto width : widths) text += (text.empty() ? "" : "×") + std::to_string(width);
  return text;
}

// What every rank must share (distributed.hpp's require_same_settings): the
// model, the training options, the layout and the starting checkpoint's bytes.
bohmflow::RankSettings rank_settings(const bohmflow::ModelArgs& model, const bohmflow::TrainingOptions& training,
                                     const bohmflow::DistributedOptions& distributed, const TrainFlags& flags) {
  auto settings = bohmflow::flatten_settings(bohmflow::model_args_json(model, training.to_json()));
  settings.emplace_back("WORLD_SIZE", std::to_string(distributed.world_size));
  settings.emplace_back("--resume-lr", std::to_string(flags.resume_lr));
  for (const auto& [flag, path] : {std::pair<std::string, std::string>{"--resume", flags.resume_path},
                                   {"--resume-weights-only", flags.weights_path}}) {
    if (path.empty()) continue;
    std::ifstream file(path, std::ios::binary);
    const std::string bytes{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
    settings.emplace_back(flag + " content", std::to_string(std::hash<std::string>{}(bytes)));
  }
  return settings;
}

// The run after parsing; returns the exit status (128 + signal when interrupted,
// 3 for a non-finite loss). `program` names the command in messages.
int train(TrainFlags& flags, bohmflow::apps::ComputeFlags& compute, int argc, char** argv,
          const std::string& program) {
  auto& model = flags.model;
  auto& training = flags.training;
  auto& distributed = flags.distributed;
  const double timeout = distributed.timeout_s;
  distributed = bohmflow::distributed_options_from_environment();
  distributed.timeout_s = timeout;
  distributed.validate();
  training.validate(distributed.world_size);

  // Several ranks on one CPU node share its cores.
  const char* local = std::getenv("LOCAL_WORLD_SIZE");
  const int per_node = local != nullptr ? std::max(1, std::atoi(local)) : distributed.world_size;
  const auto device = compute.apply(distributed.local_rank, per_node);

  // Everything the flags can get wrong is checked before the rendezvous.
  if (distributed.rank == 0) bohmflow::require_writable(training.checkpoint_path, "--checkpoint-path");
  const std::string& start_path = flags.resume_path.empty() ? flags.weights_path : flags.resume_path;
  bohmflow::Checkpoint resume;
  if (!start_path.empty()) resume = bohmflow::load_checkpoint(start_path);
  bohmflow::apps::read_script_into(model, flags.script_path, start_path.empty() ? nullptr : &resume);
  auto network = model.network;
  network.d = bohmflow::make_model_system(model)->dim();
  bohmflow::require_memory(bohmflow::training_bytes(network, training, distributed.world_size),
                           "--M " + std::to_string(training.M),
                           "an epoch of " + std::to_string(training.M / distributed.world_size) +
                               " particles per rank through hidden widths " + join(network.hidden_dims),
                           "lower --chunk (particles per sweep), --M or --hidden-dims");
  bohmflow::build_model(model);
  if (!start_path.empty()) {
    bohmflow::check_resume_compatible(resume.model, model, start_path);
    bohmflow::require_finite_parameters(resume, start_path);
    if (flags.resume_lr > 0) resume.lr = flags.resume_lr;
  }

  auto communicator = bohmflow::make_communicator(distributed, device);
  bohmflow::require_same_settings(*communicator, rank_settings(model, training, distributed, flags), device);
  bohmflow::Trainer trainer(model, training, *communicator, device);
  if (!flags.resume_path.empty()) trainer.resume(resume, flags.resume_path);
  if (!flags.weights_path.empty()) {
    trainer.start_from_weights(resume, flags.weights_path);
    resume = bohmflow::Checkpoint{};  // epoch 0: the remaining epochs below count from here
  }

  std::signal(SIGINT, request_stop);
  std::signal(SIGTERM, request_stop);
  const auto result = trainer.run(std::cout, [] { return g_signal.load() != 0; });
  using Outcome = bohmflow::TrainingResult::Outcome;
  if (result.outcome == Outcome::kInterrupted) {
    if (communicator->rank() == 0) {
      const int64_t remaining = std::max<int64_t>(0, resume.epoch + training.n_epochs - trainer.epoch());
      std::cerr << program << ": interrupted (" << (g_signal.load() == SIGTERM ? "SIGTERM" : "SIGINT")
                << "): " << result.message << "\nresume with:\n  "
                << resume_command(argc, argv, result.checkpoint, remaining) << "\n";
    }
    return 128 + (g_signal.load() != 0 ? g_signal.load() : SIGINT);
  }
  if (result.outcome == Outcome::kNonFinite) {
    std::cerr << program << ": " << result.message << "\n";
    return 3;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string program = std::filesystem::path(argv[0]).filename().string();
  TrainFlags flags;
  CLI::App app{"Train the score network by Fisher-divergence score matching on Bohmian trajectories."};
  add_model_flags(app, flags.model, flags.script_path);
  add_training_flags(app, flags);
  bohmflow::apps::ComputeFlags compute(app, flags.training.compute);
  return bohmflow::apps::run_app(app, argc, argv, [&] { return train(flags, compute, argc, argv, program); });
}
