// Judging parsed SLOs against measurements, and formatting observed values.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <string>

#include "core/units.h"
#include "slo/tier_internal.h"

namespace headroom::slo {
namespace {

// Percent text with up to 4 decimals and no trailing zeros: 0.005 -> "0.5%", 0.99995 -> "99.995%".
std::string PercentText(double fraction) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4f", fraction * 100);
  std::string s = buf;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s + "%";
}

std::string RateText(double per_sec) {
  if (per_sec >= 100) return FormatCount(per_sec) + "/s";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", per_sec);
  std::string s = buf;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s + "/s";
}

bool HasValues(const Histogram* h) { return h != nullptr && h->Count() > 0; }

double LatencyOf(const Objective& o, const Histogram& h) {
  switch (o.metric) {
    case Metric::kMax:
      return static_cast<double>(h.Max());
    case Metric::kMin:
      return static_cast<double>(h.Min());
    case Metric::kMean:
      return h.Mean();
    default:
      return static_cast<double>(h.ValueAtPercentile(o.percentile));
  }
}

// Relative change from `first` to `last`; 0 -> 0 is no change, 0 -> anything else is +inf.
double Drift(double first, double last) {
  if (first == 0) return last == 0 ? 0 : std::numeric_limits<double>::infinity();
  return (last - first) / first;
}

Verdict Missing(const Objective& o, std::string why) { return Verdict{o.expr, 0, std::move(why), false}; }

// Every drift objective needs a request in both windows, so that they all agree on whether drift
// was measured (a phase cut short before its last window has nothing to compare).
std::optional<std::string> DriftNotMeasured(const Observations& obs) {
  if (obs.first_window_requests <= 0) return "not measured: no request ended in the first window";
  if (obs.last_window_requests <= 0) return "not measured: no request ended in the last window";
  return std::nullopt;
}

}  // namespace

bool Holds(double observed, Op op, double threshold) {
  const double tolerance = 1e-9 * std::max(std::fabs(observed), std::fabs(threshold));
  const bool equal = std::fabs(observed - threshold) <= tolerance;
  switch (op) {
    case Op::kLt:
      return observed < threshold && !equal;
    case Op::kLe:
      return observed < threshold || equal;
    case Op::kGt:
      return observed > threshold && !equal;
    case Op::kGe:
      return observed > threshold || equal;
  }
  return false;
}

std::string MetricName(const Objective& o) {
  std::string name = o.request.empty() ? "" : o.request + ".";
  char p[32];
  std::snprintf(p, sizeof p, "p%.10g", o.percentile);
  switch (o.metric) {
    case Metric::kPercentile:
      return name + p;
    case Metric::kMax:
      return name + "max";
    case Metric::kMin:
      return name + "min";
    case Metric::kMean:
      return name + "mean";
    case Metric::kErrorRate:
      return name + "error_rate";
    case Metric::kAvailability:
      return name + "availability";
    case Metric::kRps:
      return name + "rps";
    case Metric::kPercentileDrift:
      return name + p + "_drift";
    case Metric::kErrorRateDrift:
      return name + "error_rate_drift";
    case Metric::kTier:
      return o.tier + "." + o.tier_metric;
  }
  return name;
}

std::string FormatObjectiveValue(const Objective& o, double value) {
  switch (o.metric) {
    case Metric::kPercentile:
    case Metric::kMax:
    case Metric::kMin:
    case Metric::kMean:
      return FormatDurationUs(value);
    case Metric::kErrorRate:
    case Metric::kAvailability:
      return PercentText(value);
    case Metric::kPercentileDrift:
    case Metric::kErrorRateDrift:
      return FormatDrift(value);  // as the terminal summary and summary.md print drift
    case Metric::kRps:
      return RateText(value);
    case Metric::kTier:
      if (const TierMetricInfo* info = FindTierMetric(o.tier_metric)) return FormatTierValue(*info, value);
      break;
  }
  return std::to_string(value);
}

Verdict Evaluate(const Objective& o, const Observations& obs) {
  double observed = 0;
  switch (o.metric) {
    case Metric::kPercentile:
    case Metric::kMax:
    case Metric::kMin:
    case Metric::kMean:
      if (obs.requests <= 0) return Missing(o, "no requests");
      if (!HasValues(obs.response_time_us)) return Missing(o, "no responses");
      observed = LatencyOf(o, *obs.response_time_us);
      break;
    case Metric::kErrorRate:
    case Metric::kAvailability:
      if (obs.requests <= 0) return Missing(o, "no requests");
      observed = static_cast<double>(obs.errors) / static_cast<double>(obs.requests);
      if (o.metric == Metric::kAvailability) observed = 1 - observed;
      break;
    case Metric::kRps:
      if (obs.requests <= 0) return Missing(o, "no requests");
      observed = obs.achieved_rps;
      break;
    case Metric::kPercentileDrift:
      if (auto why = DriftNotMeasured(obs)) return Missing(o, *why);
      if (!HasValues(obs.first_window_us)) return Missing(o, "not measured: no response in the first window");
      if (!HasValues(obs.last_window_us)) return Missing(o, "not measured: no response in the last window");
      observed = Drift(LatencyOf(o, *obs.first_window_us), LatencyOf(o, *obs.last_window_us));
      break;
    case Metric::kErrorRateDrift:
      if (auto why = DriftNotMeasured(obs)) return Missing(o, *why);
      observed = Drift(obs.first_window_error_rate, obs.last_window_error_rate);
      break;
    case Metric::kTier:
      return Missing(o, "a tier metric: judged by EvaluateTier");
  }
  return Verdict{o.expr, observed, FormatObjectiveValue(o, observed), Holds(observed, o.op, o.threshold)};
}

}  // namespace headroom::slo
