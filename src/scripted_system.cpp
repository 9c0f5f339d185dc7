// TorchScript potentials and their autograd derivatives; the method stands in
// include/bohmflow/scripted_system.hpp.
#include "bohmflow/scripted_system.hpp"

#include <Eigen/Dense>
#include <torch/csrc/jit/runtime/graph_executor.h>
#include <torch/script.h>
#include <torch/torch.h>

#include <cmath>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include "internal_checks.hpp"
#include "sha256.hpp"

namespace bohmflow {

std::string read_script_file(const std::string& path, const std::string& flag) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::invalid_argument(flag + " '" + path + "': cannot be opened");
  std::string bytes{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
  if (file.bad()) throw std::invalid_argument(flag + " '" + path + "': cannot be read");
  return bytes;
}

std::string script_sha256(const std::string& script) { return detail::sha256_hex(script); }

// The module with its attributes set, one copy per device it has run on.
struct ScriptedSystem::Module {
  std::string script, sha256, source;
  int d = 0;
  ParameterMap attributes;
  torch::jit::Module cpu;  // as loaded, with the attributes set; never run itself
  mutable std::mutex mutex;
  mutable std::map<std::string, torch::jit::Module> on_device;

  // std::invalid_argument("TorchScript potential '<source>': <what>").
  [[noreturn]] void fail(const std::string& what) const {
    throw std::invalid_argument("TorchScript potential '" + source + "': " + what);
  }

  // The CPU too runs a copy, so that every device takes this path.
  const torch::jit::Module& for_device(const torch::Device& device) const {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = on_device.find(device.str());
    if (it == on_device.end()) {
      auto copy = cpu.clone();
      copy.to(device);
      it = on_device.emplace(device.str(), std::move(copy)).first;
    }
    return it->second;
  }

  // V at every point of X (…, d): (…).
  torch::Tensor values(const torch::Tensor& X) const {
    const auto flat = X.reshape({-1, d});
    // The graph executor's optimisations (fusion, autodiff subgraphs) are off:
    // the module then runs as eager operations, whose autograd is exact to
    // every order the derivatives below take.
    torch::jit::GraphOptimizerEnabledGuard eager(false);
    auto module = for_device(X.device());
    const auto out = module.forward({flat});
    if (!out.isTensor()) fail("forward(x) returned " + out.tagKind() + ", expected a tensor V of shape (M)");
    const auto V = out.toTensor();
    if (V.dim() != 1 || V.size(0) != flat.size(0)) {
      fail("forward(x) of x with shape (" + std::to_string(flat.size(0)) + ", " + std::to_string(d) +
           ") returned shape " + c10::str(V.sizes()) + ", expected (" + std::to_string(flat.size(0)) + ")");
    }
    if (V.scalar_type() != X.scalar_type()) {
      fail(std::string("forward(x) returned ") + c10::toString(V.scalar_type()) + " for " +
           c10::toString(X.scalar_type()) + " positions, expected the positions' dtype");
    }
    auto shape = X.sizes().vec();
    shape.pop_back();
    return V.reshape(shape);
  }
};

namespace {

using Module = ScriptedSystem::Module;

// The float attributes of a module (not its submodules').
ParameterMap float_attributes(const torch::jit::Module& module) {
  ParameterMap out;
  for (const auto& attribute : module.named_attributes(/*recurse=*/false)) {
    if (attribute.value.isDouble()) out[attribute.name] = attribute.value.toDouble();
  }
  return out;
}

std::string list(const ParameterMap& values) {
  std::string text;
  for (const auto& [key, value] : values) text += (text.empty() ? "" : ", ") + key;
  return text.empty() ? "none" : text;
}

// ħ, m and ψ₀ as a definition: what the FFT reference and the registry see.
class ScriptedDefinition : public SystemDefinition {
 public:
  ScriptedDefinition(std::shared_ptr<const Module> module, const FileSystemOptions& state)
      : SystemDefinition(state.hbar, state.mass, state.initial_state()), module_(std::move(module)), state_(state) {}

  std::string name() const override { return "script"; }
  // With the module's float attributes, so that a run's log lists what --param can set.
  std::string label() const override {
    std::ostringstream out;
    out << "TorchScript potential " << module_->source << " (d=" << dim();
    for (const auto& [key, value] : module_->attributes) out << ", " << key << "=" << value;
    out << ")";
    return out.str();
  }
  ParameterMap parameters() const override {
    auto values = state_.parameters();
    for (const auto& [key, value] : module_->attributes) values[key] = value;
    return values;
  }

