// The traffic curve. The daily shape is a raised cosine between the night's minimum
// (peak / daily_peak_factor) and the peak: smooth, so an autoscaler following it never sees a step
// that the plan did not announce as an event.
#include <algorithm>
#include <cmath>
#include <numbers>

#include "sim/sim.h"

namespace headroom::sim {

double DailyFactor(const TrafficShape& shape, double t_s) {
  const double low = 1.0 / shape.daily_peak_factor;
  const double hour = std::fmod(t_s, kDayS) / 3600.0;
  const double phase = 2 * std::numbers::pi * (hour - shape.peak_hour) / 24.0;
  return low + (1 - low) * 0.5 * (1 + std::cos(phase));
}

double NormalPeakAt(const TrafficShape& shape, double t_s) {
  if (shape.growth_monthly == 0) return shape.peak_rps;
  return shape.peak_rps * std::pow(1 + shape.growth_monthly, t_s / kMonthS);
}

double BaseRateAt(const TrafficShape& shape, double t_s) {
  const auto day = static_cast<size_t>(std::floor(t_s / kDayS));
  return NormalPeakAt(shape, t_s) * shape.weekly[day % 7] * DailyFactor(shape, t_s);
}

double EventStartS(const plan::EventSpec& e) { return (e.day - 1) * kDayS + e.at_s; }

double EventWeight(const plan::EventSpec& e, double t_s) {
  const double start = EventStartS(e);
  const double x = t_s - start;
  if (x < 0 || x >= e.duration_s + e.ramp_s) return 0;
  if (x < e.ramp_s) return x / e.ramp_s;
  if (x < e.duration_s) return 1;
  return 1 - (x - e.duration_s) / e.ramp_s;  // ramp_s > 0 here: x < duration + ramp
}

double OfferedRate(const TrafficShape& shape, double t_s) {
  const double base = BaseRateAt(shape, t_s);
  bool active = false;
  double rate = 0;
  for (const plan::EventSpec& e : shape.events) {
    const double w = EventWeight(e, t_s);
    if (w <= 0) continue;
    const double r = base + w * (e.multiple * NormalPeakAt(shape, t_s) - base);
    rate = active ? std::max(rate, r) : r;
    active = true;
  }
  return active ? rate : base;
}

}  // namespace headroom::sim
