#include "bohmflow/distributed.hpp"

#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <vector>

#include <nlohmann/json.hpp>

#include <torch/torch.h>

#if defined(BOHMFLOW_HAVE_GLOO) || defined(BOHMFLOW_HAVE_NCCL)
#define BOHMFLOW_HAVE_C10D 1
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif
#ifdef BOHMFLOW_HAVE_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
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

#ifdef BOHMFLOW_HAVE_C10D
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

std::vector<std::string> distributed_backends() {
  std::vector<std::string> backends;
#ifdef BOHMFLOW_HAVE_GLOO
  backends.emplace_back("gloo");
#endif
#ifdef BOHMFLOW_HAVE_NCCL
  backends.emplace_back("nccl");
#endif
  return backends;
}

std::unique_ptr<Communicator> make_communicator(const DistributedOptions& options,
                                                const torch::Device& device) {
  options.validate();
  (void)device;  // only NCCL builds place the group on it
  if (options.world_size == 1) return std::make_unique<SingleProcess>();
#ifndef BOHMFLOW_HAVE_C10D
  throw std::runtime_error(
      "WORLD_SIZE = " + std::to_string(options.world_size) +
      ": this bohmflow was built without torch.distributed (the Gloo headers, Debian's libgloo-dev, were "
      "missing at configure time)");
#else
  const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(options.timeout_s * 1000));
  const std::string where = "rendezvous at MASTER_ADDR:MASTER_PORT = " + options.master_addr + ":" +
                            std::to_string(options.master_port) + " (rank " + std::to_string(options.rank) +
                            " of " + std::to_string(options.world_size) + ")";
#ifndef BOHMFLOW_HAVE_GLOO
  if (!device.is_cuda()) {
    throw std::runtime_error("WORLD_SIZE = " + std::to_string(options.world_size) + " on device " + device.str() +
                             ": this bohmflow has NCCL only (no Gloo headers at configure time), which needs "
                             "CUDA devices");
  }
#endif
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
#ifdef BOHMFLOW_HAVE_GLOO
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
#else
    throw std::logic_error("unreachable: a CPU device without Gloo is refused above");
#endif
  } catch (const std::exception& e) {
    throw std::runtime_error(where + ": the process group did not form within " +
                             format_number(options.timeout_s) + " s (did every rank start?): " + message_of(e));
  }
#endif
}

// ---- ranks agree or stop ---------------------------------------------------

namespace {

constexpr int64_t kSettingSlots = 256;      // settings beyond the last slot share it
constexpr uint64_t kHashMask = (1u << 20) - 1;  // 20-bit hashes: squares summed over ranks stay exact
constexpr int64_t kTextLength = 240;        // bytes of rank 0's differing setting that are sent

uint64_t fnv1a(const std::string& text, uint64_t hash = 1469598103934665603ull) {
  for (const unsigned char c : text) hash = (hash ^ c) * 1099511628211ull;
  return hash;
}

void flatten(const nlohmann::json& node, const std::string& name, RankSettings& out) {
  if (node.is_object()) {
    for (const auto& [key, value] : node.items()) flatten(value, name.empty() ? key : name + "." + key, out);
  } else {
    out.emplace_back(name, node.dump());
  }
}

// The tensor of `text`'s first kTextLength bytes as doubles (collectives move
// floating tensors on every backend), and back.
torch::Tensor text_tensor(const std::string& text) {
  std::vector<double> bytes(kTextLength, 0.0);
  for (size_t k = 0; k < text.size() && k < bytes.size(); ++k) bytes[k] = static_cast<unsigned char>(text[k]);
  return torch::tensor(bytes, torch::kFloat64);
}
std::string tensor_text(const torch::Tensor& tensor) {
  const auto host = tensor.cpu().contiguous();
  std::string text;
  for (int64_t k = 0; k < host.numel(); ++k) {
    const auto c = static_cast<int>(host.data_ptr<double>()[k]);
    if (c == 0) break;
    text.push_back(static_cast<char>(c));
  }
  return text;
}

}  // namespace

RankSettings flatten_settings(const std::string& json, const std::string& prefix) {
  RankSettings out;
  flatten(nlohmann::json::parse(json), prefix, out);
  return out;
}

void require_same_settings(Communicator& communicator, const RankSettings& settings, const torch::Device& device) {
  const int ranks = communicator.size(), rank = communicator.rank();
  if (ranks == 1) return;
  std::vector<uint64_t> slots(kSettingSlots, 0);
  for (size_t k = 0; k < settings.size(); ++k) {
    auto& slot = slots[std::min<size_t>(k, kSettingSlots - 1)];
    slot = fnv1a(settings[k].first + '\0' + settings[k].second + '\0', slot + 1);
  }
  // Rows: the low hash, the high hash, and their squares.
  const auto halves = [&](int64_t j) {
    return std::pair<double, double>(static_cast<double>(slots[j] & kHashMask),
                                     static_cast<double>((slots[j] >> 20) & kHashMask));
  };
  std::vector<double> local(4 * kSettingSlots);
  for (int64_t j = 0; j < kSettingSlots; ++j) {
    const auto [low, high] = halves(j);
    local[j] = low;
    local[kSettingSlots + j] = high;
    local[2 * kSettingSlots + j] = low * low;
    local[3 * kSettingSlots + j] = high * high;
  }
  auto sums = torch::tensor(local, torch::kFloat64).to(device);
  communicator.all_reduce_sum(sums);
  const auto total = sums.cpu().contiguous();
  const double* S = total.data_ptr<double>();
  int64_t first = -1;
  for (int64_t j = 0; j < kSettingSlots && first < 0; ++j) {
    const bool low_same = S[j] * S[j] == ranks * S[2 * kSettingSlots + j];
    const bool high_same = S[kSettingSlots + j] * S[kSettingSlots + j] == ranks * S[3 * kSettingSlots + j];
    if (!low_same || !high_same) first = j;
  }
  if (first < 0) return;

  // Every rank knows the slot; rank 0 sends its setting there, and each rank
  // says whether it differs from it.
  const std::string own = static_cast<size_t>(first) < settings.size()
                              ? settings[first].first + " = " + settings[first].second
                              : "(no setting)";
  auto reference = text_tensor(own).to(device);
  communicator.broadcast(reference, 0);
  const std::string at_rank0 = tensor_text(reference);
  auto differs = torch::zeros({ranks}, torch::kFloat64);
  differs[rank] = own.substr(0, kTextLength) == at_rank0 ? 0.0 : 1.0;
  differs = differs.to(device);
  communicator.all_reduce_sum(differs);
  const auto flags = differs.cpu();
  std::string list;
  for (int r = 0; r < ranks; ++r) {
    if (flags[r].item<double>() > 0) list += (list.empty() ? "" : ", ") + std::to_string(r);
  }
  std::string message = "the ranks' settings differ, nothing was trained: rank 0 has " + at_rank0;
  if (rank != 0) message += ", this rank (" + std::to_string(rank) + ") has " + own;
  message += "; rank(s) differing from rank 0: " + (list.empty() ? std::string("(hash collision)") : list);
  throw std::runtime_error(message);
}

}  // namespace bohmflow
