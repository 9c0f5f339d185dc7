#include "bohmflow/checkpoint.hpp"

#include <cmath>
#include <filesystem>
#include <stdexcept>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "bohmflow/npz.hpp"
#include "bohmflow/scripted_system.hpp"

namespace bohmflow {
namespace {

constexpr const char* kFormat = "bohmflow-checkpoint-1";
constexpr const char* kScriptPotential = "script";
constexpr const char* kScriptKey = "system/script";

std::runtime_error checkpoint_error(const std::string& path, const std::string& what) {
  return std::runtime_error("checkpoint '" + path + "': " + what);
}

// Beyond any trainable d (one particle's F alone is d² doubles: 134 MB at
// 4096); a larger d in a file is corruption, refused before anything is built.
constexpr int kMaxDimension = 4096;

// At least this many parameters make up the network `network` describes:
// every hidden layer's weights and biases, the input layer taking the d
// coordinates (unless symmetric), and the time features. A file whose args
// describe more than it stores is refused before the model is built, so that
// its size is bounded by the file's.
double least_parameter_count(const ScoreNetOptions& network) {
  double count = 2.0 * network.n_freq;
  double inputs = network.symmetry == Symmetry::kNone ? network.d : 1.0;
  for (const auto width : network.hidden_dims) {
    count += (inputs + 1.0) * static_cast<double>(width);
    inputs = static_cast<double>(width);
  }
  return count;
}

ModelArgs parse_model_args(const nlohmann::json& args, const std::string& path) {
  ModelArgs model;
  try {
    model.potential = args.at("potential").get<std::string>();
    for (const auto& [key, value] : args.at("system").items()) model.system[key] = value.get<double>();
    const auto& network = args.at("network");
    const double d = model.system.count("d") ? model.system.at("d") : network.value("d", 4.0);
    if (!(d >= 1 && d <= kMaxDimension && d == std::floor(d))) {
      throw checkpoint_error(path, "key 'args': d = " + std::to_string(d) + " is not a dimension in [1, " +
                                       std::to_string(kMaxDimension) + "]");
    }
    model.network.d = static_cast<int>(d);
    model.network.hidden_dims = network.at("hidden_dims").get<std::vector<int64_t>>();
    model.network.n_freq = network.at("n_freq").get<int>();
    model.network.conditioning = parse_option<Conditioning>(network.at("conditioning").get<std::string>());
    model.network.output_scale = network.value("output_scale", model.network.output_scale);
    model.network.symmetry = parse_option<Symmetry>(network.value("symmetry", to_string(model.network.symmetry)));
    model.network.pair_width = network.value("pair_width", model.network.pair_width);
    model.baseline = parse_option<BaselineKind>(args.value("baseline", to_string(model.baseline)));
    model.script_source = args.value("script_source", std::string());
  } catch (const nlohmann::json::exception& e) {
    throw checkpoint_error(path, std::string("key 'args': ") + e.what());
  } catch (const std::invalid_argument& e) {
    throw checkpoint_error(path, std::string("key 'args': ") + e.what());
  }
  return model;
}

}  // namespace

TrajectoryOptions trained_trajectory(const Checkpoint& checkpoint) {
  TrajectoryOptions options;
  const auto training = nlohmann::json::parse(checkpoint.training_json);
  if (training.contains("T")) options.T = training["T"].get<double>();
  if (training.contains("dt")) options.dt = training["dt"].get<double>();
  return options;
}

std::string model_args_json(const ModelArgs& model, const std::string& training_json) {
  nlohmann::json args;
  args["potential"] = model.potential;
  args["system"] = nlohmann::json::object();
  for (const auto& [key, value] : model.system) args["system"][key] = value;
  args["network"] = {{"d", model.network.d},
                     {"hidden_dims", model.network.hidden_dims},
                     {"n_freq", model.network.n_freq},
                     {"conditioning", to_string(model.network.conditioning)},
                     {"output_scale", model.network.output_scale},
                     {"symmetry", to_string(model.network.symmetry)},
                     {"pair_width", model.network.pair_width}};
  args["baseline"] = to_string(model.baseline);
  if (model.potential == kScriptPotential) {
    args["script_sha256"] = script_sha256(model.script);
    args["script_source"] = model.script_source;
  }
  args["training"] = nlohmann::json::parse(training_json);
  return args.dump();
}

std::unique_ptr<System> make_model_system(const ModelArgs& args) {
  if (args.potential != kScriptPotential) return make_system(args.potential, args.system);
  if (args.script.empty()) {
    throw std::invalid_argument("potential 'script' needs the TorchScript module's bytes (--potential-file)");
  }
  return std::make_unique<ScriptedSystem>(ScriptedSystemOptions{args.script, args.script_source, args.system});
}

void use_script_file(ModelArgs& args, const std::string& path, const std::string& flag, bool allow_change,
                     const std::string& source) {
  if (args.potential != kScriptPotential) {
    throw std::invalid_argument(flag + " '" + path + "': checkpoint '" + source + "' is of the built-in system '" +
                                args.potential + "', not a TorchScript potential");
  }
  const auto bytes = read_script_file(path, flag);
  const auto stored = script_sha256(args.script), given = script_sha256(bytes);
  if (stored != given && !allow_change) {
    throw std::invalid_argument(flag + " '" + path + "' has SHA-256 " + given + " but checkpoint '" + source +
                                "' was trained with a script of SHA-256 " + stored +
                                " (it holds that script: leave out " + flag + ", or allow the change with " +
                                "--allow-script-change)");
  }
  args.script = bytes;
  args.script_source = std::filesystem::path(path).filename().string();
}

Model build_model(const ModelArgs& args, const torch::Device& device, torch::Dtype dtype) {
  Model model;
  model.system = make_model_system(args);
  BaselineOptions baseline;
  baseline.kind = args.baseline;
  model.baseline = std::make_shared<GaussianBaseline>(*model.system, baseline);
  auto network_options = args.network;
  network_options.d = model.system->dim();
  model.network = ScoreNet(network_options, model.baseline);
  model.network->to(device, dtype);
  return model;
}

void store_parameters(const ScoreNetImpl& network, Checkpoint& checkpoint) {
  checkpoint.params.clear();
  for (const auto& [name, p] : network.named_parameters_in_order()) {
    checkpoint.params[name] = p.detach().to(torch::kCPU, torch::kFloat64).clone();
  }
}

void restore_parameters(ScoreNetImpl& network, const Checkpoint& checkpoint, const std::string& source) {
  torch::NoGradGuard no_grad;
  for (auto& [name, p] : network.named_parameters_in_order()) {
    const auto it = checkpoint.params.find(name);
    if (it == checkpoint.params.end()) {
      throw checkpoint_error(source, "key 'params/" + name + "' is missing for this architecture");
    }
    if (it->second.sizes() != p.sizes()) {
      throw checkpoint_error(source, "key 'params/" + name + "' has shape " +
                                         c10::str(it->second.sizes()) + ", the architecture needs " +
                                         c10::str(p.sizes()));
    }
    p.copy_(it->second.to(p.device(), p.scalar_type()));
  }
  if (checkpoint.params.size() != network.named_parameters_in_order().size()) {
    for (const auto& [name, value] : checkpoint.params) {
      if (!network.named_parameters(false).contains(name)) {
        throw checkpoint_error(source, "key 'params/" + name + "' does not belong to this architecture");
      }
    }
  }
}

Checkpoint load_checkpoint(const std::string& path) {
  const auto npz = Npz::load(path);
  if (!npz.contains("format") || npz.string("format") != kFormat) {
    throw checkpoint_error(path, std::string("key 'format' must be '") + kFormat + "'");
  }
  Checkpoint c;
  nlohmann::json args;
  try {
    args = nlohmann::json::parse(npz.string("args"));
  } catch (const nlohmann::json::exception& e) {
    throw checkpoint_error(path, std::string("key 'args' is not valid JSON: ") + e.what());
  }
  c.model = parse_model_args(args, path);
  if (c.model.potential == kScriptPotential) {
    if (!npz.contains(kScriptKey)) throw checkpoint_error(path, std::string("key '") + kScriptKey + "' is missing (potential 'script')");
    c.model.script = npz.bytes(kScriptKey);
    const std::string recorded = args.value("script_sha256", std::string());
    if (script_sha256(c.model.script) != recorded) {
      throw checkpoint_error(path, std::string("key '") + kScriptKey + "' has SHA-256 " +
                                       script_sha256(c.model.script) + " but key 'args' records " + recorded +
                                       " (the file is corrupt)");
    }
  }
  c.training_json = args.contains("training") ? args["training"].dump() : "{}";
  for (const auto& key : npz.keys()) {
    const auto strip = [&](const std::string& prefix) { return key.substr(prefix.size()); };
    if (key.rfind("params/", 0) == 0) c.params[strip("params/")] = npz.tensor(key, torch::kFloat64, {});
    else if (key.rfind("adam/m/", 0) == 0) c.adam_m[strip("adam/m/")] = npz.tensor(key, torch::kFloat64, {});
    else if (key.rfind("adam/v/", 0) == 0) c.adam_v[strip("adam/v/")] = npz.tensor(key, torch::kFloat64, {});
  }
  if (npz.contains("adam/step")) c.adam_step = npz.scalar_int("adam/step");
  c.lr = npz.contains("lr") ? npz.scalar_double("lr") : 0.0;
  c.epoch = npz.contains("epoch") ? npz.scalar_int("epoch") : 0;
  if (npz.contains("losses")) c.losses = npz.doubles("losses");
  if (npz.contains("rng_state")) {
    const auto words = npz.tensor("rng_state", torch::kInt64, {-1}).contiguous();
    c.rng_state.assign(words.data_ptr<int64_t>(), words.data_ptr<int64_t>() + words.numel());
  }
  if (npz.contains("plateau/best")) c.plateau_best = npz.scalar_double("plateau/best");
  if (npz.contains("plateau/wait")) c.plateau_wait = npz.scalar_int("plateau/wait");
  if (npz.contains("provenance")) c.provenance = npz.string("provenance");
  // Validate the parameters against the architecture the args describe.
  double stored = 0;
  for (const auto& [name, value] : c.params) stored += static_cast<double>(value.numel());
  if (least_parameter_count(c.model.network) > stored) {
    throw checkpoint_error(path, "key 'args' describes a network of at least " +
                                     std::to_string(static_cast<int64_t>(least_parameter_count(c.model.network))) +
                                     " parameters, but the file holds " +
                                     std::to_string(static_cast<int64_t>(stored)));
  }
  auto model = build_model(c.model);
  restore_parameters(*model.network, c, path);
  return c;
}

void save_checkpoint(const std::string& path, const Checkpoint& c) {
  Npz npz;
  npz.set("format", kFormat);
  npz.set("args", model_args_json(c.model, c.training_json));
  if (c.model.potential == kScriptPotential) npz.set(kScriptKey, NpyArray::from_bytes(c.model.script));
  for (const auto& [name, value] : c.params) npz.set("params/" + name, value);
  for (const auto& [name, value] : c.adam_m) npz.set("adam/m/" + name, value);
  for (const auto& [name, value] : c.adam_v) npz.set("adam/v/" + name, value);
  npz.set("adam/step", c.adam_step);
  npz.set("lr", c.lr);
  npz.set("epoch", c.epoch);
  npz.set("losses", torch::tensor(c.losses, torch::kFloat64).reshape({static_cast<int64_t>(c.losses.size())}));
  if (!c.rng_state.empty()) {
    npz.set("rng_state", torch::tensor(c.rng_state, torch::kInt64));
  }
  npz.set("plateau/best", c.plateau_best);
  npz.set("plateau/wait", c.plateau_wait);
  if (!c.provenance.empty()) npz.set("provenance", c.provenance);
  npz.save(path);
}

Model restore_model(const ModelArgs& args, const Checkpoint& checkpoint, const std::string& source,
                    const torch::Device& device, const ComputeOptions& compute) {
  require_finite_parameters(checkpoint, source);
  auto model = build_model(args, device, compute.dtype);
  model.network->set_jet_engine(compute.jets);
  restore_parameters(*model.network, checkpoint, source);
  return model;
}

void require_finite_parameters(const Checkpoint& checkpoint, const std::string& source) {
  for (const auto& [name, value] : checkpoint.params) {
    const int64_t bad = value.numel() - torch::isfinite(value).sum().item<int64_t>();
    if (bad > 0) {
      throw checkpoint_error(source, "key 'params/" + name + "': " + std::to_string(bad) + " of " +
                                         std::to_string(value.numel()) + " values are not finite");
    }
  }
}

Model load_model(const std::string& path, const torch::Device& device, const ComputeOptions& compute) {
  const auto checkpoint = load_checkpoint(path);
  return restore_model(checkpoint.model, checkpoint, path, device, compute);
}

}  // namespace bohmflow
