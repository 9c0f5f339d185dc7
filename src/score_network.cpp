#include "bohmflow/score_network.hpp"

#include <cmath>
#include <functional>
#include <stdexcept>
#include <tuple>

#include <torch/torch.h>

#include "bohmflow/potentials.hpp"
#include "jets.hpp"

namespace bohmflow {

void ScoreNetOptions::validate() const {
  if (d < 1) throw std::invalid_argument("ScoreNetOptions::d = " + std::to_string(d) + ": must be >= 1");
  if (hidden_dims.empty()) throw std::invalid_argument("ScoreNetOptions::hidden_dims: needs at least one layer");
  for (auto h : hidden_dims) {
    if (h < 1) throw std::invalid_argument("ScoreNetOptions::hidden_dims: widths must be >= 1");
  }
  if (n_freq < 0) throw std::invalid_argument("ScoreNetOptions::n_freq = " + std::to_string(n_freq) + ": must be >= 0");
  if (!(output_scale >= 0)) throw std::invalid_argument("ScoreNetOptions::output_scale must be >= 0");
  if (pair_width < 0) throw std::invalid_argument("ScoreNetOptions::pair_width must be >= 0");
  if (pair_width > 0 && (symmetry != Symmetry::kDeepSets || d < 2)) {
    throw std::invalid_argument("ScoreNetOptions::pair_width > 0 needs symmetry 'deepsets' and d >= 2");
  }
}

torch::Dtype parse_dtype(const std::string& name) {
  if (name == "float64") return torch::kFloat64;
  if (name == "float32") return torch::kFloat32;
  throw std::invalid_argument("dtype '" + name + "': must be float64 or float32");
}

std::string dtype_name(torch::Dtype dtype) {
  if (dtype == torch::kFloat64) return "float64";
  if (dtype == torch::kFloat32) return "float32";
  throw std::invalid_argument(std::string("dtype ") + c10::toString(dtype) + ": bohmflow computes in float64 or float32");
}

namespace {

// Where the fused kernel runs: float64 on the CPU.
bool fused_kernel_applies(const torch::Device& device, torch::Dtype dtype) {
  return device.is_cpu() && dtype == torch::kFloat64;
}

}  // namespace

void ComputeOptions::validate(const torch::Device& device) const {
  dtype_name(dtype);  // throws for a dtype other than float64 and float32
  if (jets == JetEngine::kFused && !fused_kernel_applies(device, dtype)) {
    throw std::invalid_argument("jets 'fused' needs dtype float64 on the CPU, not " + dtype_name(dtype) + " on " +
                                device.str() + " (choose jets 'generic' or 'auto')");
  }
}

namespace {

// The MLP's input y: x itself, or sort(x) for an exchange-symmetric φ, with
// then the rank of each coordinate in it (y_{rank_i} = x_i; undefined for x).
std::pair<torch::Tensor, torch::Tensor> network_input(const ScoreNetOptions& options, const torch::Tensor& x) {
  if (options.symmetry != Symmetry::kPermutation) return {x, torch::Tensor()};
  const auto [sorted, order] = x.sort(1);
  return {sorted, order.argsort(/*dim=*/int64_t{1})};
}

// A derivative tensor (M, d, …, d) taken in the sorted coordinates y, with
// y_{rank_i} = x_i, re-indexed to x: out[p, i, j, …] = t[p, rank_i, rank_j, …].
torch::Tensor unsort_axes(torch::Tensor t, const torch::Tensor& rank) {
  for (int64_t axis = 1; axis < t.dim(); ++axis) {
    std::vector<int64_t> shape(t.dim(), 1);
    shape[0] = rank.size(0);
    shape[axis] = rank.size(1);
    t = t.gather(axis, rank.view(shape).expand(t.sizes()));
  }
  return t;
}

}  // namespace

ScoreNetImpl::ScoreNetImpl(const ScoreNetOptions& options,
                           std::shared_ptr<const GaussianBaseline> baseline)
    : options_(options), baseline_(std::move(baseline)) {
  options_.validate();
  if (!baseline_ || baseline_->dim() != options_.d) {
    throw std::invalid_argument("ScoreNet: the baseline's dimension does not match d = " +
                                std::to_string(options_.d));
  }
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  std::vector<double> freqs;
  for (int k = 0; k < options_.n_freq; ++k) freqs.push_back(std::ldexp(1.0, k));
  frequencies_ = register_buffer("frequencies", torch::tensor(freqs, f64).reshape({options_.n_freq}));

  const bool film = options_.conditioning == Conditioning::kFilm;
  const int64_t n_time = 2 * options_.n_freq;
  const auto add_layer = [&](const std::string& prefix, const std::string& film_prefix, int64_t in, int64_t h) {
    Layer layer;
    layer.W = register_parameter(prefix + "_W", torch::zeros({in, h}, f64));
    layer.b = register_parameter(prefix + "_b", torch::zeros({h}, f64));
    if (film) {
      layer.gamma_W = register_parameter(film_prefix + "_gamma_W", torch::zeros({n_time, h}, f64));
      layer.gamma_b = register_parameter(film_prefix + "_gamma_b", torch::zeros({h}, f64));
      layer.beta_W = register_parameter(film_prefix + "_beta_W", torch::zeros({n_time, h}, f64));
      layer.beta_b = register_parameter(film_prefix + "_beta_b", torch::zeros({h}, f64));
    }
    return layer;
  };
  // The "deepsets" encoders read one coordinate, or one difference x_i − x_j, at a time.
  const bool deepsets = options_.symmetry == Symmetry::kDeepSets;
  const int64_t time_inputs = film ? 0 : n_time;
  int64_t in = (deepsets ? 1 : options_.d) + time_inputs;
  for (size_t i = 0; i < options_.hidden_dims.size(); ++i) {
    const int64_t h = options_.hidden_dims[i];
    layers_.push_back(add_layer("spatial_" + std::to_string(i), "film_" + std::to_string(i), in, h));
    in = h;
    if (i == 0 && options_.pair_width > 0) {
      pair_ = add_layer("pair", "pair_film", 1 + time_inputs, options_.pair_width);
      in += options_.pair_width;
    }
  }
  output_W_ = register_parameter("output_W", torch::zeros({in, 1}, f64));
  output_b_ = register_parameter("output_b", torch::zeros({1}, f64));
  reset_parameters();
}

ScoreNetImpl::~ScoreNetImpl() = default;

// The reference's initialisation: spatial N(0,1)·sqrt(1/fan_in), FiLM
// N(0,1)·0.01, output N(0,1)·output_scale, biases 0.
void ScoreNetImpl::reset_parameters() {
  torch::NoGradGuard no_grad;
  std::vector<Layer*> all;
  for (auto& layer : layers_) all.push_back(&layer);
  if (pair_.W.defined()) all.push_back(&pair_);
  for (auto* layer_ptr : all) {
    auto& layer = *layer_ptr;
    layer.W.normal_(0.0, std::sqrt(1.0 / static_cast<double>(layer.W.size(0))));
    layer.b.zero_();
    if (layer.gamma_W.defined()) {
      layer.gamma_W.normal_(0.0, 0.01);
      layer.gamma_b.zero_();
      layer.beta_W.normal_(0.0, 0.01);
      layer.beta_b.zero_();
    }
  }
  output_W_.normal_(0.0, options_.output_scale);
  output_b_.zero_();
}

std::vector<std::pair<std::string, torch::Tensor>> ScoreNetImpl::named_parameters_in_order() const {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& item : named_parameters(/*recurse=*/false)) out.emplace_back(item.key(), item.value());
  return out;
}

