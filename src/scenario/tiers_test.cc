// The `tiers` section of a valid scenario -> model (errors are in testdata/bad/tiers*.yaml).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "scenario/scenario.h"

namespace headroom::scenario {
namespace {

const std::filesystem::path kFile = std::filesystem::path(HEADROOM_SOURCE_DIR) / "src/scenario/testdata/good/tiers.yaml";

TEST(Tiers, SourcesIntervalsAndSelectors) {
  ::unsetenv("SHOP_DB_PASSWORD");
  auto s = LoadScenario(kFile.string());
  ASSERT_TRUE(s.has_value()) << s.error().message;
  ASSERT_EQ(s->tiers.size(), 4u);
  const Tier& db = s->tiers[0];
  EXPECT_EQ(db.name, "db");
  EXPECT_EQ(db.kind, "database");
  EXPECT_EQ(db.interval_ns, 1'000'000'000);
  ASSERT_EQ(db.sources.size(), 2u);
  EXPECT_EQ(db.sources[0].spec, "postgres:host=127.0.0.1 port=5432 dbname=shop user=app password=dev-only");
  EXPECT_EQ(db.sources[0].label, "postgres:host=127.0.0.1 port=5432 dbname=shop user=app password=***");
  EXPECT_EQ(db.sources[1].label, "process:postgres");
  EXPECT_EQ(db.sources[0].pos.line, 9);
  EXPECT_EQ(s->tiers[1].interval_ns, 500'000'000);
  const Tier& app = s->tiers[2];
  ASSERT_EQ(app.sources.size(), 3u);
  EXPECT_TRUE(app.sources[0].selectors.empty()) << "selectors apply to prometheus sources only";
  EXPECT_EQ(app.sources[1].spec, "prometheus:http://127.0.0.1:9100/metrics");
  EXPECT_EQ(app.sources[1].selectors, std::vector<std::string>{"node_cpu_seconds_total"});
  EXPECT_EQ(app.sources[2].selectors, std::vector<std::string>{"http_*"}) << "the tier's selectors";
  EXPECT_EQ(s->tiers[3].sources[0].spec, "host");
}

TEST(Tiers, SlosOnTierMetricsAreParsed) {
  auto s = LoadScenario(kFile.string());
  ASSERT_TRUE(s.has_value()) << s.error().message;
  ASSERT_EQ(s->slos.size(), 4u);
  EXPECT_EQ(s->slos[1].objective.metric, slo::Metric::kTier);
  EXPECT_EQ(s->slos[1].objective.tier, "cache");
  EXPECT_EQ(s->slos[1].objective.tier_metric, "hit_ratio");
  EXPECT_TRUE(s->slos[1].request.empty());
  EXPECT_EQ(s->slos[1].text, "cache.hit_ratio > 80%");
  ASSERT_EQ(s->phases[0].slos.size(), 2u);
  EXPECT_EQ(s->phases[0].slos[0].objective.tier_metric, "connections");
}

TEST(Tiers, PasswordFromTheEnvironment) {
  ::setenv("SHOP_DB_PASSWORD", "from-env", 1);
  auto s = LoadScenario(kFile.string());
  ::unsetenv("SHOP_DB_PASSWORD");
  ASSERT_TRUE(s.has_value());
  EXPECT_TRUE(s->tiers[0].sources[0].spec.ends_with(" password=from-env"));
  EXPECT_EQ(s->tiers[0].sources[0].label.find("from-env"), std::string::npos);
}

}  // namespace
}  // namespace headroom::scenario
