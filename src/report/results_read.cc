// results.json back into the results model, for headroom merge. Reads what ToJson writes
// (docs/results.md); a field of the wrong type is an error naming the file and the field.
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "report/results.h"

namespace headroom::report {
namespace {

using json = nlohmann::json;

// Reading stops at the first problem; `Reader` carries it so that each field is one line of code.
class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  void Fail(const std::string& what) {
    if (error_.empty()) error_ = source_ + ": " + what;
  }
  template <typename T>
  T Get(const json& j, const char* key, T fallback = T()) {
    if (!j.is_object()) {
      Fail(std::string("expected an object around '") + key + "'");
      return fallback;
    }
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return fallback;
    try {
      return it->get<T>();
    } catch (const json::exception&) {
      Fail(std::string("field '") + key + "' has the wrong type");
      return fallback;
    }
  }
  const json& Sub(const json& j, const char* key) {
    static const json kNull;
    if (!j.is_object()) return kNull;
    auto it = j.find(key);
    return it == j.end() ? kNull : *it;
  }
  Histogram Hist(const json& j, const char* key) {
    const std::string text = Get<std::string>(j, key);
    if (text.empty()) return Histogram();
    auto h = Histogram::DecodeCompressedBase64(text);
    if (!h) {
      Fail(std::string("histogram '") + key + "': " + h.error().message);
      return Histogram();
    }
    return std::move(*h);
  }

 private:
  std::string source_;
  std::string error_;
};

Section ReadSection(Reader& r, const json& j) {
  Section s;
  s.name = r.Get<std::string>(j, "name");
  const json& req = r.Sub(j, "requests");
  s.requests_total = r.Get<int64_t>(req, "total");
  s.requests_ok = r.Get<int64_t>(req, "ok");
  s.requests_errors = r.Get<int64_t>(req, "errors");
  const json& tp = r.Sub(j, "throughput");
  s.achieved_rps = r.Get<double>(tp, "achieved_rps");
  if (tp.is_object() && tp.contains("requested_rps") && !tp["requested_rps"].is_null()) {
    s.requested_rps = r.Get<double>(tp, "requested_rps");
  }
  const json& hist = r.Sub(j, "histograms");
  s.response_time_us = r.Hist(hist, "response_time_us");
  s.service_time_us = r.Hist(hist, "service_time_us");
  const json& errors = r.Sub(j, "errors");
  s.errors_by_class = r.Get<std::map<std::string, int64_t>>(errors, "by_class");
  s.check_failure = r.Get<std::string>(errors, "first_check_failure");
  for (const auto& [code, n] : r.Get<std::map<std::string, int64_t>>(j, "status_codes")) {
    s.status_codes[std::atoi(code.c_str())] = n;
  }
  const json& slo = r.Sub(j, "slo");
  if (slo.is_array()) {
    for (const json& v : slo) {
      s.slo.push_back({r.Get<std::string>(v, "expr"), r.Get<double>(v, "observed"), r.Get<std::string>(v, "observed_text"),
                       r.Get<bool>(v, "pass")});
    }
  }
  return s;
}

std::vector<Section> ReadSections(Reader& r, const json& j) {
  std::vector<Section> out;
  if (j.is_array()) {
    for (const json& s : j) out.push_back(ReadSection(r, s));
  }
  return out;
}

std::vector<SecondRow> ReadSeries(Reader& r, const json& j) {
  std::vector<SecondRow> out;
  if (!j.is_array()) return out;
  for (const json& v : j) {
    SecondRow row;
    row.second = r.Get<int64_t>(v, "second");
    row.span_s = r.Get<double>(v, "span_s", 1.0);
    row.intended = r.Get<int64_t>(v, "intended");
    row.completed = r.Get<int64_t>(v, "completed");
    row.ok = r.Get<int64_t>(v, "ok");
    row.errors = r.Get<int64_t>(v, "errors");
    row.p50_us = r.Get<int64_t>(v, "p50_us");
    row.p90_us = r.Get<int64_t>(v, "p90_us");
    row.p95_us = r.Get<int64_t>(v, "p95_us");
    row.p99_us = r.Get<int64_t>(v, "p99_us");
    row.max_us = r.Get<int64_t>(v, "max_us");
    row.mean_us = r.Get<double>(v, "mean_us");
    out.push_back(row);
  }
  return out;
}

std::optional<double> OptionalDouble(Reader& r, const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) return std::nullopt;
  return r.Get<double>(j, key);
}

PhaseStatus StatusOf(Reader& r, const std::string& name) {
  for (PhaseStatus s : {PhaseStatus::kPassed, PhaseStatus::kFailed, PhaseStatus::kAborted, PhaseStatus::kSkipped,
                        PhaseStatus::kInterrupted, PhaseStatus::kRunning}) {
    if (PhaseStatusName(s) == name) return s;
  }
  r.Fail("unknown phase status '" + name + "'");
  return PhaseStatus::kFailed;
}

