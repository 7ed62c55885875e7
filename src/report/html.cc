// The HTML report's data (the view of results.json the page draws) and the page itself.
#include "report/html.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include "core/histogram.h"

namespace headroom::report {
namespace web {
extern const unsigned char kReportTemplate[];
extern const std::size_t kReportTemplateSize;
}  // namespace web

namespace {

using nlohmann::json;
constexpr std::string_view kDataMarker = "/*@DATA@*/";
constexpr size_t kMaxPercentileScopes = 60;

double Num(const json& j, const char* key, double fallback = 0) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : fallback;
}

// The per-second rows as columns; past kMaxSeriesPoints rows, consecutive rows merge into buckets
// (rates: the bucket's mean; percentiles: its worst second, so a short stall stays visible).
json SeriesColumns(const json& rows) {
  json cols = {{"bucket_s", 1}};
  for (const char* k : {"t", "intended_rps", "rps", "ok_rps", "errors_rps", "p50_us", "p95_us", "p99_us", "max_us"}) {
    cols[k] = json::array();
  }
  if (!rows.is_array() || rows.empty()) return cols;
  const size_t per = (rows.size() + kMaxSeriesPoints - 1) / kMaxSeriesPoints;
  cols["bucket_s"] = per;
  for (size_t i = 0; i < rows.size(); i += per) {
    double span = 0, intended = 0, completed = 0, ok = 0, errors = 0;
    double p50 = -1, p95 = -1, p99 = -1, mx = -1;
    for (size_t k = i; k < std::min(rows.size(), i + per); ++k) {
      const json& r = rows[k];
      span += Num(r, "span_s", 1);
      intended += Num(r, "intended");
      completed += Num(r, "completed");
      ok += Num(r, "ok");
      errors += Num(r, "errors");
      // A second in which no response arrived has no response time (its percentiles are 0).
      if (Num(r, "completed") > 0 && Num(r, "ok") + Num(r, "errors") > 0 && Num(r, "max_us") > 0) {
        p50 = std::max(p50, Num(r, "p50_us"));
        p95 = std::max(p95, Num(r, "p95_us"));
        p99 = std::max(p99, Num(r, "p99_us"));
        mx = std::max(mx, Num(r, "max_us"));
      }
    }
    if (span <= 0) span = 1;
    cols["t"].push_back(Num(rows[i], "second", double(i)));
    cols["intended_rps"].push_back(intended / span);
    cols["rps"].push_back(completed / span);
    cols["ok_rps"].push_back(ok / span);
    cols["errors_rps"].push_back(errors / span);
    auto put = [&](const char* key, double v) { cols[key].push_back(v < 0 ? json(nullptr) : json(v)); };
    put("p50_us", p50);
    put("p95_us", p95);
    put("p99_us", p99);
    put("max_us", mx);
  }
  return cols;
}

// The percentile curve of a histogram: response time at 0, 0.1, ... 4 "nines" (p0 .. p99.99), the
// x axis of an HDR percentile plot, and the maximum.
json PercentileCurve(const Histogram& h) {
  json points = json::array();
  for (int tenth = 0; tenth <= 40; ++tenth) {
    const double nines = tenth / 10.0;
    const double pct = 100.0 * (1.0 - std::pow(10.0, -nines));
    points.push_back(json::array({nines, h.ValueAtPercentile(pct)}));
  }
  return points;
}

void AddPercentiles(json& out, const json& section, const std::string& scope, const std::string& phase,
                    const std::string& name) {
  if (out.size() >= kMaxPercentileScopes) return;
  auto hs = section.find("histograms");
  if (hs == section.end() || !hs->is_object()) return;
  auto rt = hs->find("response_time_us");
  if (rt == hs->end() || !rt->is_string()) return;
  auto h = Histogram::DecodeCompressedBase64(rt->get<std::string>());
  if (!h || h->Count() == 0) return;
  out.push_back({{"scope", scope}, {"phase", phase}, {"name", name}, {"count", h->Count()},
                 {"max_us", h->Max()}, {"points", PercentileCurve(*h)}});
}

json Percentiles(const json& results) {
  json out = json::array();
  AddPercentiles(out, results, "run", "", "whole run");
  const json phases = results.value("phases", json::array());
  for (const json& p : phases) {
    if (p.is_object()) AddPercentiles(out, p, "phase", p.value("name", ""), p.value("name", ""));
  }
  const json requests = results.value("requests_by_name", json::array());
  if (requests.size() > 1) {  // one request: its curve is the run's
    for (const json& r : requests) {
      if (r.is_object()) AddPercentiles(out, r, "request", "", r.value("name", ""));
    }
  }
  return out;
}

enum class Role { kUtilization, kSaturation, kErrors, kOther };
struct Headline {
  const char* name;
  Role role;
};
// The metrics drawn per source kind (docs/collect.md): how busy (utilization), how much work waits
// (saturation), what fails (errors), and the figures a reader of that tier looks for.
const std::map<std::string, std::vector<Headline>>& Headlines() {
  static const std::map<std::string, std::vector<Headline>> k = {
      {"host",
       {{"cpu_ratio", Role::kUtilization},
        {"disk_util_max_ratio", Role::kUtilization},
        {"run_queue", Role::kSaturation},
        {"procs_blocked", Role::kSaturation},
        {"psi.cpu.some_ratio", Role::kSaturation},
        {"listen_overflows_per_s", Role::kErrors},
        {"net_drops_per_s", Role::kErrors},
        {"mem_available_ratio", Role::kOther}}},
      {"process",
       {{"cpu_ratio", Role::kUtilization},
        {"fd_ratio", Role::kUtilization},
        {"runnable_threads", Role::kSaturation},
        {"involuntary_switches_per_s", Role::kSaturation},
        {"cpu_cores", Role::kOther},
        {"rss_bytes", Role::kOther}}},
      {"postgres",
       {{"connections_ratio", Role::kUtilization},
        {"lock_waits", Role::kSaturation},
        {"waiting.lock", Role::kSaturation},
        {"deadlocks_per_s", Role::kErrors},
        {"rollbacks_per_s", Role::kErrors},
        {"connections", Role::kOther},
        {"cache_hit_ratio", Role::kOther},
        {"statement_mean_ms", Role::kOther},
        {"seq_scans_per_s", Role::kOther},
        {"commits_per_s", Role::kOther}}},
      {"redis",
       {{"memory_ratio", Role::kUtilization},
        {"main_thread_cpu_cores", Role::kUtilization},
        {"blocked_clients", Role::kSaturation},
        {"evictions_per_s", Role::kSaturation},
        {"rejected_connections_per_s", Role::kErrors},
        {"hit_ratio", Role::kOther},
        {"used_memory_bytes", Role::kOther},
        {"maxmemory_bytes", Role::kOther},
        {"ops_per_s", Role::kOther},
        {"connected_clients", Role::kOther}}},
  };
  return k;
}

const char* RoleName(Role r) {
  switch (r) {
    case Role::kUtilization: return "utilization";
    case Role::kSaturation: return "saturation";
    case Role::kErrors: return "errors";
    case Role::kOther: return "other";
  }
  return "other";
}

std::string SourceKind(const std::string& label) {
  const size_t colon = label.find(':');
  return colon == std::string::npos ? label : label.substr(0, colon);
}

struct SourceSeries {
  std::string tier, source;
  int64_t samples = 0, failures = 0;
  std::string first_error;
  std::vector<double> t;
  std::map<std::string, std::vector<json>> values;  // metric -> value per sample (null when absent)
  std::vector<std::string> order;                   // metrics in first-seen order (prometheus)
};

json Downsample(const std::vector<double>& t, const std::vector<json>& v, json& t_out) {
  json out = json::array();
  t_out = json::array();
  const size_t per = (t.size() + kMaxTierPoints - 1) / std::max<size_t>(kMaxTierPoints, 1);
  for (size_t i = 0; i < t.size(); i += std::max<size_t>(per, 1)) {
    double sum = 0;
    int n = 0;
    for (size_t k = i; k < std::min(t.size(), i + std::max<size_t>(per, 1)); ++k) {
      if (v[k].is_number()) {
        sum += v[k].get<double>();
        ++n;
      }
    }
    t_out.push_back(t[i]);
    out.push_back(n ? json(sum / n) : json(nullptr));
  }
  return out;
}

json TierSeries(std::string_view jsonl) {
  std::vector<SourceSeries> sources;
  std::map<std::pair<std::string, std::string>, size_t> index;
  std::istringstream in{std::string(jsonl)};
  std::string line;
  while (std::getline(in, line)) {
    const json j = json::parse(line, nullptr, false);
    if (!j.is_object() || !j.contains("t") || !j["t"].is_number()) continue;  // a torn last line
    const std::string tier = j.value("tier", ""), source = j.value("source", "");
    auto [it, fresh] = index.try_emplace({tier, source}, sources.size());
    if (fresh) {
      sources.emplace_back();
      sources.back().tier = tier;
      sources.back().source = source;
    }
    SourceSeries& s = sources[it->second];
    if (j.contains("error")) {
      ++s.failures;
      if (s.first_error.empty() && j["error"].is_string()) s.first_error = j["error"].get<std::string>();
      continue;
    }
    const json metrics = j.value("metrics", json::object());
    if (!metrics.is_object()) continue;
    ++s.samples;
    const std::string kind = SourceKind(source);
    auto h = Headlines().find(kind);
    std::vector<std::string> wanted;
    if (h != Headlines().end()) {
      for (const Headline& m : h->second) wanted.emplace_back(m.name);
    } else {
      for (auto m = metrics.begin(); m != metrics.end() && wanted.size() < 6; ++m) wanted.push_back(m.key());
    }
    for (const std::string& name : wanted) {
      auto col = s.values.find(name);
      if (col == s.values.end()) {  // a metric first seen now: null for the samples before
        col = s.values.emplace(name, std::vector<json>(s.t.size(), nullptr)).first;
        s.order.push_back(name);
      }
      auto m = metrics.find(name);
      col->second.push_back(m != metrics.end() && m->is_number() ? *m : json(nullptr));
    }
    s.t.push_back(j["t"].get<double>());
    for (auto& [name, col] : s.values) col.resize(s.t.size(), nullptr);  // metrics absent from this sample
  }
  json out = json::array();
  for (const SourceSeries& s : sources) {
    const std::string kind = SourceKind(s.source);
    json metrics = json::array();
    auto h = Headlines().find(kind);
    for (const std::string& name : s.order) {
      Role role = Role::kOther;
      if (h != Headlines().end()) {
        for (const Headline& m : h->second) {
          if (name == m.name) role = m.role;
        }
      }
      const std::vector<json>& col = s.values.at(name);
      if (std::none_of(col.begin(), col.end(), [](const json& v) { return v.is_number(); })) continue;
      json t;
      json v = Downsample(s.t, col, t);
      metrics.push_back({{"name", name}, {"role", RoleName(role)}, {"t", std::move(t)}, {"v", std::move(v)}});
    }
    out.push_back({{"tier", s.tier}, {"source", s.source}, {"kind", kind}, {"samples", s.samples},
                   {"failures", s.failures}, {"error", s.first_error}, {"metrics", std::move(metrics)}});
  }
  return out;
}

// results.json without what the page does not draw from it directly (histograms, per-second rows).
json Trimmed(const json& results) {
  json r = results;
  auto drop_section = [](json& s) {
    if (!s.is_object()) return;
    s.erase("histograms");
    s.erase("series");
    if (s.contains("requests_by_name") && s["requests_by_name"].is_array()) {
      for (json& q : s["requests_by_name"]) {
        if (q.is_object()) q.erase("histograms");
      }
    }
  };
  drop_section(r);
  if (r.contains("phases") && r["phases"].is_array()) {
    for (json& p : r["phases"]) drop_section(p);
  }
  return r;
}

}  // namespace

