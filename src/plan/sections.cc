// The descriptive sections of a phase: database path, caching hierarchy, horizontal-scaling
// readiness, traffic management and the manual-scaling runbook. Every number is printed with the
// inputs it came from.
#include <algorithm>
#include <cmath>

#include "plan/planner_internal.h"

namespace headroom::plan {
namespace {

double CapacityPerUnit(const Model& m, const Config& c, int tier) {
  return m.tiers[tier].capacity_rps * m.CapacityFactor(c.tiers[tier].step);
}

void DatabasePath(const Model& m, const Config& c, const Loads& l,
                  const std::vector<LoadRow>& rows, PhaseResult& ph) {
  if (m.db < 0 || !c.tiers[m.db].present) return;
  const TierSpec& t = m.tiers[m.db];
  const TierState& s = c.tiers[m.db];
  auto& out = ph.database;
  out.push_back("Reads: " + Num(l.db_reads) + " reads/s = " + l.reads_formula + ".");
  out.push_back("Writes: " + Num(l.primary_writes) + " writes/s on the primary = " +
                l.writes_formula + ".");
  if (const LoadRow* p = FindRow(rows, t.name, "primary"))
    out.push_back("Primary: " + p->capacity.formula + " = " + Pct(p->utilization) + " (target " +
                  Pct(p->target.value) + ": " + p->target.formula + ").");
  if (s.replicas > 0) {
    out.push_back("Read/write split: " + std::to_string(s.replicas) + " replica(s) take " +
                  Num(l.replica_reads) + " reads/s; " + Pct(m.in.workload.strong_reads) +
                  " of reads (read-your-writes) stay on the primary. Keep replication lag below "
                  "the freshness tolerance of " + Num(m.in.workload.freshness_s) + "s.");
  } else {
    out.push_back("Read/write split: none needed at this phase; every read goes to the primary.");
  }
  if (s.units > 1)
    out.push_back("Shards: " + std::to_string(s.units) + " primaries, each with " +
                  Num(l.primary_writes / s.units) + " writes/s and " +
                  Num(l.primary_reads / s.units) + " reads/s.");
  if (t.max_connections > 0 && m.app >= 0) {
    int app_units = c.tiers[m.app].units;
    int per_unit = m.tiers[m.app].connections_per_unit;
    int budget = static_cast<int>(std::floor(0.8 * t.max_connections));
    std::string line = "Connection pools: " + std::to_string(app_units) + " app units x " +
                       std::to_string(per_unit) + " = " + std::to_string(app_units * per_unit) +
                       " client connections against max_connections " +
                       std::to_string(t.max_connections) + " (80 % = " + std::to_string(budget) +
                       ")";
    if (m.Has(c, "connection_pooling")) {
      const LoadRow* conn = FindRow(rows, t.name, "connections");
      line += "; through the pooler each server holds " + Num(conn ? conn->load.value : 0) +
              " server connections (" + (conn ? conn->load.formula : "") + ").";
    } else {
      line += "; size each app pool at most floor(" + std::to_string(budget) + " / " +
              std::to_string(std::max(app_units, 1)) + ") = " +
              std::to_string(budget / std::max(app_units, 1)) + " connections.";
    }
    out.push_back(line);
  }
}

void CachingHierarchy(const Model& m, const Config& c, const Loads& l,
                      const std::vector<LoadRow>& rows, PhaseResult& ph) {
  const WorkloadSpec& w = m.in.workload;
  auto& out = ph.caching;
  // Edge: the share of edge-cacheable requests the CDN must answer to keep the app within target.
  if (w.edge_cacheable > 0 && m.app >= 0) {
    const LoadRow* app = FindRow(rows, m.tiers[m.app].name, "");
    double app_ok = app ? app->capacity.value * app->target.value : 0;
    double need = (1 - app_ok / l.required_rps) / w.edge_cacheable;
    std::string base = "Edge (CDN): the app holds " + Num(app_ok) + " req/s at target with " +
                       std::to_string(c.tiers[m.app].units) + " units; of " +
                       Num(l.required_rps) + " req/s, " + Pct(w.edge_cacheable) +
                       " are edge-cacheable, ";
    if (need <= 0) {
      out.push_back(base + "so no edge hits are needed at this size.");
    } else if (need > 1) {
      out.push_back(base + "so edge caching alone cannot hold it: more app units are needed.");
    } else {
      out.push_back(base + "so the edge must answer at least " + Pct(need) + " of them" +
                    (l.edge_hit > 0 ? " (planned " + Pct(l.edge_hit) + ")." : "."));
    }
  }
  // Cache: the hit ratio that keeps the database reads within what the database can take.
  if (m.db >= 0 && c.tiers[m.db].present && w.cacheable_reads > 0) {
    const TierSpec& t = m.tiers[m.db];
    const TierState& s = c.tiers[m.db];
    const LoadRow* p = FindRow(rows, t.name, "primary");
    double f = m.CapacityFactor(s.step);
    double target = p ? p->target.value : 0.8;
    double part = m.Has(c, "partitioning") ? m.Param("partitioning", "write_capacity_factor", 1.3) : 1;
    double write_share = l.primary_writes / (t.write_capacity_rps * f * part * std::max(s.units, 1));
    double primary_read_room = std::max(0.0, (target - write_share) * t.capacity_rps * f * s.units);
    double routed_share = s.replicas > 0 ? w.strong_reads : 1.0;
    double read_room = s.replicas > 0
                           ? std::min(primary_read_room / routed_share,
                                      s.replicas * t.capacity_rps * f * target / (1 - w.strong_reads))
                           : primary_read_room;
    double lookups = l.db_reads_raw * w.cacheable_reads;
    double need = lookups > 0 ? (l.db_reads_raw - read_room) / lookups : 0;
    std::string base = "Cache: the database takes " + Num(read_room) + " reads/s at target (" +
                       std::to_string(s.units) + " primary, " + std::to_string(s.replicas) +
                       " replicas, writes using " + Pct(write_share) + "); of " +
                       Num(l.db_reads_raw) + " reads/s, " + Pct(w.cacheable_reads) +
                       " are cacheable, ";
    if (need <= 0) {
      out.push_back(base + "so no cache hits are needed at this size.");
    } else if (need > 1) {
      out.push_back(base + "so caching alone cannot hold it.");
    } else {
      out.push_back(base + "so the cache must hit at least " + Pct(need) +
                    (l.hit_ratio > 0 ? " (planned " + Pct(l.hit_ratio) + ")." : "."));
    }
  }
  double fresh = w.freshness_s;
  if (fresh < 1) {
    out.push_back("Invalidation: freshness " + Num(fresh) + "s is below a second, so do not TTL-"
                  "cache mutable data; write through or delete keys on every write, and read "
                  "your own writes from the primary.");
  } else if (fresh <= 60) {
    out.push_back("Invalidation: TTL " + Num(fresh) + "s (the freshness tolerance) with 10 % "
                  "jitter, plus delete-on-write for keys a write changes; CDN Cache-Control "
                  "max-age=" + Num(fresh) + ".");
  } else {
    out.push_back("Invalidation: TTL " + Num(fresh) + "s (the freshness tolerance); CDN "
                  "Cache-Control max-age=" + Num(fresh) + ", stale-while-revalidate=" +
                  Num(fresh) + "; event-driven invalidation only for prices and stock.");
  }
}

void Readiness(const Model& m, const Config& c, PhaseResult& ph) {
  for (size_t i = 0; i < m.tiers.size(); ++i) {
    if (!c.tiers[i].present) continue;
    const TierSpec& t = m.tiers[i];
    std::string line = t.name + ": ";
    switch (t.kind) {
      case TierKind::kApp: {
        bool external = m.Has(c, "externalize_sessions");
        if (t.sessions == Sessions::kMemory && !external) {
          line += "not ready - sessions live in process memory; move them to the cache tier or "
                  "signed cookies before adding a second unit";
        } else if (t.sessions == Sessions::kSticky && !external) {
          line += "scales, but sticky routing pins users to units (uneven load, lost sessions on "
                  "scale-in); move sessions out and drop stickiness";
        } else {
          line += "ready - stateless";
        }
        for (const std::string& s : t.local_state) {
          line += "; local " + s + (external ? " moved out (externalize_sessions)"
                                             : " must move off the instance");
          if (s == "uploads") line += " (object storage)";
          if (s == "cron") line += " (one scheduler in the worker tier)";
        }
        break;
      }
      case TierKind::kDatabase:
        line += "reads scale with replicas; writes scale only by sharding";
        break;
      case TierKind::kCache:
        line += "ready with client-side consistent hashing (adding a node remaps ~1/N of keys)";
        break;
      case TierKind::kWorkers:
        line += "ready when every job is idempotent (queues deliver at least once)";
        break;
      case TierKind::kQueue:
        line += "scales by partitions; keep ordering per key only where needed";
        break;
      case TierKind::kCdn:
        line += "ready - managed edge";
        break;
    }
    ph.readiness.push_back(line + ".");
  }
}

void Traffic(const Model& m, const Config& c, const std::vector<LoadRow>& rows, PhaseResult& ph) {
  if (m.app < 0) return;
  const TierSpec& app = m.tiers[m.app];
  const LoadRow* row = FindRow(rows, app.name, "");
  double per_unit = CapacityPerUnit(m, c, m.app);
  int units = c.tiers[m.app].units;
  double ceiling = m.CeilingOf(m.app);
  double limit = units * per_unit * ceiling;
  auto& out = ph.traffic;
  out.push_back("Global rate limit at the app: " + Num(limit) + " req/s = " +
                std::to_string(units) + " units x " + Num(per_unit) + " req/s x " +
                Pct(ceiling) + " ceiling.");
  double users = m.in.traffic.concurrent_users * ph.multiplier;
  if (users > 0) {
    double fair = limit / users;
    out.push_back("Per-client tiers (fair share " + Num(fair) + " req/s = " + Num(limit) + " / " +
                  Num(users) + " concurrent users): anonymous per IP " + Num(2 * fair) +
                  " req/s, signed-in users " + Num(10 * fair) +
                  " req/s with bursts of 2x, partners and internal jobs by contract.");
    auto r = [](double v) { return std::to_string(std::max(1LL, std::llround(v))); };
    out.push_back("nginx: `limit_req_zone $binary_remote_addr zone=anon:10m rate=" + r(2 * fair) +
                  "r/s;` `limit_req_zone $http_authorization zone=users:10m rate=" + r(10 * fair) +
                  "r/s;` and per location `limit_req zone=users burst=" + r(20 * fair) +
                  " nodelay; limit_req_status 429;`. Envoy (global, per app unit): "
                  "`local_ratelimit` token_bucket `max_tokens: " + r(per_unit * ceiling) +
                  "`, `tokens_per_fill: " + r(per_unit * ceiling) + "`, `fill_interval: 1s`.");
  }
  int servers = std::max(1, static_cast<int>(std::lround(app.concurrency * m.CapacityFactor(c.tiers[m.app].step))));
  out.push_back("Load shedding: answer 503 with Retry-After when a unit has more than " +
                std::to_string(2 * servers) + " requests in flight (2 x " + std::to_string(servers) +
                " workers) or p95 exceeds " + Num(2 * m.in.slo.p95_ms) +
                "ms (2x SLO); shed anonymous and background traffic first.");
  double flash = ph.demand_rps.value * m.in.traffic.flash_sale_multiple;
  if (m.in.traffic.flash_sale_multiple > 1) {
    std::string line = "Flash sale: " + Num(m.in.traffic.flash_sale_multiple) + "x = " +
                       Num(flash) + " req/s. ";
    std::string fixed;
    for (size_t i = 0; i < m.tiers.size(); ++i) {
      if (!c.tiers[i].present) continue;
      int ti = static_cast<int>(i);
      if (m.Autoscaled(c, ti)) {
        line += m.tiers[i].name + " autoscales from " + std::to_string(c.tiers[i].units) +
                " to at most " + std::to_string(std::max(c.tiers[i].units, c.tiers[i].max_units)) +
                " units for it; ";
      } else {
        fixed += (fixed.empty() ? "" : ", ") + m.tiers[i].name;
      }
    }
    if (!fixed.empty())
      line += fixed + " do not autoscale, so they are sized for " +
              Num(m.SizingRps(ph.required_rps.value)) +
              " req/s (the flash sale or the required rate, whichever is higher) and the "
              "autoscalers are not capped. ";
    line += flash > limit && m.Autoscaled(c, m.app)
                ? "Unannounced, it arrives faster than new units start: raise minReplicas to the "
                  "maximum before announced sales, and let a waiting room hold the excess."
                : "Announced sales: raise minReplicas to the maximum beforehand.";
    out.push_back(line);
  }
  double target = row ? row->target.value : ceiling;
  out.push_back("Degradation ladder: (1) utilization above " + Pct(0.9 * target) +
                " (90 % of target) or p95 > " + Num(m.in.slo.p95_ms) + "ms for 5m: disable "
                "non-critical features (recommendations, live counters, exports); (2) utilization "
                "above " + Pct(target) + " (target) or p95 > " + Num(2 * m.in.slo.p95_ms) + "ms: serve cached data up to " +
                Num(10 * m.in.workload.freshness_s) + "s stale; (3) database primary above 95 % or "
                "replication lag above " + Num(10 * m.in.workload.freshness_s) +
                "s: read-only mode, writes refused with a clear message" +
                (m.Has(c, "async_queue") ? " or queued" : "") + "; (4) error rate above " +
                Pct(10 * m.in.slo.error_rate) + ": shed load as above.");
}

void Runbook(const Model& m, const Config& c, PhaseResult& ph) {
  for (size_t i = 0; i < m.tiers.size(); ++i) {
    if (!c.tiers[i].present) continue;
    const TierSpec& t = m.tiers[i];
    const TierState& s = c.tiers[i];
    std::string n = std::to_string(s.units);
    switch (t.kind) {
      case TierKind::kApp:
      case TierKind::kWorkers: {
        int max = s.units;
        for (const Autoscaler& a : ph.autoscalers)
          if (a.tier == t.name) max = a.max_replicas;
        ph.runbook.push_back(t.name + ": `kubectl scale " + ShellQuote("deployment/" + DnsLabel(t.name)) +
                             " --replicas=" + std::to_string(max) + "` (planned " + n + ", flash-sale maximum " +
                             std::to_string(max) + "); without Kubernetes start units from the "
                             "same image behind the load balancer. Check readiness probes pass and "
                             "p95 falls within 5 minutes; a new unit needs about " +
                             Num(t.startup_s) + "s.");
        break;
      }
      case TierKind::kDatabase:
        ph.runbook.push_back(t.name + ": add a replica from the latest base backup and put it in the "
                             "read pool once lag is below " + Num(m.in.workload.freshness_s) +
                             "s (planned " + std::to_string(s.replicas) + " replicas); to grow the "
                             "primary, resize a replica to the next size, fail over to it, then "
                             "resize the old primary. Raise the pooler's pool only while "
                             "connections stay below 80 % of max_connections.");
        break;
      case TierKind::kCache:
        ph.runbook.push_back(t.name + ": add a node (planned " + n + "); expect about 1/" +
                             std::to_string(s.units + 1) + " of keys to miss until warm, so add "
                             "nodes one at a time outside the peak.");
        break;
      case TierKind::kQueue:
        ph.runbook.push_back(t.name + ": add a broker node (planned " + n + ") and rebalance "
                             "partitions; if consumers lag, scale workers first.");
        break;
      case TierKind::kCdn:
        ph.runbook.push_back(t.name + ": raise TTLs and enable serve-stale on the origin-error path "
                             "to cut origin traffic at once.");
        break;
    }
  }
}

}  // namespace

void FillSections(const Model& m, const Config& c, const Loads& l, PhaseResult& ph) {
  DatabasePath(m, c, l, ph.after, ph);
  CachingHierarchy(m, c, l, ph.after, ph);
  Readiness(m, c, ph);
  Traffic(m, c, ph.after, ph);
}

void FillAutoscaling(const Model& m, const Config& c, const Loads& l, PhaseResult& ph) {
  const PlanInput& in = m.in;
  // Loads are linear in the rate, so the flash-sale load is the required load scaled.
  double flash_scale = m.SizingRps(l.required_rps) / l.required_rps;
  auto add = [&](int tier, double load, const std::string& metric) {
    if (!m.Autoscaled(c, tier)) return;
    const TierSpec& t = m.tiers[tier];
    const LoadRow* row = FindRow(ph.after, t.name, "");
    if (!row) return;
    double per_unit = CapacityPerUnit(m, c, tier);
    double target = row->target.value;
    const TierState& s = c.tiers[tier];
    Autoscaler a;
    a.tier = t.name;
    a.metric = metric;
    double peak_load = load / in.safety_factor;
    double off_peak = peak_load / in.traffic.daily_peak_factor;
    // The HPA runs exactly the costed units at the phase's required rate, and the maximum the
    // sizing found for the flash sale; the minimum covers off-peak traffic, at least 2 units.
    int off_units = static_cast<int>(std::min<double>(kMaxUnits, std::ceil(off_peak / (per_unit * target))));
    a.min_replicas = std::min(std::max(2, off_units), s.units);
    // Units kept from before (today's count, an earlier phase) are more than the rate needs: the
    // HPA would scale below the costed count, so its minimum keeps them.
    int needed = static_cast<int>(std::min<double>(kMaxUnits, std::ceil(load / (per_unit * target) - 1e-9)));
    bool kept = needed < s.units && std::max(a.min_replicas, needed) < s.units;
    if (kept) a.min_replicas = s.units;
    a.max_replicas = std::max(s.units, s.max_units);
    a.target_utilization = std::floor(target * 100) / 100;
    if (metric == "queue_depth") {
      double delay = in.slo.job_delay_s.value_or(60);
      // Scale at half the delay budget, leaving the other half for new workers to start.
      a.target_queue_depth = std::max(1.0, std::floor(per_unit * target * delay / 2));
      a.rationale = "each worker drains " + Num(per_unit * target) + " jobs/s at target, so " +
                    Num(a.target_queue_depth) + " waiting jobs per worker clear within half the " +
                    Num(delay) + "s job-delay budget; " + std::to_string(s.units) +
                    " workers (costed) hold the " + Num(load) + " jobs/s required, " +
                    std::to_string(a.max_replicas) + " the " + Num(load * flash_scale) +
                    " jobs/s of the flash sale";
    } else {
      a.rationale = (kept ? "min: the " + std::to_string(s.units) + " units already running "
                            "(more than the " + std::to_string(needed) + " the rate needs); "
                          : "min: off-peak " + Num(off_peak) + "/s (peak / daily factor " +
                                Num(in.traffic.daily_peak_factor) + ") at " + Pct(target) +
                                ", at least 2; ") +
                    std::to_string(s.units) + " at the required " + Num(load) +
                    "/s (the costed units); max: " + Num(load * flash_scale) + "/s flash sale / (" +
                    Num(per_unit) + "/s x " + Pct(target) + "); target " + row->target.formula;
    }
    double doublings = a.max_replicas > s.units ? std::ceil(std::log2(double(a.max_replicas) / s.units)) : 0;
    a.seconds_to_flash_capacity = doublings * std::max(15.0, t.startup_s);
    ph.autoscalers.push_back(a);
  };
  if (m.app >= 0) {
    std::string metric = m.tiers[m.app].limited_by == Resource::kMemory ? "memory" : "cpu";
    add(m.app, l.app_rps, metric);
  }
  if (m.workers >= 0) add(m.workers, l.jobs, "queue_depth");
  Runbook(m, c, ph);  // after the autoscalers: it quotes their maxima
}

}  // namespace headroom::plan