StressResult ReadStress(Reader& r, const json& j) {
  StressResult s;
  s.capacity_rps = OptionalDouble(r, j, "capacity_rps");
  s.confirmed = r.Get<bool>(j, "confirmed");
  s.reached_ceiling = r.Get<bool>(j, "reached_ceiling");
  const json& curve = r.Sub(j, "curve");
  if (!curve.is_array()) return s;
  for (const json& v : curve) {
    StressPoint p;
    p.rate_rps = r.Get<double>(v, "rate_rps");
    p.achieved_rps = r.Get<double>(v, "achieved_rps");
    p.p50_us = r.Get<int64_t>(v, "p50_us");
    p.p95_us = r.Get<int64_t>(v, "p95_us");
    p.p99_us = r.Get<int64_t>(v, "p99_us");
    p.error_rate = r.Get<double>(v, "error_rate");
    p.pass = r.Get<bool>(v, "pass");
    p.confirmation = r.Get<bool>(v, "confirmation");
    p.interrupted = r.Get<bool>(v, "interrupted");
    p.broken = r.Get<std::string>(v, "broken");
    const json& req = r.Sub(v, "requests");
    p.requests_total = r.Get<int64_t>(req, "total");
    p.requests_errors = r.Get<int64_t>(req, "errors");
    p.response_time_us = r.Hist(v, "histogram");
    s.curve.push_back(std::move(p));
  }
  return s;
}

PhaseResult ReadPhase(Reader& r, const json& j) {
  PhaseResult p;
  p.name = r.Get<std::string>(j, "name");
  p.kind = r.Get<std::string>(j, "kind");
  p.model = r.Get<std::string>(j, "model") == "closed" ? LoadModel::kClosed : LoadModel::kOpen;
  p.status = StatusOf(r, r.Get<std::string>(j, "status"));
  p.offset_s = r.Get<double>(j, "offset_s");
  p.duration_s = r.Get<double>(j, "duration_s");
  p.elapsed_s = r.Get<double>(j, "elapsed_s");
  p.section = ReadSection(r, j);
  p.section.name = p.name;
  p.requests = ReadSections(r, r.Sub(j, "requests_by_name"));
  p.series = ReadSeries(r, r.Sub(j, "series"));
  if (const json& st = r.Sub(j, "stress"); st.is_object()) p.stress = ReadStress(r, st);
  if (const json& sp = r.Sub(j, "spike"); sp.is_object()) {
    SpikeResult s;
    s.from_rps = r.Get<double>(sp, "from_rps");
    s.to_rps = r.Get<double>(sp, "to_rps");
    s.hold_s = r.Get<double>(sp, "hold_s");
    s.slo = r.Get<std::string>(sp, "slo");
    s.recovered = r.Get<bool>(sp, "recovered");
    s.recovery_s = OptionalDouble(r, sp, "recovery_s");
    p.spike = s;
  }
  if (const json& so = r.Sub(j, "soak"); so.is_object()) {
    SoakResult s;
    s.window_s = r.Get<double>(so, "window_s");
    s.p95_drift = OptionalDouble(r, so, "p95_drift");
    s.p99_drift = OptionalDouble(r, so, "p99_drift");
    s.error_rate_drift = OptionalDouble(r, so, "error_rate_drift");
    s.throughput_drift = OptionalDouble(r, so, "throughput_drift");
    if (auto v = OptionalDouble(r, so, "first_p95_us")) s.first_p95_us = int64_t(*v);
    if (auto v = OptionalDouble(r, so, "last_p95_us")) s.last_p95_us = int64_t(*v);
    s.first_error_rate = OptionalDouble(r, so, "first_error_rate");
    s.last_error_rate = OptionalDouble(r, so, "last_error_rate");
    p.soak = s;
  }
  return p;
}

Transport ReadTransport(Reader& r, const json& j) {
  Transport t;
  t.scheme = r.Get<std::string>(j, "scheme", "http");
  t.protocol = r.Get<std::string>(j, "protocol", "http/1.1");
  if (const json& tls = r.Sub(j, "tls"); tls.is_object()) {
    t.tls = true;
    t.tls_verify = r.Get<bool>(tls, "verify", true);
    t.tls_version = r.Get<std::string>(tls, "version");
    t.tls_cipher = r.Get<std::string>(tls, "cipher");
    t.tls_handshakes_new = r.Get<int64_t>(tls, "handshakes_new");
    t.tls_handshakes_resumed = r.Get<int64_t>(tls, "handshakes_resumed");
    t.tls_handshake_time_us = r.Hist(tls, "handshake_time_histogram");
    t.first_tls_error = r.Get<std::string>(tls, "first_error");
  }
  if (const json& h2 = r.Sub(j, "h2"); h2.is_object()) {
    t.h2 = true;
    t.h2_max_streams = r.Get<int>(h2, "max_streams");
    t.h2_peak_streams = r.Get<int>(h2, "peak_streams_per_connection");
    t.h2_goaways = r.Get<int64_t>(h2, "goaways_received");
    t.h2_resets = r.Get<int64_t>(h2, "rst_streams_received");
    t.h2_retried = r.Get<int64_t>(h2, "requests_retried");
    t.first_h2_error = r.Get<std::string>(h2, "first_error");
  }
  return t;
}

}  // namespace

