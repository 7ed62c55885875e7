#include "slo/slo.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace headroom::slo {
namespace {

std::vector<std::vector<std::string>> LoadTable(const std::string& name) {
  std::vector<std::vector<std::string>> rows;
  std::ifstream in(std::string(HEADROOM_SOURCE_DIR) + "/src/slo/testdata/" + name);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cols;
    std::stringstream row(line);
    for (std::string col; std::getline(row, col, '\t');) cols.push_back(col);
    if (cols[0] == "<empty>") cols[0].clear();
    rows.push_back(std::move(cols));
  }
  return rows;
}

constexpr const char* kMetricNames[] = {"percentile",   "max", "min",          "mean",           "error_rate",
                                        "availability", "rps", "percentile_drift", "error_rate_drift"};
constexpr const char* kOpNames[] = {"<", "<=", ">", ">="};

TEST(SloParseTest, TableOfExpressions) {
  const auto rows = LoadTable("parse_cases.tsv");
  ASSERT_GT(rows.size(), 60u);
  for (const auto& row : rows) {
    SCOPED_TRACE("expr '" + row[0] + "'");
    auto o = ParseObjective(row[0]);
    ASSERT_GE(row.size(), 3u);
    if (row[1] == "error") {
      ASSERT_FALSE(o.has_value());
      EXPECT_EQ(o.error().message, row[2]);
      continue;
    }
    ASSERT_TRUE(o.has_value()) << o.error().message;
    ASSERT_EQ(row.size(), 7u);
    EXPECT_EQ(o->request, row[2] == "-" ? "" : row[2]);
    EXPECT_STREQ(kMetricNames[static_cast<int>(o->metric)], row[3].c_str());
    EXPECT_DOUBLE_EQ(o->percentile, std::strtod(row[4].c_str(), nullptr));
    EXPECT_STREQ(kOpNames[static_cast<int>(o->op)], row[5].c_str());
    EXPECT_DOUBLE_EQ(o->threshold, std::strtod(row[6].c_str(), nullptr));
    // The expression is kept as written (trimmed), and MetricName gives back the left-hand side.
    EXPECT_EQ(o->expr.find_first_of(" \t") == 0, false);
    EXPECT_EQ(o->expr.substr(0, MetricName(*o).size()), MetricName(*o));
  }
}

TEST(SloParseTest, ErrorsAreSingleLines) {
  for (const auto& row : LoadTable("parse_cases.tsv")) {
    auto o = ParseObjective(row[0]);
    if (!o) {
      EXPECT_EQ(o.error().message.find('\n'), std::string::npos) << row[0];
    }
  }
}

// "1000*95,400000*5" -> a histogram holding 95 values of 1000 and 5 of 400000.
std::unique_ptr<Histogram> MakeHistogram(const std::string& spec) {
  auto h = std::make_unique<Histogram>();
  std::stringstream in(spec);
  for (std::string item; std::getline(in, item, ',');) {
    long long value = 0, count = 0;
    if (std::sscanf(item.c_str(), "%lld*%lld", &value, &count) == 2) h->RecordN(value, count);
  }
  return h;
}

struct ObservationSet {
  std::unique_ptr<Histogram> response, first, last;
  Observations obs;
};

ObservationSet ParseObservations(const std::string& spec) {
  ObservationSet set;
  std::map<std::string, std::string> kv;
  std::stringstream in(spec);
  for (std::string item; in >> item;) {
    const size_t eq = item.find('=');
    kv[item.substr(0, eq)] = item.substr(eq + 1);
  }
  if (kv.contains("hist")) set.response = MakeHistogram(kv["hist"]);
  if (kv.contains("first")) set.first = MakeHistogram(kv["first"]);
  if (kv.contains("last")) set.last = MakeHistogram(kv["last"]);
  set.obs.response_time_us = set.response.get();
  set.obs.first_window_us = set.first.get();
  set.obs.last_window_us = set.last.get();
  set.obs.requests = std::atoll(kv["requests"].c_str());
  set.obs.errors = std::atoll(kv["errors"].c_str());
  set.obs.achieved_rps = std::strtod(kv["rps"].c_str(), nullptr);
  set.obs.first_window_error_rate = std::strtod(kv["first_err"].c_str(), nullptr);
  set.obs.last_window_error_rate = std::strtod(kv["last_err"].c_str(), nullptr);
  set.obs.first_window_requests = std::atoll(kv["first_n"].c_str());
  set.obs.last_window_requests = std::atoll(kv["last_n"].c_str());
  return set;
}

TEST(SloEvaluateTest, TableOfVerdicts) {
  const auto rows = LoadTable("evaluate_cases.tsv");
  ASSERT_GT(rows.size(), 40u);
  for (const auto& row : rows) {
    ASSERT_EQ(row.size(), 4u);
    SCOPED_TRACE("'" + row[0] + "' with " + row[1]);
    auto o = ParseObjective(row[0]);
    ASSERT_TRUE(o.has_value()) << o.error().message;
    const ObservationSet set = ParseObservations(row[1]);
    const Verdict v = Evaluate(*o, set.obs);
    EXPECT_EQ(v.expr, row[0]);
    EXPECT_EQ(v.pass ? "pass" : "fail", row[2]) << "observed " << v.observed;
    EXPECT_EQ(v.observed_text, row[3]);
  }
}

TEST(SloEvaluateTest, ObservedValueIsInTheObjectiveUnit) {
  Histogram h;
  h.RecordN(1500, 10);
  Observations obs{.response_time_us = &h, .requests = 10, .errors = 1, .achieved_rps = 42.5};
  EXPECT_DOUBLE_EQ(Evaluate(*ParseObjective("p50 < 1s"), obs).observed, 1500);
  EXPECT_DOUBLE_EQ(Evaluate(*ParseObjective("error_rate < 20%"), obs).observed, 0.1);
  EXPECT_DOUBLE_EQ(Evaluate(*ParseObjective("availability > 80%"), obs).observed, 0.9);
  EXPECT_DOUBLE_EQ(Evaluate(*ParseObjective("rps > 40"), obs).observed, 42.5);
}

TEST(SloFormatTest, FormatsValuesInTheObjectiveUnit) {
  EXPECT_EQ(FormatObjectiveValue(*ParseObjective("p95 < 1s"), 312400), "312.40ms");
  EXPECT_EQ(FormatObjectiveValue(*ParseObjective("p95 < 1s"), 950), "950us");
  EXPECT_EQ(FormatObjectiveValue(*ParseObjective("error_rate < 1%"), 0.0062), "0.62%");
  EXPECT_EQ(FormatObjectiveValue(*ParseObjective("availability > 99%"), 0.99995), "99.995%");
  EXPECT_EQ(FormatObjectiveValue(*ParseObjective("rps > 1"), 12345.6), "12,346/s");
  EXPECT_EQ(FormatObjectiveValue(*ParseObjective("rps > 1"), 0.25), "0.25/s");
  EXPECT_EQ(FormatObjectiveValue(*ParseObjective("p95_drift < 10%"), 0.125), "+12.5%");
  EXPECT_EQ(FormatObjectiveValue(*ParseObjective("p95_drift < 10%"), 0.027253), "+2.7%");
  EXPECT_EQ(FormatObjectiveValue(*ParseObjective("p95_drift < 10%"), -0.03), "-3.0%");
  // Thresholds format back to what was written.
  const Objective o = *ParseObjective("checkout.p99.9 <= 1.5s");
  EXPECT_EQ(FormatObjectiveValue(o, o.threshold), "1.50s");
  EXPECT_EQ(MetricName(o), "checkout.p99.9");
}

}  // namespace
}  // namespace headroom::slo
