// The second-by-second loop on small configurations whose outcome is worked out by hand.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "sim/sim.h"

namespace headroom::sim {
namespace {

// Constant traffic (no daily or weekly shape) at `rps`, one fixed app tier.
SimConfig Flat(double rps, double capacity, int units, double period_s) {
  SimConfig c;
  c.name = "flat";
  c.traffic.peak_rps = rps;
  c.traffic.daily_peak_factor = 1;
  c.traffic.weekly = {1, 1, 1, 1, 1, 1, 1};
  c.period_s = period_s;
  c.slo_p95_s = 0.3;
  c.timeout_s = 1000;
  TierModel app;
  app.name = "app";
  app.units = units;
  app.capacity_per_unit = capacity;
  app.concurrency = 2;  // service time 2 / capacity: 20 ms at 100/s
  app.unit_cost_month = 300;
  c.tiers.push_back(app);
  return c;
}

plan::EventSpec Event(const std::string& text) {
  auto e = plan::ParseEvent(text, "test");
  EXPECT_TRUE(e.has_value());
  return *e;
}

TEST(SimulateTest, UnderCapacityHoldsAndCostsUnitTime) {
  SimConfig c = Flat(100, 200, 2, 3600);  // 25 % utilization
  ASSERT_EQ(CheckConfig(c), "");
  const Summary s = Simulate(c, nullptr);
  EXPECT_TRUE(s.held);
  EXPECT_EQ(s.minutes, 60);
  EXPECT_EQ(s.minutes_slo_broken, 0);
  EXPECT_DOUBLE_EQ(s.errors, 0);
  EXPECT_DOUBLE_EQ(s.requests, 100.0 * 3600);
  // 2 units x 300 per 30 days for one hour: 600 / 720 = 0.8333.
  EXPECT_NEAR(s.cost, 600.0 / 720, 1e-9);
  ASSERT_EQ(s.tiers.size(), 1u);
  EXPECT_NEAR(s.tiers[0].peak_utilization, 0.25, 1e-9);
  EXPECT_DOUBLE_EQ(s.tiers[0].peak_backlog, 0);
}

TEST(SimulateTest, OverloadBuildsABacklogThatDrains) {
  // 50 req/s normally, 150 req/s for the first minute, against 100 req/s of capacity:
  // +50 per second for 60 s -> 3,000 waiting at t=59, then -50 per second: empty at t=119, so
  // the backlog is non-zero for 119 s (t=0..118).
  SimConfig c = Flat(50, 100, 1, 600);
  c.traffic.events.push_back(Event("burst day 1 00:00 3x for 60s"));
  std::vector<double> backlog;
  const Summary s = Simulate(c, [&](const SecondRow& r) { backlog.push_back((*r.tiers)[0].backlog); });
  ASSERT_EQ(backlog.size(), 600u);
  EXPECT_NEAR(backlog[59], 3000, 1e-6);
  EXPECT_NEAR(backlog[118], 50, 1e-6);
  EXPECT_NEAR(backlog[119], 0, 1e-6);
  EXPECT_NEAR(s.tiers[0].peak_backlog, 3000, 1e-6);
  EXPECT_DOUBLE_EQ(s.tiers[0].peak_backlog_at_s, 59);
  EXPECT_DOUBLE_EQ(s.tiers[0].longest_drain_s, 119);
  // A request arriving at t=59 waits 3,000 / 100 = 30 s.
  EXPECT_NEAR(s.tiers[0].max_wait_s, 30, 1e-9);
  EXPECT_DOUBLE_EQ(s.errors, 0);  // timeout 1000 s: nobody gives up
  EXPECT_GE(s.minutes_slo_broken, 2);
  EXPECT_FALSE(s.held);
}

TEST(SimulateTest, RequestsPastTheTimeoutAreErrors) {
  // Same burst, timeout 10 s: at most 10 s x 100/s = 1,000 may wait. The backlog reaches 1,000
  // at t=19; from t=20 to t=59 each second's extra 50 fails: 40 x 50 = 2,000 errors.
  SimConfig c = Flat(50, 100, 1, 600);
  c.timeout_s = 10;
  c.traffic.events.push_back(Event("burst day 1 00:00 3x for 60s"));
  const Summary s = Simulate(c, nullptr);
  EXPECT_NEAR(s.errors, 2000, 1e-6);
  EXPECT_NEAR(s.tiers[0].peak_backlog, 1000, 1e-6);
  // Budget: 0.1 % of the month's requests at this pace (requests x 30 days / 600 s).
  EXPECT_NEAR(s.error_budget_month, 0.001 * s.requests * kMonthS / 600, 1e-6);
  EXPECT_NEAR(s.budget_burned, 2000 / s.error_budget_month, 1e-9);
}

TEST(SimulateTest, NewUnitsServeOnlyAfterStartup) {
  // Load steps from 100 to 300 req/s at t=60 on 2 units of 100/s with an HPA at 50 %: the HPA
  // scales at a sync; the new units are ready exactly startup (90 s) after that sync.
  SimConfig c = Flat(100, 100, 2, 900);
  c.traffic.events.push_back(Event("step day 1 00:01 3x for 1h"));
  HpaSpec h;
  h.min_replicas = 2;
  h.max_replicas = 20;
  h.target = 0.5;
  h.metric_lag_s = 0;
  c.tiers[0].hpa = h;
  c.tiers[0].startup_s = 90;
  ASSERT_EQ(CheckConfig(c), "");
  double first_scale = -1, first_ready = -1;
  int prev_desired = -1, prev_ready = -1;
  Simulate(c, [&](const SecondRow& r) {
    const TierSecond& t = (*r.tiers)[0];
    if (prev_desired >= 0 && t.desired > prev_desired && first_scale < 0) first_scale = r.t_s;
    if (prev_ready >= 0 && t.ready > prev_ready && first_ready < 0) first_ready = r.t_s;
    prev_desired = t.desired;
    prev_ready = t.ready;
  });
  ASSERT_GE(first_scale, 60);
  // The sync happens at the end of second first_scale - 1, i.e. at time first_scale.
  EXPECT_DOUBLE_EQ(first_ready, first_scale + 90);
  EXPECT_EQ(std::fmod(first_scale, 15), 0);
}

TEST(SimulateTest, TiersBelowSeeWhatTheAppServes) {
  // The app can serve 100 req/s; 150 arrive. The database (2 queries per request) sees 200/s,
  // never 300/s, and with 150/s of capacity builds its own backlog.
  SimConfig c = Flat(150, 100, 1, 120);
  TierModel db;
  db.name = "db";
  db.kind = plan::TierKind::kDatabase;
  db.feed = Feed::kAppServed;
  db.factor = 2;
  db.units = 1;
  db.capacity_per_unit = 150;
  db.concurrency = 16;
  c.tiers.push_back(db);
  double max_db_arrivals = 0;
  const Summary s = Simulate(c, [&](const SecondRow& r) { max_db_arrivals = std::max(max_db_arrivals, (*r.tiers)[1].arrivals); });
  EXPECT_NEAR(max_db_arrivals, 200, 1e-9);
  EXPECT_NEAR(s.tiers[1].peak_backlog, 50 * 120, 1e-6);  // 200 in, 150 out, for 120 s (timeout 1000 s)
}

TEST(SimulateTest, ConfigProblemsNameTheirOrigin) {
  SimConfig c = Flat(100, 200, 2, 7 * kDayS);
  auto e = plan::ParseEvent("sale day 9 18:00 6x for 30m", "plan.yaml:40:5");
  ASSERT_TRUE(e.has_value());
  c.traffic.events.push_back(*e);
  c.tiers[0].startup_s = -30;
  const std::string text = CheckConfig(c);
  EXPECT_NE(text.find("plan.yaml:40:5: event 'sale' starts on day 9 at 18:00, outside the simulated period (7 days)"),
            std::string::npos) << text;
  EXPECT_NE(text.find("app.startup: must not be negative"), std::string::npos) << text;
}

TEST(SimulateTest, SetChangesOneSetting) {
  SimConfig c = Flat(100, 200, 2, 3600);
  HpaSpec h;
  c.tiers[0].hpa = h;
  ASSERT_TRUE(ApplySet(c, "app.hpa.target=65%").has_value());
  EXPECT_DOUBLE_EQ(c.tiers[0].hpa->target, 0.65);
  ASSERT_TRUE(ApplySet(c, "app.min=8").has_value());
  EXPECT_EQ(c.tiers[0].hpa->min_replicas, 8);
  ASSERT_TRUE(ApplySet(c, "app.startup=30s").has_value());
  EXPECT_DOUBLE_EQ(c.tiers[0].startup_s, 30);
  ASSERT_TRUE(ApplySet(c, "app.hpa.scale_down.stabilization=0").has_value());
  EXPECT_DOUBLE_EQ(c.tiers[0].hpa->scale_down.stabilization_s, 0);
  const std::pair<const char*, const char*> bad[] = {
      {"app.startup=-30s", "--set app.startup: '-30s' is negative"},
      {"db.min=3", "no tier 'db' (tiers: app)"},
      {"app.min=x", "not a whole number"},
      {"app.hpa.colour=red", "unknown setting"},
      {"app", "expected TIER.KEY=VALUE"},
  };
  for (const auto& [set, message] : bad) {
    auto st = ApplySet(c, set);
    ASSERT_FALSE(st.has_value()) << set;
    EXPECT_NE(st.error().message.find(message), std::string::npos) << set << " -> " << st.error().message;
  }
}

TEST(SimulateTest, AdviceRaisesMinReplicasBeforeTheEvent) {
  // 4x at 12:00 on a flat 100 req/s: 400 req/s needs 400 / (100 x 0.8) = 5 units at target, and
  // the HPA with 90 s startup cannot get there in time from 2. The advice finds a minimum that
  // holds the window, raised startup + sync (rounded up to minutes) + 1 minute before.
  SimConfig c = Flat(100, 100, 2, kDayS);
  c.traffic.events.push_back(Event("sale day 1 12:00 4x for 30m"));
  HpaSpec h;
  h.min_replicas = 2;
  h.max_replicas = 10;
  h.target = 0.8;
  c.tiers[0].hpa = h;
  c.tiers[0].startup_s = 90;
  const Summary without = Simulate(c, nullptr);
  EXPECT_FALSE(without.held);
  auto advice = AdviseForEvents(c);
  ASSERT_EQ(advice.size(), 1u);
  EXPECT_TRUE(advice[0].holds);
  EXPECT_GE(advice[0].min_replicas, 5);
  EXPECT_LE(advice[0].min_replicas, 10);
  EXPECT_DOUBLE_EQ(advice[0].lead_s, 180);  // ceil((15 + 90) / 60) = 2 min, + 1 min
  c.raises.push_back({"app", advice[0].min_replicas, 12 * 3600 - advice[0].lead_s, 12 * 3600 + 1800});
  const Summary with = Simulate(c, nullptr);
  EXPECT_DOUBLE_EQ(with.errors, 0);
  EXPECT_LT(with.minutes_slo_broken, without.minutes_slo_broken);
}

// Simulate (traffic curve per second of the day, queue tail per utilization bucket, counters for
// the minute and sync ticks) equals SimulateUncached (everything evaluated afresh every second)
// bit for bit: every row, every tier, and the summary. Tolerance 0 is the stated one.
void ExpectCachedEqualsUncached(const SimConfig& c) {
  ASSERT_EQ(CheckConfig(c), "");
  struct Row {
    SecondRow row;
    std::vector<TierSecond> tiers;
  };
  auto record = [](std::vector<Row>& rows) {
    return [&rows](const SecondRow& r) {
      rows.push_back({r, *r.tiers});
      rows.back().row.tiers = nullptr;
    };
  };
  std::vector<Row> fast, exact;
  const Summary a = Simulate(c, record(fast));
  const Summary b = SimulateUncached(c, record(exact));
  ASSERT_EQ(fast.size(), exact.size());
  size_t differing = 0;
  for (size_t i = 0; i < fast.size(); ++i) {
    const SecondRow &x = fast[i].row, &y = exact[i].row;
    bool same = x.t_s == y.t_s && x.offered_rps == y.offered_rps && x.p95_s == y.p95_s &&
                x.slow_share == y.slow_share && x.errors == y.errors;
    for (size_t k = 0; k < fast[i].tiers.size(); ++k) {
      const TierSecond &p = fast[i].tiers[k], &q = exact[i].tiers[k];
      same = same && p.arrivals == q.arrivals && p.served == q.served && p.backlog == q.backlog &&
             p.dropped == q.dropped && p.utilization == q.utilization && p.desired == q.desired &&
             p.ready == q.ready && p.wait_s == q.wait_s;
    }
    if (!same && differing++ < 3) ADD_FAILURE() << "second " << x.t_s << " differs";
  }
  EXPECT_EQ(differing, 0u);
  EXPECT_EQ(a.minutes, b.minutes);
  EXPECT_EQ(a.minutes_slo_broken, b.minutes_slo_broken);
  EXPECT_EQ(a.first_broken_s, b.first_broken_s);
  EXPECT_EQ(a.requests, b.requests);
  EXPECT_EQ(a.errors, b.errors);
  EXPECT_EQ(a.max_p95_s, b.max_p95_s);
  EXPECT_EQ(a.cost, b.cost);
  ASSERT_EQ(a.tiers.size(), b.tiers.size());
  for (size_t k = 0; k < a.tiers.size(); ++k) {
    EXPECT_EQ(a.tiers[k].peak_units, b.tiers[k].peak_units);
    EXPECT_EQ(a.tiers[k].peak_backlog, b.tiers[k].peak_backlog);
    EXPECT_EQ(a.tiers[k].longest_drain_s, b.tiers[k].longest_drain_s);
  }
}

// bench/sim_bench's three tiers: an app under an HPA, a database, workers on queue length;
// growth, a daily and weekly shape and a flash sale that breaks the SLO.
SimConfig ThreeTiers(double days) {
  SimConfig c;
  c.name = "three";
  c.period_s = days * kDayS;
  c.traffic.peak_rps = 2000;
  c.traffic.growth_monthly = 0.3;
  c.traffic.events.push_back(Event("flash-sale day 1 18:00 6x for 30m ramp 2m"));
  c.traffic.events.push_back(Event("promo day 2 09:30 2x for 2h ramp 10m"));
  TierModel app;
  app.name = "app";
  app.capacity_per_unit = 200;
  app.concurrency = 16;
  app.startup_s = 90;
  HpaSpec h;
  h.min_replicas = 4;
  h.max_replicas = 80;
  h.target = 0.65;
  app.hpa = h;
  TierModel db;
  db.name = "db";
  db.kind = plan::TierKind::kDatabase;
  db.feed = Feed::kAppServed;
  db.factor = 3;
  db.capacity_per_unit = 30000;
  db.concurrency = 32;
  TierModel workers;
  workers.name = "workers";
  workers.kind = plan::TierKind::kWorkers;
  workers.feed = Feed::kAppServed;
  workers.factor = 0.05;
  workers.capacity_per_unit = 50;
  workers.synchronous = false;
  HpaSpec k;
  k.metric = MetricKind::kAverageValue;
  k.target = 100;
  k.min_replicas = 1;
  k.max_replicas = 40;
  workers.hpa = k;
  c.tiers = {app, db, workers};
  return c;
}

TEST(SimulateTest, CachedLoopEqualsTheUncachedOne) {
  SimConfig c = ThreeTiers(3);
  {
    SCOPED_TRACE("three tiers, 3 days");
    ExpectCachedEqualsUncached(c);
  }
  {
    SCOPED_TRACE("a window starting mid-day, as the advice runs it, with a raise");
    SimConfig w = c;
    w.traffic.events.resize(1);  // the flash sale on day 1
    w.start_s = 17 * 3600;
    w.period_s = 3 * 3600 + 1234;  // not whole minutes: the last minute is short
    w.raises.push_back({"app", 30, 17.5 * 3600, 18.6 * 3600});
    ExpectCachedEqualsUncached(w);
  }
  {
    SCOPED_TRACE("a fractional sync period falls back to the times");
    SimConfig f = c;
    f.period_s = kDayS;
    f.traffic.events.resize(1);
    f.tiers[0].hpa->sync_s = 7.5;
    f.tiers[0].hpa->metric_lag_s = 0;
    ExpectCachedEqualsUncached(f);
  }
  {
    SCOPED_TRACE("no growth, a slow database with a backlog");
    SimConfig d = c;
    d.period_s = 2 * kDayS;
    d.traffic.growth_monthly = 0;
    d.tiers[1].capacity_per_unit = 20000;
    ExpectCachedEqualsUncached(d);
  }
}

}  // namespace
}  // namespace headroom::sim

