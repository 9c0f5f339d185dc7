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
#include "compute_flags.hpp"
#include "system_flags.hpp"

int main(int argc, char** argv) {
  std::vector<int> dims = {2, 4, 8};
  std::vector<int64_t> batch = {64, 512, 5000};
  bohmflow::TrajectoryOptions trajectory;
  trajectory.T = 0.1;  // a few steps suffice for a rate; the cost is linear in the steps
  bohmflow::ScoreNetOptions network;
  bohmflow::FisherLossOptions loss;
  std::string potential = "morse_chain";
  bohmflow::BaselineOptions baseline;
  bool skip_gradient = false;
  std::string output;
  CLI::App app{"Throughput of the Fisher loss + gradient and of inference propagation."};
  bohmflow::apps::add_potential_option(app, potential);
  bohmflow::apps::add_baseline_option(app, baseline.kind);
  app.add_option("--d", dims, "dimensions")->capture_default_str();
  app.add_option("--M", batch, "particles")->capture_default_str();
  app.add_option("--T", trajectory.T, "trajectory length per measurement")->capture_default_str();
  app.add_option("--dt", trajectory.dt, "leapfrog step")->capture_default_str();
  app.add_option("--hidden-dims", network.hidden_dims, "hidden widths")->capture_default_str();
  app.add_option("--chunk", loss.chunk_size, "particles per loss sweep")->capture_default_str();
  bohmflow::apps::ComputeFlags flags(app);
  app.add_flag("--inference-only", skip_gradient, "skip the loss + gradient measurement");
  app.add_option("--data-out", output, "also write the table as NPZ (keys d, M, steps, loss_grad_seconds, "
                                       "loss_grad_rate, inference_seconds, inference_rate)");
  CLI11_PARSE(app, argc, argv);
  torch::Device device(torch::kCPU);
  try {
    device = flags.apply();
  } catch (const std::exception& error) {
    std::cerr << "bench_core: " << error.what() << "\n";
    return 1;
  }
  // Work queued on a GPU is timed once it has finished.
  const auto seconds_since = [&](std::chrono::steady_clock::time_point start) {
    if (device.is_cuda()) torch::cuda::synchronize();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  const auto& compute = flags.compute();
  std::cout << potential << " on " << flags.describe() << ", torch threads: " << torch::get_num_threads() << "\n\n";

  const int64_t steps = trajectory.n_steps() + 1;
  const int64_t full_steps = bohmflow::TrajectoryOptions{}.n_steps() + 1;  // the paper's epoch
  std::cout << "| d | M | loss+grad s (" << steps << " steps) | loss+grad particle-steps/s"
            << " | s/epoch at " << full_steps << " steps | inference particle-steps/s |\n"
            << "|---|---|---|---|---|---|\n";
  std::vector<double> column_d, column_M, loss_seconds, loss_rates, inference_seconds, inference_rates;
  for (int d : dims) {
    auto system = bohmflow::make_system(potential, {{"d", d}});
    network.d = d;
    bohmflow::ScoreNet net(network, std::make_shared<bohmflow::GaussianBaseline>(*system, baseline));
    net->to(device, compute.dtype);
    net->set_jet_engine(compute.jets);
    for (int64_t M : batch) {
      torch::manual_seed(0);
      const auto x0 = bohmflow::sample_initial_positions(*system, M, torch::kFloat64).to(device, compute.dtype);
      double per_epoch = 0;
      if (!skip_gradient) {
        const auto start = std::chrono::steady_clock::now();
        bohmflow::fisher_loss(*system, *net, x0, trajectory, {}, loss, true);
        per_epoch = seconds_since(start);
      }
      const auto start = std::chrono::steady_clock::now();
      bohmflow::propagate(*system, *net, x0, trajectory);
      const double inference = seconds_since(start);
      const double rate = skip_gradient ? 0.0 : M * steps / per_epoch;
      std::cout << "| " << d << " | " << M << " | " << std::setprecision(3) << per_epoch << " | "
                << rate << " | " << (skip_gradient ? 0.0 : M * full_steps / rate) << " | "
                << M * steps / inference << " |" << std::endl;
      column_d.push_back(d);
      column_M.push_back(static_cast<double>(M));
      loss_seconds.push_back(per_epoch);
      loss_rates.push_back(rate);
      inference_seconds.push_back(inference);
      inference_rates.push_back(M * steps / inference);
    }
  }
  if (!output.empty()) {
    const int64_t rows = static_cast<int64_t>(column_d.size());
    bohmflow::Npz npz;
    npz.set("d", bohmflow::NpyArray::from_doubles(column_d, {rows}));
    npz.set("M", bohmflow::NpyArray::from_doubles(column_M, {rows}));
    npz.set("steps", steps);
    npz.set("loss_grad_seconds", bohmflow::NpyArray::from_doubles(loss_seconds, {rows}));
    npz.set("loss_grad_rate", bohmflow::NpyArray::from_doubles(loss_rates, {rows}));
    npz.set("inference_seconds", bohmflow::NpyArray::from_doubles(inference_seconds, {rows}));
    npz.set("inference_rate", bohmflow::NpyArray::from_doubles(inference_rates, {rows}));
    npz.set("potential", potential);
    npz.set("threads", static_cast<int64_t>(torch::get_num_threads()));
    npz.set("device", device.str());
    npz.set("dtype", bohmflow::dtype_name(compute.dtype));
    npz.set("jets", bohmflow::to_string(compute.jets));
    npz.save(output);
    std::cout << "saved " << output << "\n";
  }
  return 0;
}
