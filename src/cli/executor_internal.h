// Private to the executor: the state of one engine run as seen second by second.
#pragma once
#include <atomic>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/executor.h"
#include "cli/run_support.h"

namespace headroom::cli {

// Sums of several engine runs (the steps of a stress phase, or the phases of a run).
struct Accumulator {
  engine::Counters counters;
  Histogram response_time_us;
  Histogram service_time_us;
  Histogram pacer_lateness_us;
  std::vector<engine::RequestStats> requests;
  double planned_s = 0;
  double elapsed_s = 0;
  double cpu_user_s = 0, cpu_system_s = 0;
  int64_t rss_bytes = 0;
  void Add(const engine::RunStats& s, double planned_s);
  report::Section MakeSection(std::string name) const;
  std::vector<report::Section> MakeRequestSections() const;
};

// What one engine run produced, plus the per-second extras the phase kinds need.
struct EngineRun {
  engine::RunStats stats;
  std::vector<report::SecondRow> rows;
  bool aborted = false;       // abort_on_fail stopped it
  std::string abort_reason;   // the SLO that stayed broken
  std::vector<Histogram> seconds;  // spike phases only: each second's histogram
  Histogram first_window_us, last_window_us;
  engine::Counters first_window, last_window;
};

// Evaluates objectives on a section (and the per-request sections for prefixed objectives).
std::vector<report::SloResult> Judge(const std::vector<slo::Objective>& objectives, const report::Section& section,
                                     const std::vector<report::Section>& by_name, const EngineRun* windows);

bool AllPass(const std::vector<report::SloResult>& verdicts);

}  // namespace headroom::cli

namespace headroom::cli {

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
  void FinishPhase(report::PhaseResult phase_result, const std::vector<report::SecondRow>& rows);
  // Rewrites results.json (complete: false) at most every 10 s, or now when forced; `phase` and
  // `rows` describe the phase in progress (null between phases).
  void Checkpoint(const scenario::Phase* phase, const std::vector<report::SecondRow>* rows, bool force);
  report::Results Assemble(bool complete, const report::PhaseResult* running,
                           const std::vector<report::SecondRow>* running_rows) const;
  bool Stopped() const;
  std::string Label(size_t index, const scenario::Phase& phase) const;

  const ExecPlan& plan_;
  std::atomic<bool> abort_{false};
  std::vector<report::PhaseResult> done_;
  Accumulator total_;
  std::vector<report::SecondRow> all_rows_;
  double offset_s_ = 0;
  // The phase being run, as far as the per-second snapshots tell (for checkpoints).
  engine::Counters running_counters_;
  Histogram running_us_;
  int64_t last_checkpoint_ns_ = 0;
  std::FILE* hlog_ = nullptr;  // results.hlog, written as the seconds arrive
  int64_t hlog_seconds_ = 0;
  int64_t started_at_us_ = 0;
};

}  // namespace headroom::cli
