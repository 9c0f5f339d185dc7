#include "bohmflow/sampling.hpp"

#include <cmath>
#include <random>
#include <sstream>
#include <stdexcept>

#include <ATen/CPUGeneratorImpl.h>
#include <Eigen/Dense>
#include <boost/random/sobol.hpp>
#include <torch/torch.h>

#include "bohmflow/potentials.hpp"
#include "internal_checks.hpp"

namespace bohmflow {
namespace {

using detail::require;

// Standard normal points of the rule `method`, with weights: (M, d), (M).
std::pair<torch::Tensor, torch::Tensor> gauss_hermite_points(int d, int64_t count, std::string& describe) {
  int n = 1;
  while (std::pow(static_cast<double>(n + 1), d) <= static_cast<double>(count)) ++n;
  const auto [nodes, weights] = gauss_hermite_rule(n);
  const auto z = torch::tensor(nodes, torch::kFloat64);
  const auto w = torch::tensor(weights, torch::kFloat64);
  std::vector<torch::Tensor> axes(d, z), axis_weights(d, w);
  const auto grid = torch::meshgrid(axes, "ij");
  const auto weight_grid = torch::meshgrid(axis_weights, "ij");
  std::vector<torch::Tensor> columns;
  auto weight = torch::ones_like(grid[0]);
  for (int i = 0; i < d; ++i) {
    columns.push_back(grid[i].reshape({-1}));
    weight = weight * weight_grid[i];
  }
  std::ostringstream text;
  text << "gauss-hermite, " << n << "^" << d << " = " << grid[0].numel() << " nodes";
  describe = text.str();
  return {torch::stack(columns, 1), weight.reshape({-1})};
}

// Sobol points in (0,1)^d, digitally shifted by one random 32-bit word per
// axis (an XOR keeps the net structure), through the inverse normal CDF.
torch::Tensor sobol_normal_points(int d, int64_t count, uint64_t seed) {
  boost::random::sobol engine(static_cast<std::size_t>(d));
  std::mt19937_64 shift_source(seed);
  std::vector<uint32_t> shift(d);
  for (auto& s : shift) s = static_cast<uint32_t>(shift_source() >> 32);
  auto u = torch::empty({count, d}, torch::kFloat64);
  auto accessor = u.accessor<double, 2>();
  for (int64_t p = 0; p < count; ++p) {
    for (int i = 0; i < d; ++i) {
      const uint32_t bits = static_cast<uint32_t>(engine() >> 32) ^ shift[i];  // the top 32 of 64 bits
      accessor[p][i] = (static_cast<double>(bits) + 0.5) / 4294967296.0;
    }
  }
  return std::sqrt(2.0) * torch::erfinv(2.0 * u - 1.0);
}

}  // namespace

void SamplingOptions::validate() const {
  const std::string where = "sampling";
  require(count >= 1, where, "count = " + std::to_string(count) + ": must be >= 1");
}

std::pair<std::vector<double>, std::vector<double>> gauss_hermite_rule(int n) {
  require(n >= 1, "gauss_hermite_rule", "n = " + std::to_string(n) + ": must be >= 1");
  // Three-term recurrence x He_k = He_{k+1} + k He_{k−1}: Jacobi matrix J_{k,k+1} = √(k+1).
  Eigen::MatrixXd jacobi = Eigen::MatrixXd::Zero(n, n);
  for (int k = 0; k + 1 < n; ++k) jacobi(k, k + 1) = jacobi(k + 1, k) = std::sqrt(static_cast<double>(k + 1));
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eigen(jacobi);
  std::vector<double> nodes(n), weights(n);
  for (int k = 0; k < n; ++k) {
    nodes[k] = eigen.eigenvalues()(k);
    weights[k] = eigen.eigenvectors()(0, k) * eigen.eigenvectors()(0, k);  // μ₀ = 1
  }
  return {nodes, weights};
}

WeightedPositions standard_normal_points(int d, const SamplingOptions& options) {
  options.validate();
  require(d >= 1, "standard_normal_points", "d = " + std::to_string(d) + ": must be >= 1");
  WeightedPositions out;
  if (options.method == SamplingMethod::kGaussHermite) {
    std::tie(out.x0, out.weights) = gauss_hermite_points(d, options.count, out.describe);
    return out;
  }
  if (options.method == SamplingMethod::kSobol) {
    out.x0 = sobol_normal_points(d, options.count, options.seed);
    out.describe = "sobol, " + std::to_string(options.count) + " points";
  } else {
    auto generator = at::detail::createCPUGenerator(options.seed);
    out.x0 = torch::randn({options.count, d}, generator, torch::kFloat64);
    out.describe = "mc, " + std::to_string(options.count) + " particles";
  }
  out.weights = torch::full({options.count}, 1.0 / options.count, torch::kFloat64);
  return out;
}

WeightedPositions initial_positions(const System& system, const SamplingOptions& options) {
  const auto& init = system.initial_state();
  auto out = standard_normal_points(system.dim(), options);
  out.x0 = torch::tensor(init.mean, torch::kFloat64) + torch::tensor(init.sigma, torch::kFloat64) * out.x0;
  return out;
}

}  // namespace bohmflow
