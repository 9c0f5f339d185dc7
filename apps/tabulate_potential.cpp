// tabulate_potential: V of any system, built in or a TorchScript module, on
// the FFT reference's grid, for compute_fft_reference --potential-grid (the
// exact reference stays free of LibTorch; the file is potential_grid.hpp's).
//
//   tabulate_potential --potential script --potential-file hh.pt --d 2 --initial-mean 2 --N 128 --L 8 -o hh_grid.npz
//   tabulate_potential --potential henon_heiles --N 64 -o hh_builtin_grid.npz
#include <CLI/CLI.hpp>

#include <chrono>
#include <cmath>
#include <iostream>
#include <string>

#include "bohmflow/checkpoint.hpp"
#include "bohmflow/fft_reference.hpp"
#include "bohmflow/memory.hpp"
#include "bohmflow/npz.hpp"
#include "bohmflow/potential_grid.hpp"
#include "app_main.hpp"
#include "checkpoint_flags.hpp"
#include "system_flags.hpp"

int main(int argc, char** argv) {
  bohmflow::ModelArgs model;
  std::string script_path;
  bohmflow::SplitOperatorOptions grid;
  std::string output;
  CLI::App app{"V of a system on the FFT grid linspace(-L, L, N)^d, for compute_fft_reference --potential-grid."};
  bohmflow::apps::add_potential_option(app, model.potential, /*scripted=*/true);
  bohmflow::apps::add_system_parameter(app, "--d", "d", "dimension d", model.system);
  bohmflow::apps::add_parameter_assignments(app, model.system);
  bohmflow::apps::add_script_options(app, script_path, model.system);
  app.add_option("--N", grid.N, "grid points per axis, linspace(-L, L, N)")
      ->capture_default_str()
      ->check(bohmflow::apps::at_least(2));
  app.add_option("--L", grid.L, "half-width of the box")
      ->capture_default_str()
      ->check(bohmflow::apps::above(0) & bohmflow::apps::finite());
  app.add_option("--threads", grid.threads, "OpenMP threads for a built-in system (0: all cores)")
      ->capture_default_str()
      ->check(bohmflow::apps::at_least(0));
  app.add_option("-o,--output", output, "grid NPZ (axis_0 … axis_{d-1}, V, and the system's hbar, mass, initial_*)")
      ->required();
  return bohmflow::apps::run_app(app, argc, argv, [&] {
    const auto start = std::chrono::steady_clock::now();
    bohmflow::require_writable(output, "--output");
    bohmflow::apps::read_script_into(model, script_path);
    const auto system = bohmflow::make_model_system(model);
    const int d = system->dim();
    if (d > 6) throw std::invalid_argument("--d " + std::to_string(d) + ": the FFT reference handles d = 1 … 6");
    // V, then its copy in the archive being written.
    bohmflow::require_memory(2.0 * bohmflow::potential_grid_bytes(d, grid.N), "--N " + std::to_string(grid.N),
                             "tabulating V on " + std::to_string(grid.N) + "^" + std::to_string(d) + " points",
                             "lower --N");
    bohmflow::PotentialGrid table;
    table.d = d;
    table.N = grid.N;
    table.L = grid.L;
    table.V = system->potential_on_grid(std::vector<std::vector<double>>(d, bohmflow::grid_axis(grid.N, grid.L)),
                                        grid.threads);
    for (size_t i = 0; i < table.V.size(); ++i) {
      if (!std::isfinite(table.V[i])) {
        throw std::invalid_argument(system->label() + " is " + std::to_string(table.V[i]) + " at flat index " +
                                    std::to_string(i) + " of the grid; the propagator needs a finite V everywhere "
                                    "(a smaller --L?)");
      }
    }
    table.state = bohmflow::file_system_state(*system).parameters();
    table.potential = system->name();
    table.label = system->label();
    bohmflow::save_potential_grid(table, output);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << system->label() << " on " << grid.N << "^" << d << " points of [-" << grid.L << ", " << grid.L
              << "]^" << d << ": saved " << output << " in " << seconds << " s\n";
  });
}
