// Golden plans: the examples rendered must match src/plan/testdata/golden/<example>/ byte for byte.
// Regenerate (from the repository root) after an intended change, then review the diff:
//   for p in order-management analytics-saas; do rm -rf src/plan/testdata/golden/$p;
//     build/headroom plan examples/plans/$p.yaml --out src/plan/testdata/golden/$p -q; done
#include <filesystem>
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "plan/plan.h"
#include "plan/test_util.h"

namespace headroom::plan {
namespace {

using test_util::kSourceDir;
using test_util::ReadText;

class GoldenPlan : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenPlan, MatchesByteForByte) {
  const std::string name = GetParam();
  const std::string rel = "examples/plans/" + name + ".yaml";  // as the CLI sees it from the root
  auto input = ParsePlanText(ReadText(kSourceDir + "/" + rel), rel, "");
  ASSERT_TRUE(input.has_value()) << input.error().message;
  auto plan = BuildPlan(*input);
  ASSERT_TRUE(plan.has_value()) << plan.error().message;
  const std::string golden = kSourceDir + "/src/plan/testdata/golden/" + name;
  std::set<std::string> rendered;
  for (const auto& [path, text] : RenderPlan(*plan)) {
    rendered.insert(path);
    ASSERT_TRUE(std::filesystem::exists(golden + "/" + path)) << path << " missing from " << golden;
    EXPECT_EQ(text, ReadText(golden + "/" + path)) << path << " differs from the golden copy";
  }
  for (const auto& entry : std::filesystem::recursive_directory_iterator(golden)) {
    if (!entry.is_regular_file()) continue;
    std::string path = std::filesystem::relative(entry.path(), golden).string();
    EXPECT_TRUE(rendered.contains(path)) << "stale golden file " << path;
  }
}

INSTANTIATE_TEST_SUITE_P(Examples, GoldenPlan,
                         ::testing::Values("order-management", "analytics-saas"));

// plan.json carries the documented contract fields for every phase.
TEST(PlanJson, HasContractFields) {
  const std::string rel = "examples/plans/order-management.yaml";
  auto input = ParsePlanText(ReadText(kSourceDir + "/" + rel), rel, "");
  ASSERT_TRUE(input.has_value());
  auto plan = BuildPlan(*input);
  ASSERT_TRUE(plan.has_value());
  auto doc = nlohmann::json::parse(RenderPlan(*plan).at("plan.json"));
  EXPECT_EQ(doc["schema"], "headroom.plan/1");
  ASSERT_TRUE(doc["phases"].is_array());
  ASSERT_EQ(doc["phases"].size(), 4u);
  for (const auto& ph : doc["phases"]) {
    for (const char* key : {"multiplier", "month_reached", "required_rps", "bottlenecks", "changes",
                            "units", "monthly_cost", "cost_per_1k_dau", "within_budget", "breaks_first",
                            "flash_rps", "flash", "target_cost"})
      EXPECT_TRUE(ph.contains(key)) << key;
    double prev = 1e18;
    for (const auto& b : ph["bottlenecks"]) {
      ASSERT_TRUE(b.contains("tier") && b.contains("resource") && b.contains("utilization"));
      double severity = b["utilization"].get<double>() / b["target"].get<double>();
      EXPECT_LE(severity, prev + 1e-9);
      prev = severity;
    }
    EXPECT_TRUE(ph["units"].contains("app"));
    EXPECT_TRUE(ph["units"]["app"].contains("units"));
  }
  EXPECT_EQ(doc["phases"][0]["month_reached"], 0);
  EXPECT_EQ(doc["phases"][2]["within_budget"], false);
}

}  // namespace
}  // namespace headroom::plan
