// Samplers that watch the tiers beside a load test: the host, processes, any Prometheus exporter,
// PostgreSQL (libpq) and Redis (hiredis). A Watcher samples every source of every tier once per
// interval on one thread of its own, timestamps samples on the run's clock, streams each sample
// to a sink and keeps only running aggregates per time window (memory stays flat over long runs).
//
//   auto specs = ParseTierSpec("db", "database", {"postgres:host=127.0.0.1 dbname=shop",
//                                                 "process:postgres"}, 1'000'000'000);
//   WatcherOptions options{.origin_ns = run_start_ns, .sink = JsonLinesSink("tiers.jsonl"),
//                          .on_message = [](const std::string& m) { print(m); }};
//   auto watcher = Watcher::Start({*specs}, std::move(options));
//   ... (*watcher)->Mark(phase_start_s) ... (*watcher)->Mark(phase_end_s) ...
//   (*watcher)->Stop();
//   Summary phase = (*watcher)->Summarize(phase_start_s, phase_end_s);
//
// Metric names carry their unit ("_bytes", "_per_s", "_ratio" for fractions 0..1, "_s", "_ms").
// Every metric a source kind can produce is listed in docs/collect.md.
//
// Passwords: a source's label() and every message redact a conninfo password ("password=***");
// libpq's PGPASSWORD/PGPASSFILE environment and ~/.pgpass still work because the conninfo is
// handed to libpq unchanged.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace headroom::collect {

// ---------------------------------------------------------------------------------------------
// Readings
// ---------------------------------------------------------------------------------------------

enum class MetricType {
  kGauge,  // a value at the sample time (bytes in use, connections), or a ratio over the interval
  kRate,   // per second over the interval since the previous sample (from counter deltas); a
           // window's total (rate x interval, summed) is the counter's increase
};

struct Metric {
  std::string name;  // e.g. "cpu_ratio", "net.eth0.rx_bytes_per_s", "conns.active"
  double value = 0;
  MetricType type = MetricType::kGauge;
};

// One named count of an Activity ("calls", "time_ms", "rows"...), a delta over the interval.
struct Count {
  std::string name;
  double value = 0;
};

// What one statement (PostgreSQL), command (Redis) or table (PostgreSQL) did during one interval.
// Counts are deltas; counts[0] is the ranking key (time_ms for statements and commands,
// seq_tup_read for tables). All activities of one group carry the same count names, same order.
struct Activity {
  std::string group;  // "statements", "commands", "tables"
  std::string key;    // statement text (at most 200 bytes), command name, schema.table
  std::vector<Count> counts;
};

// One read of one source.
struct Reading {
  std::vector<Metric> metrics;
  std::vector<Activity> activity;
  // Facts that are text, not numbers: "maxmemory_policy" -> "allkeys-lru",
  // "statements" -> "pg_stat_statements is not installed ...". The latest value is kept.
  std::vector<std::pair<std::string, std::string>> attributes;
};

// ---------------------------------------------------------------------------------------------
// Sources
// ---------------------------------------------------------------------------------------------

enum class SourceKind { kHost, kProcess, kPrometheus, kPostgres, kRedis, kFake };
// "host", "process", "prometheus", "postgres", "redis", "fake".
std::string_view SourceKindName(SourceKind kind);

// A parsed `KIND[:ARG]` watch spec.
struct WatchSpec {
  SourceKind kind = SourceKind::kHost;
  std::string arg;    // process: name or pid; prometheus: URL; postgres: conninfo; redis: host:port
  std::string label;  // the spec as printed: kind:arg with any password redacted
  std::vector<std::string> selectors;  // prometheus only: metric names, "prefix*" allowed
};

// "host", "process:postgres", "process:1234", "prometheus:http://127.0.0.1:9100/metrics",
// "postgres:host=127.0.0.1 port=5432 dbname=x" (or a postgresql:// URI), "redis:127.0.0.1:6379".
// Errors are one line without the spec's position (callers add it), with a did-you-mean for a
// misspelt kind. Never contacts anything.
Result<WatchSpec> ParseWatchSpec(std::string_view text);

// `conninfo` with the value of any password (key=value form or URI) replaced by "***".
std::string RedactConninfo(std::string_view conninfo);