Result<json> ParseResultsForReport(std::string_view text) {
  json doc = json::parse(
      text,
      [](int, json::parse_event_t event, json& parsed) {
        return !(event == json::parse_event_t::key && parsed.is_string() && parsed.get_ref<const std::string&>() == "histogram");
      },
      false);
  if (doc.is_discarded()) return Fail("not JSON");
  return doc;
}

Result<json> ReportData(const json& results, const ReportInputs& inputs) {
  if (!results.is_object() || !results.contains("schema") || !results["schema"].is_string() ||
      !results["schema"].get<std::string>().starts_with("headroom.results/")) {
    return Fail("not a headroom results file (no \"schema\": \"headroom.results/N\")");
  }
  json data;
  data["schema"] = kReportDataSchema;
  data["results"] = Trimmed(results);
  data["series"] = SeriesColumns(results.value("series", json::array()));
  data["percentiles"] = Percentiles(results);
  data["tiers"] = inputs.tiers_jsonl.empty() ? json::array() : TierSeries(inputs.tiers_jsonl);
  data["explain"] = inputs.explain;
  data["plan"] = inputs.plan;
  data["plan_source"] = inputs.plan_source;
  return data;
}

std::string_view HtmlTemplate() {
  return {reinterpret_cast<const char*>(web::kReportTemplate), web::kReportTemplateSize};
}

std::string HtmlReport(const json& data) {
  const std::string text = data.dump(-1, ' ', false, json::error_handler_t::replace);
  std::string safe;
  safe.reserve(text.size() + text.size() / 16);
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '<') {
      safe += "\\u003c";
    } else if (c == '>') {
      safe += "\\u003e";
    } else if (c == '&') {
      safe += "\\u0026";
    } else if (c == '\xe2' && i + 2 < text.size() && text[i + 1] == '\x80' && (text[i + 2] == '\xa8' || text[i + 2] == '\xa9')) {
      safe += text[i + 2] == '\xa8' ? "\\u2028" : "\\u2029";  // line separators: legal in JSON, not in old JS
      i += 2;
    } else {
      safe += c;
    }
  }
  const std::string_view page = HtmlTemplate();
  const size_t at = page.find(kDataMarker);
  std::string out;
  out.reserve(page.size() + safe.size());
  out.append(page.substr(0, at));
  out.append(safe);
  out.append(page.substr(at + kDataMarker.size()));
  return out;
}

}  // namespace headroom::report
