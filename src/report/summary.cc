#include "report/summary.h"

#include <cstdio>
#include <sstream>

#include "core/units.h"

namespace headroom::report {
namespace {

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

void Row(std::ostringstream& out, const char* label, const std::string& text) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "  %-15s", label);
  out << buf << text << "\n";
}

std::string GeneratorLine(const Results& r) {
  const Generator& g = r.generator;
  std::string s;
  if (r.model == "open") {
    s += "pacer late p50 " + FormatDurationUs(double(g.pacer_lateness_us.ValueAtPercentile(50))) + " p99 " +
         FormatDurationUs(double(g.pacer_lateness_us.ValueAtPercentile(99))) + " max " +
         FormatDurationUs(double(g.pacer_lateness_us.Count() ? g.pacer_lateness_us.Max() : 0)) + "; ";
    s += FormatCount(double(g.delayed)) + " waited for a connection (max queue " +
         FormatCount(double(g.max_queue_depth)) + "); ";
  }
  s += "cpu " + Fixed(g.cpu_user_s, 2) + "s user " + Fixed(g.cpu_system_s, 2) + "s sys; rss " +
       FormatBytes(double(g.rss_bytes));
  if (g.unfinished > 0) s += "; " + FormatCount(double(g.unfinished)) + " unfinished at the end";
  return s;
}

}  // namespace

std::string LatencyLine(const Histogram& h) {
  if (h.Count() == 0) return "(no responses)";
  std::string s;
  const std::pair<const char*, double> points[] = {{"p50", 50}, {"p90", 90}, {"p95", 95}, {"p99", 99}, {"p99.9", 99.9}};
  for (const auto& [name, p] : points) {
    s += std::string(name) + " " + FormatDurationUs(double(h.ValueAtPercentile(p))) + "  ";
  }
  s += "max " + FormatDurationUs(double(h.Max())) + "  mean " + FormatDurationUs(h.Mean());
  return s;
}

std::string FormatSummary(const Results& r) {
  std::ostringstream out;
  const Section& o = r.overall;
  std::string model = r.model == "open" ? "open model (" + r.arrival + " arrivals), up to " +
                                              std::to_string(r.connections) + " connections"
                                        : "closed model, " + std::to_string(r.connections) + " connections";
  out << "headroom run " << r.target << "\n";
  Row(out, "model", model + ", " + std::to_string(r.threads) + " thread(s), " + Fixed(r.elapsed_s, 1) + "s" +
                        (r.interrupted ? " (interrupted)" : ""));
  double err_pct = o.requests_total ? 100.0 * double(o.requests_errors) / double(o.requests_total) : 0;
  Row(out, "requests", FormatCount(double(o.requests_total)) + " total, " + FormatCount(double(o.requests_ok)) +
                           " ok, " + FormatCount(double(o.requests_errors)) + " errors (" + Fixed(err_pct, 2) + "%)");
  std::string rate = "achieved " + Fixed(o.achieved_rps, 1) + "/s";
  if (o.requested_rps) rate = "requested " + Fixed(*o.requested_rps, 1) + "/s, " + rate;
  Row(out, "rate", rate);
  Row(out, "response time", LatencyLine(o.response_time_us));
  Row(out, "service time", LatencyLine(o.service_time_us));
  if (r.model == "open") {
    out << "                 (response time = completion - intended start; service time = completion - write)\n";
  }
  if (!o.errors_by_class.empty()) {
    std::string e;
    for (const auto& [k, v] : o.errors_by_class) e += k + " " + FormatCount(double(v)) + "  ";
    Row(out, "errors", e);
  }
  std::string codes;
  for (const auto& [k, v] : o.status_codes) codes += std::to_string(k) + " " + FormatCount(double(v)) + "  ";
  Row(out, "status codes", codes.empty() ? "(none)" : codes);
  Row(out, "bytes", "read " + FormatBytes(double(r.bytes_read)) + ", written " + FormatBytes(double(r.bytes_written)));
  Row(out, "connections", FormatCount(double(r.generator.connections_opened)) + " opened");
  Row(out, "generator", GeneratorLine(r));
  if (r.model == "open" && o.requests_total > 0) {
    const Generator& g = r.generator;
    bool late = g.pacer_lateness_us.ValueAtPercentile(99) > 1000;
    bool starved = double(g.delayed) > 0.01 * double(r.generator.pacer_lateness_us.Count());
    if (late) out << "  warning: the generator ran late (pacer p99 over 1ms): it may have limited this test\n";
    if (starved) {
      out << "  note: over 1% of requests waited for a connection; they were timed from their intended start"
             " (raise --connections if the server can take more)\n";
    }
  }
  if (r.requests.size() > 1) {
    out << "  per request:\n";
    for (const Section& s : r.requests) {
      out << "    " << s.name << ": " << FormatCount(double(s.requests_total)) << " req, "
          << FormatCount(double(s.requests_errors)) << " errors, " << LatencyLine(s.response_time_us) << "\n";
    }
  }
  if (!o.slo.empty()) {
    out << "  SLOs:\n";
    for (const SloResult& s : o.slo) {
      out << "    " << (s.pass ? "PASS  " : "FAIL  ") << s.expr << "  (observed " << s.observed_text << ")\n";
    }
  }
  return out.str();
}

}  // namespace headroom::report