// One watched thing. Implementations keep the previous counters to turn them into rates.
// Not thread-safe: the Watcher calls a source from its own thread only.
class Source {
 public:
  virtual ~Source() = default;
  virtual SourceKind kind() const = 0;
  // The spec as printed (passwords redacted).
  virtual const std::string& label() const = 0;
  // Reads once. `now_ns` is CLOCK_MONOTONIC. Rates are computed against the previous successful
  // Read, so the first Read (and the first after a failure) returns gauges only. An Error is one
  // line naming what failed ("connection refused", "process 'x' not found"); after one, the next
  // Read tries again from scratch (reconnects).
  virtual Result<Reading> Read(int64_t now_ns) = 0;
};

// Options for the sources that need them. Time limits bound every network call (connect,
// request, reply): a slow server costs at most this per sample.
struct SourceOptions {
  int64_t timeout_ns = 2'000'000'000;
  std::string proc_root = "/proc";  // host and process sources read procfs here (tests: fixtures)
  std::string sys_root = "/sys";    // host source: /sys/block decides which disks are whole disks
};

// Builds the real source for a spec. Never contacts anything (the first Read does).
std::unique_ptr<Source> MakeSource(const WatchSpec& spec, const SourceOptions& options = {});

// A source for tests: returns the scripted results in order, then repeats the last one.
class FakeSource final : public Source {
 public:
  explicit FakeSource(std::string label, std::vector<Result<Reading>> script)
      : label_(std::move(label)), script_(std::move(script)) {}
  SourceKind kind() const override { return SourceKind::kFake; }
  const std::string& label() const override { return label_; }
  Result<Reading> Read(int64_t now_ns) override;
  int reads() const { return reads_; }

