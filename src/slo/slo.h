// SLO expressions: parsing `<metric> <op> <threshold>` strings (as written after `--slo` or in a
// scenario's `slos:` list) and judging them against what a run measured.
//
//   p95 < 300ms     p99.9 <= 1s     max < 2s     mean < 50ms     min >= 1us
//   error_rate < 0.5%     availability >= 99.9%     rps >= 1000     rps >= 60000/min
//   p95_drift < 20%       error_rate_drift < 50%    checkout.p95 < 200ms (request "checkout" only)
//   cache.hit_ratio > 80%   db.statement_mean < 50ms   db.seq_scan_rows < 1000/s   app.cpu < 70%
//   (metrics of a watched tier: TIER.METRIC, see TierMetrics() and docs/slo.md)
//
// The full syntax is documented in docs/slo.md. All functions are pure and thread-safe.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

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
  kTier,             // a metric of a watched tier (Objective::tier, Objective::tier_metric)
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
  // kTier: in the tier metric's unit (TierMetricInfo::unit).
  double threshold = 0;
  std::string tier;         // kTier: the tier's name ("db")
  std::string tier_metric;  // kTier: the metric's name in TierMetrics() ("statement_mean")
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
  // Requests that ended (ok + errors) in each window: a drift SLO is measured only when both are > 0.
  int64_t first_window_requests = 0, last_window_requests = 0;
};

struct Verdict {
  std::string expr;
  double observed = 0;        // in the objective's unit (us, fraction, per second)
  std::string observed_text;  // human text: "312.40ms", "0.62%", "1,234/s", "+12.5%", or why nothing was observed
  bool pass = false;
};

// Judges `o` against `obs`. An objective with nothing to judge fails: zero requests fails every
// latency, error-rate, availability and rps SLO; every drift SLO fails as "not measured: ..." when
// no request ended in the first or the last window (and a percentile drift also when a window has no
// response time). In that case observed is 0 and observed_text says what was missing. Comparisons treat values within
// a relative 1e-9 of the threshold as equal (so 0.5% of 1000 requests is exactly 0.5%).
Verdict Evaluate(const Objective& o, const Observations& obs);

// Formats `value`, given in the objective's unit, the way Verdict::observed_text does:
// latency "312.40ms", rates and availability "0.62%", drift "+12.5%", rps "1,234/s".
std::string FormatObjectiveValue(const Objective& o, double value);

// "p95", "checkout.error_rate", "p99.9_drift": the metric as written in the expression.
std::string MetricName(const Objective& o);

// ---------------------------------------------------------------------------------------------
// Tier metrics: what the watched tiers did during the scope (docs/slo.md lists them)
// ---------------------------------------------------------------------------------------------

enum class TierUnit {
  kRatio,         // fraction; thresholds are percentages ("70%")
  kPerSecond,     // thresholds are rates ("1000/s") or plain numbers
  kCount,         // plain numbers
  kBytes,         // sizes ("512MiB")
  kMilliseconds,  // durations ("50ms"); the collected value is in milliseconds
  kSeconds,       // durations ("1s"); the collected value is in seconds
};

// How one source kind provides a tier metric from its window summary.
enum class TierStat {
  kMean,           // mean of the samples
  kMin,            // smallest sample
  kMax,            // largest sample
  kTotalQuotient,  // total(metric) / total(divisor): both are rates; e.g. time per call
};

struct TierMetricSource {
  constexpr TierMetricSource(std::string_view kind, std::string_view name, TierStat how = TierStat::kMean,
                             std::string_view divide_by = {})
      : source_kind(kind), metric(name), stat(how), divisor(divide_by) {}
  std::string_view source_kind;  // "host", "process", "prometheus", "postgres", "redis"
  std::string_view metric;       // the collected metric's name
  TierStat stat = TierStat::kMean;
  std::string_view divisor;      // kTotalQuotient only
};

struct TierMetricInfo {
  std::string_view name;  // as written after "TIER."
  TierUnit unit = TierUnit::kCount;
  std::string_view description;
  // Tried in order: the first source kind the tier watches provides the value.
  std::vector<TierMetricSource> sources;
};

// Every tier metric an SLO can name. Immutable.
std::span<const TierMetricInfo> TierMetrics();
// The entry named `name`, or null.
const TierMetricInfo* FindTierMetric(std::string_view name);

struct WatchedTier {
  std::string name;
  std::vector<std::string> source_kinds;  // "postgres", "process", ...
};

// Checks a kTier objective against the tiers being watched: the tier must be watched and one of
// its sources must provide the metric. Errors are one line with a did-you-mean when one is close.
// Other objectives pass.
Status ValidateTierObjective(const Objective& o, std::span<const WatchedTier> tiers);

// A tier metric's window aggregates, as the watcher keeps them.
struct TierValues {
  int64_t samples = 0;
  double mean = 0, min = 0, max = 0, total = 0;
};
// Looks up metric `metric` of the first source of kind `source_kind` in tier `tier`; nullopt
// when nothing was measured.
using TierLookup =
    std::function<std::optional<TierValues>(std::string_view tier, std::string_view source_kind, std::string_view metric)>;

// Judges a kTier objective. Nothing measured (the source failed or the tier did not run in the
// scope) fails, with observed_text saying so, like the other metrics.
Verdict EvaluateTier(const Objective& o, const TierLookup& lookup);

}  // namespace headroom::slo
