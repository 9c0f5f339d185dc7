#include "device_constants.hpp"

#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include <torch/torch.h>

namespace bohmflow::detail {
namespace {

using Key = std::tuple<std::string, int, std::vector<int64_t>, std::vector<double>>;

// Every distinct constant is kept; a run needs a few per time step (the
// baseline's), so the bound only guards against unbounded growth.
constexpr size_t kMaxEntries = 1 << 16;

}  // namespace

torch::Tensor device_constant(const std::vector<double>& values, at::IntArrayRef shape,
                              const torch::TensorOptions& options) {
  const auto host = [&] {
    return torch::from_blob(const_cast<double*>(values.data()), shape, torch::kFloat64).clone();
  };
  if (options.device().is_cpu()) return host().to(options.dtype());
  static std::mutex mutex;
  static std::map<Key, torch::Tensor> cache;
  Key key{options.device().str(), static_cast<int>(c10::typeMetaToScalarType(options.dtype())),
          shape.vec(), values};
  std::lock_guard<std::mutex> lock(mutex);
  const auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  if (cache.size() >= kMaxEntries) cache.clear();
  auto tensor = host().to(options.device(), c10::typeMetaToScalarType(options.dtype()));
  cache.emplace(std::move(key), tensor);
  return tensor;
}

}  // namespace bohmflow::detail