torch::Tensor ScoreNetImpl::time_embedding(double t) const {
  const auto phases = frequencies_.to(output_W_.scalar_type()) * t;
  return torch::cat({torch::sin(phases), torch::cos(phases)});
}

std::pair<torch::Tensor, torch::Tensor> ScoreNetImpl::modulation(const Layer& layer,
                                                                 const torch::Tensor& e) const {
  if (!layer.gamma_W.defined()) return {torch::Tensor(), torch::Tensor()};
  const auto gamma = torch::matmul(e, layer.gamma_W) + layer.gamma_b;  // (h)
  const auto beta = torch::matmul(e, layer.beta_W) + layer.beta_b;
  return {1 + gamma, beta};
}

std::pair<torch::Tensor, torch::Tensor> ScoreNetImpl::first_preactivation(
    const torch::Tensor& x, const torch::Tensor& e) const {
  const auto& W = layers_[0].W;
  const auto W_x = W.narrow(0, 0, options_.d);
  auto z = torch::matmul(x, W_x) + layers_[0].b;
  if (W.size(0) > options_.d) z = z + torch::matmul(e, W.narrow(0, options_.d, W.size(0) - options_.d));
  return {z, W_x};
}

namespace {

// An encoder unit k on the scalar inputs u (any shape): z = u W_0k (+ e W_e,k) + b_k: (…u, h).
torch::Tensor encoder_preactivation(const torch::Tensor& u, const torch::Tensor& W, const torch::Tensor& b,
                                    const torch::Tensor& e) {
  auto z = u.unsqueeze(-1) * W[0] + b;
  if (W.size(0) > 1) z = z + torch::matmul(e, W.narrow(0, 1, W.size(0) - 1));
  return z;
}

}  // namespace

