// From a built plan to a simulation: one phase's units, autoscalers and per-tier loads (taken at
// the phase's required rate, so each tier's load per request is the planner's own arithmetic),
// then the plan file's events and autoscaling overrides, then what-ifs.
#include <algorithm>
#include <cmath>

#include "core/units.h"
#include "sim/sim.h"

namespace headroom::sim {
namespace {

const plan::TierSpec* FindSpec(const plan::PlanInput& in, const std::string& name) {
  for (const plan::TierSpec& t : in.tiers)
    if (t.name == name) return &t;
  for (const plan::Remedy& r : in.remedies)
    for (const plan::TierSpec& t : r.adds_tiers)
      if (t.name == name) return &t;
  return nullptr;
}

// The tier's most utilized row (connections are a limit, not a throughput).
const plan::LoadRow* MainRow(const plan::PhaseResult& ph, const std::string& tier) {
  const plan::LoadRow* best = nullptr;
  for (const plan::LoadRow& r : ph.after) {
    if (r.tier != tier || r.role == "connections" || !(r.capacity.value > 0)) continue;
    if (!best || r.utilization > best->utilization) best = &r;
  }
  return best;
}

int FeedOrder(const TierModel& t) { return static_cast<int>(t.feed); }

ScalingRules Rules(const plan::ScalingRulesSpec& o, ScalingRules r) {
  if (o.stabilization_s) r.stabilization_s = *o.stabilization_s;
  if (o.select) r.select = *o.select;
  if (!o.policies.empty()) {
    r.policies.clear();
    for (const plan::ScalingPolicySpec& p : o.policies) r.policies.push_back({p.percent, p.value, p.period_s});
  }
  return r;
}

std::string ApplyOverride(const plan::AutoscalingSpec& o, TierModel& t) {
  if (!t.hpa) {
    if (!o.min_replicas || !o.max_replicas || !o.target)
      return o.origin + ": autoscaling." + o.tier + ": the plan does not autoscale '" + o.tier +
             "' in this phase; give min, max and target to simulate an autoscaler for it";
    t.hpa = HpaSpec{};
    if (t.kind == plan::TierKind::kWorkers) t.hpa->metric = MetricKind::kAverageValue;
  }
  HpaSpec& h = *t.hpa;
  if (o.min_replicas) h.min_replicas = *o.min_replicas;
  if (o.max_replicas) h.max_replicas = *o.max_replicas;
  if (o.target) h.target = *o.target;
  if (o.sync_s) h.sync_s = *o.sync_s;
  if (o.tolerance) h.tolerance = *o.tolerance;
  if (o.metric_lag_s) h.metric_lag_s = *o.metric_lag_s;
  h.scale_up = Rules(o.scale_up, h.scale_up);
  h.scale_down = Rules(o.scale_down, h.scale_down);
  if (h.metric == MetricKind::kUtilization && h.target > 1)
    return o.origin + ": autoscaling." + o.tier + ".target: a utilization target is a percentage like 65%";
  std::string problems = CheckHpa(h);
  if (problems.empty()) return "";
  std::string out;
  size_t start = 0;
  while (start <= problems.size()) {
    size_t end = problems.find('\n', start);
    if (end == std::string::npos) end = problems.size();
    out += (out.empty() ? "" : "\n") + o.origin + ": autoscaling." + o.tier + ": " + problems.substr(start, end - start);
    start = end + 1;
  }
  return out;
}

}  // namespace

Result<SimConfig> BuildSimConfig(const plan::PlanOutput& plan, double multiplier, double days) {
  const plan::PhaseResult* ph = nullptr;
  std::string phases;
  for (const plan::PhaseResult& p : plan.phases) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%gx", p.multiplier);
    phases += (phases.empty() ? "" : ", ") + std::string(buf);
    if (std::fabs(p.multiplier - multiplier) < 1e-9) ph = &p;
  }
  if (!ph) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%gx", multiplier);
    return Fail("--phase " + std::string(buf) + " is not a phase of the plan (phases: " + phases + ")");
  }
  if (!(days > 0) || days > 366) return Fail("--days must be above 0 and at most 366");
  const plan::PlanInput& in = plan.input;
  SimConfig c;
  char name[64];
  std::snprintf(name, sizeof name, " %gx", ph->multiplier);
  c.name = in.name + name;
  c.currency = in.currency;
  c.period_s = days * kDayS;
  c.slo_p95_s = in.slo.p95_ms / 1e3;
  c.availability = in.slo.availability;
  c.job_delay_s = in.slo.job_delay_s;
  c.traffic.peak_rps = in.traffic.peak_rps * ph->multiplier;
  c.traffic.daily_peak_factor = in.traffic.daily_peak_factor;
  c.traffic.growth_monthly = in.traffic.growth_monthly;
  c.traffic.events = in.events;
  const double required = ph->required_rps.value;
  const plan::LoadRow* app_row = nullptr;
  for (const plan::TierUnits& u : ph->units)
    if (u.kind == plan::TierKind::kApp) app_row = MainRow(*ph, u.tier);
  if (!app_row || !(required > 0)) return Fail("the plan's phase has no app load to simulate");
  bool has_queue = false;
  for (const plan::TierUnits& u : ph->units) has_queue |= u.kind == plan::TierKind::kQueue;
  for (const plan::TierUnits& u : ph->units) {
    const plan::LoadRow* row = MainRow(*ph, u.tier);
    if (!row) continue;
    const int n = row->role == "replicas" ? u.replicas : u.units;
    if (n <= 0) continue;
    TierModel t;
    t.name = u.tier;
    t.kind = u.kind;
    t.units = n;
    t.capacity_per_unit = row->capacity.value / n;
    t.unit_cost_month = (u.units + u.replicas) > 0 ? u.monthly_cost / (u.units + u.replicas) : 0;
    if (const plan::TierSpec* spec = FindSpec(in, u.tier)) {
      t.concurrency = spec->concurrency;
      t.startup_s = spec->startup_s;
    }
    switch (u.kind) {
      case plan::TierKind::kCdn:
        t.feed = Feed::kOffered, t.factor = row->load.value / required, t.synchronous = false;
        break;
      case plan::TierKind::kApp:
        t.feed = Feed::kOffered, t.factor = row->load.value / required;
        break;
      case plan::TierKind::kQueue:
        t.feed = Feed::kAppServed, t.factor = row->load.value / app_row->load.value, t.synchronous = false;
        break;
      case plan::TierKind::kWorkers:
        t.feed = has_queue ? Feed::kJobs : Feed::kAppServed;
        t.factor = has_queue ? 1 : row->load.value / app_row->load.value;
        t.synchronous = false;
        break;
      default:
        t.feed = Feed::kAppServed, t.factor = row->load.value / app_row->load.value;
    }
    for (const plan::Autoscaler& a : ph->autoscalers) {
      if (a.tier != u.tier) continue;
      HpaSpec h;
      h.min_replicas = a.min_replicas;
      h.max_replicas = a.max_replicas;
      if (a.metric == "queue_depth") {
        h.metric = MetricKind::kAverageValue;
        h.target = a.target_queue_depth;
      } else {
        h.target = a.target_utilization;
      }
      t.hpa = h;
    }
    c.tiers.push_back(t);
  }
  std::stable_sort(c.tiers.begin(), c.tiers.end(),
                   [](const TierModel& a, const TierModel& b) { return FeedOrder(a) < FeedOrder(b); });
  std::string problems;
  for (const plan::AutoscalingSpec& o : in.autoscaling) {
    auto it = std::find_if(c.tiers.begin(), c.tiers.end(), [&](const TierModel& t) { return t.name == o.tier; });
    std::string p;
    if (it == c.tiers.end()) {
      std::string names;
      for (const TierModel& t : c.tiers) names += (names.empty() ? "" : ", ") + t.name;
      p = o.origin + ": autoscaling: no tier '" + o.tier + "' in phase " + name + " (tiers: " + names + ")";
    } else {
      p = ApplyOverride(o, *it);
    }
    if (!p.empty()) problems += (problems.empty() ? "" : "\n") + p;
  }
  if (!problems.empty()) return Fail(problems);
  return c;
}

