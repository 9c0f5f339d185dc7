// Data parallelism over torch.distributed's c10d process groups.
//
// Processes are launched the way PyTorch jobs are: torchrun, Slurm or MPI set
// RANK / WORLD_SIZE / LOCAL_RANK / MASTER_ADDR / MASTER_PORT (or their
// SLURM_* / OMPI_COMM_WORLD_* counterparts), the processes meet at a TCPStore
// on MASTER_ADDR:MASTER_PORT, and talk through ProcessGroupNCCL on CUDA
// devices or ProcessGroupGloo on CPUs. A single process (no WORLD_SIZE, or 1)
// needs none of it. Every collective and the rendezvous itself give up after
// `timeout_s`, so a rank that dies or never arrives ends the others with an
// error instead of a hang.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

namespace bohmflow {

struct DistributedOptions {
  int rank = 0;                           // RANK: this process, 0 … world_size−1
  int world_size = 1;                     // WORLD_SIZE: number of processes
  int local_rank = 0;                     // LOCAL_RANK: process on this node; picks cuda:<local_rank>
  std::string master_addr = "127.0.0.1";  // MASTER_ADDR: host of the rendezvous store
  int master_port = 29500;                // MASTER_PORT: its port (torchrun's default)
  double timeout_s = 300;                 // rendezvous and collective timeout, seconds
  // torchrun ≥ 1.9 hosts the store itself (TORCHELASTIC_USE_AGENT_STORE=True):
  // then rank 0 connects to it instead of serving it.
  bool agent_store = false;
  void validate() const;
};

// The options from the environment: RANK (or SLURM_PROCID, OMPI_COMM_WORLD_RANK,
// PMI_RANK), WORLD_SIZE (or SLURM_NTASKS, OMPI_COMM_WORLD_SIZE, PMI_SIZE),
// LOCAL_RANK (or SLURM_LOCALID, OMPI_COMM_WORLD_LOCAL_RANK), MASTER_ADDR,
// MASTER_PORT, TORCHELASTIC_USE_AGENT_STORE. Unset variables keep the
// defaults; malformed ones throw, naming the variable.
DistributedOptions distributed_options_from_environment();

// The collectives the trainer needs; tensors live on the training device.
class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string backend() const = 0;  // "none", "gloo" or "nccl"
  // In place: the element-wise sum over all ranks.
  virtual void all_reduce_sum(torch::Tensor& tensor) = 0;
  // In place: every rank receives `root`'s tensor.
  virtual void broadcast(torch::Tensor& tensor, int root) = 0;
};

// The process groups this bohmflow was built with: "gloo" when the Gloo
// headers were found (Debian's libgloo-dev; PyTorch's wheels do not ship
// them), "nccl" for CUDA builds of LibTorch. Empty: a single process only.
std::vector<std::string> distributed_backends();

// A process group for `options` (NCCL for a CUDA device when bohmflow was
// built with it, Gloo otherwise), or the trivial communicator of a single
// process. Throws std::runtime_error naming MASTER_ADDR:MASTER_PORT when the
// rendezvous does not complete within the timeout.
std::unique_ptr<Communicator> make_communicator(const DistributedOptions& options,
                                                const torch::Device& device);

// A run's settings that every rank must share, as (name, value) pairs in a
// fixed order: the system and its parameters, the network, the training
// options, the data-parallel layout, the resumed checkpoint's content hash.
using RankSettings = std::vector<std::pair<std::string, std::string>>;

// The leaves of a JSON object as ("a.b", value) pairs: "network.d" → "4".
RankSettings flatten_settings(const std::string& json, const std::string& prefix = "");

// Stops every rank before any work when their `settings` differ: throws
// std::runtime_error on each naming the first differing setting, rank 0's
// value, this rank's and the ranks that differ from rank 0. Each setting is
// folded into two 20-bit hashes, whose sums and sums of squares over the
// ranks agree (Σh)² = n·Σh² only when every rank holds the same (exact in
// float64 up to 8192 ranks); two collectives when they agree, four when not.
// A single process returns at once.
void require_same_settings(Communicator& communicator, const RankSettings& settings, const torch::Device& device);

}  // namespace bohmflow
