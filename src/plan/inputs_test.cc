// Richer plan-file inputs: milestones, cost curves, external dependencies, remedy restrictions.
#include <cmath>
#include <string>

#include <gtest/gtest.h>

#include "plan/plan.h"
#include "plan/test_util.h"

namespace headroom::plan {
namespace {

PlanInput Example(const std::string& name) {
  auto r = LoadPlanFile(test_util::kSourceDir + "/examples/plans/" + name + ".yaml", "");
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  return r.value_or(PlanInput{});
}

bool InForce(const PhaseResult& ph, const std::string& id) {
  return std::find(ph.remedies.begin(), ph.remedies.end(), id) != ph.remedies.end();
}

TEST(PlanInputs, MilestoneSetsBothGrowthRates) {
  PlanInput in = Example("analytics-saas");
  EXPECT_NEAR(in.traffic.growth_monthly, std::pow(40.0, 1.0 / 12) - 1, 1e-12);
  ASSERT_TRUE(in.traffic.dau_growth_monthly.has_value());
  EXPECT_NEAR(*in.traffic.dau_growth_monthly, std::pow(50.0, 1.0 / 12) - 1, 1e-12);
  EXPECT_EQ(in.cost_curve.size(), 3u);
}

TEST(PlanInputs, CostCurveIsComparedPerPhase) {
  auto plan = BuildPlan(Example("analytics-saas"));
  ASSERT_TRUE(plan.has_value());
  const PhaseResult& last = plan->phases.back();  // 25,000 DAU: between 1,200 at 10k and 4,500 at 50k
  ASSERT_TRUE(last.target_cost.has_value());
  EXPECT_NEAR(last.target_cost->value, 1200 + 3300 * 15000.0 / 40000, 1e-6);
  auto md = RenderPlan(*plan).at("plan.md");
  EXPECT_NE(md.find("Cost against the plan file's target curve"), std::string::npos);
}

TEST(PlanInputs, RateLimitedDependencies) {
  auto plan = BuildPlan(Example("analytics-saas"));
  ASSERT_TRUE(plan.has_value());
  const PhaseResult& last = plan->phases.back();
  ASSERT_EQ(last.dependencies.size(), 1u);
  const std::string& line = last.dependencies[0];
  // Today: 20 req/s x (1 - 10 % x 90 % at the edge, with the CDN of this phase) x 0.1 calls.
  EXPECT_NE(line.find("against a limit of 100/s"), std::string::npos) << line;
  EXPECT_NE(line.find("token bucket at 90 calls/s"), std::string::npos) << line;
  EXPECT_NE(line.find("circuit breaker"), std::string::npos) << line;
  EXPECT_NE(line.find("asynchronous"), std::string::npos) << line;  // the flash sale is over it
  EXPECT_TRUE(plan->phases[0].dependencies[0].find("asynchronous") == std::string::npos);
}

TEST(PlanInputs, RemedyRestrictionsAreHonoured) {
  PlanInput in = Example("order-management");
  for (Remedy& r : in.remedies) {
    if (r.id == "vertical_scaling") r.tiers = {"postgres"};
    if (r.id == "horizontal_sharding" || r.id == "functional_sharding") r.not_before_month = 12;
  }
  auto plan = BuildPlan(in);
  ASSERT_TRUE(plan.has_value());
  for (const PhaseResult& ph : plan->phases) {
    for (const TierUnits& u : ph.units)
      if (u.tier == "app") EXPECT_EQ(u.size_step, 0) << ph.multiplier;
    if (ph.month_reached.value < 12) {
      EXPECT_FALSE(InForce(ph, "horizontal_sharding")) << ph.multiplier;
      EXPECT_FALSE(InForce(ph, "functional_sharding")) << ph.multiplier;
    }
  }
  for (Remedy& r : in.remedies)
    if (r.id == "vertical_scaling") r.tiers = {"nope"};
  auto bad = BuildPlan(in);
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("'nope', which is not a tier"), std::string::npos);
}

}  // namespace
}  // namespace headroom::plan