std::string CheckConfig(const SimConfig& c) {
  std::string out;
  auto add = [&](const std::string& m) { out += (out.empty() ? "" : "\n") + m; };
  for (const plan::EventSpec& e : c.traffic.events) {
    const double start = EventStartS(e);
    if (start < c.start_s || start >= c.start_s + c.period_s) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "event '%s' starts on day %d at %02d:%02d, outside the simulated period (%g days)",
                    e.name.c_str(), e.day, static_cast<int>(e.at_s) / 3600, static_cast<int>(e.at_s) % 3600 / 60,
                    c.period_s / kDayS);
      add(e.origin + ": " + buf);
    }
  }
  for (const TierModel& t : c.tiers) {
    if (!(t.startup_s >= 0)) add(t.name + ".startup: must not be negative");
    if (!(t.capacity_per_unit > 0)) add(t.name + ".capacity: must be above 0");
    if (t.concurrency < 1) add(t.name + ".concurrency: must be at least 1");
    if (t.units < 0) add(t.name + ".count: must not be negative");
    if (t.hpa) {
      const std::string h = CheckHpa(*t.hpa);
      if (!h.empty()) add(t.name + ".hpa: " + h);
    }
  }
  if (!(c.timeout_s > 0)) add("timeout: must be above 0");
  if (!(c.slo_p95_s > 0)) add("slos.p95: must be above 0");
  return out;
}

