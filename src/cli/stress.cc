// The stress phase: find the highest rate at which every SLO holds. Exponential search doubles
// the rate until an SLO breaks, then bisects between the last good and the first bad rate; step
// search adds a fixed step. Each rate is one short open-model engine run, judged on its own.
#include <chrono>
#include <cstdio>
#include <thread>

#include "cli/executor_internal.h"
#include "sys/sys.h"

namespace headroom::cli {
namespace {

constexpr double kMinAchievedShare = 0.9;  // below this the target did not keep up with the rate
constexpr auto kCoolDown = std::chrono::seconds(1);

std::string RateText(double rps) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f/s", rps);
  return buf;
}

}  // namespace

Result<report::PhaseResult> Executor::RunStress(size_t index, const scenario::Phase& phase,
                                                const std::vector<slo::Objective>& objectives) {
  report::StressResult sr;
  Accumulator acc;
  std::vector<report::SecondRow> rows;
  std::vector<report::SloResult> best_verdicts, first_verdicts;
  const double step_s = double(phase.step_duration_ns) / 1e9;
  bool interrupted = false;

  auto try_rate = [&](double rate, bool confirmation) -> Result<bool> {
    engine::Config config = BaseConfig(phase);
    config.model = engine::Model::kOpen;
    config.rate_profile = {{phase.step_duration_ns, rate, rate}};
    scenario::Phase step = phase;
    step.duration_ns = phase.step_duration_ns;
    auto run = RunEngine(config, step, Label(index, phase) + " @ " + RateText(rate), step_s, nullptr);
    if (!run) return std::unexpected(run.error());
    interrupted = interrupted || run->stats.interrupted;
    Accumulator one;
    one.Add(run->stats, step_s);
    acc.Add(run->stats, step_s);
    total_.Add(run->stats, step_s);
    report::Section section = one.MakeSection(phase.name);
    std::vector<report::SloResult> verdicts = Judge(objectives, section, one.MakeRequestSections(), nullptr);
    report::StressPoint point;
    point.rate_rps = rate;
    point.achieved_rps = section.achieved_rps;
    point.p50_us = section.response_time_us.ValueAtPercentile(50);
    point.p95_us = section.response_time_us.ValueAtPercentile(95);
    point.p99_us = section.response_time_us.ValueAtPercentile(99);
    point.error_rate = section.requests_total ? double(section.requests_errors) / double(section.requests_total) : 0;
    point.confirmation = confirmation;
    for (const report::SloResult& v : verdicts) {
      if (!v.pass && point.broken.empty()) point.broken = v.expr + " (observed " + v.observed_text + ")";
    }
    if (point.broken.empty() && section.achieved_rps < kMinAchievedShare * rate) {
      point.broken = "achieved " + RateText(section.achieved_rps) + " < 90% of the requested rate";
    }
    point.pass = point.broken.empty() && !run->stats.interrupted;
    sr.curve.push_back(point);
    if (first_verdicts.empty()) first_verdicts = verdicts;
    if (point.pass && (!sr.capacity_rps || rate >= *sr.capacity_rps)) best_verdicts = verdicts;
    for (report::SecondRow& row : run->rows) {
      row.second = int64_t(rows.size());
      rows.push_back(std::move(row));
    }
    if (!Stopped()) std::this_thread::sleep_for(kCoolDown);  // let the target drain its queue
    return point.pass;
  };

  std::optional<double> good, bad;
  if (phase.search == scenario::StressSearch::kSteps) {
    for (double rate = phase.from_per_sec; rate <= phase.ceiling_per_sec * (1 + 1e-9) && !Stopped();
         rate += phase.step_per_sec) {
      auto pass = try_rate(rate, false);
      if (!pass) return std::unexpected(pass.error());
      if (!*pass) {
        bad = rate;
        break;
      }
      good = rate;
      sr.capacity_rps = rate;
    }
  } else {
    double rate = phase.from_per_sec;
    while (!Stopped()) {
      auto pass = try_rate(rate, false);
      if (!pass) return std::unexpected(pass.error());
      if (*pass) {
        good = rate;
        sr.capacity_rps = rate;
        if (!bad && rate >= phase.ceiling_per_sec) break;
      } else {
        bad = rate;
        if (!good) break;
      }
      if (bad) {
        if ((*bad - *good) / *good <= phase.resolution) break;
        rate = (*good + *bad) / 2;
      } else {
        rate = std::min(rate * 2, phase.ceiling_per_sec);
      }
    }
  }
  sr.reached_ceiling = good && !bad && !Stopped();
  if (phase.confirm && sr.capacity_rps && !Stopped()) {
    double best = *sr.capacity_rps;
    auto pass = try_rate(best, true);
    if (!pass) return std::unexpected(pass.error());
    if (*pass) {
      sr.confirmed = true;
    } else {
      // The best rate did not hold twice: report the next lower rate that held.
      sr.capacity_rps.reset();
      for (const report::StressPoint& p : sr.curve) {
        if (p.pass && !p.confirmation && p.rate_rps < best && (!sr.capacity_rps || p.rate_rps > *sr.capacity_rps)) {
          sr.capacity_rps = p.rate_rps;
        }
      }
    }
  }

  report::PhaseResult r;
  r.name = phase.name;
  r.kind = "stress";
  r.model = "open";
  r.duration_s = acc.planned_s;
  r.elapsed_s = acc.elapsed_s;
  r.offset_s = offset_s_;
  r.section = acc.MakeSection(phase.name);
  r.requests = acc.MakeRequestSections();
  r.section.slo = sr.capacity_rps ? best_verdicts : first_verdicts;
  r.series = std::move(rows);
  r.status = interrupted ? "interrupted" : (sr.capacity_rps ? "passed" : "failed");
  r.stress = std::move(sr);
  return r;
}

}  // namespace headroom::cli
