// Concrete settings for each chosen change (what to set, with values computed for the phase) and
// the phase's load-test plan. The remedies catalogue says what a remedy is; this file says what
// to type: pooler modes and pool sizes, Redis maxmemory, shard counts, HPA behavior, rate limits.
#include <algorithm>
#include <cmath>

#include "plan/planner_internal.h"

namespace headroom::plan {
namespace {

std::string Int(double v) { return std::to_string(static_cast<long long>(std::ceil(v - 1e-9))); }

// Cores (or worker threads) of one unit of `tier` at its configured vertical step.
int Cores(const Model& m, const Config& c, int tier) {
  return std::max(1, static_cast<int>(std::lround(m.tiers[tier].concurrency *
                                                  m.CapacityFactor(c.tiers[tier].step))));
}

int AppMaxUnits(const Model& m, const Config& c) {
  return m.app < 0 ? 0 : std::max(c.tiers[m.app].units, c.tiers[m.app].max_units);
}

std::vector<std::string> PoolingSettings(const Model& m, const Config& c) {
  if (m.db < 0) return {};
  const TierSpec& db = m.tiers[m.db];
  int cores = Cores(m, c, m.db);
  int pool = static_cast<int>(std::lround(cores * m.Param("connection_pooling", "server_connections_per_core", 2)));
  int clients = AppMaxUnits(m, c) * (m.app >= 0 ? m.tiers[m.app].connections_per_unit : 0);
  std::vector<std::string> out;
  out.push_back("PgBouncer in front of every primary and replica: `pool_mode = transaction`, "
                "`default_pool_size = " + std::to_string(pool) + "` (" + std::to_string(cores) +
                " cores x " + Num(m.Param("connection_pooling", "server_connections_per_core", 2)) +
                "), `reserve_pool_size = " + Int(pool * 0.1) + "`, `max_client_conn = " +
                std::to_string(std::max(clients, 100)) + "` (" + std::to_string(AppMaxUnits(m, c)) +
                " app units at the autoscaling maximum x their pools), `server_idle_timeout = 60`.");
  if (db.max_connections > 0)
    out.push_back("PostgreSQL `max_connections = " + std::to_string(db.max_connections) +
                  "` stays; the pooler uses " + std::to_string(pool + static_cast<int>(std::ceil(pool * 0.1))) +
                  " of them per server. Transaction mode: no session state (SET, advisory locks, "
                  "prepared statements without protocol support) across transactions.");
  return out;
}

// The working set the cache must hold: every key loaded within one TTL (the misses per second x
// the freshness tolerance), at the declared item size plus Redis's per-key overhead.
std::vector<std::string> CacheSettings(const Model& m, const Config& c, const Loads& l) {
  const WorkloadSpec& w = m.in.workload;
  double ttl = std::max(1.0, w.freshness_s);
  double lookups = l.cache_lookups;
  double keys = lookups * ttl * std::max(0.05, 1 - l.hit_ratio) + lookups * ttl * l.hit_ratio * 0.1;
  double bytes = keys * (w.cache_item_bytes + 90) * 1.25;
  double mb = std::max(256.0, std::ceil(bytes / (64.0 * 1024 * 1024)) * 64);
  bool sessions = m.Has(c, "externalize_sessions");
  std::vector<std::string> out;
  out.push_back("Redis `maxmemory " + Num(mb) + "mb`: about " + Num(keys) + " keys loaded per " +
                Num(ttl) + "s TTL (" + Num(lookups) + " lookups/s x " + Pct(1 - l.hit_ratio) +
                " misses, plus 10 % of hits for keys that stay hot) x (" + Num(w.cache_item_bytes) +
                " bytes + 90 bytes per key) x 1.25 fragmentation, at least 256mb; "
                "`maxmemory-policy allkeys-lru` so the cache evicts instead of refusing writes.");
  out.push_back("Keys: `SET key value EX " + Num(ttl) + "` with 10 % jitter on the TTL; delete on "
                "the writes that change them; target hit ratio " + Pct(l.hit_ratio) + ".");
  if (sessions)
    out.push_back("Sessions: a separate Redis (or database) with `maxmemory-policy noeviction` "
                  "and `appendonly yes`, so evicting cache entries never logs users out.");
  return out;
}

std::vector<std::string> ShardSettings(const Model& m, const Config& c, const Loads& l,
                                       bool horizontal) {
  std::vector<std::string> out;
  if (m.db < 0) return out;
  int shards = c.tiers[m.db].units;
  if (!horizontal) {
    out.push_back("One database per domain (" + std::to_string(m.in.workload.functional_domains) +
                  "): move each domain's tables, replace cross-domain joins with API calls or "
                  "replicated read models; each database gets its own pooler.");
    return out;
  }
  int next_pow2 = 1;
  while (next_pow2 < shards) next_pow2 *= 2;
  out.push_back("Shard key: the tenant or customer id (every request of a customer stays on one "
                "shard); `shard = hash(customer_id) mod " + std::to_string(next_pow2) +
                "` over " + std::to_string(next_pow2) + " logical shards mapped onto " +
                std::to_string(shards) + " primaries, so resharding splits a primary in two "
                "without rehashing.");
  out.push_back("Per primary: " + Num(l.primary_writes / std::max(shards, 1)) + " writes/s and " +
                Num(l.primary_reads / std::max(shards, 1)) + " reads/s at the required rate; "
                "keep a shard map table (logical shard -> primary) in the routing layer.");
  return out;
}

std::vector<std::string> RemedySettings(const Model& m, const Config& c, const Loads& l,
                                        const std::string& id, const PhaseResult& ph) {
  const WorkloadSpec& w = m.in.workload;
  if (id == "connection_pooling") return PoolingSettings(m, c);
  if (id == "caching") return CacheSettings(m, c, l);
  if (id == "functional_sharding") return ShardSettings(m, c, l, false);
  if (id == "horizontal_sharding") return ShardSettings(m, c, l, true);
  if (id == "query_optimization") {
    double budget = m.db >= 0 ? m.BudgetMsOf(m.db).value_or(m.in.slo.p95_ms) : m.in.slo.p95_ms;
    return {"`shared_preload_libraries = 'pg_stat_statements'`, `log_min_duration_statement = " +
            Int(budget) + "` (the per-query latency budget, ms); rank by total_exec_time and "
            "index or batch the top 10 until read queries fall by " + Pct(1 - l.read_factor) + "."};
  }
  if (id == "cdn") {
    double f = std::max(1.0, w.freshness_s);
    return {"Edge-cacheable GET responses: `Cache-Control: public, max-age=" + Num(f) +
                ", s-maxage=" + Num(f) + ", stale-while-revalidate=" + Num(f) +
                ", stale-if-error=86400`; static assets with content hashes: `max-age=31536000, "
                "immutable`.",
            "Personalized responses and every POST/PUT/DELETE: `Cache-Control: private, "
            "no-store`; the CDN passes writes to the origin untouched (they are " +
                Pct(1 - w.read_share) + " of requests and never cached)."};
  }
  if (id == "read_replicas" && m.db >= 0) {
    int replicas = c.tiers[m.db].replicas;
    return {std::to_string(replicas) + " streaming replica(s) (" +
                std::to_string(std::max(1, replicas / std::max(1, c.tiers[m.db].units))) +
                " per primary) with `hot_standby = on`, `hot_standby_feedback = on`, "
                "`max_standby_streaming_delay = " + Num(std::max(1.0, w.freshness_s)) + "s`.",
            "Route reads that tolerate " + Num(w.freshness_s) + "s of lag to the replicas; the " +
                Pct(w.strong_reads) + " read-your-writes reads stay on the primary; alert when "
                "`pg_replication_lag` exceeds " + Num(w.freshness_s) + "s."};
  }
  if (id == "async_queue") {
    double delay = m.in.slo.job_delay_s.value_or(60);
    return {"Queue: deferrable writes (" + Pct(w.deferrable_writes) + ", " + Num(l.deferred) +
                " writes/s) as jobs; visibility timeout " + Num(std::max(30.0, delay / 2)) +
                "s, dead-letter queue after 5 attempts, idempotency key per job.",
            "Workers apply jobs in batches of up to " +
                Int(std::max(1.0, 1 / m.Param("async_queue", "batch_factor", 0.5))) +
                " rows per statement; prefetch = 2 x worker threads."};
  }
  if (id == "partitioning")
    return {"`PARTITION BY RANGE (created_at)` monthly on the largest write-heavy tables (or by "
            "tenant when queries are per tenant); create partitions a month ahead; detach and "
            "drop expired partitions instead of DELETE."};
  if (id == "externalize_sessions" && m.app >= 0) {
    std::vector<std::string> out = {"Sessions in the cache tier (or signed cookies) with a TTL equal "
                                    "to the session lifetime; uploads to object storage with "
                                    "pre-signed URLs; scheduled jobs to one scheduler in the "
                                    "worker tier."};
    return out;
  }
  if (id == "vertical_scaling") {
    std::vector<std::string> out;
    for (const TierUnits& u : ph.units)
      if (u.size_step > 0)
        out.push_back(u.tier + ": instance size x" + Num(m.CapacityFactor(u.size_step)) +
                      " of today's (cores and memory), " + u.cost_formula + ".");
    return out;
  }
  return {};
}

// One process per core for single-threaded runtimes, from the app's declared runtime.
std::vector<std::string> RuntimeSettings(const Model& m, const Config& c) {
  if (m.app < 0) return {};
  const TierSpec& t = m.tiers[m.app];
  int cores = Cores(m, c, m.app);
  if (t.runtime == "node")
    return {"Node: the `cluster` module (or PM2 `-i " + std::to_string(cores) + "`) with " +
            std::to_string(cores) + " workers per unit, one per core; the event loop of one process "
            "uses one core."};
  if (t.runtime == "python")
    return {"Python: gunicorn `--workers " + std::to_string(cores) + " --threads 4` per unit "
            "(one process per core; threads cover I/O waits)."};
  if (t.runtime == "ruby")
    return {"Ruby: Puma `workers " + std::to_string(cores) + "`, `threads 5, 5` per unit."};
  if (t.runtime == "php")
    return {"PHP-FPM: `pm = static`, `pm.max_children = " + std::to_string(cores * 4) + "` per unit."};
  return {};
}

// HPA behavior for an autoscaled tier, with the reasons for its cooldowns.
std::string HpaBehavior(const Model& m, const Autoscaler& a) {
  double startup = 60;
  for (const TierSpec& t : m.tiers)
    if (t.name == a.tier) startup = t.startup_s;
  return "HPA " + a.tier + ": minReplicas " + std::to_string(a.min_replicas) + ", maxReplicas " +
         std::to_string(a.max_replicas) + "; `behavior.scaleUp`: stabilizationWindowSeconds 0 "
         "(the " + Num(startup) + "s startup already delays new capacity), policies 100 % or 4 pods "
         "per 15s, selectPolicy Max (doubling reaches the maximum in about " +
         Num(a.seconds_to_flash_capacity) + "s); `behavior.scaleDown`: stabilizationWindowSeconds "
         "300 and 10 % per 60s, selectPolicy Min, so the daily peak's dips do not remove units "
         "that take " + Num(startup) + "s to come back.";
}

}  // namespace

void FillSettings(const Model& m, const Config& c, const Loads& l, PhaseResult& ph) {
  for (Change& ch : ph.changes) {
    if (!ch.remedy_id.empty()) ch.settings = RemedySettings(m, c, l, ch.remedy_id, ph);
    if (ch.remedy_id == "externalize_sessions" || (ch.title.rfind("Scale ", 0) == 0 && m.app >= 0 &&
                                                   ch.title == "Scale " + m.tiers[m.app].name)) {
      for (const std::string& s : RuntimeSettings(m, c)) ch.settings.push_back(s);
    }
    for (const Autoscaler& a : ph.autoscalers)
      if (ch.title == "Scale " + a.tier || ch.title == "Add " + a.tier ||
          (ch.remedy_id == "externalize_sessions" && m.app >= 0 && a.tier == m.tiers[m.app].name))
        ch.settings.push_back(HpaBehavior(m, a));
    for (const TierUnits& u : ph.units) {
      bool resized = ch.title == "Resize " + u.tier;
      if (!resized) continue;
      bool autoscaled = false;
      for (const Autoscaler& a : ph.autoscalers) autoscaled |= a.tier == u.tier;
      ch.settings.push_back(
          "VPA for " + u.tier + ": `updatePolicy.updateMode: \"Off\"` (recommendations only" +
          std::string(autoscaled ? "; an HPA on CPU already moves this tier" : "") +
          "), `minAllowed` at the new size x" + Num(m.CapacityFactor(u.size_step)) +
          " so its recommendation shows when the size is outgrown.");
    }
  }
  int pods = 0;
  for (const Autoscaler& a : ph.autoscalers) pods += a.max_replicas;
  if (pods > 0)
    ph.traffic.push_back("Cluster autoscaler: node groups sized for " + std::to_string(pods) +
                         " pods at the autoscalers' maxima plus one node of spare; "
                         "`--expander=least-waste`, `--scale-down-delay-after-add=10m`, "
                         "`--max-node-provision-time=5m` (a new node adds minutes to the pods' startup).");
}

void FillLoadTest(const Model& m, const Config& c, const Loads& l, PhaseResult& ph) {
  const PlanInput& in = m.in;
  double required = ph.required_rps.value;
  auto& out = ph.load_test;
  out.push_back("Ramp: from " + Num(0.1 * required) + " to " + Num(3 * required) +
                " req/s (3x the phase's required rate) over " + Num(3 * in.gate.ramp_s) +
                "s, as a stress test: note where p95 crosses " + Num(in.slo.p95_ms) +
                "ms; \"What breaks first\" predicts the tier (`headroom run` with a `stress` "
                "phase finds the knee).");
  out.push_back("Soak: " + Num(in.gate.soak_s / 60) + " minutes at " + Num(required) +
                " req/s (gate `soak`), p95 drift under 20 % (leaks, pool exhaustion, compaction).");
  // Chaos: one unit of the app fewer, at the required rate.
  if (m.app >= 0) {
    const LoadRow* app = FindRow(ph.after, m.tiers[m.app].name, "");
    int units = c.tiers[m.app].units;
    if (app && units > 1) {
      double util = app->load.value / (app->capacity.value * (units - 1) / units);
      std::string effect =
          util <= app->target.value
              ? "the others hold it at " + Pct(util) + " (target " + Pct(app->target.value) +
                    "): p95 and error rate stay within the SLOs"
              : "the others run at " + Pct(util) + " (target " + Pct(app->target.value) +
                    "): expect p95 above " + Num(in.slo.p95_ms) + "ms until " +
                    (m.Autoscaled(c, m.app) ? "the HPA replaces it (about " +
                                                  Num(m.tiers[m.app].startup_s + 30) + "s)"
                                            : "it restarts") +
                    ", and a burst of errors from its in-flight requests";
      out.push_back("Chaos: kill one " + m.tiers[m.app].name + " unit of " +
                    std::to_string(units) + " mid-soak; " + effect + ".");
      double replace_s = m.tiers[m.app].startup_s + 30;
      ph.chaos.push_back({"kill-" + DnsLabel(m.tiers[m.app].name) + "-unit",
                          "kill one " + m.tiers[m.app].name + " unit of " + std::to_string(units) +
                              (m.Autoscaled(c, m.app)
                                   ? " (kubectl delete pod -l app=" + DnsLabel(m.tiers[m.app].name) +
                                         " --field-selector status.phase=Running, one pod)"
                                   : ""),
                          util <= app->target.value, effect,
                          std::ceil((replace_s + 60) / 60) * 60});
    } else if (app) {
      out.push_back("Chaos: " + m.tiers[m.app].name + " runs one unit: killing it is an outage "
                    "until it restarts; test the restart time against the " +
                    Pct(in.slo.availability) + " availability SLO instead.");
    }
  }
  if (m.cache >= 0 && c.tiers[m.cache].present && l.cache_hits > 0 && m.db >= 0) {
    const LoadRow* primary = FindRow(ph.after, m.tiers[m.db].name, "primary");
    const LoadRow* replicas = FindRow(ph.after, m.tiers[m.db].name, "replicas");
    double extra = l.cache_hits;
    std::string where;
    if (primary) {
      double share = replicas ? in.workload.strong_reads : 1.0;
      double reads_cap = primary->capacity.value;  // the mix-equivalent capacity of the primary
      double util = primary->utilization + extra * share / std::max(reads_cap, 1.0);
      where = "the primary rises to about " + Pct(util) + " (target " + Pct(primary->target.value) +
              ")";
      if (replicas)
        where += " and the replicas to " +
                 Pct((replicas->load.value + extra * (1 - share)) / replicas->capacity.value);
    }
    out.push_back("Chaos: flush or kill the cache mid-soak: " + Num(extra) +
                  " reads/s fall through to the database while it warms; " + where +
                  ". Expect p95 to rise for about one TTL (" + Num(in.workload.freshness_s) +
                  "s); if that breaks the SLO, warm the cache before traffic returns.");
    double util = primary ? primary->utilization + extra * (replicas ? in.workload.strong_reads : 1.0) /
                                                       std::max(primary->capacity.value, 1.0)
                          : 0;
    ph.chaos.push_back({"flush-" + DnsLabel(m.tiers[m.cache].name),
                        "flush the cache (redis-cli FLUSHALL on " + m.tiers[m.cache].name + ")",
                        primary && util <= primary->target.value,
                        Num(extra) + " reads/s fall through to the database; " + where,
                        std::ceil(std::max(120.0, 2 * in.workload.freshness_s) / 60) * 60});
  }
}

}  // namespace headroom::plan
