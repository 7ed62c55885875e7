// BuildPlan: for each phase, assess today's (or the previous phase's) configuration at the phase's
// demand, choose the cheapest configuration that meets every target, and describe the difference.
#include <algorithm>
#include <cmath>

#include "plan/catalogue.h"
#include "plan/planner_internal.h"

namespace headroom::plan {
namespace {

Status CheckInput(const PlanInput& in) {
  bool has_app = std::any_of(in.tiers.begin(), in.tiers.end(),
                             [](const TierSpec& t) { return t.kind == TierKind::kApp; });
  if (!has_app) return Fail("plan: no tier of kind 'app'");
  if (!(in.traffic.peak_rps > 0)) return Fail("plan: traffic.peak must be above 0");
  if (!(in.slo.p95_ms > 0)) return Fail("plan: slos.p95 must be above 0");
  if (in.multipliers.empty()) return Fail("plan: no phases");
  for (double m : in.multipliers)
    if (!(m >= 1 && m <= kMaxMultiplier))
      return Fail("plan: phase " + Num(m) + "x is out of range (1x to " + Num(kMaxMultiplier) +
                  "x of today's peak)");
  for (const Remedy& r : in.remedies)
    for (const std::string& name : r.tiers)
      if (std::none_of(in.tiers.begin(), in.tiers.end(), [&](const TierSpec& t) { return t.name == name; }))
        return Fail("plan: remedies." + r.id + ".tiers names '" + name + "', which is not a tier");
  if (in.workload.edge_cacheable > in.workload.read_share + 1e-12)
    return Fail("plan: workload.edge_cacheable is above read_share (a CDN answers reads only)");
  for (const TierSpec& t : in.tiers) {
    if (!(t.capacity_rps > 0)) return Fail("plan: tier '" + t.name + "' has no capacity");
    if (t.kind == TierKind::kDatabase && !(t.write_capacity_rps > 0))
      return Fail("plan: database '" + t.name + "' has no write_capacity");
  }
  return Ok();
}

Figure MonthReached(const PlanInput& in, double multiplier) {
  double g = in.traffic.growth_monthly;
  if (multiplier <= 1) return {0, "today"};
  if (g <= 0) return {-1, "never: no growth stated"};
  double months = std::log(multiplier) / std::log(1 + g);
  return {months, "ln(" + Num(multiplier) + ") / ln(1 + " + Pct(g) + ") = " + Num(months) +
                      " months" + (in.traffic.growth_source.empty() ? "" : " (growth from the " +
                                   in.traffic.growth_source + ")")};
}

// DAU grow with the request rate unless the plan gives their own growth (or milestone).
double PhaseDau(const PlanInput& in, double multiplier, double month) {
  if (!in.traffic.dau_growth_monthly || month < 0) return in.traffic.dau * multiplier;
  return in.traffic.dau * std::pow(1 + *in.traffic.dau_growth_monthly, month);
}

// The cost curve at `dau`: linear between its points, along the nearest segment outside them.
std::optional<Figure> TargetCost(const PlanInput& in, double dau) {
  const auto& curve = in.cost_curve;
  if (curve.empty() || dau <= 0) return std::nullopt;
  if (curve.size() == 1) {
    double v = curve[0].monthly * dau / curve[0].dau;
    return Figure{v, Money(in, curve[0].monthly) + " at " + Num(curve[0].dau) + " DAU x " +
                         Num(dau) + " / " + Num(curve[0].dau)};
  }
  size_t i = 1;
  while (i + 1 < curve.size() && dau > curve[i].dau) ++i;
  const auto& a = curve[i - 1];
  const auto& b = curve[i];
  double v = a.monthly + (b.monthly - a.monthly) * (dau - a.dau) / (b.dau - a.dau);
  v = std::max(v, 0.0);
  return Figure{v, "cost curve between " + Money(in, a.monthly) + " at " + Num(a.dau) +
                       " DAU and " + Money(in, b.monthly) + " at " + Num(b.dau) + " DAU, at " +
                       Num(dau) + " DAU"};
}

std::vector<Bottleneck> RankBottlenecks(const std::vector<LoadRow>& rows) {
  std::vector<Bottleneck> out;
  for (const LoadRow& r : rows) {
    if (r.utilization <= r.target.value + 1e-12) continue;
    Bottleneck b;
    b.tier = r.tier + (r.role.empty() ? "" : " " + r.role);
    b.resource = r.resource;
    b.utilization = r.utilization;
    b.target = r.target.value;
    b.detail = r.load.formula + " = " + Num(r.load.value) + " " + r.load_unit + " / " +
               Num(r.capacity.value) + " = " + Pct(r.utilization) + " > " + Pct(r.target.value) +
               " target";
    out.push_back(b);
  }
  std::stable_sort(out.begin(), out.end(), [](const Bottleneck& a, const Bottleneck& b) {
    double sa = a.target > 0 ? a.utilization / a.target : 1e18;
    double sb = b.target > 0 ? b.utilization / b.target : 1e18;
    return sa > sb;
  });
  return out;
}

std::string MetricOf(const LoadRow& r) {
  switch (r.resource) {
    case Resource::kCpu: return "CPU: 1 - rate(node_cpu_seconds_total{mode=\"idle\"})";
    case Resource::kMemory: return "memory: 1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes";
    case Resource::kIo: return "disk I/O: rate(node_disk_io_time_seconds_total)";
    case Resource::kNetwork: return "network: rate(node_network_transmit_bytes_total)";
    case Resource::kConnections: return "connections: pg_stat_activity_count / pg_settings_max_connections";
    case Resource::kWrites:
      return "writes: rate(pg_stat_database_tup_inserted + tup_updated + tup_deleted)";
  }
  return "";
}

// Ranks every row of the planned configuration by the multiple at which it reaches its target.
// Rows whose load does not grow with demand (pooled server connections) never break by growth.
std::vector<Breakpoint> BreaksFirst(const PlanInput& in, const PhaseResult& ph) {
  std::vector<Breakpoint> out;
  const std::vector<LoadRow>& rows = ph.flash.empty() ? ph.after : ph.flash;
  bool flash = ph.flash_rps.value > ph.required_rps.value;
  double rate_multiple = std::max(ph.required_rps.value, ph.flash_rps.value) / in.traffic.peak_rps;
  for (const LoadRow& r : rows) {
    if (r.load.value <= 0 || r.load.formula.rfind("pooler:", 0) == 0) continue;
    Breakpoint b;
    b.tier = r.tier + (r.role.empty() ? "" : " " + r.role);
    b.resource = r.resource;
    b.metric = MetricOf(r);
    b.headroom = r.headroom;
    double m = ph.multiplier * r.headroom;
    b.multiple = {m, Num(ph.multiplier) + "x x headroom " + Num(r.headroom) + " (" +
                         Pct(r.utilization) + " of capacity against a " + Pct(r.target.value) +
                         " target at " + Num(rate_multiple) + "x today's peak rate, " +
                         (flash ? "the flash sale)" : "the required rate)")};
    b.month = m < 1 ? Figure{0, "already past it today"} : MonthReached(in, m);
    out.push_back(b);
  }
  std::stable_sort(out.begin(), out.end(), [](const Breakpoint& a, const Breakpoint& b) {
    return a.multiple.value < b.multiple.value;
  });
  return out;
}

// Appends the rows over target to ph.unresolved, `where` naming the rate.
void Unresolved(const std::vector<LoadRow>& rows, const std::string& where, PhaseResult& ph) {
  for (const LoadRow& r : rows)
    if (r.utilization > r.target.value + 1e-12)
      ph.unresolved += (ph.unresolved.empty() ? "" : "; ") + r.tier +
                       (r.role.empty() ? "" : " " + r.role) + " stays at " + Pct(r.utilization) +
                       " > " + Pct(r.target.value) + where + " (" + r.target.formula + ")";
}

std::string RemedyDetail(const Model& m, const std::string& id, const Loads& before,
                         const Loads& after, const Config& c) {
  auto units_of = [&](int tier) { return tier >= 0 ? c.tiers[tier].units : 0; };
  if (id == "query_optimization")
    return "database read queries x" + Num(after.read_factor) + ": " +
           Num(after.db_reads_raw / after.read_factor) + " -> " + Num(after.db_reads_raw) +
           " reads/s before any cache";
  if (id == "connection_pooling")
    return "server connections per database server capped at cores x " +
           Num(m.Param(id, "server_connections_per_core", 2)) + "; app units share them";
  if (id == "vertical_scaling")
    return "next instance size: capacity x" + Num(m.CapacityFactor(1)) + ", cost x" +
           Num(m.CostFactor(1)) + " per step";
  if (id == "externalize_sessions")
    return "sessions and local state leave the app process, so the app scales horizontally";
  if (id == "caching")
    return std::to_string(units_of(m.cache)) + " cache node(s) at " + Pct(after.hit_ratio) +
           " hit ratio on " + Pct(m.in.workload.cacheable_reads) + " cacheable reads: database "
           "reads " + Num(after.db_reads_raw) + " -> " + Num(after.db_reads) + " reads/s";
  if (id == "cdn")
    return "edge answers " + Pct(m.in.workload.edge_cacheable) + " x " + Pct(after.edge_hit) +
           ": app requests " + Num(before.app_rps) + " -> " + Num(after.app_rps) + " req/s";
  if (id == "read_replicas")
    return std::to_string(m.db >= 0 ? c.tiers[m.db].replicas : 0) + " replica(s) take " +
           Num(after.replica_reads) + " reads/s; the primary keeps " +
           Pct(m.in.workload.strong_reads) + " strong reads";
  if (id == "async_queue")
    return Num(after.deferred) + " writes/s deferred to " + std::to_string(units_of(m.workers)) +
           " worker(s) and applied in batches (x" + Num(m.Param(id, "batch_factor", 0.5)) + ")";
  if (id == "partitioning")
    return "primary write capacity x" + Num(m.Param(id, "write_capacity_factor", 1.3));
  if (id == "functional_sharding")
    return std::to_string(m.in.workload.functional_domains) + " databases, one per domain";
  if (id == "horizontal_sharding")
    return std::to_string(units_of(m.db)) + " shards by key";
  return "";
}

std::vector<Change> Diff(const Model& m, const Config& prev, const Config& next,
                         const Loads& before, const Loads& after) {
  std::vector<Change> out;
  for (size_t r = 0; r < m.in.remedies.size(); ++r) {
    if (!next.enabled[r] || prev.enabled[r]) continue;
    const Remedy& remedy = m.in.remedies[r];
    std::string detail = RemedyDetail(m, remedy.id, before, after, next);
    if (remedy.phase > 0)
      detail += std::string(detail.empty() ? "" : "; ") + "pinned to phase " +
                PhaseLabel(remedy.phase) + " by the plan file";
    out.push_back({remedy.id, remedy.name, detail, remedy.effort_days, {}});
  }
  for (size_t i = 0; i < m.tiers.size(); ++i) {
    const TierState& a = prev.tiers[i];
    const TierState& b = next.tiers[i];
    if (!b.present) continue;
    const std::string& name = m.tiers[i].name;
    if (a.step != b.step)
      out.push_back({"", "Resize " + name, "vertical step " + std::to_string(a.step) + " -> " +
                                                std::to_string(b.step) + " (capacity x" +
                                                Num(m.CapacityFactor(b.step)) + ")", 0, {}});
    if (a.units != b.units || !a.present) {
      std::string what = m.tiers[i].kind == TierKind::kDatabase ? "primaries" : "units";
      out.push_back({"", (a.present ? "Scale " : "Add ") + name,
                     what + " " + std::to_string(a.present ? a.units : 0) + " -> " +
                         std::to_string(b.units), 0, {}});
    }
    if (a.replicas != b.replicas)
      out.push_back({"", "Replicas for " + name,
                     "read replicas " + std::to_string(a.replicas) + " -> " +
                         std::to_string(b.replicas), 0, {}});
  }
  return out;
}

void FillCost(const Model& m, const Config& c, PhaseResult& ph) {
  ph.units = CostTiers(m, c);
  ph.remedy_monthly_cost = RemedyMonthlyCost(m, c);
  double total = ph.remedy_monthly_cost;
  std::string formula;
  for (const TierUnits& u : ph.units) {
    total += u.monthly_cost;
    formula += (formula.empty() ? "" : " + ") + Money(m.in, u.monthly_cost) + " " + u.tier;
  }
  if (ph.remedy_monthly_cost > 0) formula += " + " + Money(m.in, ph.remedy_monthly_cost) + " remedies";
  ph.monthly_cost = {total, formula};
  if (ph.dau > 0) {
    double per_k = total / (ph.dau / 1000.0);
    ph.cost_per_1k_dau = {per_k, Money(m.in, total) + " / " + Num(ph.dau / 1000.0) + "k DAU"};
  } else {
    ph.cost_per_1k_dau = {0, "no DAU stated"};
  }
  ph.within_budget = m.in.budget_monthly <= 0 || total <= m.in.budget_monthly + 1e-9;
}

// The cheapest way back under budget: a lower safety factor, or the largest multiple the budget
// covers on the plan's own path (`covered`, computed once by BuildPlan).
void BudgetNote(const Model& m, const Config& prev, double prev_rps, double covered_multiple,
                PhaseResult& ph) {
  if (ph.within_budget) return;
  const PlanInput& in = m.in;
  double over = ph.monthly_cost.value - in.budget_monthly;
  std::string note = "over budget by " + Money(in, over) + " (" + Money(in, ph.monthly_cost.value) +
                     " vs " + Money(in, in.budget_monthly) + ")";
  const double lower_safety = 1.2;
  if (in.safety_factor > lower_safety) {
    // The flash-sale rate does not depend on the safety factor, so plan with the lower one.
    PlanInput lower = in;
    lower.safety_factor = lower_safety;
    Model ml(lower);
    double rps = std::max(prev_rps / in.safety_factor * lower_safety,
                          ph.demand_rps.value * lower_safety);
    Config alt = Advance(ml, prev, prev_rps / in.safety_factor * lower_safety, rps);
    double cost = MonthlyCost(ml, alt);
    if (alt.feasible && cost <= in.budget_monthly) {
      ph.budget_note = note + ". Cheapest alternative: safety factor " + Num(lower_safety) +
                       " instead of " + Num(in.safety_factor) + " costs " + Money(in, cost) +
                       " and fits the budget, with less margin for error in the measurements.";
      return;
    }
  }
  if (covered_multiple < 1) {
    ph.budget_note = note + ". No configuration fits the budget even at today's traffic: it covers "
                            "only " + Num(covered_multiple) + "x today's peak (with its flash sales).";
  } else {
    Figure month = MonthReached(in, covered_multiple);
    ph.budget_note = note + ". Cheapest alternative: none within budget at this phase; the budget "
                            "covers traffic up to " + Num(covered_multiple) + "x today's peak" +
                     (month.value >= 0 ? " (month " + Num(month.value) + ")" : "") +
                     ", so raise the budget by " + Money(in, over) + " before then.";
  }
}

void WritesOutgrow(const Model& m, PlanOutput& out) {
  if (m.db < 0) return;
  const PlanInput& in = m.in;
  const TierSpec& t = m.tiers[m.db];
  Config c = m.Today();
  int vr = m.RemedyIndex("vertical_scaling");
  if (vr >= 0) c.enabled[vr] = true;
  int pr = m.RemedyIndex("partitioning");
  if (pr >= 0) c.enabled[pr] = true;
  int step = m.MaxStep(c, m.db);
  double f = m.CapacityFactor(step);
  double part = pr >= 0 ? m.Param("partitioning", "write_capacity_factor", 1.3) : 1;
  int servers = std::max(1, static_cast<int>(std::lround(t.concurrency * f)));
  double target = m.Target(m.db, servers, 1e3 * t.concurrency / t.capacity_rps).value;
  // The primary is sized for the flash sale when that is above the required rate.
  double rate_factor = std::max(in.safety_factor, in.traffic.flash_sale_multiple);
  double writes_1x = in.traffic.peak_rps * rate_factor * (1 - in.workload.read_share) *
                     in.workload.writes_per_write;
  // Other workloads' writes grow at their own pace: find the multiple by bisection then.
  auto writes_at = [&](double mult) {
    return ComputeLoads(m, c, m.SizingRps(mult * in.traffic.peak_rps * in.safety_factor)).writes;
  };
  bool streams = std::any_of(in.workloads.begin(), in.workloads.end(), [](const WorkloadStream& w) {
    return w.kind != StreamKind::kPeriodic && w.read_share < 1 && w.writes_per_request > 0;
  });
  if (streams) writes_1x = writes_at(1);
  if (writes_1x <= 0 || target <= 0) return;
  double cap = t.write_capacity_rps * f * part * target;
  double multiple = cap / writes_1x;
  if (streams) {
    double lo = 0, hi = 1;
    while (writes_at(hi) < cap && hi < 1e12) hi *= 2;
    for (int i = 0; i < 100; ++i) {
      double mid = 0.5 * (lo + hi);
      (writes_at(mid) < cap ? lo : hi) = mid;
    }
    multiple = hi;
  }
  Figure month = MonthReached(in, multiple);
  out.writes_outgrow_primary_multiplier = multiple;
  out.writes_outgrow_detail =
      "writes alone fill the largest primary at " + Num(multiple) + "x today's peak (" +
      Num(t.write_capacity_rps) + " writes/s x" + Num(f) + " vertical x" + Num(part) +
      " partitioning x " + Pct(target) + " target = " + Num(cap) + " writes/s, against " +
      Num(writes_1x) + " writes/s today at " + Num(rate_factor) + "x peak, " +
      (rate_factor > in.safety_factor ? "the flash sale" : "the safety factor") + ")" +
      (multiple <= 1 ? ", already today" : month.value >= 0 ? ", reached in month " + Num(month.value) + " (" + month.formula + ")" : "") +
      "; past that point only async writes or sharding keep up";
}

}  // namespace

Result<PlanOutput> BuildPlan(const PlanInput& input) {
  if (auto ok = CheckInput(input); !ok) return std::unexpected(ok.error());
  PlanOutput out;
  out.input = input;
  Model m(out.input);
  Config prev = m.Today();
  // The walk over demand levels starts from zero for every plan (Advance), so plans that differ
  // only in demand or capacity share their path and never report a lower cost for more demand.
  double prev_rps = 0;
  std::optional<double> covered;  // multiple the budget covers, once the plan first exceeds it
  for (double mult : out.input.multipliers) {
    PhaseResult ph;
    ph.multiplier = mult;
    ph.month_reached = MonthReached(m.in, mult);
    double peak = m.in.traffic.peak_rps;
    ph.demand_rps = {peak * mult, Num(peak) + " req/s peak (" + m.in.traffic.peak_source + ") x " +
                                      Num(mult)};
    double required = ph.demand_rps.value * m.in.safety_factor;
    ph.required_rps = {required, Num(ph.demand_rps.value) + " req/s x safety " +
                                     Num(m.in.safety_factor)};
    ph.dau = PhaseDau(m.in, mult, ph.month_reached.value);
    ph.target_cost = TargetCost(m.in, ph.dau);
    Loads before = ComputeLoads(m, prev, required);
    ph.assessment = Rows(m, prev, before);
    ph.bottlenecks = RankBottlenecks(ph.assessment);
    Config next = Advance(m, prev, prev_rps, required);
    Loads after = ComputeLoads(m, next, required);
    ph.after = Rows(m, next, after);
    double flash = ph.demand_rps.value * m.in.traffic.flash_sale_multiple;
    ph.flash_rps = {flash, Num(ph.demand_rps.value) + " req/s x flash sale " +
                               Num(m.in.traffic.flash_sale_multiple)};
    ph.flash = FlashRows(m, next, required);
    FillWorkloads(m, after, ph);
    Unresolved(ph.after, "", ph);
    Unresolved(ph.flash, " at the " + Num(m.SizingRps(required)) + " req/s " +
                             (flash > required ? "flash sale" : "required rate"), ph);
    for (const TierState& s : next.tiers)
      if (s.present && std::max(s.units, s.max_units) >= kMaxUnits)
        ph.unresolved += std::string(ph.unresolved.empty() ? "" : "; ") + "a tier needs more than " +
                         Num(kMaxUnits) + " units, past what this planner models";
    ph.feasible = next.feasible && ph.unresolved.empty();
    ph.breaks_first = BreaksFirst(m.in, ph);
    ph.changes = Diff(m, prev, next, before, after);
    for (size_t r = 0; r < next.enabled.size(); ++r)
      if (next.enabled[r]) ph.remedies.push_back(m.in.remedies[r].id);
    FillCost(m, next, ph);
    if (!ph.within_budget && !covered)
      covered = CoveredRps(m, prev, prev_rps, required, m.in.budget_monthly) /
                (m.in.traffic.peak_rps * m.in.safety_factor);
    BudgetNote(m, prev, prev_rps, covered.value_or(0), ph);
    ph.gate_file = "artifacts/" + PhaseDir(mult) + "/gate.yaml";
    FillSections(m, next, after, ph);
    FillAutoscaling(m, next, after, ph);
    FillAlerts(m, next, ph);
    FillSettings(m, next, after, ph);
    FillLoadTest(m, next, after, ph);
    ph.stress_file = "artifacts/" + PhaseDir(mult) + "/stress.yaml";
    if (!ph.chaos.empty()) ph.chaos_file = "artifacts/" + PhaseDir(mult) + "/chaos.yaml";
    FillStage(m, next, ph);
    FillDependencies(m, after, ph);
    out.phases.push_back(std::move(ph));
    prev = next;
    prev_rps = required;
  }
  WritesOutgrow(m, out);
  return out;
}

}  // namespace headroom::plan
