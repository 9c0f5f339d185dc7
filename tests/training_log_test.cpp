#include "bohmflow/training_log.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "bohmflow/npz.hpp"
#include "test_support.hpp"

namespace bohmflow {
namespace {

namespace fs = std::filesystem;

fs::path scratch(const std::string& name) { return scratch_path(name); }

// Lines as a training run prints them: E_mean every 2nd epoch here, plus noise.
const char kLogA[] =
    "starting run, M=5000\n"
    "Epoch 1/6: loss=1.000e-01, |grad|=0.5000, 0.18s/ep, lr=1.00e-03\n"
    "Epoch 2/6: loss=5.000e-02, |grad|=0.0423, 0.18s/ep, lr=1.00e-03 | E_mean=2.3000, E_std=0.0004 "
    "| min|det F|=0.9412, masked=0.0000%\n"
    "  checkpoint saved\n"
    "Epoch 3/6: loss=2.5E-02, |grad|=0.0400, 0.18s/ep, lr=1.00e-03\n"
    "Epoch 4/6: loss=1.25e-02, |grad|=0.0300, 0.18s/ep, lr=1.00e-03 | E_mean=2.3200, E_std=0.0004 "
    "| min|det F|=0.9412, masked=0.0000%\r\n"
    "Epoch 5/6: loss=6.25e-03, |grad|=0.0200, 0.18s/ep, lr=1.00e-03\n"
    "  Epoch 6/6: loss=1.0 (indented: not an epoch line)\n";
const char kLogB[] =
    "resumed from epoch 5\n"
    "Epoch 8/10: loss=1e-03, |grad|=0.0100, 0.18s/ep, lr=1.00e-03 | E_mean=2.3240, E_std=0.0004\n"
    "Epoch 9/10: loss=9e-04, |grad|=0.0100, 0.18s/ep, lr=1.00e-03\n";

TEST(TrainingLog, ParsesEpochLinesAndTheirEnergies) {
  std::istringstream in(kLogA);
  const auto log = parse_training_log(in, "a.log");
  EXPECT_EQ(log.epochs, (std::vector<int64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(log.losses, (std::vector<double>{0.1, 0.05, 0.025, 0.0125, 0.00625}));
  EXPECT_EQ(log.measured, (std::vector<bool>{false, true, false, true, false}));
  EXPECT_TRUE(std::isnan(log.e_mean[0]));
  EXPECT_EQ(log.e_mean[1], 2.3);
  EXPECT_EQ(log.e_mean[3], 2.32);
  EXPECT_DOUBLE_EQ(log.e_mean_resolution, 5e-5);  // printed as 2.3200: four decimals
  std::istringstream exponent("Epoch 1/2: loss=1e-3 | E_mean=2.32e+00\n");
  EXPECT_DOUBLE_EQ(parse_training_log(exponent, "e.log").e_mean_resolution, 5e-3);
}

TEST(TrainingLog, ConcatenatesInOrderAndInterpolatesTheEnergyOntoEveryEpoch) {
  std::ofstream(scratch("a.log")) << kLogA;
  std::ofstream(scratch("b.log")) << kLogB;
  std::ofstream(scratch("empty.log")) << "nothing here\n";
  std::ostringstream warnings;
  const auto log = read_training_logs(
      {scratch("a.log").string(), scratch("empty.log").string(), scratch("b.log").string()}, &warnings);
  EXPECT_NE(warnings.str().find("empty.log"), std::string::npos);
  EXPECT_EQ(log.epochs, (std::vector<int64_t>{1, 2, 3, 4, 5, 8, 9}));
  // As numpy.interp(epochs, measured epochs, measured E): constant before the
  // first and after the last, linear in the epoch number in between.
  const std::vector<double> expected = {2.3, 2.3, 2.31, 2.32, 2.32 + 0.004 * 1 / 4, 2.324, 2.324};
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(log.e_mean[i], expected[i], 1e-15) << i;
}

TEST(TrainingLog, ErrorsNameTheFile) {
  try {
    read_training_logs({scratch("no_such.log").string()});
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("no_such.log"), std::string::npos);
  }
  std::ofstream(scratch("empty.log")) << "nothing here\n";
  EXPECT_THROW(read_training_logs({scratch("empty.log").string()}), std::runtime_error);
  std::istringstream bad("Epoch 1/2: loss=1.0.0e-3\n");
  try {
    parse_training_log(bad, "bad.log");
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("bad.log', line 1"), std::string::npos) << error.what();
  }
}

TEST(TrainingLog, CliWritesEpochsLossesAndEnergy) {
  std::ofstream(scratch("a.log")) << kLogA;
  std::ofstream(scratch("b.log")) << kLogB;
  const auto out = scratch("fig3_training.npz");
  const std::string command = std::string(BOHMFLOW_APPS_DIR) + "/extract_training_log -o '" +
                              out.string() + "' '" + scratch("a.log").string() + "' '" +
                              scratch("b.log").string() + "' >/dev/null";
  ASSERT_EQ(std::system(command.c_str()), 0);
  const auto npz = Npz::load(out.string());
  EXPECT_EQ(npz.keys(),
            (std::vector<std::string>{"epochs", "losses", "e_mean", "e_mean_resolution"}));
  EXPECT_DOUBLE_EQ(npz.scalar_double("e_mean_resolution"), 5e-5);
  EXPECT_EQ(npz.doubles("epochs"), (std::vector<double>{1, 2, 3, 4, 5, 8, 9}));
  EXPECT_EQ(npz.doubles("losses").back(), 9e-4);
  EXPECT_NEAR(npz.doubles("e_mean")[2], 2.31, 1e-15);
}

}  // namespace
}  // namespace bohmflow
