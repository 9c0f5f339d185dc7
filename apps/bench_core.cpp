// bench_core: throughput of the core on this machine, as a Markdown table.
//
// For each d and M: seconds of the full Fisher loss + parameter gradient over
// T/dt steps (the 128×128 FiLM network by default), the particle-steps per
// second that implies, the epoch time it projects for the paper's 315 steps
// (the cost is linear in the steps), and the inference propagation rate.
//   bench_core --d 2 4 8 --M 64 512 5000 --T 0.1
#include <CLI/CLI.hpp>

#include <chrono>
#include <iomanip>
#include <iostream>

#include <torch/torch.h>

#include "bohmflow/bohmflow.hpp"
#include "app_main.hpp"
#include "checkpoint_flags.hpp"
#include "compute_flags.hpp"
#include "system_flags.hpp"

namespace {

// One row per (d, M): seconds and particle-steps per second.
struct Table {
  std::vector<double> d, M, loss_seconds, loss_rates, inference_seconds, inference_rates;
  void add(int dim, int64_t particles, double loss_s, double loss_rate, double inference_s, double inference_rate) {
    d.push_back(dim);
    M.push_back(static_cast<double>(particles));
    loss_seconds.push_back(loss_s);
    loss_rates.push_back(loss_rate);
    inference_seconds.push_back(inference_s);
    inference_rates.push_back(inference_rate);
  }
  void write(bohmflow::Npz& npz) const {
    const int64_t rows = static_cast<int64_t>(d.size());
    const auto column = [rows](const std::vector<double>& values) {
      return bohmflow::NpyArray::from_doubles(values, {rows});
    };
    npz.set("d", column(d));
    npz.set("M", column(M));
    npz.set("loss_grad_seconds", column(loss_seconds));
    npz.set("loss_grad_rate", column(loss_rates));
    npz.set("inference_seconds", column(inference_seconds));
    npz.set("inference_rate", column(inference_rates));
  }
};

struct Bench {
  std::vector<int> dims = {2, 4, 8};
  std::vector<int64_t> batch = {64, 512, 5000};
  bohmflow::TrajectoryOptions trajectory{/*T=*/0.1};  // a few steps suffice for a rate; the cost is linear in them
  bohmflow::ScoreNetOptions network;
  bohmflow::FisherLossOptions loss;
  bohmflow::ModelArgs system;  // potential (registry name or "script") and parameters; d from `dims`
  std::string script_path;     // --potential-file
  bohmflow::BaselineOptions baseline;
  bool skip_gradient = false;
  std::string output;

