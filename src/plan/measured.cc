// `headroom plan --results`: capacity from the tiers a run watched. explain picks the point that
// matters (the knee, or the highest load) and ranks what it finds there; this file reads each
// watched tier's scarcest resource at that point and turns "achieved X req/s at utilization u"
// into a capacity in the plan's unit: the tier's load at X req/s (the plan's own workload model,
// today's configuration) / u. So at any rate R the planner puts the tier at (R / X) x u: the
// measured utilization, scaled linearly with load.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "explain/explain.h"
#include "plan/planner_internal.h"

namespace headroom::plan {
namespace {

const std::string kMissing = "missing 'capacity' (per unit, e.g. 1000/s, or 'results'), and ";

// Measured and declared capacities further apart than this are both named in plan.md.
constexpr double kNotableDifference = 1.25;

struct Candidate {
  std::string resource;
  double utilization = 0;
  std::string evidence;
};

std::optional<double> MeanOf(const explain::Reading& r, const std::string& metric) {
  auto it = r.mean.find(metric);
  if (it == r.mean.end() || !std::isfinite(it->second)) return std::nullopt;
  return it->second;
}

// The load-proportional utilizations one source shows. Memory of a host is left out: it does not
// grow with the request rate (explain reports it when it runs out).
void SourceCandidates(const explain::Reading& r, std::vector<Candidate>& out) {
  if (r.kind == "host") {
    const double cores = MeanOf(r, "cores").value_or(0);
    if (auto cpu = MeanOf(r, "cpu_ratio"))
      out.push_back({"cpu", *cpu, "host cpu_ratio " + Pct(*cpu) + (cores > 0 ? " of " + Num(cores) + " cores" : "")});
    if (auto disk = MeanOf(r, "disk_util_max_ratio"))
      out.push_back({"disk", *disk, "host disk_util_max_ratio " + Pct(*disk)});
  } else if (r.kind == "process") {
    auto ratio = MeanOf(r, "cpu_ratio");
    auto used = MeanOf(r, "cpu_cores");
    if (ratio) {
      std::string ev = r.source + " cpu_ratio " + Pct(*ratio);
      if (used && *ratio > 0) ev += " (" + Num(*used) + " of " + Num(*used / *ratio) + " cores)";
      out.push_back({"cpu", *ratio, ev});
    }
  } else if (r.kind == "postgres") {
    // Active backends grow with load (Little's law: throughput x time in a statement); idle pooled
    // connections do not, so the total is used only when explain finds it saturated.
    auto active = MeanOf(r, "connections.active");
    auto max = MeanOf(r, "max_connections");
    if (active && max && *max > 0)
      out.push_back({"connections", *active / *max,
                     "postgres connections.active " + Num(*active) + " of max_connections " + Num(*max)});
  } else if (r.kind == "redis") {
    if (auto cpu = MeanOf(r, "main_thread_cpu_cores"))
      out.push_back({"cpu", *cpu, "redis main_thread_cpu_cores " + Num(*cpu) + " (its one main thread)"});
    if (auto mem = MeanOf(r, "memory_ratio"))
      out.push_back({"memory", *mem, "redis memory_ratio " + Pct(*mem) + " of maxmemory"});
  }
}

WatchedTier ReadWatchedTier(const std::string& name, const std::vector<explain::Reading>& readings,
                            const std::vector<explain::Finding>& findings) {
  WatchedTier w;
  w.name = name;
  std::vector<Candidate> candidates;
  std::vector<std::string> kinds;
  for (const explain::Reading& r : readings) {
    if (r.tier != name) continue;
    w.kind = r.tier_kind;
    kinds.push_back(r.kind);
    SourceCandidates(r, candidates);
    if (!w.latency_ms && r.kind == "postgres") {
      if (auto mean = MeanOf(r, "statement_mean_ms")) {
        w.latency_ms = *mean;
        w.latency_metric = "postgres statement_mean_ms (mean statement time)";
      } else if (r.activity_mean_ms) {
        w.latency_ms = r.activity_mean_ms;
        w.latency_metric = "postgres top statements' time / calls";
      }
    }
    if (!w.work_per_s && r.kind == "redis") {
      w.work_per_s = MeanOf(r, "ops_per_s");
      w.work_metric = "redis ops_per_s";
    }
    if (!w.work_per_s && r.kind == "postgres") {
      w.work_per_s = MeanOf(r, "statement_calls_per_s");
      w.work_metric = "postgres statement_calls_per_s";
    }
    if (!w.latency_ms && r.kind == "redis" && r.activity_mean_ms) {
      w.latency_ms = r.activity_mean_ms;
      w.latency_metric = "redis top commands' time / calls";
    }
  }
  // explain's findings carry the saturated resources with their utilization (a process pinned at
  // one core, file descriptors, all connections in use, ...): the tier can be no further from
  // its limit than they say.
  for (const explain::Finding& f : findings)
    if (f.tier == name && f.utilization)
      candidates.push_back({f.resource, *f.utilization, f.title + " (explain)"});
  auto best = std::max_element(candidates.begin(), candidates.end(),
                               [](const Candidate& a, const Candidate& b) { return a.utilization < b.utilization; });
  if (best != candidates.end() && std::isfinite(best->utilization) && best->utilization > 0) {
    w.resource = best->resource;
    w.utilization = std::min(best->utilization, 1.0);
    w.evidence = best->evidence;
  } else {
    std::string list;
    for (const std::string& k : kinds) list += (list.empty() ? "" : ", ") + k;
    w.why_not = best != candidates.end()
                    ? "its sources show no use at the point (" + best->evidence + ")"
                    : "its sources (" + (list.empty() ? std::string("none") : list) +
                          ") give no utilization at the point (host, process, postgres and redis sources do)";
  }
  return w;
}

MeasuredPoint PointOf(const explain::Point& p) {
  MeasuredPoint m;
  m.phase = p.phase;
  m.step = p.step;
  m.rate_rps = p.rate_rps;
  m.achieved_rps = p.achieved_rps;
  m.knee = p.knee;
  m.why = p.why;
  if (p.p95_us) m.p95_ms = *p.p95_us / 1e3;
  if (p.p99_us) m.p99_ms = *p.p99_us / 1e3;
  return m;
}

// The tier's work when the app serves `rps`, in the plan's unit for its capacity.
struct Work {
  double load = 0;
  std::string unit, formula;
  double writes = 0;  // database: the write part of `load`
};

Work WorkAt(const Model& m, const Config& today, int tier, double rps, const WatchedTier& watched) {
  const Loads l = ComputeLoads(m, today, rps);
  const TierSpec& t = m.tiers[tier];
  const std::string at = Num(rps) + " req/s";
  Work w;
  switch (t.kind) {
    case TierKind::kApp:
      w = {l.app_rps, "req/s",
           std::fabs(l.app_rps - rps) > 1e-9 ? at + " reaching the app past the CDN" : "the point's achieved rate"};
      break;
    case TierKind::kCdn:
      w = {l.cdn_rps, "req/s", at};
      break;
    case TierKind::kDatabase:
      w = {l.primary_reads + l.primary_writes, "queries/s",
           Num(l.primary_reads) + " reads/s + " + Num(l.primary_writes) + " writes/s at " + at +
               " (the plan's workload)"};
      w.writes = l.primary_writes;
      break;
    case TierKind::kCache:
      if (l.cache_lookups > 0) {
        w = {l.cache_lookups, "ops/s", Num(l.cache_lookups) + " lookups/s at " + at + " (the plan's workload)"};
      } else if (watched.work_per_s && *watched.work_per_s > 0) {
        w = {*watched.work_per_s, "ops/s", watched.work_metric + " " + Num(*watched.work_per_s) +
                                               " at the point (the plan sends the cache no lookups: "
                                               "workload.cacheable_reads is 0)"};
      }
      break;
    case TierKind::kQueue:
    case TierKind::kWorkers:
      if (l.jobs > 0)
        w = {l.jobs, t.kind == TierKind::kQueue ? "msgs/s" : "jobs/s", Num(l.jobs) + " jobs/s at " + at + " (the plan's workload)"};
      break;
  }
  return w;
}

}  // namespace

Result<RunMeasurement> ReadRunMeasurement(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return Fail(path + ": cannot open results file (check the path)");
  std::ostringstream text;
  text << file.rdbuf();
  nlohmann::json doc = nlohmann::json::parse(text.str(), nullptr, false);
  if (doc.is_discarded()) return Fail(path + ": not JSON (expected a headroom results.json)");
  if (!doc.is_object() || !doc.contains("schema") || !doc["schema"].is_string() ||
      doc["schema"].get<std::string>().rfind("headroom.results/", 0) != 0)
    return Fail(path + ": not a headroom results.json (no \"schema\": \"headroom.results/N\")");
  RunMeasurement run;
  run.file = path;
  auto e = explain::Explain(doc);
  if (!e) return run;  // no phase with measurements: nothing watched to read
  run.at = PointOf(e->at);
  if (e->before) run.before = PointOf(*e->before);
  for (const explain::Finding& f : e->findings)
    run.bottlenecks.push_back({f.tier, f.source, f.resource, f.title, f.change, f.severity, f.utilization, f.evidence});
  if (!e->findings.empty() || e->tiers_watched > 0) run.elsewhere = e->elsewhere;
  std::vector<std::string> names;
  for (const explain::Reading& r : e->readings)
    if (std::find(names.begin(), names.end(), r.tier) == names.end()) names.push_back(r.tier);
  for (const std::string& name : names) run.tiers.push_back(ReadWatchedTier(name, e->readings, e->findings));
  return run;
}

namespace {

// The app's latency is the run's response time at the point (and where it held, before the knee).
void AppLatency(const RunMeasurement& run, WatchedTier& w) {
  if (!run.at.p95_ms) return;
  w.latency_ms = run.at.p95_ms;
  w.latency_metric = "p95 response time at the point";
  if (run.before && run.before->p95_ms)
    w.latency_metric += "; " + Num(*run.before->p95_ms) + " ms at " + Num(run.before->achieved_rps) +
                        " req/s, the last rate that held";
}

// The run cannot tell a database's reads from its writes. Without a declared write capacity both
// are the run's statement mix; with one, reads get what the measured utilization leaves after the
// declared writes. Either way the primary is at the measured utilization at the point's rate.
void SplitDatabase(const Work& w, double u, int units, const std::string& source, RunMeasurement& run,
                   TierSpec& t) {
  TierMeasurement& tm = *t.measured;
  const bool writes_declared = t.write_capacity_rps > 0;
  const double reads = w.load - w.writes;
  const double left = writes_declared ? u - w.writes / t.write_capacity_rps : 0;
  if (writes_declared && reads > 0 && left >= 0.1 * u) {
    tm.capacity_rps = reads / left / units;
    tm.load_formula += "; reads get " + Pct(u) + " - " + Num(w.writes) + " writes/s / " +
                       Num(t.write_capacity_rps) + " declared write capacity = " + Pct(left);
    return;
  }
  if (writes_declared)
    run.notes.push_back(t.name + ": the declared write_capacity " + Num(t.write_capacity_rps) +
                        "/s alone explains the measured " + Pct(u) + " at the point; both capacities are "
                        "taken as the run's statement mix");
  t.write_capacity_rps = tm.capacity_rps;
  t.write_capacity_source = source + " (the run's statement mix)";
}

// What plan.md should say next to a used measurement.
void NoteMeasurement(const Work& w, double rps, RunMeasurement& run, const TierSpec& t) {
  const TierMeasurement& tm = *t.measured;
  auto apart = [](double a, double b) { return a > b * kNotableDifference || a * kNotableDifference < b; };
  if (tm.declared_rps && apart(tm.capacity_rps, *tm.declared_rps))
    run.notes.push_back(t.name + ": measured " + Num(tm.capacity_rps) + "/s per unit against " +
                        Num(*tm.declared_rps) + "/s " + tm.declared_source + " (" +
                        Num(tm.capacity_rps / *tm.declared_rps) + "x); the measured figure is used");
  const WatchedTier& wt = tm.watched;
  if (wt.work_per_s && *wt.work_per_s > 0 && t.kind != TierKind::kApp && apart(*wt.work_per_s, w.load))
    run.notes.push_back(t.name + ": the run counted " + Num(*wt.work_per_s) + "/s (" + wt.work_metric +
                        ") where the plan's workload gives " + Num(w.load) + " " + w.unit + " at " + Num(rps) +
                        " req/s; the capacity is in the plan's units, so today's projection holds either way, but "
                        "check the workload section before trusting what caches and replicas would take off it");
  if (tm.lower_bound)
    run.notes.push_back(t.name + ": not loaded enough to measure (" + wt.resource + " " + Pct(*wt.utilization) +
                        " at the point): " + Num(tm.capacity_rps) + "/s per unit is a lower bound (" +
                        Num(w.load) + " " + w.unit + " / " + Pct(kMinMeasuredUtilization) + ")");
  if (wt.latency_ms && tm.latency_budget_ms && t.kind != TierKind::kApp && *wt.latency_ms > *tm.latency_budget_ms)
    run.notes.push_back(t.name + ": " + Num(*wt.latency_ms) + " ms per operation at the point (" +
                        wt.latency_metric + ") is above its " + Num(*tm.latency_budget_ms) +
                        " ms latency budget: the targets below assume faster operations than the run saw");
}

// One tier: its capacity from the measurement, or a note why the declared one stays. Returns the
// error for a tier left without any capacity.
std::optional<std::string> ResolveTier(const Model& m, const Config& today, int i, RunMeasurement& run,
                                       TierSpec& t) {
  TierMeasurement& tm = *t.measured;
  const double rps = run.at.achieved_rps;
  tm.achieved_rps = rps;
  if (t.kind == TierKind::kApp) AppLatency(run, tm.watched);
  tm.latency_budget_ms = m.BudgetMsOf(i);
  const bool declared = t.capacity_rps > 0;
  if (declared) tm.declared_rps = t.capacity_rps, tm.declared_source = t.capacity_source;
  auto not_used = [&](const std::string& why) -> std::optional<std::string> {
    if (!declared) return kMissing + why;
    run.notes.push_back(t.name + ": " + why + "; the declared " + Num(t.capacity_rps) + "/s is kept");
    return std::nullopt;
  };
  if (!tm.watched.utilization)
    return not_used(run.file + "'s tier '" + tm.watched.name + "' was watched but " + tm.watched.why_not);
  const double u = *tm.watched.utilization;
  const Work w = WorkAt(m, today, i, rps, tm.watched);
  if (!(w.load > 0) || !(rps > 0))
    return not_used("the plan puts no load on it at the point's " + Num(rps) + " req/s, so its " +
                    tm.watched.resource + " " + Pct(u) + " converts to no capacity");
  const int units = std::max(t.count, 1);
  tm.load = w.load;
  tm.load_unit = w.unit;
  tm.load_formula = w.formula;
  tm.lower_bound = u < kMinMeasuredUtilization;
  tm.capacity_rps = w.load / std::max(u, kMinMeasuredUtilization) / units;
  if (tm.lower_bound && declared) {
    if (t.kind == TierKind::kDatabase && !(t.write_capacity_rps > 0))
      return "a database needs 'write_capacity' (write statements/s per primary) when the run's measurement "
             "is not used: " + tm.watched.resource + " was at " + Pct(u) + " at the point, not loaded enough to measure";
    return not_used("not loaded enough to measure (" + tm.watched.resource + " " + Pct(u) + " at the point, below " +
                    Pct(kMinMeasuredUtilization) + ")");
  }
  tm.used = true;
  const std::string source = "measured: " + run.file + ", " + PointText(run.at) + ", " + tm.watched.resource + " " +
                             Pct(u) +
                             (tm.lower_bound ? ", not loaded enough to measure: a lower bound at " +
                                                   Pct(kMinMeasuredUtilization)
                                             : "");
  if (t.kind == TierKind::kDatabase) SplitDatabase(w, std::max(u, kMinMeasuredUtilization), units, source, run, t);
  t.capacity_rps = tm.capacity_rps;
  t.capacity_source = source;
  t.capacity_measured = true;
  NoteMeasurement(w, rps, run, t);
  return std::nullopt;
}

}  // namespace

std::map<size_t, std::string> ResolveMeasured(PlanInput& in) {
  std::map<size_t, std::string> unresolved;
  if (!in.measured) return unresolved;
  // The run's traffic is the main request mix: other workloads are left out of the conversion.
  PlanInput main = in;
  main.workloads.clear();
  for (TierSpec& t : main.tiers)
    if (!(t.capacity_rps > 0)) t.capacity_rps = 1;  // not read by the load model; keeps it valid
  const Model m(main);
  const Config today = m.Today();
  for (size_t i = 0; i < in.tiers.size(); ++i) {
    TierSpec& t = in.tiers[i];
    if (!t.measured || t.measured->used) continue;
    if (auto error = ResolveTier(m, today, static_cast<int>(i), *in.measured, t)) unresolved[i] = *error;
  }
  return unresolved;
}

}  // namespace headroom::plan
