#include "report/junit.h"

#include <cmath>
#include <cstdio>
#include <ctime>
#include <string_view>
#include <vector>

#include "core/units.h"

namespace headroom::report {
namespace {

enum class Outcome { kPass, kFail, kSkip };

// The extra suite of an interrupted run.
constexpr std::string_view kInterruptedSuite = "headroom: run interrupted";

struct Case {
  std::string name;
  Outcome outcome = Outcome::kPass;
  std::string message;  // failure or skip message
  std::string body;     // failure text
  std::string type = "slo";  // failure type: "slo", or the phase's status for the `phase <status>` case
};

std::string Fixed(double v, int decimals) {
  if (!std::isfinite(v)) v = 0;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// Reporters split classnames on '.', so a URL target must not add levels.
std::string ClassPart(std::string_view text) {
  std::string out;
  for (char c : text) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '-';
    out += keep ? c : '_';
  }
  return out.empty() ? "_" : out;
}

std::string RunName(const Results& r) { return r.scenario.empty() ? r.target : r.scenario; }

// UTC, in the JUnit schema's form (no zone suffix).
std::string Timestamp(int64_t epoch_us) {
  const std::time_t secs = static_cast<std::time_t>(epoch_us / 1'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return buf;
}

std::string PhaseFigures(const PhaseResult& p) {
  const Section& s = p.section;
  const Histogram& h = s.response_time_us;
  const double error_rate = s.error_rate();
  std::string out = "phase " + p.name + " (" + p.kind + ", " + std::string(LoadModelName(p.model)) + " model, " +
                    std::string(PhaseStatusName(p.status)) + "): ";
  out += FormatCount(double(s.requests_total)) + " requests, " + FormatCount(double(s.requests_errors)) +
         " errors (" + Fixed(error_rate * 100, 2) + "%), ";
  if (s.requested_rps) out += FormatCount(*s.requested_rps) + " req/s requested, ";
  out += FormatCount(s.achieved_rps) + " req/s achieved";
  if (h.Count() > 0) {
    out += ", p50 " + FormatDurationUs(double(h.ValueAtPercentile(50))) + ", p95 " +
           FormatDurationUs(double(h.ValueAtPercentile(95))) + ", p99 " +
           FormatDurationUs(double(h.ValueAtPercentile(99)));
  }
  return out;
}

std::vector<Case> PhaseCases(const PhaseResult& p) {
  const bool skipped = p.status == PhaseStatus::kSkipped;
  std::vector<Case> cases;
  for (const SloResult& slo : p.section.slo) {
    Case c{slo.expr, Outcome::kPass, "", ""};
    if (skipped) {
      c.outcome = Outcome::kSkip;
      c.message = "phase skipped";
    } else if (!slo.pass) {
      c.outcome = Outcome::kFail;
      c.message = "observed " + (slo.observed_text.empty() ? Fixed(slo.observed, 3) : slo.observed_text) +
                  ", expected " + slo.expr;
      c.body = PhaseFigures(p);
    }
    cases.push_back(std::move(c));
  }
  if (p.section.slo.empty()) {
    Case c{"requests succeeded", Outcome::kPass, "", ""};
    if (skipped) {
      c.outcome = Outcome::kSkip;
      c.message = "phase skipped";
    } else if (p.section.requests_ok == 0) {
      c.outcome = Outcome::kFail;
      c.message = "observed 0 successful requests of " + FormatCount(double(p.section.requests_total)) +
                  ", expected at least 1";
      c.body = PhaseFigures(p);
    }
    cases.push_back(std::move(c));
  }
  bool any_failed = false;
  for (const Case& c : cases) any_failed |= c.outcome == Outcome::kFail;
  if (!skipped && p.status != PhaseStatus::kPassed && !any_failed) {
    const std::string status(PhaseStatusName(p.status));
    Case c{"phase " + status, Outcome::kFail, "", PhaseFigures(p), status};
    c.message = "phase " + status + " after " + Fixed(p.elapsed_s, 3) + "s of " + Fixed(p.duration_s, 3) +
                "s planned";
    cases.push_back(std::move(c));
  }
  return cases;
}

struct Counts {
  int tests = 0, failures = 0, skipped = 0;
};

Counts CountOf(const std::vector<Case>& cases) {
  Counts n;
  for (const Case& c : cases) {
    ++n.tests;
    n.failures += c.outcome == Outcome::kFail;
    n.skipped += c.outcome == Outcome::kSkip;
  }
  return n;
}

void Property(std::string& out, std::string_view name, const std::string& value) {
  out += "      <property name=\"";
  out += name;
  out += "\" value=\"" + XmlEscape(value) + "\"/>\n";
}

void WriteSuite(std::string& out, const Results& r, const PhaseResult& p, const std::vector<Case>& cases) {
  const Counts n = CountOf(cases);
  out += "  <testsuite name=\"" + XmlEscape(p.name) + "\" tests=\"" + std::to_string(n.tests) +
         "\" failures=\"" + std::to_string(n.failures) + "\" errors=\"0\" skipped=\"" +
         std::to_string(n.skipped) + "\" time=\"" + Fixed(p.elapsed_s, 3) + "\"";
  if (r.started_at_us > 0 && p.status != PhaseStatus::kSkipped) {  // a skipped phase never started
    out += " timestamp=\"" + Timestamp(r.started_at_us + int64_t(std::llround(p.offset_s * 1e6))) + "\"";
  }
  out += ">\n    <properties>\n";
  Property(out, "kind", p.kind);
  Property(out, "model", std::string(LoadModelName(p.model)));
  Property(out, "status", std::string(PhaseStatusName(p.status)));
  if (p.section.requested_rps) Property(out, "requested_rps", Fixed(*p.section.requested_rps, 3));
  Property(out, "achieved_rps", Fixed(p.section.achieved_rps, 3));
  Property(out, "requests_total", std::to_string(p.section.requests_total));
  Property(out, "requests_errors", std::to_string(p.section.requests_errors));
  out += "    </properties>\n";
  const std::string classname = "headroom." + ClassPart(RunName(r)) + "." + ClassPart(p.name);
  for (const Case& c : cases) {
    out += "    <testcase name=\"" + XmlEscape(c.name) + "\" classname=\"" + XmlEscape(classname) + "\"";
    switch (c.outcome) {
      case Outcome::kPass:
        out += "/>\n";
        break;
      case Outcome::kSkip:
        out += ">\n      <skipped message=\"" + XmlEscape(c.message) + "\"/>\n    </testcase>\n";
        break;
      case Outcome::kFail:
        out += ">\n      <failure message=\"" + XmlEscape(c.message) + "\" type=\"" + XmlEscape(c.type) + "\">" +
               XmlEscape(c.body) + "</failure>\n    </testcase>\n";
        break;
    }
  }
  out += "  </testsuite>\n";
}

}  // namespace

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      // Attribute values normalise raw whitespace, so keep it as character references.
      case '\t': out += "&#9;"; break;
      case '\n': out += "&#10;"; break;
      case '\r': out += "&#13;"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\xEF\xBF\xBD";  // U+FFFD: XML 1.0 cannot carry these at all
        } else {
          out += ch;
        }
    }
  }
  return out;
}

