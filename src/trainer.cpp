#include "bohmflow/trainer.hpp"

#include <ATen/CPUGeneratorImpl.h>

#include <chrono>
#include <cstring>
#include <map>
#include <tuple>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <ostream>
#include <stdexcept>

#include <unistd.h>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "bohmflow/evaluate.hpp"
#include "bohmflow/progress.hpp"
#include "bohmflow/sampling.hpp"
#include "bohmflow/scripted_system.hpp"
#include "internal_checks.hpp"
#include "trainer_internal.hpp"

namespace bohmflow {
namespace {

using detail::format_number;
using detail::require;

bool all_finite(const std::vector<torch::Tensor>& tensors) {
  for (const auto& t : tensors) {
    if (!torch::isfinite(t).all().item<bool>()) return false;
  }
  return true;
}

// The generator's state as int64 words (checkpoints store it that way) and back.
std::vector<int64_t> generator_words(const torch::Generator& generator) {
  const auto bytes = generator.get_state().contiguous();
  std::vector<int64_t> words((bytes.numel() + 7) / 8, 0);
  std::memcpy(words.data(), bytes.data_ptr<uint8_t>(), static_cast<size_t>(bytes.numel()));
  return words;
}

void restore_generator(torch::Generator& generator, const std::vector<int64_t>& words,
                       const std::string& source) {
  const auto size = generator.get_state().numel();
  if (static_cast<int64_t>(words.size()) != (size + 7) / 8) {
    throw std::runtime_error("checkpoint '" + source + "', key 'rng_state': " + std::to_string(words.size()) +
                             " words, this LibTorch's CPU generator needs " + std::to_string((size + 7) / 8));
  }
  auto bytes = torch::empty({size}, torch::kUInt8);
  std::memcpy(bytes.data_ptr<uint8_t>(), words.data(), static_cast<size_t>(size));
  generator.set_state(bytes);
}

// A seed for the diagnostics batch of `epoch`: independent of the training
// stream, so printing more or less often never changes the trained model.
uint64_t diagnostics_seed(uint64_t seed, int64_t epoch) {
  return seed * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(epoch) + 0x632BE59BD9B4E019ULL;
}

std::string describe(const std::vector<int64_t>& dims) {
  std::string text = "[";
  for (size_t i = 0; i < dims.size(); ++i) text += (i ? ", " : "") + std::to_string(dims[i]);
  return text + "]";
}

}  // namespace

void check_resume_compatible(const ModelArgs& stored, const ModelArgs& wanted, const std::string& source) {
  const auto fail = [&](const std::string& what, const std::string& have, const std::string& want) {
    throw std::invalid_argument("resume file '" + source + "': " + what + " is " + have +
                                " but this run asks for " + want);
  };
  if (stored.potential != wanted.potential) fail("the potential", stored.potential, wanted.potential);
  if (stored.script != wanted.script) {
    fail("the TorchScript potential's SHA-256", script_sha256(stored.script), script_sha256(wanted.script));
  }
  const auto have = make_model_system(stored)->parameters();
  const auto want = make_model_system(wanted)->parameters();
  for (const auto& [key, value] : want) {
    const auto it = have.find(key);
    const double stored_value = it == have.end() ? std::numeric_limits<double>::quiet_NaN() : it->second;
    if (!(stored_value == value)) fail("system parameter '" + key + "'", format_number(stored_value), format_number(value));
  }
  const auto& a = stored.network;
  const auto& b = wanted.network;
  if (a.hidden_dims != b.hidden_dims) fail("hidden_dims", describe(a.hidden_dims), describe(b.hidden_dims));
  if (a.n_freq != b.n_freq) fail("n_freq", std::to_string(a.n_freq), std::to_string(b.n_freq));
  if (a.conditioning != b.conditioning) fail("conditioning", to_string(a.conditioning), to_string(b.conditioning));
  if (a.symmetry != b.symmetry) fail("the network's symmetry", to_string(a.symmetry), to_string(b.symmetry));
  if (a.pair_width != b.pair_width) fail("pair_width", std::to_string(a.pair_width), std::to_string(b.pair_width));
  if (stored.baseline != wanted.baseline) fail("the baseline", to_string(stored.baseline), to_string(wanted.baseline));
}

void TrainingOptions::validate(int world_size) const {
  const std::string where = "training options";
  require(M >= 1, where, "M = " + std::to_string(M) + ": must be >= 1");
  require(world_size >= 1 && M % world_size == 0, where,
          "M = " + std::to_string(M) + " is not divisible by the number of ranks (" +
              std::to_string(world_size) + ")");
  require(n_epochs >= 0, where, "n_epochs = " + std::to_string(n_epochs) + ": must be >= 0");
  require(lr > 0 && std::isfinite(lr), where, "lr = " + format_number(lr) + ": must be > 0");
  require(!std::isnan(grad_clip), where, "grad_clip is NaN");
  require(n_checkpoints >= 0, where,
          "n_checkpoints = " + std::to_string(n_checkpoints) + ": must be >= 0 (0: every step)");
  require(n_checkpoints != 1, where, "n_checkpoints = 1 would select step 0 alone, where the loss is 0");
  require(print_every >= 1, where, "print_every = " + std::to_string(print_every) + ": must be >= 1");
  require(checkpoint_every >= 0, where,
          "checkpoint_every = " + std::to_string(checkpoint_every) + ": must be >= 0 (0: only the final one)");
  require(!checkpoint_path.empty(), where, "checkpoint_path is empty");
  require(diagnostics_batch >= 1, where, "diagnostics_batch must be >= 1");
  require(sampling == SamplingMethod::kMc || sampling == SamplingMethod::kSobol, where,
          "sampling '" + to_string(sampling) + "': must be mc or sobol");
  compute.validate();
  trajectory.validate();
  // T must be a whole number of steps (the loss, the diagnostics and the FFT
  // reference all stop at floor(T/dt)·dt), except the paper's final time π,
  // which the reference writes 3.14159 and ends at step floor(π/dt).
  const double steps = trajectory.T / trajectory.dt;
  require(std::abs(steps - std::round(steps)) <= 1e-9 * std::max(1.0, steps) ||
              std::abs(trajectory.T - M_PI) < 1e-4,
          where,
          "T = " + format_number(trajectory.T) + " is not a multiple of dt = " + format_number(trajectory.dt) +
              " (T/dt = " + format_number(steps) + "; only T ≈ π is exempt)");
  loss.validate();
  plateau.validate();
}

std::string TrainingOptions::to_json() const {
  nlohmann::json j = {{"M", M},
                      {"n_epochs", n_epochs},
                      {"lr", lr},
                      {"grad_clip", grad_clip},
                      {"n_checkpoints", n_checkpoints},
                      {"print_every", print_every},
                      {"checkpoint_every", checkpoint_every},
                      {"checkpoint_path", checkpoint_path},
                      {"seed", seed},
                      {"sampling", to_string(sampling)},
                      {"jets", to_string(compute.jets)},
                      {"dtype", dtype_name(compute.dtype)},
                      {"T", trajectory.T},
                      {"dt", trajectory.dt},
                      {"caustic_threshold", loss.caustic_threshold},
                      {"caustic_measure", to_string(loss.caustic_measure)},
                      {"target_clip", loss.target_clip},
                      {"lr_patience", plateau.patience},
                      {"lr_factor", plateau.factor},
                      {"lr_min", plateau.min_lr}};
  return j.dump();
}

detail::TrainingDiagnostics detail::training_diagnostics(const System& system, const ScoreNetImpl& network,
                                         const torch::Tensor& x0, const TrajectoryOptions& trajectory,
                                         const FisherLossOptions& loss) {
  const auto path = propagate(system, network, x0, trajectory, /*with_F=*/true);
  TrainingDiagnostics out;
  if (!torch::isfinite(path.F).all().item<bool>()) {  // a diverged network: no SVD of NaN
    const double nan = std::numeric_limits<double>::quiet_NaN();
    out.E_mean = out.E_std = out.min_abs_det_F = out.min_singular_F = out.masked_fraction = nan;
    return out;
  }
  const int64_t n_steps = trajectory.n_steps();
  const int64_t stride = std::max<int64_t>(1, n_steps / 30);
  std::vector<int64_t> steps;
  for (int64_t n = 0; n <= n_steps; n += stride) steps.push_back(n);
  const auto energy = ensemble_moments(path, steps).energy;  // (K) ensemble means
  const auto abs_det = torch::det(path.F).abs();       // (K, M)
  out.E_mean = energy.mean().item<double>();
  out.E_std = energy.std(/*unbiased=*/false).item<double>();
  out.min_abs_det_F = abs_det.min().item<double>();
  out.min_singular_F = torch::linalg_svdvals(path.F).min().item<double>();
  const auto dropped = (caustic_measure(path.F, loss.caustic_measure) < loss.caustic_threshold).any(0);
  out.masked_fraction = dropped.to(torch::kFloat64).mean().item<double>();
  return out;
}

std::string detail::format_epoch_line(int64_t epoch, int64_t total_epochs, double loss, double grad_norm,
                              double seconds_per_epoch, double lr, const TrainingDiagnostics& d) {
  char line[320];
  std::snprintf(line, sizeof line,
                "Epoch %lld/%lld: loss=%.3e, |grad|=%.4f, %.2fs/ep, lr=%.2e | E_mean=%.4f, E_std=%.4f"
                " | min|det F|=%.4f, min σ(F)=%.4f, masked=%.4f%%",
                static_cast<long long>(epoch), static_cast<long long>(total_epochs), loss, grad_norm,
                seconds_per_epoch, lr, d.E_mean, d.E_std, d.min_abs_det_F, d.min_singular_F,
                100 * d.masked_fraction);
  return line;
}

std::string detail::epoch_checkpoint_path(const std::string& checkpoint_path, int64_t epoch) {
  std::filesystem::path path(checkpoint_path);
  const auto extension = path.extension().string();
  path.replace_extension();
  return path.string() + "_ep" + std::to_string(epoch) + extension;
}

Trainer::Trainer(ModelArgs model, TrainingOptions options, Communicator& communicator,
                 const torch::Device& device)
    : args_(std::move(model)),
      options_(std::move(options)),
      communicator_(communicator),
      device_(device),
      adam_(options_.adam),
      plateau_(options_.plateau),
      generator_(at::detail::createCPUGenerator(options_.seed)),
      lr_(options_.lr) {
  options_.validate(communicator_.size());
  options_.compute.validate(device_);
  // The initial parameters come from the seed (LibTorch's global generator)
  // on rank 0 and are broadcast, so every rank starts from the same network.
  torch::manual_seed(options_.seed);
  model_ = build_model(args_, device_, options_.compute.dtype);
  model_.network->set_jet_engine(options_.compute.jets);
  args_.system = model_.system->parameters();
  args_.network.d = model_.system->dim();
  for (const auto& [name, p] : model_.network->named_parameters_in_order()) {
    names_.push_back(name);
    parameters_.push_back(p);
  }
  torch::NoGradGuard no_grad;
  for (auto& p : parameters_) communicator_.broadcast(p, 0);
  // The sweep size once, not at every epoch's loss (on a GPU, kAutoChunk probes the device).
  options_.loss.chunk_size = loss_chunk(options_.M / communicator_.size(), model_.network->options(),
                                        options_.trajectory, options_.loss, device_);
}

namespace {

// The checks that make a resume exact; `source` and the key in every message.
void require_resumable(const Checkpoint& c, const std::string& source) {
  const auto fail = [&](const std::string& key, const std::string& what) {
    throw std::runtime_error("checkpoint '" + source + "', key '" + key + "': " + what +
                             "; a resumed run would not continue it exactly (--resume-weights-only "
                             "starts a new run from its weights)");
  };
  if (c.epoch < 0) fail("epoch", "epoch " + std::to_string(c.epoch) + " is negative");
  if (static_cast<int64_t>(c.losses.size()) != c.epoch) {
    fail("losses", std::to_string(c.losses.size()) + " losses for epoch " + std::to_string(c.epoch));
  }
  if (!(c.lr > 0) || !std::isfinite(c.lr)) fail("lr", "learning rate " + format_number(c.lr) + " is not > 0");
  if (c.epoch > 0 && (c.adam_m.empty() || c.adam_v.empty())) fail("adam/m", "no Adam moments");
  if (c.adam_step != c.epoch) {
    fail("adam/step", "Adam step " + std::to_string(c.adam_step) + " but epoch " + std::to_string(c.epoch));
  }
  if (c.rng_state.empty()) fail("rng_state", "missing (the generator of the epochs' particles)");
}

}  // namespace

void Trainer::start_from_weights(const Checkpoint& c, const std::string& source) {
  check_resume_compatible(c.model, args_, source);
  restore_parameters(*model_.network, c, source);
  origin_ = "weights of '" + source + "' (epoch " + std::to_string(c.epoch) + "), optimizer and history new";
}

void Trainer::resume(const Checkpoint& c, const std::string& source) {
  check_resume_compatible(c.model, args_, source);
  require_resumable(c, source);
  restore_parameters(*model_.network, c, source);
  if (!c.adam_m.empty() || !c.adam_v.empty()) {
    const auto moments = [&](const std::map<std::string, torch::Tensor>& stored, const std::string& prefix) {
      std::vector<torch::Tensor> out;
      for (size_t i = 0; i < names_.size(); ++i) {
        const auto it = stored.find(names_[i]);
        if (it == stored.end() || it->second.sizes() != parameters_[i].sizes()) {
          throw std::runtime_error("checkpoint '" + source + "', key '" + prefix + names_[i] +
                                   "': missing or of the wrong shape for this architecture");
        }
        out.push_back(it->second.to(parameters_[i].options()).clone());
      }
      return out;
    };
    adam_.set_state(moments(c.adam_m, "adam/m/"), moments(c.adam_v, "adam/v/"), c.adam_step);
  }
  lr_ = c.lr;
  epoch_ = c.epoch;
  losses_ = c.losses;
  plateau_.set_state(c.plateau_best, c.plateau_wait);
  restore_generator(generator_, c.rng_state, source);
}

Checkpoint Trainer::checkpoint() const {
  Checkpoint c;
  c.model = args_;
  c.training_json = options_.to_json();
  store_parameters(*model_.network, c);
  for (size_t i = 0; i < names_.size() && i < adam_.first_moments().size(); ++i) {
    c.adam_m[names_[i]] = adam_.first_moments()[i].detach().to(torch::kCPU, torch::kFloat64).clone();
    c.adam_v[names_[i]] = adam_.second_moments()[i].detach().to(torch::kCPU, torch::kFloat64).clone();
  }
  c.adam_step = adam_.step_count();
  c.lr = lr_;
  c.epoch = epoch_;
  c.losses = losses_;
  c.rng_state = generator_words(generator_);
  c.plateau_best = plateau_.best();
  c.plateau_wait = plateau_.wait();
  c.provenance = "bohmflow Trainer (" + std::to_string(communicator_.size()) + " rank(s), " +
                 communicator_.backend() + "), epoch " + std::to_string(epoch_) +
                 (origin_.empty() ? "" : "; a new run from the " + origin_);
  return c;
}

std::string Trainer::save(const std::string& path) const {
  if (communicator_.rank() != 0) return path;
  detail::create_parent_directory(path);
  save_checkpoint(path, checkpoint());
  return path;
}

torch::Tensor Trainer::draw_initial_positions() {
  if (options_.sampling == SamplingMethod::kMc) {
    return sample_initial_positions(*model_.system, options_.M, torch::kFloat64, &generator_);
  }
  // The shift comes from the run's generator, so a resumed run draws what one run would have.
  SamplingOptions sobol;
  sobol.method = SamplingMethod::kSobol;
  sobol.count = options_.M;
  sobol.seed = static_cast<uint64_t>(
      torch::randint(std::numeric_limits<int64_t>::max(), {1}, generator_, torch::kInt64).item<int64_t>());
  return initial_positions(*model_.system, sobol).x0;
}

std::vector<int64_t> Trainer::draw_selected_steps() {
  const int64_t n_steps = options_.trajectory.n_steps();
  if (options_.n_checkpoints == 0 || options_.n_checkpoints >= n_steps + 1) return {};
  const auto permutation = torch::randperm(n_steps, generator_, torch::kInt64);
  std::vector<int64_t> steps{0};
  for (int64_t k = 0; k < options_.n_checkpoints - 1; ++k) steps.push_back(permutation[k].item<int64_t>() + 1);
  std::sort(steps.begin(), steps.end());
  return steps;
}

void Trainer::log_header(std::ostream& log, int64_t total_epochs) const {
  const int world = communicator_.size();
  const int64_t M = options_.M, M_local = M / world, d = model_.system->dim();
  const int64_t first_epoch = epoch_;
  const int64_t n_steps = options_.trajectory.n_steps();
  const auto& p = options_.plateau;
  log << "Training: " << options_.n_epochs << " epochs (" << first_epoch << " → " << total_epochs
      << "), M=" << M << " (" << to_string(options_.sampling) << "), d=" << d << ", " << model_.system->label() << "\n"
      << "  ranks=" << world << " (" << communicator_.backend() << "), M_local=" << M_local
      << ", device=" << device_ << " (" << dtype_name(options_.compute.dtype) << ", jets "
      << to_string(options_.compute.jets) << "), threads=" << torch::get_num_threads() << "\n"
      << "  T=" << options_.trajectory.T << ", dt=" << options_.trajectory.dt << ", steps=" << n_steps
      << ", loss steps per epoch="
      << (options_.n_checkpoints == 0 ? n_steps + 1 : std::min(options_.n_checkpoints, n_steps + 1)) << "\n"
      << "  lr=" << lr_ << ", plateau(p=" << p.patience << ", f=" << p.factor << ", min=" << p.min_lr
      << "), grad_clip=" << options_.grad_clip << "\n"
      << "  caustic_threshold=" << options_.loss.caustic_threshold << " (" << to_string(options_.loss.caustic_measure) << ")"
      << ", target_clip=" << options_.loss.target_clip << ", loss sweeps of " << options_.loss.chunk_size
      << " particles" << std::endl;
  if (!origin_.empty()) log << "  a new run from the " << origin_ << std::endl;
}

// This rank's loss and parameter gradient on its slice of the epoch's batch,
// summed over ranks in one all-reduce that also carries the stop votes (asked
// after the loss, so a signal during the sweep stops this epoch).
Trainer::ReducedStep Trainer::reduced_loss_and_gradient(const std::function<bool()>& stop_requested) {
  const int world = communicator_.size();
  const int64_t M_local = options_.M / world;
  // The whole batch on every rank from the shared generator; this rank's slice.
  const auto x0_all = draw_initial_positions();
  const auto selected = draw_selected_steps();
  const auto x0 = x0_all.slice(0, communicator_.rank() * M_local, (communicator_.rank() + 1) * M_local)
                      .to(device_, options_.compute.dtype);
  for (auto& p : parameters_) {
    if (p.grad().defined()) p.mutable_grad().zero_();
  }
  const auto local = fisher_loss(*model_.system, *model_.network, x0, options_.trajectory, selected,
                                 options_.loss, /*accumulate_gradient=*/true);
  const bool stop_here = stop_requested && stop_requested();

  // One all-reduce carries the loss, the stop votes and the gradient.
  std::vector<torch::Tensor> pieces{
      torch::tensor({local.loss, stop_here ? 1.0 : 0.0}, torch::kFloat64)
          .to(device_, options_.compute.dtype)};
  for (const auto& p : parameters_) {
    pieces.push_back(p.grad().defined() ? p.grad().reshape({-1}) : torch::zeros({p.numel()}, p.options()));
  }
  auto buffer = torch::cat(pieces);
  communicator_.all_reduce_sum(buffer);
  ReducedStep reduced;
  reduced.loss = buffer[0].item<double>() / world;
  reduced.stop = buffer[1].item<double>() > 0;
  int64_t offset = 2;
  for (const auto& p : parameters_) {
    reduced.gradients.push_back(buffer.slice(0, offset, offset + p.numel()).view(p.sizes()) / world);
    offset += p.numel();
  }
  return reduced;
}

// The epoch's log line, with diagnostics on a fresh batch seeded by the epoch.
void Trainer::log_epoch(std::ostream& log, int64_t total_epochs, double loss, double grad_norm,
                        double seconds_per_epoch) const {
  auto generator = at::detail::createCPUGenerator(diagnostics_seed(options_.seed, epoch_));
  const auto x_eval = sample_initial_positions(*model_.system, std::min(options_.M, options_.diagnostics_batch),
                                               torch::kFloat64, &generator);
  const auto diagnostics =
      detail::training_diagnostics(*model_.system, *model_.network, x_eval.to(device_, options_.compute.dtype),
                                   options_.trajectory, options_.loss);
  log << detail::format_epoch_line(epoch_, total_epochs, loss, grad_norm, seconds_per_epoch, lr_, diagnostics)
      << std::endl;
}

TrainingResult Trainer::run(std::ostream& log, const std::function<bool()>& stop_requested) {
  const bool leader = communicator_.rank() == 0;
  const int64_t first_epoch = epoch_, total_epochs = epoch_ + options_.n_epochs;
  if (leader) log_header(log, total_epochs);
  const auto style = leader && isatty(STDERR_FILENO) ? ProgressReporter::Style::Bar
                                                     : ProgressReporter::Style::Silent;
  ProgressReporter progress(options_.n_epochs, "epochs", style);
  const auto start = std::chrono::steady_clock::now();
  const auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  TrainingResult result;
  std::string last_written;
  const auto finish = [&](TrainingResult::Outcome outcome, std::string message) {
    progress.clear();
    result.outcome = outcome;
    result.epoch = epoch_;
    result.checkpoint = last_written;
    result.message = std::move(message);
    result.seconds = seconds();
    return result;
  };

  while (epoch_ < total_epochs) {
    auto [loss, stop, gradients] = reduced_loss_and_gradient(stop_requested);
    const double grad_norm = clip_by_global_norm(gradients, options_.grad_clip);
    if (!std::isfinite(loss) || !std::isfinite(grad_norm)) {
      return finish(TrainingResult::Outcome::kNonFinite,
                    "non-finite " + std::string(std::isfinite(loss) ? "gradient" : "loss") + " at epoch " +
                        std::to_string(epoch_ + 1) + " (loss=" + format_number(loss) +
                        ", |grad|=" + format_number(grad_norm) + "): stopped before the update; " +
                        (last_written.empty() ? "no checkpoint was written in this run"
                                              : "last good checkpoint: " + last_written));
    }
    adam_.step(parameters_, gradients, lr_);
    if (!all_finite(parameters_)) {
      return finish(TrainingResult::Outcome::kNonFinite,
                    "non-finite parameters after the update of epoch " + std::to_string(epoch_ + 1) +
                        " (lr=" + format_number(lr_) + "): stopped, the update not written; " +
                        (last_written.empty() ? "no checkpoint was written in this run"
                                              : "last good checkpoint: " + last_written));
    }
    ++epoch_;
    losses_.push_back(loss);
    lr_ = plateau_.update(losses_, lr_);

    if (options_.checkpoint_every > 0 && epoch_ % options_.checkpoint_every == 0) {
      last_written = save(detail::epoch_checkpoint_path(options_.checkpoint_path, epoch_));
    }
    if (leader && (epoch_ % options_.print_every == 0 || epoch_ == first_epoch + 1)) {
      progress.clear();
      log_epoch(log, total_epochs, loss, grad_norm, seconds() / static_cast<double>(epoch_ - first_epoch));
    }
    progress.update(epoch_ - first_epoch);
    if (stop) {
      last_written = save(detail::epoch_checkpoint_path(options_.checkpoint_path, epoch_));
      return finish(TrainingResult::Outcome::kInterrupted,
                    "stopped on request after epoch " + std::to_string(epoch_) + "; checkpoint " + last_written);
    }
  }
  last_written = save(options_.checkpoint_path);
  progress.finish();
  const double total = seconds();
  if (leader) {
    log << "Training complete: " << format_number(total) << " s total, "
        << format_number(total / std::max<int64_t>(1, options_.n_epochs)) << " s/epoch; checkpoint "
        << options_.checkpoint_path << std::endl;
  }
  return finish(TrainingResult::Outcome::kCompleted, "trained to epoch " + std::to_string(epoch_));
}

double training_bytes(const ScoreNetOptions& network, const TrainingOptions& options, int world_size) {
  const int64_t local = options.M / std::max(1, world_size);
  const double diagnostics =
      fisher_loss_bytes(std::min(options.M, options.diagnostics_batch), network, options.trajectory, options.loss);
  return std::max(fisher_loss_bytes(local, network, options.trajectory, options.loss), diagnostics);
}

}  // namespace bohmflow
