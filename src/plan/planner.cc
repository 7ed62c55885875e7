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
                      " months"};
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
    out.push_back({remedy.id, remedy.name, RemedyDetail(m, remedy.id, before, after, next),
                   remedy.effort_days});
  }
  for (size_t i = 0; i < m.tiers.size(); ++i) {
    const TierState& a = prev.tiers[i];
    const TierState& b = next.tiers[i];
    if (!b.present) continue;
    const std::string& name = m.tiers[i].name;
    if (a.step != b.step)
      out.push_back({"", "Resize " + name, "vertical step " + std::to_string(a.step) + " -> " +
                                                std::to_string(b.step) + " (capacity x" +
                                                Num(m.CapacityFactor(b.step)) + ")", 0});
    if (a.units != b.units || !a.present) {
      std::string what = m.tiers[i].kind == TierKind::kDatabase ? "primaries" : "units";
      out.push_back({"", (a.present ? "Scale " : "Add ") + name,
                     what + " " + std::to_string(a.present ? a.units : 0) + " -> " +
                         std::to_string(b.units), 0});
    }
    if (a.replicas != b.replicas)
      out.push_back({"", "Replicas for " + name,
                     "read replicas " + std::to_string(a.replicas) + " -> " +
                         std::to_string(b.replicas), 0});
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

// The cheapest way back under budget: a lower safety factor, or the largest multiple it covers.
void BudgetNote(const Model& m, const Config& floor, PhaseResult& ph) {
  if (ph.within_budget) return;
  const PlanInput& in = m.in;
  double over = ph.monthly_cost.value - in.budget_monthly;
  std::string note = "over budget by " + Money(in, over) + " (" + Money(in, ph.monthly_cost.value) +
                     " vs " + Money(in, in.budget_monthly) + ")";
  const double lower_safety = 1.2;
  if (in.safety_factor > lower_safety) {
    Config alt = Choose(m, ph.demand_rps.value * lower_safety, floor);
    double cost = MonthlyCost(m, alt);
    if (alt.feasible && cost <= in.budget_monthly) {
      ph.budget_note = note + ". Cheapest alternative: safety factor " + Num(lower_safety) +
                       " instead of " + Num(in.safety_factor) + " costs " + Money(in, cost) +
                       " and fits the budget, with less margin for error in the measurements.";
      return;
    }
  }
  double lo = 0, hi = ph.multiplier;
  for (int i = 0; i < 20; ++i) {
    double mid = 0.5 * (lo + hi);
    Config c = Choose(m, in.traffic.peak_rps * mid * in.safety_factor, m.Today());
    if (c.feasible && MonthlyCost(m, c) <= in.budget_monthly) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  if (lo <= 0) {
    ph.budget_note = note + ". No configuration fits the budget even at today's traffic.";
  } else {
    Figure month = MonthReached(in, lo);
    ph.budget_note = note + ". Cheapest alternative: none within budget at this phase; the budget "
                            "covers traffic up to " + Num(lo) + "x today's peak" +
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
  int step = m.MaxStep(c);
  double f = m.CapacityFactor(step);
  double part = pr >= 0 ? m.Param("partitioning", "write_capacity_factor", 1.3) : 1;
  int servers = std::max(1, static_cast<int>(std::lround(t.concurrency * f)));
  double target = m.Target(m.db, servers, 1e3 * t.concurrency / t.capacity_rps).value;
  double writes_1x = in.traffic.peak_rps * in.safety_factor * (1 - in.workload.read_share) *
                     in.workload.writes_per_write;
  if (writes_1x <= 0 || target <= 0) return;
  double cap = t.write_capacity_rps * f * part * target;
  double multiple = cap / writes_1x;
  Figure month = MonthReached(in, multiple);
  out.writes_outgrow_primary_multiplier = multiple;
  out.writes_outgrow_detail =
      "writes alone fill the largest primary at " + Num(multiple) + "x today's peak (" +
      Num(t.write_capacity_rps) + " writes/s x" + Num(f) + " vertical x" + Num(part) +
      " partitioning x " + Pct(target) + " target = " + Num(cap) + " writes/s, against " +
      Num(writes_1x) + " writes/s today with safety)" +
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
    ph.dau = m.in.traffic.dau * mult;
    Loads before = ComputeLoads(m, prev, required);
    ph.assessment = Rows(m, prev, before);
    ph.bottlenecks = RankBottlenecks(ph.assessment);
    Config next = Choose(m, required, prev);
    Loads after = ComputeLoads(m, next, required);
    ph.after = Rows(m, next, after);
    ph.feasible = next.feasible;
    if (!next.feasible) {
      for (const LoadRow& r : ph.after)
        if (r.utilization > r.target.value + 1e-12)
          ph.unresolved += (ph.unresolved.empty() ? "" : "; ") + r.tier +
                           (r.role.empty() ? "" : " " + r.role) + " stays at " +
                           Pct(r.utilization) + " > " + Pct(r.target.value) + " (" +
                           r.target.formula + ")";
    }
    ph.changes = Diff(m, prev, next, before, after);
    for (size_t r = 0; r < next.enabled.size(); ++r)
      if (next.enabled[r]) ph.remedies.push_back(m.in.remedies[r].id);
    FillCost(m, next, ph);
    BudgetNote(m, prev, ph);
    FillSections(m, next, after, ph);
    FillAutoscaling(m, next, after, ph);
    FillAlerts(m, next, ph);
    ph.gate_file = "artifacts/" + PhaseDir(mult) + "/gate.yaml";
    out.phases.push_back(std::move(ph));
    prev = next;
  }
  WritesOutgrow(m, out);
  return out;
}

}  // namespace headroom::plan
