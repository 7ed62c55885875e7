#include "report/results.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>

namespace headroom::report {

using json = nlohmann::ordered_json;

std::string_view PhaseStatusName(PhaseStatus s) {
  switch (s) {
    case PhaseStatus::kPassed: return "passed";
    case PhaseStatus::kFailed: return "failed";
    case PhaseStatus::kAborted: return "aborted";
    case PhaseStatus::kSkipped: return "skipped";
    case PhaseStatus::kInterrupted: return "interrupted";
    case PhaseStatus::kRunning: return "running";
  }
  return "unknown";
}

std::string_view LoadModelName(LoadModel m) { return m == LoadModel::kOpen ? "open" : "closed"; }

std::string_view VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kPass: return "PASS";
    case Verdict::kFail: return "FAIL";
    case Verdict::kInterrupted: return "INTERRUPTED";
  }
  return "FAIL";
}

int VerdictExitCode(Verdict v) {
  switch (v) {
    case Verdict::kPass: return 0;
    case Verdict::kFail: return 1;
    case Verdict::kInterrupted: return 3;
  }
  return 1;
}

std::string DriftNotMeasured(const SoakResult& s) {
  if (!s.first_error_rate) return "no request ended in the first window";
  if (!s.last_error_rate) return "no request ended in the last window";
  return "";
}

json LatencyJson(const Histogram& h) {
  json j;
  j["count"] = h.Count();
  j["min"] = h.Count() ? h.Min() : 0;
  j["p50"] = h.ValueAtPercentile(50);
  j["p90"] = h.ValueAtPercentile(90);
  j["p95"] = h.ValueAtPercentile(95);
  j["p99"] = h.ValueAtPercentile(99);
  j["p99_9"] = h.ValueAtPercentile(99.9);
  j["max"] = h.Count() ? h.Max() : 0;
  j["mean"] = h.Count() ? h.Mean() : 0.0;
  return j;
}

std::vector<std::string> CheckFailures(const Results& r) {
  std::vector<std::string> out;
  for (const Section& s : r.requests) {
    if (!s.check_failure.empty()) out.push_back(s.name + ": " + s.check_failure);
  }
  if (out.empty() && !r.overall.check_failure.empty()) out.push_back(r.overall.check_failure);
  return out;
}

json SectionJson(const Section& s) {
  json j;
  if (!s.name.empty()) j["name"] = s.name;
  j["requests"] = {{"total", s.requests_total}, {"ok", s.requests_ok}, {"errors", s.requests_errors}};
  j["error_rate"] = s.error_rate();
  j["throughput"] = {{"requested_rps", s.requested_rps ? json(*s.requested_rps) : json(nullptr)},
                     {"achieved_rps", s.achieved_rps}};
  j["latency"] = {{"response_time_us", LatencyJson(s.response_time_us)},
                  {"service_time_us", LatencyJson(s.service_time_us)}};
  json by_class = json::object();
  for (const auto& [k, v] : s.errors_by_class) by_class[k] = v;
  j["errors"] = {{"by_class", by_class}};
  if (!s.check_failure.empty()) j["errors"]["first_check_failure"] = s.check_failure;
  json codes = json::object();
  for (const auto& [k, v] : s.status_codes) codes[std::to_string(k)] = v;
  j["status_codes"] = codes;
  json slo = json::array();
  for (const SloResult& r : s.slo) {
    slo.push_back({{"expr", r.expr}, {"observed", r.observed}, {"observed_text", r.observed_text}, {"pass", r.pass}});
  }
  j["slo"] = slo;
  j["histograms"] = {{"response_time_us", s.response_time_us.EncodeCompressedBase64()},
                     {"service_time_us", s.service_time_us.EncodeCompressedBase64()}};
  return j;
}