// h = ( (1/d) Σ_j enc(x_j), (1/(d(d−1))) Σ_{i≠j} enc₂(x_i − x_j) )
ScoreNetImpl::Encoding ScoreNetImpl::encode(const torch::Tensor& x, const torch::Tensor& e) const {
  Encoding out;
  const int64_t d = options_.d;
  const auto activation = [&](const Layer& layer, const torch::Tensor& z, torch::Tensor& scale) {
    auto a = torch::softplus(z);
    const auto [film_scale, shift] = modulation(layer, e);
    scale = film_scale;
    return scale.defined() ? scale * a + shift : a;
  };
  out.w = layers_[0].W[0];
  out.z = encoder_preactivation(x, layers_[0].W, layers_[0].b, e);  // (M, d, h₀)
  out.h = activation(layers_[0], out.z, out.scale).mean(1);
  if (!pair_.W.defined()) return out;
  out.w_pair = pair_.W[0];
  out.z_pair = encoder_preactivation(x.unsqueeze(2) - x.unsqueeze(1), pair_.W, pair_.b, e);  // (M, d, d, h₂)
  torch::Tensor pair_scale;
  const auto off_diagonal = (1 - torch::eye(d, x.options())).unsqueeze(-1);
  const auto pairs = (activation(pair_, out.z_pair, pair_scale) * off_diagonal).sum({1, 2}) / (d * (d - 1));
  out.h = torch::cat({out.h, pairs}, -1);
  if (out.scale.defined()) out.scale = torch::cat({out.scale, pair_scale});
  return out;
}

torch::Tensor ScoreNetImpl::potential(const torch::Tensor& x, double t) const {
  const auto e = time_embedding(t);
  const auto y = network_input(options_, x).first;
  const bool deepsets = options_.symmetry == Symmetry::kDeepSets;
  torch::Tensor h = deepsets ? encode(y, e).h : torch::Tensor();
  for (size_t i = deepsets ? 1 : 0; i < layers_.size(); ++i) {
    const auto z = i == 0 ? first_preactivation(y, e).first : torch::matmul(h, layers_[i].W) + layers_[i].b;
    h = torch::softplus(z);
    const auto [scale, shift] = modulation(layers_[i], e);
    if (scale.defined()) h = scale * h + shift;
  }
  return (torch::matmul(h, output_W_) + output_b_).squeeze(-1);
}

torch::Tensor ScoreNetImpl::score(const torch::Tensor& x, double t) const {
  return derivatives(x, t, ScoreOrder::kScore).score;
}

const detail::JetLayout& ScoreNetImpl::layout(ScoreOrder order) const {
  const size_t slot = static_cast<size_t>(order);
  if (layouts_.size() <= slot) layouts_.resize(slot + 1);
  if (!layouts_[slot]) {
    layouts_[slot] = std::make_unique<detail::JetLayout>(
        options_.d, static_cast<detail::JetLevel>(static_cast<int>(order)));
  }
  return *layouts_[slot];
}

