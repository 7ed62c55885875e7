// Announced events: how far ahead to raise minReplicas, and to what. The lead time is what a
// raised minimum needs to become capacity: one sync to act on it plus the units' startup, rounded
// up to whole minutes with one minute of margin. The level is the lowest minReplicas at which the
// window around the event (an hour before to an hour after) has no broken minute and no errors,
// found by bisection (more replicas never serve less).
#include <algorithm>
#include <cmath>

#include "sim/sim.h"

namespace headroom::sim {

namespace {

bool WindowHolds(SimConfig c, const plan::EventSpec& e, const std::string& tier, int min_replicas, double lead_s) {
  const double start = EventStartS(e);
  c.start_s = std::max(0.0, start - 3600);
  c.period_s = (start + e.duration_s + e.ramp_s + 3600) - c.start_s;
  c.raises.push_back({tier, min_replicas, start - lead_s, start + e.duration_s + e.ramp_s});
  const Summary s = Simulate(c, nullptr);
  return s.minutes_slo_broken == 0 && s.errors < 0.5;
}

}  // namespace

std::vector<EventAdvice> AdviseForEvents(const SimConfig& config) {
  std::vector<EventAdvice> out;
  for (const plan::EventSpec& e : config.traffic.events) {
    for (const TierModel& t : config.tiers) {
      if (!t.hpa || t.hpa->metric != MetricKind::kUtilization) continue;
      EventAdvice a;
      a.event = e.name;
      a.tier = t.name;
      a.current_min = t.hpa->min_replicas;
      a.lead_s = std::ceil((t.hpa->sync_s + t.startup_s) / 60) * 60 + 60;
      int lo = t.hpa->min_replicas, hi = t.hpa->max_replicas;
      if (WindowHolds(config, e, t.name, lo, a.lead_s)) {
        a.min_replicas = lo;
        a.holds = true;
      } else if (!WindowHolds(config, e, t.name, hi, a.lead_s)) {
        a.min_replicas = hi;
        a.holds = false;
      } else {
        while (hi - lo > 1) {  // lo fails, hi holds
          const int mid = lo + (hi - lo) / 2;
          (WindowHolds(config, e, t.name, mid, a.lead_s) ? hi : lo) = mid;
        }
        a.min_replicas = hi;
        a.holds = true;
      }
      out.push_back(a);
    }
  }
  return out;
}

}  // namespace headroom::sim
