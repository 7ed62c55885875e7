// Parsing helpers for tier metrics, shared by parse.cc and tier_metrics.cc. Private to src/slo.
#pragma once
#include <string>
#include <string_view>

#include "slo/slo.h"

namespace headroom::slo {

// The threshold of tier metric `info` from its text, in the metric's unit.
Result<double> ParseTierThreshold(const TierMetricInfo& info, std::string_view text);
// "TIER.NAME" for the tier metric name closest to `metric`, or "".
std::string SuggestTierMetric(std::string_view tier, std::string_view metric);
// The text of `value` in the unit of tier metric `info`: "72.5%", "1,234/s", "41.20ms", "1.18MiB".
std::string FormatTierValue(const TierMetricInfo& info, double value);
// Whether `observed op threshold` holds, values within a relative 1e-9 counting as equal.
bool Holds(double observed, Op op, double threshold);

}  // namespace headroom::slo
