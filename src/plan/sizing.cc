// Choosing remedies and unit counts. For every subset of the relevant remedies (keeping the ones
// already applied, honouring prerequisites) the tiers are sized to the fewest units and smallest
// vertical step that meet their targets; the cheapest feasible subset wins. Because the cost of
// any fixed configuration only grows with demand and the feasible set only shrinks, the chosen cost
// never falls when demand rises.
#include <algorithm>
#include <cmath>

#include "plan/planner_internal.h"

namespace headroom::plan {
namespace {

int CeilDiv(double load, double per_unit) {
  if (load <= 0) return 0;
  if (per_unit <= 0) return kMaxUnits + 1;
  double units = std::ceil(load / per_unit - 1e-9);
  return units > kMaxUnits ? kMaxUnits + 1 : static_cast<int>(units);  // no out-of-range cast
}

// Autoscaled tiers run at least two units, the HPA minimum, so one unit can fail.
constexpr int kAutoscaledMinUnits = 2;

// Horizontal sizing of a simple tier at `load`; an autoscaled tier (workers) gets its units for
// `load` and its maximum for `flash_load`. False when the latency budget cannot be met or the
// tier would need more than kMaxUnits units.
bool SizeSimple(const Model& m, const Config& c, int tier, double load, double flash_load,
                const TierState& floor, TierState& out) {
  const TierSpec& t = m.tiers[tier];
  double target = m.TierTarget(c, tier, 0).value;
  bool autoscaled = m.Autoscaled(c, tier);
  out.step = 0;
  if (target <= 0) {
    out.units = std::max(floor.units, 1);
    return load <= 0;
  }
  int least = autoscaled ? kAutoscaledMinUnits : 1;
  out.units = std::max({floor.units, least, CeilDiv(autoscaled ? load : flash_load, t.capacity_rps * target)});
  out.max_units = autoscaled ? std::max(out.units, CeilDiv(flash_load, t.capacity_rps * target)) : 0;
  bool fits = std::max(out.units, out.max_units) <= kMaxUnits;
  out.units = std::min(out.units, kMaxUnits), out.max_units = std::min(out.max_units, kMaxUnits);
  return fits;
}

// The app: horizontally scalable, it is costed for `load` (the required rate) and autoscales up to
// `flash_load`; otherwise its fixed units must hold `flash_load` themselves.
bool SizeApp(const Model& m, Config& c, double load, double flash_load, const TierState& floor) {
  const TierSpec& t = m.tiers[m.app];
  bool scalable = m.AppScalable(c);
  double best_cost = 0;
  bool found = false;
  TierState& s = c.tiers[m.app];
  for (int step = floor.step; step <= std::max(m.MaxStep(c, m.app), floor.step); ++step) {
    double per_unit = t.capacity_rps * m.CapacityFactor(step);
    double target = m.TierTarget(c, m.app, step).value;
    int units = std::max(floor.units, std::max(t.count, 1));
    int max_units = 0;
    bool fits = target > 0;
    if (scalable) {
      units = std::max({units, kAutoscaledMinUnits, fits ? CeilDiv(load, per_unit * target) : 0});
      max_units = std::max(units, fits ? CeilDiv(flash_load, per_unit * target) : 0);
      fits = fits && max_units <= kMaxUnits;
    } else {
      fits = fits && flash_load <= units * per_unit * target * (1 + 1e-12);
    }
    units = std::min(units, kMaxUnits), max_units = std::min(max_units, kMaxUnits);
    double cost = units * t.unit_cost * m.CostFactor(step);
    if (fits && (!found || cost < best_cost - 1e-9)) {
      found = true, best_cost = cost;
      s.units = units, s.step = step, s.max_units = max_units;
    }
    if (!found) s.units = units, s.step = step, s.max_units = max_units;  // best effort: largest
  }
  return found;
}

std::vector<int> ShardOptions(const Model& m, const Config& c, int floor_shards) {
  int base = m.Has(c, "functional_sharding") ? std::max(1, m.in.workload.functional_domains) : 1;
  std::vector<int> options;
  if (m.Has(c, "horizontal_sharding")) {
    int max_shards = static_cast<int>(m.Param("horizontal_sharding", "max_shards", 64));
    for (int s = base; s <= std::max(max_shards, base); s *= 2) options.push_back(s);
  } else {
    options.push_back(base);
  }
  for (int& s : options) s = std::max(s, floor_shards);
  options.erase(std::unique(options.begin(), options.end()), options.end());
  return options;
}

struct DbChoice {
  bool fits = false;
  int step = 0, shards = 1, replicas = 0;
  double cost = 0;
};

// Sizes one database option (step, shards); replicas are the fewest that keep reads on target.
DbChoice TryDb(const Model& m, const Config& c, const Loads& l, int step, int shards,
               const TierState& floor, int app_units) {
  const TierSpec& t = m.tiers[m.db];
  DbChoice d;
  d.step = step, d.shards = shards;
  double f = m.CapacityFactor(step);
  double target = m.TierTarget(c, m.db, step).value;
  double read_cap = t.capacity_rps * f;
  double part = m.Has(c, "partitioning") ? m.Param("partitioning", "write_capacity_factor", 1.3) : 1;
  double write_cap = t.write_capacity_rps * f * part;
  double util = l.primary_reads / shards / read_cap + l.primary_writes / shards / write_cap;
  bool fits = target > 0 && util <= target * (1 + 1e-12);
  bool routed = m.Has(c, "read_replicas") || floor.replicas > 0;
  if (routed) {
    int max_per = static_cast<int>(m.Param("read_replicas", "max_replicas_per_primary", 5));
    int per_shard = target > 0 ? std::max(1, CeilDiv(l.replica_reads / shards, read_cap * target))
                               : max_per;
    if (per_shard > max_per) fits = false, per_shard = max_per;
    d.replicas = std::max(per_shard * shards, floor.replicas);
  }
  if (t.max_connections > 0 && !m.Has(c, "connection_pooling") && m.app >= 0) {
    double conns = static_cast<double>(app_units) * m.tiers[m.app].connections_per_unit;
    if (conns > 0.8 * t.max_connections) fits = false;
  }
  d.fits = fits;
  d.cost = (shards + d.replicas) * t.unit_cost * m.CostFactor(step);
  return d;
}

// Sizes the database for `sizing_rps` (the flash-sale rate when higher), with connections from
// the app's units at that rate (its autoscaling maximum).
bool SizeDb(const Model& m, Config& c, double sizing_rps, const TierState& floor) {
  Loads l = ComputeLoads(m, c, sizing_rps);
  int app_units = 0;
  if (m.app >= 0) app_units = std::max(c.tiers[m.app].units, c.tiers[m.app].max_units);
  DbChoice best, fallback;
  bool found = false;
  for (int step = floor.step; step <= std::max(m.MaxStep(c, m.db), floor.step); ++step) {
    for (int shards : ShardOptions(m, c, std::max(floor.units, 1))) {
      DbChoice d = TryDb(m, c, l, step, shards, floor, app_units);
      fallback = d;
      if (d.fits && (!found || d.cost < best.cost - 1e-9)) best = d, found = true;
    }
  }
  const DbChoice& pick = found ? best : fallback;
  TierState& s = c.tiers[m.db];
  s.step = pick.step, s.units = pick.shards, s.replicas = pick.replicas;
  return found;
}

}  // namespace

Config Size(const Model& m, const std::vector<bool>& enabled, double required_rps,
            const Config& floor) {
  Config c;
  c.enabled = enabled;
  c.tiers = floor.tiers;
  // Tiers a remedy brings in appear with it.
  for (size_t r = 0; r < m.in.remedies.size(); ++r) {
    if (!enabled[r]) continue;
    for (const TierSpec& added : m.in.remedies[r].adds_tiers) {
      for (size_t i = 0; i < m.tiers.size(); ++i)
        if (m.tiers[i].kind == added.kind) c.tiers[i].present = true;
    }
  }
  // Reads are routed to replicas as soon as the remedy is in force.
  if (m.db >= 0 && m.Has(c, "read_replicas")) c.tiers[m.db].replicas = std::max(c.tiers[m.db].replicas, 1);
  Loads l = ComputeLoads(m, c, required_rps);
  Loads lf = ComputeLoads(m, c, m.SizingRps(required_rps));
  bool feasible = true;
  for (size_t i = 0; i < m.tiers.size(); ++i) {
    if (!c.tiers[i].present) continue;
    int ti = static_cast<int>(i);
    const TierKind kind = m.tiers[i].kind;
    double load = kind == TierKind::kCdn     ? l.cdn_rps
                  : kind == TierKind::kCache ? l.cache_lookups
                                             : l.jobs;
    double flash_load = kind == TierKind::kCdn     ? lf.cdn_rps
                        : kind == TierKind::kCache ? lf.cache_lookups
                                                   : lf.jobs;
    if (kind == TierKind::kApp) {
      feasible &= SizeApp(m, c, l.app_rps, lf.app_rps, floor.tiers[i]);
    } else if (kind != TierKind::kDatabase) {
      feasible &= SizeSimple(m, c, ti, load, flash_load, floor.tiers[i], c.tiers[i]);
    }
  }
  if (m.db >= 0 && c.tiers[m.db].present)
    feasible &= SizeDb(m, c, m.SizingRps(required_rps), floor.tiers[m.db]);
  c.feasible = feasible;
  double effort = 0;
  for (size_t r = 0; r < enabled.size(); ++r)
    if (enabled[r]) effort += m.in.remedies[r].effort_days;
  c.objective = MonthlyCost(m, c) + effort * m.in.engineer_day_cost / 12.0;
  return c;
}

std::vector<TierUnits> CostTiers(const Model& m, const Config& c) {
  std::vector<TierUnits> out;
  for (size_t i = 0; i < m.tiers.size(); ++i) {
    const TierState& s = c.tiers[i];
    if (!s.present) continue;
    const TierSpec& t = m.tiers[i];
    TierUnits u;
    u.tier = t.name, u.kind = t.kind, u.units = s.units, u.replicas = s.replicas, u.size_step = s.step;
    double per_unit = t.unit_cost * m.CostFactor(s.step);
    int billed = s.units + s.replicas;
    u.monthly_cost = billed * per_unit;
    u.cost_formula = std::to_string(billed) + " x " + Money(m.in, per_unit);
    if (s.step > 0) u.cost_formula += " (" + Money(m.in, t.unit_cost) + " x " + Num(m.CostFactor(s.step)) + " vertical)";
    out.push_back(u);
  }
  return out;
}

double RemedyMonthlyCost(const Model& m, const Config& c) {
  double sum = 0;
  for (size_t r = 0; r < c.enabled.size(); ++r)
    if (c.enabled[r]) sum += m.in.remedies[r].monthly_cost;
  return sum;
}

double MonthlyCost(const Model& m, const Config& c) {
  double sum = RemedyMonthlyCost(m, c);
  for (const TierUnits& u : CostTiers(m, c)) sum += u.monthly_cost;
  return sum;
}

namespace {

bool Relevant(const Model& m, const std::string& id) {
  const WorkloadSpec& w = m.in.workload;
  bool has_db = m.db >= 0 && !m.tiers[m.db].added_by_remedy;
  if (id == "query_optimization") return has_db && w.read_share * w.queries_per_read + (1 - w.read_share) * w.reads_per_write > 0;
  if (id == "connection_pooling") return has_db;
  if (id == "vertical_scaling") return true;
  if (id == "externalize_sessions") {
    const TierSpec& app = m.tiers[m.app];
    return app.sessions == Sessions::kMemory || !app.local_state.empty();
  }
  if (id == "caching") return has_db && m.cache >= 0 && w.cacheable_reads > 0;
  if (id == "cdn") return m.cdn >= 0 && w.edge_cacheable > 0;
  if (id == "read_replicas") return has_db;
  if (id == "async_queue") return has_db && m.queue >= 0 && m.workers >= 0 && w.deferrable_writes > 0;
  if (id == "partitioning") return has_db;
  if (id == "functional_sharding") return has_db && w.functional_domains > 1;
  if (id == "horizontal_sharding") return has_db;
  return false;
}

bool PrerequisitesMet(const Model& m, const std::vector<bool>& enabled) {
  for (size_t r = 0; r < enabled.size(); ++r) {
    if (!enabled[r]) continue;
    for (const std::string& dep : m.in.remedies[r].requires_ids) {
      int d = m.RemedyIndex(dep);
      if (d < 0 || !enabled[d]) return false;
    }
  }
  return true;
}

// True when a is preferred over b at equal cost: fewer remedies, then earlier ones in the ladder.
bool Preferred(const std::vector<bool>& a, const std::vector<bool>& b) {
  long ca = std::count(a.begin(), a.end(), true), cb = std::count(b.begin(), b.end(), true);
  if (ca != cb) return ca < cb;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i]) return a[i];
  return false;
}

