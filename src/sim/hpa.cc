// The HorizontalPodAutoscaler's reconciliation, as the Kubernetes documentation describes it
// (concepts/workloads/autoscaling/horizontal-pod-autoscale): the metric ratio with its tolerance,
// not-yet-ready pods counted at 0 % on a scale-up, the stabilization windows over past
// recommendations, then the behavior policies limiting the change per period, then min/max.
#include <algorithm>
#include <cmath>

#include "sim/sim.h"

namespace headroom::sim {

ScalingRules DefaultScaleUp() {
  return {0, plan::SelectPolicy::kMax, {{true, 100, 15}, {false, 4, 15}}};
}

ScalingRules DefaultScaleDown() { return {300, plan::SelectPolicy::kMax, {{true, 100, 15}}}; }

std::string CheckHpa(const HpaSpec& s) {
  std::string out;
  auto add = [&](const std::string& m) { out += (out.empty() ? "" : "\n") + m; };
  if (s.min_replicas < 1) add("minReplicas must be at least 1");
  if (s.max_replicas < s.min_replicas) add("maxReplicas " + std::to_string(s.max_replicas) +
                                           " is below minReplicas " + std::to_string(s.min_replicas));
  if (!(s.target > 0)) add("the target must be above 0");
  if (!(s.sync_s >= 1)) add("the sync period must be at least 1s");
  if (!(s.tolerance >= 0 && s.tolerance < 1)) add("the tolerance must be in [0%, 100%)");
  if (!(s.metric_lag_s >= 0)) add("the metric lag must not be negative");
  for (const ScalingRules* r : {&s.scale_up, &s.scale_down}) {
    const char* dir = r == &s.scale_up ? "scale_up" : "scale_down";
    if (!(r->stabilization_s >= 0 && r->stabilization_s <= 3600))
      add(std::string(dir) + ": stabilization must be 0s to 1h");
    if (r->policies.empty() && r->select != plan::SelectPolicy::kDisabled)
      add(std::string(dir) + ": at least one policy");
    for (const ScalingPolicy& p : r->policies) {
      if (p.value < 1) add(std::string(dir) + ": a policy value must be at least 1");
      if (!(p.period_s > 0 && p.period_s <= 1800))
        add(std::string(dir) + ": a policy period must be above 0s and at most 30m");
    }
  }
  return out;
}

int Hpa::RawDesired(int current, int ready, double metric) const {
  if (spec_.metric == MetricKind::kAverageValue) {
    // External metric with an average value: the total over the target per replica.
    const double ratio = metric / (spec_.target * current);
    if (std::fabs(ratio - 1) <= spec_.tolerance) return current;
    return static_cast<int>(std::ceil(metric / spec_.target - 1e-9));
  }
  if (ready <= 0) return current;  // no pod reports a metric: the controller does nothing
  const double ratio = metric / spec_.target;  // over the ready pods only
  if (std::fabs(ratio - 1) <= spec_.tolerance) return current;
  if (ready == current || ratio < 1) {
    // Scale down (or all pods ready): pods not yet ready are set aside.
    return static_cast<int>(std::ceil(ratio * ready - 1e-9));
  }
  // Scale up with pods not yet ready: they count as using 0 % of the target, which damps the
  // step; if that reverses the direction or falls within the tolerance, nothing changes.
  const double damped = metric * ready / (spec_.target * current);
  if (damped <= 1 || std::fabs(damped - 1) <= spec_.tolerance) return current;
  return static_cast<int>(std::ceil(damped * current - 1e-9));
}

int Hpa::Stabilize(double now_s, int current, int raw) {
  const double keep = std::max(spec_.scale_up.stabilization_s, spec_.scale_down.stabilization_s);
  while (!recommendations_.empty() && recommendations_.front().first <= now_s - keep)
    recommendations_.pop_front();
  // Scale up to the lowest recommendation of the up window, down to the highest of the down window.
  int up = raw, down = raw;
  for (const auto& [t, rec] : recommendations_) {
    if (t > now_s - spec_.scale_up.stabilization_s) up = std::min(up, rec);
    if (t > now_s - spec_.scale_down.stabilization_s) down = std::max(down, rec);
  }
  recommendations_.emplace_back(now_s, raw);
  int out = current;
  if (out < up) out = up;
  if (out > down) out = down;
  return out;
}

int Hpa::ChangeIn(const std::deque<std::pair<double, int>>& events, double now_s,
                  double period_s) const {
  int sum = 0;
  for (const auto& [t, n] : events)
    if (t + period_s > now_s) sum += n;
  return sum;
}

int Hpa::ScaleUpLimit(double now_s, int current) const {
  const ScalingRules& r = spec_.scale_up;
  if (r.select == plan::SelectPolicy::kDisabled) return current;
  bool first = true;
  int limit = current;
  for (const ScalingPolicy& p : r.policies) {
    // The replicas at the start of the policy's period: now, less what was added in it, plus
    // what was removed in it.
    const int start = current - ChangeIn(ups_, now_s, p.period_s) + ChangeIn(downs_, now_s, p.period_s);
    const int proposed = p.percent
        ? static_cast<int>(std::ceil(start * (1 + p.value / 100.0) - 1e-9))
        : start + p.value;
    if (first) limit = proposed;
    else if (r.select == plan::SelectPolicy::kMax) limit = std::max(limit, proposed);
    else limit = std::min(limit, proposed);
    first = false;
  }
  return limit;
}

int Hpa::ScaleDownLimit(double now_s, int current) const {
  const ScalingRules& r = spec_.scale_down;
  if (r.select == plan::SelectPolicy::kDisabled) return current;
  bool first = true;
  int limit = current;
  for (const ScalingPolicy& p : r.policies) {
    const int start = current + ChangeIn(downs_, now_s, p.period_s) - ChangeIn(ups_, now_s, p.period_s);
    // Percent removes at most value % of the period's start, rounded up (80 x 10 % -> 8; 72 -> 8).
    const int proposed = p.percent
        ? static_cast<int>(std::floor(start * (1 - p.value / 100.0) + 1e-9))
        : start - p.value;
    // Max selects the policy allowing the largest change, i.e. the fewest replicas.
    if (first) limit = proposed;
    else if (r.select == plan::SelectPolicy::kMax) limit = std::min(limit, proposed);
    else limit = std::max(limit, proposed);
    first = false;
  }
  return limit;
}

int Hpa::Sync(double now_s, int current, int ready, double metric) {
  const double keep = 1800;  // the longest policy period
  while (!ups_.empty() && ups_.front().first + keep <= now_s) ups_.pop_front();
  while (!downs_.empty() && downs_.front().first + keep <= now_s) downs_.pop_front();
  int desired;
  if (current > spec_.max_replicas) {
    desired = spec_.max_replicas;
  } else if (current < spec_.min_replicas) {
    desired = spec_.min_replicas;
  } else {
    last_raw_ = RawDesired(current, ready, metric);
    desired = Stabilize(now_s, current, last_raw_);
    if (desired > current) {
      const int limit = std::max(ScaleUpLimit(now_s, current), current);
      desired = std::min(desired, std::min(spec_.max_replicas, limit));
    } else if (desired < current) {
      const int limit = std::min(ScaleDownLimit(now_s, current), current);
      desired = std::max(desired, std::max(spec_.min_replicas, limit));
    }
    desired = std::clamp(desired, spec_.min_replicas, spec_.max_replicas);
  }
  if (desired > current) ups_.emplace_back(now_s, desired - current);
  if (desired < current) downs_.emplace_back(now_s, current - desired);
  return desired;
}

}  // namespace headroom::sim