namespace {

Result<double> Number(const std::string& v) {
  try {
    size_t used = 0;
    double d = std::stod(v, &used);
    if (used == v.size() && std::isfinite(d)) return d;
  } catch (...) {
  }
  return Fail("'" + v + "' is not a number");
}

Result<double> Seconds(const std::string& v) {
  if (v == "0") return 0.0;
  if (!v.empty() && v[0] == '-') return Fail("'" + v + "' is negative");
  auto ns = ParseDurationNs(v);
  if (!ns) return Fail(ns.error().message);
  return static_cast<double>(*ns) / 1e9;
}

Status SetHpa(HpaSpec& h, const std::string& key, const std::string& v) {
  auto rules = [&](ScalingRules& r, const std::string& sub) -> Status {
    if (sub == "stabilization") {
      auto s = Seconds(v);
      if (!s) return Fail(s.error().message);
      r.stabilization_s = *s;
      return {};
    }
    if (sub == "select") {
      if (v == "max") r.select = plan::SelectPolicy::kMax;
      else if (v == "min") r.select = plan::SelectPolicy::kMin;
      else if (v == "disabled") r.select = plan::SelectPolicy::kDisabled;
      else return Fail("'" + v + "' is not max, min or disabled");
      return {};
    }
    return Fail("unknown setting (stabilization, select)");
  };
  if (key.starts_with("scale_up.")) return rules(h.scale_up, key.substr(9));
  if (key.starts_with("scale_down.")) return rules(h.scale_down, key.substr(11));
  if (key == "target") {
    if (!v.empty() && v.back() == '%') {
      auto p = ParsePercent(v);
      if (!p) return Fail(p.error().message);
      h.target = *p;
    } else {
      auto n = Number(v);
      if (!n) return Fail(n.error().message);
      h.target = *n;
    }
    return {};
  }
  if (key == "sync" || key == "metric_lag") {
    auto s = Seconds(v);
    if (!s) return Fail(s.error().message);
    (key == "sync" ? h.sync_s : h.metric_lag_s) = *s;
    return {};
  }
  if (key == "tolerance") {
    auto p = ParsePercent(v);
    if (!p) return Fail(p.error().message);
    h.tolerance = *p;
    return {};
  }
  return Fail("unknown setting (target, sync, metric_lag, tolerance, scale_up.stabilization, "
              "scale_up.select, scale_down.stabilization, scale_down.select)");
}

Status SetTier(TierModel& t, const std::string& key, const std::string& v) {
  if (key == "min" || key == "max") {
    if (!t.hpa) return Fail("tier '" + t.name + "' does not autoscale in this phase");
    auto n = Number(v);
    if (!n || *n != std::floor(*n) || *n < 1) return Fail("'" + v + "' is not a whole number of at least 1");
    (key == "min" ? t.hpa->min_replicas : t.hpa->max_replicas) = static_cast<int>(*n);
    return {};
  }
  if (key.starts_with("hpa.")) {
    if (!t.hpa) return Fail("tier '" + t.name + "' does not autoscale in this phase");
    return SetHpa(*t.hpa, key.substr(4), v);
  }
  if (key == "startup") {
    auto s = Seconds(v);
    if (!s) return Fail(s.error().message);
    t.startup_s = *s;
    return {};
  }
  if (key == "count") {
    auto n = Number(v);
    if (!n || *n != std::floor(*n) || *n < 1) return Fail("'" + v + "' is not a whole number of at least 1");
    t.units = static_cast<int>(*n);
    return {};
  }
  if (key == "capacity") {
    auto r = ParseRatePerSec(v);
    if (!r) return Fail(r.error().message);
    if (!(*r > 0)) return Fail("must be above 0");
    t.capacity_per_unit = *r;
    return {};
  }
  if (key == "concurrency") {
    auto n = Number(v);
    if (!n || *n != std::floor(*n) || *n < 1) return Fail("'" + v + "' is not a whole number of at least 1");
    t.concurrency = static_cast<int>(*n);
    return {};
  }
  return Fail("unknown setting (min, max, count, startup, capacity, concurrency, hpa.*)");
}

}  // namespace

Status ApplySet(SimConfig& c, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    return Fail("--set '" + assignment + "': expected TIER.KEY=VALUE, like app.hpa.target=65%");
  const std::string lhs = assignment.substr(0, eq), v = assignment.substr(eq + 1);
  auto wrap = [&](Status s) -> Status {
    if (s) return s;
    return Fail("--set " + lhs + ": " + s.error().message);
  };
  if (lhs == "timeout") {
    auto s = Seconds(v);
    if (!s) return wrap(Fail(s.error().message));
    c.timeout_s = *s;
    return {};
  }
  if (lhs == "traffic.peak_hour") {
    auto n = Number(v);
    if (!n || *n < 0 || *n >= 24) return wrap(Fail("'" + v + "' is not an hour from 0 to 23.99"));
    c.traffic.peak_hour = *n;
    return {};
  }
  const auto dot = lhs.find('.');
  if (dot == std::string::npos) return wrap(Fail("expected TIER.KEY (or timeout, traffic.peak_hour)"));
  const std::string tier = lhs.substr(0, dot);
  for (TierModel& t : c.tiers)
    if (t.name == tier) return wrap(SetTier(t, lhs.substr(dot + 1), v));
  std::string names;
  for (const TierModel& t : c.tiers) names += (names.empty() ? "" : ", ") + t.name;
  return wrap(Fail("no tier '" + tier + "' (tiers: " + names + ")"));
}

}  // namespace headroom::sim
