// The plan `headroom demo` ends with: only what the demo measured. The demo loads the embedded
// target (one thread, no database or cache behind it), so the plan has one tier, the app, at the
// capacity the stress phase found; it invents no tier it did not measure.
#include "plan/plan.h"

namespace headroom::plan {

PlanInput DemoPlanInput(double measured_capacity_rps, double p95_ms) {
  PlanInput in;
  in.name = "headroom demo target";
  in.description = "Plan built from the capacity headroom demo just measured on the embedded "
                   "target: one app tier, nothing assumed behind it.";
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
  // The target answers every request itself: no database reads, nothing a cache or CDN takes.
  in.workload.read_share = 1;
  in.workload.queries_per_read = 0;
  in.workload.reads_per_write = 0;
  in.workload.writes_per_write = 0;

  TierSpec app;
  app.name = "app";
  app.kind = TierKind::kApp;
  app.count = 1;
  app.capacity_rps = measured_capacity_rps;
  app.capacity_source = "measured: headroom demo, stress phase find-capacity, stress.capacity_rps";
  app.capacity_measured = true;
  app.concurrency = 1;  // the demo's target serves on one thread
  app.unit_cost = 150;
  app.sessions = Sessions::kNone;
  app.startup_s = 20;
  in.tiers.push_back(app);

  if (auto remedies = DefaultRemedies()) in.remedies = std::move(*remedies);
  return in;
}

}  // namespace headroom::plan
