// The stress phase: each rate the breakpoint search asks for is one short open-model engine run,
// judged on its own; the search (exec/rules.h) decides the next rate and the capacity.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include "core/clock.h"
#include "exec/executor.h"

namespace headroom::exec {

Result<report::PhaseResult> Executor::RunStress(size_t index, const scenario::Phase& phase,
                                                const std::vector<slo::Objective>& objectives) {
  report::StressResult sr;
  Accumulator acc;
  std::vector<report::SecondRow> rows;
  std::vector<std::vector<report::SloResult>> step_verdicts;  // per point of the curve
  const double step_s = double(phase.step_duration_ns) / 1e9;
  bool interrupted = false;
  double paused_s = 0;
  BreakpointSearch search(phase);
  std::optional<double> phase_tier_from_s;  // the first step's start, for the phase's tier summary
  scenario::Phase step = phase;
  step.duration_ns = phase.step_duration_ns;

  // Shards judge each step on every shard's figures (exchanged through --sync-dir), so all of
  // them take the same next rate; their rates are 1/N of the test's.
  const bool synced = plan_.shard && plan_.shard->spec.count > 1;
  const double shards = plan_.shard ? double(plan_.shard->spec.count) : 1.0;
  int64_t last_end_us = 0;
  while (auto rate = search.NextRate()) {
    if (Stopped()) break;
    const bool confirmation = search.NextIsConfirmation();
    if (synced && !sr.curve.empty()) {
      // Every shard starts the next step at the same time: a cool-down after the last one finished.
      next_start_us_ = last_end_us + plan_.stress_cool_down_ns / 1000;
      const double waited_s = WaitForSlot("a stress step");
      if (waited_s < 0) break;
      paused_s += waited_s;
      hlog_at_s_ = ShardClockS();
    } else if (!sr.curve.empty() && plan_.stress_cool_down_ns > 0) {
      // Let the target drain its queue before the next rate; counted in the phase's time.
      std::this_thread::sleep_for(std::chrono::nanoseconds(plan_.stress_cool_down_ns));
      paused_s += double(plan_.stress_cool_down_ns) / 1e9;
      hlog_at_s_ += double(plan_.stress_cool_down_ns) / 1e9;
      if (Stopped()) break;
    }
    engine::Config config = BaseConfig(phase);
    config.model = engine::Model::kOpen;
    config.rate_profile = {{phase.step_duration_ns, *rate, *rate}};
    const int tried = int(sr.curve.size());
    const std::string label = Label(index, phase) + " step " + std::to_string(tried + 1) + " of at most " +
                              std::to_string(tried + search.StepsLeftAtMost()) + " @ " + RateText(*rate);
    const double tier_from_s = TierWindowStart();
    auto run = RunEngine(config, step, label, step_s, nullptr);
    if (!run) return std::unexpected(run.error());
    const std::optional<collect::Summary> tiers = TierWindowEnd(tier_from_s);
    if (!phase_tier_from_s) phase_tier_from_s = tier_from_s;
    interrupted = interrupted || run->stats.interrupted;
    // Rates are per second of the step, or of the time it ran when it was cut short.
    const double measured_s = run->stats.interrupted ? std::min(step_s, run->stats.elapsed_s) : step_s;
    Accumulator one;
    one.Add(run->stats, measured_s);
    acc.Add(run->stats, measured_s);
    total_.Add(run->stats, measured_s);
    report::Section section = one.MakeSection(phase.name);
    std::vector<report::SloResult> verdicts;
    report::StressPoint point;
    if (synced) {
      auto all = ExchangeStep(index, tried, section, one.MakeRequestSections(), run->stats.interrupted);
      if (!all) return std::unexpected(all.error());
      last_end_us = all->last_end_us;
      verdicts = Judge(objectives, all->section, all->requests, nullptr, tiers ? &*tiers : nullptr);
      const report::StressPoint whole = JudgeStep(*rate * shards, all->section, verdicts, all->interrupted, confirmation);
      // The curve keeps this shard's own figures (headroom merge adds them up) and the test's verdict.
      point = JudgeStep(*rate, section, verdicts, all->interrupted, confirmation);
      point.pass = whole.pass;
      point.broken = whole.broken;
      run->stats.interrupted = run->stats.interrupted || all->interrupted;
    } else {
      verdicts = Judge(objectives, section, one.MakeRequestSections(), nullptr, tiers ? &*tiers : nullptr);
      point = JudgeStep(*rate, section, verdicts, run->stats.interrupted, confirmation);
    }
    if (tiers) point.tiers = TierResults(*tiers);
    sr.curve.push_back(point);
    step_verdicts.push_back(std::move(verdicts));
    for (report::SecondRow& row : run->rows) {
      row.second = int64_t(rows.size());
      rows.push_back(std::move(row));
    }
    if (run->stats.interrupted) break;  // not judged: the search and the capacity never see it
    search.Record(*rate, point.pass);
  }
  if (plan_.shard) next_start_us_ = synced && last_end_us > 0 ? last_end_us + kShardPhaseGapUs : WallNowUs();
  sr.capacity_rps = search.capacity();
  sr.confirmed = search.confirmed();
  sr.reached_ceiling = search.reached_ceiling() && !interrupted;

  report::PhaseResult r = PhaseHeader(phase, report::PhaseStatus::kPassed, offset_s_);
  r.model = report::LoadModel::kOpen;
  r.duration_s = step_s * double(sr.curve.size());  // planned: the steps it ran, at full length
  r.elapsed_s = acc.elapsed_s + paused_s;
  r.section = acc.MakeSection(phase.name);
  r.requests = acc.MakeRequestSections();
  // The verdicts shown for the phase: those of the capacity rate, or of the first rate when none held.
  if (!step_verdicts.empty()) r.section.slo = step_verdicts.front();
  for (size_t i = 0; i < sr.curve.size() && sr.capacity_rps; ++i) {
    const report::StressPoint& p = sr.curve[i];
    if (p.pass && !p.confirmation && p.rate_rps == *sr.capacity_rps) r.section.slo = step_verdicts[i];
  }
  r.series = std::move(rows);
  if (watcher_ != nullptr && phase_tier_from_s) r.tiers = TierResults(watcher_->Summarize(*phase_tier_from_s, watcher_->NowS()));
  if (interrupted || Interrupted()) {
    r.status = report::PhaseStatus::kInterrupted;
  } else {
    r.status = sr.capacity_rps ? report::PhaseStatus::kPassed : report::PhaseStatus::kFailed;
  }
  r.stress = std::move(sr);
  return r;
}

}  // namespace headroom::exec