// The required rate of the phase a remedy is pinned to (`phase: 10x`), or 0 when not pinned.
double PinnedRps(const Model& m, const Remedy& r) {
  return r.phase > 0 ? r.phase * m.in.traffic.peak_rps * m.in.safety_factor : 0;
}

// `enabled` with every pinned remedy whose phase `rps` has reached switched on.
std::vector<bool> WithPinned(const Model& m, std::vector<bool> enabled, double rps) {
  for (size_t r = 0; r < m.in.remedies.size(); ++r) {
    const Remedy& remedy = m.in.remedies[r];
    if (remedy.disabled || remedy.phase <= 0 || !Relevant(m, remedy.id)) continue;
    if (rps >= PinnedRps(m, remedy) * (1 - 1e-9)) enabled[r] = true;
  }
  return enabled;
}

}  // namespace

Config Choose(const Model& m, double required_rps, const Config& given_floor) {
  Config floor = given_floor;  // pinned remedies whose phase has come are in force, chosen or not
  floor.enabled = WithPinned(m, floor.enabled, required_rps);
  std::vector<int> free;  // remedies the search may switch on
  for (size_t r = 0; r < m.in.remedies.size(); ++r) {
    if (m.in.remedies[r].disabled || floor.enabled[r]) continue;
    if (m.in.remedies[r].not_before_month > m.MonthOf(required_rps) + 1e-9) continue;
    if (m.in.remedies[r].phase > 0) continue;  // pinned, and its phase is still ahead
    if (Relevant(m, m.in.remedies[r].id)) free.push_back(static_cast<int>(r));
  }
  // Among feasible configurations the cheapest wins. When none is feasible, the one leaving the
  // fewest tiers over target (then the cheapest) is reported, marked infeasible.
  std::optional<Config> best, best_effort;
  size_t best_effort_over = 0;
  for (unsigned mask = 0; mask < (1u << free.size()); ++mask) {
    std::vector<bool> enabled = floor.enabled;
    for (size_t k = 0; k < free.size(); ++k)
      if (mask & (1u << k)) enabled[free[k]] = true;
    if (!PrerequisitesMet(m, enabled)) continue;
    Config c = Size(m, enabled, required_rps, floor);
    if (!c.feasible) {
      if (best) continue;
      std::vector<LoadRow> rows = Rows(m, c, ComputeLoads(m, c, required_rps));
      size_t over = std::count_if(rows.begin(), rows.end(), [](const LoadRow& r) {
        return r.utilization > r.target.value + 1e-12;
      });
      if (!best_effort || over < best_effort_over ||
          (over == best_effort_over && c.objective < best_effort->objective - 1e-6))
        best_effort = c, best_effort_over = over;
      continue;
    }
    if (!best || c.objective < best->objective - 1e-6 ||
        (std::fabs(c.objective - best->objective) <= 1e-6 && Preferred(c.enabled, best->enabled)))
      best = c;
  }
  if (best) return *best;
  if (best_effort) return *best_effort;
  return Size(m, floor.enabled, required_rps, floor);
}