Result<Results> ResultsFromJson(const json& j, const std::string& source) {
  Reader r(source);
  if (!j.is_object() || r.Get<std::string>(j, "schema") != kResultsSchema) {
    return Fail(source + ": not a headroom results file (expected \"schema\": \"" + std::string(kResultsSchema) + "\")");
  }
  Results out;
  out.tool_version = r.Get<std::string>(r.Sub(j, "tool"), "version");
  out.started_at_us = r.Get<int64_t>(j, "started_at_us");
  out.target = r.Get<std::string>(j, "target");
  out.method = r.Get<std::string>(j, "method", "GET");
  out.model = r.Get<std::string>(j, "model") == "open" ? LoadModel::kOpen : LoadModel::kClosed;
  out.arrival = r.Get<std::string>(j, "arrival");
  out.threads = r.Get<int>(j, "threads");
  out.connections = r.Get<int>(j, "connections");
  out.duration_s = r.Get<double>(j, "duration_s");
  out.elapsed_s = r.Get<double>(j, "elapsed_s");
  out.interrupted = r.Get<bool>(j, "interrupted");
  out.notices = r.Get<std::vector<std::string>>(j, "notices");
  out.complete = r.Get<bool>(j, "complete", true);
  const json& bytes = r.Sub(j, "bytes");
  out.bytes_read = r.Get<int64_t>(bytes, "read");
  out.bytes_written = r.Get<int64_t>(bytes, "written");
  out.overall = ReadSection(r, j);
  out.overall.name.clear();
  out.requests = ReadSections(r, r.Sub(j, "requests_by_name"));
  const json& g = r.Sub(j, "generator");
  out.generator.pacer_lateness_us = r.Hist(g, "pacer_lateness_histogram");
  out.generator.delayed = r.Get<int64_t>(g, "delayed_requests");
  out.generator.waited_at_cap = r.Get<int64_t>(g, "waited_at_cap_requests");
  out.generator.max_queue_depth = r.Get<int64_t>(g, "max_queue_depth");
  out.generator.unfinished = r.Get<int64_t>(g, "unfinished_requests");
  out.generator.connections_opened = r.Get<int64_t>(g, "connections_opened");
  out.generator.connect_attempts = r.Get<int64_t>(g, "connect_attempts");
  out.generator.cpu_user_s = r.Get<double>(g, "cpu_user_s");
  out.generator.cpu_system_s = r.Get<double>(g, "cpu_system_s");
  out.generator.rss_bytes = r.Get<int64_t>(g, "rss_bytes");
  if (const json& t = r.Sub(j, "transport"); t.is_object()) out.transport = ReadTransport(r, t);
  out.series = ReadSeries(r, r.Sub(j, "series"));
  out.scenario = r.Get<std::string>(j, "scenario");
  out.tiers_series = r.Get<std::string>(j, "tiers_series");
  const std::string verdict = r.Get<std::string>(j, "verdict");
  out.verdict = verdict == "PASS" ? Verdict::kPass : verdict == "INTERRUPTED" ? Verdict::kInterrupted : Verdict::kFail;
  if (const json& phases = r.Sub(j, "phases"); phases.is_array()) {
    for (const json& p : phases) out.phases.push_back(ReadPhase(r, p));
  }
  if (const json& s = r.Sub(j, "shard"); s.is_object()) {
    ShardInfo info;
    info.index = r.Get<int>(s, "index");
    info.count = r.Get<int>(s, "count", 1);
    info.start_at_us = r.Get<int64_t>(s, "start_at_us");
    info.started_us = r.Get<int64_t>(s, "started_us");
    info.scenario_hash = r.Get<std::string>(s, "scenario_hash");
    out.shard = info;
  }
  if (!r.ok()) return Fail(r.error());
  return out;
}

Result<Section> SectionFromJson(const json& j, const std::string& source) {
  Reader r(source);
  Section s = ReadSection(r, j);
  if (!r.ok()) return Fail(r.error());
  return s;
}

Result<Results> ReadResultsFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(path + ": cannot read");
  std::ostringstream text;
  text << in.rdbuf();
  json j = json::parse(text.str(), nullptr, false);
  if (j.is_discarded()) return Fail(path + ": not valid JSON");
  return ResultsFromJson(j, path);
}

}  // namespace headroom::report
