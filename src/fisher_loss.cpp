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
  if (caustic_measure != "det" && caustic_measure != "singular") {
    throw std::invalid_argument("FisherLossOptions::caustic_measure '" + caustic_measure +
                                "': must be det or singular");
  }
  if (!(target_clip > 0)) throw std::invalid_argument("FisherLossOptions::target_clip must be > 0");
  if (chunk_size < 0) throw std::invalid_argument("FisherLossOptions::chunk_size must be >= 0");
}

torch::Tensor caustic_measure(const torch::Tensor& F, const std::string& measure) {
  if (measure == "det") return torch::linalg_det(F).abs();
  if (measure == "singular") return std::get<0>(torch::linalg_svdvals(F).min(-1));
  throw std::invalid_argument("caustic_measure '" + measure + "': must be det or singular");
}

FisherLossResult fisher_loss(const System& system, const ScoreNetImpl& network,
                             const torch::Tensor& x0_all, const TrajectoryOptions& trajectory,
                             const std::vector<int64_t>& selected_steps,
                             const FisherLossOptions& options, bool accumulate_gradient) {
  trajectory.validate();
  options.validate();
  const int64_t n = trajectory.n_steps();
  const double dt = trajectory.dt;
  std::vector<bool> selected(n + 1, selected_steps.empty());
  for (auto step : selected_steps) {
    if (step < 0 || step > n) {
      throw std::invalid_argument("fisher_loss: selected step " + std::to_string(step) +
                                  " is outside [0, " + std::to_string(n) + "]");
    }
    selected[step] = true;
  }
  const double n_selected = static_cast<double>(std::count(selected.begin(), selected.end(), true));
  const int64_t M_total = x0_all.size(0);
  const int64_t chunk = options.chunk_size > 0 ? options.chunk_size : M_total;
  std::vector<torch::Tensor> parameters;
  for (const auto& p : network.parameters()) parameters.push_back(p);

  // Totals stay on the device until the end: one host read per call, not per step.
  const auto scalar = [&](double value) { return torch::full({}, value, x0_all.options()); };
  auto loss_sum = scalar(0), min_abs_det = scalar(std::numeric_limits<double>::infinity()), kept = scalar(0);
  for (int64_t start = 0; start < M_total; start += chunk) {
    const auto x0 = x0_all.narrow(0, start, std::min(chunk, M_total - start));
    // Forward: keep every pre-kick state, find the caustic mask.
    std::vector<LeapfrogState> states;
    auto min_det = torch::full({x0.size(0)}, std::numeric_limits<double>::infinity(), x0.options());
    auto min_fold = min_det.clone();
    torch::Tensor squared_sum = torch::zeros({x0.size(0)}, x0.options());
    {
      torch::NoGradGuard no_grad;
      auto state = initial_state(system, x0, ScoreOrder::kTangent);
      for (int64_t step = 0; step <= n; ++step) {
        if (accumulate_gradient) states.push_back(state);
        auto result_step = leapfrog_step(system, network, state, step * dt, dt, step == 0, step == n,
                                         ScoreOrder::kTangent);
        if (selected[step]) {
          min_det = torch::minimum(min_det, torch::linalg_det(result_step.at.F).abs());
          min_fold = torch::minimum(min_fold, caustic_measure(result_step.at.F, options.caustic_measure));
          if (!accumulate_gradient) {
            squared_sum += squared_error(system, result_step, x0, options.target_clip);
          }
        }
        state = std::move(result_step.next);
      }
    }
    const auto keep = (min_fold >= options.caustic_threshold).to(x0.scalar_type());
    min_abs_det = torch::minimum(min_abs_det, min_det.min());
    kept = kept + keep.sum();
    // Weight of step n's squared error in L.
    const auto weight = keep / (n_selected * static_cast<double>(M_total));
    if (!accumulate_gradient) {
      loss_sum = loss_sum + (weight * squared_sum).sum();
      continue;
    }

    // Backward with per-step recomputation.
    std::vector<torch::Tensor> adjoint;  // of the next state, undefined at the end
    for (int64_t step = n; step >= 0; --step) {
      const auto leaf = leaf_copy(states[step]);
      states[step] = LeapfrogState{};  // free as we go
      auto result_step = leapfrog_step(system, network, leaf, step * dt, dt, step == 0, step == n,
                                       ScoreOrder::kTangent);
      std::vector<torch::Tensor> outputs, grad_outputs;
      if (selected[step]) {
        const auto loss = (weight * squared_error(system, result_step, x0, options.target_clip)).sum();
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
      if (outputs.empty()) {  // last step not selected: nothing flows back yet
        adjoint.clear();
        for (const auto& t : state_tensors(result_step.at)) adjoint.push_back(torch::zeros_like(t));
        continue;
      }
      auto inputs = state_tensors(leaf);
      inputs.insert(inputs.end(), parameters.begin(), parameters.end());
      const auto grads = torch::autograd::grad(outputs, inputs, grad_outputs,
                                               /*retain_graph=*/false, /*create_graph=*/false,
                                               /*allow_unused=*/true);
      adjoint.assign(grads.begin(), grads.begin() + 6);
      for (auto& a : adjoint) {
        if (!a.defined()) a = torch::Tensor();
      }
      for (size_t k = 0; k < parameters.size(); ++k) {
        const auto& g = grads[6 + k];
        if (!g.defined()) continue;
        auto& accumulated = parameters[k].mutable_grad();
        if (accumulated.defined()) accumulated = accumulated + g;
        else accumulated = g.clone();
      }
      // Undefined adjoints (no dependence) become zeros for the next sweep.
      const auto shapes = state_tensors(leaf);
      for (size_t k = 0; k < adjoint.size(); ++k) {
        if (!adjoint[k].defined()) adjoint[k] = torch::zeros_like(shapes[k]);
      }
    }
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

}  // namespace bohmflow