namespace {

// Demand levels 2^(k/4) req/s, from about 0.001 req/s up.
constexpr int kFirstLevel = -40;
double Level(int k) { return std::exp2(k / 4.0); }
int FirstLevelAbove(double rps) {
  if (rps <= Level(kFirstLevel)) return kFirstLevel;
  int k = static_cast<int>(std::floor(4 * std::log2(rps)));
  while (Level(k) <= rps) ++k;
  return k;
}

// The choice at one level: when the floor's remedies already fit at no extra cost nothing can be
// cheaper (every other choice adds units or effort), so the full search is skipped.
Config ChooseAtLevel(const Model& m, double rps, const Config& floor) {
  if (WithPinned(m, floor.enabled, rps) != floor.enabled) return Choose(m, rps, floor);
  Config same = Size(m, floor.enabled, rps, floor);
  if (same.feasible && MonthlyCost(m, same) <= MonthlyCost(m, floor) + 1e-9) return same;
  return Choose(m, rps, floor);
}

// Sizes `rps` (at most the level above `floor`'s) with the remedies chosen at that level.
Config WithinLevel(const Model& m, const Config& top, double rps, const Config& floor) {
  Config c = Size(m, top.enabled, rps, floor);
  if (!c.feasible && top.feasible) return top;  // cannot happen with monotone sizing; be safe
  return c;
}

}  // namespace

