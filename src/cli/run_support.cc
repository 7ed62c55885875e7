#include "cli/run_support.h"

#include <unistd.h>

#include <cstdio>

#include "core/clock.h"
#include "core/units.h"
#include "core/version.h"

namespace headroom::cli {

SeriesCollector::SeriesCollector(std::string label, double total_s, bool live)
    : label_(std::move(label)), total_s_(total_s), live_(live && isatty(STDERR_FILENO)) {}

void SeriesCollector::OnSecond(const engine::SecondStats& s) {
  report::SecondRow row;
  row.second = s.second;
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
  row.histogram = h.EncodeCompressedBase64();
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

report::Results ToResults(const engine::RunStats& stats, const engine::Config& config, std::string target,
                          std::string method, std::vector<report::SecondRow> series) {
  report::Results r;
  r.tool_version = HEADROOM_VERSION;
  r.started_at_us = WallNowUs() - int64_t(stats.elapsed_s * 1e6);
  r.target = std::move(target);
  r.method = std::move(method);
  bool open = stats.model == engine::Model::kOpen;
  r.model = open ? "open" : "closed";
  r.arrival = config.arrival == engine::Arrival::kPoisson ? "poisson" : "uniform";
  r.threads = stats.threads;
  r.connections = stats.connections;
  r.duration_s = double(config.duration_ns) / 1e9;
  if (open) {
    r.duration_s = 0;
    for (const auto& s : config.rate_profile) r.duration_s += double(s.duration_ns) / 1e9;
  }
  // Rates are per second of the planned duration (the drain after it only lets stragglers finish),
  // or of the elapsed time when the run was interrupted.
  double span = stats.interrupted ? std::min(stats.elapsed_s, r.duration_s) : r.duration_s;
  r.elapsed_s = stats.elapsed_s;
  r.interrupted = stats.interrupted;
  r.bytes_read = stats.counters.bytes_read;
  r.bytes_written = stats.counters.bytes_written;
  FillSection(r.overall, stats.counters, stats.response_time_us, &stats.service_time_us, span);
  if (open) r.overall.requested_rps = stats.requested_rps;
  for (const engine::RequestStats& rs : stats.requests) {
    report::Section s;
    s.name = rs.name;
    FillSection(s, rs.counters, rs.response_time_us, nullptr, span);
    r.requests.push_back(std::move(s));
  }
  report::Generator& g = r.generator;
  g.pacer_lateness_us = stats.pacer_lateness_us;
  g.delayed = stats.counters.delayed;
  g.max_queue_depth = stats.counters.max_queue_depth;
  g.unfinished = stats.counters.unfinished;
  g.connections_opened = stats.counters.connections_opened;
  g.cpu_user_s = stats.cpu_user_s;
  g.cpu_system_s = stats.cpu_system_s;
  g.rss_bytes = stats.rss_bytes;
  r.series = std::move(series);
  return r;
}

Result<std::vector<slo::Objective>> ParseObjectives(const std::vector<std::string>& exprs) {
  std::vector<slo::Objective> out;
  for (const std::string& e : exprs) {
    auto o = slo::ParseObjective(e);
    if (!o) return Fail("--slo '" + e + "': " + o.error().message);
    out.push_back(std::move(*o));
  }
  return out;
}

std::vector<report::SloResult> EvaluateObjectives(const std::vector<slo::Objective>& objectives,
                                                  const report::Section& overall,
                                                  const std::vector<report::Section>& by_name) {
  std::vector<report::SloResult> out;
  for (const slo::Objective& o : objectives) {
    const report::Section* s = &overall;
    if (!o.request.empty()) {
      s = nullptr;
      for (const report::Section& r : by_name) {
        if (r.name == o.request) s = &r;
      }
    }
    if (s == nullptr) {
      out.push_back({o.expr, 0, "no request named '" + o.request + "'", false});
      continue;
    }
    slo::Observations obs;
    obs.response_time_us = &s->response_time_us;
    obs.requests = s->requests_total;
    obs.errors = s->requests_errors;
    obs.achieved_rps = s->achieved_rps;
    slo::Verdict v = slo::Evaluate(o, obs);
    out.push_back({v.expr, v.observed, v.observed_text, v.pass});
  }
  return out;
}

int GateExitCode(const report::Section& overall) {
  if (overall.requests_ok == 0) return 1;
  for (const report::SloResult& s : overall.slo) {
    if (!s.pass) return 1;
  }
  return 0;
}

}  // namespace headroom::cli