namespace {

// Marks where WriteResultsJson streams a series: the top level (-1) or phase i. It is looked for
// as `"series": "<marker>"` in the dump: a quote outside the structure is always escaped, so a
// user's string (a target, a phase name) that holds the same text cannot be taken for it.
std::string SeriesMarker(int phase) { return "\x01headroom-series:" + std::to_string(phase) + "\x01"; }

json PhaseJsonImpl(const PhaseResult& p, bool series_markers, int index);

json TransportJson(const Transport& t) {
  json j = {{"scheme", t.scheme}, {"protocol", t.protocol}};
  if (t.h2) {
    j["h2"] = {{"max_streams", t.h2_max_streams},
               {"peak_streams_per_connection", t.h2_peak_streams},
               {"goaways_received", t.h2_goaways},
               {"rst_streams_received", t.h2_resets},
               {"requests_retried", t.h2_retried},
               {"first_error", t.first_h2_error.empty() ? json(nullptr) : json(t.first_h2_error)}};
  } else {
    j["h2"] = nullptr;
  }
  if (!t.tls) {
    j["tls"] = nullptr;
    return j;
  }
  j["tls"] = {{"verify", t.tls_verify},
              {"version", t.tls_version.empty() ? json(nullptr) : json(t.tls_version)},
              {"cipher", t.tls_cipher.empty() ? json(nullptr) : json(t.tls_cipher)},
              {"handshakes_new", t.tls_handshakes_new},
              {"handshakes_resumed", t.tls_handshakes_resumed},
              {"handshake_time_us", LatencyJson(t.tls_handshake_time_us)},
              {"handshake_time_histogram", t.tls_handshake_time_us.EncodeCompressedBase64()},
              {"first_error", t.first_tls_error.empty() ? json(nullptr) : json(t.first_tls_error)}};
  return j;
}

json ToJsonImpl(const Results& r, bool series_markers) {
  json j = SectionJson(r.overall);
  j.erase("name");
  json head;
  head["schema"] = kResultsSchema;
  head["tool"] = {{"name", "headroom"}, {"version", r.tool_version}};
  head["started_at_us"] = r.started_at_us;
  head["target"] = r.target;
  head["method"] = r.method;
  head["model"] = LoadModelName(r.model);
  head["arrival"] = r.model == LoadModel::kOpen ? json(r.arrival) : json(nullptr);
  head["threads"] = r.threads;
  head["connections"] = r.connections;
  head["duration_s"] = r.duration_s;
  head["elapsed_s"] = r.elapsed_s;
  head["interrupted"] = r.interrupted;
  head["notices"] = r.notices;
  head["complete"] = r.complete;
  head["bytes"] = {{"read", r.bytes_read}, {"written", r.bytes_written}};
  head.update(j);
  const Generator& g = r.generator;
  head["generator"] = {{"pacer_lateness_us", LatencyJson(g.pacer_lateness_us)},
                       {"delayed_requests", g.delayed},
                       {"waited_at_cap_requests", g.waited_at_cap},
                       {"max_queue_depth", g.max_queue_depth},
                       {"unfinished_requests", g.unfinished},
                       {"connections_opened", g.connections_opened},
                       {"connect_attempts", g.connect_attempts},
                       {"connect_time_us", LatencyJson(g.connect_time_us)},
                       {"cpu_user_s", g.cpu_user_s},
                       {"cpu_system_s", g.cpu_system_s},
                       {"rss_bytes", g.rss_bytes},
                       {"pacer_lateness_histogram", g.pacer_lateness_us.EncodeCompressedBase64()},
                       {"io", g.io}};
  head["transport"] = TransportJson(r.transport);
  json reqs = json::array();
  for (const Section& s : r.requests) reqs.push_back(SectionJson(s));
  head["requests_by_name"] = reqs;
  head["series"] = series_markers ? json(SeriesMarker(-1)) : SeriesJson(r.series, true);
  head["scenario"] = r.scenario.empty() ? json(nullptr) : json(r.scenario);
  head["tiers_series"] = r.tiers_series.empty() ? json(nullptr) : json(r.tiers_series);
  head["passed"] = r.passed();
  head["verdict"] = VerdictName(r.verdict);
  head["exit_code"] = VerdictExitCode(r.verdict);
  json phases = json::array();
  for (size_t i = 0; i < r.phases.size(); ++i) phases.push_back(PhaseJsonImpl(r.phases[i], series_markers, int(i)));
  head["phases"] = phases;
  if (r.shard) {
    head["shard"] = {{"index", r.shard->index},
                     {"count", r.shard->count},
                     {"start_at_us", r.shard->start_at_us},
                     {"started_us", r.shard->started_us},
                     {"scenario_hash", r.shard->scenario_hash}};
  } else {
    head["shard"] = nullptr;
  }
  if (r.merged) {
    head["merged"] = {{"shards", r.merged->shards},
                      {"scenario_hash", r.merged->scenario_hash},
                      {"start_at_us", r.merged->start_at_us},
                      {"start_spread_s", r.merged->start_spread_s}};
  } else {
    head["merged"] = nullptr;
  }
  return head;
}

}  // namespace

json ToJson(const Results& r) { return ToJsonImpl(r, false); }

json SeriesJson(const std::vector<SecondRow>& rows, bool with_histograms) {
  json series = json::array();
  for (const SecondRow& row : rows) {
    series.push_back({{"second", row.second},
                      {"span_s", row.span_s},
                      {"intended", row.intended},
                      {"completed", row.completed},
                      {"ok", row.ok},
                      {"errors", row.errors},
                      {"rps", row.completed / row.span_s},
                      {"p50_us", row.p50_us},
                      {"p90_us", row.p90_us},
                      {"p95_us", row.p95_us},
                      {"p99_us", row.p99_us},
                      {"max_us", row.max_us},
                      {"mean_us", row.mean_us}});
    if (with_histograms && !row.histogram.empty()) series.back()["histogram"] = row.histogram;
  }
  return series;
}

