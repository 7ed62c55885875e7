// SLO expressions: parsing `<metric> <op> <threshold>` strings (as written after `--slo` or in a
// scenario's `slos:` list) and judging them against what a run measured.
//
//   p95 < 300ms     p99.9 <= 1s     max < 2s     mean < 50ms     min >= 1us
//   error_rate < 0.5%     availability >= 99.9%     rps >= 1000     rps >= 60000/min
//   p95_drift < 20%       error_rate_drift < 50%    checkout.p95 < 200ms (request "checkout" only)
//
// The full syntax is documented in docs/slo.md. All functions are pure and thread-safe.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "core/histogram.h"
#include "core/status.h"

namespace headroom::slo {

enum class Metric {
  kPercentile,       // response-time percentile `pNN[.N]`; threshold in microseconds
  kMax,              // largest response time; us
  kMin,              // smallest response time; us
  kMean,             // mean response time; us
  kErrorRate,        // errors / requests; fraction (0.005 for 0.5%)
  kAvailability,     // 1 - errors / requests; fraction
  kRps,              // achieved requests per second
  kPercentileDrift,  // relative change of a percentile, first window -> last window; fraction
  kErrorRateDrift,   // relative change of the error rate, first window -> last window; fraction
};

enum class Op { kLt, kLe, kGt, kGe };

struct Objective {
  std::string expr;        // the expression as written, surrounding whitespace removed
  std::string request;     // request name from a `name.` prefix; empty = every request in scope
  Metric metric = Metric::kPercentile;
  double percentile = 0;   // kPercentile / kPercentileDrift: in (0, 100]; otherwise 0
  Op op = Op::kLt;
  // Latency thresholds in microseconds, error rate / availability / drift as fractions
  // (0.5% -> 0.005, 20% -> 0.2), rps per second.
  double threshold = 0;
};

// Parses one expression. Whitespace around the operator is optional ("p95<300ms" is fine); the
// threshold follows the units grammar of core/units.h (no space between number and unit).
// Errors are one line naming what is wrong, with a hint; they do not repeat the expression
// (callers prefix it with the flag or file position).
Result<Objective> ParseObjective(std::string_view expr);

// What a run measured for one scope (whole run, a phase, or one request name). Pointers are not
// owned and may be null (= nothing measured).
struct Observations {
  const Histogram* response_time_us = nullptr;
  int64_t requests = 0;
  int64_t errors = 0;
  double achieved_rps = 0;
  const Histogram* first_window_us = nullptr;  // for drift: first and last measurement windows
  const Histogram* last_window_us = nullptr;
  double first_window_error_rate = 0, last_window_error_rate = 0;
};

struct Verdict {
  std::string expr;
  double observed = 0;        // in the objective's unit (us, fraction, per second)
  std::string observed_text;  // human text: "312.40ms", "0.62%", "1,234/s", "+12.5%", or why nothing was observed
  bool pass = false;
};

// Judges `o` against `obs`. An objective with nothing to judge fails: zero requests fails every
// latency, error-rate, availability and rps SLO; a missing or empty window fails a drift SLO. In
// that case observed is 0 and observed_text says what was missing. Comparisons treat values within
// a relative 1e-9 of the threshold as equal (so 0.5% of 1000 requests is exactly 0.5%).
Verdict Evaluate(const Objective& o, const Observations& obs);

// Formats `value`, given in the objective's unit, the way Verdict::observed_text does:
// latency "312.40ms", rates and availability "0.62%", drift "+12.5%", rps "1,234/s".
std::string FormatObjectiveValue(const Objective& o, double value);

// "p95", "checkout.error_rate", "p99.9_drift": the metric as written in the expression.
std::string MetricName(const Objective& o);

}  // namespace headroom::slo
