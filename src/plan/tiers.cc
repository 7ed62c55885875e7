// The tier model: which work reaches which tier, and how close to its safe limit that puts it.
// Each figure keeps the arithmetic that produced it, so plan.md can show its inputs.
#include <algorithm>
#include <cmath>

#include "model/model.h"
#include "plan/catalogue.h"
#include "plan/planner_internal.h"

namespace headroom::plan {
namespace {

double DefaultCeiling(TierKind kind) {
  switch (kind) {
    case TierKind::kApp: return 0.85;
    case TierKind::kDatabase: return 0.80;
    case TierKind::kCache: return 0.80;
    case TierKind::kCdn: return 0.90;
    case TierKind::kQueue: return 0.80;
    case TierKind::kWorkers: return 0.90;
  }
  return 0.8;
}

constexpr double kConnectionCeiling = 0.8;

}  // namespace

Model::Model(const PlanInput& input) : in(input), tiers(input.tiers) {
  auto index_of = [&](TierKind kind) {
    for (size_t i = 0; i < tiers.size(); ++i)
      if (tiers[i].kind == kind) return static_cast<int>(i);
    return -1;
  };
  for (const Remedy& r : in.remedies) {
    if (r.disabled) continue;
    for (const TierSpec& t : r.adds_tiers) {
      if (index_of(t.kind) >= 0) continue;
      tiers.push_back(t);
      tiers.back().added_by_remedy = true;
    }
  }
  app = index_of(TierKind::kApp);
  db = index_of(TierKind::kDatabase);
  cache = index_of(TierKind::kCache);
  cdn = index_of(TierKind::kCdn);
  queue = index_of(TierKind::kQueue);
  workers = index_of(TierKind::kWorkers);
}

int Model::RemedyIndex(const std::string& id) const {
  for (size_t i = 0; i < in.remedies.size(); ++i)
    if (in.remedies[i].id == id && !in.remedies[i].disabled) return static_cast<int>(i);
  return -1;
}

bool Model::Has(const Config& c, const std::string& id) const {
  int i = RemedyIndex(id);
  return i >= 0 && i < static_cast<int>(c.enabled.size()) && c.enabled[i];
}

const Remedy* Model::Find(const std::string& id) const {
  int i = RemedyIndex(id);
  return i < 0 ? nullptr : &in.remedies[i];
}

double Model::Param(const std::string& id, const std::string& key, double fallback) const {
  const Remedy* r = Find(id);
  return r ? EffectParam(*r, key, fallback) : fallback;
}

double Model::CapacityFactor(int step) const {
  return std::pow(Param("vertical_scaling", "capacity_factor", 2), step);
}

double Model::CostFactor(int step) const {
  return std::pow(Param("vertical_scaling", "cost_factor", 2), step);
}

int Model::MaxStep(const Config& c) const {
  if (!Has(c, "vertical_scaling")) return 0;
  return static_cast<int>(Param("vertical_scaling", "max_steps", 2));
}

int Model::MaxStep(const Config& c, int tier) const {
  const Remedy* r = Find("vertical_scaling");
  if (r && !r->tiers.empty() &&
      std::find(r->tiers.begin(), r->tiers.end(), tiers[tier].name) == r->tiers.end())
    return 0;
  return MaxStep(c);
}

double Model::MonthOf(double required_rps) const {
  double multiple = required_rps / (in.traffic.peak_rps * in.safety_factor);
  if (multiple <= 1) return 0;
  if (in.traffic.growth_monthly <= 0) return 1e300;
  return std::log(multiple) / std::log(1 + in.traffic.growth_monthly);
}

double Model::QueriesPerRequest() const {
  const WorkloadSpec& w = in.workload;
  return w.read_share * w.queries_per_read +
         (1 - w.read_share) * (w.reads_per_write + w.writes_per_write);
}

double Model::CeilingOf(int tier) const {
  return tiers[tier].max_utilization.value_or(DefaultCeiling(tiers[tier].kind));
}

std::optional<double> Model::BudgetMsOf(int tier) const {
  const TierSpec& t = tiers[tier];
  if (t.latency_budget_ms) return t.latency_budget_ms;
  // The app's measured capacity already includes its calls to the tiers below, so it gets the
  // whole p95 SLO; one database or cache operation gets the SLO divided by the operations a
  // request makes.
  double qpr = std::max(QueriesPerRequest(), 1.0);
  switch (t.kind) {
    case TierKind::kApp: return in.slo.p95_ms;
    case TierKind::kDatabase: return in.slo.p95_ms / qpr;
    case TierKind::kCache: return in.slo.p95_ms / qpr;
    case TierKind::kWorkers:
      if (in.slo.job_delay_s) return *in.slo.job_delay_s * 1e3;
      return std::nullopt;
    case TierKind::kCdn:
    case TierKind::kQueue: return std::nullopt;
  }
  return std::nullopt;
}

Figure Model::Target(int tier, int servers_per_unit, double service_ms) const {
  double ceiling = CeilingOf(tier);
  auto budget = BudgetMsOf(tier);
  Figure f;
  std::string ceiling_text = tiers[tier].max_utilization ? "max_utilization " + Pct(ceiling)
                                                         : "ceiling " + Pct(ceiling);
  if (!budget || service_ms <= 0) {
    f.value = ceiling;
    f.formula = ceiling_text;
    return f;
  }
  auto key = std::make_tuple(servers_per_unit, service_ms, *budget);
  auto it = target_memo_.find(key);
  double rho;
  if (it != target_memo_.end()) {
    rho = it->second;
  } else {
    rho = model::MaxUtilizationForQuantile(servers_per_unit, service_ms, 0.95, *budget);
    target_memo_.emplace(key, rho);
  }
  std::string queue_text = "M/M/" + std::to_string(servers_per_unit) + " with service " +
                           Num(service_ms) + "ms keeps p95 <= " + Num(*budget) + "ms up to " +
                           Pct(rho);
  if (rho <= 0) {
    f.value = 0;
    f.formula = "unreachable: service time " + Num(service_ms) + "ms x ln(20) alone exceeds the " +
                Num(*budget) + "ms p95 budget";
  } else if (rho < ceiling) {
    f.value = rho;
    f.formula = queue_text;
  } else {
    f.value = ceiling;
    f.formula = ceiling_text + " (" + queue_text + ")";
  }
  return f;
}

Config Model::Today() const {
  Config c;
  c.enabled.assign(in.remedies.size(), false);
  c.tiers.resize(tiers.size());
  for (size_t i = 0; i < tiers.size(); ++i) {
    const TierSpec& t = tiers[i];
    c.tiers[i].present = !t.added_by_remedy;
    c.tiers[i].units = c.tiers[i].present ? t.count : 0;
    c.tiers[i].replicas = c.tiers[i].present ? t.replicas : 0;
  }
  // Structures already in place count as applied remedies.
  auto enable = [&](const std::string& id) {
    int r = RemedyIndex(id);
    if (r >= 0) c.enabled[r] = true;
  };
  if (db >= 0 && c.tiers[db].present && tiers[db].replicas > 0) enable("read_replicas");
  if (db >= 0 && c.tiers[db].present && tiers[db].count > 1) enable("horizontal_sharding");
  // Prerequisites of what is in place are in place too.
  for (size_t r = 0; r < in.remedies.size(); ++r) {
    if (!c.enabled[r]) continue;
    for (const std::string& dep : in.remedies[r].requires_ids) enable(dep);
  }
  return c;
}

bool Model::AppScalable(const Config& c) const {
  if (app < 0) return false;
  const TierSpec& t = tiers[app];
  bool stateless = t.sessions != Sessions::kMemory && t.local_state.empty();
  return stateless || Has(c, "externalize_sessions");
}

bool Model::Autoscaled(const Config& c, int tier) const {
  if (tier < 0 || !c.tiers[tier].present) return false;
  if (tier == app) return AppScalable(c);
  return tier == workers;
}

double Model::SizingRps(double required_rps) const {
  double flash = required_rps / in.safety_factor * in.traffic.flash_sale_multiple;
  return std::max(required_rps, flash);
}

Figure Model::AutoscaleTarget(int tier, const Figure& base) const {
  const TierSpec& t = tiers[tier];
  // New units help only after the metrics window and the HPA sync (about 30s) plus startup; the
  // load meanwhile rises at most as fast as the gate's ramp (10 % -> 100 % in gate.ramp).
  double reaction_s = t.startup_s + 30;
  double rise_per_s = 0.9 / std::max(in.gate.ramp_s, 1.0);
  double value = base.value / (1 + reaction_s * rise_per_s);
  return {value, "autoscaling target " + Pct(base.value) + " / (1 + (" + Num(t.startup_s) +
                     "s startup + 30s metrics and sync) x " + Pct(rise_per_s) +
                     "/s load rise (90 % over the " + Num(in.gate.ramp_s) + "s gate ramp)) = " +
                     Pct(value) + "; " + base.formula};
}

Figure Model::TierTarget(const Config& c, int tier, int step) const {
  const TierSpec& t = tiers[tier];
  int servers = std::max(1, static_cast<int>(std::lround(t.concurrency * CapacityFactor(step))));
  Figure base = Target(tier, servers, 1e3 * t.concurrency / t.capacity_rps);
  if (tier == app && AppScalable(c) && base.value > 0) return AutoscaleTarget(tier, base);
  return base;
}

double StreamRps(const Model& m, double rate_today, const std::optional<double>& growth,
                 double required_rps) {
  const PlanInput& in = m.in;
  double mult = required_rps / (in.traffic.peak_rps * in.safety_factor);
  double share = 1;
  if (growth && in.traffic.growth_monthly > 0)
    share = std::log1p(*growth) / std::log1p(in.traffic.growth_monthly);
  return rate_today * in.safety_factor * (mult > 0 ? std::pow(mult, share) : 0);
}

Loads ComputeLoads(const Model& m, const Config& c, double required_rps) {
  const WorkloadSpec& w = m.in.workload;
  Loads l;
  l.required_rps = required_rps;
  bool has_cdn = m.cdn >= 0 && c.tiers[m.cdn].present;
  l.edge_hit = has_cdn ? m.Param("cdn", "edge_hit_ratio", 0.9) : 0;
  l.cdn_rps = has_cdn ? required_rps : 0;
  // A CDN answers cacheable GETs only: edge hits come out of the reads, never the writes.
  double edge_share = std::min(w.edge_cacheable, w.read_share);
  double read_req = required_rps * (w.read_share - edge_share * l.edge_hit);
  double write_req = required_rps * (1 - w.read_share);
  l.app_rps = read_req + write_req;
  l.app_formula = Num(required_rps) + " req/s required";
  if (has_cdn && edge_share > 0) {
    l.app_formula += " x (1 - " + Pct(edge_share) + " edge-cacheable reads x " + Pct(l.edge_hit) +
                     " CDN hits)";
  }
  l.read_factor = m.Has(c, "query_optimization") ? m.Param("query_optimization", "read_factor", 0.7)
                                                 : 1.0;
  l.db_reads_raw = (read_req * w.queries_per_read + write_req * w.reads_per_write) * l.read_factor;
  // Other workloads reach the app directly (no CDN) and the database like the main requests do.
  double stream_writes = 0, stream_jobs = 0;
  std::string stream_reads_formula, stream_writes_formula;
  for (const WorkloadStream& ws : m.in.workloads) {
    Loads::Stream st;
    if (ws.kind == StreamKind::kPeriodic) {
      st.rps = StreamRps(m, ws.jobs, ws.growth_monthly, required_rps) / ws.delay_s;
      st.jobs = st.rps;
    } else {
      st.rps = StreamRps(m, ws.rate_rps, ws.growth_monthly, required_rps);
      double reads = st.rps * ws.read_share, writes = st.rps - reads;
      st.db_reads = (reads * w.queries_per_read + writes * w.reads_per_write) * l.read_factor;
      st.writes = writes * ws.writes_per_request;
      st.jobs = st.rps * ws.jobs_per_request;
      l.app_rps += st.rps;
      l.app_formula += " + " + Num(st.rps) + " req/s " + ws.name;
      l.db_reads_raw += st.db_reads;
      if (st.db_reads > 0) stream_reads_formula += " + " + Num(st.db_reads) + " " + ws.name;
      stream_writes += st.writes;
      if (st.writes > 0)
        stream_writes_formula += " + " + ws.name + " " + Num(writes) + " req/s x " +
                                 Num(ws.writes_per_request) + " statements";
    }
    stream_jobs += st.jobs;
    l.streams.push_back(st);
  }
  bool has_cache = m.cache >= 0 && c.tiers[m.cache].present;
  if (has_cache) {
    double declared = m.tiers[m.cache].added_by_remedy ? 0 : m.tiers[m.cache].hit_ratio;
    l.hit_ratio = m.Has(c, "caching") ? std::max(declared, m.Param("caching", "hit_ratio", 0.8))
                                      : declared;
    l.cache_lookups = l.db_reads_raw * w.cacheable_reads;
    l.cache_hits = l.cache_lookups * l.hit_ratio;
  }
  l.db_reads = l.db_reads_raw - l.cache_hits;
  l.reads_formula = "(" + Num(read_req) + " read req/s x " + Num(w.queries_per_read) +
                    " queries + " + Num(write_req) + " write req/s x " + Num(w.reads_per_write) +
                    " reads)";
  if (l.read_factor != 1) l.reads_formula += " x " + Num(l.read_factor) + " (query optimization)";
  l.reads_formula += stream_reads_formula;
  if (l.cache_hits > 0) {
    l.reads_formula += " - " + Pct(w.cacheable_reads) + " cacheable x " + Pct(l.hit_ratio) +
                       " hits";
  }
  l.writes = write_req * w.writes_per_write + stream_writes;
  l.writes_formula = Num(required_rps) + " req/s x " + Pct(1 - w.read_share) + " writes x " +
                     Num(w.writes_per_write) + " statements" + stream_writes_formula;
  double batch = 1;
  if (m.Has(c, "async_queue") && m.queue >= 0 && c.tiers[m.queue].present) {
    l.deferred = l.writes * w.deferrable_writes;
    batch = m.Param("async_queue", "batch_factor", 0.5);
    l.writes_formula += ", " + Pct(w.deferrable_writes) + " deferred and batched x " + Num(batch);
  }
  l.primary_writes = l.writes - l.deferred + l.deferred * batch;
  bool routed = m.db >= 0 && c.tiers[m.db].replicas > 0;
  l.primary_reads = routed ? l.db_reads * w.strong_reads : l.db_reads;
  l.replica_reads = l.db_reads - l.primary_reads;
  double main_app_rps = read_req + write_req;
  l.jobs = main_app_rps * w.jobs_per_request + l.deferred + stream_jobs;
  l.jobs_formula = Num(main_app_rps) + " req/s x " + Num(w.jobs_per_request) + " jobs/request";
  for (size_t i = 0; i < m.in.workloads.size(); ++i)
    if (l.streams[i].jobs > 0)
      l.jobs_formula += " + " + m.in.workloads[i].name + " " + Num(l.streams[i].jobs) + " jobs/s";
  // A periodic batch grows with demand and must drain within its delay: jobs x (R / peak) / delay.
  for (const WorkloadSpec::PeriodicJobs& p : w.periodic) {
    double rate = p.jobs * (required_rps / m.in.traffic.peak_rps) / p.delay_s;
    l.jobs += rate;
    l.jobs_formula += " + " + p.name + " " + Num(p.jobs) + " jobs x " +
                      Num(required_rps / m.in.traffic.peak_rps) + " / " + Num(p.delay_s) + "s";
  }
  if (l.deferred > 0) l.jobs_formula += " + " + Num(l.deferred) + " deferred writes/s";
  return l;
}

namespace {

LoadRow SimpleRow(const Model& m, const Config& c, int tier, double load, const std::string& unit,
                  const std::string& load_formula) {
  const TierSpec& t = m.tiers[tier];
  const TierState& s = c.tiers[tier];
  LoadRow row;
  row.tier = t.name;
  row.kind = t.kind;
  row.resource = t.limited_by;
  row.load = {load, load_formula};
  row.load_unit = unit;
  double per_unit = t.capacity_rps * m.CapacityFactor(s.step);
  row.capacity.value = s.units * per_unit;
  row.capacity.formula = std::to_string(s.units) + " x " + Num(per_unit) + "/s" +
                         (s.step > 0 ? " (" + t.capacity_source + " x " +
                                           Num(m.CapacityFactor(s.step)) + " vertical)"
                                     : " (" + t.capacity_source + ")");
  row.target = m.TierTarget(c, tier, s.step);
  return row;
}

void Finish(LoadRow& row) {
  row.utilization = row.capacity.value > 0 ? row.load.value / row.capacity.value
                                           : (row.load.value > 0 ? 1e9 : 0);
  row.headroom = row.load.value > 0 ? row.capacity.value * row.target.value / row.load.value : 1e9;
}

// The database's effective per-server figures at its configured vertical step.
struct DbShape {
  int shards = 1, servers = 1;
  double factor = 1, read_cap = 0, write_cap = 0, partition = 1;
  Figure target;
};

DbShape Shape(const Model& m, const Config& c) {
  const TierSpec& t = m.tiers[m.db];
  const TierState& s = c.tiers[m.db];
  DbShape d;
  d.shards = std::max(s.units, 1);
  d.factor = m.CapacityFactor(s.step);
  d.read_cap = t.capacity_rps * d.factor;
  d.partition = m.Has(c, "partitioning") ? m.Param("partitioning", "write_capacity_factor", 1.3) : 1;
  d.write_cap = t.write_capacity_rps * d.factor * d.partition;
  d.servers = std::max(1, static_cast<int>(std::lround(t.concurrency * d.factor)));
  d.target = m.Target(m.db, d.servers, 1e3 * t.concurrency / t.capacity_rps);
  return d;
}

LoadRow PrimaryRow(const Model& m, const Loads& l, const DbShape& d) {
  const TierSpec& t = m.tiers[m.db];
  LoadRow row;
  row.tier = t.name;
  row.role = "primary";
  row.kind = t.kind;
  double read_util = l.primary_reads / d.shards / d.read_cap;
  double write_util = l.primary_writes / d.shards / d.write_cap;
  row.resource = write_util >= read_util ? Resource::kWrites : t.limited_by;
  row.load = {l.primary_reads + l.primary_writes,
              Num(l.primary_reads) + " reads/s + " + Num(l.primary_writes) + " writes/s"};
  row.load_unit = "queries/s";
  double util = read_util + write_util;
  row.capacity.value = util > 0 ? row.load.value / util : d.shards * d.read_cap;
  std::string& f = row.capacity.formula;
  f += '(';
  f += Num(l.primary_reads) + " reads/s / " + Num(d.read_cap) + " + ";
  f += Num(l.primary_writes) + " writes/s / " + Num(d.write_cap) + ") / ";
  f += std::to_string(d.shards) + (d.shards == 1 ? " primary (" : " primaries (");
  f += t.capacity_source;
  if (WriteCapacityBasis(t) != CapacityBasis(t)) f += "; writes " + t.write_capacity_source;
  if (d.factor > 1) f += ", x" + Num(d.factor) + " vertical";
  if (d.partition > 1) f += ", writes x" + Num(d.partition) + " partitioning";
  f += ')';
  row.target = d.target;
  Finish(row);
  return row;
}

LoadRow ReplicaRow(const Model& m, const Config& c, const Loads& l, const DbShape& d) {
  const TierSpec& t = m.tiers[m.db];
  int replicas = c.tiers[m.db].replicas;
  LoadRow row;
  row.tier = t.name;
  row.role = "replicas";
  row.kind = t.kind;
  row.resource = t.limited_by;
  row.load = {l.replica_reads, Num(l.db_reads) + " reads/s x (1 - " +
                                   Pct(m.in.workload.strong_reads) + " strong reads)"};
  row.load_unit = "reads/s";
  row.capacity = {replicas * d.read_cap,
                  std::to_string(replicas) + " x " + Num(d.read_cap) + " reads/s"};
  row.target = d.target;
  Finish(row);
  return row;
}

LoadRow ConnectionRow(const Model& m, const Config& c, const DbShape& d) {
  const TierSpec& t = m.tiers[m.db];
  LoadRow row;
  row.tier = t.name;
  row.role = "connections";
  row.kind = t.kind;
  row.resource = Resource::kConnections;
  row.load_unit = "connections";
  if (m.Has(c, "connection_pooling")) {
    double per_core = m.Param("connection_pooling", "server_connections_per_core", 2);
    row.load = {d.servers * per_core, "pooler: " + std::to_string(d.servers) + " cores x " +
                                          Num(per_core) + " server connections"};
  } else {
    int app_units = c.tiers[m.app].units;
    double per = m.tiers[m.app].connections_per_unit;
    row.load = {app_units * per,
                std::to_string(app_units) + " app units x " + Num(per) + " connections_per_unit"};
  }
  row.capacity = {static_cast<double>(t.max_connections),
                  "max_connections " + std::to_string(t.max_connections) + " per server"};
  row.target = {kConnectionCeiling, "ceiling " + Pct(kConnectionCeiling) + " of max_connections"};
  Finish(row);
  return row;
}

void DatabaseRows(const Model& m, const Config& c, const Loads& l, std::vector<LoadRow>& rows) {
  DbShape d = Shape(m, c);
  rows.push_back(PrimaryRow(m, l, d));
  if (c.tiers[m.db].replicas > 0) rows.push_back(ReplicaRow(m, c, l, d));
  if (m.tiers[m.db].max_connections > 0 && m.app >= 0) rows.push_back(ConnectionRow(m, c, d));
}

}  // namespace

std::vector<LoadRow> Rows(const Model& m, const Config& c, const Loads& l) {
  std::vector<LoadRow> rows;
  for (size_t i = 0; i < m.tiers.size(); ++i) {
    if (!c.tiers[i].present) continue;
    int ti = static_cast<int>(i);
    const TierSpec& t = m.tiers[i];
    switch (t.kind) {
      case TierKind::kApp:
        rows.push_back(SimpleRow(m, c, ti, l.app_rps, "req/s", l.app_formula));
        break;
      case TierKind::kCdn:
        rows.push_back(SimpleRow(m, c, ti, l.cdn_rps, "req/s", "every request reaches the edge"));
        break;
      case TierKind::kCache:
        rows.push_back(SimpleRow(m, c, ti, l.cache_lookups, "ops/s",
                                 Num(l.db_reads_raw) + " reads/s x " +
                                     Pct(m.in.workload.cacheable_reads) + " cacheable"));
        break;
      case TierKind::kQueue:
        rows.push_back(SimpleRow(m, c, ti, l.jobs, "msgs/s", l.jobs_formula));
        break;
      case TierKind::kWorkers:
        rows.push_back(SimpleRow(m, c, ti, l.jobs, "jobs/s", l.jobs_formula));
        break;
      case TierKind::kDatabase:
        DatabaseRows(m, c, l, rows);
        continue;
    }
    Finish(rows.back());
  }
  return rows;
}

const LoadRow* FindRow(const std::vector<LoadRow>& rows, const std::string& tier,
                       const std::string& role) {
  for (const LoadRow& r : rows)
    if (r.tier == tier && r.role == role) return &r;
  return nullptr;
}

std::vector<LoadRow> FlashRows(const Model& m, const Config& c, double required_rps) {
  Config at_max = c;
  for (size_t i = 0; i < m.tiers.size(); ++i)
    if (m.Autoscaled(c, static_cast<int>(i)) && c.tiers[i].max_units > 0)
      at_max.tiers[i].units = c.tiers[i].max_units;
  return Rows(m, at_max, ComputeLoads(m, at_max, m.SizingRps(required_rps)));
}

}  // namespace headroom::plan
