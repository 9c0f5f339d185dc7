// compute_fft_reference: the split-operator FFT reference (moments ⟨x_i⟩(t), σ_i(t),
// the norm, a(t) and ⟨H⟩) of a system from the registry or of a tabulated V
// (--potential-grid, written by tabulate_potential), optionally with ψ snapshots.
//
//   compute_fft_reference --d 4 --N 64 --L 8.0 --T 3.14159 --dt 0.01 -o data/fft_ref_morse_d4.npz
//   compute_fft_reference --potential harmonic --param d=2 --param omega_1=2 --N 128 -o harm.npz
//   compute_fft_reference --potential-grid hh_grid.npz --initial-mean 2 --T 4 -o hh_ref.npz
#include <CLI/CLI.hpp>

#include <iomanip>
#include <iostream>
#include <string>
#include <vector>

#include "bohmflow/fft_reference.hpp"
#include "bohmflow/npz.hpp"
#include "bohmflow/potential_grid.hpp"
#include "bohmflow/system.hpp"
#include "bohmflow/progress.hpp"
#include "bohmflow/psi_snapshots.hpp"
#include "app_main.hpp"
#include "fft_reference_job.hpp"
#include "flag_helpers.hpp"
#include "system_flags.hpp"

int main(int argc, char** argv) {
  bohmflow::apps::FftReferenceJob job;
  CLI::App app{"Split-operator FFT reference solution of the TDSE on an N^d grid."};

  auto* potential_option = bohmflow::apps::add_potential_option(app, job.potential);
  app.add_option("--potential-grid", job.potential_grid,
                 "V tabulated on the grid (tabulate_potential; docs/file-formats.md) instead of --potential; "
                 "N and L are the table's, the state comes from it or from --initial-* and --param hbar=, mass=")
      ->excludes(potential_option);
  bohmflow::apps::add_initial_state_options(app, job.parameters);
  auto& parameters = job.parameters;
  bohmflow::apps::add_system_parameter(app, "--d", "d", "dimension d", parameters);
  bohmflow::apps::add_system_parameter(app, "--D", "D", "well depth D", parameters);
  bohmflow::apps::add_system_parameter(app, "--beta", "beta", "Morse range parameter beta", parameters);
  bohmflow::apps::add_system_parameter(app, "--lam", "lam", "nearest-neighbour coupling lambda", parameters);
  bohmflow::apps::add_system_parameter(app, "--q0", "q0", "initial displacement of mode 0", parameters);
  bohmflow::apps::add_parameter_assignments(app, parameters);

  auto* N_option = app.add_option("--N", job.fft.stepper.N, "grid points per axis, linspace(-L, L, N)")
                       ->capture_default_str();
  auto* L_option = app.add_option("--L", job.fft.stepper.L, "half-width of the box")->capture_default_str();
  app.add_option("--T", job.fft.T, "final time; floor(T/dt) steps")->capture_default_str();
  app.add_option("--dt", job.fft.stepper.dt, "Strang time step")->capture_default_str();
  app.add_option("--threads", job.fft.stepper.threads, "OpenMP threads (0: all cores)")
      ->capture_default_str();
  bohmflow::apps::add_word_option(app, "--fftw-planner", job.fft.stepper.planner,
                                  "FFTW planning (measure: a timed search, ~0.3 s at d = 4)");
  app.add_option("-o,--output", job.output, "moments NPZ")->capture_default_str();
  app.add_flag("!--no-autocorrelation", job.fft.stepper.autocorrelation,
               "skip a(t) = <psi(0)|psi(t)> (it costs no memory and little time)");
  app.add_option("--save-psi-at", job.fft.save_psi_at,
                 "times whose psi is saved (N^d complex128 each) to --psi-out");
  app.add_option("--psi-out", job.psi_output, "psi snapshots NPZ (default: <output>_psi.npz)");
  app.add_option("--norm-warning", job.norm_drift_warning,
                 "warn when max |norm - norm(0)| exceeds this")
      ->capture_default_str();
  return bohmflow::apps::run_app(app, argc, argv, [&] {
    job.validate();
    bohmflow::require_writable(job.output, "--output");
    if (!job.fft.save_psi_at.empty()) bohmflow::require_writable(job.psi_output_path(), "--psi-out");
    const auto system = job.potential_grid.empty()
                            ? bohmflow::make_system_definition(job.potential, job.parameters)
                            : bohmflow::apps::grid_system(job, N_option->count() > 0, L_option->count() > 0);
    std::cout << "FFT grid: " << system->label() << ", N=" << job.fft.stepper.N
              << " per axis, about " << std::fixed << std::setprecision(0)
              << bohmflow::split_operator_bytes(system->dim(), job.fft.stepper) / 1e6
              << " MB for psi and the kick\n"
              << std::defaultfloat << std::setprecision(6);
    bohmflow::ProgressReporter progress(job.fft.n_steps(), "FFT steps");
    const auto result = bohmflow::solve_fft_reference(
        *system, job.fft, [&progress](int64_t done, int64_t) { progress.update(done); });
    progress.finish();
    std::cout << result.brief_report();
    if (result.max_norm_drift() > job.norm_drift_warning) {
      std::cerr << "warning: the norm drifted by " << result.max_norm_drift() << " (more than "
                << job.norm_drift_warning << ")\n";
    }
    bohmflow::save_fft_reference(result, job.output);
    std::cout << "saved moments to " << job.output << "\n";
    if (!result.snapshots.empty()) {
      bohmflow::save_psi_snapshots(result, job.psi_output_path());
      std::cout << "saved " << result.snapshots.size() << " psi snapshots to "
                << job.psi_output_path() << "\n";
    }
  });
}
