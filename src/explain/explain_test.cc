// Data-driven: each testdata/NAME.json is a results.json with watched tiers; the ranking's first
// finding is checked here, and the whole text against testdata/NAME.txt (HEADROOM_UPDATE_GOLDEN=1
// rewrites the .txt files: review the diff).
#include "explain/explain.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace headroom::explain {
namespace {

namespace fs = std::filesystem;
const fs::path kDir = fs::path(HEADROOM_SOURCE_DIR) / "src/explain/testdata";

std::string Read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Explanation MustExplain(const std::string& name) {
  auto e = Explain(nlohmann::json::parse(Read(kDir / (name + ".json"))));
  EXPECT_TRUE(e.has_value()) << name << ": " << (e ? "" : e.error().message);
  return e ? *e : Explanation{};
}

struct Want {
  const char* name;
  const char* tier;        // first finding's tier ("" = no finding)
  const char* resource;    // first finding's resource
  const char* change;      // text its change must hold
  bool elsewhere;          // "nothing saturated" / "nothing watched" note expected
};

const Want kCases[] = {
    {"missing_index", "db", "index", "CREATE INDEX CONCURRENTLY ON public.orders (customer_id);", false},
    {"pinned_process", "app", "cpu", "4 workers", false},
    {"redis_evicting", "cache", "memory", "maxmemory-policy allkeys-lru", false},
    {"pool_exhausted", "db", "connections", "pool_mode = transaction", false},
    {"n_plus_one", "db", "statements", "WHERE id = ANY($1)", true},
    {"cpu_contention", "box", "cpu", "hosts of this size", false},
    // Real runs of the reference shop (headroom target --postgres --redis --flaws F) on a busy
    // 2-core host, trimmed to the phases and tiers: each flaw ranks first, above the host CPU.
    {"shop_missing_index", "db", "index", "CREATE INDEX CONCURRENTLY ON public.orders (customer_id);", false},
    {"shop_small_cache", "cache", "memory", "maxmemory-policy allkeys-lru` (now allkeys-random)", false},
    {"shop_tiny_pool", "app", "connection pool", "raise the pool from 1 to", false},
    {"shop_one_thread", "app", "threads", "raise the request threads from 1 to", false},
    {"nothing_saturated", "", "", "", true},
    {"no_tiers", "", "", "", true},
};

TEST(Explain, EachCaseRanksItsCulpritFirst) {
  for (const Want& w : kCases) {
    SCOPED_TRACE(w.name);
    Explanation e = MustExplain(w.name);
    if (*w.tier == '\0') {
      EXPECT_TRUE(e.findings.empty()) << Text(e);
    } else {
      ASSERT_FALSE(e.findings.empty()) << Text(e);
      EXPECT_EQ(e.findings[0].tier, w.tier) << Text(e);
      EXPECT_EQ(e.findings[0].resource, w.resource) << Text(e);
      EXPECT_NE(e.findings[0].change.find(w.change), std::string::npos) << e.findings[0].change;
      EXPECT_FALSE(e.findings[0].evidence.empty());
    }
    EXPECT_EQ(!e.elsewhere.empty(), w.elsewhere) << e.elsewhere;
    for (size_t i = 1; i < e.findings.size(); ++i) EXPECT_GE(e.findings[i - 1].severity, e.findings[i].severity);
  }
}

TEST(Explain, TheKneeIsTheLowestRateThatBrokeAndItsNeighbourTheHighestThatHeld) {
  Explanation e = MustExplain("missing_index");
  EXPECT_TRUE(e.at.knee);
  EXPECT_EQ(e.at.rate_rps, 400);
  ASSERT_TRUE(e.before.has_value());
  EXPECT_EQ(e.before->rate_rps, 200);
  // Sequential-scan rows rose 2.1x while load rose 2.0x: use, not contention.
  bool growth = false;
  for (const std::string& line : e.findings[0].evidence) growth = growth || line.find("while load rose 2.0x") != std::string::npos;
  EXPECT_TRUE(growth);
}

// What consumers beside the ranking read (headroom plan --results): where the point is in the
// curve, and every watched source's metric means there.
TEST(Explain, ThePointNamesItsStepAndCarriesEveryReading) {
  Explanation e = MustExplain("pool_exhausted");
  EXPECT_EQ(e.at.step, 1);  // the second rate tried, 800/s
  EXPECT_FALSE(e.at.p95_us.has_value());  // this file has no p95_us in its curve
  ASSERT_EQ(e.readings.size(), 2u);
  EXPECT_EQ(e.readings[0].tier, "box");
  EXPECT_EQ(e.readings[0].kind, "host");
  EXPECT_EQ(e.readings[1].tier, "db");
  EXPECT_EQ(e.readings[1].tier_kind, "database");
  EXPECT_EQ(e.readings[1].kind, "postgres");
  EXPECT_TRUE(e.readings[1].mean.contains("connections_ratio"));
  // A whole phase is the point when no stress step broke: step -1, its response-time p95.
  auto phase = Explain(nlohmann::json::parse(R"({"schema": "headroom.results/3", "phases": [{"name": "steady",
      "kind": "baseline", "status": "passed", "throughput": {"achieved_rps": 100},
      "latency": {"response_time_us": {"p95": 12000, "p99": 30000}}, "tiers": []}]})"));
  ASSERT_TRUE(phase.has_value()) << phase.error().message;
  EXPECT_EQ(phase->at.step, -1);
  EXPECT_EQ(phase->at.p95_us, 12000);
  EXPECT_EQ(phase->at.p99_us, 30000);
}

