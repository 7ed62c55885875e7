// Parsing and formatting of the units users type: durations, rates, sizes, percentages.
// Parsers accept exactly "<number><unit>" with no space and return a one-line error with a
// hint otherwise ("300 ms" -> "write 300ms, without a space"). Thread-safe, no state.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace headroom {

// "500us", "300ms", "1.5s", "2m", "1h", "250ns". A bare number is an error (no unit).
Result<int64_t> ParseDurationNs(std::string_view text);
// "2000/s", "90000/min", "5/ms", "100/h" -> requests per second. "2000rps" also accepted.
Result<double> ParseRatePerSec(std::string_view text);
// "0.5%" -> 0.005. A bare number in [0,1] is NOT accepted: the % sign is required.
Result<double> ParsePercent(std::string_view text);
// "512", "16KiB", "4KB", "1MiB", "1GB" -> bytes.
Result<int64_t> ParseSizeBytes(std::string_view text);

// A wall-clock start time (headroom run --start-at): "2026-05-01T12:00:00Z" (RFC 3339 in UTC, or
// with a +HH:MM / -HH:MM offset; fractional seconds allowed), Unix seconds "1777636800", or
// "+30s" (a duration after now_us). Returns Unix epoch microseconds. Errors (one line, naming
// --start-at): anything else, a time more than kStartAtPastToleranceUs before now_us (it has
// passed), or more than a day after it (a unit mistake, most likely).
inline constexpr int64_t kStartAtPastToleranceUs = 2'000'000;
Result<int64_t> ParseStartAtUs(std::string_view text, int64_t now_us);
// Unix epoch microseconds as RFC 3339 UTC with milliseconds: "2026-05-01T12:00:00.000Z".
std::string FormatUtc(int64_t epoch_us);

// Human formatting: 1234us -> "1.23ms", 950 -> "950us", 2.5e6 -> "2.50s".
std::string FormatDurationUs(double us);
// 1234567 -> "1.18MiB".
std::string FormatBytes(double bytes);
// 12345.6 -> "12,346".
std::string FormatCount(double n);
// A relative change (drift) as a signed percentage with one decimal, the same in every output:
// 0.027253 -> "+2.7%", -0.03 -> "-3.0%", 0 (or anything that rounds to it) -> "0.0%",
// +infinity -> "+inf%", NaN -> "n/a".
std::string FormatDrift(double fraction);

}  // namespace headroom
