#include "bohmflow/optimizer.hpp"

#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

#include <torch/torch.h>

#include "internal_checks.hpp"

namespace bohmflow {

using detail::format_number;
using detail::require;

double clip_by_global_norm(std::vector<torch::Tensor>& gradients, double max_norm) {
  double squared = 0;
  for (const auto& g : gradients) squared += g.pow(2).sum().item<double>();
  const double norm = std::sqrt(squared);
  if (max_norm > 0 && norm > max_norm) {
    for (auto& g : gradients) g.mul_(max_norm / norm);
  }
  return norm;
}

Adam::Adam(AdamOptions options) : options_(options) {}

void Adam::set_state(std::vector<torch::Tensor> m, std::vector<torch::Tensor> v, int64_t step_count) {
  if (m.size() != v.size()) throw std::invalid_argument("Adam::set_state: m and v differ in length");
  require(step_count >= 0, "Adam::set_state", "step count must be >= 0");
  m_ = std::move(m);
  v_ = std::move(v);
  step_count_ = step_count;
}

void Adam::step(const std::vector<torch::Tensor>& parameters, const std::vector<torch::Tensor>& gradients,
                double lr) {
  if (parameters.size() != gradients.size()) {
    throw std::invalid_argument("Adam::step: " + std::to_string(parameters.size()) + " parameters but " +
                                std::to_string(gradients.size()) + " gradients");
  }
  if (m_.empty()) {
    for (const auto& p : parameters) {
      m_.push_back(torch::zeros_like(p));
      v_.push_back(torch::zeros_like(p));
    }
  }
  if (m_.size() != parameters.size()) {
    throw std::invalid_argument("Adam::step: state holds " + std::to_string(m_.size()) +
                                " moments for " + std::to_string(parameters.size()) + " parameters");
  }
  torch::NoGradGuard no_grad;
  ++step_count_;
  const double k = static_cast<double>(step_count_);
  const double correction1 = 1 - std::pow(options_.beta1, k);
  const double correction2 = 1 - std::pow(options_.beta2, k);
  for (size_t i = 0; i < parameters.size(); ++i) {
    const auto& g = gradients[i];
    m_[i].mul_(options_.beta1).add_(g, 1 - options_.beta1);
    v_[i].mul_(options_.beta2).add_(g * g, 1 - options_.beta2);
    const auto m_hat = m_[i] / correction1;
    const auto v_hat = v_[i] / correction2;
    parameters[i].sub_(lr * m_hat / (v_hat.sqrt() + options_.eps));
  }
}

void PlateauOptions::validate() const {
  const std::string where = "PlateauOptions";
  require(patience >= 0, where, "patience = " + std::to_string(patience) + ": must be >= 0 (0: off)");
  require(factor > 0 && factor <= 1, where, "factor = " + format_number(factor) + ": must be in (0, 1]");
  require(min_lr >= 0, where, "min_lr = " + format_number(min_lr) + ": must be >= 0");
}

PlateauSchedule::PlateauSchedule(PlateauOptions options)
    : options_(options), best_(std::numeric_limits<double>::infinity()) {
  options_.validate();
}

void PlateauSchedule::set_state(double best, int64_t wait) {
  require(wait >= 0, "PlateauSchedule::set_state", "wait must be >= 0");
  best_ = best;
  wait_ = wait;
}

double PlateauSchedule::update(const std::vector<double>& losses, double lr) {
  const auto window = static_cast<size_t>(options_.patience);
  if (window == 0 || losses.size() < window) return lr;
  const double recent = std::accumulate(losses.end() - window, losses.end(), 0.0) / window;
  if (recent < best_ * 0.999) {
    best_ = recent;
    wait_ = 0;
  } else {
    ++wait_;
  }
  if (wait_ >= options_.patience) {
    lr = std::max(lr * options_.factor, options_.min_lr);
    best_ = recent;
    wait_ = 0;
  }
  return lr;
}

}  // namespace bohmflow
