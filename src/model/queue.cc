// M/M/c through the Erlang B recursion B(k) = a*B(k-1) / (k + a*B(k-1)), which stays within
// [0, 1] for any c; the textbook Erlang C sum of a^k/k! overflows long before c = 200.
//
// Time in system T = W + S with S ~ Exp(mu) and W = 0 with probability 1 - C, otherwise
// W ~ Exp(theta), theta = c*mu - lambda. So P(T > t) = (1-C)*e^(-mu t) + C*P(Exp(theta)+Exp(mu) > t),
// and percentiles follow by bisection on that closed-form tail.
#include <algorithm>
#include <cmath>
#include <string>

#include "model/model.h"

namespace headroom::model {

double ErlangB(int servers, double offered_load) {
  double b = 1.0;
  for (int k = 1; k <= servers; ++k) b = offered_load * b / (k + offered_load * b);
  return b;
}

double ErlangC(int servers, double offered_load) {
  if (offered_load >= servers) return 1.0;
  double b = ErlangB(servers, offered_load);
  return servers * b / (servers - offered_load * (1.0 - b));
}

double MmcResponseTail(const MmcInput& input, double t) {
  return MmcResponseTailGivenWait(input, ErlangC(input.servers, input.arrival_rate * input.service_time), t);
}

double MmcResponseTailGivenWait(const MmcInput& input, double c_wait, double t) {
  if (t <= 0) return 1.0;
  double mu = 1.0 / input.service_time;
  double a = input.arrival_rate * input.service_time;
  double theta = (input.servers - a) * mu;
  double no_wait = std::exp(-mu * t);
  double hypo;  // P(Exp(theta) + Exp(mu) > t)
  if (std::fabs(theta - mu) < 1e-9 * mu) {
    hypo = (1.0 + mu * t) * std::exp(-mu * t);
  } else {
    hypo = (theta * std::exp(-mu * t) - mu * std::exp(-theta * t)) / (theta - mu);
  }
  return (1.0 - c_wait) * no_wait + c_wait * hypo;
}

double MmcResponseQuantile(const MmcInput& input, double q) {
  // Erlang C once: the bisection below only moves t.
  const double c_wait = ErlangC(input.servers, input.arrival_rate * input.service_time);
  auto tail = [&](double t) { return MmcResponseTailGivenWait(input, c_wait, t); };
  double target_tail = 1.0 - q;
  double hi = input.service_time;
  while (tail(hi) > target_tail && hi < 1e300) hi *= 2;
  double lo = 0;
  for (int i = 0; i < 200 && hi - lo > 1e-12 * hi; ++i) {
    double mid = 0.5 * (lo + hi);
    if (tail(mid) > target_tail) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return hi;
}

Result<MmcResult> SolveMmc(const MmcInput& input) {
  if (input.servers < 1) return Fail("queue: --servers must be >= 1");
  if (!(input.service_time > 0) || !std::isfinite(input.service_time))
    return Fail("queue: --service-time must be > 0");
  if (!(input.arrival_rate >= 0) || !std::isfinite(input.arrival_rate))
    return Fail("queue: --arrival-rate must be >= 0");
  double a = input.arrival_rate * input.service_time;
  double rho = a / input.servers;
  if (rho >= 1.0) {
    return Fail("queue: unstable, utilization " + std::to_string(rho) +
                " >= 1 (arrival-rate x service-time must be below servers)");
  }
  MmcResult r;
  r.utilization = rho;
  r.wait_probability = ErlangC(input.servers, a);
  r.wait_mean = r.wait_probability * input.service_time / (input.servers - a);
  r.response_mean = r.wait_mean + input.service_time;
  r.response_p95 = MmcResponseQuantile(input, 0.95);
  r.response_p99 = MmcResponseQuantile(input, 0.99);
  return r;
}

double MaxUtilizationForQuantile(int servers, double service_time, double quantile,
                                 double target) {
  if (servers < 1 || !(service_time > 0) || !(target > 0)) return 0;
  auto quantile_at = [&](double rho) {
    MmcInput in{servers, rho * servers / service_time, service_time};
    return MmcResponseQuantile(in, quantile);
  };
  // An idle system still takes S*ln(1/(1-q)) at the q-quantile.
  if (quantile_at(0.0) > target) return 0;
  double lo = 0, hi = 0.9999;
  if (quantile_at(hi) <= target) return hi;
  while (hi - lo > 1e-5) {
    double mid = 0.5 * (lo + hi);
    if (quantile_at(mid) <= target) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return std::floor(lo * 1e4) / 1e4;
}

}  // namespace headroom::model
