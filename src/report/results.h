// The results model: what a run measured, independent of the engine, and its JSON form
// (schema kResultsSchema, "headroom.results/3", documented field by field in docs/results.md). Every consumer
// (gate, report, merge, plan) reads this; nothing reaches into the engine.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/histogram.h"
#include "core/status.h"

namespace headroom::report {

inline constexpr const char* kResultsSchema = "headroom.results/3";

// How a phase ended. Named only where JSON, Markdown and text are written (PhaseStatusName).
enum class PhaseStatus { kPassed, kFailed, kAborted, kSkipped, kInterrupted, kRunning };
// The load model of a phase or a run.
enum class LoadModel { kOpen, kClosed };
// The run's verdict: every SLO held, one failed (or nothing succeeded), or the run was stopped by a
// signal before it finished (an incomplete run is never a pass). Exit codes: 0, 1, 3.
enum class Verdict { kPass, kFail, kInterrupted };

std::string_view PhaseStatusName(PhaseStatus s);  // "passed", "failed", ...
std::string_view LoadModelName(LoadModel m);      // "open" | "closed"
std::string_view VerdictName(Verdict v);          // "PASS" | "FAIL" | "INTERRUPTED"
int VerdictExitCode(Verdict v);                   // 0 | 1 | 3

struct SloResult {
  std::string expr;
  double observed = 0;       // in the objective's unit: us for latency, fraction for rates, req/s for rps
  std::string observed_text; // human form, e.g. "312.4ms"
  bool pass = false;
};

// One scope of measurement: the whole run, a phase or a request name.
struct Section {
  std::string name;
  int64_t requests_total = 0;   // completed + failed
  int64_t requests_ok = 0;
  int64_t requests_errors = 0;
  double achieved_rps = 0;      // completed responses per second of the scope
  std::optional<double> requested_rps;  // open model only
  Histogram response_time_us;
  Histogram service_time_us;
  std::map<std::string, int64_t> errors_by_class;
  std::string check_failure;  // why the first response that failed its checks failed ("" = none);
                              // in a section of several requests it starts with "REQUEST: "
  std::map<int, int64_t> status_codes;
  std::vector<SloResult> slo;
  // errors / (ok + errors); 0 when nothing completed.
  double error_rate() const { return requests_total ? double(requests_errors) / double(requests_total) : 0.0; }
};

struct SecondRow {
  int64_t second = 0;
  double span_s = 1.0;
  int64_t intended = 0;
  int64_t completed = 0;
  int64_t ok = 0;
  int64_t errors = 0;
  int64_t p50_us = 0, p90_us = 0, p95_us = 0, p99_us = 0, max_us = 0;
  double mean_us = 0;
  std::string histogram;  // interval histogram, HdrHistogram V2 compressed base64
};

struct Generator {
  Histogram pacer_lateness_us;
  int64_t delayed = 0;           // requests that waited in the generator for a free connection
  int64_t waited_at_cap = 0;     // of those, requests that waited while the connection cap was reached
  int64_t max_queue_depth = 0;
  int64_t unfinished = 0;
  int64_t connections_opened = 0;  // connections established (the TCP handshake completed)
  int64_t connect_attempts = 0;    // connections tried, established or not
  Histogram connect_time_us;       // TCP connect time of each established connection
  double cpu_user_s = 0;
  double cpu_system_s = 0;
  int64_t rss_bytes = 0;
  std::string io = "epoll";  // the engine's I/O path that ran: "epoll" | "uring"
};

// What one watched tier did during a phase (or a stress step): per source, each metric's window
// aggregates (docs/collect.md names them) and the top statements/commands/tables.
struct TierMetricResult {
  std::string name;
  std::string type;  // "gauge" | "rate"
  int64_t samples = 0;
  double mean = 0, min = 0, max = 0, last = 0;
  double total = 0;  // rates: the counter's increase over the window
};

struct TierActivityResult {
  std::string group;  // "statements", "commands", "tables"
  std::string key;
  std::vector<std::pair<std::string, double>> counts;
};

struct TierSourceResult {
  std::string label;  // the spec, passwords redacted
  std::string kind;   // host | process | prometheus | postgres | redis
  int64_t samples = 0, failures = 0;
  std::string error;  // the first failure in the window
  std::vector<TierMetricResult> metrics;
  std::vector<std::pair<std::string, std::string>> attributes;
  std::vector<TierActivityResult> top;
};

struct TierResult {
  std::string name;
  std::string kind;
  std::vector<TierSourceResult> sources;
};

// One rate tried by a stress phase.
struct StressPoint {
  double rate_rps = 0;       // requested
  double achieved_rps = 0;
  int64_t p50_us = 0, p95_us = 0, p99_us = 0;
  double error_rate = 0;
  bool pass = false;         // every SLO of the phase held at this rate
  bool confirmation = false; // a repeat of an earlier rate (stress `confirm`)
  std::string broken;        // the first SLO that broke, as written
  // A signal (or an abort) cut the step short: it was not judged (pass false, broken empty), not
  // fed to the breakpoint search and not counted in the capacity; achieved_rps covers the time it ran.
  bool interrupted = false;
  std::vector<TierResult> tiers;  // the watched tiers during this step
  // The step's own figures, so that shards' steps merge exactly (headroom merge).
  int64_t requests_total = 0, requests_errors = 0;
  Histogram response_time_us;
};

struct StressResult {
  std::optional<double> capacity_rps;  // highest rate at which every SLO held; none if the first rate failed
  bool confirmed = false;              // the capacity rate passed its repeat
  bool reached_ceiling = false;        // no SLO broke up to the ceiling
  std::vector<StressPoint> curve;      // in the order tried
};

struct SpikeResult {
  double from_rps = 0, to_rps = 0;
  double hold_s = 0;
  std::string slo;                       // the latency SLO recovery is judged on ("" = none applies)
  std::optional<double> recovery_s;      // from the end of the hold until p95 is back within the SLO
  bool recovered = false;
};

// Drift is measured only when a request ended in both the first and the last window; otherwise
// (e.g. the phase was interrupted or aborted before its last window) every drift figure is empty.
struct SoakResult {
  double window_s = 0;
  // Relative change last window vs first window: (last - first) / first (+inf from 0 to above 0).
  // Empty when not measured; p95/p99 drift also when a window has no response time (every request
  // failed before a response).
  std::optional<double> p95_drift, p99_drift, error_rate_drift, throughput_drift;
  // Each window's own figures: empty when no response (p95) or no request (error rate) ended in it.
  std::optional<int64_t> first_p95_us, last_p95_us;
  std::optional<double> first_error_rate, last_error_rate;
  bool measured() const { return first_error_rate.has_value() && last_error_rate.has_value(); }
};

// Why a soak phase's drift was not measured ("no request ended in the last window"), or "" when it was.
std::string DriftNotMeasured(const SoakResult& s);

struct PhaseResult {
  std::string name;
  std::string kind;        // baseline | ramp | spike | soak | stress | closed | run
  LoadModel model = LoadModel::kOpen;
  PhaseStatus status = PhaseStatus::kPassed;
  double duration_s = 0;   // planned (stress: the sum of its steps)
  double elapsed_s = 0;
  double offset_s = 0;     // start, seconds after the run's start
  Section section;         // the phase's figures and SLO verdicts
  std::vector<Section> requests;  // per request name
  std::vector<SecondRow> series;
  std::optional<StressResult> stress;
  std::optional<SpikeResult> spike;
  std::optional<SoakResult> soak;
  std::vector<TierResult> tiers;  // the watched tiers during the phase (empty when none is watched)
};

// One shard of a test run by several processes (headroom run --shard I/N, docs/distributed.md).
struct ShardInfo {
  int index = 0;
  int count = 1;
  int64_t start_at_us = 0;    // the agreed start (--start-at), Unix epoch microseconds
  int64_t started_us = 0;     // when this shard's first phase actually started, by its own clock
  std::string scenario_hash;  // of the scenario as run before sharding (file, --env, --target...)
};

// What `headroom merge` combined into these results.
struct MergeInfo {
  int shards = 0;
  std::string scenario_hash;
  int64_t start_at_us = 0;
  double start_spread_s = 0;  // latest minus earliest shard start
};

// How the connections were made: results.json `transport`.
struct Transport {
  std::string scheme = "http";        // "http" | "https"
  std::string protocol = "http/1.1";  // the application protocol spoken
  bool tls = false;
  bool tls_verify = true;             // false: --insecure, certificates were not checked
  std::string tls_version;            // of the first completed handshake ("" = none completed)
  std::string tls_cipher;
  int64_t tls_handshakes_new = 0;
  int64_t tls_handshakes_resumed = 0;
  Histogram tls_handshake_time_us;
  std::string first_tls_error;        // "tls_verify: certificate expired ..." ("" = none)
  // HTTP/2 (protocol "h2" or "h2c"): results.json transport.h2.
  bool h2 = false;
  int h2_max_streams = 0;     // streams per connection allowed (--max-streams or the server's SETTINGS)
  int h2_peak_streams = 0;    // most requests in flight on one connection at once
  int64_t h2_goaways = 0;     // GOAWAY frames received
  int64_t h2_resets = 0;      // RST_STREAM frames received
  int64_t h2_retried = 0;     // requests sent again on another connection after a GOAWAY or REFUSED_STREAM
  std::string first_h2_error; // "h2_protocol: ..." ("" = none)
};

struct Results {
  std::string tool_version;
  int64_t started_at_us = 0;    // wall clock, Unix epoch microseconds
  std::string target;           // URL or scenario name
  std::string method = "GET";
  LoadModel model = LoadModel::kClosed;
  std::string arrival;          // "uniform" | "poisson" (open model)
  int threads = 0;
  int connections = 0;
  double duration_s = 0;        // requested
  double elapsed_s = 0;         // measured
  bool interrupted = false;      // a stop signal ended the run early (verdict INTERRUPTED)
  std::vector<std::string> notices;  // things the user must know (e.g. no connection ever established)
  bool complete = true;         // false while a run is still writing (periodic checkpoints)
  int64_t bytes_read = 0;
  int64_t bytes_written = 0;
  Section overall;
  std::vector<Section> requests;  // per request name
  Generator generator;
  Transport transport;
  std::vector<SecondRow> series;   // the whole run, seconds from its start
  std::string scenario;            // scenario name ("" for a plain URL run)
  std::vector<PhaseResult> phases; // a plain URL run has one phase named "run"
  std::string tiers_series;        // "tiers.jsonl" when watched tiers were sampled into the output folder
  Verdict verdict = Verdict::kPass;  // see Verdict
  std::optional<ShardInfo> shard;    // set when this run is one shard of a distributed test
  std::optional<MergeInfo> merged;   // set on results written by headroom merge
  bool passed() const { return verdict == Verdict::kPass; }
};

// The first failed response check of each request, "REQUEST: why" (docs/scenario.md, "Response
// checks"); the run's overall example when no request section has one. Empty when none failed.
std::vector<std::string> CheckFailures(const Results& r);

// Reads results.json back into the model (results_read.cc): every field headroom merge needs.
// Not read back: the watched tiers (phases' and steps' `tiers`) and the per-second histograms,
// which live in results.hlog. Errors are one line naming `source`.
Result<Results> ResultsFromJson(const nlohmann::json& j, const std::string& source);
// One section as SectionJson writes it (with its histograms).
Result<Section> SectionFromJson(const nlohmann::json& j, const std::string& source);
Result<Results> ReadResultsFile(const std::string& path);

// Percentile summary object {p50,p90,p95,p99,p99_9,max,mean,min,count} in microseconds.
nlohmann::ordered_json LatencyJson(const Histogram& h);
nlohmann::ordered_json SectionJson(const Section& s);
nlohmann::ordered_json PhaseJson(const PhaseResult& p);
nlohmann::ordered_json TiersJson(const std::vector<TierResult>& tiers);
// Per-second rows; the interval histograms are written once, in the run's top-level series.
nlohmann::ordered_json SeriesJson(const std::vector<SecondRow>& rows, bool with_histograms);
nlohmann::ordered_json ToJson(const Results& r);

// Writes text to path atomically (temporary file in the same folder, fsync, rename).
Status WriteFileAtomic(const std::string& path, const std::string& text);
// Writes ToJson(r).dump(2) plus a newline to path, atomically as WriteFileAtomic does, but
// streams the per-second series row by row instead of building them as one tree and one string:
// the memory it needs does not grow with the length of the run (beyond the rows themselves).
Status WriteResultsJson(const Results& r, const std::string& path);
// DIR/results.json and DIR/series.csv; creates DIR.
Status WriteResults(const Results& r, const std::string& dir);
std::string SeriesCsv(const Results& r);

}  // namespace headroom::report
