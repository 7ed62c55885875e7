#include "report/summary.h"

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <string_view>
#include <vector>

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
  if (r.model == LoadModel::kOpen) {
    s += "pacer late p50 " + FormatDurationUs(double(g.pacer_lateness_us.ValueAtPercentile(50))) + " p99 " +
         FormatDurationUs(double(g.pacer_lateness_us.ValueAtPercentile(99))) + " max " +
         FormatDurationUs(double(g.pacer_lateness_us.Count() ? g.pacer_lateness_us.Max() : 0)) + "; ";
    s += FormatCount(double(g.delayed)) + " waited for a connection (max queue " +
         FormatCount(double(g.max_queue_depth)) + "); ";
  }
  s += "io " + g.io + "; cpu " + Fixed(g.cpu_user_s, 2) + "s user " + Fixed(g.cpu_system_s, 2) + "s sys; rss " +
       FormatBytes(double(g.rss_bytes));
  if (g.unfinished > 0) s += "; " + FormatCount(double(g.unfinished)) + " unfinished at the end";
  return s;
}

// "12 opened", or "0 opened of 200 attempts" when attempts failed (a refused port opens nothing).
std::string ConnectionsText(const Generator& g) {
  std::string s = FormatCount(double(g.connections_opened)) + " opened";
  if (g.connect_attempts > g.connections_opened) s += " of " + FormatCount(double(g.connect_attempts)) + " attempts";
  return s;
}

std::string Percent(double fraction) { return Fixed(100.0 * fraction, 2) + "%"; }

std::string StressBlock(const StressResult& s) {
  std::ostringstream out;
  const bool cut = !s.curve.empty() && s.curve.back().interrupted;
  if (s.capacity_rps) {
    out << "    capacity     " << Fixed(*s.capacity_rps, 0) << "/s"
        << (s.confirmed ? " (confirmed by a repeat)" : "") << (s.reached_ceiling ? " (the ceiling: no SLO broke)" : "")
        << (cut ? " (the search was interrupted: it may be higher)" : "") << "\n";
  } else if (cut && s.curve.size() == 1) {
    out << "    capacity     none: interrupted before a rate was judged\n";
  } else {
    out << "    capacity     none: the first rate already broke an SLO\n";
  }
  out << "    curve        rate -> achieved, p50 / p95 / p99, errors\n";
  for (const StressPoint& p : s.curve) {
    out << "      " << (p.interrupted ? "CUT  " : p.pass ? "ok   " : "FAIL ") << Fixed(p.rate_rps, 0) << "/s -> " << Fixed(p.achieved_rps, 0)
        << "/s, " << FormatDurationUs(double(p.p50_us)) << " / " << FormatDurationUs(double(p.p95_us)) << " / "
        << FormatDurationUs(double(p.p99_us)) << ", " << Percent(p.error_rate)
        << (p.confirmation ? " (repeat)" : "") << (p.broken.empty() ? "" : "  broke: " + p.broken)
        << (p.interrupted ? "  interrupted: not judged" : "") << "\n";
  }
  return out.str();
}

const TierMetricResult* FindMetric(const TierSourceResult& s, std::string_view name) {
  for (const TierMetricResult& m : s.metrics) {
    if (m.name == name && m.samples > 0) return &m;
  }
  return nullptr;
}

