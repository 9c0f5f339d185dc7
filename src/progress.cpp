// Progress bar / progress lines; see include/bohmflow/progress.hpp.
#include "bohmflow/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <stdexcept>

namespace bohmflow {

namespace {
constexpr int kBarWidth = 24;
constexpr double kBarRedrawSeconds = 0.1;
}  // namespace

ProgressReporter::ProgressReporter(int64_t total, std::string label, Style style,
                                   std::ostream* out, double line_interval_s)
    : total_(total),
      label_(std::move(label)),
      style_(style),
      out_(out ? out : &std::cerr),
      line_interval_s_(line_interval_s),
      start_(Clock::now()),
      last_print_(start_) {
  if (total < 0) {
    throw std::invalid_argument("ProgressReporter '" + label_ + "': total = " +
                                std::to_string(total) + " must be >= 0");
  }
  if (!(line_interval_s > 0)) {
    throw std::invalid_argument("ProgressReporter '" + label_ +
                                "': line_interval_s must be > 0");
  }
  if (style_ == Style::Automatic) {
    style_ = (out_ == &std::cerr && isatty(STDERR_FILENO)) ? Style::Bar : Style::Lines;
  }
}

ProgressReporter::~ProgressReporter() {
  if (bar_drawn_ && !finished_) {
    *out_ << '\n';
    out_->flush();
  }
}

double ProgressReporter::elapsed_seconds() const {
  return std::chrono::duration<double>(Clock::now() - start_).count();
}

std::string ProgressReporter::format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  char text[32];
  if (seconds < 60) {
    std::snprintf(text, sizeof text, "%.1fs", seconds);
  } else if (seconds < 3600) {
    const long s = std::lround(seconds);
    std::snprintf(text, sizeof text, "%ldm%02lds", s / 60, s % 60);
  } else {
    const long m = std::lround(seconds / 60);
    std::snprintf(text, sizeof text, "%ldh%02ldm", m / 60, m % 60);
  }
  return text;
}

void ProgressReporter::update(int64_t done) {
  if (finished_ || style_ == Style::Silent) return;
  done = std::clamp<int64_t>(done, 0, total_);
  last_done_ = done;
  const auto now = Clock::now();
  if (!rate_started_) {  // the rate is measured from the first update, after any set-up
    rate_started_ = true;
    rate_start_ = now;
    rate_start_done_ = done;
  }
  const double since_print = std::chrono::duration<double>(now - last_print_).count();
  if (style_ == Style::Bar) {
    if (since_print >= kBarRedrawSeconds || !bar_drawn_) draw_bar(done, false);
    return;
  }
  const int64_t decile = total_ > 0 ? done * 10 / total_ : 10;
  // The line for done == total is finish()'s, so it is printed once.
  if (done < total_ && (decile > last_decile_ || since_print >= line_interval_s_)) {
    last_decile_ = std::max(decile, last_decile_);
    print_line(done);
  }
}

void ProgressReporter::clear() {
  if (style_ != Style::Bar || !bar_drawn_ || finished_) return;
  *out_ << '\r' << std::string(kBarWidth + label_.size() + 60, ' ') << '\r';
  out_->flush();
  bar_drawn_ = false;
}

void ProgressReporter::finish() {
  if (finished_) return;
  if (style_ == Style::Bar) {
    draw_bar(total_, true);
  } else if (style_ == Style::Lines) {
    print_line(total_);
  }
  finished_ = true;
}

double ProgressReporter::eta_seconds(int64_t done) const {
  if (!rate_started_ || done <= rate_start_done_) return NAN;
  const double seconds = std::chrono::duration<double>(Clock::now() - rate_start_).count();
  return seconds * static_cast<double>(total_ - done) / static_cast<double>(done - rate_start_done_);
}

void ProgressReporter::draw_bar(int64_t done, bool final_draw) {
  const double fraction = total_ > 0 ? static_cast<double>(done) / total_ : 1.0;
  const double elapsed = elapsed_seconds();
  const int filled = static_cast<int>(fraction * kBarWidth);
  std::ostringstream line;
  line << '\r' << label_ << " [" << std::string(filled, '#')
       << std::string(kBarWidth - filled, '-') << "] ";
  char percent[16];
  std::snprintf(percent, sizeof percent, "%3d%%", static_cast<int>(fraction * 100));
  line << percent << "  " << done << '/' << total_ << "  elapsed " << format_duration(elapsed);
  if (final_draw) {
    line << "  done\n";
  } else {
    line << "  ETA " << format_duration(eta_seconds(done)) << "   ";
  }
  *out_ << line.str();
  out_->flush();
  bar_drawn_ = true;
  last_print_ = Clock::now();
}

void ProgressReporter::print_line(int64_t done) {
  const double elapsed = elapsed_seconds();
  const int percent = total_ > 0 ? static_cast<int>(100 * done / total_) : 100;
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.1f s", elapsed);
  std::ostringstream line;
  line << label_ << ": " << done << '/' << total_ << " (" << percent << "%), ";
  if (done >= total_) {
    line << "done in " << seconds << '\n';
  } else {
    line << "elapsed " << format_duration(elapsed) << ", ETA " << format_duration(eta_seconds(done))
         << '\n';
  }
  *out_ << line.str();
  out_->flush();
  last_print_ = Clock::now();
}

}  // namespace bohmflow
