// --device, --jets, --dtype and --threads, shared by every driver that runs a
// network. (A header beside the apps: each apps/*.cpp is one executable.)
#pragma once

#include <CLI/CLI.hpp>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <thread>

#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/types.h>

#include "bohmflow/fisher_loss.hpp"
#include "flag_helpers.hpp"
#include "bohmflow/runtime.hpp"
#include "bohmflow/score_network.hpp"

namespace bohmflow::apps {

// "auto" → kAutoChunk, else a count >= 0.
inline int64_t parse_loss_chunk(const std::string& text) {
  if (text == "auto") return kAutoChunk;
  size_t used = 0;
  long long value = -1;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || value < 0) {
    throw std::invalid_argument("'" + text + "': expected auto or a number of particles >= 0");
  }
  return value;
}

// --chunk of the loss (FisherLossOptions::chunk_size), its default shown.
inline void add_loss_chunk_option(CLI::App& app, int64_t& chunk) {
  add_parsed_option(app, "--chunk", chunk, parse_loss_chunk,
                    "particles per loss sweep, bounding memory: auto (" + std::to_string(kCpuChunk) +
                        " on a CPU, on a GPU as many as fit), N, or 0 for all",
                    chunk == kAutoChunk ? "auto" : std::to_string(chunk));
}


// --jets auto|fused|generic and --dtype float64|float32 onto ComputeOptions
// (score_network.hpp), whose defaults they keep.
inline void add_compute_options(CLI::App& app, ComputeOptions& compute) {
  add_parsed_option(app, "--jets", compute.jets, parse_option<JetEngine>,
                    "jet engine: auto (fused on float64 CPU, generic elsewhere) | fused (the CPU kernel) | "
                    "generic (ATen operations, any device and dtype)",
                    to_string(compute.jets));
  add_parsed_option(app, "--dtype", compute.dtype, parse_dtype,
                    "floating type of the computation: float64 | float32 (checkpoints are float64 either way)",
                    dtype_name(compute.dtype));
}

// --device NAME: "" picks cuda when LibTorch sees a GPU, else cpu.
inline void add_device_option(CLI::App& app, std::string& device) {
  app.add_option("--device", device, "cpu | cuda | cuda:<i> (default: cuda when available; "
                                     "several ranks: cuda:<LOCAL_RANK>)");
}

// The device --device names; `local_rank` picks the GPU of a bare "cuda".
// Throws std::invalid_argument naming the flag.
inline torch::Device resolve_device(std::string name, int local_rank = 0) {
  if (name.empty()) name = torch::cuda::is_available() ? "cuda" : "cpu";
  torch::Device device(torch::kCPU);
  try {
    device = torch::Device(name);
  } catch (const c10::Error&) {
    throw std::invalid_argument("--device '" + name + "': expected cpu, cuda or cuda:<index>");
  }
  if (device.is_cuda()) {
    if (!torch::cuda::is_available()) {
      throw std::invalid_argument("--device " + name + ": this LibTorch sees no CUDA device");
    }
    if (!device.has_index()) device = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(local_rank));
    if (device.index() >= static_cast<int>(torch::cuda::device_count())) {
      throw std::invalid_argument("--device " + device.str() + ": only " +
                                  std::to_string(torch::cuda::device_count()) + " CUDA device(s)");
    }
  } else if (!device.is_cpu()) {
    throw std::invalid_argument("--device '" + name + "': expected cpu, cuda or cuda:<index>");
  }
  return device;
}

// Where and how a driver runs its network: --device, --jets, --dtype and
// --threads, checked together by apply() before any work.
class ComputeFlags {
 public:
  explicit ComputeFlags(CLI::App& app) : ComputeFlags(app, own_) {}
  // Binds --jets and --dtype onto `compute` (e.g. TrainingOptions::compute).
  ComputeFlags(CLI::App& app, ComputeOptions& compute) : compute_(compute) {
    add_device_option(app, device_name_);
    add_compute_options(app, compute_);
    app.add_option("--threads", threads_,
                   "intra-op threads per process (0: the idle cores; several ranks on a node share them)")
        ->capture_default_str()
        ->check(at_least(0));
  }

  // Sets the process's threads and returns the device, checked against
  // --jets and --dtype. `local_rank` picks the GPU of a bare "cuda";
  // `ranks_per_node` processes on one CPU node share its cores.
  torch::Device apply(int local_rank = 0, int ranks_per_node = 1) {
    tune_runtime();
    device_ = resolve_device(device_name_, local_rank);
    compute_.validate(device_);
    int threads = threads_;
    if (threads == 0 && device_.is_cpu() && ranks_per_node > 1) {
      threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / ranks_per_node);
    }
    if (threads > 0) at::set_num_threads(threads);
    return device_;
  }

  const ComputeOptions& compute() const { return compute_; }
  // The device apply() returned.
  const torch::Device& device() const { return device_; }
  // "cuda:0, float32, jets generic": for a run's first line.
  std::string describe() const {
    return device_.str() + ", " + dtype_name(compute_.dtype) + ", jets " + to_string(compute_.jets);
  }

 private:
  std::string device_name_;
  ComputeOptions own_;
  ComputeOptions& compute_;
  int threads_ = 0;  // 0: tune_runtime's choice
  torch::Device device_{torch::kCPU};
};

}  // namespace bohmflow::apps