namespace {

json Optional(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

}  // namespace

json TiersJson(const std::vector<TierResult>& tiers) {
  json out = json::array();
  for (const TierResult& t : tiers) {
    json sources = json::array();
    for (const TierSourceResult& s : t.sources) {
      json metrics = json::object();
      for (const TierMetricResult& m : s.metrics) {
        metrics[m.name] = {{"type", m.type}, {"samples", m.samples}, {"mean", m.mean}, {"min", m.min},
                           {"max", m.max},   {"last", m.last}};
        if (m.type == "rate") metrics[m.name]["total"] = m.total;
      }
      json attributes = json::object();
      for (const auto& [k, v] : s.attributes) attributes[k] = v;
      json top = json::array();
      for (const TierActivityResult& a : s.top) {
        json counts = json::object();
        for (const auto& [k, v] : a.counts) counts[k] = v;
        top.push_back({{"group", a.group}, {"key", a.key}, {"counts", counts}});
      }
      sources.push_back({{"label", s.label},
                         {"kind", s.kind},
                         {"samples", s.samples},
                         {"failures", s.failures},
                         {"error", s.error.empty() ? json(nullptr) : json(s.error)},
                         {"metrics", metrics},
                         {"attributes", attributes},
                         {"top", top}});
    }
    out.push_back({{"name", t.name}, {"kind", t.kind}, {"sources", sources}});
  }
  return out;
}

namespace {

json StressJson(const StressResult& s) {
  json curve = json::array();
  for (const StressPoint& p : s.curve) {
    curve.push_back({{"rate_rps", p.rate_rps},
                     {"achieved_rps", p.achieved_rps},
                     {"p50_us", p.p50_us},
                     {"p95_us", p.p95_us},
                     {"p99_us", p.p99_us},
                     {"error_rate", p.error_rate},
                     {"pass", p.pass},
                     {"confirmation", p.confirmation},
                     {"interrupted", p.interrupted},
                     {"broken", p.broken.empty() ? json(nullptr) : json(p.broken)},
                     {"requests", {{"total", p.requests_total}, {"errors", p.requests_errors}}},
                     {"histogram", p.response_time_us.EncodeCompressedBase64()}});
    if (!p.tiers.empty()) curve.back()["tiers"] = TiersJson(p.tiers);
  }
  return {{"capacity_rps", Optional(s.capacity_rps)},
          {"confirmed", s.confirmed},
          {"reached_ceiling", s.reached_ceiling},
          {"curve", curve}};
}

}  // namespace

json PhaseJson(const PhaseResult& p) { return PhaseJsonImpl(p, false, 0); }

namespace {

json PhaseJsonImpl(const PhaseResult& p, bool series_markers, int index) {
  json j;
  j["name"] = p.name;
  j["kind"] = p.kind;
  j["model"] = LoadModelName(p.model);
  j["status"] = PhaseStatusName(p.status);
  j["offset_s"] = p.offset_s;
  j["duration_s"] = p.duration_s;
  j["elapsed_s"] = p.elapsed_s;
  json body = SectionJson(p.section);
  body.erase("name");
  j.update(body);
  if (p.stress) j["stress"] = StressJson(*p.stress);
  if (!p.tiers.empty()) j["tiers"] = TiersJson(p.tiers);
  if (p.spike) {
    const SpikeResult& s = *p.spike;
    j["spike"] = {{"from_rps", s.from_rps},
                  {"to_rps", s.to_rps},
                  {"hold_s", s.hold_s},
                  {"slo", s.slo.empty() ? json(nullptr) : json(s.slo)},
                  {"recovered", s.recovered},
                  {"recovery_s", Optional(s.recovery_s)}};
  }
  if (p.soak) {
    const SoakResult& s = *p.soak;
    auto whole = [](const std::optional<int64_t>& v) { return v ? json(*v) : json(nullptr); };
    j["soak"] = {{"window_s", s.window_s},
                 {"measured", s.measured()},
                 {"p95_drift", Optional(s.p95_drift)},
                 {"p99_drift", Optional(s.p99_drift)},
                 {"error_rate_drift", Optional(s.error_rate_drift)},
                 {"throughput_drift", Optional(s.throughput_drift)},
                 {"first_p95_us", whole(s.first_p95_us)},
                 {"last_p95_us", whole(s.last_p95_us)},
                 {"first_error_rate", Optional(s.first_error_rate)},
                 {"last_error_rate", Optional(s.last_error_rate)}};
  }
  json reqs = json::array();
  for (const Section& s : p.requests) reqs.push_back(SectionJson(s));
  j["requests_by_name"] = reqs;
  // Histograms: top-level series only.
  j["series"] = series_markers ? json(SeriesMarker(index)) : SeriesJson(p.series, false);
  return j;
}

// The rows of a series as ToJson(...).dump(2) prints them when the array's key sits at
// `indent` spaces: one small tree per row, so memory does not grow with the number of rows.
bool WriteSeries(std::FILE* f, const std::vector<SecondRow>& rows, bool with_histograms, size_t indent) {
  if (rows.empty()) return std::fputs("[]", f) >= 0;
  const std::string inner(indent + 2, ' ');
  std::string text = "[\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    std::string row = SeriesJson({rows[i]}, with_histograms)[0].dump(2);
    text += inner;
    for (char c : row) {
      text += c;
      if (c == '\n') text += inner;
    }
    text += i + 1 < rows.size() ? ",\n" : "\n";
    if (std::fwrite(text.data(), 1, text.size(), f) != text.size()) return false;
    text.clear();
  }
  text.assign(indent, ' ');
  text += ']';
  return std::fwrite(text.data(), 1, text.size(), f) == text.size();
}

}  // namespace

