// series.csv (streamed), summary.json and the terminal summary. Field meanings: docs/simulate.md.
#include <cmath>

#include <nlohmann/json.hpp>

#include "core/units.h"
#include "sim/sim.h"

namespace headroom::sim {

std::vector<std::string> SeriesColumns(const SimConfig& c) {
  std::vector<std::string> out = {"t_s", "offered_rps", "p95_ms", "slow_share", "errors"};
  for (const TierModel& t : c.tiers)
    for (const char* field : {"arrivals", "served", "desired", "ready", "utilization", "backlog", "dropped"})
      out.push_back(t.name + "_" + field);
  return out;
}

namespace {

// One number: as `fmt` when finite; a value that is not (an unstable queue's wait) is `null` in
// JSON and an empty cell in CSV, never "inf" or "nan".
void Number(std::FILE* f, const char* fmt, double v, bool json, bool first = false) {
  if (!first) std::fputc(',', f);
  if (std::isfinite(v)) {
    std::fprintf(f, fmt, v);
  } else if (json) {
    std::fputs("null", f);
  }
}

// One row's numbers, comma-separated, as both series files write them (same digits in both).
void WriteNumbers(std::FILE* f, const SecondRow& r, bool json) {
  Number(f, "%.0f", r.t_s, json, true);
  Number(f, "%.2f", r.offered_rps, json);
  Number(f, "%.1f", r.p95_s * 1e3, json);
  Number(f, "%.4f", r.slow_share, json);
  Number(f, "%.2f", r.errors, json);
  for (const TierSecond& t : *r.tiers) {
    Number(f, "%.2f", t.arrivals, json);
    Number(f, "%.2f", t.served, json);
    std::fprintf(f, ",%d,%d", t.desired, t.ready);
    Number(f, "%.4f", t.utilization, json);
    Number(f, "%.1f", t.backlog, json);
    Number(f, "%.2f", t.dropped, json);
  }
}

Status CloseFile(std::FILE*& file, const char* name) {
  std::FILE* f = file;
  file = nullptr;
  if (!f) return {};
  const bool bad = std::ferror(f) != 0;
  if (std::fclose(f) != 0 || bad) return Fail(std::string(name) + ": write failed");
  return {};
}

}  // namespace

Result<std::unique_ptr<CsvSeries>> CsvSeries::Open(const std::string& path, const SimConfig& c) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (!f) return Fail(path + ": cannot write");
  const std::vector<std::string> columns = SeriesColumns(c);
  for (size_t i = 0; i < columns.size(); ++i) std::fprintf(f, "%s%s", i ? "," : "", columns[i].c_str());
  std::fputc('\n', f);
  return std::unique_ptr<CsvSeries>(new CsvSeries(f));
}

void CsvSeries::Row(const SecondRow& r) {
  WriteNumbers(file_, r, false);
  std::fputc('\n', file_);
}

Status CsvSeries::Close() { return CloseFile(file_, "series.csv"); }

CsvSeries::~CsvSeries() {
  if (file_) std::fclose(file_);
}

Result<std::unique_ptr<JsonSeries>> JsonSeries::Open(const std::string& path, const SimConfig& c) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (!f) return Fail(path + ": cannot write");
  nlohmann::ordered_json head;
  head["schema"] = "headroom.simulation.series/1";
  head["name"] = c.name;
  head["start_s"] = c.start_s;
  head["step_s"] = 1;
  head["columns"] = SeriesColumns(c);
  std::string text = head.dump();
  text.pop_back();  // the closing brace: "rows" follows
  std::fprintf(f, "%s,\"rows\":[", text.c_str());
  return std::unique_ptr<JsonSeries>(new JsonSeries(f));
}

void JsonSeries::Row(const SecondRow& r) {
  std::fputs(first_ ? "\n[" : ",\n[", file_);
  first_ = false;
  WriteNumbers(file_, r, true);
  std::fputc(']', file_);
}

Status JsonSeries::Close() {
  if (file_) std::fputs("\n]}\n", file_);
  return CloseFile(file_, "series.json");
}

JsonSeries::~JsonSeries() {
  if (file_) std::fclose(file_);
}

namespace {

std::string Clock(double t_s) {  // "day 2 18:04"
  const int day = static_cast<int>(t_s / kDayS) + 1;
  const int s = static_cast<int>(std::fmod(t_s, kDayS));
  char buf[32];
  std::snprintf(buf, sizeof buf, "day %d %02d:%02d", day, s / 3600, s % 3600 / 60);
  return buf;
}

}  // namespace

