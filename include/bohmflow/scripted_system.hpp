// Systems written in Python: a TorchScript module whose forward(x) maps
// positions x, a float64 tensor (M, d), to V (M), as torch.jit.script and
// torch.jit.save write it (scripts/systems/*.py; docs/systems.md):
//
//   class HenonHeiles(torch.nn.Module):
//       def __init__(self, lam: float = 0.111803):
//           super().__init__()
//           self.lam = lam
//       def forward(self, q):
//           cubic = q[:, :-1] ** 2 * q[:, 1:] - q[:, 1:] ** 3 / 3
//           return 0.5 * (q ** 2).sum(-1) + self.lam * cubic.sum(-1)
//
// ∇V, ∇²V and ∂_u∇²V come from autograd, batched over particles and
// directions: the module is evaluated once on copies of every point (d
// copies for ∇²V, n·d for n directions) and differentiated through them, so
// one backward pass gives a whole Hessian. ħ, m and ψ₀ are the
// FileSystemOptions parameters (system.hpp); the module's float attributes
// (self.lam above) are parameters too and can be set the same way.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "bohmflow/potentials.hpp"

namespace bohmflow {

struct ScriptedSystemOptions {
  std::string script;       // the module's bytes, as torch.jit.save writes them
  std::string source;       // where they came from (a file name), for errors and labels
  ParameterMap parameters;  // FileSystemOptions' keys and the module's float attributes
};

// The bytes of a TorchScript file; std::invalid_argument naming `flag` and
// the path when it is missing or unreadable.
std::string read_script_file(const std::string& path, const std::string& flag = "--potential-file");
// SHA-256 of a script's bytes, 64 hexadecimal digits: what checkpoints store.
std::string script_sha256(const std::string& script);

class ScriptedSystem : public System {
 public:
  // Loads and checks the module before any work: it must be TorchScript, its
  // forward must map a (2, d) float64 input to a finite float64 (2), and ∇V
  // must be finite at the initial mean; the parameters must be known ones.
  // Errors (std::invalid_argument) name the source and what was expected.
  explicit ScriptedSystem(const ScriptedSystemOptions& options);

  const std::string& script() const;  // the module's bytes
  const std::string& sha256() const;  // script_sha256(script())
  const std::string& source() const;
  // The module's float attributes and their values (settable parameters).
  ParameterMap attributes() const;
  std::unique_ptr<System> copy() const override;

  torch::Tensor potential(const torch::Tensor& x) const override;
  torch::Tensor gradient(const torch::Tensor& x) const override;
  torch::Tensor hessian(const torch::Tensor& x) const override;
  torch::Tensor hessian_directional(const torch::Tensor& x, const torch::Tensor& U) const override;
  // One chain on d² copies of x for order 3 (d for order 2), instead of three.
  PotentialDerivatives potential_derivatives(const torch::Tensor& x, int order) const override;

  struct Module;  // the loaded module, one copy per device (scripted_system.cpp)

 private:
  std::shared_ptr<const Module> module_;
};

}  // namespace bohmflow
