// The plan file's simulation keys: `events:` (a list of event lines in the --event grammar) and
// `autoscaling:` (per-tier HPA overrides with autoscaling/v2 behavior). Both are only read here and
// checked for what is knowable without a simulated period; simulate checks the rest (an event
// outside the period) and reports it at the `origin` kept on each item.
#include <charconv>
#include <cmath>
#include <sstream>

#include "core/units.h"
#include "plan/plan.h"
#include "plan/yaml_input.h"

namespace headroom::plan {
namespace {

std::string Origin(const Diagnostics& d, const YAML::Node& node) {
  return d.file() + ":" + std::to_string(node.Mark().line + 1) + ":" +
         std::to_string(node.Mark().column + 1);
}

std::optional<double> DurationS(std::string_view text) {
  auto ns = ParseDurationNs(text);
  if (!ns) return std::nullopt;
  return static_cast<double>(*ns) / 1e9;
}

}  // namespace

Result<EventSpec> ParseEvent(std::string_view text, const std::string& origin) {
  std::istringstream in{std::string(text)};
  std::vector<std::string> w;
  for (std::string word; in >> word;) w.push_back(word);
  const std::string form = " (write it like 'flash-sale day 2 18:00 6x for 30m ramp 2m')";
  EventSpec e;
  e.origin = origin;
  if (w.empty()) return Fail("empty event" + form);
  e.name = w[0];
  if (w.size() < 7 || w[1] != "day" || w[5] != "for")
    return Fail("event '" + std::string(text) + "': expected NAME day D HH:MM Mx for DURATION" + form);
  int day = 0;
  auto [dp, dec] = std::from_chars(w[2].data(), w[2].data() + w[2].size(), day);
  if (dec != std::errc() || dp != w[2].data() + w[2].size() || day < 1 || day > 3660)
    return Fail("event '" + e.name + "': day '" + w[2] + "' is not a day number from 1");
  e.day = day;
  int hh = -1, mm = -1;
  if (w[3].size() == 5 && w[3][2] == ':') {
    std::from_chars(w[3].data(), w[3].data() + 2, hh);
    std::from_chars(w[3].data() + 3, w[3].data() + 5, mm);
  }
  if (hh < 0 || hh > 23 || mm < 0 || mm > 59)
    return Fail("event '" + e.name + "': time '" + w[3] + "' is not HH:MM (00:00 to 23:59)");
  e.at_s = hh * 3600.0 + mm * 60.0;
  std::string_view mult = w[4];
  if (mult.empty() || (mult.back() != 'x' && mult.back() != 'X'))
    return Fail("event '" + e.name + "': multiple '" + w[4] + "' must end in x, like 6x");
  mult.remove_suffix(1);
  double m = 0;
  auto [mp, mec] = std::from_chars(mult.data(), mult.data() + mult.size(), m);
  if (mec != std::errc() || mp != mult.data() + mult.size() || !(m > 0) || m > 100000)
    return Fail("event '" + e.name + "': multiple '" + w[4] + "' must be above 0x and at most 100000x");
  e.multiple = m;
  auto duration = DurationS(w[6]);
  if (!duration || !(*duration > 0))
    return Fail("event '" + e.name + "': duration '" + w[6] + "' must be a duration above 0, like 30m");
  e.duration_s = *duration;
  size_t i = 7;
  if (i < w.size() && w[i] == "ramp") {
    if (i + 1 >= w.size()) return Fail("event '" + e.name + "': 'ramp' needs a duration, like ramp 2m");
    auto ramp = DurationS(w[i + 1]);
    if (!ramp || *ramp < 0)
      return Fail("event '" + e.name + "': ramp '" + w[i + 1] + "' must be a duration of 0 or more, like 2m");
    e.ramp_s = *ramp;
    i += 2;
  }
  if (i < w.size()) return Fail("event '" + e.name + "': unexpected '" + w[i] + "'" + form);
  if (e.ramp_s > e.duration_s)
    return Fail("event '" + e.name + "': ramp " + w[8] + " is longer than the event (" + w[6] + ")");
  return e;
}

void ReadEvents(const YAML::Node& node, PlanInput& in, Diagnostics& d) {
  if (!node) return;
  if (!node.IsSequence()) {
    d.Add(node, "events", "expected a list like ['flash-sale day 2 18:00 6x for 30m ramp 2m']");
    return;
  }
  for (size_t i = 0; i < node.size(); ++i) {
    std::string p = "events[" + std::to_string(i) + "]";
    auto text = ReadString(node[i], p, d);
    if (!text) continue;
    auto e = ParseEvent(*text, Origin(d, node[i]));
    if (!e) {
      d.Add(node[i], p, e.error().message);
      continue;
    }
    in.events.push_back(*e);
  }
}

namespace {

void ReadRules(const YAML::Node& node, const std::string& p, ScalingRulesSpec& r, Diagnostics& d) {
  if (!node) return;
  if (!node.IsMap()) {
    d.Add(node, p, "expected a map with stabilization, select, policies");
    return;
  }
  CheckKeys(node, p, {"stabilization", "select", "policies"}, d);
  if (const YAML::Node s = node["stabilization"]) {
    // 0s is a valid window (scale up at once), which ReadDurationS refuses; read "0" and "0s" here.
    if (s.IsScalar() && (s.Scalar() == "0" || s.Scalar() == "0s")) {
      r.stabilization_s = 0;
    } else if (auto v = ReadDurationS(s, p + ".stabilization", d)) {
      if (*v > 3600) d.Add(s, p + ".stabilization", "at most 1h (Kubernetes allows 3600 s)");
      else r.stabilization_s = *v;
    }
  }
  if (auto v = ReadChoice(node["select"], p + ".select", {"max", "min", "disabled"}, d))
    r.select = *v == "max" ? SelectPolicy::kMax : *v == "min" ? SelectPolicy::kMin : SelectPolicy::kDisabled;
  const YAML::Node pol = node["policies"];
  if (!pol) return;
  if (!pol.IsSequence() || pol.size() == 0) {
    d.Add(pol, p + ".policies", "expected a list like [{ type: percent, value: 100, period: 15s }]");
    return;
  }
  for (size_t i = 0; i < pol.size(); ++i) {
    std::string pp = p + ".policies[" + std::to_string(i) + "]";
    const YAML::Node n = pol[i];
    if (!n.IsMap()) {
      d.Add(n, pp, "expected a map with type, value, period");
      continue;
    }
    CheckKeys(n, pp, {"type", "value", "period"}, d);
    for (const char* key : {"type", "value", "period"})
      if (!n[key]) d.Add(n, pp, std::string("missing '") + key + "'");
    ScalingPolicySpec s;
    auto type = ReadChoice(n["type"], pp + ".type", {"percent", "pods"}, d);
    auto value = ReadCount(n["value"], pp + ".value", d, 1);
    std::optional<double> period;
    if (n["period"] && n["period"].IsScalar() && (n["period"].Scalar() == "0" || n["period"].Scalar() == "0s")) {
      d.Add(n["period"], pp + ".period", "a policy period must be above 0 (1s to 1800s)");
    } else if ((period = ReadDurationS(n["period"], pp + ".period", d)) && *period > 1800) {
      d.Add(n["period"], pp + ".period", "at most 30m (Kubernetes allows 1800 s)");
      period.reset();
    }
    if (!type || !value || !period) continue;
    s.percent = *type == "percent";
    s.value = *value;
    s.period_s = *period;
    r.policies.push_back(s);
  }
}

void ReadOneAutoscaler(const YAML::Node& n, const std::string& tier, AutoscalingSpec& a, Diagnostics& d) {
  std::string p = "autoscaling." + tier;
  CheckKeys(n, p, {"min", "max", "target", "sync", "tolerance", "metric_lag", "scale_up", "scale_down"}, d);
  if (auto v = ReadCount(n["min"], p + ".min", d, 1)) a.min_replicas = *v;
  if (auto v = ReadCount(n["max"], p + ".max", d, 1)) a.max_replicas = *v;
  if (a.min_replicas && a.max_replicas && *a.min_replicas > *a.max_replicas)
    d.Add(n["min"], p + ".min", "min is above max");
  if (const YAML::Node t = n["target"]) {
    if (t.IsScalar() && !t.Scalar().empty() && t.Scalar().back() == '%') {
      if (auto v = ReadPercent(t, p + ".target", d, 1)) {
        if (*v <= 0) d.Add(t, p + ".target", "must be above 0%");
        else a.target = *v;
      }
    } else if (auto v = ReadNumber(t, p + ".target", d, 1e-9, 1e12)) {
      a.target = *v;  // an average value per unit (workers: queued jobs per worker)
    }
  }
  if (auto v = ReadDurationS(n["sync"], p + ".sync", d)) a.sync_s = *v;
  if (auto v = ReadPercent(n["tolerance"], p + ".tolerance", d, 0.99)) a.tolerance = *v;
  if (const YAML::Node lag = n["metric_lag"]) {
    if (lag.IsScalar() && (lag.Scalar() == "0" || lag.Scalar() == "0s")) a.metric_lag_s = 0;
    else if (auto v = ReadDurationS(lag, p + ".metric_lag", d)) a.metric_lag_s = *v;
  }
  ReadRules(n["scale_up"], p + ".scale_up", a.scale_up, d);
  ReadRules(n["scale_down"], p + ".scale_down", a.scale_down, d);
}

}  // namespace

void ReadAutoscaling(const YAML::Node& node, PlanInput& in, Diagnostics& d) {
  if (!node) return;
  if (!node.IsMap()) {
    d.Add(node, "autoscaling", "expected a map from tier name to settings, like { app: { min: 4 } }");
    return;
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    std::string tier = it->first.IsScalar() ? it->first.Scalar() : "?";
    if (!it->second.IsMap()) {
      d.Add(it->second, "autoscaling." + tier, "expected a map with min, max, target, scale_up, ...");
      continue;
    }
    AutoscalingSpec a;
    a.tier = tier;
    a.origin = Origin(d, it->first);
    ReadOneAutoscaler(it->second, tier, a, d);
    in.autoscaling.push_back(a);
  }
}

}  // namespace headroom::plan
