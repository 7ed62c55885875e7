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

void ScenarioParser::ParseKindBody(const YAML::Node& body, std::string_view path,
                                   const std::optional<double>& previous_rate, std::string_view previous_reason,
                                   Phase& out) {
  auto at = [&](std::string_view key) { return JoinPath(path, key); };
  // Reads a required positive duration.
  auto duration = [&](std::string_view key, int64_t& field, std::string_view example) {
    if (!r_.Require(body, path, key, example)) return false;
    YAML::Node n = Get(body, key);
    auto v = r_.DurationNs(n, at(key));
    if (!v) return false;
    if (*v == 0) {
      r_.Error(n, at(key), "must be above 0");
      return false;
    }
    field = *v;
    return true;
  };
  // Reads a rate (or multiple); `positive` rejects 0.
  auto rate = [&](std::string_view key, double& field, bool positive) {
    YAML::Node n = Get(body, key);
    auto v = RateOrMultiple(n, at(key), previous_rate, previous_reason);
    if (!v) return false;
    if (positive && *v <= 0) {
      r_.Error(n, at(key), "must be above 0");
      return false;
    }
    field = *v;
    return true;
  };
  // A rate that defaults to the previous phase's final rate.
  auto rate_or_previous = [&](std::string_view key, double& field) {
    if (Get(body, key).IsDefined()) return rate(key, field, false);
    if (!previous_rate) {
      if (previous_reason.empty()) {
        rate_unknown_ = true;
        return false;
      }
      r_.Error(body, path, "missing '" + std::string(key) + "' (" + std::string(previous_reason) +
                               ", so there is no previous rate to start from)");
      return false;
    }
    field = *previous_rate;
    return true;
  };

  switch (out.kind) {
    case PhaseKind::kBaseline:
      r_.CheckKeys(body, path, {"rate", "duration"}, OpenBodyHint);
      if (r_.Require(body, path, "rate", "a baseline phase runs at a fixed rate, like rate: 200/s")) {
        rate("rate", out.rate_per_sec, true);
      }
      duration("duration", out.duration_ns, "duration: 30s");
      break;
    case PhaseKind::kRamp:
      r_.CheckKeys(body, path, {"from", "to", "duration"}, OpenBodyHint);
      rate_or_previous("from", out.from_per_sec);
      if (r_.Require(body, path, "to", "the rate to reach, like to: 600/s")) rate("to", out.to_per_sec, false);
      duration("duration", out.duration_ns, "duration: 1m");
      break;
    case PhaseKind::kSpike:
      r_.CheckKeys(body, path, {"from", "to", "hold", "duration"}, OpenBodyHint);
      rate_or_previous("from", out.from_per_sec);
      if (r_.Require(body, path, "to", "the spike's rate, like to: 6x")) rate("to", out.to_per_sec, true);
      if (duration("hold", out.hold_ns, "hold: 30s") && duration("duration", out.duration_ns, "duration: 2m") &&
          out.hold_ns >= out.duration_ns) {
        r_.Error(Get(body, "hold"), at("hold"), "hold must be shorter than duration, to leave time to recover");
      }
      break;
    case PhaseKind::kSoak:
      r_.CheckKeys(body, path, {"rate", "duration", "window"}, OpenBodyHint);
      if (r_.Require(body, path, "rate", "a soak phase runs at a fixed rate, like rate: 600/s")) {
        rate("rate", out.rate_per_sec, true);
      }
      if (duration("duration", out.duration_ns, "duration: 30m")) {
        out.window_ns = std::min(kDefaultSoakWindowNs, out.duration_ns / 2);
        if (Get(body, "window").IsDefined() && duration("window", out.window_ns, "window: 5m") &&
            out.window_ns * 2 > out.duration_ns) {
          r_.Error(Get(body, "window"), at("window"), "window must be at most half of duration (first and last windows are compared)");
        }
      }
      break;
    case PhaseKind::kStress:
      ParseStressBody(body, path, previous_rate, previous_reason, out);
      break;
    case PhaseKind::kClosed:
      r_.CheckKeys(body, path, {"connections", "think", "duration"}, ClosedBodyHint);
      if (r_.Require(body, path, "connections", "the number of users, like connections: 50")) {
        if (auto v = r_.Integer(Get(body, "connections"), at("connections"), 1)) {
          out.connections = int(std::min<int64_t>(*v, 1 << 30));
        }
      }
      if (YAML::Node n = Get(body, "think"); n.IsDefined()) {
        if (auto v = r_.DurationNs(n, at("think"))) out.think_ns = *v;
      }
      duration("duration", out.duration_ns, "duration: 30s");
      break;
  }
}

void ScenarioParser::ParseStressBody(const YAML::Node& body, std::string_view path,
                                     const std::optional<double>& previous_rate, std::string_view previous_reason,
                                     Phase& out) {
  auto at = [&](std::string_view key) { return JoinPath(path, key); };
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
    auto v = RateOrMultiple(n, at(key), previous_rate, previous_reason);
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
      if (auto v = RateOrMultiple(step, at("step"), previous_rate, previous_reason)) {
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
