// Per-workload demand: the main request traffic and each of PlanInput::workloads at a phase, with
// the work each puts on the tiers it hits (ComputeLoads sums them; this splits them back out).
#include <cmath>

#include "plan/planner_internal.h"

namespace headroom::plan {
namespace {

std::string_view StreamKindName(StreamKind kind) {
  switch (kind) {
    case StreamKind::kApi: return "api";
    case StreamKind::kIngestion: return "ingestion";
    case StreamKind::kPeriodic: return "periodic";
  }
  return "api";
}

std::string Millis(double ms) { return Num(ms) + "ms"; }

}  // namespace

void FillWorkloads(const Model& m, const Loads& l, PhaseResult& ph) {
  const PlanInput& in = m.in;
  if (in.workloads.empty()) return;
  double mult = l.required_rps / (in.traffic.peak_rps * in.safety_factor);
  WorkloadDemand main;
  main.name = "requests";
  main.kind = "requests";
  main.demand_rps = ph.demand_rps;
  main.required_rps = ph.required_rps;
  main.app_rps = l.app_rps;
  main.db_reads = l.db_reads_raw;
  main.db_writes = l.writes;
  main.jobs = l.jobs - l.deferred;
  for (const Loads::Stream& st : l.streams) {
    main.db_reads -= st.db_reads;
    main.db_writes -= st.writes;
    main.jobs -= st.jobs;
  }
  for (size_t i = 0; i < in.workloads.size(); ++i)
    if (in.workloads[i].kind != StreamKind::kPeriodic) main.app_rps -= l.streams[i].rps;
  main.slo = "p95 < " + Millis(in.slo.p95_ms) + ", error rate < " + Pct(in.slo.error_rate);
  ph.workloads.push_back(main);
  for (size_t i = 0; i < in.workloads.size(); ++i) {
    const WorkloadStream& w = in.workloads[i];
    const Loads::Stream& st = l.streams[i];
    bool periodic = w.kind == StreamKind::kPeriodic;
    double share = w.growth_monthly && in.traffic.growth_monthly > 0
                       ? std::log1p(*w.growth_monthly) / std::log1p(in.traffic.growth_monthly)
                       : 1;
    double today = periodic ? w.jobs / w.delay_s : w.rate_rps;
    std::string unit = periodic ? " jobs/s" : " req/s";
    WorkloadDemand d;
    d.name = w.name;
    d.kind = std::string(StreamKindName(w.kind));
    std::string growth =
        share == 1 ? " x " + Num(mult) + " (grows with the requests)"
                   : " x " + Num(mult) + "^" + Num(share) + " (its " + Pct(*w.growth_monthly) +
                         "/month against the requests' " + Pct(in.traffic.growth_monthly) + ")";
    std::string base = periodic ? Num(w.jobs) + " jobs every " + Num(w.every_s) + "s, done within " +
                                      Num(w.delay_s) + "s = " + Num(today) + " jobs/s today"
                                : Num(today) + unit + " today";
    d.demand_rps = {st.rps / in.safety_factor, base + growth};
    d.required_rps = {st.rps, Num(st.rps / in.safety_factor) + unit + " x safety " +
                                  Num(in.safety_factor)};
    d.app_rps = periodic ? 0 : st.rps;
    d.db_reads = st.db_reads;
    d.db_writes = st.writes;
    d.jobs = st.jobs;
    if (periodic) {
      d.slo = "batch done within " + Num(w.delay_s) + "s";
    } else {
      d.slo = w.p95_ms ? "p95 < " + Millis(*w.p95_ms) : "p95 < " + Millis(in.slo.p95_ms) + " (the plan's)";
    }
    ph.workloads.push_back(d);
  }
}

}  // namespace headroom::plan