  // The trap baseline's harmonic expansion at the initial mean μ, written as
  // ½ (x − c)ᵀ K (x − c) with K = ∇²V(μ) and c = μ − K⁻¹∇V(μ), so that the
  // trap's force equals V's to first order about μ.
  std::optional<Trap> trap() const override {
    const int d = dim();
    const auto mu = torch::tensor(initial_state().mean, torch::kFloat64).reshape({1, d});
    const auto H = hessian_of(mu);
    const Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> K(
        H.first.data_ptr<double>(), d, d);
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eigen(0.5 * (K + K.transpose()));
    if (!(eigen.eigenvalues().minCoeff() > 0)) {
      std::ostringstream out;
      out << "TorchScript potential '" << module_->source
          << "': the Hessian of V at the initial mean is not positive definite (eigenvalue "
          << eigen.eigenvalues().minCoeff()
          << "), so it is no harmonic trap: baseline 'trap' (--baseline) needs one (use 'minimum' or 'none')";
      throw std::invalid_argument(out.str());
    }
    const Eigen::Map<const Eigen::VectorXd> g(H.second.data_ptr<double>(), d);
    const Eigen::VectorXd centre =
        Eigen::Map<const Eigen::VectorXd>(initial_state().mean.data(), d) - K.ldlt().solve(g);
    Trap trap;
    trap.centre.assign(centre.data(), centre.data() + d);
    trap.stiffness.assign(H.first.data_ptr<double>(), H.first.data_ptr<double>() + d * d);
    return trap;
  }

  double potential_at(const double* x) const override {
    torch::NoGradGuard no_grad;
    const auto point = torch::from_blob(const_cast<double*>(x), {1, dim()}, torch::kFloat64).clone();
    return module_->values(point).item<double>();
  }

  // In blocks of points through the module: one call per 2^16 points.
  std::vector<double> potential_on_grid(const std::vector<std::vector<double>>& axes, int) const override {
    const int d = dim();
    detail::require(static_cast<int>(axes.size()) == d, "potential_on_grid",
                    "grid has " + std::to_string(axes.size()) + " axes but the system has d = " + std::to_string(d));
    int64_t total = 1;
    for (const auto& axis : axes) total *= static_cast<int64_t>(axis.size());
    std::vector<double> values(total);
    torch::NoGradGuard no_grad;
    constexpr int64_t kBlock = int64_t{1} << 16;
    for (int64_t first = 0; first < total; first += kBlock) {
      const int64_t count = std::min(kBlock, total - first);
      auto points = torch::empty({count, d}, torch::kFloat64);
      auto* p = points.data_ptr<double>();
      for (int64_t i = 0; i < count; ++i) {
        int64_t rest = first + i;
        for (int k = d - 1; k >= 0; --k) {
          const auto n = static_cast<int64_t>(axes[k].size());
          p[i * d + k] = axes[k][rest % n];
          rest /= n;
        }
      }
      const auto V = module_->values(points).contiguous();
      std::copy(V.data_ptr<double>(), V.data_ptr<double>() + count, values.begin() + first);
    }
    return values;
  }

  const std::shared_ptr<const Module>& module() const { return module_; }
  // ∇²V and ∇V at one point x (1, d): (d, d) and (d), float64 on the CPU.
  std::pair<torch::Tensor, torch::Tensor> hessian_of(const torch::Tensor& x) const;

