// The body of each phase kind (baseline, ramp, spike, soak, stress, closed).
#include <algorithm>

#include "scenario/parser.h"

namespace headroom::scenario {
namespace {

std::string OpenBodyHint(std::string_view key) {
  if (key == "connections") return " (the connection cap is a phase key: put connections: next to the kind)";
  if (key == "arrival") return " (arrival is a phase key: put it next to the kind)";
  if (key == "rate") return " (this kind takes 'from' and 'to')";
  return "";
}

std::string ClosedBodyHint(std::string_view key) {
  if (key == "rate" || key == "from" || key == "to") {
    return " (a closed phase has no rate: its users send back to back, with 'think' between requests)";
  }
  return "";
}

constexpr int64_t kDefaultSoakWindowNs = 5 * 60 * 1'000'000'000LL;

}  // namespace

bool ScenarioParser::BodyDuration(const KindBody& b, std::string_view key, int64_t& field, std::string_view example) {
  if (!r_.Require(b.node, b.path, key, example)) return false;
  YAML::Node n = Get(b.node, key);
  auto v = r_.DurationNs(n, JoinPath(b.path, key));
  if (!v) return false;
  if (*v == 0) {
    r_.Error(n, JoinPath(b.path, key), "must be above 0");
    return false;
  }
  field = *v;
  return true;
}

bool ScenarioParser::BodyRate(const KindBody& b, std::string_view key, double& field, bool positive) {
  YAML::Node n = Get(b.node, key);
  auto v = RateOrMultiple(n, JoinPath(b.path, key), b.previous_rate, b.previous_reason);
  if (!v) return false;
  if (positive && *v <= 0) {
    r_.Error(n, JoinPath(b.path, key), "must be above 0");
    return false;
  }
  field = *v;
  return true;
}

bool ScenarioParser::BodyRateOrPrevious(const KindBody& b, std::string_view key, double& field) {
  if (Get(b.node, key).IsDefined()) return BodyRate(b, key, field, false);
  if (!b.previous_rate) {
    if (b.previous_reason.empty()) {
      rate_unknown_ = true;
      return false;
    }
    r_.Error(b.node, b.path, "missing '" + std::string(key) + "' (" + std::string(b.previous_reason) +
                                 ", so there is no previous rate to start from)");
    return false;
  }
  field = *b.previous_rate;
  return true;
}

void ScenarioParser::ParseKindBody(const KindBody& b, Phase& out) {
  switch (out.kind) {
    case PhaseKind::kBaseline:
      r_.CheckKeys(b.node, b.path, {"rate", "duration"}, OpenBodyHint);
      if (r_.Require(b.node, b.path, "rate", "a baseline phase runs at a fixed rate, like rate: 200/s")) {
        BodyRate(b, "rate", out.rate_per_sec, true);
      }
      BodyDuration(b, "duration", out.duration_ns, "duration: 30s");
      break;
    case PhaseKind::kRamp:
      r_.CheckKeys(b.node, b.path, {"from", "to", "duration"}, OpenBodyHint);
      BodyRateOrPrevious(b, "from", out.from_per_sec);
      if (r_.Require(b.node, b.path, "to", "the rate to reach, like to: 600/s")) BodyRate(b, "to", out.to_per_sec, false);
      BodyDuration(b, "duration", out.duration_ns, "duration: 1m");
      break;
    case PhaseKind::kSpike:
      ParseSpikeBody(b, out);
      break;
    case PhaseKind::kSoak:
      ParseSoakBody(b, out);
      break;
    case PhaseKind::kStress:
      ParseStressBody(b, out);
      break;
    case PhaseKind::kClosed:
      r_.CheckKeys(b.node, b.path, {"connections", "think", "duration"}, ClosedBodyHint);
      if (r_.Require(b.node, b.path, "connections", "the number of users, like connections: 50")) {
        if (auto v = r_.Integer(Get(b.node, "connections"), JoinPath(b.path, "connections"), 1)) {
          out.connections = int(std::min<int64_t>(*v, 1 << 30));
        }
      }
      if (YAML::Node n = Get(b.node, "think"); n.IsDefined()) {
        if (auto v = r_.DurationNs(n, JoinPath(b.path, "think"))) out.think_ns = *v;
      }
      BodyDuration(b, "duration", out.duration_ns, "duration: 30s");
      break;
  }
}

void ScenarioParser::ParseSpikeBody(const KindBody& b, Phase& out) {
  r_.CheckKeys(b.node, b.path, {"from", "to", "hold", "duration"}, OpenBodyHint);
  BodyRateOrPrevious(b, "from", out.from_per_sec);
  if (r_.Require(b.node, b.path, "to", "the spike's rate, like to: 6x")) BodyRate(b, "to", out.to_per_sec, true);
  const bool hold_ok = BodyDuration(b, "hold", out.hold_ns, "hold: 30s");
  const bool duration_ok = BodyDuration(b, "duration", out.duration_ns, "duration: 2m");
  if (hold_ok && duration_ok && out.hold_ns >= out.duration_ns) {
    r_.Error(Get(b.node, "hold"), JoinPath(b.path, "hold"), "hold must be shorter than duration, to leave time to recover");
  }
}

void ScenarioParser::ParseSoakBody(const KindBody& b, Phase& out) {
  r_.CheckKeys(b.node, b.path, {"rate", "duration", "window"}, OpenBodyHint);
  if (r_.Require(b.node, b.path, "rate", "a soak phase runs at a fixed rate, like rate: 600/s")) {
    BodyRate(b, "rate", out.rate_per_sec, true);
  }
  if (!BodyDuration(b, "duration", out.duration_ns, "duration: 30m")) return;
  out.window_ns = std::min(kDefaultSoakWindowNs, out.duration_ns / 2);
  if (Get(b.node, "window").IsDefined() && BodyDuration(b, "window", out.window_ns, "window: 5m") &&
      out.window_ns * 2 > out.duration_ns) {
    r_.Error(Get(b.node, "window"), JoinPath(b.path, "window"),
             "window must be at most half of duration (first and last windows are compared)");
  }
}

void ScenarioParser::ParseStressBody(const KindBody& b, Phase& out) {
  auto at = [&](std::string_view key) { return JoinPath(b.path, key); };
  const YAML::Node& body = b.node;
  std::string_view path = b.path;
  r_.CheckKeys(body, path, {"from", "ceiling", "step_duration", "search", "step", "resolution", "confirm"},
               OpenBodyHint);
  bool rates_ok = true;
  for (auto [key, field] : {std::pair<std::string_view, double*>{"from", &out.from_per_sec},
                            std::pair<std::string_view, double*>{"ceiling", &out.ceiling_per_sec}}) {
    if (!r_.Require(body, path, key, key == "from" ? "the first rate tried, like from: 100/s"
                                                   : "the highest rate tried, like ceiling: 5000/s")) {
      rates_ok = false;
      continue;
    }
    YAML::Node n = Get(body, key);
    auto v = RateOrMultiple(n, at(key), b.previous_rate, b.previous_reason);
    if (v && *v <= 0) r_.Error(n, at(key), "must be above 0");
    if (!v || *v <= 0) {
      rates_ok = false;
      continue;
    }
    *field = *v;
  }
  if (rates_ok && out.ceiling_per_sec <= out.from_per_sec) {
    r_.Error(Get(body, "ceiling"), at("ceiling"), "ceiling must be above from");
  }
  if (r_.Require(body, path, "step_duration", "how long each rate is held, like step_duration: 10s")) {
    YAML::Node n = Get(body, "step_duration");
    if (auto v = r_.DurationNs(n, at("step_duration"))) {
      if (*v == 0) r_.Error(n, at("step_duration"), "must be above 0");
      out.step_duration_ns = *v;
    }
  }
  if (YAML::Node n = Get(body, "search"); n.IsDefined()) {
    if (auto v = r_.Enum(n, at("search"), {"steps", "exponential"})) out.search = StressSearch(*v);
  }
  YAML::Node step = Get(body, "step");
  YAML::Node resolution = Get(body, "resolution");
  if (out.search == StressSearch::kSteps) {
    if (resolution.IsDefined()) r_.Error(resolution, at("resolution"), "resolution applies to search: exponential only");
    if (r_.Require(body, path, "step", "search: steps needs the rate added per step, like step: 100/s")) {
      if (auto v = RateOrMultiple(step, at("step"), b.previous_rate, b.previous_reason)) {
        if (*v <= 0) r_.Error(step, at("step"), "must be above 0");
        out.step_per_sec = *v;
      }
    }
  } else {
    if (step.IsDefined()) r_.Error(step, at("step"), "step applies to search: steps only");
    if (resolution.IsDefined()) {
      if (auto v = r_.Percent(resolution, at("resolution"))) {
        if (*v <= 0) r_.Error(resolution, at("resolution"), "must be above 0%");
        out.resolution = *v;
      }
    }
  }
  if (YAML::Node n = Get(body, "confirm"); n.IsDefined()) {
    if (auto v = r_.Bool(n, at("confirm"))) out.confirm = *v;
  }
}

}  // namespace headroom::scenario
