// headroom simulate's loop: 30 days at 1-second steps with three tiers (an app under an HPA, a
// fixed database, workers under a queue-length scaler) and a flash sale. Prints the wall time
// for 1, 7 and 30 days (target: 30 days < 0.5 s) of sim::Simulate and, first in the same run, of
// sim::SimulateUncached (the same loop without its caches: the "before"), whether their
// summaries are equal, and the peak RSS after each, to show memory does not grow with the period
// (no series kept: the sink discards rows). The peer in the same run is
// the traffic curve alone over the same seconds, so a busy machine moves both figures together.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>

#include "sim/sim.h"

using namespace headroom;

namespace {

sim::SimConfig ThreeTiers(double days) {
  sim::SimConfig c;
  c.name = "bench";
  c.period_s = days * sim::kDayS;
  c.traffic.peak_rps = 2000;
  c.traffic.growth_monthly = 0.3;
  auto e = plan::ParseEvent("flash-sale day 1 18:00 6x for 30m ramp 2m", "bench");
  c.traffic.events.push_back(*e);
  sim::TierModel app;
  app.name = "app";
  app.capacity_per_unit = 200;
  app.concurrency = 16;
  app.startup_s = 90;
  sim::HpaSpec h;
  h.min_replicas = 4;
  h.max_replicas = 80;
  h.target = 0.65;
  app.hpa = h;
  sim::TierModel db;
  db.name = "db";
  db.kind = plan::TierKind::kDatabase;
  db.feed = sim::Feed::kAppServed;
  db.factor = 3;
  db.capacity_per_unit = 30000;
  db.concurrency = 32;
  sim::TierModel workers;
  workers.name = "workers";
  workers.kind = plan::TierKind::kWorkers;
  workers.feed = sim::Feed::kAppServed;
  workers.factor = 0.05;
  workers.capacity_per_unit = 50;
  workers.synchronous = false;
  sim::HpaSpec k;
  k.metric = sim::MetricKind::kAverageValue;
  k.target = 100;
  k.min_replicas = 1;
  k.max_replicas = 40;
  workers.hpa = k;
  c.tiers = {app, db, workers};
  return c;
}

long PeakRssKib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

}  // namespace

int main() {
  std::printf("%-6s %12s %12s %14s %10s %12s\n", "days", "uncached_s", "simulate_s", "curve_only_s", "ratio",
              "peak_rss_KiB");
  for (double days : {1.0, 7.0, 30.0}) {
    const sim::SimConfig c = ThreeTiers(days);
    double rows = 0, rows_ref = 0;
    auto t0 = std::chrono::steady_clock::now();
    sim::Summary r = sim::SimulateUncached(c, [&](const sim::SecondRow& row) { rows_ref += row.offered_rps > 0; });
    auto t1 = std::chrono::steady_clock::now();
    sim::Summary s = sim::Simulate(c, [&](const sim::SecondRow& row) { rows += row.offered_rps > 0; });
    auto t2 = std::chrono::steady_clock::now();
    double sink = 0;
    for (double t = 0; t < c.period_s; t += 1) sink += sim::OfferedRate(c.traffic, t);
    auto t3 = std::chrono::steady_clock::now();
    const double ref_s = std::chrono::duration<double>(t1 - t0).count();
    const double sim_s = std::chrono::duration<double>(t2 - t1).count();
    const double curve_s = std::chrono::duration<double>(t3 - t2).count();
    const bool same = r.minutes_slo_broken == s.minutes_slo_broken && r.errors == s.errors &&
                      r.max_p95_s == s.max_p95_s && r.cost == s.cost && rows == rows_ref;
    std::printf("%-6g %12.3f %12.3f %14.3f %10.1f %12ld   (%.0f rows, %d broken min, summaries %s, %.0f)\n", days,
                ref_s, sim_s, curve_s, sim_s / curve_s, PeakRssKib(), rows, s.minutes_slo_broken,
                same ? "equal" : "DIFFER", sink > 0 ? 1.0 : 0.0);
  }
  return 0;
}
