// Helpers shared by the test files (header-only; not a test unit itself).
#pragma once

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "bohmflow/checkpoint.hpp"

namespace bohmflow {

// Scratch files, one folder per test: ctest runs every test as its own
// process, in parallel, so two tests must never share a file name.
inline std::filesystem::path scratch_path(const std::string& name) {
  const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
  const auto dir = std::filesystem::path(BOHMFLOW_BINARY_DIR) / "test_scratch" / test->test_suite_name() /
                   test->name();
  std::filesystem::create_directories(dir);
  return dir / name;
}

// A whole text file ("" when missing).
inline std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The system of `system_args` with a zero network on a tiny architecture:
// the score is the Gaussian baseline's alone.
inline Model baseline_only_model(const std::string& potential, const ParameterMap& system) {
  ModelArgs args;
  args.potential = potential;
  args.system = system;
  args.network.hidden_dims = {4};
  args.network.n_freq = 1;
  auto model = build_model(args);
  torch::NoGradGuard no_grad;
  for (auto& p : model.network->parameters()) p.zero_();
  return model;
}

}  // namespace bohmflow