namespace {

// The kernel `engine` picks for parameters like `W`.
detail::JetKernel jet_kernel(JetEngine engine, const torch::Tensor& W) {
  const bool fusable = fused_kernel_applies(W.device(), W.scalar_type());
  if (engine == JetEngine::kFused && !fusable) {
    throw std::invalid_argument("jet engine 'fused' needs float64 parameters on the CPU; this network is " +
                                std::string(c10::toString(W.scalar_type())) + " on " + W.device().str() +
                                " (use 'generic' or 'auto')");
  }
  return engine == JetEngine::kGeneric || !fusable ? detail::JetKernel::kGeneric : detail::JetKernel::kFused;
}

// s = s_b + ∇φ and the derivatives `order` asks for, from φ's streams Y
// (S, M); `in_x` maps a dense tensor from the MLP's input back to x.
ScoreDerivatives score_from_streams(const detail::JetLayout& jets, const torch::Tensor& Y,
                                    const GaussianBaseline& baseline, const torch::Tensor& x, double t,
                                    ScoreOrder order,
                                    const std::function<torch::Tensor(const torch::Tensor&)>& in_x) {
  ScoreDerivatives out;
  out.score = baseline.score(x, t) + in_x(jets.gradient(Y));
  if (order == ScoreOrder::kScore) return out;

  const auto B = baseline.precision(t, x.options());
  out.jacobian = in_x(jets.hessian(Y)) - B;
  if (order == ScoreOrder::kForce) {
    out.grad_lap = in_x(jets.laplacian_derivatives(Y));
    return out;
  }

  out.third = in_x(jets.third(Y));
  out.grad_lap = out.third.diagonal(0, 2, 3).sum(-1);
  const auto fourth = in_x(jets.fourth(Y));
  out.hess_lap = fourth.diagonal(0, 3, 4).sum(-1);
  out.third_s = torch::einsum("pi,pijkl->pjkl", {out.score, fourth});
  if (order == ScoreOrder::kJacobian) return out;

  out.grad3_lap = in_x(jets.laplacian_derivatives(Y));
  return out;
}

}  // namespace

ScoreDerivatives ScoreNetImpl::derivatives(const torch::Tensor& x, double t, ScoreOrder order) const {
  if (x.dim() != 2 || x.size(1) != options_.d) {
    throw std::invalid_argument("ScoreNet: positions must have shape (M, " +
                                std::to_string(options_.d) + ")");
  }
  const auto& jets = layout(order);
  const auto kernel = jet_kernel(jet_engine_, output_W_);
  const auto e = time_embedding(t);
  // The jets are taken in the MLP's input y; with exchange symmetry they are
  // re-indexed from y = sort(x) back to x before the baseline joins them.
  const auto input = network_input(options_, x);
  const auto& y = input.first;
  const auto& rank = input.second;
  const auto in_x = [&](const torch::Tensor& t) { return rank.defined() ? unsort_axes(t, rank) : t; };

  // Hidden layers: the value h and the derivative streams X of every unit.
  // X holds the streams of softplus(z) before FiLM's scale (1+γ), which is
  // folded into the next weights instead: (X ⊙ s) W = X (diag(s) W), an
  // (H, H') product in place of an (S, M, H) one (and of its backward).
  torch::Tensor h, X, scale;
  const auto scaled = [&](const torch::Tensor& W) {
    return scale.defined() ? scale.unsqueeze(-1) * W : W;
  };
  // "deepsets": the encoders' streams are never formed for all their d·h₀
  // and d(d−1)·h₂ units (each depends on one coordinate or one difference);
  // the pooled layers hand the next layer the streams of its input directly.
  const bool deepsets = options_.symmetry == Symmetry::kDeepSets;
  Encoding encoding;
  if (deepsets) {
    encoding = encode(y, e);
    h = encoding.h;
    scale = encoding.scale;
  }
  const auto next_input = [&](const torch::Tensor& W) {  // the streams of h W for the next layer
    if (X.defined()) return torch::matmul(X, scaled(W));
    const int64_t d = options_.d, h0 = layers_[0].b.size(0);
    const auto W_scaled = scaled(W);
    auto streams = jets.pooled_layer(encoding.z, encoding.w, W_scaled.narrow(0, 0, h0) / d);
    if (encoding.z_pair.defined()) {
      streams = streams + jets.pooled_pair_layer(encoding.z_pair, encoding.w_pair,
                                                 W_scaled.narrow(0, h0, W.size(0) - h0) / (d * (d - 1)));
    }
    return streams;
  };
  for (size_t i = deepsets ? 1 : 0; i < layers_.size(); ++i) {
    const auto& layer = layers_[i];
    torch::Tensor z;
    if (i == 0) {
      const auto [z_first, W_x] = first_preactivation(y, e);
      z = z_first;
      X = jets.first_layer(z, W_x);
    } else {
      z = torch::matmul(h, layer.W) + layer.b;
      X = jets.softplus_layer(z, next_input(layer.W), kernel);
    }
    h = torch::softplus(z);
    torch::Tensor shift;
    std::tie(scale, shift) = modulation(layer, e);
    if (scale.defined()) h = scale * h + shift;
  }
  const auto Y = next_input(output_W_).squeeze(-1);  // φ's streams: (S, M)
  return score_from_streams(jets, Y, *baseline_, x, t, order, in_x);
}

}  // namespace bohmflow
