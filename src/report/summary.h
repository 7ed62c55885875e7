// Human summary of a run for the terminal (plain text, no control characters).
#pragma once
#include <string>

#include "report/results.h"

namespace headroom::report {

std::string FormatSummary(const Results& r);
// One line for a latency histogram: "p50 1.20ms  p90 ...  max ...  mean ...".
std::string LatencyLine(const Histogram& h);

}  // namespace headroom::report
