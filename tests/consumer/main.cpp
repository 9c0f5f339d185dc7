// The README's library example, built by a downstream project that only knows
// find_package(bohmflow): load a checkpoint, rebuild system + baseline +
// network from its stored arguments, propagate 1000 particles to T and print
// ⟨x₀⟩(T) and σ₀(T).
#include <bohmflow/bohmflow.hpp>

#include <iostream>

int main(int argc, char** argv) {
  const std::string path = argc > 1 ? argv[1] : "checkpoints/morse_d4.npz";
  const auto model = bohmflow::load_model(path);
  torch::manual_seed(0);
  const auto x0 = bohmflow::sample_initial_positions(*model.system, 1000, torch::kFloat64);
  const auto path_x = bohmflow::propagate(*model.system, *model.network, x0, {3.14159, 0.01}).x;
  const auto x_T = path_x[-1].select(1, 0);  // mode 0 at the last step
  std::cout << "<x_0>(T) = " << x_T.mean().item<double>()
            << ", sigma_0(T) = " << x_T.std(/*unbiased=*/false).item<double>() << "\n";
  return 0;
}
