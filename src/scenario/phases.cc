// Phase parsing and the model helpers for phases.
#include <charconv>
#include <cmath>

#include "scenario/parser.h"

namespace headroom::scenario {

std::string_view PhaseKindName(PhaseKind kind) {
  switch (kind) {
    case PhaseKind::kBaseline: return "baseline";
    case PhaseKind::kRamp: return "ramp";
    case PhaseKind::kSpike: return "spike";
    case PhaseKind::kSoak: return "soak";
    case PhaseKind::kStress: return "stress";
    case PhaseKind::kClosed: return "closed";
  }
  return "?";
}

bool IsOpenModel(PhaseKind kind) { return kind != PhaseKind::kClosed; }

std::optional<double> FinalRatePerSec(const Phase& phase) {
  switch (phase.kind) {
    case PhaseKind::kBaseline:
    case PhaseKind::kSoak: return phase.rate_per_sec;
    case PhaseKind::kRamp: return phase.to_per_sec;
    case PhaseKind::kSpike: return phase.from_per_sec;
    case PhaseKind::kStress:
    case PhaseKind::kClosed: return std::nullopt;
  }
  return std::nullopt;
}

namespace {

constexpr PhaseKind kKinds[] = {PhaseKind::kBaseline, PhaseKind::kRamp,   PhaseKind::kSpike,
                                PhaseKind::kSoak,     PhaseKind::kStress, PhaseKind::kClosed};

std::string PhaseKeyHint(std::string_view key) {
  for (std::string_view k : {"rate", "duration", "from", "to", "hold", "window", "ceiling", "step_duration", "think"}) {
    if (key == k) return " (it belongs inside the phase kind, e.g. baseline: { rate: 200/s, duration: 30s })";
  }
  if (key == "target") return " (a phase's rate is set inside its kind, e.g. ramp: { to: 600/s, duration: 1m })";
  return "";
}

std::string_view KindExample(PhaseKind kind) {
  switch (kind) {
    case PhaseKind::kBaseline: return "{ rate: 200/s, duration: 30s }";
    case PhaseKind::kRamp: return "{ from: 100/s, to: 600/s, duration: 1m }";
    case PhaseKind::kSpike: return "{ to: 6x, hold: 30s, duration: 2m }";
    case PhaseKind::kSoak: return "{ rate: 600/s, duration: 30m, window: 5m }";
    case PhaseKind::kStress: return "{ from: 100/s, ceiling: 5000/s, step_duration: 10s }";
    case PhaseKind::kClosed: return "{ connections: 50, duration: 30s }";
  }
  return "";
}

}  // namespace

void ScenarioParser::ParsePhases(const YAML::Node& node, Scenario& out) {
  if (!node.IsSequence()) {
    r_.Error(node, "phases", "expected a list of phases like - { name: warm, baseline: { rate: 200/s, duration: 30s } }");
    return;
  }
  if (node.size() == 0) {
    r_.Error(node, "phases", "needs at least one phase");
    return;
  }
  std::optional<double> previous_rate;
  std::string previous_reason = "this is the first phase";
  for (size_t i = 0; i < node.size(); ++i) {
    const YAML::Node item = node[i];
    std::string path = "phases[" + std::to_string(i) + "]";
    if (item.IsMap()) {
      if (YAML::Node n = Get(item, "name"); n.IsScalar() && IsIdentifier(n.Scalar(), true)) {
        path = "phases." + n.Scalar();
      }
    }
    Phase phase;
    if (!ParsePhase(item, path, out, previous_rate, previous_reason, phase)) {
      // Its final rate is unknown: an empty reason keeps the next phase from reporting a
      // second, derived error about "the previous rate".
      previous_rate.reset();
      previous_reason.clear();
      continue;
    }
    for (const Phase& earlier : out.phases) {
      if (earlier.name == phase.name) {
        YAML::Node at = Get(item, "name").IsDefined() ? Get(item, "name") : item;
        r_.Error(at, path, "phase name '" + phase.name + "' is used twice; give each phase its own name");
      }
    }
    previous_rate = FinalRatePerSec(phase);
    if (!previous_rate) {
      previous_reason = "phase '" + phase.name + "' (" + std::string(PhaseKindName(phase.kind)) +
                        ") has no fixed final rate";
    }
    out.phases.push_back(std::move(phase));
  }
}

bool ScenarioParser::ParsePhase(const YAML::Node& node, std::string_view path, const Scenario& s,
                                const std::optional<double>& previous_rate, std::string_view previous_reason,
                                Phase& out) {
  if (!r_.ExpectMap(node, path, "{ name: warm, baseline: { rate: 200/s, duration: 30s } }")) return false;
  r_.CheckKeys(node, path,
               {"name", "slos", "connections", "arrival", "baseline", "ramp", "spike", "soak", "stress", "closed"},
               PhaseKeyHint);
  out.pos = PosOf(node);
  std::vector<PhaseKind> kinds;
  for (PhaseKind k : kKinds) {
    if (Get(node, PhaseKindName(k)).IsDefined()) kinds.push_back(k);
  }
  if (kinds.empty()) {
    r_.Error(node, path, "a phase needs one kind: baseline, ramp, spike, soak, stress or closed");
    return false;
  }
  if (kinds.size() > 1) {
    r_.Error(node, path,
             "a phase has exactly one kind, found '" + std::string(PhaseKindName(kinds[0])) + "' and '" +
                 std::string(PhaseKindName(kinds[1])) + "'; split it into two phases");
    return false;
  }
  out.kind = kinds[0];
  out.name = std::string(PhaseKindName(out.kind));
  const size_t errors_before = diag_.size();
  rate_unknown_ = false;
  if (YAML::Node n = Get(node, "name"); n.IsDefined()) {
    if (auto v = r_.String(n, JoinPath(path, "name"))) {
      if (!IsIdentifier(*v, true)) {
        r_.Error(n, JoinPath(path, "name"), "phase name '" + *v + "' must be letters, digits, '_' and '-'");
      }
      out.name = *v;
    }
  }
  out.connections = s.defaults.connections;
  out.arrival = s.defaults.arrival;
  const bool closed = out.kind == PhaseKind::kClosed;
  if (YAML::Node n = Get(node, "connections"); n.IsDefined()) {
    if (closed) {
      r_.Error(n, path, "a closed phase sets its users with closed.connections; remove the phase-level 'connections'");
    } else if (auto v = r_.Integer(n, JoinPath(path, "connections"), 1)) {
      out.connections = int(std::min<int64_t>(*v, 1 << 30));
    }
  }
  if (YAML::Node n = Get(node, "arrival"); n.IsDefined()) {
    if (closed) {
      r_.Error(n, path, "a closed phase has no arrival process; remove 'arrival'");
    } else if (auto v = r_.Enum(n, JoinPath(path, "arrival"), {"uniform", "poisson"})) {
      out.arrival = Arrival(*v);
    }
  }
  if (YAML::Node n = Get(node, "slos"); n.IsDefined()) ParseSlos(n, JoinPath(path, "slos"), "", s.requests, out.slos);
  std::string kind_path = JoinPath(path, PhaseKindName(out.kind));
  YAML::Node body = Get(node, PhaseKindName(out.kind));
  if (r_.ExpectMap(body, kind_path, KindExample(out.kind))) {
    ParseKindBody(KindBody{body, kind_path, previous_rate, previous_reason}, out);
  }
  if (diag_.size() != errors_before || rate_unknown_) return false;
  CheckPhaseRules(node, path, s, out);
  return true;
}

std::optional<double> ScenarioParser::RateOrMultiple(const YAML::Node& node, std::string_view path,
                                                     const std::optional<double>& previous_rate,
                                                     std::string_view previous_reason) {
  if (node.IsScalar() && !node.Scalar().empty() && node.Scalar().back() == 'x') {
    const std::string& text = node.Scalar();
    if (r_.RejectNegative(node, path, text)) return std::nullopt;
    double m = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size() - 1, m);
    if (ec != std::errc() || ptr != text.data() + text.size() - 1 || !std::isfinite(m)) {
      r_.Error(node, path, "invalid multiple '" + text + "': write it like 3x");
      return std::nullopt;
    }
    if (!previous_rate) {
      if (previous_reason.empty()) {
        rate_unknown_ = true;
        return std::nullopt;
      }
      r_.Error(node, path, "'" + text + "' is a multiple of the previous phase's rate, but " +
                               std::string(previous_reason) + "; write an absolute rate like 600/s");
      return std::nullopt;
    }
    return m * *previous_rate;
  }
  return r_.RatePerSec(node, path);
}

void ScenarioParser::CheckPhaseRules(const YAML::Node& node, std::string_view path, const Scenario& s,
                                     const Phase& p) {
  if (p.kind != PhaseKind::kStress) return;
  bool any = !s.slos.empty() || !p.slos.empty();
  for (const RequestSpec& r : s.requests) any = any || !r.slos.empty();
  if (!any) {
    r_.Error(node, path, "a stress phase needs at least one SLO to mark the breakpoint (add slos: [\"p99 < 500ms\"])");
  }
}

}  // namespace headroom::scenario
