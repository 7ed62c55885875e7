#include "exec/rules.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace headroom::exec {

std::string RateText(double rps) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f/s", rps);
  return buf;
}

// ---------------------------------------------------------------------------------------------
// Breakpoint search

BreakpointSearch::BreakpointSearch(const scenario::Phase& stress)
    : mode_(stress.search),
      from_(stress.from_per_sec),
      ceiling_(stress.ceiling_per_sec),
      step_(stress.step_per_sec),
      resolution_(stress.resolution),
      confirm_(stress.confirm) {
  if (from_ > 0 && from_ <= ceiling_ * (1 + 1e-9)) next_ = from_;
}

void BreakpointSearch::Record(double rate, bool passed) {
  if (confirming_) {
    confirming_ = false;
    next_.reset();
    if (passed) {
      confirmed_ = true;
      return;
    }
    // The best rate did not hold twice: report the next lower rate that held.
    const double best = *capacity_;
    capacity_.reset();
    for (double r : passed_rates_) {
      if (r < best && (!capacity_ || r > *capacity_)) capacity_ = r;
    }
    return;
  }
  if (passed) passed_rates_.push_back(rate);
  AfterSearchStep(rate, passed);
}

void BreakpointSearch::AfterSearchStep(double rate, bool passed) {
  if (mode_ == scenario::StressSearch::kSteps) {
    if (!passed) {
      bad_ = rate;
      return StartConfirmOrFinish();
    }
    good_ = capacity_ = rate;
    const double next = rate + step_;
    if (step_ <= 0 || next > ceiling_ * (1 + 1e-9)) return StartConfirmOrFinish();
    next_ = next;
    return;
  }
  if (passed) {
    good_ = capacity_ = rate;
    if (!bad_ && rate >= ceiling_) return StartConfirmOrFinish();
  } else {
    bad_ = rate;
    if (!good_) return StartConfirmOrFinish();
  }
  if (bad_) {
    if ((*bad_ - *good_) / *good_ <= resolution_) return StartConfirmOrFinish();
    next_ = (*good_ + *bad_) / 2;
  } else {
    next_ = std::min(rate * 2, ceiling_);
  }
}

int BreakpointSearch::StepsLeftAtMost() const {
  if (!next_) return 0;
  if (confirming_) return 1;
  const int confirm = confirm_ ? 1 : 0;
  if (mode_ == scenario::StressSearch::kSteps) {
    const int rest = step_ > 0 ? int(std::floor((ceiling_ - *next_) / step_ + 1e-9)) : 0;
    return 1 + std::max(rest, 0) + confirm;
  }
  // Bisecting between a rate that held and one that broke: each try halves the gap, and the search
  // stops once gap / (rate that held) is within the resolution (that rate only grows).
  auto bisections = [this](double good, double bad) {
    int n = 0;
    for (double gap = bad - good; good > 0 && gap / good > resolution_ && n < 64; gap /= 2) ++n;
    return n;
  };
  if (bad_) return bisections(*good_, *bad_) + confirm;
  int most = 0;
  std::optional<double> good = good_;
  double rate = *next_;
  for (int tried = 1; tried < 64; ++tried) {
    most = std::max(most, tried + (good ? bisections(*good, rate) : 0));  // `rate` breaks
    if (rate >= ceiling_) break;                                          // `rate` holds at the ceiling
    good = rate;
    rate = std::min(rate * 2, ceiling_);
  }
  return most + confirm;
}

void BreakpointSearch::StartConfirmOrFinish() {
  next_.reset();
  if (confirm_ && capacity_) {
    confirming_ = true;
    next_ = *capacity_;
  }
}

// ---------------------------------------------------------------------------------------------
// Windows and drift

DriftWindows DriftWindows::For(const scenario::Phase& p) {
  int64_t window = p.kind == scenario::PhaseKind::kSoak && p.window_ns > 0 ? p.window_ns
                                                                           : std::max<int64_t>(kSecNs, p.duration_ns / 4);
  return DriftWindows(window, p.duration_ns);
}

void DriftWindows::Add(int64_t second, const engine::Counters& counters, const Histogram& response_time_us) {
  const int64_t at_ns = second * kSecNs;
  if (at_ns < window_ns_) {
    first_us_.Add(response_time_us);
    first_.Add(counters);
    ++first_seconds_;
  }
  if (duration_ns_ > 0 && at_ns >= duration_ns_ - window_ns_ && at_ns < duration_ns_) {
    last_us_.Add(response_time_us);
    last_.Add(counters);
    ++last_seconds_;
  }
}

double Drift(double first, double last) {
  if (first == 0) return last == 0 ? 0.0 : INFINITY;
  return (last - first) / first;
}

double ErrorRate(const engine::Counters& c) {
  const int64_t n = c.ok + c.errors;
  return n ? double(c.errors) / double(n) : 0.0;
}

