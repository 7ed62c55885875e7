// Concrete settings per chosen change and the per-phase load-test plan.
#include <string>
#include <algorithm>
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "plan/plan.h"
#include "plan/test_util.h"

namespace headroom::plan {
namespace {

using test_util::Example;

bool AnyContains(const std::vector<std::string>& lines, const std::string& text) {
  for (const std::string& l : lines)
    if (l.find(text) != std::string::npos) return true;
  return false;
}

TEST(PlanSettings, EachChosenChangeSaysWhatToSet) {
  // What each remedy must name when it is chosen.
  const std::map<std::string, std::string> expected = {
      {"connection_pooling", "pool_mode = transaction"},
      {"caching", "maxmemory-policy allkeys-lru"},
      {"cdn", "Cache-Control: public, max-age="},
      {"horizontal_sharding", "Shard key"},
      {"read_replicas", "max_standby_streaming_delay"},
      {"async_queue", "dead-letter queue"},
      {"partitioning", "PARTITION BY RANGE"},
      {"query_optimization", "pg_stat_statements"},
      {"externalize_sessions", "cluster"},  // runtime: node -> one worker per core
  };
  std::set<std::string> seen;
  for (const char* name : {"order-management", "analytics-saas"}) {
    auto plan = BuildPlan(Example(name));
    ASSERT_TRUE(plan.has_value());
    for (const PhaseResult& ph : plan->phases)
      for (const Change& c : ph.changes) {
        auto it = expected.find(c.remedy_id);
        if (it == expected.end()) continue;
        seen.insert(c.remedy_id);
        EXPECT_TRUE(AnyContains(c.settings, it->second))
            << name << " " << ph.multiplier << "x " << c.remedy_id << " lacks " << it->second;
      }
  }
  EXPECT_GE(seen.size(), 7u);
}

// Redis maxmemory follows the working set: a larger item size never asks for less memory.
TEST(PlanSettings, CacheMemoryGrowsWithItemSize) {
  auto memory_mb = [](double item_bytes) {
    PlanInput in = Example("order-management");
    in.workload.cache_item_bytes = item_bytes;
    auto plan = BuildPlan(in);
    EXPECT_TRUE(plan.has_value());
    for (const PhaseResult& ph : plan->phases)
      for (const Change& c : ph.changes)
        for (const std::string& s : c.settings)
          if (size_t at = s.find("`maxmemory "); at != std::string::npos) {
            std::string n = s.substr(at + 11, s.find("mb", at) - at - 11);
            n.erase(std::remove(n.begin(), n.end(), ','), n.end());
            return std::stod(n);
          }
    return 0.0;
  };
  double small = memory_mb(512), large = memory_mb(64 * 1024);
  EXPECT_GE(small, 256);
  EXPECT_GT(large, small);
}

TEST(PlanSettings, LoadTestPlanPerPhase) {
  auto plan = BuildPlan(Example("order-management"));
  ASSERT_TRUE(plan.has_value());
  for (const PhaseResult& ph : plan->phases) {
    std::string ramp_to = "to ";
    EXPECT_TRUE(AnyContains(ph.load_test, "(3x the phase's required rate)")) << ph.multiplier;
    EXPECT_TRUE(AnyContains(ph.load_test, "Soak: 30 minutes")) << ph.multiplier;
    EXPECT_TRUE(AnyContains(ph.load_test, "Chaos: kill one app unit")) << ph.multiplier;
  }
  // 10x: the cache is in place, so the plan also says what losing it does to the database.
  EXPECT_TRUE(AnyContains(plan->phases[2].load_test, "Chaos: flush or kill the cache"));
}

}  // namespace
}  // namespace headroom::plan

namespace headroom::plan {
namespace {

// Each phase names its stage by users and flags remedies premature for it, saying what forces
// them; it ends with a readiness checklist where the plan's own artifacts are ticked.
TEST(PlanStage, StagePrematureAndChecklist) {
  auto plan = BuildPlan(Example("analytics-saas"));
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->phases[0].stage.rfind("early traction (500 DAU", 0), 0u) << plan->phases[0].stage;
  EXPECT_EQ(plan->phases[3].stage.rfind("scale (25,000 DAU", 0), 0u) << plan->phases[3].stage;
  for (const PhaseResult& ph : plan->phases) {
    EXPECT_TRUE(AnyContains(ph.checklist, "[x] monitoring and alerting"));
    EXPECT_TRUE(AnyContains(ph.checklist, "[x] load-test gate for this phase: " + ph.gate_file));
    EXPECT_TRUE(AnyContains(ph.checklist, "[ ] automated backups"));
    if (ph.dau < 10000 && !ph.autoscalers.empty()) {
      EXPECT_TRUE(AnyContains(ph.premature, "Kubernetes autoscaling")) << ph.multiplier;
    }
    if (ph.dau >= 10000) {
      EXPECT_TRUE(ph.premature.empty()) << ph.multiplier;
    }
  }
  // Sharding below 10k users is flagged with the number that forces it.
  PlanInput in = Example("order-management");
  in.traffic.dau = 500;
  auto small = BuildPlan(in);
  ASSERT_TRUE(small.has_value());
  bool flagged = false;
  for (const PhaseResult& ph : small->phases)
    if (std::find(ph.remedies.begin(), ph.remedies.end(), "horizontal_sharding") != ph.remedies.end() &&
        ph.dau < 10000)
      flagged |= AnyContains(ph.premature, "horizontal_sharding: premature below 10,000 users; forced here");
  EXPECT_TRUE(flagged);
}

}  // namespace
}  // namespace headroom::plan
