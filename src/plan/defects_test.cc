// Regression tests for plans that were wrong or contradicted themselves (issue 12): each test
// states the defect it guards against.
#include <cmath>
#include <regex>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "plan/plan.h"
#include "plan/test_util.h"

namespace headroom::plan {
namespace {

using test_util::Example;
using test_util::Row;
using test_util::InForce;

using test_util::kSourceDir;

// A CDN answers no POST: writes come from every write request, not from what the edge leaves.
// Order management at 10x: 12,000 req/s x 20 % writes x 4 statements = 9,600 writes/s.
TEST(Defects, CdnTakesReadsOnly) {
  PlanInput in = Example("order-management");
  for (Remedy& r : in.remedies)
    if (r.id == "async_queue") r.disabled = true;  // keep every write on the primary
  auto plan = BuildPlan(in);
  ASSERT_TRUE(plan.has_value());
  for (const PhaseResult& ph : plan->phases) {
    ASSERT_TRUE(InForce(ph, "cdn")) << ph.multiplier;
    const LoadRow* primary = Row(ph.after, "postgres", "primary");
    ASSERT_NE(primary, nullptr);
    double required = ph.required_rps.value;
    double rate = required;
    std::string writes = " " + [&] {
      std::string s = std::to_string(std::llround(rate * 0.2 * 4));
      for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(i, ",");
      return s;
    }() + " writes/s";
    EXPECT_NE(primary->load.formula.find(writes), std::string::npos)
        << ph.multiplier << "x: " << primary->load.formula << " lacks" << writes;
  }
}

// The sharding timeline and the phases agree: a phase past the multiple at which writes alone
// fill the largest primary has sharding or deferred writes in force.
TEST(Defects, PhasesAgreeWithTheShardingTimeline) {
  for (const char* name : {"order-management", "analytics-saas"}) {
    auto plan = BuildPlan(Example(name));
    ASSERT_TRUE(plan.has_value());
    if (!plan->writes_outgrow_primary_multiplier) continue;
    for (const PhaseResult& ph : plan->phases) {
      if (ph.multiplier < *plan->writes_outgrow_primary_multiplier) continue;
      EXPECT_TRUE(InForce(ph, "horizontal_sharding") || InForce(ph, "functional_sharding") ||
                  InForce(ph, "async_queue"))
          << name << " " << ph.multiplier << "x is past " << plan->writes_outgrow_detail;
    }
  }
}

// Separate single-phase plans: more demand never reports a lower monthly cost (10x and 12x of
// the order example reported 4,240 and 3,720 EUR).
TEST(Defects, MonthlyCostNeverFallsAcrossSinglePhasePlans) {
  PlanInput base = Example("order-management");
  double prev = 0, prev_m = 0;
  for (double m = 1; m <= 30; m *= 1.1) {
    PlanInput in = base;
    in.multipliers = {m};
    auto plan = BuildPlan(in);
    ASSERT_TRUE(plan.has_value());
    double cost = plan->phases[0].monthly_cost.value;
    EXPECT_GE(cost, prev - 1e-9) << m << "x costs less than " << prev_m << "x";
    prev = cost, prev_m = m;
  }
}

// The budget note never claims the budget covers a multiple the plan itself reports over budget.
TEST(Defects, BudgetNoteAgreesWithThePhases) {
  PlanInput in = Example("order-management");
  in.multipliers.clear();
  for (double m = 1; m <= 40; m *= 1.5) in.multipliers.push_back(m);
  auto plan = BuildPlan(in);
  ASSERT_TRUE(plan.has_value());
  std::regex covers("covers traffic up to ([0-9.,]+)x");
  for (const PhaseResult& ph : plan->phases) {
    std::smatch match;
    if (!std::regex_search(ph.budget_note, match, covers)) continue;
    std::string number = match[1];
    number.erase(std::remove(number.begin(), number.end(), ','), number.end());
    double covered = std::stod(number);
    EXPECT_LT(covered, ph.multiplier) << ph.budget_note;
    for (const PhaseResult& other : plan->phases) {
      if (other.multiplier <= covered) {
        EXPECT_TRUE(other.within_budget) << other.multiplier << "x is over budget, yet "
                                         << ph.budget_note;
      }
    }
  }
}

// A phase is feasible only when its flash sale is served: every row of the planned configuration
// stays within target at the flash-sale rate, autoscaled tiers at their maximum.
void ExpectFlashServed(const PlanInput& in, const PhaseResult& ph, const std::string& name) {
  double flash = ph.demand_rps.value * in.traffic.flash_sale_multiple;
  double scale = std::max(1.0, flash / ph.required_rps.value);
  for (const LoadRow& r : ph.after) {
    if (r.role == "connections") continue;
    double capacity = r.capacity.value;
    for (const Autoscaler& a : ph.autoscalers)
      if (a.tier == r.tier)
        for (const TierUnits& u : ph.units)
          if (u.tier == r.tier) capacity *= double(a.max_replicas) / u.units;
    double util = r.load.value * scale / capacity;
    EXPECT_LE(util, r.target.value + 1e-9)
        << name << " " << ph.multiplier << "x is feasible but " << r.tier << " " << r.role
        << " is at " << util << " during the " << flash << " req/s flash sale";
  }
}

TEST(Defects, FeasiblePhasesServeTheirFlashSale) {
  for (const char* name : {"order-management", "analytics-saas"}) {
    PlanInput in = Example(name);
    auto plan = BuildPlan(in);
    ASSERT_TRUE(plan.has_value());
    for (const PhaseResult& ph : plan->phases)
      if (ph.feasible) ExpectFlashServed(in, ph, name);
  }
}

// Costs, runbook and manifests use one number: the HPA runs the costed units at the phase's peak.
TEST(Defects, AutoscalersMatchTheCostedUnits) {
  for (const char* name : {"order-management", "analytics-saas"}) {
    auto plan = BuildPlan(Example(name));
    ASSERT_TRUE(plan.has_value());
    for (const PhaseResult& ph : plan->phases) {
      for (const Autoscaler& a : ph.autoscalers) {
        int costed = -1;
        for (const TierUnits& u : ph.units)
          if (u.tier == a.tier) costed = u.units;
        EXPECT_LE(a.min_replicas, costed) << name << " " << ph.multiplier << "x " << a.tier;
        EXPECT_LE(costed, a.max_replicas) << name << " " << ph.multiplier << "x " << a.tier;
        bool runbook = false;
        for (const std::string& line : ph.runbook)
          if (line.rfind(a.tier + ":", 0) == 0)
            runbook = line.find("planned " + std::to_string(costed) + ",") != std::string::npos;
        EXPECT_TRUE(runbook) << name << " " << ph.multiplier << "x " << a.tier;
      }
    }
  }
}

// Queue alerts page on the job-delay SLO (oldest job's age) and on a backlog that cannot drain
// within it, not on a depth the workers clear in seconds.
TEST(Defects, QueueAlertsFollowTheJobDelaySlo) {
  auto plan = BuildPlan(Example("analytics-saas"));
  ASSERT_TRUE(plan.has_value());
  for (const PhaseResult& ph : plan->phases) {
    bool age = false, drain = false;
    for (const AlertRule& a : ph.alerts) {
      if (a.expr.find("queue_oldest_message_age_seconds") != std::string::npos &&
          a.severity == "critical" && a.expr.find("> 300") != std::string::npos)
        age = true;
      if (a.expr.find("queue_messages_ready") != std::string::npos &&
          a.expr.find("rate(") != std::string::npos && a.severity == "critical")
        drain = true;
    }
    EXPECT_TRUE(age) << ph.multiplier;
    EXPECT_TRUE(drain) << ph.multiplier;
  }
}

// The CPU target leaves room for new units to start while the load keeps rising.
TEST(Defects, AutoscalingTargetLeavesRoomForStartup) {
  for (const char* name : {"order-management", "analytics-saas"}) {
    PlanInput in = Example(name);
    auto plan = BuildPlan(in);
    ASSERT_TRUE(plan.has_value());
    for (const PhaseResult& ph : plan->phases)
      for (const Autoscaler& a : ph.autoscalers) {
        if (a.metric == "queue_depth") continue;
        EXPECT_LT(a.target_utilization, 0.85 - 0.05) << name << " " << ph.multiplier;
        EXPECT_NE(a.rationale.find("startup"), std::string::npos) << a.rationale;
      }
  }
}

// Absurd multiples are refused with a clear message; large ones cost more than small ones and
// never overflow a replica count (1,000,000x overflowed maxReplicas, 1e12x cost 1,220 EUR).
TEST(Defects, HugeMultiplesDoNotOverflow) {
  for (double m : {1e6, 1e12}) {
    PlanInput in = Example("order-management");
    in.multipliers = {m};
    auto plan = BuildPlan(in);
    ASSERT_FALSE(plan.has_value()) << m;
    EXPECT_NE(plan.error().message.find("100,000x"), std::string::npos) << plan.error().message;
  }
  PlanInput in = Example("order-management");
  in.multipliers = {100, 50000};
  auto plan = BuildPlan(in);
  ASSERT_TRUE(plan.has_value());
  const PhaseResult& big = plan->phases[1];
  EXPECT_TRUE(std::isfinite(big.monthly_cost.value));
  EXPECT_GE(big.monthly_cost.value, plan->phases[0].monthly_cost.value);
  EXPECT_FALSE(big.within_budget && big.feasible);
  for (const Autoscaler& a : big.autoscalers) {
    EXPECT_GE(a.min_replicas, 1);
    EXPECT_LE(a.min_replicas, a.max_replicas);
    EXPECT_LE(a.max_replicas, 10000);
  }
}

// Kubernetes names are DNS-1123 labels, alert names are Prometheus names and commands are quoted.
TEST(Defects, NamesAreSanitized) {
  PlanInput in = Example("analytics-saas");
  in.name = "Analytics SaaS (EU)";
  in.tiers[0].name = "Bestellungen API ü";
  in.tiers.back().name = "workers 'nightly'";
  auto plan = BuildPlan(in);
  ASSERT_TRUE(plan.has_value());
  std::regex dns("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
  std::regex prom("[a-zA-Z_:][a-zA-Z0-9_:]*");
  int hpas = 0;
  for (const auto& [path, text] : RenderPlan(*plan)) {
    if (path.find("hpa.yaml") != std::string::npos) {
      for (const YAML::Node& doc : YAML::LoadAll(text)) {
        if (doc.IsNull()) continue;
        ++hpas;
        EXPECT_TRUE(std::regex_match(doc["metadata"]["name"].as<std::string>(), dns));
        EXPECT_TRUE(std::regex_match(doc["spec"]["scaleTargetRef"]["name"].as<std::string>(), dns));
        EXPECT_TRUE(std::regex_match(
            doc["metadata"]["labels"]["app.kubernetes.io/part-of"].as<std::string>(), dns));
      }
    }
    if (path.find("prometheus-rules.yaml") != std::string::npos) {
      YAML::Node doc = YAML::Load(text);
      for (const YAML::Node& group : doc["groups"])
        for (const YAML::Node& rule : group["rules"])
          EXPECT_TRUE(std::regex_match(rule["alert"].as<std::string>(), prom))
              << rule["alert"].as<std::string>();
    }
  }
  EXPECT_GT(hpas, 0);
  for (const PhaseResult& ph : plan->phases)
    for (const std::string& line : ph.runbook)
      if (line.find("kubectl") != std::string::npos) {
        EXPECT_NE(line.find("kubectl scale 'deployment/"), std::string::npos) << line;
      }
}

// gate.requests are copied into scenario files: unknown keys are refused where they are written.
TEST(Defects, GateRequestsWithUnknownKeysAreRefused) {
  std::string text = test_util::ReadText(kSourceDir + "/examples/plans/analytics-saas.yaml") +
                     "gate:\n  requests:\n    - { name: home, path: /, methd: GET }\n";
  auto r = ParsePlanText(text, "plan.yaml", "");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("gate.requests[0]: unknown key 'methd'; did you mean 'method'?"),
            std::string::npos)
      << r.error().message;
  EXPECT_TRUE(std::regex_search(r.error().message, std::regex("^plan\\.yaml:[0-9]+:[0-9]+: ")));
}

// The analytics example is GROWNET's: 40x requests in month 12, 1k DAU near 400 EUR a month.
TEST(Defects, AnalyticsExampleMatchesGrownet) {
  auto plan = BuildPlan(Example("analytics-saas"));
  ASSERT_TRUE(plan.has_value());
  const PhaseResult& last = plan->phases.back();
  EXPECT_EQ(last.multiplier, 40);
  EXPECT_NEAR(last.month_reached.value, 12, 0.05);
  EXPECT_NEAR(last.dau, 25000, 1);
  for (const PhaseResult& ph : plan->phases)
    if (ph.dau >= 900 && ph.dau <= 1100) {
      EXPECT_LE(ph.monthly_cost.value, 440) << ph.multiplier;
    }
}

}  // namespace
}  // namespace headroom::plan

