// Phase execution: runs a list of phases (from a scenario file, or the single phase of a plain
// `headroom run URL`) one engine run per phase (per step for stress) and turns them into the results
// model: per-phase SLO verdicts, the stress breakpoint search, spike recovery, soak drift,
// abort-on-fail, periodic checkpoints of results.json, results.hlog streamed second by second, and
// the run's verdict (an interrupted run is never a pass).
//
// The engine is reached through PhaseRunner, a one-method interface with two implementations: the
// real engine (MakeEngineRunner) and a fake that replays scripted seconds (exec/fake_runner.h, for
// tests). Progress is reported through Progress, so printing stays in the caller.
//
// Thread-safety: Execute runs on the calling thread; the runner calls back on that thread.
#pragma once
#include <atomic>
#include <functional>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "collect/collect.h"
#include "core/status.h"
#include "engine/engine.h"
#include "report/hlog.h"
#include "report/results.h"
#include "scenario/scenario.h"
#include "slo/slo.h"

namespace headroom::exec {

// Runs one engine configuration. on_second is called once per completed second, in order, on the
// calling thread; the returned stats cover the whole run.
class PhaseRunner {
 public:
  virtual ~PhaseRunner() = default;
  virtual Result<engine::RunStats> Run(const engine::Config& config, const engine::SecondCallback& on_second) = 0;
};

// The real engine.
std::unique_ptr<PhaseRunner> MakeEngineRunner();

// Receives progress as the run goes on (a terminal line, a CI log line...). Default: nothing.
class Progress {
 public:
  virtual ~Progress() = default;
  // `label` names the phase (and the stress step and its rate); `total_s` is the planned length of
  // this engine run.
  virtual void OnSecond(const std::string& label, double total_s, const report::SecondRow& row) {}
  virtual void OnRunEnd() {}
  // One-line notices worth a user's attention (e.g. no connection established so far).
  virtual void OnNotice(const std::string& text) {}
};

// The run's state as it goes, for Prometheus to scrape (`headroom run --metrics-listen`,
// docs/report.md#live-metrics). The executor feeds it (OnSecond from the engine's per-second
// callback, OnEngineRun after each phase or stress step, OnTierSample from the tier watcher's
// thread); Exposition() may be called from any thread at any time. Thread-safe (one mutex).
class LiveMetrics {
 public:
  // Response-time histogram bucket bounds, in seconds (plus +Inf).
  static constexpr double kBucketsS[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                         0.25,   0.5,   1,      2.5,   5,    10};
  void OnPhase(const std::string& phase, const std::string& label, double requested_rps);
  void OnSecond(const engine::SecondStats& s);
  void OnEngineRun(const engine::RunStats& stats);
  void OnTierSample(const collect::SampleRecord& r);
  void OnRunEnd(std::string_view verdict);
  // The Prometheus text format (0.0.4).
  std::string Exposition() const;

 private:
  struct RequestCounts {
    int64_t requests = 0, errors = 0;
  };
  mutable std::mutex mu_;
  std::string phase_, label_, verdict_;
  int64_t phases_started_ = 0;
  double requested_rps_ = 0, intended_rps_ = 0, achieved_rps_ = 0, errors_rps_ = 0;
  double seconds_ = 0;
  engine::Counters counters_;
  std::vector<int64_t> bucket_counts_ = std::vector<int64_t>(std::size(kBucketsS) + 1, 0);
  double sum_s_ = 0;
  int64_t count_ = 0;
  std::map<std::string, RequestCounts> by_name_;
  double pacer_p99_s_ = -1, pacer_max_s_ = -1;
  // tier, source, metric -> latest value
  std::map<std::tuple<std::string, std::string, std::string>, double> tiers_;
  std::map<std::pair<std::string, std::string>, int64_t> tier_failures_;
};

// Serves LiveMetrics::Exposition() over HTTP (GET /metrics) on its own thread until destroyed.
class MetricsServer {
 public:
  // `listen` is PORT or HOST:PORT (HOST a numeric address; [::1]:PORT for IPv6); without a host,
  // 127.0.0.1. A non-loopback address is refused unless allow_remote (--metrics-allow-remote).
  // Errors are one line. REQUIRES: metrics outlives the server.
  static Result<std::unique_ptr<MetricsServer>> Start(const std::string& listen, bool allow_remote,
                                                      const LiveMetrics* metrics);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;
  std::string url() const { return url_; }  // http://HOST:PORT/metrics (the port the kernel chose for 0)