TEST(Explain, ContentionIsNamedWhenAResourceOutgrowsTheLoad) {
  Explanation e = MustExplain("cpu_contention");
  ASSERT_FALSE(e.findings.empty());
  bool named = false;
  for (const std::string& line : e.findings[0].evidence) named = named || line.find("contention, not just use") != std::string::npos;
  EXPECT_TRUE(named) << Text(e);
}

TEST(Explain, ACauseOutranksTheQueuesAndBusyResourcesItExplains) {
  // The small cache sends misses to PostgreSQL: request threads queue and the host's CPU is busy;
  // both rank below the evicting cache and name it.
  Explanation e = MustExplain("shop_small_cache");
  ASSERT_GE(e.findings.size(), 3u) << Text(e);
  EXPECT_EQ(e.findings[0].level, 2);
  for (size_t i = 1; i < e.findings.size(); ++i) {
    const Finding& f = e.findings[i];
    if (f.level == 2) continue;
    EXPECT_LT(f.severity, e.findings[0].severity) << f.title;
    EXPECT_NE(f.evidence.back().find("likely cause: the cache tier's memory finding"), std::string::npos) << f.title;
  }
  // Without a cause, the queue is first: one request thread.
  Explanation one = MustExplain("shop_one_thread");
  EXPECT_EQ(one.findings[0].level, 1);
}

TEST(Explain, ASlowStatementOnTheScannedTableJoinsTheIndexFinding) {
  Explanation e = MustExplain("shop_missing_index");
  int index = 0, statement = 0;
  for (const Finding& f : e.findings) {
    index += f.resource == "index";
    statement += f.resource == "statement";
  }
  EXPECT_EQ(index, 1);
  EXPECT_EQ(statement, 0) << Text(e);  // one cause, one finding
  bool joined = false;
  for (const std::string& line : e.findings[0].evidence) joined = joined || line.find("that statement takes") == 0;
  EXPECT_TRUE(joined) << Text(e);
}

TEST(Explain, NothingSaturatedSaysWhereElseToLook) {
  Explanation e = MustExplain("nothing_saturated");
  EXPECT_NE(e.elsewhere.find("no watched resource was saturated at 1,500/s"), std::string::npos) << e.elsewhere;
  EXPECT_NE(e.elsewhere.find("load generator"), std::string::npos) << e.elsewhere;
}

TEST(Explain, GoldenText) {
  for (const Want& w : kCases) {
    SCOPED_TRACE(w.name);
    const std::string text = Text(MustExplain(w.name)) + "\n" + Markdown(MustExplain(w.name));
    const fs::path golden = kDir / (std::string(w.name) + ".txt");
    if (std::getenv("HEADROOM_UPDATE_GOLDEN") != nullptr) std::ofstream(golden, std::ios::binary) << text;
    EXPECT_EQ(Read(golden), text);
  }
}

TEST(Explain, JsonHasTheRankingAndTheNote) {
  const nlohmann::ordered_json j = ToJson(MustExplain("n_plus_one"));
  EXPECT_EQ(j["schema"], "headroom.explain/1");
  ASSERT_EQ(j["bottlenecks"].size(), 1u);
  EXPECT_EQ(j["bottlenecks"][0]["resource"], "statements");
  EXPECT_FALSE(j["elsewhere"].is_null());
}

TEST(Explain, WhatIsNotAResultsFileIsAnError) {
  EXPECT_FALSE(Explain(nlohmann::json::parse(R"({"schema": "headroom.plan/1"})")).has_value());
  EXPECT_FALSE(Explain(nlohmann::json::parse(R"([1, 2])")).has_value());
  auto none = Explain(nlohmann::json::parse(R"({"schema": "headroom.results/3", "phases": []})"));
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().message, "results.json has no phases to explain");
}

}  // namespace
}  // namespace headroom::explain
