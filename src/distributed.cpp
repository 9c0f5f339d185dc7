#include "bohmflow/distributed.hpp"

#include <chrono>
#include <cstdlib>
#include <stdexcept>

#include <torch/torch.h>

#ifdef BOHMFLOW_HAVE_GLOO
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif
#ifdef BOHMFLOW_HAVE_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include "internal_checks.hpp"

namespace bohmflow {
namespace {

using detail::format_number;
using detail::require;

// The first of `names` that is set, parsed as an integer; `fallback` otherwise.
int integer_from_environment(std::initializer_list<const char*> names, int fallback) {
  for (const char* name : names) {
    const char* text = std::getenv(name);
    if (text == nullptr || *text == '\0') continue;
    char* end = nullptr;
    const long value = std::strtol(text, &end, 10);
    if (*end != '\0' || value < 0 || value > (1L << 30)) {
      throw std::invalid_argument(std::string("environment variable ") + name + "='" + text +
                                  "': must be a non-negative integer");
    }
    return static_cast<int>(value);
  }
  return fallback;
}

// c10::Error's what() carries a C++ backtrace; users need the message.
std::string message_of(const std::exception& e) {
  if (const auto* error = dynamic_cast<const c10::Error*>(&e)) return error->what_without_backtrace();
  return e.what();
}

class SingleProcess final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string backend() const override { return "none"; }
  void all_reduce_sum(torch::Tensor&) override {}
  void broadcast(torch::Tensor&, int) override {}
};

#ifdef BOHMFLOW_HAVE_GLOO
// A c10d process group; tensors on another device than the group's are
// staged through host memory (Gloo with CUDA tensors).
template <typename Group>
class ProcessGroupCommunicator final : public Communicator {
 public:
  ProcessGroupCommunicator(c10::intrusive_ptr<Group> group, int rank, int size, std::string backend,
                           torch::Device device)
      : group_(std::move(group)), rank_(rank), size_(size), backend_(std::move(backend)), device_(device) {}
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string backend() const override { return backend_; }

  void all_reduce_sum(torch::Tensor& tensor) override {
    run("all-reduce", tensor, [this](std::vector<at::Tensor>& tensors) { return group_->allreduce(tensors); });
  }
  void broadcast(torch::Tensor& tensor, int root) override {
    c10d::BroadcastOptions options;
    options.rootRank = root;
    run("broadcast", tensor,
        [&](std::vector<at::Tensor>& tensors) { return group_->broadcast(tensors, options); });
  }

 private:
  template <typename Collective>
  void run(const char* name, torch::Tensor& tensor, Collective collective) {
    const bool staged = tensor.device() != device_;
    std::vector<at::Tensor> tensors{staged ? tensor.to(device_).contiguous() : tensor.contiguous()};
    try {
      collective(tensors)->wait();
    } catch (const std::exception& e) {
      throw std::runtime_error(std::string(name) + " over " + std::to_string(size_) + " " + backend_ +
                               " ranks failed on rank " + std::to_string(rank_) +
                               " (another rank died, or it timed out): " + message_of(e));
    }
    if (staged || !tensors[0].is_same(tensor)) tensor.copy_(tensors[0]);
  }

  c10::intrusive_ptr<Group> group_;
  int rank_, size_;
  std::string backend_;
  torch::Device device_;
};
#endif

}  // namespace

void DistributedOptions::validate() const {
  const std::string where = "distributed options";
  require(world_size >= 1, where, "WORLD_SIZE = " + std::to_string(world_size) + ": must be >= 1");
  require(rank >= 0 && rank < world_size, where,
          "RANK = " + std::to_string(rank) + ": must be in [0, WORLD_SIZE = " + std::to_string(world_size) + ")");
  require(local_rank >= 0, where, "LOCAL_RANK = " + std::to_string(local_rank) + ": must be >= 0");
  require(master_port > 0 && master_port < 65536, where,
          "MASTER_PORT = " + std::to_string(master_port) + ": must be in [1, 65535]");
  require(!master_addr.empty(), where, "MASTER_ADDR is empty");
  require(timeout_s > 0, where, "timeout = " + format_number(timeout_s) + " s: must be > 0");
}

