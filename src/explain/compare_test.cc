// headroom compare on two fixture runs: a missing index fixed (capacity up, latency down) while the
// warm-up phase got slower and broke its SLO.
#include "explain/explain.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace headroom::explain {
namespace {

nlohmann::json Load(const char* name) {
  std::ifstream in(std::filesystem::path(HEADROOM_SOURCE_DIR) / "src/explain/testdata" / name);
  std::stringstream s;
  s << in.rdbuf();
  return nlohmann::json::parse(s.str());
}

const Delta& Find(const Comparison& c, const std::string& what) {
  for (const Delta& d : c.deltas) {
    if (d.what == what) return d;
  }
  static const Delta kNone;
  ADD_FAILURE() << "no figure '" << what << "'";
  return kNone;
}

Comparison MustCompare() {
  auto c = Compare(Load("compare_before.json"), Load("compare_after.json"), "before", "after");
  EXPECT_TRUE(c.has_value()) << (c ? "" : c.error().message);
  return c ? *c : Comparison{};
}

TEST(Compare, CapacityLatencyAtTheSameRatesTiersAndSlos) {
  const Comparison c = MustCompare();
  const Delta& capacity = Find(c, "capacity, stress phase limit");
  EXPECT_DOUBLE_EQ(*capacity.change(), 1150.0 / 400 - 1);
  EXPECT_FALSE(capacity.regressed(0.1)) << "more capacity is better";
  const Delta& p95 = Find(c, "p95 at 400/s");
  EXPECT_DOUBLE_EQ(*p95.change(), -0.9);
  // 800/s was tried only after the change: no row for it.
  for (const Delta& d : c.deltas) EXPECT_EQ(d.what.find("800/s"), std::string::npos) << d.what;
  EXPECT_DOUBLE_EQ(*Find(c, "db seq_scan_rows_per_s in phase limit").change(), 900.0 / 400000 - 1);
  // CPU per request = cores / achieved req/s: 0.7 / 400 -> 0.5 / 1150.
  const Delta& cpu = Find(c, "app CPU per request in phase limit");
  EXPECT_DOUBLE_EQ(*cpu.before, 0.7e6 / 400);
  EXPECT_DOUBLE_EQ(*cpu.after, 0.5e6 / 1150);
  ASSERT_EQ(c.slos.size(), 2u);
  EXPECT_EQ(c.slos[0].expr, "p95 < 50ms");
  EXPECT_EQ(c.slos[0].before, true);
  EXPECT_EQ(c.slos[0].after, false);
}

TEST(Compare, RegressionsAreWhatGotWorseBeyondTheTolerance) {
  const Comparison c = MustCompare();
  std::vector<std::string> worse;
  for (const Delta& d : c.deltas) {
    if (d.regressed(0.10)) worse.push_back(d.what);
  }
  EXPECT_EQ(worse, (std::vector<std::string>{"p50 in phase warm", "p95 in phase warm", "p99 in phase warm"}));
  Delta flat{"x", 100.0, 105.0, "us", true};
  EXPECT_FALSE(flat.regressed(0.10));
  EXPECT_TRUE(flat.regressed(0.01));
  Delta missing{"x", std::nullopt, 5.0, "us", true};
  EXPECT_FALSE(missing.change().has_value());
  EXPECT_FALSE(missing.regressed(0));
}

TEST(Compare, OutputsAgree) {
  const Comparison c = MustCompare();
  const std::string text = CompareText(c);
  EXPECT_NE(text.find("capacity, stress phase limit"), std::string::npos);
  EXPECT_NE(text.find("400 req/s"), std::string::npos) << text;
  EXPECT_NE(text.find("+187.5% better"), std::string::npos) << text;
  const std::string md = CompareMarkdown(c);
  EXPECT_NE(md.find("| capacity, stress phase limit | 400 req/s | 1,150 req/s | +187.5% better |"), std::string::npos) << md;
  EXPECT_NE(md.find("| warm | `p95 < 50ms` | pass | FAIL |"), std::string::npos) << md;
  const auto j = CompareJson(c);
  EXPECT_EQ(j["schema"], "headroom.compare/1");
  EXPECT_EQ(j["figures"].size(), c.deltas.size());
}

TEST(Compare, RefusesWhatIsNotAResultsFile) {
  auto c = Compare(nlohmann::json::parse(R"({"schema": "headroom.plan/1"})"), Load("compare_after.json"), "plan.json",
                   "after.json");
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().message, "plan.json is not a headroom results.json");
}

}  // namespace
}  // namespace headroom::explain
