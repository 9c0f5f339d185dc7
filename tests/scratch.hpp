// Scratch files of the tests, one folder per test: ctest runs every test as
// its own process, in parallel, so two tests must never share a file name.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace bohmflow {

inline std::filesystem::path scratch_path(const std::string& name) {
  const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
  const auto dir = std::filesystem::path(BOHMFLOW_BINARY_DIR) / "test_scratch" / test->test_suite_name() /
                   test->name();
  std::filesystem::create_directories(dir);
  return dir / name;
}

}  // namespace bohmflow
