#include <algorithm>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "plan/catalogue.h"
#include "plan/plan.h"
#include "plan/test_util.h"

namespace headroom::plan {
namespace {

using test_util::kSourceDir;
using test_util::ReadText;

const std::string kErrors = kSourceDir + "/src/plan/testdata/errors/";

std::string TrimNewline(std::string s) {
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

// Every testdata/errors/NAME.yaml must fail with exactly the lines in NAME.err (file:line:col).
TEST(PlanFileErrors, MatchExpectedMessages) {
  int cases = 0;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(kErrors))
    if (entry.path().extension() == ".yaml") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    SCOPED_TRACE(path.filename().string());
    std::filesystem::path err = path;
    err.replace_extension(".err");
    std::string expected = TrimNewline(ReadText(err.string()));
    auto r = ParsePlanText(ReadText(path.string()), path.filename().string(), "");
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().message, expected);
    ++cases;
  }
  EXPECT_GE(cases, 6);
}

TEST(PlanFile, ExamplesParse) {
  for (const char* name : {"order-management", "analytics-saas"}) {
    auto r = LoadPlanFile(kSourceDir + "/examples/plans/" + name + ".yaml", "");
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->name, name);
    EXPECT_FALSE(r->tiers.empty());
    EXPECT_FALSE(r->remedies.empty());
  }
  auto om = LoadPlanFile(kSourceDir + "/examples/plans/order-management.yaml", "");
  ASSERT_TRUE(om.has_value());
  EXPECT_EQ(om->traffic.peak_rps, 800);
  EXPECT_DOUBLE_EQ(om->traffic.growth_monthly, 0.3);
  EXPECT_EQ(om->traffic.flash_sale_multiple, 6);
  EXPECT_EQ(om->budget_monthly, 12000);
  EXPECT_EQ(om->currency, "EUR");
  EXPECT_DOUBLE_EQ(om->slo.p95_ms, 300);
  EXPECT_EQ(om->tiers[0].sessions, Sessions::kMemory);
  EXPECT_EQ(om->tiers[1].kind, TierKind::kDatabase);
  EXPECT_EQ(om->tiers[1].write_capacity_rps, 2500);
}

TEST(PlanFile, CapacityFromResults) {
  std::string plan = kSourceDir + "/src/plan/testdata/with_results.yaml";
  std::string results = kSourceDir + "/src/model/testdata/results_stress.json";
  auto r = LoadPlanFile(plan, results);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->tiers[0].capacity_rps, 4200);
  EXPECT_NE(r->tiers[0].capacity_source.find("phases[1].stress.capacity_rps"), std::string::npos);

  auto plain = LoadPlanFile(plan, kSourceDir + "/src/model/testdata/results_plain.json");
  ASSERT_TRUE(plain.has_value()) << plain.error().message;
  EXPECT_EQ(plain->tiers[0].capacity_rps, 812.5);
  EXPECT_NE(plain->tiers[0].capacity_source.find("lower bound"), std::string::npos);

  // An unreadable --results file is one line naming it, before anything else is read.
  auto missing = LoadPlanFile(plan, kSourceDir + "/src/model/testdata/nope.json");
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message.find("nope.json: cannot open results file"), std::string::npos)
      << missing.error().message;
  EXPECT_EQ(missing.error().message.find('\n'), std::string::npos) << missing.error().message;
}

TEST(PlanFile, MissingFileIsOneLine) {
  auto r = LoadPlanFile(kSourceDir + "/src/plan/testdata/absent.yaml", "");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message.find('\n'), std::string::npos);
  EXPECT_NE(r.error().message.find("cannot open"), std::string::npos);
}

TEST(Catalogue, BuiltInHasEveryRemedyInLadderOrder) {
  auto r = DefaultRemedies();
  ASSERT_TRUE(r.has_value()) << r.error().message;
  std::vector<std::string> ids;
  for (const Remedy& remedy : *r) ids.push_back(remedy.id);
  for (const std::string& id : KnownRemedyIds())
    EXPECT_NE(std::find(ids.begin(), ids.end(), id), ids.end()) << id;
  EXPECT_TRUE(std::is_sorted(r->begin(), r->end(),
                             [](const Remedy& a, const Remedy& b) { return a.order < b.order; }));
  // The order an experienced engineer applies them.
  auto pos = [&](const std::string& id) { return std::find(ids.begin(), ids.end(), id) - ids.begin(); };
  EXPECT_LT(pos("query_optimization"), pos("vertical_scaling"));
  EXPECT_LT(pos("vertical_scaling"), pos("caching"));
  EXPECT_LT(pos("caching"), pos("read_replicas"));
  EXPECT_LT(pos("read_replicas"), pos("partitioning"));
  EXPECT_LT(pos("partitioning"), pos("horizontal_sharding"));
  for (const Remedy& remedy : *r) {
    EXPECT_FALSE(remedy.name.empty()) << remedy.id;
    EXPECT_FALSE(remedy.guidance.empty()) << remedy.id;
  }
}

TEST(Catalogue, PlanFileOverridesIt) {
  std::string text = R"(name: overrides
traffic: { peak: 100/s }
slos: { p95: 200ms }
tiers:
  - { name: app, kind: app, capacity: 500/s, unit_cost: 100 }
remedies:
  caching: { effect: { hit_ratio: 0.95 }, monthly_cost: 50 }
  horizontal_sharding: { disabled: true }
  vertical_scaling: { order: 1 }
)";
  auto r = ParsePlanText(text, "overrides.yaml", "");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  auto find = [&](const std::string& id) {
    return *std::find_if(r->remedies.begin(), r->remedies.end(),
                         [&](const Remedy& x) { return x.id == id; });
  };
  EXPECT_DOUBLE_EQ(find("caching").effect.at("hit_ratio"), 0.95);
  EXPECT_EQ(find("caching").monthly_cost, 50);
  EXPECT_TRUE(find("horizontal_sharding").disabled);
  EXPECT_EQ(r->remedies.front().id, "vertical_scaling");
}

TEST(Catalogue, RejectsUnknownIds) {
  auto r = ParseCatalogue("remedies:\n  - { id: teleport, name: x, order: 1 }\n", "cat.yaml");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("cat.yaml:2:5"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace headroom::plan
