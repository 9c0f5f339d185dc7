// --device, --jets and --dtype, shared by the drivers that run a network
// (train_morse, bench_core, fig4_moments, benchmark_moments). (A header beside
// the apps: each apps/*.cpp is one executable.)
#pragma once

#include <CLI/CLI.hpp>

#include <stdexcept>
#include <string>

#include <torch/cuda.h>
#include <torch/types.h>

#include "bohmflow/score_network.hpp"

namespace bohmflow::apps {

// `flag` VALUE parsed by `parse` into `target`; a value it rejects is an
// error naming the flag. The default shown is `shown`, the struct's own.
template <class T, class Parse>
void add_parsed_option(CLI::App& app, const std::string& flag, T& target, const Parse& parse,
                       const std::string& help, const std::string& shown) {
  app.add_option_function<std::string>(
         flag,
         [&target, parse, flag](const std::string& name) {
           try {
             target = parse(name);
           } catch (const std::invalid_argument& error) {
             throw CLI::ValidationError(flag, error.what());
           }
         },
         help)
      ->default_str(shown);
}

// --jets auto|fused|generic and --dtype float64|float32 onto ComputeOptions
// (score_network.hpp), whose defaults they keep.
inline void add_compute_options(CLI::App& app, ComputeOptions& compute) {
  add_parsed_option(app, "--jets", compute.jets, parse_jet_engine,
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

}  // namespace bohmflow::apps