Config Advance(const Model& m, const Config& from, double from_rps, double to_rps) {
  Config c = from;
  int k = FirstLevelAbove(from_rps);
  for (; Level(k) < to_rps * (1 - 1e-12); ++k) c = ChooseAtLevel(m, Level(k), c);
  Config top = ChooseAtLevel(m, Level(k), c);
  return WithinLevel(m, top, to_rps, c);
}

double CoveredRps(const Model& m, const Config& from, double from_rps, double to_rps,
                  double budget) {
  if (MonthlyCost(m, from) > budget + 1e-9) return from_rps;
  Config c = from;
  double ok = from_rps;
  for (int k = FirstLevelAbove(from_rps);; ++k) {
    double level = std::min(Level(k), to_rps);
    Config top = ChooseAtLevel(m, Level(k), c);
    if (MonthlyCost(m, WithinLevel(m, top, level, c)) > budget + 1e-9) {
      // Within one level the remedies are fixed and cost grows with the rate: bisect.
      double lo = ok, hi = level;
      for (int i = 0; i < 30; ++i) {
        double mid = 0.5 * (lo + hi);
        (MonthlyCost(m, WithinLevel(m, top, mid, c)) <= budget + 1e-9 ? lo : hi) = mid;
      }
      return lo;
    }
    ok = level;
    if (level >= to_rps) return ok;
    c = top;
  }
}

}  // namespace headroom::plan
