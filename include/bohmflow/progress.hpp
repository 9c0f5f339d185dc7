// Progress of a long loop (time steps, epochs) on a terminal or in a log.
//
// On a terminal one line is redrawn in place:
//   FFT steps [##########----------]  50%  157/314  elapsed 1m02s  ETA 1m02s
// In a log (stderr not a TTY, or Style::Lines) a plain line is printed each
// time another 10% is done, or when `line_interval_s` has passed since the
// last line, whichever comes first:
//   FFT steps: 157/314 (50%), elapsed 1m02s, ETA 1m02s
// finish() prints the final line with the total time. The ETA extrapolates the
// rate measured since the first update (so set-up before it does not count);
// "?" until two updates have been seen.
#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>

namespace bohmflow {

class ProgressReporter {
 public:
  enum class Style {
    Automatic,  // Bar when `out` is std::cerr and stderr is a terminal, Lines otherwise
    Bar,        // one line redrawn with '\r' (at most every 0.1 s)
    Lines,      // a line per 10% or per line_interval_s
    Silent,     // nothing
  };

  // total >= 0 units of work (std::invalid_argument otherwise); a total of 0
  // is done at once. `out` must outlive the reporter.
  ProgressReporter(int64_t total, std::string label, Style style = Style::Automatic,
                   std::ostream* out = nullptr /* std::cerr */, double line_interval_s = 30.0);
  ~ProgressReporter();  // leaves a redrawn bar on its own line; prints nothing else
  ProgressReporter(const ProgressReporter&) = delete;
  ProgressReporter& operator=(const ProgressReporter&) = delete;

  // `done` units finished so far (clamped to [0, total]); cheap when nothing is printed.
  void update(int64_t done);
  // Erases a drawn bar so that other output can take its line; the next
  // update draws it again. Nothing for the other styles.
  void clear();
  // Prints the final line (once); later updates are ignored.
  void finish();

  double elapsed_seconds() const;
  Style style() const { return style_; }  // resolved: never Automatic

  // "1m02s", "3h05m", "12.3s": compact durations for bars and reports.
  static std::string format_duration(double seconds);

 private:
  using Clock = std::chrono::steady_clock;
  void draw_bar(int64_t done, bool final_draw);
  double eta_seconds(int64_t done) const;  // NaN while unknown
  void print_line(int64_t done);

  int64_t total_;
  std::string label_;
  Style style_;
  std::ostream* out_;
  double line_interval_s_;
  Clock::time_point start_;
  Clock::time_point last_print_;
  Clock::time_point rate_start_;  // first update: time and count
  int64_t rate_start_done_ = 0;
  bool rate_started_ = false;
  int64_t last_decile_ = 0;    // tenths of the total already reported (Lines)
  int64_t last_done_ = 0;
  bool bar_drawn_ = false;
  bool finished_ = false;
};

}  // namespace bohmflow