  // Every size is checked before any work.
  void validate() const {
    for (int d : dims) {
      if (d < 1) throw std::invalid_argument("--d " + std::to_string(d) + ": must be >= 1");
    }
    for (int64_t M : batch) {
      if (M < 1) throw std::invalid_argument("--M " + std::to_string(M) + ": must be >= 1");
    }
    for (int width : network.hidden_dims) {
      if (width < 1) throw std::invalid_argument("--hidden-dims " + std::to_string(width) + ": must be >= 1");
    }
    trajectory.validate();
    loss.validate();
  }
};

// Prints and returns the table, timing work queued on a GPU once it has finished.
Table run(Bench& bench, const torch::Device& device, const bohmflow::ComputeOptions& compute) {
  const auto seconds_since = [&](std::chrono::steady_clock::time_point start) {
    if (device.is_cuda()) torch::cuda::synchronize();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  const int64_t steps = bench.trajectory.n_steps() + 1;
  const int64_t full_steps = bohmflow::TrajectoryOptions{}.n_steps() + 1;  // the paper's epoch
  std::cout << "| d | M | loss+grad s (" << steps << " steps) | loss+grad particle-steps/s"
            << " | s/epoch at " << full_steps << " steps | inference particle-steps/s |\n"
            << "|---|---|---|---|---|---|\n";
  Table table;
  for (int d : bench.dims) {
    auto args = bench.system;
    args.system["d"] = d;
    auto system = bohmflow::make_model_system(args);
    bench.network.d = d;
    bohmflow::ScoreNet net(bench.network, std::make_shared<bohmflow::GaussianBaseline>(*system, bench.baseline));
    net->to(device, compute.dtype);
    net->set_jet_engine(compute.jets);
    for (int64_t M : bench.batch) {
      torch::manual_seed(0);
      const auto x0 = bohmflow::sample_initial_positions(*system, M, torch::kFloat64).to(device, compute.dtype);
      double per_epoch = 0;
      if (!bench.skip_gradient) {
        const auto start = std::chrono::steady_clock::now();
        bohmflow::fisher_loss(*system, *net, x0, bench.trajectory, {}, bench.loss, true);
        per_epoch = seconds_since(start);
      }
      const auto start = std::chrono::steady_clock::now();
      bohmflow::propagate(*system, *net, x0, bench.trajectory);
      const double inference = seconds_since(start);
      const double rate = bench.skip_gradient ? 0.0 : M * steps / per_epoch;
      std::cout << "| " << d << " | " << M << " | " << std::setprecision(3) << per_epoch << " | " << rate
                << " | " << (bench.skip_gradient ? 0.0 : M * full_steps / rate) << " | "
                << M * steps / inference << " |" << std::endl;
      table.add(d, M, per_epoch, rate, inference, M * steps / inference);
    }
  }
  return table;
}

}  // namespace

int main(int argc, char** argv) {
  Bench bench;
  CLI::App app{"Throughput of the Fisher loss + gradient and of inference propagation."};
  bohmflow::apps::add_potential_option(app, bench.system.potential, /*scripted=*/true);
  bohmflow::apps::add_parameter_assignments(app, bench.system.system);
  bohmflow::apps::add_script_options(app, bench.script_path, bench.system.system);
  bohmflow::apps::add_word_option(app, "--baseline", bench.baseline.kind, "Gaussian baseline");
  app.add_option("--d", bench.dims, "dimensions")->capture_default_str();
  app.add_option("--M", bench.batch, "particles")->capture_default_str();
  app.add_option("--T", bench.trajectory.T, "trajectory length per measurement")
      ->capture_default_str()
      ->check(bohmflow::apps::above(0));
  app.add_option("--dt", bench.trajectory.dt, "leapfrog step")->capture_default_str()->check(bohmflow::apps::above(0));
  app.add_option("--hidden-dims", bench.network.hidden_dims, "hidden widths")->capture_default_str();
  bohmflow::apps::add_loss_chunk_option(app, bench.loss.chunk_size);
  bohmflow::apps::ComputeFlags flags(app);
  app.add_flag("--inference-only", bench.skip_gradient, "skip the loss + gradient measurement");
  app.add_option("--data-out", bench.output, "also write the table as NPZ (keys d, M, steps, loss_grad_seconds, "
                                             "loss_grad_rate, inference_seconds, inference_rate)");
  return bohmflow::apps::run_app(app, argc, argv, [&] {
    bench.validate();
    bohmflow::apps::read_script_into(bench.system, bench.script_path);
    if (!bench.output.empty()) bohmflow::require_writable(bench.output, "--data-out");
    const auto device = flags.apply();
    const auto& compute = flags.compute();
    std::cout << bench.system.potential << " on " << flags.describe() << ", torch threads: " << torch::get_num_threads()
              << "\n\n";
    const auto table = run(bench, device, compute);
    if (!bench.output.empty()) {
      bohmflow::Npz npz;
      table.write(npz);
      npz.set("steps", bench.trajectory.n_steps() + 1);
      npz.set("potential", bench.system.potential);
      npz.set("threads", static_cast<int64_t>(torch::get_num_threads()));
      npz.set("device", device.str());
      npz.set("dtype", bohmflow::dtype_name(compute.dtype));
      npz.set("jets", bohmflow::to_string(compute.jets));
      npz.save(bench.output);
      std::cout << "saved " << bench.output << "\n";
    }
  });
}
