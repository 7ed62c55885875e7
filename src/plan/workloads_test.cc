// Several workloads with their own rates, growth and SLOs; remedies pinned to a phase; the
// load-test plan's stress and chaos steps as scenario files.
#include <cmath>
#include <string>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "plan/plan.h"
#include "plan/test_util.h"

namespace headroom::plan {
namespace {

using test_util::Example;
using test_util::InForce;
using test_util::Row;

// An interactive API at 100 req/s growing 20 %/month, data ingestion at 50 events/s growing
// 10 %/month (so its share of the growth is ln 1.1 / ln 1.2 = 0.5228), and a report batch of
// 300 jobs every 10 minutes to be done within 5.
const char* kPlan = R"(name: three-workloads
safety_factor: 2
phases: [1x, 4x]
traffic: { peak: 100/s, growth: 20% }
slos: { p95: 300ms, job_delay: 5m }
workload: { read_share: 90%, queries_per_read: 2, reads_per_write: 1, writes_per_write: 2 }
workloads:
  - { name: ingest, kind: ingestion, rate: 50/s, growth: 10%, writes_per_request: 3, p95: 1s, path: /events }
  - { name: reports, kind: periodic, every: 10m, jobs: 300, delay: 5m }
tiers:
  - { name: web, kind: app, count: 4, capacity: 200/s, unit_cost: 100, sessions: external }
  - { name: db, kind: database, capacity: 5000/s, write_capacity: 2000/s, unit_cost: 500 }
  - { name: jobs, kind: queue, capacity: 5000/s, unit_cost: 20 }
  - { name: workers, kind: workers, count: 2, capacity: 20/s, unit_cost: 30 }
)";

PlanInput Parse(const std::string& text) {
  auto in = ParsePlanText(text, "plan.yaml", "");
  EXPECT_TRUE(in.has_value()) << (in ? "" : in.error().message);
  return in.value_or(PlanInput{});
}

TEST(PlanWorkloads, EachWorkloadFeedsTheTiersItHits) {
  PlanInput in = Parse(kPlan);
  ASSERT_EQ(in.workloads.size(), 2u);
  EXPECT_EQ(in.workloads[0].kind, StreamKind::kIngestion);
  EXPECT_EQ(in.workloads[0].method, "POST");
  EXPECT_DOUBLE_EQ(in.workloads[0].read_share, 0);
  auto plan = BuildPlan(in);
  ASSERT_TRUE(plan.has_value()) << plan.error().message;
  const PhaseResult& one = plan->phases[0];
  ASSERT_EQ(one.workloads.size(), 3u);
  // 1x by hand: requests 100 x 2 = 200/s required; ingestion 50 x 2 = 100/s, all writes,
  // 3 statements each = 300 writes/s; reports 300 x 2 / 300 s = 2 jobs/s.
  EXPECT_EQ(one.workloads[0].name, "requests");
  EXPECT_NEAR(one.workloads[0].app_rps, 200, 1e-9);
  EXPECT_NEAR(one.workloads[0].db_writes, 200 * 0.1 * 2, 1e-9);
  EXPECT_NEAR(one.workloads[1].required_rps.value, 100, 1e-9);
  EXPECT_NEAR(one.workloads[1].app_rps, 100, 1e-9);
  EXPECT_NEAR(one.workloads[1].db_writes, 300, 1e-9);
  EXPECT_NEAR(one.workloads[1].db_reads, 100, 1e-9);  // 1 read per write request
  EXPECT_EQ(one.workloads[1].slo, "p95 < 1,000ms");
  EXPECT_NEAR(one.workloads[2].jobs, 2, 1e-9);
  const LoadRow* web = Row(one.after, "web");
  ASSERT_NE(web, nullptr);
  EXPECT_NEAR(web->load.value, 300, 1e-9);
  const LoadRow* workers = Row(one.after, "workers");
  ASSERT_NE(workers, nullptr);
  EXPECT_NEAR(workers->load.value, 2, 1e-9);
  // 4x: the requests reach 4x in month ln 4 / ln 1.2 = 7.6; ingestion has grown 1.1^7.6 = 4^0.5228
  // = 2.06x by then, not 4x.
  const PhaseResult& four = plan->phases[1];
  double share = std::log(1.1) / std::log(1.2);
  EXPECT_NEAR(four.workloads[1].demand_rps.value, 50 * std::pow(4, share), 1e-9);
  EXPECT_NE(four.workloads[1].demand_rps.formula.find("10 %/month"), std::string::npos)
      << four.workloads[1].demand_rps.formula;
  EXPECT_NEAR(four.workloads[2].jobs, 8, 1e-9);  // the batch grows with the requests
  std::string database;
  for (const std::string& line : four.database) database += line + "\n";
  EXPECT_NE(database.find("ingest"), std::string::npos) << database;
}

TEST(PlanWorkloads, ShownInPlanMarkdownAndJson) {
  auto plan = BuildPlan(Parse(kPlan));
  ASSERT_TRUE(plan.has_value());
  auto files = RenderPlan(*plan);
  EXPECT_NE(files.at("plan.md").find("| ingest | ingestion | 50 | 100 | 100 | 100 | 300 | 0 | p95 < 1,000ms |"),
            std::string::npos);
  auto json = YAML::Load(files.at("plan.json"));  // JSON is YAML
  ASSERT_EQ(json["phases"][0]["workloads"].size(), 3u);
  EXPECT_EQ(json["phases"][0]["workloads"][2]["kind"].as<std::string>(), "periodic");
  EXPECT_DOUBLE_EQ(json["phases"][0]["workloads"][2]["jobs"].as<double>(), 2);
}

// Every phase's gate sends each API and ingestion workload beside the main mix, weighted by its
// rate, with its own p95 objective; the ramp goes to the sum of the required rates.
TEST(PlanWorkloads, GatesExerciseEveryWorkload) {
  auto plan = BuildPlan(Parse(kPlan));
  ASSERT_TRUE(plan.has_value());
  auto files = RenderPlan(*plan);
  for (const PhaseResult& ph : plan->phases) {
    YAML::Node gate = YAML::Load(files.at(ph.gate_file));
    ASSERT_EQ(gate["requests"].size(), 3u);
    YAML::Node ingest = gate["requests"][2];
    EXPECT_EQ(ingest["name"].as<std::string>(), "ingest");
    EXPECT_EQ(ingest["method"].as<std::string>(), "POST");
    EXPECT_EQ(ingest["path"].as<std::string>(), "/events");
    EXPECT_EQ(ingest["slos"][0].as<std::string>(), "p95 < 1s");
    double weight = ingest["weight"].as<double>();
    EXPECT_NEAR(weight, 100 * ph.workloads[1].required_rps.value / ph.required_rps.value, 0.5);
    double total = ph.required_rps.value + ph.workloads[1].required_rps.value;
    EXPECT_EQ(gate["phases"][0]["ramp"]["to"].as<std::string>(),
              std::to_string(static_cast<long long>(std::ceil(total - 1e-9))) + "/s");
  }
}

TEST(PlanWorkloads, GrowthNeedsTrafficGrowth) {
  std::string text = kPlan;
  text.replace(text.find("growth: 20%"), 11, "growth: 0%");
  auto in = ParsePlanText(text, "plan.yaml", "");
  ASSERT_FALSE(in.has_value());
  EXPECT_NE(in.error().message.find("plan.yaml:8:"), std::string::npos) << in.error().message;
  EXPECT_NE(in.error().message.find("workloads[0](ingest).growth: needs traffic.growth"),
            std::string::npos) << in.error().message;
}

// `phase: 10x` pins a remedy: never in force before that phase, always from it on.
TEST(PlanRemedies, PinnedToAPhase) {
  std::string text = test_util::ReadText(test_util::kSourceDir + "/examples/plans/analytics-saas.yaml");
  std::string anchor = "  functional_sharding: { not_before_month: 12 }\n";
  ASSERT_NE(text.find(anchor), std::string::npos);
  text.insert(text.find(anchor) + anchor.size(), "  read_replicas: { phase: 10x }\n");
  PlanInput in = Parse(text);
  auto plan = BuildPlan(in);
  ASSERT_TRUE(plan.has_value());
  for (const PhaseResult& ph : plan->phases)
    EXPECT_EQ(InForce(ph, "read_replicas"), ph.multiplier >= 10) << ph.multiplier;
  bool noted = false;
  for (const Change& c : plan->phases[2].changes)
    if (c.remedy_id == "read_replicas") noted = c.detail.find("pinned to phase 10x") != std::string::npos;
  EXPECT_TRUE(noted);
  // Without the pin, replicas wait until 40x: the pin is what brings them forward.
  auto free = BuildPlan(Example("analytics-saas"));
  ASSERT_TRUE(free.has_value());
  EXPECT_FALSE(InForce(free->phases[2], "read_replicas"));
  text.insert(text.find(anchor) + anchor.size(), "  caching: { phase: 3x }\n");
  auto bad = ParsePlanText(text, "plan.yaml", "");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("remedies.caching.phase: '3x' is not one of the plan's phases (1x, 2x, 10x, 40x)"),
            std::string::npos) << bad.error().message;
}

