#include "report/markdown.h"

#include <cmath>
#include <cstdio>

#include "core/units.h"
#include "report/summary.h"

namespace headroom::report {
namespace {

constexpr const char* kNone = "—";

std::string Percent(double fraction) {
  if (!std::isfinite(fraction)) return "n/a";
  if (fraction == 0) return "0%";
  if (std::fabs(fraction) < 0.0001) return fraction > 0 ? "<0.01%" : ">-0.01%";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f%%", fraction * 100);
  return buf;
}

std::string Seconds(double s) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1fs", std::isfinite(s) ? s : 0.0);
  return buf;
}

std::string Rate(double rps) { return FormatCount(rps) + " req/s"; }

std::string Code(std::string_view text) {
  std::string body(text);
  for (char& c : body) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  // Inside a table cell a pipe still splits the cell, even in a code span.
  std::string escaped;
  for (char c : body) {
    if (c == '|') escaped += '\\';
    escaped += c;
  }
  const std::string fence = escaped.find('`') == std::string::npos ? "`" : "`` ";
  const std::string close = fence == "`" ? "`" : " ``";
  return fence + escaped + close;
}

std::string Pct(const Histogram& h, double p) {
  return h.Count() ? FormatDurationUs(double(h.ValueAtPercentile(p))) : kNone;
}

std::string StatusCell(PhaseStatus status) {
  if (status == PhaseStatus::kPassed) return "✅ passed";
  if (status == PhaseStatus::kSkipped) return "⏭️ skipped";
  if (status == PhaseStatus::kInterrupted) return "⛔ interrupted";
  if (status == PhaseStatus::kRunning) return "⏳ running";
  return "❌ " + std::string(PhaseStatusName(status));
}

std::string VerdictBadge(Verdict v) {
  switch (v) {
    case Verdict::kPass: return "✅ PASS";
    case Verdict::kFail: return "❌ FAIL";
    case Verdict::kInterrupted: return "⛔ INTERRUPTED";
  }
  return "❌ FAIL";
}

void Headline(std::string& out, const Results& r) {
  // Interrupted (cut short by a signal) and running (checkpoint) phases did not fail: counted apart.
  int passed = 0, failed = 0, skipped = 0, interrupted = 0, running = 0, slo_total = 0, slo_met = 0;
  for (const PhaseResult& p : r.phases) {
    if (p.status == PhaseStatus::kPassed) ++passed;
    else if (p.status == PhaseStatus::kSkipped) ++skipped;
    else if (p.status == PhaseStatus::kInterrupted) ++interrupted;
    else if (p.status == PhaseStatus::kRunning) ++running;
    else ++failed;
    if (p.status == PhaseStatus::kSkipped) continue;
    for (const SloResult& s : p.section.slo) {
      ++slo_total;
      slo_met += s.pass;
    }
  }
  const std::string name = r.scenario.empty() ? r.target : r.scenario;
  out += "## headroom: " + VerdictBadge(r.verdict) + " — " + MarkdownEscape(name) + "\n\n";
  out += "**" + std::string(VerdictName(r.verdict)) + "**: " + std::to_string(r.phases.size()) + (r.phases.size() == 1 ? " phase (" : " phases (") +
         std::to_string(passed) + " passed, " + std::to_string(failed) + " failed, " +
         (interrupted > 0 ? std::to_string(interrupted) + " interrupted, " : "") +
         (running > 0 ? std::to_string(running) + " running, " : "") + std::to_string(skipped) + " skipped), " + std::to_string(slo_met) + "/" + std::to_string(slo_total) + " SLOs met, " +
         FormatCount(double(r.overall.requests_total)) + " requests, " + Percent(r.overall.error_rate()) +
         " errors, " + Seconds(r.elapsed_s) + " elapsed";
  if (r.verdict == Verdict::kInterrupted) {
    out += ", **interrupted: stopped by a signal before the end; not a pass (exit code " +
           std::to_string(VerdictExitCode(r.verdict)) + ")**";
  }
  if (!r.complete) out += ", **incomplete (checkpoint)**";
  out += "\n\n";
  // What the run warned about as it went (e.g. no connection ever established) comes first: a CI
  // job summary is often all that is read.
  for (const std::string& notice : r.notices) out += "> ⚠️ **Notice:** " + MarkdownEscape(notice) + "\n\n";
  if (r.transport.h2) out += "**HTTP/2:** " + MarkdownEscape(H2Line(r.transport)) + "\n\n";
  if (r.transport.tls) {
    out += "**TLS:** " + MarkdownEscape(TlsLine(r.transport));
    if (r.transport.tls_handshake_time_us.Count() > 0) {
      out += "; handshake p50 " + FormatDurationUs(double(r.transport.tls_handshake_time_us.ValueAtPercentile(50))) +
             ", p99 " + FormatDurationUs(double(r.transport.tls_handshake_time_us.ValueAtPercentile(99)));
    }
    out += "\n\n";
  }
}

void PhaseTable(std::string& out, const Results& r) {
  out += "### Phases\n\n";
  out += "| phase | kind | model | rate requested | rate achieved | p50 | p95 | p99 | error rate | status |\n";
  out += "|---|---|---|---:|---:|---:|---:|---:|---:|---|\n";
  for (const PhaseResult& p : r.phases) {
    const Section& s = p.section;
    const bool ran = p.status != PhaseStatus::kSkipped;
    out += "| " + MarkdownEscape(p.name) + " | " + MarkdownEscape(p.kind) + " | " + std::string(LoadModelName(p.model)) + " | " +
           (s.requested_rps ? Rate(*s.requested_rps) : kNone) + " | " + (ran ? Rate(s.achieved_rps) : kNone) + " | " +
           Pct(s.response_time_us, 50) + " | " + Pct(s.response_time_us, 95) + " | " + Pct(s.response_time_us, 99) +
           " | " + (ran ? Percent(s.error_rate()) : kNone) + " | " + StatusCell(p.status) + " |\n";
  }
  out += "\n";
}

void SloTable(std::string& out, const Results& r) {
  bool any = false;
  for (const PhaseResult& p : r.phases) any |= !p.section.slo.empty();
  if (!any) return;
  out += "### SLOs\n\n| phase | SLO | observed | verdict |\n|---|---|---:|---|\n";
  for (const PhaseResult& p : r.phases) {
    for (const SloResult& s : p.section.slo) {
      const std::string verdict = p.status == PhaseStatus::kSkipped ? "⏭️ skipped" : (s.pass ? "✅" : "❌");
      const std::string observed = p.status == PhaseStatus::kSkipped ? kNone : MarkdownEscape(s.observed_text);
      out += "| " + MarkdownEscape(p.name) + " | " + Code(s.expr) + " | " + observed + " | " + verdict + " |\n";
    }
  }
  out += "\n";
}

// A step cut short by a signal or an abort was not judged.
std::string StepVerdict(const StressPoint& pt) {
  if (pt.interrupted) return "⛔ interrupted (not judged)";
  return pt.pass ? "✅" : "❌";
}

void Stress(std::string& out, const PhaseResult& p, const StressResult& st) {
  out += "### Stress: " + MarkdownEscape(p.name) + "\n\n";
  const bool cut = !st.curve.empty() && st.curve.back().interrupted;
  if (st.capacity_rps) {
    out += "Capacity: **" + Rate(*st.capacity_rps) + "**";
    out += st.confirmed ? " (confirmed by a repeat)" : " (not confirmed)";
    if (st.reached_ceiling) out += "; no SLO broke up to the ceiling, so the real capacity is higher";
    if (cut) out += "; the search was interrupted, so the real capacity may be higher";
  } else if (cut && st.curve.size() == 1) {
    out += "Capacity: **none**: interrupted before a rate was judged";
  } else {
    out += "Capacity: **none**: the SLOs broke at the first rate tried";
  }
  out += "\n\n| rate | achieved | p50 | p95 | p99 | error rate | verdict | first broken SLO |\n";
  out += "|---:|---:|---:|---:|---:|---:|---|---|\n";
  for (const StressPoint& pt : st.curve) {
    out += "| " + Rate(pt.rate_rps) + (pt.confirmation ? " (repeat)" : "") + " | " + Rate(pt.achieved_rps) + " | " +
           FormatDurationUs(double(pt.p50_us)) + " | " + FormatDurationUs(double(pt.p95_us)) + " | " +
           FormatDurationUs(double(pt.p99_us)) + " | " + Percent(pt.error_rate) + " | " + StepVerdict(pt) +
           " | " + (pt.broken.empty() ? std::string(kNone) : Code(pt.broken)) + " |\n";
  }
  out += "\n";
}

void Spike(std::string& out, const PhaseResult& p, const SpikeResult& sp) {
  out += "### Spike: " + MarkdownEscape(p.name) + "\n\n";
  out += Rate(sp.from_rps) + " → " + Rate(sp.to_rps) + " for " + Seconds(sp.hold_s) + ". ";
  if (sp.slo.empty()) {
    out += "Recovery not judged (no latency SLO applies).\n\n";
  } else if (sp.recovered && sp.recovery_s) {
    out += "Recovered ✅ in **" + Seconds(*sp.recovery_s) + "** after the hold (judged on " + Code(sp.slo) + ").\n\n";
  } else {
    out += "Did **not** recover ❌ before the phase ended (judged on " + Code(sp.slo) + ").\n\n";
  }
}

std::string DriftText(const std::optional<double>& drift) { return drift ? FormatDrift(*drift) : "not measured"; }

std::string P95Text(const std::optional<int64_t>& us) { return us ? FormatDurationUs(double(*us)) : kNone; }

std::string RateText(const std::optional<double>& fraction) { return fraction ? Percent(*fraction) : kNone; }

void Soak(std::string& out, const PhaseResult& p, const SoakResult& so) {
  out += "### Soak: " + MarkdownEscape(p.name) + "\n\n";
  if (!so.measured()) {
    out += "Drift **not measured**: " + DriftNotMeasured(so) + " of " + Seconds(so.window_s) + ".\n\n";
    return;
  }
  out += "First vs last window of " + Seconds(so.window_s) + ":\n\n";
  out += "- p95: " + P95Text(so.first_p95_us) + " → " + P95Text(so.last_p95_us) + " (" + DriftText(so.p95_drift) + ")\n";
  out += "- p99 drift: " + DriftText(so.p99_drift) + "\n";
  out += "- error rate: " + RateText(so.first_error_rate) + " → " + RateText(so.last_error_rate) + " (" +
         DriftText(so.error_rate_drift) + ")\n";
  out += "- throughput drift: " + DriftText(so.throughput_drift) + "\n\n";
}

void Errors(std::string& out, const Results& r) {
  out += "### Errors by class\n\n";
  if (r.overall.errors_by_class.empty()) {
    out += "No failed requests.\n";
    return;
  }
  out += "| class | count | share of requests |\n|---|---:|---:|\n";
  for (const auto& [cls, count] : r.overall.errors_by_class) {
    const double share = r.overall.requests_total ? double(count) / double(r.overall.requests_total) : 0.0;
    out += "| " + MarkdownEscape(cls) + " | " + FormatCount(double(count)) + " | " + Percent(share) + " |\n";
  }
  const std::vector<std::string> failures = CheckFailures(r);
  if (!failures.empty()) {
    out += "\nFirst failed check of each request:\n\n";
    for (const std::string& f : failures) out += "- " + MarkdownEscape(f) + "\n";
  }
}

}  // namespace

std::string MarkdownEscape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '\\': case '`': case '*': case '_': case '[': case ']': case '<': case '>': case '|': case '#':
      case '~': case '&':
        out += '\\';
        out += c;
        break;
      case '\n': case '\r':
        out += ' ';
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string MarkdownSummary(const Results& r, const std::string& extra) {
  std::string out;
  Headline(out, r);
  PhaseTable(out, r);
  SloTable(out, r);
  for (const PhaseResult& p : r.phases) {
    if (p.stress) Stress(out, p, *p.stress);
    if (p.spike) Spike(out, p, *p.spike);
    if (p.soak) Soak(out, p, *p.soak);
  }
  Errors(out, r);
  if (!extra.empty()) out += "\n" + extra;
  return out;
}

}  // namespace headroom::report