// The few figures that tell how a source of each kind did (means over the window; max for counts
// that matter at their peak).
std::string SourceHeadline(const TierSourceResult& s) {
  enum class Show { kPercent, kCount, kCores, kBytes, kPerSec, kMs };
  struct Item {
    const char* metric;
    const char* label;
    Show show;
    bool max = false;
  };
  static const std::vector<std::pair<std::string_view, std::vector<Item>>> kHeadlines = {
      {"host", {{"cpu_ratio", "cpu", Show::kPercent}, {"run_queue", "run queue", Show::kCount},
                {"mem_available_ratio", "mem free", Show::kPercent}, {"listen_drops_per_s", "listen drops", Show::kPerSec}}},
      {"process", {{"cpu_cores", "cpu", Show::kCores}, {"rss_bytes", "rss", Show::kBytes, true},
                   {"threads", "threads", Show::kCount, true}}},
      {"postgres", {{"connections_ratio", "conns", Show::kPercent, true}, {"cache_hit_ratio", "cache hit", Show::kPercent},
                    {"commits_per_s", "commits", Show::kPerSec}, {"seq_scan_rows_per_s", "seq-scan rows", Show::kPerSec},
                    {"statement_mean_ms", "stmt mean", Show::kMs}, {"lock_waits", "lock waits", Show::kCount, true}}},
      {"redis", {{"ops_per_s", "ops", Show::kPerSec}, {"hit_ratio", "hit", Show::kPercent},
                 {"main_thread_cpu_cores", "main thread", Show::kCores}, {"used_memory_bytes", "mem", Show::kBytes, true},
                 {"evictions_per_s", "evictions", Show::kPerSec}}},
  };
  std::string out;
  for (const auto& [kind, items] : kHeadlines) {
    if (kind != s.kind) continue;
    for (const Item& item : items) {
      const TierMetricResult* m = FindMetric(s, item.metric);
      if (m == nullptr) continue;
      const double v = item.max ? m->max : m->mean;
      std::string text;
      switch (item.show) {
        case Show::kPercent: text = Fixed(100 * v, 1) + " %"; break;
        case Show::kCount: text = Fixed(v, v < 10 ? 1 : 0); break;
        case Show::kCores: text = Fixed(v, 2) + " cores"; break;
        case Show::kBytes: text = FormatBytes(v); break;
        case Show::kPerSec: text = FormatCount(v) + "/s"; break;
        case Show::kMs: text = Fixed(v, 2) + " ms"; break;
      }
      out += (out.empty() ? "" : " · ") + std::string(item.label) + " " + text;
    }
  }
  if (out.empty()) out = std::to_string(s.metrics.size()) + " series";
  return out;
}

std::string TierHeadline(const TierResult& t) {
  std::string out = t.name + " (" + t.kind + ")";
  for (const TierSourceResult& s : t.sources) {
    out += "  " + s.kind + ": ";
    if (s.samples == 0) {
      out += "no samples" + (s.error.empty() ? std::string() : " (" + s.error + ")");
      continue;
    }
    out += SourceHeadline(s);
    if (s.failures > 0) out += " (" + std::to_string(s.failures) + " failed reads)";
  }
  return out;
}

