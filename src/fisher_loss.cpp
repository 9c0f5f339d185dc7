#include "bohmflow/fisher_loss.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include <torch/torch.h>

#include "bohmflow/potentials.hpp"

namespace bohmflow {
namespace {

// |s_θ − y|² at one step: (M).
torch::Tensor squared_error(const System& system, const LeapfrogStep& step, const torch::Tensor& x0,
                            double target_clip) {
  const auto& F = step.at.F;
  const int64_t d = F.size(-1);
  const auto grad_log_det = torch::einsum("plk,pmkl->pm", {torch::inverse(F), step.at.dF});
  const auto rhs = system.initial_score(x0) - grad_log_det;
  const auto F_reg = F + 1e-8 * torch::eye(d, F.options());
  const auto target = torch::linalg_solve(F_reg.transpose(1, 2), rhs.unsqueeze(-1)).squeeze(-1)
                          .clamp(-target_clip, target_clip);
  return (step.force.score - target).square().sum(-1);
}

std::vector<torch::Tensor> state_tensors(const LeapfrogState& s) {
  return {s.x, s.v, s.F, s.G, s.dF, s.dG};
}

LeapfrogState leaf_copy(const LeapfrogState& s) {
  const auto leaf = [](const torch::Tensor& t) { return t.detach().requires_grad_(true); };
  return {leaf(s.x), leaf(s.v), leaf(s.F), leaf(s.G), leaf(s.dF), leaf(s.dG)};
}

}  // namespace

void FisherLossOptions::validate() const {
  if (!(caustic_threshold >= 0)) {
    throw std::invalid_argument("FisherLossOptions::caustic_threshold must be >= 0");
  }
  if (!(target_clip > 0)) throw std::invalid_argument("FisherLossOptions::target_clip must be > 0");
  if (chunk_size < 0 && chunk_size != kAutoChunk) {
    throw std::invalid_argument("FisherLossOptions::chunk_size must be >= 0 or kAutoChunk");
  }
}

torch::Tensor caustic_measure(const torch::Tensor& F, CausticMeasure measure) {
  if (measure == CausticMeasure::kSingular) return std::get<0>(torch::linalg_svdvals(F).min(-1));
  return torch::linalg_det(F).abs();
}

namespace {

// Which steps 0…n enter L (all when `selected_steps` is empty).
std::vector<bool> step_mask(int64_t n, const std::vector<int64_t>& selected_steps) {
  std::vector<bool> selected(n + 1, selected_steps.empty());
  for (auto step : selected_steps) {
    if (step < 0 || step > n) {
      throw std::invalid_argument("fisher_loss: selected step " + std::to_string(step) +
                                  " is outside [0, " + std::to_string(n) + "]");
    }
    selected[step] = true;
  }
  return selected;
}

// One chunk's trajectories and what the loss needs of them.
struct Sweep {
  const System& system;
  const ScoreNetImpl& network;
  const torch::Tensor& x0;
  const TrajectoryOptions& trajectory;
  const std::vector<bool>& selected;
  const FisherLossOptions& options;
};

struct ForwardResult {
  std::vector<LeapfrogState> states;  // every pre-kick state, for the backward sweep
  torch::Tensor min_det;              // min over selected steps of |det F|, per particle
  torch::Tensor keep;                 // 1 where the caustic measure stays above the threshold
  torch::Tensor squared_sum;          // Σ over selected steps of |s_θ − y|² (without gradient only)
};

// Forward without a graph: the caustic mask and, without gradient, the loss.
ForwardResult forward_sweep(const Sweep& sweep, bool keep_states) {
  const auto& x0 = sweep.x0;
  const int64_t n = sweep.trajectory.n_steps();
  const double dt = sweep.trajectory.dt;
  ForwardResult out;
  out.min_det = torch::full({x0.size(0)}, std::numeric_limits<double>::infinity(), x0.options());
  auto min_fold = out.min_det.clone();
  out.squared_sum = torch::zeros({x0.size(0)}, x0.options());
  torch::NoGradGuard no_grad;
  auto state = initial_state(sweep.system, x0, ScoreOrder::kTangent);
  for (int64_t step = 0; step <= n; ++step) {
    if (keep_states) out.states.push_back(state);
    auto result_step = leapfrog_step(sweep.system, sweep.network, state, step * dt, dt, step == 0, step == n,
                                     ScoreOrder::kTangent);
    if (sweep.selected[step]) {
      out.min_det = torch::minimum(out.min_det, torch::linalg_det(result_step.at.F).abs());
      min_fold = torch::minimum(min_fold, caustic_measure(result_step.at.F, sweep.options.caustic_measure));
      if (!keep_states) {
        out.squared_sum += squared_error(sweep.system, result_step, x0, sweep.options.target_clip);
      }
    }
    state = std::move(result_step.next);
  }
  out.keep = (min_fold >= sweep.options.caustic_threshold).to(x0.scalar_type());
  return out;
}

// p.grad += g for every parameter that `g` reaches.
void accumulate_gradients(std::vector<torch::Tensor>& parameters, const std::vector<torch::Tensor>& grads) {
  for (size_t k = 0; k < parameters.size(); ++k) {
    const auto& g = grads[k];
    if (!g.defined()) continue;
    auto& accumulated = parameters[k].mutable_grad();
    if (accumulated.defined()) accumulated = accumulated + g;
    else accumulated = g.clone();
  }
}

// Backward with per-step recomputation: from step n down, each step is rerun
// from its stored state with a graph, and the adjoint of the next state plus
// that step's loss flow back into the parameters. Returns the chunk's loss.
torch::Tensor backward_sweep(const Sweep& sweep, std::vector<LeapfrogState>& states, const torch::Tensor& weight,
                             std::vector<torch::Tensor>& parameters) {
  const int64_t n = sweep.trajectory.n_steps();
  const double dt = sweep.trajectory.dt;
  auto loss_sum = torch::zeros({}, sweep.x0.options());
  std::vector<torch::Tensor> adjoint;  // of the next state, undefined at the end
  for (int64_t step = n; step >= 0; --step) {
    const auto leaf = leaf_copy(states[step]);
    states[step] = LeapfrogState{};  // free as we go
    auto result_step = leapfrog_step(sweep.system, sweep.network, leaf, step * dt, dt, step == 0, step == n,
                                     ScoreOrder::kTangent);
    std::vector<torch::Tensor> outputs, grad_outputs;
    if (sweep.selected[step]) {
      const auto loss =
          (weight * squared_error(sweep.system, result_step, sweep.x0, sweep.options.target_clip)).sum();
      loss_sum = loss_sum + loss.detach();
      outputs.push_back(loss);
      grad_outputs.push_back(torch::ones_like(loss));
    }
    if (step < n) {
      const auto next = state_tensors(result_step.next);
      for (size_t k = 0; k < next.size(); ++k) {
        outputs.push_back(next[k]);
        grad_outputs.push_back(adjoint[k]);
      }
    }
    const auto shapes = state_tensors(leaf);
    if (outputs.empty()) {  // last step not selected: nothing flows back yet
      adjoint.clear();
      for (const auto& t : shapes) adjoint.push_back(torch::zeros_like(t));
      continue;
    }
    auto inputs = shapes;
    inputs.insert(inputs.end(), parameters.begin(), parameters.end());
    const auto grads = torch::autograd::grad(outputs, inputs, grad_outputs,
                                             /*retain_graph=*/false, /*create_graph=*/false,
                                             /*allow_unused=*/true);
    const auto n_state = static_cast<std::ptrdiff_t>(shapes.size());
    accumulate_gradients(parameters, {grads.begin() + n_state, grads.end()});
    // Undefined adjoints (no dependence) become zeros for the next sweep.
    adjoint.assign(grads.begin(), grads.begin() + n_state);
    for (size_t k = 0; k < adjoint.size(); ++k) {
      if (!adjoint[k].defined()) adjoint[k] = torch::zeros_like(shapes[k]);
    }
  }
  return loss_sum;
}

}  // namespace

FisherLossResult fisher_loss(const System& system, const ScoreNetImpl& network,
                             const torch::Tensor& x0_all, const TrajectoryOptions& trajectory,
                             const std::vector<int64_t>& selected_steps,
                             const FisherLossOptions& options, bool accumulate_gradient) {
  trajectory.validate();
  options.validate();
  const auto selected = step_mask(trajectory.n_steps(), selected_steps);
  const double n_selected = static_cast<double>(std::count(selected.begin(), selected.end(), true));
  const int64_t M_total = x0_all.size(0);
  const int64_t chunk = loss_chunk(M_total, network.options(), trajectory, options, x0_all.device());
  std::vector<torch::Tensor> parameters;
  for (const auto& p : network.parameters()) parameters.push_back(p);

  // Totals stay on the device until the end: one host read per call, not per step.
  const auto scalar = [&](double value) { return torch::full({}, value, x0_all.options()); };
  auto loss_sum = scalar(0), min_abs_det = scalar(std::numeric_limits<double>::infinity()), kept = scalar(0);
  for (int64_t start = 0; start < M_total; start += chunk) {
    const auto x0 = x0_all.narrow(0, start, std::min(chunk, M_total - start));
    const Sweep sweep{system, network, x0, trajectory, selected, options};
    auto forward = forward_sweep(sweep, accumulate_gradient);
    min_abs_det = torch::minimum(min_abs_det, forward.min_det.min());
    kept = kept + forward.keep.sum();
    // Weight of a step's squared error in L.
    const auto weight = forward.keep / (n_selected * static_cast<double>(M_total));
    loss_sum = loss_sum + (accumulate_gradient ? backward_sweep(sweep, forward.states, weight, parameters)
                                               : (weight * forward.squared_sum).sum());
  }
  FisherLossResult result;
  result.loss = loss_sum.item<double>();
  result.min_abs_det_F = min_abs_det.item<double>();
  result.masked_fraction = 1.0 - kept.item<double>() / static_cast<double>(M_total);
  return result;
}

GradientSpread gradient_spread(const System& system, const ScoreNetImpl& network,
                               const TrajectoryOptions& trajectory, const FisherLossOptions& options,
                               const SamplingOptions& sampling, int repeats) {
  if (repeats < 2) {
    throw std::invalid_argument("gradient_spread: repeats = " + std::to_string(repeats) + ": must be >= 2");
  }
  const auto parameters = network.parameters();
  const auto zero_gradients = [&] {
    for (const auto& p : parameters) {
      if (p.grad().defined()) p.grad().zero_();
    }
  };
  std::vector<double> losses;
  std::vector<torch::Tensor> gradients;
  for (int r = 0; r < repeats; ++r) {
    SamplingOptions batch = sampling;
    batch.seed = sampling.seed + static_cast<uint64_t>(r);
    const auto x0 = initial_positions(system, batch).x0.to(parameters.front().options());
    zero_gradients();
    losses.push_back(fisher_loss(system, network, x0, trajectory, {}, options, true).loss);
    std::vector<torch::Tensor> flat;
    for (const auto& p : parameters) {
      flat.push_back(p.grad().defined() ? p.grad().reshape({-1}).to(torch::kCPU, torch::kFloat64)
                                        : torch::zeros({p.numel()}, torch::kFloat64));
    }
    gradients.push_back(torch::cat(flat));
  }
  zero_gradients();
  const auto g = torch::stack(gradients);
  const auto mean = g.mean(0);
  const auto loss = torch::tensor(losses, torch::kFloat64);
  GradientSpread out;
  out.loss_mean = loss.mean().item<double>();
  out.loss_std = loss.std().item<double>();
  out.mean_gradient_norm_sq = mean.square().sum().item<double>();
  out.gradient_variance = (g - mean).square().sum(1).mean().item<double>();
  return out;
}

int64_t loss_chunk(int64_t M, const ScoreNetOptions& network, const TrajectoryOptions& trajectory,
                   const FisherLossOptions& options, const torch::Device& device) {
  if (options.chunk_size > 0) return std::min(options.chunk_size, M);
  if (options.chunk_size == 0 || M <= kCpuChunk) return M;
  if (device.is_cpu()) return kCpuChunk;
  const auto bytes = [&](int64_t chunk) {
    FisherLossOptions sized = options;
    sized.chunk_size = chunk;
    return fisher_loss_bytes(chunk, network, trajectory, sized);
  };
  return largest_fitting_chunk(M, kCpuChunk, bytes, device);
}

int64_t largest_fitting_chunk(int64_t M, int64_t floor, const std::function<double(int64_t)>& bytes,
                              const torch::Device& device) {
  for (int64_t chunk = M; chunk > floor; chunk = (chunk + 1) / 2) {
    const double probe = 2.0 * bytes(chunk);
    if (!(probe < 9e18)) continue;
    try {
      torch::empty({static_cast<int64_t>(probe)}, torch::TensorOptions().dtype(torch::kUInt8).device(device));
      return chunk;
    } catch (const c10::Error&) {
      // out of memory: try half
    }
  }
  return std::min(M, floor);
}

double fisher_loss_bytes(int64_t M, const ScoreNetOptions& network, const TrajectoryOptions& trajectory,
                         const FisherLossOptions& options) {
  // One step's graph keeps about kGraphCopies values per particle, hidden
  // unit and jet component (value, d, d², d³ derivatives).
  constexpr double kGraphCopies = 10.0;
  const double d = static_cast<double>(network.d);
  const int64_t sweep = options.chunk_size == kAutoChunk ? kCpuChunk : options.chunk_size;
  const double chunk = static_cast<double>(sweep > 0 ? std::min(sweep, M) : M);
  const double steps = static_cast<double>(trajectory.n_steps() + 1);
  double units = 0;
  for (const auto width : network.hidden_dims) units += static_cast<double>(width);
  const double jets = 1.0 + d + d * d + d * d * d;
  const double states = steps * chunk * 2.0 * (d + d * d + d * d * d);
  // The weights between layers, five times: parameters, gradient, Adam's
  // two moments and the all-reduced copy.
  double weights = 0, previous = d;
  for (const auto width : network.hidden_dims) {
    weights += previous * static_cast<double>(width);
    previous = static_cast<double>(width);
  }
  return 8.0 * (states + kGraphCopies * chunk * units * jets + 4.0 * static_cast<double>(M) * d + 5.0 * weights);
}

}  // namespace bohmflow