report::SoakResult SoakDrift(const DriftWindows& w) {
  report::SoakResult s;
  s.window_s = double(w.window_ns()) / 1e9;
  const Histogram& first_us = w.first_us();
  const Histogram& last_us = w.last_us();
  if (first_us.Count() > 0) s.first_p95_us = first_us.ValueAtPercentile(95);
  if (last_us.Count() > 0) s.last_p95_us = last_us.ValueAtPercentile(95);
  if (w.first().ok + w.first().errors > 0) s.first_error_rate = ErrorRate(w.first());
  if (w.last().ok + w.last().errors > 0) s.last_error_rate = ErrorRate(w.last());
  // A window in which no request ended (the phase stopped before it, or it ran and nothing ended)
  // has nothing to compare: no drift figure at all, as the drift SLOs say "not measured".
  if (!s.measured()) return s;
  s.error_rate_drift = Drift(*s.first_error_rate, *s.last_error_rate);
  // Per second of each window: a last window cut short is not a drop in throughput.
  s.throughput_drift = Drift(double(w.first().completed) / double(w.first_seconds()),
                             double(w.last().completed) / double(w.last_seconds()));
  if (s.first_p95_us && s.last_p95_us) {
    s.p95_drift = Drift(double(*s.first_p95_us), double(*s.last_p95_us));
    s.p99_drift = Drift(double(first_us.ValueAtPercentile(99)), double(last_us.ValueAtPercentile(99)));
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Spike recovery

const slo::Objective* RecoveryObjective(const std::vector<slo::Objective>& objectives) {
  for (const slo::Objective& o : objectives) {
    if (o.request.empty() && o.metric == slo::Metric::kPercentile) return &o;
  }
  return nullptr;
}

std::optional<double> SpikeRecoveryS(const std::vector<Histogram>& seconds, int64_t hold_ns, int64_t phase_seconds,
                                     const slo::Objective& latency) {
  const int64_t first = hold_ns / kSecNs;
  const int64_t n = std::min<int64_t>(int64_t(seconds.size()), phase_seconds);
  int64_t recovered_at = -1;
  for (int64_t k = n - 1; k >= first; --k) {
    slo::Observations obs;
    obs.response_time_us = &seconds[k];
    obs.requests = seconds[k].Count();
    if (obs.requests > 0 && !slo::Evaluate(latency, obs).pass) break;
    recovered_at = k;
  }
  if (recovered_at < 0) return std::nullopt;
  return std::max(0.0, double(recovered_at) - double(hold_ns) / 1e9);
}

// ---------------------------------------------------------------------------------------------
// Observations and abort-on-fail

slo::Observations ObservationsOf(const report::Section& s) {
  slo::Observations obs;
  obs.response_time_us = &s.response_time_us;
  obs.requests = s.requests_total;
  obs.errors = s.requests_errors;
  obs.achieved_rps = s.achieved_rps;
  return obs;
}

slo::Observations ObservationsOf(const engine::Counters& c, const Histogram& response_time_us, double span_s) {
  slo::Observations obs;
  obs.response_time_us = &response_time_us;
  obs.requests = c.ok + c.errors;
  obs.errors = c.errors;
  obs.achieved_rps = span_s > 0 ? double(c.completed) / span_s : 0;
  return obs;
}

AbortWatch::AbortWatch(const std::vector<slo::Objective>& objectives, int64_t grace_ns)
    : objectives_(objectives), grace_ns_(grace_ns), broken_since_(objectives.size(), -1) {}

std::optional<std::string> AbortWatch::Observe(int64_t second, const engine::Counters& counters,
                                               const Histogram& response_time_us) {
  if (tripped_ || counters.ok + counters.errors == 0) return std::nullopt;
  const slo::Observations obs = ObservationsOf(counters, response_time_us, 1.0);
  for (size_t i = 0; i < objectives_.size(); ++i) {
    const slo::Objective& o = objectives_[i];
    if (!o.request.empty() || o.metric == slo::Metric::kPercentileDrift || o.metric == slo::Metric::kErrorRateDrift ||
        o.metric == slo::Metric::kRps || o.metric == slo::Metric::kTier) {
      continue;  // judged on the whole phase only
    }
    if (slo::Evaluate(o, obs).pass) {
      broken_since_[i] = -1;
      continue;
    }
    if (broken_since_[i] < 0) broken_since_[i] = second;
    if ((second + 1 - broken_since_[i]) * kSecNs > grace_ns_) {
      tripped_ = true;
      return o.expr;
    }
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Stress steps and phase headers

report::StressPoint JudgeStep(double rate, const report::Section& section,
                              const std::vector<report::SloResult>& verdicts, bool interrupted, bool confirmation) {
  report::StressPoint point;
  point.rate_rps = rate;
  point.achieved_rps = section.achieved_rps;
  point.p50_us = section.response_time_us.ValueAtPercentile(50);
  point.p95_us = section.response_time_us.ValueAtPercentile(95);
  point.p99_us = section.response_time_us.ValueAtPercentile(99);
  point.error_rate = section.error_rate();
  point.requests_total = section.requests_total;
  point.requests_errors = section.requests_errors;
  point.response_time_us = section.response_time_us;
  point.confirmation = confirmation;
  point.interrupted = interrupted;
  // A step cut short says nothing about the rate: not judged, neither pass nor broken.
  if (interrupted) return point;
  for (const report::SloResult& v : verdicts) {
    if (!v.pass && point.broken.empty()) point.broken = v.expr + " (observed " + v.observed_text + ")";
  }
  if (point.broken.empty() && section.achieved_rps < kMinAchievedShare * rate) {
    point.broken = "achieved " + RateText(section.achieved_rps) + " < 90% of the requested rate";
  }
  point.pass = point.broken.empty();
  return point;
}

report::PhaseResult PhaseHeader(const scenario::Phase& phase, report::PhaseStatus status, double offset_s) {
  report::PhaseResult r;
  r.name = phase.name;
  r.kind = std::string(scenario::PhaseKindName(phase.kind));
  r.model = scenario::IsOpenModel(phase.kind) ? report::LoadModel::kOpen : report::LoadModel::kClosed;
  r.status = status;
  r.offset_s = offset_s;
  return r;
}

}  // namespace headroom::exec