DistributedOptions distributed_options_from_environment() {
  DistributedOptions options;
  options.rank = integer_from_environment({"RANK", "SLURM_PROCID", "OMPI_COMM_WORLD_RANK", "PMI_RANK"},
                                          options.rank);
  options.world_size = integer_from_environment(
      {"WORLD_SIZE", "SLURM_NTASKS", "OMPI_COMM_WORLD_SIZE", "PMI_SIZE"}, options.world_size);
  options.local_rank = integer_from_environment(
      {"LOCAL_RANK", "SLURM_LOCALID", "OMPI_COMM_WORLD_LOCAL_RANK"}, options.local_rank);
  options.master_port = integer_from_environment({"MASTER_PORT"}, options.master_port);
  if (const char* addr = std::getenv("MASTER_ADDR"); addr != nullptr && *addr != '\0') {
    options.master_addr = addr;
  }
  if (const char* agent = std::getenv("TORCHELASTIC_USE_AGENT_STORE"); agent != nullptr) {
    options.agent_store = std::string(agent) == "True";
  }
  return options;
}

std::unique_ptr<Communicator> make_communicator(const DistributedOptions& options,
                                                const torch::Device& device) {
  options.validate();
  (void)device;  // only NCCL builds place the group on it
  if (options.world_size == 1) return std::make_unique<SingleProcess>();
#ifndef BOHMFLOW_HAVE_GLOO
  throw std::runtime_error(
      "WORLD_SIZE = " + std::to_string(options.world_size) +
      ": this bohmflow was built without torch.distributed (the Gloo headers, Debian's libgloo-dev, were "
      "missing at configure time)");
#else
  const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(options.timeout_s * 1000));
  const std::string where = "rendezvous at MASTER_ADDR:MASTER_PORT = " + options.master_addr + ":" +
                            std::to_string(options.master_port) + " (rank " + std::to_string(options.rank) +
                            " of " + std::to_string(options.world_size) + ")";
  c10::intrusive_ptr<c10d::Store> store;
  try {
    c10d::TCPStoreOptions store_options;
    store_options.port = static_cast<std::uint16_t>(options.master_port);
    store_options.isServer = options.rank == 0 && !options.agent_store;
    store_options.numWorkers = options.world_size;
    store_options.waitWorkers = false;
    store_options.timeout = timeout;
    store = c10::make_intrusive<c10d::PrefixStore>(
        "bohmflow", c10::make_intrusive<c10d::TCPStore>(options.master_addr, store_options));
  } catch (const std::exception& e) {
    throw std::runtime_error(where + ": the store did not come up within " + format_number(options.timeout_s) +
                             " s: " + message_of(e));
  }
  try {
#ifdef BOHMFLOW_HAVE_NCCL
    if (device.is_cuda()) {
      auto nccl_options = c10d::ProcessGroupNCCL::Options::create();
      nccl_options->timeout = timeout;
      auto group = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, options.rank, options.world_size,
                                                               nccl_options);
      return std::make_unique<ProcessGroupCommunicator<c10d::ProcessGroupNCCL>>(
          group, options.rank, options.world_size, "nccl", device);
    }
#endif
    auto gloo_options = c10d::ProcessGroupGloo::Options::create(timeout);
    // GLOO_SOCKET_IFNAME picks the network interface, as in PyTorch.
    const char* interface = std::getenv("GLOO_SOCKET_IFNAME");
    gloo_options->devices.push_back(interface != nullptr && *interface != '\0'
                                        ? c10d::ProcessGroupGloo::createDeviceForInterface(interface)
                                        : c10d::ProcessGroupGloo::createDefaultDevice());
    auto group = c10::make_intrusive<c10d::ProcessGroupGloo>(store, options.rank, options.world_size,
                                                             gloo_options);
    return std::make_unique<ProcessGroupCommunicator<c10d::ProcessGroupGloo>>(
        group, options.rank, options.world_size, "gloo", torch::Device(torch::kCPU));
  } catch (const std::exception& e) {
    throw std::runtime_error(where + ": the process group did not form within " +
                             format_number(options.timeout_s) + " s (did every rank start?): " + message_of(e));
  }
#endif
}

}  // namespace bohmflow
