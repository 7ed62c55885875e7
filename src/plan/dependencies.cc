// External dependencies with rate limits (a third-party API at 100 req/s): when the phase's
// demand reaches the limit, and the client settings that keep a limited API from taking the
// service down with it: a client-side rate limiter, a circuit breaker, retries with backoff, a
// bulkhead, and a queue for the calls above the limit.
#include <algorithm>
#include <cmath>

#include "plan/planner_internal.h"

namespace headroom::plan {

void FillDependencies(const Model& m, const Loads& l, PhaseResult& ph) {
  const PlanInput& in = m.in;
  double peak_app = l.app_rps / in.safety_factor;  // app requests at the phase's peak demand
  double flash_app = peak_app * in.traffic.flash_sale_multiple;
  for (const PlanInput::Dependency& d : in.dependencies) {
    if (d.calls_per_request <= 0 || d.limit_rps <= 0) continue;
    double peak_calls = peak_app * d.calls_per_request;
    double flash_calls = flash_app * d.calls_per_request;
    // Calls grow with demand: today's peak calls x multiple = limit.
    double today_calls = peak_calls / ph.multiplier;
    double reach = d.limit_rps / today_calls;
    std::string line = d.name + ": " + Num(peak_calls) + " calls/s at the phase's peak (" +
                       Num(peak_app) + " app req/s x " + Num(d.calls_per_request) + ")" +
                       (in.traffic.flash_sale_multiple > 1
                            ? ", " + Num(flash_calls) + " calls/s in the flash sale"
                            : "") +
                       ", against a limit of " + Num(d.limit_rps) + "/s (" +
                       Pct(peak_calls / d.limit_rps) + " at peak). ";
    Figure month = reach <= 1 ? Figure{0, "already"} : Figure{};
    if (reach > 1) {
      double g = in.traffic.growth_monthly;
      month = g > 0 ? Figure{std::log(reach) / std::log(1 + g), ""} : Figure{-1, ""};
    }
    line += "Peak demand reaches the limit at " + Num(reach) + "x today's peak" +
            (month.value < 0 ? " (never at the stated growth)"
                             : month.value == 0 ? " (already)" : " (month " + Num(month.value) + ")") +
            ". ";
    double bucket = std::floor(0.9 * d.limit_rps);
    double concurrent = std::ceil(d.limit_rps * d.latency_ms / 1e3 * 2);
    line += "Set: a client-side token bucket at " + Num(bucket) + " calls/s (90 % of the limit) "
            "with burst " + Num(std::max(1.0, std::floor(bucket / 10))) + "; a bulkhead of " +
            Num(concurrent) + " concurrent calls (limit x " + Num(d.latency_ms) + "ms p95 x 2); "
            "timeout " + Num(std::max(2 * d.latency_ms, 100.0)) + "ms; retries: at most 2, "
            "exponential backoff from 100ms with full jitter, capped at 2s, honouring 429 "
            "Retry-After; circuit breaker: open when 50 % of at least 20 calls in 10s fail or "
            "time out, half-open after 30s with 5 trial calls";
    double over = std::max(flash_calls, peak_calls) - bucket;
    if (over > 0) {
      double backlog = over * in.gate.spike_hold_s;
      line += "; above the limit (" + Num(over) + " calls/s over it" +
              (flash_calls > peak_calls ? " in the flash sale" : "") +
              ") make the calls asynchronous: enqueue them, drain at " + Num(bucket) +
              " calls/s, and show cached or pending results; a " + Num(in.gate.spike_hold_s) +
              "s spike leaves " + Num(backlog) + " calls queued, drained in " +
              Num(backlog / std::max(bucket - std::min(peak_calls, bucket * 0.99), 1e-9)) +
              "s at peak, or negotiate a higher limit before month " +
              Num(std::max(0.0, month.value)) + ".";
    } else {
      line += ".";
    }
    ph.dependencies.push_back(line);
  }
}

}  // namespace headroom::plan
