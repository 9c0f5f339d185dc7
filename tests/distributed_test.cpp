// Multi-process training over Gloo: ranks are separate train_morse processes
// on localhost, launched with the environment variables torchrun sets.
#include "bohmflow/distributed.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "bohmflow/checkpoint.hpp"
#include "test_support.hpp"

namespace bohmflow {
namespace {

namespace fs = std::filesystem;

std::string scratch(const std::string& name) { return scratch_path(name).string(); }

const std::string kTrainMorse = std::string(BOHMFLOW_APPS_DIR) + "/train_morse";

// The same tiny run for every world size: 8 particles in all, 3 epochs, on
// CPUs (Gloo) also where a GPU is present.
std::string train_command(const std::string& checkpoint, int epochs = 3) {
  return kTrainMorse + " --d 2 --T 0.05 --M 8 --hidden-dims 8 8 --n-freq 2 --output-scale 0.1 --lr 0.03 "
                       "--n-checkpoints 3 --lr-patience 0 --print-every 1 --checkpoint-every 0 --threads 1 --device cpu "
                       "--n-epochs " +
         std::to_string(epochs) + " --checkpoint-path " + checkpoint;
}

// Runs `ranks` processes of `command` (rank r logs to <log>.r and leaves its
// exit status in <log>.r.rc); returns the wall time.
double launch(int world_size, const std::vector<int>& ranks, const std::string& command, const std::string& log,
              int port, const std::string& extra_for_rank1 = "") {
  std::ostringstream script;
  script << "cd " << scratch("") << " && (";
  for (int r : ranks) {
    script << "(RANK=" << r << " LOCAL_RANK=" << r << " WORLD_SIZE=" << world_size
           << " MASTER_ADDR=127.0.0.1 MASTER_PORT=" << port << " " << (r == 1 ? extra_for_rank1 : "") << command
           << " > " << log << "." << r << " 2>&1; echo $? > " << log << "." << r << ".rc) & ";
  }
  script << "wait)";
  const auto start = std::chrono::steady_clock::now();
  const int status = std::system(script.str().c_str());
  EXPECT_EQ(status, 0) << script.str();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

int exit_status(const std::string& log, int rank) {
  return std::stoi(read_text(log + "." + std::to_string(rank) + ".rc"));
}

TEST(Distributed, TwoGlooRanksTrainLikeOneWithTheSameGlobalBatch) {
  BOHMFLOW_REQUIRE_GLOO();
  const auto one = scratch("one.npz"), two = scratch("two.npz");
  launch(1, {0}, train_command(one), scratch("one.log"), free_port());
  ASSERT_EQ(exit_status(scratch("one.log"), 0), 0) << read_text(scratch("one.log.0"));
  launch(2, {0, 1}, train_command(two), scratch("two.log"), free_port());
  ASSERT_EQ(exit_status(scratch("two.log"), 0), 0) << read_text(scratch("two.log.0"));
  ASSERT_EQ(exit_status(scratch("two.log"), 1), 0) << read_text(scratch("two.log.1"));
  EXPECT_NE(read_text(scratch("two.log.0")).find("ranks=2 (gloo), M_local=4"), std::string::npos);
  EXPECT_EQ(read_text(scratch("two.log.1")).find("Epoch"), std::string::npos);  // rank 0 alone logs

  const auto a = load_checkpoint(one), b = load_checkpoint(two);
  EXPECT_EQ(b.epoch, 3);
  ASSERT_EQ(a.losses.size(), b.losses.size());
  for (size_t k = 0; k < a.losses.size(); ++k) EXPECT_NEAR(a.losses[k], b.losses[k], 1e-12 * a.losses[k]);
  for (const auto& [name, p] : a.params) {
    const double difference = (p - b.params.at(name)).abs().max().item<double>();
    EXPECT_LT(difference, 1e-10) << name;
  }
  // Training moved the parameters: the comparison is not between two untouched inits.
  EXPECT_EQ(a.adam_step, 3);
}

TEST(Distributed, MissingRankEndsTheOthersWithinTheTimeout) {
  BOHMFLOW_REQUIRE_GLOO();
  const double seconds = launch(2, {0}, train_command(scratch("alone.npz")) + " --dist-timeout 3",
                                scratch("alone.log"), free_port());
  EXPECT_NE(exit_status(scratch("alone.log"), 0), 0);
  const auto log = read_text(scratch("alone.log.0"));
  EXPECT_NE(log.find("MASTER_ADDR:MASTER_PORT = 127.0.0.1:"), std::string::npos) << log;
  EXPECT_NE(log.find("did every rank start?"), std::string::npos) << log;
  EXPECT_LT(seconds, 60);
}

TEST(Distributed, DeadRankEndsTheOthersWithAnError) {
  BOHMFLOW_REQUIRE_GLOO();
  // Rank 1 is killed a few seconds into a long run; rank 0 must not hang.
  const double seconds = launch(2, {0, 1}, train_command(scratch("dead.npz"), 100000) + " --dist-timeout 20",
                                scratch("dead.log"), free_port(), "timeout -s KILL 8 ");
  EXPECT_NE(exit_status(scratch("dead.log"), 0), 0) << read_text(scratch("dead.log.0"));
  EXPECT_NE(exit_status(scratch("dead.log"), 1), 0);
  EXPECT_NE(read_text(scratch("dead.log.0")).find("train_morse: "), std::string::npos);
  EXPECT_LT(seconds, 90);
}

TEST(Distributed, EnvironmentVariablesAreReadAndChecked) {
  setenv("RANK", "1", 1);
  setenv("WORLD_SIZE", "4", 1);
  setenv("LOCAL_RANK", "1", 1);
  setenv("MASTER_ADDR", "node7", 1);
  setenv("MASTER_PORT", "12345", 1);
  auto options = distributed_options_from_environment();
  EXPECT_EQ(options.rank, 1);
  EXPECT_EQ(options.world_size, 4);
  EXPECT_EQ(options.master_addr, "node7");
  EXPECT_EQ(options.master_port, 12345);
  setenv("WORLD_SIZE", "four", 1);
  try {
    distributed_options_from_environment();
    ADD_FAILURE() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("WORLD_SIZE='four'"), std::string::npos) << e.what();
  }
  setenv("WORLD_SIZE", "1", 1);
  options = distributed_options_from_environment();
  EXPECT_THROW(options.validate(), std::invalid_argument);  // RANK 1 of 1
  for (const char* name : {"RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"}) unsetenv(name);
  EXPECT_EQ(distributed_options_from_environment().world_size, 1);
}

TEST(Distributed, BackendsAreGlooOrNcclAndSeveralRanksNeedOne) {
  for (const auto& backend : distributed_backends()) EXPECT_TRUE(backend == "gloo" || backend == "nccl") << backend;
  EXPECT_EQ(built_with_gloo(), std::string(GLOO_EXPECTED) == "1");
  if (!distributed_backends().empty()) return;
  DistributedOptions options;
  options.world_size = 2;
  try {
    make_communicator(options, torch::Device(torch::kCPU));
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("built without torch.distributed"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace bohmflow
