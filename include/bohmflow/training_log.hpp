// Training logs read back for Figure 3 (Fisher loss and energy error per epoch).
//
// A training run prints one line per epoch,
//   Epoch 100/45000: loss=7.123e-04, |grad|=0.0423, 0.18s/ep, lr=1.00e-03 | E_mean=2.3240, ...
// where the diagnostics after '|' (E_mean among them) appear only every few
// epochs. A line counts when it matches ^Epoch\s+(\d+)/\d+:\s+loss=([\dEe\-+.]+);
// its energy is the first \bE_mean=([\dEe\-+.]+) on the line, if any. Several
// logs (a chain of resumed runs) are concatenated in the order given, and the
// energy is then interpolated linearly in the epoch number onto every epoch
// between two measured ones and held constant before the first and after the
// last (numpy.interp, as the reference's scripts/extract_training_log.py does).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace bohmflow {

struct TrainingLog {
  std::vector<int64_t> epochs;  // (E) epoch numbers in the order read
  std::vector<double> losses;   // (E) Fisher loss
  std::vector<double> e_mean;   // (E) ⟨E⟩; NaN where not logged (before interpolate_energy)
  std::vector<bool> measured;   // (E) whether the line itself had E_mean
  double e_mean_resolution = 0;  // half a unit of the last digit E_mean is printed with
                                 // (coarsest over the lines; 5e-05 for "2.3240"); 0 without E_mean

  size_t size() const { return epochs.size(); }
  void append(const TrainingLog& other);
  // Fills every NaN of e_mean as described above; all NaN stays NaN.
  void interpolate_energy();
};

// Parses one log; `source` names it in errors (a malformed number).
TrainingLog parse_training_log(std::istream& in, const std::string& source);
// Reads the files in order, concatenates and interpolates. Throws naming the
// file when one cannot be read, and when no file holds an epoch line.
// A file without epoch lines is skipped with a warning on `warnings` (if given).
TrainingLog read_training_logs(const std::vector<std::string>& paths,
                               std::ostream* warnings = nullptr);
// Writes epochs (int64), losses, e_mean, e_mean_resolution (float64), atomically.
void save_training_log(const TrainingLog& log, const std::string& path);

}  // namespace bohmflow