 private:
  std::shared_ptr<const Module> module_;
  FileSystemOptions state_;
};

// ---- autograd through copies ----------------------------------------------------

// Whether the caller differentiates what it gets (the trainer's backward
// sweep): then every derivative keeps its graph (create_graph), otherwise
// only the inner ones do.
bool outer_graph(std::initializer_list<torch::Tensor> inputs) {
  if (!torch::GradMode::is_enabled()) return false;
  for (const auto& t : inputs) {
    if (t.requires_grad()) return true;
  }
  return false;
}

// `copies` copies of each particle's x (M, d) as a tensor (M, copies…, d)
// that requires grad: a view of x when the caller's graph runs through it,
// else a fresh leaf.
torch::Tensor copies_of(const torch::Tensor& x, std::vector<int64_t> copies, bool outer) {
  std::vector<int64_t> shape{x.size(0)};
  shape.insert(shape.end(), copies.begin(), copies.end());
  shape.push_back(x.size(1));
  auto view = x;
  for (size_t k = 0; k < copies.size(); ++k) view = view.unsqueeze(1);
  if (outer) return view.expand(shape).contiguous();
  return view.detach().expand(shape).contiguous().requires_grad_(true);
}

// ∂(Σ y)/∂X, zeros where y does not depend on X (a derivative of a
// polynomial past its degree has no graph left).
torch::Tensor grad_of(const torch::Tensor& y, const torch::Tensor& X, bool create_graph) {
  if (!y.requires_grad()) return torch::zeros_like(X);
  auto g = torch::autograd::grad({y.sum()}, {X}, {}, /*retain_graph=*/true, create_graph, /*allow_unused=*/true)[0];
  return g.defined() ? g : torch::zeros_like(X);
}

void check_positions(const torch::Tensor& x, int d, const std::string& source) {
  detail::require(x.dim() == 2 && x.size(1) == d, "TorchScript potential '" + source + "'",
                  "positions must have shape (M, " + std::to_string(d) + "), got " + c10::str(x.sizes()));
}

std::shared_ptr<const Module> load_module(const ScriptedSystemOptions& options, FileSystemOptions& state) {
  auto module = std::make_shared<Module>();
  module->script = options.script;
  module->sha256 = script_sha256(options.script);
  module->source = options.source.empty() ? "<in memory>" : options.source;
  try {
    std::istringstream stream(options.script);
    module->cpu = torch::jit::load(stream, torch::kCPU);
  } catch (const std::exception& error) {
    std::string what = error.what();
    what = what.substr(0, what.find('\n'));
    module->fail("is not a TorchScript module (write one with torch.jit.save(torch.jit.script(module), path)): " +
                 what);
  }
  if (!module->cpu.find_method("forward")) module->fail("has no forward(x) method");
  module->cpu.eval();
  module->attributes = float_attributes(module->cpu);
  const auto rest = state.assign(options.parameters, "TorchScript potential '" + module->source + "'");
  for (const auto& [key, value] : rest) {
    if (!module->attributes.count(key)) {
      module->fail("unknown parameter '" + key + "' (hbar, mass, d, mean, sigma, velocity or one of the module's "
                   "float attributes: " + list(module->attributes) + ")");
    }
    module->cpu.setattr(key, value);
    module->attributes[key] = value;
  }
  state.validate("TorchScript potential '" + module->source + "'");
  module->d = state.d;
  return module;
}

}  // namespace

std::pair<torch::Tensor, torch::Tensor> ScriptedDefinition::hessian_of(const torch::Tensor& x) const {
  torch::AutoGradMode enable(true);
  const int64_t d = dim();
  const auto X = copies_of(x, {d}, false);
  const auto G = grad_of(module_->values(X), X, true);
  const auto H = grad_of(G.diagonal(0, 1, 2), X, false);
  return {H.reshape({d, d}).detach().to(torch::kCPU, torch::kFloat64).contiguous(),
          G.select(1, 0).reshape({d}).detach().to(torch::kCPU, torch::kFloat64).contiguous()};
}

namespace {
// The definition with its state, built from the options (the module is
// loaded first: its attributes decide which parameters are known).
std::shared_ptr<const ScriptedDefinition> make_definition(const ScriptedSystemOptions& options) {
  FileSystemOptions state;
  auto module = load_module(options, state);
  return std::make_shared<ScriptedDefinition>(std::move(module), state);
}
}  // namespace

ScriptedSystem::ScriptedSystem(const ScriptedSystemOptions& options)
    : System(make_definition(options)),
      module_(static_cast<const ScriptedDefinition&>(definition()).module()) {
  // forward on two points, and V and ∇V finite at the initial mean.
  const auto& state = initial_state();
  const int64_t d = dim();
  auto x = torch::tensor(state.mean, torch::kFloat64).reshape({1, d}).repeat({2, 1});
  x[1] += torch::tensor(state.sigma, torch::kFloat64);
  torch::Tensor V, g;
  try {
    V = potential(x);
    g = gradient(x.narrow(0, 0, 1));
  } catch (const std::invalid_argument&) {
    throw;
  } catch (const std::exception& error) {
    std::string what = error.what();
    module_->fail("forward(x) failed on a (2, " + std::to_string(d) + ") float64 input: " +
                  what.substr(0, what.find('\n')));
  }
  if (!torch::isfinite(V).all().item<bool>() || !torch::isfinite(g).all().item<bool>()) {
    std::ostringstream out;
    out << "V or its gradient is not finite at the initial mean (V = " << V[0].item<double>() << ", grad V = (";
    const auto gradient = g[0].to(torch::kCPU);
    for (int64_t i = 0; i < gradient.size(0); ++i) out << (i ? ", " : "") << gradient[i].item<double>();
    out << "))";
    module_->fail(out.str());
  }
}

const std::string& ScriptedSystem::script() const { return module_->script; }
const std::string& ScriptedSystem::sha256() const { return module_->sha256; }
const std::string& ScriptedSystem::source() const { return module_->source; }
ParameterMap ScriptedSystem::attributes() const { return module_->attributes; }

std::unique_ptr<System> ScriptedSystem::copy() const {
  return std::make_unique<ScriptedSystem>(ScriptedSystemOptions{script(), source(), parameters()});
}

torch::Tensor ScriptedSystem::potential(const torch::Tensor& x) const {
  check_positions(x, dim(), source());
  return module_->values(x);
}

torch::Tensor ScriptedSystem::gradient(const torch::Tensor& x) const {
  check_positions(x, dim(), source());
  const bool outer = outer_graph({x});
  torch::AutoGradMode enable(true);
  const auto X = outer ? x : x.detach().requires_grad_(true);
  return grad_of(module_->values(X), X, outer);
}

torch::Tensor ScriptedSystem::hessian(const torch::Tensor& x) const { return potential_derivatives(x, 2).hessian; }

// With n·d copies, ∂_u V = Σ_i U[p, i, j] ∂_i V in copy (j, k), and then its
// Hessian as above: [p, j, k, l] = ∂_l∂_k∂_u V.
torch::Tensor ScriptedSystem::hessian_directional(const torch::Tensor& x, const torch::Tensor& U) const {
  check_positions(x, dim(), source());
  const bool outer = outer_graph({x, U});
  torch::AutoGradMode enable(true);
  const int64_t n = U.size(2);
  const auto X = copies_of(x, {n, dim()}, outer);                              // [p, j, k, :] = x_p
  const auto G = grad_of(module_->values(X), X, true);                         // [p, j, k, i] = ∂_i V
  const auto along = (G * U.transpose(1, 2).unsqueeze(2)).sum(-1);             // [p, j, k] = ∂_u V
  const auto W = grad_of(along, X, true);                                      // [p, j, k, l] = ∂_l∂_u V
  return grad_of(W.diagonal(0, 2, 3), X, outer);                               // [p, j, k, l] = ∂_l∂_k∂_u V
}

// Order 3 on d² copies: G[p, j, k, i] = ∂_i V; Σ G[p, j, k, j] differentiated
// gives W[p, j, k, l] = ∂_l∂_j V (the Hessian in every k); Σ W[p, j, k, k]
// differentiated gives ∂_l∂_k∂_j V. Order 2 on d copies: Σ_k ∂_k V(copy k)
// differentiated in copy k gives row k of ∇²V.
PotentialDerivatives ScriptedSystem::potential_derivatives(const torch::Tensor& x, int order) const {
  if (order < 2) return {gradient(x), {}, {}};
  check_positions(x, dim(), source());
  const bool outer = outer_graph({x});
  torch::AutoGradMode enable(true);
  const int64_t d = dim();
  const auto kept = [outer](const torch::Tensor& t) { return outer ? t : t.detach(); };
  if (order == 2) {
    const auto X = copies_of(x, {d}, outer);                   // [p, k, :] = x_p
    const auto G = grad_of(module_->values(X), X, true);        // [p, k, i] = ∂_i V
    const auto H = grad_of(G.diagonal(0, 1, 2), X, outer);      // [p, k, l] = ∂_l∂_k V
    return {kept(G.select(1, 0)), H, {}};
  }
  const auto X = copies_of(x, {d, d}, outer);                   // [p, j, k, :] = x_p
  const auto G = grad_of(module_->values(X), X, true);          // [p, j, k, i] = ∂_i V
  const auto W = grad_of(G.diagonal(0, 1, 3), X, true);         // [p, j, k, l] = ∂_l∂_j V
  const auto T = grad_of(W.diagonal(0, 2, 3), X, outer);        // [p, j, k, l] = ∂_l∂_k∂_j V
  return {kept(G.select(1, 0).select(1, 0)), kept(W.select(2, 0)), T};
}

}  // namespace bohmflow
