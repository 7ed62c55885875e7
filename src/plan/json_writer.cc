// plan.json, schema "headroom.plan/1" (docs/plan-json.md). Numbers are rounded (rates and money
// to 0.01, ratios to 1e-4) so the file is stable and diffs between runs show real changes.
#include <cmath>

#include <nlohmann/json.hpp>

#include "plan/planner_internal.h"

namespace headroom::plan {
namespace {

using nlohmann::ordered_json;

// Rounds to `decimals` places; dividing by an exact power of ten prints as the short decimal.
double Round(double v, int decimals) {
  double scale = std::pow(10.0, decimals);
  return std::round(v * scale) / scale;
}
double Rate(double v) { return Round(v, 2); }
double Ratio(double v) { return Round(v, 4); }

ordered_json FigureJson(const Figure& f, double (*round)(double)) {
  return ordered_json{{"value", round(f.value)}, {"formula", f.formula}};
}

ordered_json RowJson(const LoadRow& r) {
  ordered_json j;
  j["tier"] = r.tier;
  j["role"] = r.role;
  j["resource"] = std::string(ResourceName(r.resource));
  j["load"] = Rate(r.load.value);
  j["load_unit"] = r.load_unit;
  j["load_formula"] = r.load.formula;
  j["capacity"] = Rate(r.capacity.value);
  j["capacity_formula"] = r.capacity.formula;
  j["utilization"] = Ratio(r.utilization);
  j["target"] = Ratio(r.target.value);
  j["target_formula"] = r.target.formula;
  j["headroom"] = Ratio(std::min(r.headroom, 1e6));
  return j;
}

void OperationsJson(const PhaseResult& ph, ordered_json& j);

// Where the phase starts and what changes.
ordered_json PhaseJson(const PhaseResult& ph) {
  ordered_json j;
  j["multiplier"] = ph.multiplier;
  j["month_reached"] =
      ph.month_reached.value >= 0 ? ordered_json(Round(ph.month_reached.value, 2)) : ordered_json(nullptr);
  j["month_formula"] = ph.month_reached.formula;
  j["demand_rps"] = FigureJson(ph.demand_rps, Rate);
  j["required_rps"] = Rate(ph.required_rps.value);
  j["required_formula"] = ph.required_rps.formula;
  j["dau"] = Rate(ph.dau);
  ordered_json rows = ordered_json::array();
  for (const LoadRow& r : ph.assessment) rows.push_back(RowJson(r));
  j["assessment"] = rows;
  ordered_json bottlenecks = ordered_json::array();
  for (const Bottleneck& b : ph.bottlenecks)
    bottlenecks.push_back({{"tier", b.tier}, {"resource", std::string(ResourceName(b.resource))},
                           {"utilization", Ratio(b.utilization)}, {"target", Ratio(b.target)},
                           {"detail", b.detail}});
  j["bottlenecks"] = bottlenecks;
  ordered_json breaks = ordered_json::array();
  for (const Breakpoint& b : ph.breaks_first)
    breaks.push_back({{"tier", b.tier}, {"resource", std::string(ResourceName(b.resource))},
                      {"metric", b.metric}, {"headroom", Ratio(std::min(b.headroom, 1e6))},
                      {"multiple", Round(b.multiple.value, 2)}, {"multiple_formula", b.multiple.formula},
                      {"month", b.month.value >= 0 ? ordered_json(Round(b.month.value, 2)) : ordered_json(nullptr)},
                      {"month_formula", b.month.formula}});
  j["breaks_first"] = breaks;
  ordered_json changes = ordered_json::array();
  for (const Change& c : ph.changes)
    changes.push_back({{"remedy", c.remedy_id.empty() ? ordered_json(nullptr) : ordered_json(c.remedy_id)},
                       {"title", c.title}, {"detail", c.detail}, {"effort_days", c.effort_days},
                       {"settings", c.settings}});
  j["changes"] = changes;
  j["remedies"] = ph.remedies;
  ordered_json units = ordered_json::object();
  for (const TierUnits& u : ph.units)
    units[u.tier] = {{"kind", std::string(TierKindName(u.kind))}, {"units", u.units},
                     {"replicas", u.replicas}, {"size_step", u.size_step},
                     {"monthly_cost", Rate(u.monthly_cost)}, {"cost_formula", u.cost_formula}};
  j["units"] = units;
  ordered_json after = ordered_json::array();
  for (const LoadRow& r : ph.after) after.push_back(RowJson(r));
  j["after"] = after;
  j["flash_rps"] = FigureJson(ph.flash_rps, Rate);
  ordered_json flash = ordered_json::array();
  for (const LoadRow& r : ph.flash) flash.push_back(RowJson(r));
  j["flash"] = flash;
  OperationsJson(ph, j);
  return j;
}

// Everything after the changes: feasibility, cost, artifacts and the descriptive sections.
void OperationsJson(const PhaseResult& ph, ordered_json& j) {
  j["feasible"] = ph.feasible;
  j["unresolved"] = ph.unresolved;
  j["monthly_cost"] = Rate(ph.monthly_cost.value);
  j["monthly_cost_formula"] = ph.monthly_cost.formula;
  j["cost_per_1k_dau"] = Rate(ph.cost_per_1k_dau.value);
  j["target_cost"] = ph.target_cost ? FigureJson(*ph.target_cost, Rate) : ordered_json(nullptr);
  j["within_budget"] = ph.within_budget;
  j["budget_note"] = ph.budget_note;
  ordered_json scalers = ordered_json::array();
  for (const Autoscaler& a : ph.autoscalers)
    scalers.push_back({{"tier", a.tier}, {"metric", a.metric}, {"min_replicas", a.min_replicas},
                       {"max_replicas", a.max_replicas},
                       {"target_utilization", Ratio(a.target_utilization)},
                       {"target_queue_depth", Rate(a.target_queue_depth)},
                       {"seconds_to_flash_capacity", Rate(a.seconds_to_flash_capacity)},
                       {"rationale", a.rationale}});
  j["autoscaling"] = scalers;
  ordered_json alerts = ordered_json::array();
  for (const AlertRule& a : ph.alerts)
    alerts.push_back({{"alert", a.name}, {"severity", a.severity}, {"for", a.for_duration},
                      {"expr", a.expr}});
  j["alerts"] = alerts;
  j["database"] = ph.database;
  j["caching"] = ph.caching;
  j["readiness"] = ph.readiness;
  j["traffic"] = ph.traffic;
  j["runbook"] = ph.runbook;
  j["load_test"] = ph.load_test;
  j["stage"] = ph.stage;
  j["premature"] = ph.premature;
  j["checklist"] = ph.checklist;
  j["dependencies"] = ph.dependencies;
  std::string dir = "artifacts/" + PhaseDir(ph.multiplier) + "/";
  j["artifacts"] = {{"gate", ph.gate_file},
                    {"hpa", ph.autoscalers.empty() ? ordered_json(nullptr) : ordered_json(dir + "hpa.yaml")},
                    {"prometheus_rules", dir + "prometheus-rules.yaml"},
                    {"stress", ph.stress_file},
                    {"chaos", ph.chaos_file.empty() ? ordered_json(nullptr) : ordered_json(ph.chaos_file)}};
  if (!ph.workloads.empty()) {
    ordered_json workloads = ordered_json::array();
    for (const WorkloadDemand& w : ph.workloads)
      workloads.push_back({{"name", w.name}, {"kind", w.kind},
                           {"demand_rps", Round(w.demand_rps.value, 2)},
                           {"demand_formula", w.demand_rps.formula},
                           {"required_rps", Round(w.required_rps.value, 2)},
                           {"app_rps", Round(w.app_rps, 2)}, {"db_reads", Round(w.db_reads, 2)},
                           {"db_writes", Round(w.db_writes, 2)}, {"jobs", Round(w.jobs, 2)},
                           {"slo", w.slo}});
    j["workloads"] = workloads;
  }
  ordered_json chaos = ordered_json::array();
  for (const ChaosStep& c : ph.chaos)
    chaos.push_back({{"name", c.name}, {"action", c.action}, {"slos_hold", c.slos_hold},
                     {"effect", c.effect}, {"duration_s", c.duration_s}});
  j["chaos"] = chaos;
}

ordered_json Optional(const std::optional<double>& v, double (*round)(double)) {
  return v ? ordered_json(round(*v)) : ordered_json(nullptr);
}

ordered_json PointJson(const MeasuredPoint& p) {
  return {{"phase", p.phase}, {"step", p.step >= 0 ? ordered_json(p.step + 1) : ordered_json(nullptr)},
          {"rate_rps", Rate(p.rate_rps)}, {"achieved_rps", Rate(p.achieved_rps)}, {"knee", p.knee},
          {"why", p.why}, {"p95_ms", Optional(p.p95_ms, Rate)}, {"p99_ms", Optional(p.p99_ms, Rate)}};
}

ordered_json WatchedJson(const WatchedTier& w) {
  return {{"name", w.name}, {"kind", w.kind}, {"resource", w.utilization ? ordered_json(w.resource) : ordered_json(nullptr)},
          {"utilization", Optional(w.utilization, Ratio)}, {"evidence", w.evidence}, {"why_not", w.why_not},
          {"latency_ms", Optional(w.latency_ms, Rate)}, {"latency_metric", w.latency_metric}};
}

// What --results measured (docs/plan-json.md, "measured"); null without it.
ordered_json MeasuredJson(const PlanInput& in) {
  if (!in.measured) return nullptr;
  const RunMeasurement& run = *in.measured;
  ordered_json j;
  j["results"] = run.file;
  j["point"] = PointJson(run.at);
  j["before"] = run.before ? PointJson(*run.before) : ordered_json(nullptr);
  ordered_json watched = ordered_json::array();
  for (const WatchedTier& w : run.tiers) watched.push_back(WatchedJson(w));
  j["watched"] = watched;
  ordered_json tiers = ordered_json::array();
  for (const TierSpec& t : in.tiers) {
    if (!t.measured) continue;
    const TierMeasurement& m = *t.measured;
    tiers.push_back({{"tier", t.name}, {"watched", m.watched.name},
                     {"resource", m.watched.utilization ? ordered_json(m.watched.resource) : ordered_json(nullptr)},
                     {"utilization", Optional(m.watched.utilization, Ratio)},
                     {"load", Rate(m.load)}, {"load_unit", m.load_unit}, {"load_formula", m.load_formula},
                     {"capacity_rps", Rate(m.capacity_rps)}, {"lower_bound", m.lower_bound}, {"used", m.used},
                     {"declared_rps", Optional(m.declared_rps, Rate)}, {"declared_source", m.declared_source},
                     {"latency_ms", Optional(m.watched.latency_ms, Rate)}, {"latency_metric", m.watched.latency_metric},
                     {"latency_budget_ms", Optional(m.latency_budget_ms, Rate)}});
  }
  j["tiers"] = tiers;
  ordered_json bottlenecks = ordered_json::array();
  for (const MeasuredBottleneck& b : run.bottlenecks)
    bottlenecks.push_back({{"tier", b.tier}, {"source", b.source}, {"resource", b.resource}, {"title", b.title},
                           {"severity", Round(b.severity, 3)}, {"utilization", Optional(b.utilization, Ratio)},
                           {"evidence", b.evidence}, {"change", b.change}});
  j["bottlenecks"] = bottlenecks;
  j["elsewhere"] = run.elsewhere.empty() ? ordered_json(nullptr) : ordered_json(run.elsewhere);
  j["notes"] = run.notes;
  return j;
}

}  // namespace

std::string JsonPlan(const PlanOutput& plan) {
  const PlanInput& in = plan.input;
  ordered_json j;
  j["schema"] = "headroom.plan/1";
  j["name"] = in.name;
  j["source"] = in.source;
  j["currency"] = in.currency;
  j["budget_monthly"] = Rate(in.budget_monthly);
  j["safety_factor"] = in.safety_factor;
  j["traffic"] = {{"peak_rps", Rate(in.traffic.peak_rps)},
                  {"peak_source", in.traffic.peak_source},
                  {"dau", in.traffic.dau},
                  {"concurrent_users", in.traffic.concurrent_users},
                  {"growth_monthly", Ratio(in.traffic.growth_monthly)},
                  {"dau_growth_monthly", in.traffic.dau_growth_monthly
                                             ? ordered_json(Ratio(*in.traffic.dau_growth_monthly))
                                             : ordered_json(nullptr)},
                  {"growth_source", in.traffic.growth_source},
                  {"daily_peak_factor", in.traffic.daily_peak_factor},
                  {"flash_sale_multiple", in.traffic.flash_sale_multiple}};
  j["slos"] = {{"p95_ms", in.slo.p95_ms},
               {"p99_ms", in.slo.p99_ms ? ordered_json(*in.slo.p99_ms) : ordered_json(nullptr)},
               {"availability", Ratio(in.slo.availability)},
               {"error_rate", Ratio(in.slo.error_rate)},
               {"job_delay_s", in.slo.job_delay_s ? ordered_json(*in.slo.job_delay_s) : ordered_json(nullptr)}};
  ordered_json tiers = ordered_json::array();
  for (const TierSpec& t : in.tiers) {
    ordered_json tier = {{"name", t.name}, {"kind", std::string(TierKindName(t.kind))},
                         {"count", t.count}, {"capacity_rps", Rate(t.capacity_rps)},
                         {"capacity_source", t.capacity_source}, {"capacity_basis", CapacityBasis(t)}};
    if (t.kind == TierKind::kDatabase) {
      tier["write_capacity_rps"] = Rate(t.write_capacity_rps);
      tier["write_capacity_basis"] = WriteCapacityBasis(t);
    }
    const bool latency = t.measured && t.measured->watched.latency_ms;
    tier["latency_ms"] = latency ? ordered_json(Rate(*t.measured->watched.latency_ms)) : ordered_json(nullptr);
    tier["latency_basis"] = latency ? ordered_json("measured") : ordered_json(nullptr);
    tier["unit_cost"] = t.unit_cost;
    tiers.push_back(tier);
  }
  j["tiers"] = tiers;
  j["measured"] = MeasuredJson(in);
  if (plan.writes_outgrow_primary_multiplier) {
    j["writes_outgrow_primary"] = {{"multiplier", Round(*plan.writes_outgrow_primary_multiplier, 2)},
                                   {"detail", plan.writes_outgrow_detail}};
  } else {
    j["writes_outgrow_primary"] = nullptr;
  }
  ordered_json phases = ordered_json::array();
  for (const PhaseResult& ph : plan.phases) phases.push_back(PhaseJson(ph));
  j["phases"] = phases;
  return j.dump(2) + "\n";
}

}  // namespace headroom::plan
