// score_field: the learned score on a 2D slice through the origin (Figure 5 data).
//
//   score_field --checkpoint checkpoints/morse_d4.npz --psi data/psi_morse_d4.npz \
//               --times 0.0 3.14159 --dims 0 1 --data-out data/fig5_score_data.npz
//   score_field --checkpoint checkpoints/morse_d4.npz --grid-N 32 --grid-L 4 --data-out s.npz
// With --psi the slice lies on the FFT grid's axes at the snapshots nearest the
// requested times, and the exact slice density rho_k is stored too.
#include <CLI/CLI.hpp>

#include <chrono>
#include <iostream>
#include <memory>
#include <string>

#include "bohmflow/checkpoint.hpp"
#include "bohmflow/psi_snapshots.hpp"
#include "bohmflow/score_field.hpp"
#include "app_main.hpp"
#include "checkpoint_flags.hpp"
#include "compute_flags.hpp"

int main(int argc, char** argv) {
  std::string checkpoint_path = "checkpoints/morse_d4.npz";
  std::string psi_path;
  std::string output = "data/fig5_score_data.npz";
  bohmflow::ScoreSliceOptions options;
  CLI::App app{"Learned score s_theta on a 2D slice (other coordinates 0), for Figure 5."};
  app.add_option("--checkpoint", checkpoint_path, "bohmflow checkpoint")->capture_default_str();
  app.add_option("--times", options.times, "times (with --psi: the nearest snapshots)")
      ->capture_default_str();
  app.add_option("--dims", options.dims, "the two plotted axes di dj")
      ->expected(2)
      ->capture_default_str();
  app.add_option("--psi", psi_path, "psi snapshots (compute_fft_reference --save-psi-at)");
  app.add_option("--grid-N", options.grid_N, "grid points per axis without --psi")
      ->capture_default_str();
  app.add_option("--grid-L", options.grid_L, "half-width linspace(-L, L, N) without --psi")
      ->capture_default_str();
  app.add_flag("--float32", options.single_precision, "store s and rho as float32");
  app.add_option("--data-out", output, "output NPZ (compressed)")->capture_default_str();
  const bohmflow::apps::ScriptFileFlags script(app);
  bohmflow::apps::ComputeFlags compute(app);
  return bohmflow::apps::run_app(app, argc, argv, [&] {
    const auto start = std::chrono::steady_clock::now();
    const auto device = compute.apply();
    const auto checkpoint = script.load(checkpoint_path);
    const auto model = bohmflow::restore_model(checkpoint.model, checkpoint, checkpoint_path, device, compute.compute());
    std::unique_ptr<bohmflow::PsiSnapshots> psi;
    if (!psi_path.empty()) {
      psi = std::make_unique<bohmflow::PsiSnapshots>(bohmflow::load_psi_snapshots(psi_path));
      if (psi->potential != model.system->name() && psi->potential != "grid") {
        throw std::invalid_argument("--psi '" + psi_path + "' holds " + psi->potential +
                                    ", --checkpoint '" + checkpoint_path + "' " + model.system->name());
      }
    }
    const auto slice = bohmflow::compute_score_slice(*model.network, options, psi.get());
    bohmflow::save_score_slice(slice, output, options.single_precision);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << "score on the (x_" << slice.di << ", x_" << slice.dj << ") slice, "
              << slice.gi.size() << "x" << slice.gj.size() << " points, times";
    for (double t : slice.times) std::cout << " " << t;
    std::cout << (psi ? ", with the exact slice density" : ", no density (no --psi)") << " ("
              << compute.describe() << ")\n"
              << "saved " << output << " in " << seconds << " s\n";
  });
}
