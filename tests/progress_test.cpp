#include "bohmflow/progress.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <string>

namespace bohmflow {
namespace {

int count_lines(const std::string& text) {
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

TEST(ProgressReporter, LinesEveryTenPercentThenTheFinalLine) {
  std::ostringstream out;
  ProgressReporter progress(100, "steps", ProgressReporter::Style::Lines, &out, 1e9);
  for (int done = 1; done <= 100; ++done) progress.update(done);
  EXPECT_EQ(count_lines(out.str()), 9) << out.str();  // 10%, 20%, … 90%
  progress.finish();
  progress.finish();  // once only
  EXPECT_EQ(count_lines(out.str()), 10) << out.str();
  EXPECT_NE(out.str().find("steps: 50/100 (50%)"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("steps: 100/100 (100%), done in"), std::string::npos) << out.str();
}

TEST(ProgressReporter, LinesAfterTheIntervalEvenWithinTenPercent) {
  std::ostringstream out;
  ProgressReporter progress(1000, "slow", ProgressReporter::Style::Lines, &out, 1e-9);
  progress.update(1);
  progress.update(2);
  EXPECT_EQ(count_lines(out.str()), 2) << out.str();
}

TEST(ProgressReporter, FinalLineOnceEvenWhenTheIntervalHasPassed) {
  std::ostringstream out;
  ProgressReporter progress(2, "batches", ProgressReporter::Style::Lines, &out, 1e-9);
  progress.update(1);
  progress.update(2);
  progress.finish();
  const std::string text = out.str();
  EXPECT_EQ(count_lines(text), 2) << text;  // 1/2, then the final line
  EXPECT_EQ(text.find("done in"), text.rfind("done in")) << text;
}

TEST(ProgressReporter, BarRedrawsOneLine) {
  std::ostringstream out;
  ProgressReporter progress(4, "bar", ProgressReporter::Style::Bar, &out);
  progress.update(2);
  EXPECT_EQ(out.str().front(), '\r');
  EXPECT_EQ(count_lines(out.str()), 0);
  EXPECT_NE(out.str().find(" 50%"), std::string::npos) << out.str();
  progress.finish();
  EXPECT_EQ(count_lines(out.str()), 1);
  EXPECT_NE(out.str().find("100%  4/4"), std::string::npos) << out.str();
}

TEST(ProgressReporter, SilentAndAutomaticStyles) {
  std::ostringstream out;
  ProgressReporter silent(10, "quiet", ProgressReporter::Style::Silent, &out);
  silent.update(5);
  silent.finish();
  EXPECT_TRUE(out.str().empty());
  // Automatic on a stream that is not std::cerr: plain lines.
  ProgressReporter automatic(10, "log", ProgressReporter::Style::Automatic, &out);
  EXPECT_EQ(automatic.style(), ProgressReporter::Style::Lines);
  EXPECT_THROW(ProgressReporter(-1, "bad"), std::invalid_argument);
}

TEST(ProgressReporter, FormatsDurations) {
  EXPECT_EQ(ProgressReporter::format_duration(12.34), "12.3s");
  EXPECT_EQ(ProgressReporter::format_duration(75.0), "1m15s");
  EXPECT_EQ(ProgressReporter::format_duration(3 * 3600 + 5 * 60), "3h05m");
  EXPECT_EQ(ProgressReporter::format_duration(-1.0), "?");
}

}  // namespace
}  // namespace bohmflow
