// Richer plan-file inputs: milestones, cost curves, external dependencies, remedy restrictions.
#include <algorithm>
#include <cmath>
#include <regex>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "plan/plan.h"
#include "plan/test_util.h"

namespace headroom::plan {
namespace {

using test_util::Example;
using test_util::InForce;

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
      if (u.tier == "app") {
        EXPECT_EQ(u.size_step, 0) << ph.multiplier;
      }
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

namespace headroom::plan {
namespace {

// Without an alerts section the defaults monitoring guides recommend are emitted; a plan file
// overrides them per signal.
TEST(PlanInputs, AlertDefaultsAndOverrides) {
  auto rules = [](const PlanInput& in) {
    auto plan = BuildPlan(in);
    EXPECT_TRUE(plan.has_value());
    return plan->phases[0].alerts;
  };
  auto find = [](const std::vector<AlertRule>& alerts, const std::string& name) -> const AlertRule* {
    for (const AlertRule& a : alerts)
      if (a.name == name) return &a;
    return nullptr;
  };
  PlanInput in = Example("analytics-saas");
  auto alerts = rules(in);
  for (auto [name, threshold] : {std::pair{"LatencyP50High", "> 0.2"}, {"LatencyP50Critical", "> 0.5"},
                                 {"LatencyP99High", "> 1"}, {"LatencyP99Critical", "> 3"},
                                 {"ErrorRateHigh", "> 0.005"}, {"ErrorRateCritical", "> 0.02"},
                                 {"WebMemoryHigh", "> 0.8"}, {"PostgresDiskCritical", "> 0.9"},
                                 {"JobsDepthHigh", "> 1000"}, {"JobsDepthCritical", "> 10000"},
                                 {"WebCpuSustainedHigh", "> 0.7"}, {"WebCpuSustainedCritical", "> 0.9"},
                                 {"PostgresCpuSustainedHigh", "> 0.7"},
                                 {"PostgresMemoryHigh", "> 0.8"}, {"PostgresMemoryCritical", "> 0.9"},
                                 {"PostgresDbPoolHigh", "> 0.7"}, {"PostgresDbPoolCritical", "> 0.9"},
                                 {"PostgresDiskHigh", "> 0.75"},
                                 {"JobsJobLatencyHigh", "> 30"}, {"JobsJobLatencyCritical", "> 300"}}) {
    const AlertRule* a = find(alerts, name);
    ASSERT_NE(a, nullptr) << name;
    EXPECT_NE(a->expr.find(threshold), std::string::npos) << name << ": " << a->expr;
  }
  std::string text = test_util::ReadText(test_util::kSourceDir + "/examples/plans/analytics-saas.yaml") +
                     "alerts:\n  p50: { warning: 150ms, critical: 400ms }\n  disk: { warning: 60% }\n"
                     "  cpu: { warning: 60%, critical: 80% }\n  db_pool: { warning: 50% }\n";
  auto parsed = ParsePlanText(text, "plan.yaml", "");
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  alerts = rules(*parsed);
  EXPECT_NE(find(alerts, "LatencyP50High")->expr.find("> 0.15"), std::string::npos);
  EXPECT_NE(find(alerts, "PostgresDiskHigh")->expr.find("> 0.6"), std::string::npos);
  EXPECT_NE(find(alerts, "PostgresDiskCritical")->expr.find("> 0.9"), std::string::npos);
  EXPECT_NE(find(alerts, "WebCpuSustainedHigh")->expr.find("> 0.6"), std::string::npos);
  EXPECT_NE(find(alerts, "WebCpuSustainedCritical")->expr.find("> 0.8"), std::string::npos);
  EXPECT_NE(find(alerts, "PostgresDbPoolHigh")->expr.find("> 0.5"), std::string::npos);
  auto bad = ParsePlanText(text + "  p99: { warning: 3s, critical: 1s }\n", "plan.yaml", "");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("alerts.p99: warning must not be above critical"), std::string::npos);
}

// Every signal the issue lists has a warning and a critical default in the rules of a plan file
// that sets no `alerts:` — including the job-latency pair when slos.job_delay is set too.
TEST(PlanInputs, EveryGenericAlertHasBothLevels) {
  PlanInput in = Example("analytics-saas");
  auto plan = BuildPlan(in);
  ASSERT_TRUE(plan.has_value());
  for (const PhaseResult& ph : plan->phases) {
    std::set<std::string> names;
    for (const AlertRule& a : ph.alerts)
      if (a.group == "defaults") names.insert(a.name);
    for (const char* signal : {"LatencyP50", "LatencyP99", "ErrorRate", "WebCpuSustained",
                               "PostgresCpuSustained", "WebMemory", "PostgresDbPool", "PostgresDisk",
                               "JobsDepth", "JobsJobLatency"}) {
      EXPECT_TRUE(names.contains(std::string(signal) + "High")) << signal << " at " << ph.multiplier;
      EXPECT_TRUE(names.contains(std::string(signal) + "Critical")) << signal << " at " << ph.multiplier;
    }
  }
}

// Thresholds are printed with at most four significant digits (a target of 0.693877551 is
// 0.694, the value its summary states as 69.4 %).
TEST(PlanInputs, AlertThresholdsAreRounded) {
  for (const char* name : {"analytics-saas", "order-management"}) {
    auto plan = BuildPlan(Example(name));
    ASSERT_TRUE(plan.has_value());
    std::regex literal(R"([0-9]+\.[0-9]+)");
    for (const PhaseResult& ph : plan->phases) {
      for (const AlertRule& a : ph.alerts) {
        for (std::sregex_iterator it(a.expr.begin(), a.expr.end(), literal), end; it != end; ++it) {
          std::string digits = it->str();
          digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
          digits.erase(0, digits.find_first_not_of('0'));
          EXPECT_LE(digits.size(), 4u) << a.name << ": " << a.expr;
        }
      }
    }
  }
  auto plan = BuildPlan(Example("analytics-saas"));
  ASSERT_TRUE(plan.has_value());
  for (const AlertRule& a : plan->phases[0].alerts) {
    if (a.name != "WebCpuCritical") continue;
    EXPECT_TRUE(a.expr.ends_with("> 0.694")) << a.expr;
    EXPECT_NE(a.summary.find("69.4 %"), std::string::npos) << a.summary;
  }
}

}  // namespace
}  // namespace headroom::plan

namespace headroom::plan {
namespace {

// A periodic batch (GROWNET's ranking) must drain within its delay: workers carry
// jobs x (required / peak) / delay on top of the request-driven jobs.
TEST(PlanInputs, PeriodicJobsSizeTheWorkers) {
  PlanInput in = Example("analytics-saas");
  ASSERT_EQ(in.workload.periodic.size(), 1u);
  auto plan = BuildPlan(in);
  ASSERT_TRUE(plan.has_value());
  const PhaseResult& ph = plan->phases[0];
  for (const LoadRow& r : ph.after) {
    if (r.tier != "workers") continue;
    // 1x: 600 jobs x (30 / 20) / 300 s = 3 jobs/s, plus 27 req/s at the app x 0.1 jobs/request.
    EXPECT_NE(r.load.formula.find("ranking 600 jobs x 1.5 / 300s"), std::string::npos) << r.load.formula;
    EXPECT_GT(r.load.value, 3);
  }
  in.workload.periodic.clear();
  auto without = BuildPlan(in);
  ASSERT_TRUE(without.has_value());
  EXPECT_LE(without->phases.back().monthly_cost.value, plan->phases.back().monthly_cost.value);
}

}  // namespace
}  // namespace headroom::plan
