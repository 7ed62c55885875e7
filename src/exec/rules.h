// The rules of phase execution as small pure pieces, each with data-driven tests
// (exec/testdata/): the breakpoint search, the per-second windows SLOs are judged on, soak drift,
// spike recovery, the abort-on-fail grace, and the verdict of one stress step.
// Private to the exec library. Thread-safety: none needed (one run, one thread).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/histogram.h"
#include "engine/engine.h"
#include "report/results.h"
#include "scenario/scenario.h"
#include "slo/slo.h"

namespace headroom::exec {

inline constexpr int64_t kSecNs = 1'000'000'000;
// A stress step whose achieved rate is below this share of the requested rate did not keep up.
inline constexpr double kMinAchievedShare = 0.9;

// The breakpoint search of a stress phase. Exponential: double the rate from `from` until an SLO
// breaks (or the ceiling), then bisect between the last good and the first bad rate until
// (bad - good) / good <= resolution. Steps: from, from+step, ... until an SLO breaks or the
// ceiling. With `confirm`, the best rate is tried once more; if it breaks, the capacity is the
// next lower rate that held.
// Use: while (auto rate = s.NextRate()) s.Record(*rate, RunAt(*rate));
class BreakpointSearch {
 public:
  explicit BreakpointSearch(const scenario::Phase& stress);
  // The next rate to try, or nullopt when the search is over.
  std::optional<double> NextRate() const { return next_; }
  // True when NextRate() is the confirmation repeat of the best rate.
  bool NextIsConfirmation() const { return confirming_; }
  // REQUIRES: rate == *NextRate().
  void Record(double rate, bool passed);
  // How many more rates the search can try at most, NextRate() included (0 when it is over): the
  // "of at most N" of the progress line. Exact for steps; for exponential, the worst case of the
  // doubling still to come and the bisection after it.
  int StepsLeftAtMost() const;

  std::optional<double> capacity() const { return capacity_; }
  bool confirmed() const { return confirmed_; }
  bool reached_ceiling() const { return good_ && !bad_; }

 private:
  void AfterSearchStep(double rate, bool passed);
  void StartConfirmOrFinish();

  scenario::StressSearch mode_;
  double from_, ceiling_, step_, resolution_;
  bool confirm_;
  std::optional<double> next_;
  std::optional<double> good_, bad_, capacity_;
  std::vector<double> passed_rates_;  // search steps that held, in order (not the repeat)
  bool confirming_ = false;
  bool confirmed_ = false;
};

// The first and last windows of a phase (soak: its window; other kinds: a quarter of the phase),
// for drift SLOs and soak drift. Seconds are fed in order.
class DriftWindows {
 public:
  DriftWindows(int64_t window_ns, int64_t duration_ns) : window_ns_(window_ns), duration_ns_(duration_ns) {}
  static DriftWindows For(const scenario::Phase& phase);
  void Add(int64_t second, const engine::Counters& counters, const Histogram& response_time_us);

  int64_t window_ns() const { return window_ns_; }
  const Histogram& first_us() const { return first_us_; }
  const Histogram& last_us() const { return last_us_; }
  const engine::Counters& first() const { return first_; }
  const engine::Counters& last() const { return last_; }
  // Seconds of the phase that fell in each window (fewer than the window when it was cut short).
  int64_t first_seconds() const { return first_seconds_; }
  int64_t last_seconds() const { return last_seconds_; }

 private:
  int64_t window_ns_, duration_ns_;
  Histogram first_us_, last_us_;
  engine::Counters first_, last_;
  int64_t first_seconds_ = 0, last_seconds_ = 0;
};

// "1200/s": a rate as labels and messages show it.
std::string RateText(double rps);

// (last - first) / first; 0 when both are 0, +inf when only first is 0.
double Drift(double first, double last);
// errors / (ok + errors) of engine counters; 0 when nothing completed.
double ErrorRate(const engine::Counters& c);

// Soak drift, last window vs first. Measured only when a request ended in both windows; otherwise
// every drift figure stays empty (and the drift SLOs say "not measured"). Throughput drift compares
// completions per second of each window.
report::SoakResult SoakDrift(const DriftWindows& windows);

// Recovery after a spike: the first second after the hold from which every later second with
// responses meets `latency`; the result is seconds after the end of the hold (nullopt: never).
// `seconds` holds each second's histogram; only the first `phase_seconds` are judged.
std::optional<double> SpikeRecoveryS(const std::vector<Histogram>& seconds, int64_t hold_ns, int64_t phase_seconds,
                                     const slo::Objective& latency);

// The first unscoped latency percentile objective (the one spike recovery is judged on), or null.
const slo::Objective* RecoveryObjective(const std::vector<slo::Objective>& objectives);

// Observations for SLO evaluation, from a results section or from one second of the engine.
slo::Observations ObservationsOf(const report::Section& section);
slo::Observations ObservationsOf(const engine::Counters& counters, const Histogram& response_time_us,
                                 double span_s);

// abort_on_fail: an objective that can be judged second by second (not drift, not rps, not
// request-scoped) and stays broken for longer than the grace stops the run.
class AbortWatch {
 public:
  AbortWatch(const std::vector<slo::Objective>& objectives, int64_t grace_ns);
  // Feeds one second. Returns the broken objective's text the first time the grace runs out.
  std::optional<std::string> Observe(int64_t second, const engine::Counters& counters,
                                     const Histogram& response_time_us);

 private:
  const std::vector<slo::Objective>& objectives_;
  int64_t grace_ns_;
  std::vector<int64_t> broken_since_;
  bool tripped_ = false;
};

// One stress step judged: the first SLO that broke, or a rate the target could not keep up with.
// An `interrupted` step (a signal or an abort cut it short) is not judged: its figures are kept,
// marked interrupted, with pass false and nothing broken; the caller feeds it to no search.
report::StressPoint JudgeStep(double rate, const report::Section& section,
                              const std::vector<report::SloResult>& verdicts, bool interrupted, bool confirmation);

// The run's verdict: INTERRUPTED when a signal stopped it (never a pass), FAIL when nothing
// succeeded or a phase did not pass, PASS otherwise (a phase still running counts as passing so far).
report::Verdict RunVerdict(const std::vector<report::PhaseResult>& phases, int64_t requests_ok, bool interrupted);

// A phase result with its identity filled in (name, kind, model, status, offset).
report::PhaseResult PhaseHeader(const scenario::Phase& phase, report::PhaseStatus status, double offset_s);

}  // namespace headroom::exec