namespace headroom::sim {
namespace {

// An unstable queue's wait is not a number: the JSON series writes null and the CSV an empty
// cell, so both files stay parseable.
TEST(SeriesFiles, NonFiniteFiguresStayParseable) {
  const SimConfig c = Flat(10, 100, 1, 10);
  const std::string dir = ::testing::TempDir();
  auto json_series = JsonSeries::Open(dir + "/nonfinite.json", c);
  auto csv_series = CsvSeries::Open(dir + "/nonfinite.csv", c);
  ASSERT_TRUE(json_series.has_value() && csv_series.has_value());
  std::vector<TierSecond> tiers(1);
  tiers[0].utilization = std::nan("");
  SecondRow row;
  row.t_s = 1;
  row.p95_s = INFINITY;
  row.tiers = &tiers;
  (*json_series)->Row(row);
  (*csv_series)->Row(row);
  ASSERT_TRUE((*json_series)->Close().has_value());
  ASSERT_TRUE((*csv_series)->Close().has_value());
  std::ifstream in(dir + "/nonfinite.json");
  const auto doc = nlohmann::json::parse(in, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << "series.json must be JSON";
  EXPECT_TRUE(doc["rows"][0][2].is_null()) << doc["rows"][0].dump();  // p95_ms
  std::ifstream csv(dir + "/nonfinite.csv");
  std::string header, line;
  std::getline(csv, header);
  std::getline(csv, line);
  EXPECT_EQ(line.find("inf"), std::string::npos) << line;
  EXPECT_EQ(line.find("nan"), std::string::npos) << line;
  EXPECT_EQ(std::count(line.begin(), line.end(), ','), std::count(header.begin(), header.end(), ','));
}

}  // namespace
}  // namespace headroom::sim
