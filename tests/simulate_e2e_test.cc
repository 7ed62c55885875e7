// headroom simulate as a user runs it: exit 0 when the SLOs hold, 1 when a flash sale with a slow
// startup breaks the p95 SLO, 2 with one file:line:col line for bad input; and the per-second
// series (series.csv, series.json) agreeing with summary.json and with each other.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "e2e_util.h"

namespace {

using namespace e2e;

// A shop of one app tier (2 units of 400 req/s in the plan, autoscaled 4..40 at 65 % by the
// autoscaling override, 180 s to start) and a database far from its limit. A 6x flash sale at
// 18:00 outruns the autoscaler: the backlog reaches the 30 s timeout and the p95 SLO breaks.
constexpr const char* kShop = R"(name: shop
currency: EUR
phases: [1x]
traffic:
  peak: 1000/s
  daily_peak_factor: 3
  flash_sale: 6x
slos:
  p95: 300ms
  availability: 99.9%
tiers:
  - name: app
    kind: app
    count: 2
    capacity: 400/s
    concurrency: 16
    unit_cost: 200
    startup: 180s
  - name: postgres
    kind: database
    count: 1
    capacity: 50000/s
    write_capacity: 20000/s
    concurrency: 32
    unit_cost: 900
autoscaling:
  app:
    min: 4
    max: 40
    target: 65%
events:
  - flash-sale day 1 18:00 6x for 30m ramp 1m
)";

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

std::string WritePlan(const std::string& dir, const std::string& name, const std::string& text) {
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/" + name;
  std::ofstream(path) << text;
  return path;
}

// "name.yaml:LINE:COL:" of the first line containing `needle`, COL at `value` in it (1-based).
std::string Origin(const std::string& name, const std::string& text, const std::string& needle,
                   const std::string& value) {
  std::istringstream in(text);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.find(needle) == std::string::npos) continue;
    return name + ":" + std::to_string(n) + ":" + std::to_string(line.find(value) + 1) + ":";
  }
  ADD_FAILURE() << needle << " not in the plan";
  return "";
}

struct Csv {
  std::vector<std::string> header;
  std::vector<std::vector<double>> rows;
  int Col(const std::string& name) const {
    const auto it = std::find(header.begin(), header.end(), name);
    EXPECT_NE(it, header.end()) << name;
    return static_cast<int>(it - header.begin());
  }
};

Csv ReadCsv(const std::string& path) {
  Csv csv;
  std::ifstream in(path);
  std::string line;
  auto split = [](const std::string& l) {
    std::vector<std::string> out;
    std::stringstream s(l);
    for (std::string cell; std::getline(s, cell, ',');) out.push_back(cell);
    return out;
  };
  if (std::getline(in, line)) csv.header = split(line);
  while (std::getline(in, line)) {
    std::vector<double> row;
    for (const std::string& cell : split(line)) row.push_back(std::stod(cell));
    EXPECT_EQ(row.size(), csv.header.size());
    csv.rows.push_back(row);
  }
  return csv;
}

TEST(SimulateE2e, HeldExitsZero) {
  const std::string dir = TempDir("sim-held");
  // The same shop without the sale: the autoscaler follows the daily curve.
  const std::string plan = WritePlan(dir, "shop.yaml", Replace(kShop, "events:\n  - flash-sale day 1 18:00 6x for 30m ramp 1m\n", ""));
  Proc p = RunHeadroom({"simulate", plan, "--days", "1", "--out", dir + "/out"});
  EXPECT_EQ(p.exit_code, 0) << p.out << p.err;
  EXPECT_NE(p.out.find("verdict: SLOs held (exit 0)"), std::string::npos) << p.out;
  const auto summary = nlohmann::json::parse(Slurp(dir + "/out/summary.json"));
  EXPECT_EQ(summary["verdict"], "held");
  EXPECT_EQ(summary["minutes_slo_broken"], 0);
  // With the sale, minReplicas raised for the whole day holds it too (--set), and so does the
  // summary's verdict for it.
  const std::string sale = WritePlan(dir, "sale.yaml", kShop);
  p = RunHeadroom({"simulate", sale, "--days", "1", "--set", "app.min=30", "--no-advice", "-q", "--out", dir + "/out2"});
  EXPECT_EQ(p.exit_code, 0) << p.out << p.err;
  EXPECT_EQ(p.out, "verdict: SLOs held (exit 0)\n");
}

