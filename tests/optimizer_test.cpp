#include "bohmflow/optimizer.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>

namespace bohmflow {
namespace {

TEST(Optimizer, ClipByGlobalNormRescalesOnlyAboveTheLimit) {
  std::vector<torch::Tensor> g{torch::tensor({3.0, 0.0}, torch::kFloat64), torch::tensor({{4.0}}, torch::kFloat64)};
  EXPECT_DOUBLE_EQ(clip_by_global_norm(g, 10.0), 5.0);  // below: unchanged
  EXPECT_DOUBLE_EQ(g[0][0].item<double>(), 3.0);
  EXPECT_DOUBLE_EQ(clip_by_global_norm(g, 1.0), 5.0);   // above: scaled to norm 1
  EXPECT_NEAR(g[0][0].item<double>(), 0.6, 1e-15);
  EXPECT_NEAR(g[1][0][0].item<double>(), 0.8, 1e-15);
  EXPECT_NEAR(clip_by_global_norm(g, 0.0), 1.0, 1e-15);  // 0: no clipping, norm still reported
  EXPECT_NEAR(g[1][0][0].item<double>(), 0.8, 1e-15);
}

TEST(Optimizer, AdamMatchesTheClosedFormOfTwoSteps) {
  auto p = torch::tensor({1.0, -2.0}, torch::kFloat64);
  Adam adam;
  const double lr = 0.1, b1 = 0.9, b2 = 0.999, eps = 1e-8;
  const double g1[2] = {0.5, -3.0}, g2[2] = {-1.0, 2.0};
  adam.step({p}, {torch::tensor({g1[0], g1[1]}, torch::kFloat64)}, lr);
  adam.step({p}, {torch::tensor({g2[0], g2[1]}, torch::kFloat64)}, lr);
  EXPECT_EQ(adam.step_count(), 2);
  const double start[2] = {1.0, -2.0};
  for (int i = 0; i < 2; ++i) {
    // Step 1: m̂ = g₁, v̂ = g₁², so the update is lr·g₁/(|g₁| + ε).
    double x = start[i] - lr * g1[i] / (std::abs(g1[i]) + eps);
    const double m = b1 * (1 - b1) * g1[i] + (1 - b1) * g2[i];
    const double v = b2 * (1 - b2) * g1[i] * g1[i] + (1 - b2) * g2[i] * g2[i];
    x -= lr * (m / (1 - b1 * b1)) / (std::sqrt(v / (1 - b2 * b2)) + eps);
    EXPECT_NEAR(p[i].item<double>(), x, 1e-14) << "component " << i;
  }
}

TEST(Optimizer, PlateauScheduleFollowsTheReference) {
  PlateauOptions options;
  options.patience = 2;
  options.factor = 0.5;
  options.min_lr = 0.1;
  PlateauSchedule schedule(options);
  std::vector<double> losses;
  double lr = 1.0;
  std::vector<double> lrs;
  // Flat at 1 (first window sets best, two stale windows halve lr), then a
  // drop to 0.5 (two improving windows), then flat again until the floor.
  for (double loss : {1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5}) {
    losses.push_back(loss);
    lr = schedule.update(losses, lr);
    lrs.push_back(lr);
  }
  const std::vector<double> expected{1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.125, 0.125, 0.1, 0.1, 0.1};
  EXPECT_EQ(lrs, expected);
  EXPECT_EQ(schedule.wait(), 0);
  EXPECT_DOUBLE_EQ(schedule.best(), 0.5);
}

TEST(Optimizer, PlateauScheduleOffWithZeroPatience) {
  PlateauOptions options;
  options.patience = 0;
  PlateauSchedule schedule(options);
  std::vector<double> losses(50, 1.0);
  EXPECT_EQ(schedule.update(losses, 1e-3), 1e-3);
  EXPECT_EQ(schedule.best(), std::numeric_limits<double>::infinity());
}

TEST(Optimizer, RejectsBadPlateauOptions) {
  PlateauOptions options;
  options.factor = 1.5;
  EXPECT_THROW(PlateauSchedule{options}, std::invalid_argument);
}

}  // namespace
}  // namespace bohmflow