Status WriteResultsJson(const Results& r, const std::string& path) {
  // Everything but the series is small whatever the run's length: dump it with markers, then
  // stream each series into its marker's place.
  const std::string head = ToJsonImpl(r, true).dump(2) + "\n";
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "we");
  if (f == nullptr) return Fail("cannot write " + tmp + ": " + std::strerror(errno));
  bool ok = true;
  size_t at = 0;
  for (int index = -1; ok && index < int(r.phases.size()); ++index) {
    const std::string key = "\"series\": ";
    const std::string marker = json(SeriesMarker(index)).dump();  // quoted and escaped
    const size_t found = head.find(key + marker, at);
    if (found == std::string::npos) continue;
    const size_t pos = found + key.size();
    const size_t line = head.rfind('\n', pos) + 1;  // npos + 1 == 0: the first line
    const size_t indent = head.find_first_not_of(' ', line) - line;
    ok = std::fwrite(head.data() + at, 1, pos - at, f) == pos - at &&
         WriteSeries(f, index < 0 ? r.series : r.phases[size_t(index)].series, index < 0, indent);
    at = pos + marker.size();
  }
  ok = ok && std::fwrite(head.data() + at, 1, head.size() - at, f) == head.size() - at;
  ok = std::fflush(f) == 0 && ok;
  if (ok) ::fsync(fileno(f));
  const int err = errno;
  ok = std::fclose(f) == 0 && ok;
  if (!ok) {
    ::unlink(tmp.c_str());
    return Fail("cannot write " + tmp + ": " + std::strerror(err));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    return Fail("cannot rename " + tmp + " to " + path + ": " + std::strerror(e));
  }
  return Ok();
}

Status WriteFileAtomic(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Fail("cannot write " + tmp + ": " + std::strerror(errno));
  size_t off = 0;
  while (off < text.size()) {
    ssize_t n = write(fd, text.data() + off, text.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      close(fd);
      unlink(tmp.c_str());
      return Fail("cannot write " + tmp + ": " + std::strerror(err));
    }
    off += size_t(n);
  }
  fsync(fd);
  close(fd);
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    unlink(tmp.c_str());
    return Fail("cannot rename " + tmp + " to " + path + ": " + std::strerror(err));
  }
  return Ok();
}

std::string SeriesCsv(const Results& r) {
  std::ostringstream out;
  out << "second,span_s,intended,completed,ok,errors,rps,p50_us,p90_us,p95_us,p99_us,max_us,mean_us\n";
  for (const SecondRow& row : r.series) {
    char line[256];
    std::snprintf(line, sizeof line, "%lld,%.3f,%lld,%lld,%lld,%lld,%.1f,%lld,%lld,%lld,%lld,%lld,%.1f\n",
                  (long long)row.second, row.span_s, (long long)row.intended, (long long)row.completed,
                  (long long)row.ok, (long long)row.errors, row.completed / row.span_s, (long long)row.p50_us,
                  (long long)row.p90_us, (long long)row.p95_us, (long long)row.p99_us, (long long)row.max_us,
                  row.mean_us);
    out << line;
  }
  return out.str();
}

Status WriteResults(const Results& r, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Fail("cannot create " + dir + ": " + ec.message());
  if (auto s = WriteResultsJson(r, dir + "/results.json"); !s) return s;
  return WriteFileAtomic(dir + "/series.csv", SeriesCsv(r));
}

}  // namespace headroom::report