std::string JunitXml(const Results& r) {
  std::vector<std::vector<Case>> per_phase;
  Counts total;
  // A run stopped by a signal is never a pass, even when every phase it finished held its SLOs.
  const bool interrupted = r.verdict == Verdict::kInterrupted;
  if (interrupted) {
    ++total.tests;
    ++total.failures;
  }
  for (const PhaseResult& p : r.phases) {
    per_phase.push_back(PhaseCases(p));
    const Counts n = CountOf(per_phase.back());
    total.tests += n.tests;
    total.failures += n.failures;
    total.skipped += n.skipped;
  }
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<testsuites name=\"" + XmlEscape("headroom " + RunName(r)) + "\" tests=\"" +
         std::to_string(total.tests) + "\" failures=\"" + std::to_string(total.failures) +
         "\" errors=\"0\" skipped=\"" + std::to_string(total.skipped) + "\" time=\"" + Fixed(r.elapsed_s, 3) +
         "\">\n";
  for (size_t i = 0; i < r.phases.size(); ++i) WriteSuite(out, r, r.phases[i], per_phase[i]);
  if (interrupted) {
    // Phase names are letters, digits, '_' and '-', so neither this suite's name nor its two-level
    // classname can be a phase's.
    out += "  <testsuite name=\"" + XmlEscape(kInterruptedSuite) +
           "\" tests=\"1\" failures=\"1\" errors=\"0\" skipped=\"0\" time=\"" + Fixed(r.elapsed_s, 3) +
           "\">\n    <testcase name=\"run finished\" classname=\"" + XmlEscape("headroom." + ClassPart(RunName(r))) +
           "\">\n      <failure message=\"" +
           XmlEscape("interrupted by a signal after " + Fixed(r.elapsed_s, 3) + "s of " + Fixed(r.duration_s, 3) +
                     "s planned: verdict INTERRUPTED") +
           "\" type=\"interrupted\"/>\n    </testcase>\n  </testsuite>\n";
  }
  out += "</testsuites>\n";
  return out;
}

}  // namespace headroom::report
