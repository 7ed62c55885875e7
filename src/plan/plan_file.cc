// plan.yaml -> PlanInput. Every value is checked where it is read and every problem is kept, so a
// user fixes a file in one pass. Cross-field rules (one tier per kind, an app tier, capacity from
// results.json) are checked after the fields themselves.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "core/diag.h"
#include "core/units.h"
#include "model/model.h"
#include "plan/catalogue.h"
#include "plan/plan.h"
#include "plan/planner_internal.h"
#include "plan/yaml_input.h"

namespace headroom::plan {
namespace {

struct Context {
  Diagnostics& diag;
  const std::string& results_path;
  std::optional<model::ResultsSummary> results;  // loaded on first use
  bool results_failed = false;
  std::optional<RunMeasurement> run;  // --results: the watched tiers at explain's point
  bool stress_capacity_used = false;  // a tier says `capacity: results`
};

// milestone: { month: 12, peak: 800/s, dau: 25000 } -> the monthly growth rates that reach it.
void ReadMilestone(const YAML::Node& traffic, const YAML::Node& ms, TrafficSpec& t, Diagnostics& d) {
  if (!ms.IsMap()) {
    d.Add(ms, "traffic.milestone", "expected a map like { month: 12, peak: 800/s, dau: 25000 }");
    return;
  }
  CheckKeys(ms, "traffic.milestone", {"month", "peak", "dau"}, d);
  if (traffic["growth"] || traffic["dau_growth"])
    d.Add(ms, "traffic.milestone", "give growth (and dau_growth) or a milestone, not both");
  auto month = ReadNumber(ms["month"], "traffic.milestone.month", d, 1, 120);
  if (!ms["month"]) d.Add(ms, "traffic.milestone", "missing 'month' (months from today)");
  if (!ms["peak"]) d.Add(ms, "traffic.milestone", "missing 'peak' (the peak rate then)");
  auto peak = ReadRate(ms["peak"], "traffic.milestone.peak", d);
  auto dau = ReadNumber(ms["dau"], "traffic.milestone.dau", d, 0, 1e12);
  if (!month || !peak || !(t.peak_rps > 0)) return;
  if (*peak < t.peak_rps) {
    d.Add(ms["peak"], "traffic.milestone.peak", "below today's peak: the planner models growth");
    return;
  }
  t.growth_monthly = std::pow(*peak / t.peak_rps, 1 / *month) - 1;
  t.growth_source = "milestone " + Num(*peak) + " req/s in month " + Num(*month);
  if (dau && t.dau > 0 && *dau >= t.dau) {
    t.dau_growth_monthly = std::pow(*dau / t.dau, 1 / *month) - 1;
    t.growth_source += " and " + Num(*dau) + " DAU";
  } else if (dau) {
    d.Add(ms["dau"], "traffic.milestone.dau", "needs traffic.dau today, and at least that many");
  }
}

// cost_curve: [{ dau: 1000, monthly: 400 }, ...] with increasing DAU.
void ReadCostCurve(const YAML::Node& node, PlanInput& in, Diagnostics& d) {
  if (!node) return;
  if (!node.IsSequence() || node.size() == 0) {
    d.Add(node, "cost_curve", "expected a list like [{ dau: 1000, monthly: 400 }, ...]");
    return;
  }
  for (size_t i = 0; i < node.size(); ++i) {
    std::string p = "cost_curve[" + std::to_string(i) + "]";
    if (!node[i].IsMap()) {
      d.Add(node[i], p, "expected a map like { dau: 1000, monthly: 400 }");
      continue;
    }
    CheckKeys(node[i], p, {"dau", "monthly"}, d);
    auto dau = ReadNumber(node[i]["dau"], p + ".dau", d, 1, 1e12);
    auto monthly = ReadNumber(node[i]["monthly"], p + ".monthly", d, 0, 1e12);
    if (!node[i]["dau"] || !node[i]["monthly"]) d.Add(node[i], p, "needs both 'dau' and 'monthly'");
    if (!dau || !monthly) continue;
    if (!in.cost_curve.empty() && *dau <= in.cost_curve.back().dau) {
      d.Add(node[i]["dau"], p + ".dau", "DAU must increase along the curve");
      continue;
    }
    in.cost_curve.push_back({*dau, *monthly});
  }
}

// dependencies: [{ name: ads-api, limit: 100/s, calls_per_request: 0.05, latency: 200ms }, ...]
void ReadDependencies(const YAML::Node& node, PlanInput& in, Diagnostics& d) {
  if (!node) return;
  if (!node.IsSequence()) {
    d.Add(node, "dependencies", "expected a list like [{ name: ads-api, limit: 100/s, calls_per_request: 0.05 }]");
    return;
  }
  for (size_t i = 0; i < node.size(); ++i) {
    std::string p = "dependencies[" + std::to_string(i) + "]";
    const YAML::Node n = node[i];
    if (!n.IsMap()) {
      d.Add(n, p, "expected a map with name, limit, calls_per_request");
      continue;
    }
    CheckKeys(n, p, {"name", "limit", "calls_per_request", "latency"}, d);
    PlanInput::Dependency dep;
    for (const char* key : {"name", "limit", "calls_per_request"})
      if (!n[key]) d.Add(n, p, std::string("missing '") + key + "'");
    if (auto v = ReadString(n["name"], p + ".name", d)) dep.name = *v;
    if (auto v = ReadRate(n["limit"], p + ".limit", d)) dep.limit_rps = *v;
    if (auto v = ReadNumber(n["calls_per_request"], p + ".calls_per_request", d, 0, 1000))
      dep.calls_per_request = *v;
    if (auto v = ReadDurationS(n["latency"], p + ".latency", d)) dep.latency_ms = *v * 1e3;
    in.dependencies.push_back(dep);
  }
}

// alerts: { p50: { warning: 200ms, critical: 500ms }, disk: { warning: 75%, critical: 90% }, ... }
void ReadAlertDefaults(const YAML::Node& node, AlertDefaults& a, Diagnostics& d) {
  if (!node) return;
  if (!node.IsMap()) {
    d.Add(node, "alerts", "expected a map like { p50: { warning: 200ms, critical: 500ms } }");
    return;
  }
  CheckKeys(node, "alerts",
            {"p50", "p99", "error_rate", "cpu", "memory", "db_pool", "disk", "queue_depth",
             "job_latency"},
            d);
  enum Kind { kMs, kShare, kCount, kSeconds };
  auto pair = [&](const char* key, double* out, Kind kind) {
    const YAML::Node n = node[key];
    if (!n) return;
    std::string p = std::string("alerts.") + key;
    if (!n.IsMap()) {
      d.Add(n, p, "expected { warning: ..., critical: ... }");
      return;
    }
    CheckKeys(n, p, {"warning", "critical"}, d);
    double v[2] = {out[0], out[1]};
    const char* names[2] = {"warning", "critical"};
    for (int i = 0; i < 2; ++i) {
      const YAML::Node x = n[names[i]];
      std::string xp = p + "." + names[i];
      std::optional<double> r;
      if (kind == kMs) {
        if (auto s = ReadDurationS(x, xp, d)) r = *s * 1e3;
      } else if (kind == kSeconds) {
        r = ReadDurationS(x, xp, d);
      } else if (kind == kShare) {
        r = ReadPercent(x, xp, d, 1);
      } else {
        r = ReadNumber(x, xp, d, 1, 1e12);
      }
      if (r) v[i] = *r;
    }
    if (v[0] > v[1]) {
      d.Add(n, p, "warning must not be above critical");
      return;
    }
    out[0] = v[0], out[1] = v[1];
  };
  pair("p50", a.p50_ms, kMs);
  pair("p99", a.p99_ms, kMs);
  pair("error_rate", a.error_rate, kShare);
  pair("cpu", a.cpu, kShare);
  pair("memory", a.memory, kShare);
  pair("db_pool", a.db_pool, kShare);
  pair("disk", a.disk, kShare);
  pair("queue_depth", a.queue_depth, kCount);
  pair("job_latency", a.job_latency_s, kSeconds);
}

// workloads: [{ name: ingest, kind: ingestion, rate: 50/s, growth: 10%, p95: 1s, path: /events },
//             { name: ranking, kind: periodic, every: 15m, jobs: 600, delay: 5m }]
void ReadWorkloads(const YAML::Node& node, PlanInput& in, Diagnostics& d) {
  if (!node) return;
  if (!node.IsSequence()) {
    d.Add(node, "workloads", "expected a list like [{ name: ingest, kind: ingestion, rate: 50/s }]");
    return;
  }
  std::set<std::string> names;
  for (size_t i = 0; i < node.size(); ++i) {
    const YAML::Node n = node[i];
    std::string p = "workloads[" + std::to_string(i) + "]";
    if (!n.IsMap()) {
      d.Add(n, p, "expected a map with name, kind and rate (or every and jobs)");
      continue;
    }
    WorkloadStream w;
    if (auto v = ReadString(n["name"], p + ".name", d)) w.name = *v;
    if (!n["name"]) d.Add(n, p, "missing 'name'");
    if (!w.name.empty()) p += "(" + w.name + ")";
    if (!w.name.empty() && !names.insert(w.name).second)
      d.Add(n["name"], p + ".name", "duplicate workload name '" + w.name + "'");
    if (!n["kind"]) d.Add(n, p, "missing 'kind' (api, ingestion, periodic)");
    auto kind = ReadChoice(n["kind"], p + ".kind", {"api", "ingestion", "periodic"}, d);
    if (!kind) continue;
    w.kind = *kind == "api" ? StreamKind::kApi : *kind == "ingestion" ? StreamKind::kIngestion
                                                                      : StreamKind::kPeriodic;
    bool periodic = w.kind == StreamKind::kPeriodic;
    if (periodic) {
      CheckKeys(n, p, {"name", "kind", "every", "jobs", "delay", "growth"}, d);
      for (const char* key : {"every", "jobs"})
        if (!n[key]) d.Add(n, p, std::string("missing '") + key + "'");
      if (auto v = ReadDurationS(n["every"], p + ".every", d)) w.every_s = *v;
      if (auto v = ReadNumber(n["jobs"], p + ".jobs", d, 0, 1e9)) w.jobs = *v;
      w.delay_s = w.every_s;
      if (auto v = ReadDurationS(n["delay"], p + ".delay", d)) w.delay_s = *v;
      if (w.delay_s > w.every_s) d.Add(n, p, "delay above every: batches would pile up");
    } else {
      CheckKeys(n, p, {"name", "kind", "rate", "growth", "read_share", "writes_per_request",
                       "jobs_per_request", "method", "path", "p95"}, d);
      if (!n["rate"]) d.Add(n, p, "missing 'rate' (today's peak, e.g. 50/s)");
      if (auto v = ReadRate(n["rate"], p + ".rate", d)) w.rate_rps = *v;
      w.read_share = w.kind == StreamKind::kApi ? in.workload.read_share : 0;
      if (auto v = ReadPercent(n["read_share"], p + ".read_share", d, 1)) w.read_share = *v;
      w.writes_per_request = in.workload.writes_per_write;
      if (auto v = ReadNumber(n["writes_per_request"], p + ".writes_per_request", d, 0, 1e6))
        w.writes_per_request = *v;
      if (auto v = ReadNumber(n["jobs_per_request"], p + ".jobs_per_request", d, 0, 1e6))
        w.jobs_per_request = *v;
      w.method = w.kind == StreamKind::kIngestion ? "POST" : "GET";
      if (auto v = ReadChoice(n["method"], p + ".method", {"GET", "POST", "PUT", "PATCH", "DELETE"}, d))
        w.method = *v;
      if (auto v = ReadString(n["path"], p + ".path", d)) {
        if (v->empty() || (*v)[0] != '/') {
          d.Add(n["path"], p + ".path", "must start with '/'");
        } else {
          w.path = *v;
        }
      }
      if (auto v = ReadDurationS(n["p95"], p + ".p95", d)) w.p95_ms = *v * 1e3;
    }
    if (auto v = ReadPercent(n["growth"], p + ".growth", d, 100)) {
      if (!(in.traffic.growth_monthly > 0))
        d.Add(n["growth"], p + ".growth", "needs traffic.growth (or a milestone) above 0: a "
              "workload's growth is relative to the phases, which are multiples of traffic.peak");
      else
        w.growth_monthly = *v;
    }
    in.workloads.push_back(w);
  }
}

void ReadTraffic(const YAML::Node& node, PlanInput& in, Diagnostics& d) {
  if (!node) {
    return;  // reported as missing by the caller
  }
  CheckKeys(node, "traffic",
            {"peak", "dau", "concurrent_users", "growth", "dau_growth", "milestone",
             "daily_peak_factor", "flash_sale"},
            d);
  TrafficSpec& t = in.traffic;
  if (!node["peak"]) d.Add(node, "traffic", "missing 'peak' (today's peak rate, e.g. 800/s)");
  if (auto v = ReadRate(node["peak"], "traffic.peak", d)) t.peak_rps = *v;
  if (auto v = ReadNumber(node["dau"], "traffic.dau", d, 0, 1e12)) t.dau = *v;
  if (auto v = ReadNumber(node["concurrent_users"], "traffic.concurrent_users", d, 0, 1e12))
    t.concurrent_users = *v;
  if (auto v = ReadPercent(node["growth"], "traffic.growth", d, 100)) t.growth_monthly = *v;
  if (auto v = ReadNumber(node["daily_peak_factor"], "traffic.daily_peak_factor", d, 1, 100))
    t.daily_peak_factor = *v;
  if (auto v = ReadMultiple(node["flash_sale"], "traffic.flash_sale", d)) t.flash_sale_multiple = *v;
  if (auto v = ReadPercent(node["dau_growth"], "traffic.dau_growth", d, 100)) t.dau_growth_monthly = *v;
  if (const YAML::Node ms = node["milestone"]) ReadMilestone(node, ms, t, d);
}

void ReadSlos(const YAML::Node& node, PlanInput& in, Diagnostics& d) {
  if (!node) return;
  CheckKeys(node, "slos", {"p95", "p99", "availability", "error_rate", "job_delay"}, d);
  SloSpec& s = in.slo;
  if (!node["p95"]) d.Add(node, "slos", "missing 'p95' (e.g. p95: 300ms)");
  if (auto v = ReadDurationS(node["p95"], "slos.p95", d)) s.p95_ms = *v * 1e3;
  if (auto v = ReadDurationS(node["p99"], "slos.p99", d)) s.p99_ms = *v * 1e3;
  if (auto v = ReadPercent(node["availability"], "slos.availability", d, 1)) {
    if (*v <= 0.5 || *v >= 1) {
      d.Add(node["availability"], "slos.availability", "must be above 50% and below 100%");
    } else {
      s.availability = *v;
    }
  }
  if (auto v = ReadPercent(node["error_rate"], "slos.error_rate", d, 1)) s.error_rate = *v;
  if (auto v = ReadDurationS(node["job_delay"], "slos.job_delay", d)) s.job_delay_s = *v;
}

void ReadWorkload(const YAML::Node& node, PlanInput& in, Diagnostics& d) {
  if (!node) return;
  CheckKeys(node, "workload",
            {"read_share", "queries_per_read", "reads_per_write", "writes_per_write",
             "cacheable_reads", "edge_cacheable", "deferrable_writes", "strong_reads",
             "jobs_per_request", "freshness", "functional_domains", "cache_item_size",
             "periodic_jobs"},
            d);
  WorkloadSpec& w = in.workload;
  auto share = [&](const char* key, double& out) {
    if (auto v = ReadPercent(node[key], std::string("workload.") + key, d, 1)) out = *v;
  };
  auto number = [&](const char* key, double& out) {
    if (auto v = ReadNumber(node[key], std::string("workload.") + key, d, 0, 1e6)) out = *v;
  };
  share("read_share", w.read_share);
  number("queries_per_read", w.queries_per_read);
  number("reads_per_write", w.reads_per_write);
  number("writes_per_write", w.writes_per_write);
  share("cacheable_reads", w.cacheable_reads);
  share("edge_cacheable", w.edge_cacheable);
  share("deferrable_writes", w.deferrable_writes);
  share("strong_reads", w.strong_reads);
  number("jobs_per_request", w.jobs_per_request);
  if (auto v = ReadDurationS(node["freshness"], "workload.freshness", d)) w.freshness_s = *v;
  if (auto v = ReadCount(node["functional_domains"], "workload.functional_domains", d, 1))
    w.functional_domains = *v;
  if (const YAML::Node pj = node["periodic_jobs"]) {
    if (!pj.IsSequence()) {
      d.Add(pj, "workload.periodic_jobs", "expected a list like [{ name: ranking, every: 15m, jobs: 5000, delay: 5m }]");
    } else {
      for (size_t i = 0; i < pj.size(); ++i) {
        std::string p = "workload.periodic_jobs[" + std::to_string(i) + "]";
        if (!pj[i].IsMap()) {
          d.Add(pj[i], p, "expected a map with name, every, jobs, delay");
          continue;
        }
        CheckKeys(pj[i], p, {"name", "every", "jobs", "delay"}, d);
        WorkloadSpec::PeriodicJobs job;
        for (const char* key : {"name", "every", "jobs"})
          if (!pj[i][key]) d.Add(pj[i], p, std::string("missing '") + key + "'");
        if (auto v = ReadString(pj[i]["name"], p + ".name", d)) job.name = *v;
        if (auto v = ReadDurationS(pj[i]["every"], p + ".every", d)) job.every_s = *v;
        if (auto v = ReadNumber(pj[i]["jobs"], p + ".jobs", d, 0, 1e9)) job.jobs = *v;
        job.delay_s = job.every_s;
        if (auto v = ReadDurationS(pj[i]["delay"], p + ".delay", d)) job.delay_s = *v;
        if (job.delay_s > job.every_s)
          d.Add(pj[i], p, "delay above every: batches would pile up");
        w.periodic.push_back(job);
      }
    }
  }
  if (const YAML::Node n = node["cache_item_size"]) {
    if (auto text = ReadString(n, "workload.cache_item_size", d)) {
      auto bytes = ParseSizeBytes(*text);
      if (!bytes) {
        d.Add(n, "workload.cache_item_size", bytes.error().message);
      } else if (*bytes < 1 || *bytes > (int64_t{1} << 30)) {
        d.Add(n, "workload.cache_item_size", "'" + *text + "' is out of range (1B to 1GiB)");
      } else {
        w.cache_item_bytes = static_cast<double>(*bytes);
      }
    }
  }
  if (node["edge_cacheable"] && w.edge_cacheable > w.read_share + 1e-12)
    d.Add(node["edge_cacheable"], "workload.edge_cacheable",
          Pct(w.edge_cacheable) + " is above read_share " + Pct(w.read_share) +
              ": a CDN answers reads only, so at most every read is edge-cacheable");
}

// capacity: a rate, or `results` to take it from the --results file.
void ReadCapacity(const YAML::Node& node, const std::string& path, TierSpec& tier, Context& ctx) {
  if (node && node.IsScalar() && node.Scalar() == "results") {
    if (ctx.results_path.empty()) {
      ctx.diag.Add(node, path, "'results' needs a results file: run with --results results.json");
      return;
    }
    if (!ctx.results && !ctx.results_failed) {
      auto r = model::ReadResultsSummary(ctx.results_path);
      if (!r) {
        ctx.diag.Add(node, path, r.error().message);
        ctx.results_failed = true;
        return;
      }
      ctx.results = std::move(*r);
    }
    if (!ctx.results) return;
    ctx.stress_capacity_used = true;
    if (ctx.results->capacity_rps) {
      tier.capacity_rps = *ctx.results->capacity_rps;
      tier.capacity_source = "measured: " + ctx.results->source + " " + ctx.results->capacity_field;
      tier.capacity_measured = true;
    } else if (ctx.results->achieved_rps) {
      tier.capacity_rps = *ctx.results->achieved_rps;
      tier.capacity_source = "measured: " + ctx.results->source +
                             " throughput.achieved_rps (a plain run: a lower bound on capacity)";
      tier.capacity_measured = true;
    } else {
      ctx.diag.Add(node, path, ctx.results_path + " has no capacity (no stress phase)");
    }
    return;
  }
  if (auto v = ReadRate(node, path, ctx.diag)) tier.capacity_rps = *v;
}

std::optional<TierKind> KindFromName(const std::string& name) {
  for (TierKind k : {TierKind::kApp, TierKind::kCache, TierKind::kDatabase, TierKind::kQueue,
                     TierKind::kWorkers, TierKind::kCdn}) {
    if (TierKindName(k) == name) return k;
  }
  return std::nullopt;
}

}  // namespace

namespace {

// The per-unit figures and options of a tier (everything but name, kind and capacity).
void ReadTierValues(const YAML::Node& node, const std::string& p, TierSpec& t, Diagnostics& d) {
  if (auto v = ReadRate(node["write_capacity"], p + ".write_capacity", d)) t.write_capacity_rps = *v;
  if (auto v = ReadCount(node["concurrency"], p + ".concurrency", d, 1)) t.concurrency = *v;
  if (auto v = ReadNumber(node["unit_cost"], p + ".unit_cost", d, 0, 1e12)) t.unit_cost = *v;
  if (auto v = ReadChoice(node["limited_by"], p + ".limited_by",
                          {"cpu", "memory", "io", "network", "connections", "writes"}, d)) {
    for (Resource r : {Resource::kCpu, Resource::kMemory, Resource::kIo, Resource::kNetwork,
                       Resource::kConnections, Resource::kWrites})
      if (ResourceName(r) == *v) t.limited_by = r;
  }
  if (auto v = ReadPercent(node["max_utilization"], p + ".max_utilization", d, 1)) {
    if (*v < 0.05) {
      d.Add(node["max_utilization"], p + ".max_utilization", "must be at least 5%");
    } else {
      t.max_utilization = *v;
    }
  }
  if (auto v = ReadDurationS(node["latency_budget"], p + ".latency_budget", d))
    t.latency_budget_ms = *v * 1e3;
  if (auto v = ReadCount(node["connections_per_unit"], p + ".connections_per_unit", d, 0))
    t.connections_per_unit = *v;
  if (auto v = ReadCount(node["max_connections"], p + ".max_connections", d, 1))
    t.max_connections = *v;
  if (auto v = ReadCount(node["replicas"], p + ".replicas", d, 0)) t.replicas = *v;
  if (auto v = ReadPercent(node["hit_ratio"], p + ".hit_ratio", d, 0.999)) t.hit_ratio = *v;
  if (auto v = ReadChoice(node["sessions"], p + ".sessions",
                          {"none", "external", "sticky", "memory"}, d)) {
    t.sessions = *v == "memory"     ? Sessions::kMemory
                 : *v == "sticky"   ? Sessions::kSticky
                 : *v == "external" ? Sessions::kExternal
                                    : Sessions::kNone;
  }
  if (const YAML::Node ls = node["local_state"]) {
    if (!ls.IsSequence()) {
      d.Add(ls, p + ".local_state", "expected a list such as [uploads, cron]");
    } else {
      for (const YAML::Node& item : ls)
        if (auto v = ReadString(item, p + ".local_state", d)) t.local_state.push_back(*v);
    }
  }
  if (auto v = ReadDurationS(node["startup"], p + ".startup", d)) t.startup_s = *v;
  if (auto v = ReadChoice(node["runtime"], p + ".runtime",
                          {"node", "python", "ruby", "php", "jvm", "go", "dotnet", "other"}, d))
    t.runtime = *v;
}

// Keys that only make sense for some kinds; checked only when the kind itself is valid.
void CheckKindRules(const YAML::Node& node, const std::string& p, const TierSpec& t,
                    bool kind_ok, bool measured, Diagnostics& d) {
  // Kind-specific requirements, checked only when the kind itself is valid.
  auto only = [&](const char* key, bool allowed, const char* message) {
    if (kind_ok && !allowed && node[key]) d.Add(node[key], p + "." + key, message);
  };
  bool is_db = t.kind == TierKind::kDatabase, is_app = t.kind == TierKind::kApp;
  if (kind_ok && is_db && !node["write_capacity"] && !measured)
    d.Add(node, p, "a database needs 'write_capacity' (write statements/s per primary)");
  only("write_capacity", is_db, "only a database tier has a write capacity");
  only("max_connections", is_db, "only a database tier has max_connections");
  only("replicas", is_db, "only a database tier has replicas");
  only("sessions", is_app, "only an app tier has sessions");
  only("connections_per_unit", is_app, "only an app tier opens database connections");
  only("local_state", is_app, "only an app tier has local state");
  only("runtime", is_app, "only an app tier has a runtime");
  only("hit_ratio", t.kind == TierKind::kCache, "only a cache tier has a hit ratio");
}

}  // namespace

std::optional<TierSpec> ReadTierWith(
    const YAML::Node& node, const std::string& path, Diagnostics& d,
    const std::function<void(const YAML::Node&, TierSpec&)>& read_capacity,
    const CapacityFromRun& capacity_from_run) {
  if (!node.IsMap()) {
    d.Add(node, path, "expected a map with name, kind, capacity, unit_cost, ...");
    return std::nullopt;
  }
  size_t before = d.size();
  TierSpec t;
  if (auto v = ReadString(node["name"], path + ".name", d)) t.name = *v;
  if (t.name.empty() && !node["name"]) d.Add(node, path, "missing 'name'");
  std::string p = path + (t.name.empty() ? "" : "(" + t.name + ")");
  CheckKeys(node, p,
            {"name", "kind", "count", "capacity", "write_capacity", "concurrency", "unit_cost",
             "limited_by", "max_utilization", "latency_budget", "connections_per_unit",
             "max_connections", "replicas", "hit_ratio", "sessions", "local_state", "startup",
             "runtime"},
            d);
  if (!node["kind"]) d.Add(node, p, "missing 'kind' (app, cache, database, queue, workers, cdn)");
  bool kind_ok = false;
  if (auto v = ReadChoice(node["kind"], p + ".kind",
                          {"app", "cache", "database", "queue", "workers", "cdn"}, d)) {
    t.kind = *KindFromName(*v);
    kind_ok = true;
  }
  if (auto v = ReadCount(node["count"], p + ".count", d, 0)) t.count = *v;
  const std::string why_not = capacity_from_run ? capacity_from_run(t.name) : "";
  const bool measured = capacity_from_run && why_not.empty();
  if (!node["capacity"]) {
    if (!measured)
      d.Add(node, p, "missing 'capacity' (per unit, e.g. 1000/s, or 'results')" +
                         (why_not.empty() ? std::string() : ", and " + why_not));
  } else {
    read_capacity(node["capacity"], t);
  }
  ReadTierValues(node, p, t, d);
  CheckKindRules(node, p, t, kind_ok, measured, d);
  if (d.size() != before) return std::nullopt;
  return t;
}

namespace {

const WatchedTier* FindWatched(const Context& ctx, const std::string& name) {
  if (!ctx.run) return nullptr;
  for (const WatchedTier& w : ctx.run->tiers)
    if (w.name == name) return &w;
  return nullptr;
}

// Why the --results run gives no capacity for the tier `name` ("" when it does). REQUIRES: ctx.run.
std::string UnmeasuredReason(const Context& ctx, const std::string& name) {
  const RunMeasurement& run = *ctx.run;
  if (const WatchedTier* w = FindWatched(ctx, name)) {
    if (w->utilization) return "";
    return run.file + "'s tier '" + name + "' was watched but " + w->why_not;
  }
  std::vector<std::string> names;
  for (const WatchedTier& w : run.tiers) names.push_back(w.name);
  std::string list;
  for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
  return run.file + " watched no tier named '" + name + "' (" +
         (list.empty() ? std::string("it watched none") : "it watched: " + list) + ")" + DidYouMean(name, names);
}

// A tier of the plan named like one the run watched carries what the run measured there.
void AttachMeasurement(const YAML::Node& item, TierSpec& t, const Context& ctx) {
  const WatchedTier* w = FindWatched(ctx, t.name);
  if (w == nullptr) return;
  TierMeasurement m;
  m.watched = *w;
  t.measured = m;
  if (item["limited_by"] || !w->utilization) return;
  if (w->resource == "memory") t.limited_by = Resource::kMemory;
  if (w->resource == "disk") t.limited_by = Resource::kIo;
  if (w->resource == "connections" || w->resource == "file descriptors") t.limited_by = Resource::kConnections;
}

void ReadTiers(const YAML::Node& node, PlanInput& in, Context& ctx) {
  Diagnostics& d = ctx.diag;
  if (!node.IsSequence() || node.size() == 0) {
    d.Add(node, "tiers", "expected a non-empty list of tiers");
    return;
  }
  std::set<std::string> names;
  std::map<std::string, std::string> labels;  // DNS-1123 label -> tier name
  std::set<TierKind> kinds;
  for (size_t i = 0; i < node.size(); ++i) {
    const YAML::Node item = node[i];
    std::string path = "tiers[" + std::to_string(i) + "]";
    auto tier = ReadTierWith(
        item, path, d, [&](const YAML::Node& cap, TierSpec& t) { ReadCapacity(cap, path + ".capacity", t, ctx); },
        ctx.run ? CapacityFromRun([&](const std::string& name) { return UnmeasuredReason(ctx, name); })
                : CapacityFromRun());
    if (!tier) continue;
    AttachMeasurement(item, *tier, ctx);
    if (!names.insert(tier->name).second) {
      d.Add(item["name"], path + ".name", "duplicate tier name '" + tier->name + "'");
    } else if (auto [it, fresh] = labels.emplace(DnsLabel(tier->name), tier->name); !fresh) {
      d.Add(item["name"], path + ".name",
            "'" + tier->name + "' and '" + it->second + "' are both '" + it->first +
                "' as Kubernetes and Prometheus names; rename one");
    }
    if (!kinds.insert(tier->kind).second)
      d.Add(item["kind"], path + ".kind",
            "a second '" + std::string(TierKindName(tier->kind)) + "' tier (one tier per kind)");
    in.tiers.push_back(*tier);
  }
  if (d.empty() && !kinds.contains(TierKind::kApp))
    d.Add(node, "tiers", "no tier of kind 'app' (the tier that serves requests)");
  bool periodic = !in.workload.periodic.empty() ||
                  std::any_of(in.workloads.begin(), in.workloads.end(), [](const WorkloadStream& w) {
                    return w.kind == StreamKind::kPeriodic || w.jobs_per_request > 0;
                  });
  if (d.empty() && periodic &&
      !(kinds.contains(TierKind::kWorkers) && kinds.contains(TierKind::kQueue)))
    d.Add(node, "tiers", "periodic jobs (workload.periodic_jobs, workloads of kind periodic or "
                         "with jobs_per_request) need a queue and a workers tier");
}

void ReadPhases(const YAML::Node& node, PlanInput& in, Diagnostics& d) {
  if (!node) return;
  if (!node.IsSequence() || node.size() == 0) {
    d.Add(node, "phases", "expected a list of multiples such as [1x, 2x, 10x, 100x]");
    return;
  }
  std::vector<double> values;
  for (size_t i = 0; i < node.size(); ++i) {
    auto v = ReadMultiple(node[i], "phases[" + std::to_string(i) + "]", d);
    if (!v) continue;
    if (!values.empty() && *v <= values.back()) {
      d.Add(node[i], "phases[" + std::to_string(i) + "]", "multiples must increase");
      continue;
    }
    values.push_back(*v);
  }
  in.multipliers = values;
}

void ReadGate(const YAML::Node& node, PlanInput& in, Diagnostics& d) {
  if (!node) return;
  CheckKeys(node, "gate", {"target", "requests", "ramp", "soak", "spike_hold", "spike"}, d);
  GateSpec& g = in.gate;
  if (auto v = ReadString(node["target"], "gate.target", d)) g.target = *v;
  if (const YAML::Node req = node["requests"]) {
    if (!req.IsSequence() || req.size() == 0) {
      d.Add(req, "gate.requests", "expected a list of scenario requests");
    } else {
      // Copied verbatim into every gate, so checked here against the scenario request keys
      // (docs/scenario.md) where the user can see the line.
      for (size_t i = 0; i < req.size(); ++i) {
        std::string p = "gate.requests[" + std::to_string(i) + "]";
        if (!req[i].IsMap()) {
          d.Add(req[i], p, "expected a map with name, weight, method, path, headers, body, ...");
          continue;
        }
        CheckKeys(req[i], p, {"name", "weight", "method", "path", "headers", "body", "timeout", "slos"}, d);
        if (!req[i]["name"]) d.Add(req[i], p, "missing 'name' (e.g. name: home)");
        if (!req[i]["path"]) d.Add(req[i], p, "missing 'path' (e.g. path: /)");
      }
      YAML::Emitter out;
      out << req;
      g.requests_yaml = out.c_str();
    }
  }
  if (auto v = ReadDurationS(node["ramp"], "gate.ramp", d)) g.ramp_s = *v;
  if (auto v = ReadDurationS(node["soak"], "gate.soak", d)) g.soak_s = *v;
  if (auto v = ReadDurationS(node["spike_hold"], "gate.spike_hold", d)) g.spike_hold_s = *v;
  if (auto v = ReadDurationS(node["spike"], "gate.spike", d)) g.spike_s = *v;
  if (g.spike_hold_s >= g.spike_s)
    d.Add(node, "gate", "spike_hold must be shorter than spike (the whole spike phase)");
}

// A remedy pinned with `phase: 10x` names one of the plan's phases.
void CheckPinnedPhases(const YAML::Node& overrides, const PlanInput& in, Diagnostics& d) {
  if (!overrides.IsMap()) return;
  for (const Remedy& r : in.remedies) {
    if (r.phase <= 0 || !overrides[r.id] || !overrides[r.id].IsMap()) continue;
    const YAML::Node node = overrides[r.id]["phase"];
    if (!node) continue;
    bool known = std::any_of(in.multipliers.begin(), in.multipliers.end(),
                             [&](double m) { return std::fabs(m - r.phase) < 1e-9; });
    if (known) continue;
    std::string phases;
    for (double m : in.multipliers) phases += (phases.empty() ? "" : ", ") + PhaseLabel(m);
    d.Add(node, "remedies." + r.id + ".phase",
          "'" + PhaseLabel(r.phase) + "' is not one of the plan's phases (" + phases + ")");
    if (r.disabled) d.Add(node, "remedies." + r.id + ".phase", "a disabled remedy cannot be pinned");
  }
}

void ReadTop(const YAML::Node& root, PlanInput& in, Context& ctx) {
  Diagnostics& d = ctx.diag;
  CheckKeys(root, "",
            {"name", "description", "currency", "budget", "safety_factor", "engineer_day_cost",
             "phases", "traffic", "slos", "workload", "tiers", "remedies", "gate", "cost_curve",
             "dependencies", "alerts", "workloads", "events", "autoscaling"},
            d);
  YAML::Mark top = root.Mark();
  if (auto v = ReadString(root["name"], "name", d)) in.name = *v;
  if (!root["name"]) d.Add(top, "", "missing 'name'");
  if (auto v = ReadString(root["description"], "description", d)) in.description = *v;
  if (auto v = ReadString(root["currency"], "currency", d)) in.currency = *v;
  if (auto v = ReadNumber(root["budget"], "budget", d, 0, 1e12)) in.budget_monthly = *v;
  if (auto v = ReadNumber(root["safety_factor"], "safety_factor", d, 1, 10)) in.safety_factor = *v;
  if (auto v = ReadNumber(root["engineer_day_cost"], "engineer_day_cost", d, 0, 1e9))
    in.engineer_day_cost = *v;
  ReadPhases(root["phases"], in, d);
  if (!root["traffic"]) d.Add(top, "", "missing 'traffic' (peak, growth, ...)");
  ReadTraffic(root["traffic"], in, d);
  if (!root["slos"]) d.Add(top, "", "missing 'slos' (at least p95)");
  ReadSlos(root["slos"], in, d);
  ReadWorkload(root["workload"], in, d);
  ReadWorkloads(root["workloads"], in, d);
  if (!root["tiers"]) {
    d.Add(top, "", "missing 'tiers'");
  } else {
    ReadTiers(root["tiers"], in, ctx);
  }
  ReadGate(root["gate"], in, d);
  ReadCostCurve(root["cost_curve"], in, d);
  ReadDependencies(root["dependencies"], in, d);
  ReadAlertDefaults(root["alerts"], in.alert_defaults, d);
  ReadEvents(root["events"], in, d);
  ReadAutoscaling(root["autoscaling"], in, d);
}

// The run's measurements into the tiers: capacities resolved, unresolved ones reported at their
// tier, and a note for every watched tier the plan has no tier for.
void ApplyRun(const YAML::Node& tiers, const RunMeasurement& run, PlanInput& in, Diagnostics& d) {
  if (run.tiers.empty()) return;
  in.measured = run;
  for (const WatchedTier& w : run.tiers) {
    bool planned = std::any_of(in.tiers.begin(), in.tiers.end(), [&](const TierSpec& t) { return t.name == w.name; });
    if (planned) continue;
    in.measured->notes.push_back(
        "watched tier '" + w.name + "' (" + (w.kind.empty() ? "?" : w.kind) + ") has no tier of that name in the plan, so its "
        "measurement is not used" + (w.utilization ? " (" + w.resource + " " + Pct(*w.utilization) + " at the point)" : ""));
  }
  for (const auto& [i, why] : ResolveMeasured(in)) {
    const std::string& name = in.tiers[i].name;
    d.Add(tiers[i], "tiers[" + std::to_string(i) + "](" + name + ")", why);
  }
}

}  // namespace

Result<PlanInput> ParsePlanText(const std::string& yaml_text, const std::string& source,
                                const std::string& results_path) {
  Diagnostics diag(source);
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::ParserException& e) {
    diag.Add(e.mark, "", "YAML syntax: " + e.msg);
    return Fail(diag.Text());
  }
  if (!root.IsMap()) {
    diag.Add(root.Mark().line >= 0 ? root.Mark() : YAML::Mark(), "",
             "expected a map with name, traffic, slos, workload and tiers");
    return Fail(diag.Text());
  }
  PlanInput in;
  in.source = source;
  Context ctx{diag, results_path, std::nullopt, false, std::nullopt, false};
  if (!results_path.empty()) {
    auto run = ReadRunMeasurement(results_path);
    if (!run) return Fail(run.error().message);
    ctx.run = std::move(*run);
  }
  ReadTop(root, in, ctx);
  auto catalogue = DefaultRemedies();
  if (!catalogue) return Fail(catalogue.error().message);
  in.remedies = std::move(*catalogue);
  if (const YAML::Node overrides = root["remedies"]) {
    ApplyRemedyOverrides(overrides, in.remedies, diag);
    CheckPinnedPhases(overrides, in, diag);
  }
  if (!diag.empty()) return Fail(diag.Text());
  if (ctx.run) {
    if (ctx.run->tiers.empty() && !ctx.stress_capacity_used)
      return Fail(results_path + ": the run watched no tiers, so it measured no tier's capacity: run it with "
                  "--watch or a tiers: section (docs/collect.md), or leave --results out");
    ApplyRun(root["tiers"], *ctx.run, in, diag);
    if (!diag.empty()) return Fail(diag.Text());
  }
  return in;
}

Result<PlanInput> LoadPlanFile(const std::string& path, const std::string& results_path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return Fail(path + ": cannot open plan file (check the path)");
  std::ostringstream text;
  text << file.rdbuf();
  return ParsePlanText(text.str(), path, results_path);
}

}  // namespace headroom::plan