 private:
  std::string label_;
  std::vector<Result<Reading>> script_;
  int reads_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Prometheus text exposition format and OpenMetrics
// ---------------------------------------------------------------------------------------------

enum class PromType { kUntyped, kCounter, kGauge, kHistogram, kSummary, kGaugeHistogram, kInfo, kStateSet };

struct PromSample {
  std::string name;  // as written, e.g. "http_request_duration_seconds_bucket"
  std::vector<std::pair<std::string, std::string>> labels;  // unescaped values, file order
  double value = 0;
};

struct PromFamily {
  std::string name;  // from # TYPE; for samples without one, the sample name
  PromType type = PromType::kUntyped;
  std::vector<PromSample> samples;
};

struct PromParseOptions {
  size_t max_samples = 200'000;  // more is an error (protects memory from a runaway exporter)
};

// A series as the exposition format writes it: name{a="x",b="y"} with label values escaped
// (\\, \" and \n); labels named `skip_label` are left out. "name" alone without labels.
std::string PromSeriesName(std::string_view name, const std::vector<std::pair<std::string, std::string>>& labels,
                           std::string_view skip_label = "");

// Parses a whole scrape body. Accepts the text format 0.0.4 and OpenMetrics 1.0 (which must end
// with "# EOF"; nothing may follow it). Timestamps and exemplars are read and dropped. An error
// names the 1-based line and what is wrong: "line 12: expected a value after the labels".
Result<std::vector<PromFamily>> ParsePrometheusText(std::string_view body, const PromParseOptions& options = {});

// ---------------------------------------------------------------------------------------------
// Tiers and the Watcher
// ---------------------------------------------------------------------------------------------

struct TierSpec {
  std::string name;  // "db"
  std::string kind;  // "database", "cache", "app", "queue", "host", ... (free text, for display)
  std::vector<WatchSpec> sources;
  int64_t interval_ns = 1'000'000'000;
};

// Parses every source spec of one tier; the first bad spec is the error, prefixed "source N: ".
Result<TierSpec> ParseTierSpec(std::string name, std::string kind, const std::vector<std::string>& sources,
                               int64_t interval_ns = 1'000'000'000, const std::vector<std::string>& selectors = {});

// One sample of one source as streamed to the sink. `t_s` is seconds since the run's origin,
// taken just before the source was read.
struct SampleRecord {
  std::string_view tier;
  std::string_view source;  // label (redacted)
  double t_s = 0;
  const Reading* reading = nullptr;  // null when the read failed
  std::string_view error;            // the failure, when reading is null
};

// Receives every sample, on the watcher's thread. Must not block for long.
using Sink = std::function<void(const SampleRecord&)>;

// A sink that appends one JSON object per line to `path` (created or truncated), flushed after
// each sample so a killed run keeps what was measured:
//   {"t":1.002,"tier":"db","source":"postgres:...","metrics":{"conns":12,...},
//    "activity":[{"group":"statements","key":"SELECT ...","calls":10,"time_ms":3.2}]}
//   {"t":2.001,"tier":"db","source":"postgres:...","error":"connection refused"}
Result<Sink> JsonLinesSink(const std::string& path);

struct MetricSummary {
  MetricType type = MetricType::kGauge;
  int64_t samples = 0;
  double mean = 0;
  double min = 0;
  double max = 0;
  double last = 0;
  double total = 0;  // kRate: the counter's increase over the window (sum of rate x interval)
};

struct ActivitySummary {
  std::string group;
  std::string key;
  std::vector<Count> counts;  // summed over the window
};

struct SourceSummary {
  std::string label;
  SourceKind kind = SourceKind::kHost;
  int64_t samples = 0;  // successful reads in the window
  int64_t failures = 0;
  std::string error;    // the first failure in the window, empty when none
  std::map<std::string, MetricSummary> metrics;
  std::map<std::string, std::string> attributes;
  // Per group, the top 10 keys by counts[0] over the window, largest first.
  std::vector<ActivitySummary> top;
};

struct TierSummary {
  std::string name;
  std::string kind;
  std::vector<SourceSummary> sources;  // in spec order
};

struct Summary {
  double from_s = 0, to_s = 0;  // the window covered: the marks nearest inside the request
  std::vector<TierSummary> tiers;
  // The summary of the first source of `kind` in tier `tier`, or null.
  const SourceSummary* Find(std::string_view tier, SourceKind kind) const;
  // The metric `metric` of the first source named `kind` ("redis", see SourceKindName) in tier
  // `tier` that has it, or null. This is the lookup SLO tier metrics are evaluated with.
  const MetricSummary* FindMetric(std::string_view tier, std::string_view kind, std::string_view metric) const;
};

struct WatcherOptions {
  int64_t origin_ns = 0;  // the run's time origin (CLOCK_MONOTONIC); 0 = when Start is called
  Sink sink;              // may be empty
  // Called once per source failure streak and once per note, on the watcher's thread, with a
  // one-line message to print: "tier db: postgres:host=... password=***: connection refused; the
  // run goes on without it". May be empty.
  std::function<void(const std::string&)> on_message;
  SourceOptions source_options;
  // Tests inject sources: when set, called instead of MakeSource for every spec.
  std::function<std::unique_ptr<Source>(const TierSpec&, const WatchSpec&)> make_source;
};

// Samples every source of every tier on one thread of its own. Aggregates are kept per segment
// between marks, so Summarize is exact for windows whose ends were marked.
//
// Thread-safety: Mark, Summarize and Stop may be called from any thread.
class Watcher {
 public:
  // Starts the thread; the first samples are taken at once (they only prime the rates).
  static Result<std::unique_ptr<Watcher>> Start(std::vector<TierSpec> tiers, WatcherOptions options);
  ~Watcher();  // stops the thread
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;

  // Seconds since the origin, now.
  double NowS() const;
  // Starts a new segment at run time t_s (seconds since the origin): samples timestamped after
  // t_s are aggregated apart from those before. Call at every phase and stress-step boundary.
  // A mark earlier than the last sample already aggregated is moved just after that sample.
  void Mark(double t_s);
  // Aggregates of the segments inside [from_s, to_s] (a segment is inside when it starts at or
  // after from_s and ends at or before to_s, 1 ms tolerance; the open last segment ends now).
  Summary Summarize(double from_s, double to_s) const;
  // Takes one last sample of every source, then stops the thread. Idempotent.
  void Stop();
  // Seconds of CPU the watcher's thread has used (for the overhead benchmark).
  double ThreadCpuSeconds() const;

 private:
  struct State;
  explicit Watcher(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace headroom::collect
