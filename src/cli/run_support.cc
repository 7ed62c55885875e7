#include "cli/run_support.h"

#include <unistd.h>

#include <cstdio>

#include "core/clock.h"
#include "core/units.h"
#include "core/version.h"

namespace headroom::cli {

SeriesCollector::SeriesCollector(std::string label, double total_s, bool live)
    : label_(std::move(label)), total_s_(total_s), live_(live && isatty(STDERR_FILENO)) {
  rows_.reserve(size_t(total_s) + 2);  // one row a second (plus the partial last): no regrowth mid-run
}

void SeriesCollector::OnSecond(const engine::SecondStats& s) {
  report::SecondRow row;
  row.second = s.second;
  row.span_s = s.span_s;
  const Histogram& h = s.response_time_us;
  row.intended = s.counters.intended;
  row.completed = s.counters.completed;
  row.ok = s.counters.ok;
  row.errors = s.counters.errors;
  row.p50_us = h.ValueAtPercentile(50);
  row.p90_us = h.ValueAtPercentile(90);
  row.p95_us = h.ValueAtPercentile(95);
  row.p99_us = h.ValueAtPercentile(99);
  row.max_us = h.Count() ? h.Max() : 0;
  row.mean_us = h.Count() ? h.Mean() : 0;
  rows_.push_back(std::move(row));
  if (!live_) return;
  const report::SecondRow& r = rows_.back();
  std::fprintf(stderr, "\r\033[K%s [%3llds/%.0fs] %8.0f req/s  p95 %-9s errors %lld", label_.c_str(),
               (long long)(s.second + 1), total_s_, double(r.completed), FormatDurationUs(double(r.p95_us)).c_str(),
               (long long)r.errors);
  std::fflush(stderr);
  printed_ = true;
}

void SeriesCollector::Finish() {
  if (printed_) std::fprintf(stderr, "\r\033[K");
  printed_ = false;
}

void FillSection(report::Section& section, const engine::Counters& c, const Histogram& response_us,
                 const Histogram* service_us, double elapsed_s) {
  section.requests_ok = c.ok;
  section.requests_errors = c.errors;
  section.requests_total = c.ok + c.errors;
  section.achieved_rps = elapsed_s > 0 ? double(c.completed) / elapsed_s : 0;
  section.response_time_us = response_us;
  if (service_us) section.service_time_us = *service_us;
  for (int i = 0; i < engine::kErrorClassCount; ++i) {
    if (c.by_class[i]) section.errors_by_class[engine::ErrorClassName(engine::ErrorClass(i))] = c.by_class[i];
  }
  for (size_t i = 0; i < c.status_codes.size(); ++i) {
    if (c.status_codes[i]) section.status_codes[int(i)] = c.status_codes[i];
  }
}

}  // namespace headroom::cli