TEST(SimulateE2e, FlashSaleWithSlowStartupBreaksAndExitsOne) {
  const std::string dir = TempDir("sim-broken");
  const std::string plan = WritePlan(dir, "shop.yaml", kShop);
  Proc p = RunHeadroom({"simulate", plan, "--days", "1", "--out", dir + "/out"});
  EXPECT_EQ(p.exit_code, 1) << p.out << p.err;
  EXPECT_EQ(p.err, "");
  EXPECT_NE(p.out.find("p95 SLO 300ms broken in"), std::string::npos) << p.out;
  EXPECT_NE(p.out.find("first at day 1 18:0"), std::string::npos) << p.out;
  EXPECT_NE(p.out.find("verdict: SLOs broken (exit 1)"), std::string::npos) << p.out;
  const auto summary = nlohmann::json::parse(Slurp(dir + "/out/summary.json"));
  EXPECT_EQ(summary["verdict"], "broken");
  EXPECT_GT(summary["minutes_slo_broken"].get<int>(), 0);
  EXPECT_GE(summary["first_broken_s"].get<double>(), 18 * 3600);
  // The advice names a minReplicas that holds the sale.
  ASSERT_EQ(summary["event_advice"].size(), 1u);
  EXPECT_TRUE(summary["event_advice"][0]["holds"].get<bool>());
  // minReplicas 30 all day as a variant in the same command: it holds; the base verdict still
  // sets the exit code.
  p = RunHeadroom({"simulate", plan, "--days", "1", "--no-advice", "--variant", "min30: app.min=30", "--out",
                   dir + "/out2"});
  EXPECT_EQ(p.exit_code, 1) << p.out << p.err;
  const auto with_variant = nlohmann::json::parse(Slurp(dir + "/out2/summary.json"));
  ASSERT_EQ(with_variant["variants"].size(), 1u);
  EXPECT_EQ(with_variant["variants"][0]["verdict"], "held");
}