std::string SummaryJson(const SimConfig& c, const Summary& s, const std::vector<EventAdvice>& advice) {
  nlohmann::ordered_json j;
  j["schema"] = "headroom.simulation/1";
  j["name"] = c.name;
  j["period_s"] = s.period_s;
  j["verdict"] = s.held ? "held" : "broken";
  j["slo"] = {{"p95_ms", c.slo_p95_s * 1e3}, {"availability", c.availability}};
  j["requests"] = std::round(s.requests);
  j["errors"] = std::round(s.errors);
  j["peak_offered_rps"] = s.peak_offered_rps;
  j["max_p95_ms"] = s.max_p95_s * 1e3;
  j["minutes"] = s.minutes;
  j["minutes_slo_broken"] = s.minutes_slo_broken;
  j["longest_broken_streak_min"] = s.longest_broken_streak_min;
  j["first_broken_s"] = s.first_broken_s;
  j["error_budget_month"] = s.error_budget_month;
  j["error_budget_burned"] = s.budget_burned;
  j["cost"] = s.cost;
  j["currency"] = c.currency;
  nlohmann::ordered_json tiers = nlohmann::ordered_json::array();
  for (const TierSummary& t : s.tiers) {
    tiers.push_back({{"name", t.name},
                     {"autoscaled", t.autoscaled},
                     {"start_units", t.start_units},
                     {"min_units", t.min_units},
                     {"peak_units", t.peak_units},
                     {"max_units", t.hpa_max},
                     {"seconds_at_max_with_backlog", t.seconds_at_max},
                     {"peak_utilization", t.peak_utilization},
                     {"peak_backlog", t.peak_backlog},
                     {"peak_backlog_at_s", t.peak_backlog_at_s},
                     {"longest_drain_s", t.longest_drain_s},
                     {"max_wait_s", t.max_wait_s},
                     {"cost", t.cost}});
  }
  j["tiers"] = tiers;
  nlohmann::ordered_json adv = nlohmann::ordered_json::array();
  for (const EventAdvice& a : advice)
    adv.push_back({{"event", a.event}, {"tier", a.tier}, {"min_replicas", a.min_replicas},
                   {"lead_s", a.lead_s}, {"holds", a.holds}});
  j["event_advice"] = adv;
  return j.dump(2) + "\n";
}

std::string SummaryText(const SimConfig& c, const Summary& s, const std::vector<EventAdvice>& advice) {
  std::string out;
  char buf[512];
  auto line = [&](const char* fmt, auto... args) {
    std::snprintf(buf, sizeof buf, fmt, args...);
    out += buf;
    out += '\n';
  };
  line("simulate '%s': %g days at 1 s steps, peak offered %s req/s", c.name.c_str(), s.period_s / kDayS,
       FormatCount(s.peak_offered_rps).c_str());
  if (s.minutes_slo_broken > 0) {
    line("  p95 SLO %.0fms broken in %d of %d minutes (first at %s, longest streak %.0f min), worst p95 %s",
         c.slo_p95_s * 1e3, s.minutes_slo_broken, s.minutes, Clock(s.first_broken_s).c_str(),
         s.longest_broken_streak_min, FormatDurationUs(s.max_p95_s * 1e6).c_str());
  } else {
    line("  p95 SLO %.0fms held in all %d minutes (worst p95 %s)", c.slo_p95_s * 1e3, s.minutes,
         FormatDurationUs(s.max_p95_s * 1e6).c_str());
  }
  line("  errors %s of %s requests: %.1f%% of the month's error budget (%s errors at %.3f%% availability)",
       FormatCount(s.errors).c_str(), FormatCount(s.requests).c_str(), s.budget_burned * 100,
       FormatCount(s.error_budget_month).c_str(), c.availability * 100);
  for (const TierSummary& t : s.tiers) {
    std::string units = t.autoscaled ? std::to_string(t.min_units) + "-" + std::to_string(t.peak_units) + " of max " +
                                           std::to_string(t.hpa_max)
                                     : std::to_string(t.peak_units) + " fixed";
    std::string backlog = "no backlog";
    if (t.peak_backlog > 0.5) {
      std::snprintf(buf, sizeof buf, "peak backlog %s at %s, drained in %s, max wait %s",
                    FormatCount(t.peak_backlog).c_str(), Clock(t.peak_backlog_at_s).c_str(),
                    FormatDurationUs(t.longest_drain_s * 1e6).c_str(), FormatDurationUs(t.max_wait_s * 1e6).c_str());
      backlog = buf;
    }
    line("  %-12s units %-18s peak utilization %5.1f%%  %s  cost %.0f %s", t.name.c_str(), units.c_str(),
         t.peak_utilization * 100, backlog.c_str(), t.cost, c.currency.c_str());
  }
  line("  cost of the period: %.0f %s", s.cost, c.currency.c_str());
  for (const EventAdvice& a : advice) {
    if (a.holds && a.min_replicas <= a.current_min) {
      line("  event '%s': %s holds it at minReplicas %d, no raise needed", a.event.c_str(), a.tier.c_str(),
           a.current_min);
    } else if (a.holds) {
      line("  event '%s': raise %s minReplicas to %d at least %.0f min before it starts", a.event.c_str(),
           a.tier.c_str(), a.min_replicas, std::ceil(a.lead_s / 60));
    } else {
      line("  event '%s': even %s at maxReplicas %d from %.0f min before does not hold it; raise maxReplicas or capacity",
           a.event.c_str(), a.tier.c_str(), a.min_replicas, std::ceil(a.lead_s / 60));
    }
  }
  line("verdict: %s", s.held ? "SLOs held (exit 0)" : "SLOs broken (exit 1)");
  return out;
}

}  // namespace headroom::sim