namespace headroom::plan {
namespace {

// "What breaks first" always has an answer, even when every tier is within target: tiers ranked
// by the multiple of today's peak at which they reach their target, with month and metric.
TEST(Defects, WhatBreaksFirstAlwaysAnswers) {
  for (const char* name : {"order-management", "analytics-saas"}) {
    auto plan = BuildPlan(Example(name));
    ASSERT_TRUE(plan.has_value());
    for (const PhaseResult& ph : plan->phases) {
      ASSERT_FALSE(ph.breaks_first.empty()) << name << " " << ph.multiplier;
      for (size_t i = 1; i < ph.breaks_first.size(); ++i)
        EXPECT_LE(ph.breaks_first[i - 1].multiple.value, ph.breaks_first[i].multiple.value);
      for (const Breakpoint& b : ph.breaks_first) {
        EXPECT_FALSE(b.metric.empty());
        // A feasible phase holds its own demand: nothing breaks below the phase's multiple.
        if (ph.feasible) {
          EXPECT_GE(b.multiple.value, ph.multiplier - 1e-9) << b.tier;
        }
      }
    }
  }
  auto plan = BuildPlan(Example("analytics-saas"));
  ASSERT_TRUE(plan.has_value());
  EXPECT_TRUE(plan->phases[0].bottlenecks.empty());  // the case that used to say "None"
  auto doc = nlohmann::json::parse(RenderPlan(*plan).at("plan.json"));
  for (const auto& ph : doc["phases"])
    for (const char* key : {"tier", "resource", "metric", "multiple", "month"})
      EXPECT_TRUE(ph["breaks_first"][0].contains(key)) << key;
}

}  // namespace
}  // namespace headroom::plan
