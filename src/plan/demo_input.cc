// The plan `headroom demo` ends with: the embedded target's measured capacity as one app unit,
// plus a modest database, so that the roadmap shows where the database takes over as the limit.
#include "plan/plan.h"

namespace headroom::plan {

PlanInput DemoPlanInput(double measured_capacity_rps, double p95_ms) {
  PlanInput in;
  in.name = "headroom demo target";
  in.description = "Plan built from the capacity headroom demo just measured on the embedded "
                   "target, with an assumed database behind it.";
  in.currency = "EUR";
  in.budget_monthly = 3000;
  in.safety_factor = 1.5;
  in.traffic.peak_rps = 0.4 * measured_capacity_rps;
  in.traffic.peak_source = "40 % of the measured capacity";
  in.traffic.dau = 10000;
  in.traffic.concurrent_users = 400;
  in.traffic.growth_monthly = 0.2;
  in.traffic.daily_peak_factor = 3;
  in.traffic.flash_sale_multiple = 4;
  in.slo.p95_ms = p95_ms;
  in.slo.availability = 0.999;
  in.slo.error_rate = 0.005;
  in.workload.read_share = 0.9;
  in.workload.queries_per_read = 2;
  in.workload.cacheable_reads = 0.6;
  in.workload.freshness_s = 30;

  TierSpec app;
  app.name = "app";
  app.kind = TierKind::kApp;
  app.count = 1;
  app.capacity_rps = measured_capacity_rps;
  app.capacity_source = "measured by headroom demo";
  app.concurrency = 8;
  app.unit_cost = 150;
  app.connections_per_unit = 20;
  app.sessions = Sessions::kNone;
  app.startup_s = 20;
  in.tiers.push_back(app);

  TierSpec db;
  db.name = "database";
  db.kind = TierKind::kDatabase;
  db.count = 1;
  db.capacity_rps = std::max(2.5 * measured_capacity_rps, 100.0);
  db.capacity_source = "assumed: 2.5x the app's measured rate";
  db.write_capacity_rps = std::max(0.5 * measured_capacity_rps, 20.0);
  db.concurrency = 8;
  db.unit_cost = 400;
  db.max_connections = 200;
  in.tiers.push_back(db);

  if (auto remedies = DefaultRemedies()) in.remedies = std::move(*remedies);
  return in;
}

}  // namespace headroom::plan
