// The built binary: `headroom plan` and `headroom model` exit codes, messages and JSON output.
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

TEST(ModelCli, UslJsonHasTheDocumentedKeys) {
  auto r = RunShell("'" + kBin + "' model usl --csv src/model/testdata/sdm91.csv --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto doc = nlohmann::json::parse(r.output);
  for (const char* key : {"sigma", "kappa", "lambda", "peak_concurrency", "peak_throughput", "r2"})
    EXPECT_TRUE(doc.contains(key)) << key;
  EXPECT_NEAR(doc["sigma"].get<double>(), 0.02773, 0.02773 * 0.005);
}

TEST(ModelCli, QueueJsonMatchesReference) {
  auto r = RunShell("'" + kBin + "' model queue --servers 4 --arrival-rate 0.35 --service-time 10 --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto doc = nlohmann::json::parse(r.output);
  for (const char* key : {"utilization", "wait_probability", "wait_mean", "response_mean",
                          "response_p95", "response_p99"})
    EXPECT_TRUE(doc.contains(key)) << key;
  EXPECT_NEAR(doc["wait_mean"].get<double>(), 14.7572, 14.7572 * 0.005);
  EXPECT_NEAR(doc["response_mean"].get<double>(), 24.7572, 24.7572 * 0.005);
}

TEST(ModelCli, BadInputExitsTwo) {
  EXPECT_EQ(RunShell("'" + kBin + "' model queue --servers 4 --arrival-rate 1 --service-time 10").exit_code, 2);
  EXPECT_EQ(RunShell("'" + kBin + "' model queue --servers 4 --arrival-rate 50/s --service-time 2").exit_code, 2);
  EXPECT_EQ(RunShell("'" + kBin + "' model usl --csv src/model/testdata/bad_row.csv").exit_code, 2);
  EXPECT_EQ(RunShell("'" + kBin + "' model usl").exit_code, 2);
  EXPECT_EQ(RunShell("'" + kBin + "' model").exit_code, 2);
}

}  // namespace
}  // namespace headroom::plan
