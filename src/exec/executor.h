// Private to the exec library: the executor that runs the phases of one ExecPlan, and the sums it
// keeps. The rules it applies live in exec/rules.h.
#pragma once
#include <atomic>
#include <mutex>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "exec/exec.h"
#include "exec/rules.h"

namespace headroom::exec {

// Fills a results section from engine counters and histograms; `seconds` is the time the figures
// cover (achieved_rps = completed / seconds).
void FillSection(report::Section& section, const engine::Counters& c, const Histogram& response_us,
                 const Histogram* service_us, double seconds);

// One row of the per-second series from the engine's snapshot.
report::SecondRow RowOf(const engine::SecondStats& s);
// Fills a per-second row's latency figures (p50...max, mean) from that second's histogram.
report::SecondRow WithLatency(report::SecondRow row, const Histogram& h);

// Sums of several engine runs (the steps of a stress phase, or the phases of a run).
struct Accumulator {
  engine::Counters counters;
  Histogram response_time_us;
  Histogram service_time_us;
  Histogram pacer_lateness_us;
  Histogram connect_time_us;
  Histogram tls_handshake_time_us;
  std::string tls_version, tls_cipher, alpn;  // of the first handshake of the run
  std::string protocol;  // of the first engine run: "http/1.1", "h2", "h2c"
  int h2_max_streams = 0, h2_peak_streams = 0;
  std::vector<engine::RequestStats> requests;
  double measured_s = 0;  // the time the figures cover (rates are per second of it)
  double elapsed_s = 0;
  double cpu_user_s = 0, cpu_system_s = 0;
  int64_t rss_bytes = 0;
  void Add(const engine::RunStats& s, double measured_s);
  report::Section MakeSection(std::string name) const;
  std::vector<report::Section> MakeRequestSections() const;
};

// What one engine run produced, plus the per-second extras the phase kinds need.
struct EngineRun {
  engine::RunStats stats;
  std::vector<report::SecondRow> rows;
  std::optional<std::string> aborted;  // abort_on_fail stopped it: the SLO that stayed broken
  std::vector<Histogram> seconds;      // spike phases only: each second's histogram
  std::optional<DriftWindows> windows;
};

// Evaluates objectives on a section (and the per-request sections for prefixed objectives); drift
// objectives use `windows` when given.
// Tier objectives are judged on `tiers` (null: nothing watched, so they fail as unmeasured).
std::vector<report::SloResult> Judge(const std::vector<slo::Objective>& objectives, const report::Section& section,
                                     const std::vector<report::Section>& by_name, const DriftWindows* windows,
                                     const collect::Summary* tiers);

// The results form of a watcher summary.
std::vector<report::TierResult> TierResults(const collect::Summary& summary);

bool AllPass(const std::vector<report::SloResult>& verdicts);

// A stress step's figures merged over every shard (headroom run --shard --sync-dir).
struct StepExchange {
  report::Section section;
  std::vector<report::Section> requests;
  bool interrupted = false;  // some shard's step was cut short
  int64_t last_end_us = 0;   // when the last shard finished the step (wall clock)
};

class Executor {
 public:
  explicit Executor(const ExecPlan& plan);
  ~Executor();
  Result<report::Results> Run();

