// fig1_doublewell: data for Figure 1, |ψ(x, t)|² of the 1D double well on a
// fine FFT grid with exact Bohmian trajectories; plot with scripts/plot_fig1.py.
//
//   fig1_doublewell -o data/fig1_doublewell.npz
//   fig1_doublewell --a 1.5 --n-particles 200 --integrator euler -o dw.npz
#include <CLI/CLI.hpp>

#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "bohmflow/bohmian_1d.hpp"
#include "bohmflow/npz.hpp"
#include "bohmflow/potentials.hpp"
#include "bohmflow/progress.hpp"
#include "app_main.hpp"
#include "checkpoint_flags.hpp"
#include "system_flags.hpp"

namespace {

struct BohmianJob {
  std::string potential = "double_well";            // registry name or "script" (d must be 1)
  bohmflow::ParameterMap parameters;                // overrides of the system's defaults
  std::string script_path;                          // --potential-file (--potential script)
  bohmflow::BohmianOptions trajectories;            // evolution and particles
  std::string output = "data/fig1_doublewell.npz";  // NPZ for scripts/plot_fig1.py

  void validate() const {
    if (potential.empty()) throw std::invalid_argument("--potential is empty (a registry name, e.g. double_well)");
    if (output.empty()) throw std::invalid_argument("--output is empty");
    trajectories.validate();
  }
};

}  // namespace

int main(int argc, char** argv) {
  BohmianJob job;
  CLI::App app{"Exact Bohmian trajectories of a 1D system (Figure 1: the double well)."};

  bohmflow::apps::add_potential_option(app, job.potential, /*scripted=*/true);  // d must be 1
  auto& parameters = job.parameters;
  bohmflow::apps::add_system_parameter(app, "--a", "a", "double-well minima at +-a", parameters);
  bohmflow::apps::add_system_parameter(app, "--D", "D", "barrier height D", parameters);
  bohmflow::apps::add_system_parameter(app, "--sigma0", "sigma0", "initial width", parameters);
  bohmflow::apps::add_parameter_assignments(app, parameters);
  bohmflow::apps::add_script_options(app, job.script_path, parameters);

  auto& options = job.trajectories;
  app.add_option("--N,--N-grid", options.stepper.N, "grid points, linspace(-L, L, N)")
      ->capture_default_str();
  app.add_option("--L", options.stepper.L, "half-width of the box")->capture_default_str();
  app.add_option("--T", options.T, "final time")->capture_default_str();
  app.add_option("--dt", options.stepper.dt, "FFT and trajectory time step")->capture_default_str();
  app.add_option("--threads", options.stepper.threads, "OpenMP threads (0: all cores)")
      ->capture_default_str();
  app.add_option("--n-particles", options.n_particles, "trajectories")->capture_default_str();
  app.add_option("--save-every", options.save_every, "save every this many steps")
      ->capture_default_str();
  app.add_option("--seed", options.seed, "seed of the initial positions")->capture_default_str();
  app.add_option("--integrator", options.integrator, "heun (second order) or euler (reference)")
      ->capture_default_str();
  app.add_option("-o,--output,--data-out", job.output, "NPZ for scripts/plot_fig1.py")
      ->capture_default_str();
  return bohmflow::apps::run_app(app, argc, argv, [&] {
    job.validate();
    bohmflow::require_writable(job.output, "--output");
    bohmflow::ModelArgs args;
    args.potential = job.potential;
    args.system = job.parameters;
    bohmflow::apps::read_script_into(args, job.script_path);
    const auto system = bohmflow::make_model_system(args);
    bohmflow::ProgressReporter progress(options.n_steps(), "FFT + Bohmian steps");
    const auto result = bohmflow::solve_bohmian_1d(
        *system, options, [&progress](int64_t done, int64_t) { progress.update(done); });
    progress.finish();
    std::cout << result.brief_report();
    bohmflow::save_bohmian_1d(result, job.output);
    std::cout << "saved to " << job.output << "\n";
  });
}
