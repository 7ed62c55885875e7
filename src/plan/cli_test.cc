// The built binary: `headroom plan` exit codes, messages and output files.
#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "plan/test_util.h"

namespace headroom::plan {
namespace {

using test_util::RunShell;

const std::string kBin = HEADROOM_BINARY;

TEST(PlanCli, BadPlanFileExitsTwoWithEveryPosition) {
  auto r = RunShell("'" + kBin + "' plan src/plan/testdata/errors/bad_values.yaml --out " +
               ::testing::TempDir() + "/never");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("bad_values.yaml:4:9: traffic.peak"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("bad_values.yaml:21:11: tiers[1](db).kind"), std::string::npos);
  size_t lines = std::count(r.output.begin(), r.output.end(), '\n');
  EXPECT_EQ(lines, 11u) << r.output;
  EXPECT_FALSE(std::filesystem::exists(::testing::TempDir() + "/never/plan.md"));
}

TEST(PlanCli, UsageErrorsExitTwo) {
  EXPECT_EQ(RunShell("'" + kBin + "' plan").exit_code, 2);
  EXPECT_EQ(RunShell("'" + kBin + "' plan examples/plans/order-management.yaml").exit_code, 2);
  auto missing = RunShell("'" + kBin + "' plan nowhere.yaml --out /tmp/x");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.output.find("cannot open"), std::string::npos);
}

TEST(PlanCli, WritesPlanAndArtifacts) {
  std::string out = ::testing::TempDir() + "/headroom_cli_plan";
  std::filesystem::remove_all(out);
  auto r = RunShell("'" + kBin + "' plan examples/plans/analytics-saas.yaml --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* f : {"plan.md", "plan.json", "artifacts/1x/gate.yaml", "artifacts/40x/hpa.yaml",
                        "artifacts/40x/prometheus-rules.yaml"})
    EXPECT_TRUE(std::filesystem::exists(out + "/" + f)) << f;
}

// Every emitted gate is a scenario `headroom validate` accepts, including user request mixes.
TEST(PlanCli, GatesPassValidate) {
  std::string out = ::testing::TempDir() + "/headroom_cli_gates";
  std::filesystem::remove_all(out);
  auto r = RunShell("'" + kBin + "' plan src/plan/testdata/gate_requests.yaml --out " + out + " -q");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  int gates = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(out)) {
    if (entry.path().filename() != "gate.yaml") continue;
    auto v = RunShell("'" + kBin + "' validate '" + entry.path().string() + "'");
    EXPECT_EQ(v.exit_code, 0) << entry.path() << "\n" << v.output;
    EXPECT_NE(v.output.find("ok (3 phases, 3 requests)"), std::string::npos) << v.output;
    ++gates;
  }
  EXPECT_EQ(gates, 4);
}

TEST(PlanCli, ResultsFeedCapacity) {
  std::string out = ::testing::TempDir() + "/headroom_cli_results";
  auto r = RunShell("'" + kBin + "' plan src/plan/testdata/with_results.yaml --results "
               "src/model/testdata/results_stress.json --out " + out + " -q");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(r.output.empty()) << r.output;
  auto doc = nlohmann::json::parse(test_util::ReadText(out + "/plan.json"));
  EXPECT_EQ(doc["tiers"][0]["capacity_rps"], 4200);
}

}  // namespace
}  // namespace headroom::plan