 private:
  engine::Config BaseConfig(const scenario::Phase& phase) const;
  // One engine run with per-second bookkeeping. `abort_objectives` (may be null) are watched live.
  Result<EngineRun> RunEngine(const engine::Config& config, const scenario::Phase& phase, const std::string& label,
                              double total_s, const std::vector<slo::Objective>* abort_objectives);
  Result<report::PhaseResult> RunPhase(size_t index, const scenario::Phase& phase,
                                       const std::vector<slo::Objective>& objectives);
  Result<report::PhaseResult> RunStress(size_t index, const scenario::Phase& phase,
                                        const std::vector<slo::Objective>& objectives);  // stress.cc
  void FinishPhase(report::PhaseResult phase_result);
  // Rewrites results.json (complete: false) at most every 10 s, or now when forced; `phase` and
  // `rows` describe the phase in progress (null between phases).
  void Checkpoint(const scenario::Phase* phase, const std::vector<report::SecondRow>* rows, bool force);
  report::Results Assemble(bool complete, const report::PhaseResult* running,
                           const std::vector<report::SecondRow>* running_rows) const;
  bool Interrupted() const { return plan_.stop != nullptr && plan_.stop->load(); }
  bool Stopped() const { return Interrupted() || abort_.load(); }
  std::string Label(size_t index, const scenario::Phase& phase) const;
  void WriteHlogSecond(const engine::SecondStats& s);
  void CheckConnections(const engine::SecondStats& s);
  // A notice when a phase without SLOs failed many of its requests (its verdict only checks that
  // something succeeded).
  void WarnUngated(const report::PhaseResult& phase, bool no_objectives);
  // The "no connection established" notice, once, if nothing ever connected and attempts failed;
  // `when` says over what time ("in the first 3 s").
  void NoConnectionNotice(const std::string& when);
  // Shards: sleeps until next_start_us_; returns the seconds waited, or -1 when stopped meanwhile.
  // A late start is noted.
  double WaitForSlot(const std::string& what);
  // Shards: seconds since --start-at (the clock every shard's offsets are on).
  double ShardClockS() const;
  // Stress phases of a shard: writes this step's figures to the sync folder, waits for every
  // shard's and returns them merged (shard_sync.cc). Error: a shard did not report in time.
  Result<StepExchange> ExchangeStep(size_t phase_index, int step, const report::Section& mine,
                                    const std::vector<report::Section>& mine_by_name, bool interrupted);
  // Marks the start of a tier window (a phase or a stress step); returns its time (0 unwatched).
  double TierWindowStart();
  // Ends the window started at `from_s` and summarizes it; nullopt when no tier is watched.
  std::optional<collect::Summary> TierWindowEnd(double from_s);
  // Hands the watcher's messages (from its thread) to progress and notices, on the run's thread.
  void DrainTierMessages();

  const ExecPlan& plan_;
  std::unique_ptr<PhaseRunner> own_runner_;
  PhaseRunner* runner_;
  Progress silent_;
  Progress* progress_;
  std::atomic<bool> abort_{false};
  std::vector<report::PhaseResult> done_;
  Accumulator total_;
  std::vector<report::SecondRow> all_rows_;
  double offset_s_ = 0;
  // The phase being run, as far as the per-second snapshots tell (for checkpoints).
  engine::Counters running_counters_;
  Histogram running_us_;
  int64_t last_checkpoint_ns_ = 0;
  std::optional<sys::FileLock> out_lock_;  // held for the whole run: one run per output folder
  std::FILE* hlog_ = nullptr;  // results.hlog, written as the seconds arrive
  // Start of the next interval in results.hlog, seconds after the run's start: set to the phase's
  // offset when a phase starts, then advanced by each second, the drain after each engine run and
  // the pauses between stress steps, so intervals line up with the #[Phase] offsets.
  double hlog_at_s_ = 0;
  int64_t started_at_us_ = 0;
  // Connections: whether any was ever established, and whether the "none so far" notice was given.
  double run_s_ = 0;  // seconds of engine runs so far (the sum of the seconds' spans)
  bool ever_connected_ = false;
  bool warned_no_connection_ = false;
  int64_t connect_failures_ = 0;  // TLS handshake failures included
  int64_t tls_failures_ = 0;
  std::vector<std::string> notices_;  // for Results::notices
  engine::Io io_ = engine::Io::kEpoll;  // the I/O path the engine ran on
  std::string first_h2_error_;        // the run's first HTTP/2 protocol failure, with its reason
  std::string first_tls_error_;       // the run's first failed TLS handshake, with its reason
  std::unique_ptr<collect::Watcher> watcher_;
  std::mutex tier_messages_mu_;
  std::vector<std::string> tier_messages_;  // GUARDED_BY(tier_messages_mu_)
  collect::Sink watch_sink_;  // set when samples go to OUT/tiers.jsonl
  int64_t origin_ns_ = 0;  // the run's start on the monotonic clock (the tiers' time origin)
  int64_t next_start_us_ = 0;  // shards: wall-clock start of the next phase or stress step
  int64_t shard_started_us_ = 0;  // shards: when the first phase actually started
};

}  // namespace headroom::exec