// The load-test plan's stress ramp to 3x and its chaos steps are scenario files of their own.
TEST(PlanLoadTest, StressAndChaosScenarios) {
  auto plan = BuildPlan(Example("order-management"));
  ASSERT_TRUE(plan.has_value());
  auto files = RenderPlan(*plan);
  for (const PhaseResult& ph : plan->phases) {
    ASSERT_FALSE(ph.stress_file.empty());
    YAML::Node stress = YAML::Load(files.at(ph.stress_file));
    double required = ph.required_rps.value;
    EXPECT_EQ(stress["phases"][0]["stress"]["ceiling"].as<std::string>(),
              std::to_string(static_cast<long long>(std::ceil(3 * required - 1e-9))) + "/s");
    ASSERT_FALSE(ph.chaos.empty()) << ph.multiplier;
    YAML::Node chaos = YAML::Load(files.at(ph.chaos_file));
    ASSERT_EQ(chaos["phases"].size(), 1 + 2 * ph.chaos.size());
    for (size_t i = 0; i < ph.chaos.size(); ++i) {
      YAML::Node fault = chaos["phases"][1 + 2 * i];
      EXPECT_EQ(fault["name"].as<std::string>(), ph.chaos[i].name);
      // Predicted to hold: the full SLOs; else only a bound on errors. Recovery: the full SLOs.
      EXPECT_EQ(fault["slos"].size(), ph.chaos[i].slos_hold ? 3u : 1u);
      EXPECT_EQ(chaos["phases"][2 + 2 * i]["slos"][0].as<std::string>(), "p95 < 300ms");
    }
  }
}

// The emitted stress and chaos scenarios pass `headroom validate` (the binary, as users run it).
TEST(PlanLoadTest, ScenariosValidate) {
  auto plan = BuildPlan(Example("order-management"));
  ASSERT_TRUE(plan.has_value());
  std::string dir = ::testing::TempDir() + "/headroom_plan_scenarios";
  ASSERT_TRUE(WritePlan(*plan, dir).has_value());
  for (const PhaseResult& ph : plan->phases)
    for (const std::string& rel : {ph.gate_file, ph.stress_file, ph.chaos_file}) {
      auto r = test_util::RunShell(std::string("'") + HEADROOM_BINARY + "' validate '" + dir + "/" + rel + "'");
      EXPECT_EQ(r.exit_code, 0) << rel << ": " << r.output;
    }
}

}  // namespace
}  // namespace headroom::plan
