// extract_training_log: epochs, Fisher losses and ⟨E⟩ of one or more training
// logs (in order, e.g. a chain of resumed runs) into an NPZ for Figure 3.
//
//   extract_training_log -o data/fig3_training.npz logs/run_a.log logs/run_b.log
#include <CLI/CLI.hpp>

#include <iostream>
#include <string>
#include <vector>

#include "bohmflow/training_log.hpp"
#include "app_main.hpp"

int main(int argc, char** argv) {
  std::vector<std::string> logs;
  std::string output;
  CLI::App app{"Parse training logs (Epoch N/T: loss=..., | E_mean=...) into epochs, losses, e_mean."};
  app.add_option("-o,--output", output, "output NPZ")->required();
  app.add_option("logs", logs, "training logs, oldest first")->required()->check(CLI::ExistingFile);
  return bohmflow::apps::run_app(app, argc, argv, [&] {
    const auto log = bohmflow::read_training_logs(logs, &std::cerr);
    size_t measured = 0;
    for (bool m : log.measured) measured += m ? 1 : 0;
    bohmflow::save_training_log(log, output);
    std::cout << log.size() << " epochs (" << log.epochs.front() << ".." << log.epochs.back()
              << "), " << measured << " with E_mean, from " << logs.size() << " log(s); saved "
              << output << "\n";
  });
}
