// Data-driven: testdata/tier_cases.tsv parses, validates and evaluates SLOs on tier metrics.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "slo/slo.h"

namespace headroom::slo {
namespace {

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string part;
  std::istringstream in(s);
  while (std::getline(in, part, sep)) out.push_back(part);
  return out;
}

std::vector<std::vector<std::string>> Rows() {
  std::ifstream in(std::filesystem::path(HEADROOM_SOURCE_DIR) / "src/slo/testdata/tier_cases.tsv");
  std::vector<std::vector<std::string>> rows;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] != '#') rows.push_back(Split(line, '\t'));
  }
  return rows;
}

const char* OpText(Op op) {
  switch (op) {
    case Op::kLt:
      return "<";
    case Op::kLe:
      return "<=";
    case Op::kGt:
      return ">";
    case Op::kGe:
      return ">=";
  }
  return "?";
}

std::vector<WatchedTier> Watched(const std::string& text) {
  std::vector<WatchedTier> tiers;
  if (text == "-") return tiers;
  for (const std::string& t : Split(text, ';')) {
    const size_t eq = t.find('=');
    tiers.push_back(WatchedTier{t.substr(0, eq), Split(t.substr(eq + 1), ',')});
  }
  return tiers;
}

// "kind/metric:stat=X,..;..." -> lookup table.
std::map<std::string, TierValues> Values(const std::string& text) {
  std::map<std::string, TierValues> out;
  if (text == "-") return out;
  for (const std::string& entry : Split(text, ';')) {
    const size_t colon = entry.find(':');
    TierValues v;
    for (const std::string& kv : Split(entry.substr(colon + 1), ',')) {
      const std::string key = kv.substr(0, kv.find('='));
      const double x = std::stod(kv.substr(kv.find('=') + 1));
      if (key == "samples") v.samples = static_cast<int64_t>(x);
      if (key == "mean") v.mean = x;
      if (key == "min") v.min = x;
      if (key == "max") v.max = x;
      if (key == "total") v.total = x;
    }
    out[entry.substr(0, colon)] = v;
  }
  return out;
}

TEST(TierSlo, Table) {
  int rows = 0;
  for (const auto& row : Rows()) {
    ++rows;
    ASSERT_GE(row.size(), 3u);
    const auto parsed = ParseObjective(row[1]);
    if (row[0] == "parse") {
      std::string actual = "error: ";
      if (parsed) {
        char threshold[64];
        std::snprintf(threshold, sizeof threshold, "%.10g", parsed->threshold);
        actual = "tier=" + parsed->tier + " metric=" + parsed->tier_metric + " op=" + OpText(parsed->op) +
                 " threshold=" + threshold;
        EXPECT_EQ(parsed->metric, Metric::kTier) << row[1];
        EXPECT_TRUE(parsed->request.empty()) << row[1];
        EXPECT_EQ(MetricName(*parsed), parsed->tier + "." + parsed->tier_metric);
      } else {
        actual += parsed.error().message;
      }
      EXPECT_EQ(actual, row[2]) << row[1];
      continue;
    }
    ASSERT_TRUE(parsed.has_value()) << row[1] << ": " << parsed.error().message;
    if (row[0] == "validate") {
      ASSERT_EQ(row.size(), 4u);
      const auto tiers = Watched(row[2]);
      const Status s = ValidateTierObjective(*parsed, tiers);
      EXPECT_EQ(s ? "ok" : "error: " + s.error().message, row[3]) << row[1];
    } else {
      ASSERT_EQ(row[0], "evaluate");
      ASSERT_EQ(row.size(), 5u);
      const auto values = Values(row[2]);
      const Verdict v = EvaluateTier(*parsed, [&](std::string_view tier, std::string_view kind, std::string_view metric)
                                                  -> std::optional<TierValues> {
        EXPECT_EQ(tier, parsed->tier);
        auto it = values.find(std::string(kind) + "/" + std::string(metric));
        if (it == values.end()) return std::nullopt;
        return it->second;
      });
      EXPECT_EQ(v.pass ? "pass" : "fail", row[3]) << row[1];
      EXPECT_EQ(v.observed_text, row[4]) << row[1];
    }
  }
  EXPECT_GE(rows, 30);
}

TEST(TierSlo, CatalogueNamesAreUniqueAndNotRequestMetrics) {
  std::map<std::string, int> seen;
  for (const TierMetricInfo& m : TierMetrics()) {
    EXPECT_EQ(seen[std::string(m.name)]++, 0) << m.name;
    EXPECT_FALSE(m.sources.empty()) << m.name;
    // "x.NAME" must never read as a request-scoped latency SLO.
    auto as_request = ParseObjective("x." + std::string(m.name) + " < 1");
    if (as_request) {
      EXPECT_EQ(as_request->metric, Metric::kTier) << m.name;
    }
  }
}

TEST(TierSlo, DocsListEveryTierMetric) {
  std::ifstream in(std::filesystem::path(HEADROOM_SOURCE_DIR) / "docs/slo.md");
  std::stringstream text;
  text << in.rdbuf();
  for (const TierMetricInfo& m : TierMetrics()) {
    EXPECT_NE(text.str().find("| `" + std::string(m.name) + "` |"), std::string::npos) << m.name << " is not in docs/slo.md";
  }
}

}  // namespace
}  // namespace headroom::slo