TEST(SimulateE2e, BadInputIsOneLineWithItsOriginAndExitTwo) {
  const std::string dir = TempDir("sim-bad");
  struct Case {
    std::string what, plan, expected_prefix, expected_text;
    std::vector<std::string> extra;
  };
  const std::string late = Replace(kShop, "day 1 18:00", "day 9 18:00");
  const std::string period0 =
      Replace(kShop, "    target: 65%\n", "    target: 65%\n    scale_up: { policies: [{ type: pods, value: 4, period: 0s }] }\n");
  const std::string negative = Replace(kShop, "startup: 180s", "startup: -30s");
  const std::vector<Case> cases = {
      {"event outside the period", late, Origin("late.yaml", late, "flash-sale day 9", "flash-sale"),
       "event 'flash-sale' starts on day 9 at 18:00, outside the simulated period (1 days)", {}},
      {"policy with period 0", period0, Origin("period0.yaml", period0, "period: 0s", "0s"),
       "autoscaling.app.scale_up.policies[0].period: a policy period must be above 0", {}},
      {"negative startup", negative, Origin("negative.yaml", negative, "startup: -30s", "-30s"),
       "tiers[0](app).startup: invalid duration '-30s'", {}},
      {"bad --set", kShop, "--set app.hpa.colour:", "unknown setting", {"--set", "app.hpa.colour=red"}},
      {"bad --set value", kShop, "--set app.startup:", "'-5s' is negative", {"--set", "app.startup=-5s"}},
      {"--event outside the period", kShop, "--event 1:", "outside the simulated period (1 days)",
       {"--event", "late day 3 10:00 2x for 1m"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    std::string name = c.what == "event outside the period" ? "late.yaml"
                       : c.what == "policy with period 0"   ? "period0.yaml"
                       : c.what == "negative startup"       ? "negative.yaml"
                                                            : "shop.yaml";
    const std::string plan_dir = dir + "/" + std::to_string(&c - cases.data());
    const std::string plan = WritePlan(plan_dir, name, c.plan);
    std::vector<std::string> args = {"simulate", plan, "--days", "1", "--out", plan_dir + "/out"};
    args.insert(args.end(), c.extra.begin(), c.extra.end());
    Proc p = RunHeadroom(args);
    EXPECT_EQ(p.exit_code, 2) << p.err;
    EXPECT_EQ(Lines(p.err), 1) << p.err;
    // The plan path as given, then line:col: of the mistake.
    const bool in_plan = c.expected_prefix.find(".yaml:") != std::string::npos;
    const std::string prefix = "headroom simulate: " + (in_plan ? plan_dir + "/" : "") + c.expected_prefix;
    EXPECT_EQ(p.err.rfind(prefix, 0), 0u) << "expected prefix: " << prefix << "\ngot: " << p.err;
    EXPECT_NE(p.err.find(c.expected_text), std::string::npos) << p.err;
    EXPECT_EQ(p.out, "");
    EXPECT_FALSE(std::filesystem::exists(plan_dir + "/out/summary.json"));
  }
}

// The per-second series and the summary tell the same story.
TEST(SimulateE2e, SeriesAndSummaryAgree) {
  const std::string dir = TempDir("sim-agree");
  const std::string plan = WritePlan(dir, "shop.yaml", kShop);
  Proc p = RunHeadroom({"simulate", plan, "--days", "1", "--no-advice", "--out", dir + "/out"});
  ASSERT_EQ(p.exit_code, 1) << p.out << p.err;
  const auto summary = nlohmann::json::parse(Slurp(dir + "/out/summary.json"));
  const Csv csv = ReadCsv(dir + "/out/series.csv");
  ASSERT_EQ(csv.rows.size(), 86400u);
  EXPECT_EQ(summary["minutes"].get<int>() * 60, static_cast<int>(csv.rows.size()));

  // A minute is broken when more than 5 % of its requests (app arrivals) are slower than the SLO.
  const int t = csv.Col("t_s"), slow = csv.Col("slow_share"), arrivals = csv.Col("app_arrivals");
  std::map<int, std::pair<double, double>> minutes;  // minute -> (slow requests, requests)
  for (const auto& row : csv.rows) {
    auto& m = minutes[static_cast<int>(row[t]) / 60];
    m.first += row[slow] * row[arrivals];
    m.second += row[arrivals];
  }
  int broken_seconds = 0, first_broken = -1;
  for (const auto& [minute, m] : minutes) {
    if (m.second > 0 && m.first / m.second > 0.05) {
      broken_seconds += 60;
      if (first_broken < 0) first_broken = minute * 60;
    }
  }
  EXPECT_GT(broken_seconds, 0);
  EXPECT_EQ(summary["minutes_slo_broken"].get<int>(), broken_seconds / 60);
  EXPECT_EQ(summary["first_broken_s"].get<double>(), first_broken);

  double requests = 0, errors = 0, peak_offered = 0, max_p95_ms = 0;
  for (const auto& row : csv.rows) {
    requests += row[arrivals];
    errors += row[csv.Col("errors")];
    peak_offered = std::max(peak_offered, row[csv.Col("offered_rps")]);
    if (row[arrivals] > 0) max_p95_ms = std::max(max_p95_ms, row[csv.Col("p95_ms")]);
  }
  // The series rounds to 0.01 per second: 86,400 roundings of at most 0.005 each.
  EXPECT_NEAR(summary["requests"].get<double>(), requests, 0.005 * 86400 + 1);
  EXPECT_NEAR(summary["errors"].get<double>(), errors, 0.005 * 86400 + 1);
  EXPECT_GT(errors, 0);
  EXPECT_NEAR(summary["peak_offered_rps"].get<double>(), peak_offered, 0.005);
  EXPECT_NEAR(summary["max_p95_ms"].get<double>(), max_p95_ms, 0.05);

  for (const auto& tier : summary["tiers"]) {
    const std::string name = tier["name"];
    SCOPED_TRACE(name);
    int peak = 0, low = 1 << 30;
    double peak_backlog = 0, peak_backlog_at = 0, peak_util = 0;
    for (const auto& row : csv.rows) {
      peak = std::max(peak, static_cast<int>(row[csv.Col(name + "_desired")]));
      low = std::min(low, static_cast<int>(row[csv.Col(name + "_desired")]));
      peak_util = std::max(peak_util, row[csv.Col(name + "_utilization")]);
      if (row[csv.Col(name + "_backlog")] > peak_backlog) {
        peak_backlog = row[csv.Col(name + "_backlog")];
        peak_backlog_at = row[t];
      }
    }
    EXPECT_EQ(tier["peak_units"].get<int>(), peak);
    EXPECT_EQ(tier["min_units"].get<int>(), low);
    EXPECT_NEAR(tier["peak_utilization"].get<double>(), peak_util, 0.00005);
    EXPECT_NEAR(tier["peak_backlog"].get<double>(), peak_backlog, 0.05);
    if (peak_backlog > 0) EXPECT_EQ(tier["peak_backlog_at_s"].get<double>(), peak_backlog_at);
  }
  EXPECT_GT(summary["tiers"][0]["peak_backlog"].get<double>(), 0);

  // series.json: the same columns and the same numbers, row for row.
  const auto json = nlohmann::json::parse(Slurp(dir + "/out/series.json"));
  EXPECT_EQ(json["schema"], "headroom.simulation.series/1");
  EXPECT_EQ(json["name"], summary["name"]);
  EXPECT_EQ(json["step_s"], 1);
  EXPECT_EQ(json["columns"].get<std::vector<std::string>>(), csv.header);
  ASSERT_EQ(json["rows"].size(), csv.rows.size());
  size_t differing = 0;
  for (size_t i = 0; i < csv.rows.size(); ++i)
    if (json["rows"][i].get<std::vector<double>>() != csv.rows[i] && differing++ < 3)
      ADD_FAILURE() << "row " << i << " differs between series.json and series.csv";
  EXPECT_EQ(differing, 0u);
}

TEST(SimulateE2e, SeriesFormatsAreChosenWithSeries) {
  const std::string dir = TempDir("sim-series");
  const std::string plan = WritePlan(dir, "shop.yaml", kShop);
  const std::pair<const char*, std::vector<const char*>> cases[] = {
      {"csv", {"series.csv"}}, {"json", {"series.json"}}, {"none", {}}, {"json,csv", {"series.csv", "series.json"}}};
  for (const auto& [formats, files] : cases) {
    SCOPED_TRACE(formats);
    const std::string out = dir + "/out-" + formats;
    Proc p = RunHeadroom({"simulate", plan, "--days", "1", "--no-advice", "--series", formats, "--out", out});
    EXPECT_EQ(p.exit_code, 1) << p.err;
    EXPECT_TRUE(std::filesystem::exists(out + "/summary.json"));
    for (const char* f : {"series.csv", "series.json"}) {
      const bool wanted = std::find_if(files.begin(), files.end(), [&](const char* x) { return std::string(x) == f; }) != files.end();
      EXPECT_EQ(std::filesystem::exists(out + "/" + f), wanted) << f;
      EXPECT_EQ(p.out.find(std::string("/") + f) != std::string::npos, wanted) << p.out;
    }
  }
  Proc p = RunHeadroom({"simulate", plan, "--days", "1", "--series", "xml", "--out", dir + "/bad"});
  EXPECT_EQ(p.exit_code, 2);
  EXPECT_EQ(p.err, "headroom simulate: --series 'xml': expected csv, json, csv,json or none\n");
}

}  // namespace

namespace {

// docs/simulate.md's example: examples/plans/flash-sale-shop.yaml breaks (exit 1) and the
// advice's minReplicas 16 holds it (exit 0), as the docs show.
TEST(SimulateE2e, DocumentedExampleBreaksAndItsFixHolds) {
  const std::string plan = HEADROOM_SOURCE_DIR "/examples/plans/flash-sale-shop.yaml";
  const std::string dir = e2e::TempDir("sim-example");
  e2e::Proc p = e2e::RunHeadroom({"simulate", plan, "--days", "1", "--series", "none", "--out", dir + "/base"});
  EXPECT_EQ(p.exit_code, 1) << p.out << p.err;
  EXPECT_NE(p.out.find("p95 SLO 300ms broken in 13 of 1440 minutes"), std::string::npos) << p.out;
  EXPECT_NE(p.out.find("raise app minReplicas to 16 at least 5 min before it starts"), std::string::npos) << p.out;
  p = e2e::RunHeadroom({"simulate", plan, "--days", "1", "--set", "app.min=16", "--series", "none", "--out", dir + "/min16"});
  EXPECT_EQ(p.exit_code, 0) << p.out << p.err;
  EXPECT_NE(p.out.find("p95 SLO 300ms held in all 1440 minutes"), std::string::npos) << p.out;
}

}  // namespace