 private:
  MetricsServer() = default;
  void Serve();
  int fd_ = -1;
  std::string url_;
  const LiveMetrics* metrics_ = nullptr;
  std::atomic<bool> stop_{false};
  std::unique_ptr<std::thread> thread_;
};

// One shard of a test run by several processes (headroom run --shard I/N, docs/distributed.md).
// The plan's phases already hold this shard's share (scenario::ShardScenario); the executor offsets
// uniform arrivals by index/count of an interval, seeds Poisson arrivals per shard, starts the run
// at start_at_us and each later phase at a wall-clock time every shard computes alike.
struct ShardPlan {
  scenario::ShardSpec spec;
  int64_t start_at_us = 0;    // wall clock, Unix epoch microseconds
  std::string scenario_hash;  // recorded in results.json for headroom merge
  // Stress phases: the folder (shared by every shard) where each step's figures are exchanged, so
  // that every shard judges each step on the merged figures and the searches stay in step.
  std::string sync_dir;
  int64_t sync_timeout_ns = 60'000'000'000;  // how long a step waits for the other shards
};

// A phase after the first starts this long after the previous one's planned end (the engine's
// drain of at most 1 s fits in it), on every shard alike.
inline constexpr int64_t kShardPhaseGapUs = 1'500'000;

struct ExecPlan {
  std::string target;    // shown in outputs
  std::string scenario;  // scenario name; "" for a plain URL run
  std::string method = "GET";
  sys::Address address;
  engine::TlsOptions tls;  // https:// targets
  engine::HttpOptions http;  // HTTP/1.1, HTTP/2 (h2 by ALPN, h2c), streams per connection
  const engine::RequestSource* source = nullptr;  // REQUIRES: outlives Execute
  std::vector<scenario::Phase> phases;
  std::vector<scenario::SloSpec> slos;  // apply to every phase
  scenario::AbortOnFail abort_on_fail;
  int threads = 1;
  int64_t timeout_ns = 10'000'000'000;
  uint64_t seed = 1;
  engine::Io io = engine::Io::kAuto;  // the engine's I/O path; kAuto's fallback to epoll is a notice
  std::string out_dir;   // "" = write nothing; else results.json (+ checkpoints every 10 s) and friends
  // Set (by a signal handler) to stop the run: the verdict becomes INTERRUPTED. May be null.
  const std::atomic<bool>* stop = nullptr;
  PhaseRunner* runner = nullptr;  // null = the real engine
  Progress* progress = nullptr;   // null = silent
  // Pause between stress steps so the target drains its queue; counted in the phase's elapsed time.
  int64_t stress_cool_down_ns = 1'000'000'000;
  // Tiers watched beside the run (docs/collect.md), sampled on a thread of their own from the
  // run's start to its end, summarized per phase and per stress step; SLOs on tier metrics are
  // judged on those summaries. Samples go to OUT/tiers.jsonl when out_dir is set.
  std::vector<collect::TierSpec> tiers;
  // The run's live state for --metrics-listen; null = none.
  LiveMetrics* live = nullptr;
  // Set when this run is one shard of a distributed test.
  std::optional<ShardPlan> shard;
  // Tests: makes each tier's sources instead of the real ones. Empty = real sources.
  std::function<std::unique_ptr<collect::Source>(const collect::TierSpec&, const collect::WatchSpec&)> make_source;
};

// The tiers of a scenario file, and those added with `--watch [NAME=]KIND[:ARG]` (NAME defaults to
// host, the process name, db, cache or metrics by kind). Errors are one line.
Result<std::vector<collect::TierSpec>> TierSpecs(const std::vector<scenario::Tier>& tiers,
                                                 const std::vector<std::string>& watch);

// Runs every phase in order. Errors are set-up problems only (bad SLO text, engine start failure).
Result<report::Results> Execute(const ExecPlan& plan);

// Parses the SLOs that apply to a phase (top-level + the phase's own), request prefixes kept.
Result<std::vector<slo::Objective>> PhaseObjectives(const std::vector<scenario::SloSpec>& top,
                                                    const scenario::Phase& phase);

// Writes DIR/results.json, series.csv, junit.xml, summary.md and report.html (results.hlog is
// streamed by Execute).
Status WriteAllOutputs(const report::Results& results, const std::string& dir);

// Writes DIR/report.html (docs/report.md) from DIR/results.json, the tiers.jsonl it names and, when
// plan_dir is not empty, PLAN_DIR/plan.json (or plan_dir itself when it is a file). Returns the
// page's path. Errors (one line): no results.json, not a results file, not a plan.
Result<std::string> WriteHtmlReport(const std::string& dir, const std::string& plan_dir);

// headroom merge (docs/distributed.md): the results of a test's shards, combined exactly.
struct ShardOutput {
  std::string dir;
  report::Results results;
  std::vector<report::HlogInterval> seconds;  // results.hlog: one per row of results.series
};
// The shard folders named by `headroom merge` arguments: a folder holding results.json is one
// shard; a folder without one stands for its subfolders that hold one (sorted). Errors are one line.
Result<std::vector<std::string>> ShardFolders(const std::vector<std::string>& args);
// Reads DIR/results.json and DIR/results.hlog.
Result<ShardOutput> ReadShardOutput(const std::string& dir);
struct MergeOptions {
  double max_start_spread_s = 1.0;  // refuse shards whose first phases started further apart
};
struct Merged {
  report::Results results;
  std::vector<Histogram> seconds;  // per row of results.series
};
// Refuses (one line): results that are not shards', shards of different counts, scenarios or
// --start-at, a duplicated or missing index (named), an unfinished or interrupted shard (named),
// starts further apart than the options allow, different phase lists. Otherwise sums counters,
// adds histograms bucket by bucket, aligns per-second rows on seconds after --start-at, combines
// stress steps, and judges every phase's SLOs once on the merged figures.
Result<Merged> MergeShards(const std::vector<ShardOutput>& shards, const MergeOptions& options);
// DIR/results.hlog (merged seconds) and everything WriteAllOutputs writes.
Status WriteMerged(const Merged& merged, const std::string& dir);
// Counters summed, histograms added, rates summed (each shard's cover the same time); no SLOs.
report::Section MergeSections(const std::vector<const report::Section*>& parts);

// Adapts a scenario's compiled requests to the engine: each worker gets its own render context and
// picks requests by weight. REQUIRES: requests compiled from `scenario`, in the same order.
// Shard I of N renders seq() values that no other shard renders.
std::unique_ptr<engine::RequestSource> MakeScenarioSource(const scenario::Scenario& scenario,
                                                          std::vector<scenario::CompiledRequest> requests,
                                                          scenario::WeightedPicker picker, int worker_count,
                                                          int shard_index = 0, int shard_count = 1);

}  // namespace headroom::exec
