// HdrHistogram interval log (.hlog): the per-second response-time histograms of a run in the text
// format that HdrHistogram's log tools read (HistogramLogReader, HistogramLogProcessor, and the C, Go,
// Python and JavaScript ports).
//
// Written piece by piece while a run goes on (so per-second histograms go to disk instead of
// staying in memory), in this order:
//   HlogHeader:
//     #[headroom <version> interval log: <scenario or target>]
//     #[Histogram log format version 1.3]
//     #[StartTime: <run start, epoch seconds, 3 decimals> (seconds since epoch), <UTC date>]
//     #[BaseTime: <same> (seconds since epoch)]
//     "StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"
//   then for each phase that runs, HlogPhaseComment before that phase's interval lines:
//     #[Phase <name>: from <offset_s>s <kind>]
//   and HlogIntervalLine per second of the phase:
//     <start s>,<length s>,<max ms>,<V2 compressed base64 histogram>
// Timestamps are seconds relative to BaseTime (the run start) with 3 decimals. Histogram values are
// microseconds, so Interval_Max is the interval's max divided by the max-value unit ratio 1000
// (milliseconds, the conventional unit of that column). Names and kinds are kept on one line
// (CR and LF become spaces).
// Thread-safety: pure functions.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "core/histogram.h"
#include "core/status.h"
#include "report/results.h"

namespace headroom::report {

inline constexpr double kHlogMaxValueUnitRatio = 1000.0;  // histogram unit (us) per Interval_Max unit (ms)

// The lines of the layout above; each returned string ends with a newline. `payload` is the
// interval's histogram as Histogram::EncodeCompressedBase64 writes it (an empty histogram for a
// second in which nothing completed).
std::string HlogHeader(const std::string& tool_version, const std::string& title, int64_t started_at_us);
std::string HlogPhaseComment(const std::string& name, const std::string& kind, double offset_s);
std::string HlogIntervalLine(double start_s, double length_s, int64_t max_us, const std::string& payload);

struct HlogInterval {
  std::string tag;        // from an optional leading "Tag=<name>," field; "" when absent
  double start_s = 0;     // as written: relative to the log's BaseTime when the log has one
  double length_s = 0;
  double max = 0;         // the Interval_Max column as written (ms for headroom's logs)
  Histogram histogram;
};

// Reads interval lines, skipping blank lines, '#' comments and the legend line. Accepts LF or CRLF
// line ends and an optional "Tag=..." first field. An unreadable line is an error naming its line
// number (one line of text).
Result<std::vector<HlogInterval>> ParseHlog(std::string_view text);

}  // namespace headroom::report