std::string PhaseBlock(const PhaseResult& p) {
  std::ostringstream out;
  out << "  phase " << p.name << " (" << p.kind << ", " << LoadModelName(p.model) << " model): "
      << PhaseStatusName(p.status) << "\n";
  if (p.status == PhaseStatus::kSkipped) return out.str();
  const Section& s = p.section;
  std::string rate = "achieved " + Fixed(s.achieved_rps, 1) + "/s";
  if (s.requested_rps) rate = "requested " + Fixed(*s.requested_rps, 1) + "/s, " + rate;
  out << "    requests     " << FormatCount(double(s.requests_total)) << ", errors "
      << FormatCount(double(s.requests_errors)) << "; " << rate << "\n";
  out << "    response     " << LatencyLine(s.response_time_us) << "\n";
  if (p.stress) out << StressBlock(*p.stress);
  if (p.spike) {
    const SpikeResult& k = *p.spike;
    out << "    spike        " << Fixed(k.from_rps, 0) << "/s -> " << Fixed(k.to_rps, 0) << "/s for " << Fixed(k.hold_s, 0)
        << "s; recovery ";
    if (k.slo.empty()) {
      out << "not judged (no latency SLO)\n";
    } else if (k.recovered) {
      out << Fixed(*k.recovery_s, 0) << "s until " << k.slo << " held again\n";
    } else {
      out << "not reached before the phase ended (" << k.slo << ")\n";
    }
  }
  if (p.soak) {
    const SoakResult& k = *p.soak;
    if (!k.measured()) {
      out << "    drift        not measured: " << DriftNotMeasured(k) << " of " << Fixed(k.window_s, 0) << "s\n";
    } else {
      out << "    drift        p95 " << (k.first_p95_us ? FormatDurationUs(double(*k.first_p95_us)) : "-") << " -> "
          << (k.last_p95_us ? FormatDurationUs(double(*k.last_p95_us)) : "-") << " ("
          << (k.p95_drift ? FormatDrift(*k.p95_drift) : "not measured") << "), error rate "
          << Percent(*k.first_error_rate) << " -> " << Percent(*k.last_error_rate) << " over " << Fixed(k.window_s, 0)
          << "s windows\n";
    }
  }
  for (const TierResult& t : p.tiers) out << "    tier         " << TierHeadline(t) << "\n";
  for (const SloResult& v : s.slo) {
    out << "    " << (v.pass ? "PASS  " : "FAIL  ") << v.expr << "  (observed " << v.observed_text << ")\n";
  }
  return out.str();
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

std::string FormatSummary(const Results& r, const std::string& before_verdict) {
  std::ostringstream out;
  const Section& o = r.overall;
  std::string model = r.model == LoadModel::kOpen ? "open model (" + r.arrival + " arrivals), up to " +
                                              std::to_string(r.connections) + " connections"
                                        : "closed model, " + std::to_string(r.connections) + " connections";
  const bool multi = r.phases.size() > 1;
  const std::string what = r.merged ? "headroom merge of " + std::to_string(r.merged->shards) + " shards: " : "headroom run ";
  if (!r.scenario.empty()) {
    out << what << r.scenario << " -> " << r.target;
  } else {
    out << what << r.target;
  }
  if (r.shard) out << " (shard " << r.shard->index << "/" << r.shard->count << ")";
  out << "\n";
  if (multi) {
    Row(out, "phases", std::to_string(r.phases.size()) + " in " + Fixed(r.elapsed_s, 1) + "s, " +
                           std::to_string(r.threads) + " thread(s)" + (r.interrupted ? " (interrupted)" : ""));
  } else {
    Row(out, "model", model + ", " + std::to_string(r.threads) + " thread(s), " + Fixed(r.elapsed_s, 1) + "s" +
                          (r.interrupted ? " (interrupted)" : ""));
  }
  double err_pct = 100.0 * o.error_rate();
  Row(out, "requests", FormatCount(double(o.requests_total)) + " total, " + FormatCount(double(o.requests_ok)) +
                           " ok, " + FormatCount(double(o.requests_errors)) + " errors (" + Fixed(err_pct, 2) + "%)");
  if (!multi) {
    std::string rate = "achieved " + Fixed(o.achieved_rps, 1) + "/s";
    if (o.requested_rps) rate = "requested " + Fixed(*o.requested_rps, 1) + "/s, " + rate;
    Row(out, "rate", rate);
    Row(out, "response time", LatencyLine(o.response_time_us));
    Row(out, "service time", LatencyLine(o.service_time_us));
    if (r.model == LoadModel::kOpen) {
      out << "                 (response time = completion - intended start; service time = completion - write)\n";
    }
  }
  if (!o.errors_by_class.empty()) {
    std::string e;
    for (const auto& [k, v] : o.errors_by_class) e += k + " " + FormatCount(double(v)) + "  ";
    Row(out, "errors", e);
  }
  for (const std::string& example : CheckFailures(r)) Row(out, "failed check", example);
  std::string codes;
  for (const auto& [k, v] : o.status_codes) codes += std::to_string(k) + " " + FormatCount(double(v)) + "  ";
  Row(out, "status codes", codes.empty() ? "(none)" : codes);
  Row(out, "bytes", "read " + FormatBytes(double(r.bytes_read)) + ", written " + FormatBytes(double(r.bytes_written)));
  Row(out, "connections", ConnectionsText(r.generator));
  if (r.generator.connect_time_us.Count() > 0) Row(out, "connect time", LatencyLine(r.generator.connect_time_us));
  if (r.transport.tls) {
    Row(out, "tls", TlsLine(r.transport));
    if (r.transport.tls_handshake_time_us.Count() > 0) {
      Row(out, "tls handshake", LatencyLine(r.transport.tls_handshake_time_us));
    }
    if (!r.transport.first_tls_error.empty()) Row(out, "tls error", r.transport.first_tls_error);
    if (!r.transport.tls_verify) {
      out << "  warning: TLS certificate verification was OFF (--insecure): the server's identity was not checked\n";
    }
  }
  if (r.transport.h2) {
    Row(out, "http/2", H2Line(r.transport));
    if (!r.transport.first_h2_error.empty()) Row(out, "http/2 error", r.transport.first_h2_error);
  }
  Row(out, "generator", GeneratorLine(r));
  if (r.model == LoadModel::kOpen && o.requests_total > 0) {
    const Generator& g = r.generator;
    bool late = g.pacer_lateness_us.ValueAtPercentile(99) > 1000;
    if (late) out << "  warning: the generator ran late (pacer p99 over 1ms): it may have limited this test\n";
    if (ConnectionCapLimited(r)) {
      out << "  note: " << FormatCount(double(g.waited_at_cap))
          << " requests waited for a connection with all " << r.connections
          << " allowed connections open while the server kept up (service p99 "
          << FormatDurationUs(double(o.service_time_us.ValueAtPercentile(99))) << " vs response p99 "
          << FormatDurationUs(double(o.response_time_us.ValueAtPercentile(99)))
          << "); they were timed from their intended start: raise --connections\n";
    }
  }
  if (r.requests.size() > 1 && !multi) {
    out << "  per request:\n";
    for (const Section& s : r.requests) {
      out << "    " << s.name << ": " << FormatCount(double(s.requests_total)) << " req, "
          << FormatCount(double(s.requests_errors)) << " errors, " << LatencyLine(s.response_time_us) << "\n";
    }
  }
  const bool extras = r.phases.size() == 1 && (r.phases[0].stress || r.phases[0].spike || r.phases[0].soak ||
                                               !r.phases[0].tiers.empty());
  if (r.phases.size() > 1 || extras) {
    for (const PhaseResult& p : r.phases) out << PhaseBlock(p);
  } else if (!o.slo.empty()) {
    out << "  SLOs:\n";
    for (const SloResult& s : o.slo) {
      out << "    " << (s.pass ? "PASS  " : "FAIL  ") << s.expr << "  (observed " << s.observed_text << ")\n";
    }
  }
  out << before_verdict;
  out << "  verdict: " << VerdictName(r.verdict);
  if (r.verdict == Verdict::kInterrupted) out << " (stopped by a signal before the end: not a pass)";
  if (r.shard && r.verdict != Verdict::kInterrupted) {
    out << " on this shard's share of the load (exit code 0: headroom merge judges the test)\n";
  } else {
    out << " (exit code " << VerdictExitCode(r.verdict) << ")\n";
  }
  return out.str();
}

std::string TlsLine(const Transport& t) {
  if (!t.tls) return "";
  std::string s = t.tls_version.empty() ? std::string("no handshake completed") : t.tls_version + " " + t.tls_cipher;
  s += ", " + t.protocol + ", certificate " + (t.tls_verify ? "verified" : "NOT verified (--insecure)");
  s += "; handshakes " + FormatCount(double(t.tls_handshakes_new)) + " new, " +
       FormatCount(double(t.tls_handshakes_resumed)) + " resumed";
  return s;
}

std::string H2Line(const Transport& t) {
  if (!t.h2) return "";
  std::string s = t.protocol + (t.protocol == "h2c" ? " (cleartext, prior knowledge)" : " (by ALPN)");
  s += ", up to " + FormatCount(double(t.h2_max_streams)) + " streams per connection, peak " +
       FormatCount(double(t.h2_peak_streams)) + " in flight";
  s += "; received " + FormatCount(double(t.h2_goaways)) + " GOAWAY, " + FormatCount(double(t.h2_resets)) +
       " RST_STREAM; " + FormatCount(double(t.h2_retried)) + " requests retried";
  return s;
}

bool ConnectionCapLimited(const Results& r) {
  const Section& o = r.overall;
  if (r.model != LoadModel::kOpen || o.requests_total == 0 || o.error_rate() >= 0.01) return false;
  const double intended = double(std::max<int64_t>(r.generator.pacer_lateness_us.Count(), o.requests_total));
  if (double(r.generator.waited_at_cap) <= 0.01 * intended) return false;
  const int64_t service_p99 = o.service_time_us.ValueAtPercentile(99);
  const int64_t response_p99 = o.response_time_us.ValueAtPercentile(99);
  return 2 * service_p99 <= response_p99;
}

}  // namespace headroom::report
