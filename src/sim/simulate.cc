// The second-by-second loop. Per tier and second: units started by the autoscaler become ready
// after their startup; capacity = ready units x capacity per unit; work beyond it waits in a
// backlog (FIFO), which drains when capacity returns; work that would wait past the timeout is
// dropped and counted as errors (synchronous tiers only: jobs wait). Response time: each unit is
// an M/M/c queue (c = concurrency, as the planner sizes it) at the second's utilization, plus
// the backlog wait of the app and of the synchronous tiers below it.
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <vector>

#include "model/model.h"
#include "sim/sim_internal.h"

namespace headroom::sim {

QueueTable::QueueTable(int servers, double service_s)
    : servers_(servers), service_s_(service_s),
      wait_(kBuckets + 1, std::numeric_limits<double>::quiet_NaN()),
      p95_(kBuckets + 1, std::numeric_limits<double>::quiet_NaN()),
      tail_t_(kBuckets + 1, std::numeric_limits<double>::quiet_NaN()),
      tail_v_(kBuckets + 1, 0) {}

model::MmcInput QueueTable::Input(int bucket) const {
  const double rho = std::min(bucket * kMaxRho / kBuckets, kMaxRho);
  return {servers_, rho * servers_ / service_s_, service_s_};
}

int QueueTable::Bucket(double rho) const {
  rho = std::clamp(rho, 0.0, kMaxRho);
  // std::lround for x >= 0 without the libm call: x - trunc(x) is exact.
  const double x = rho / kMaxRho * kBuckets;
  const int b = static_cast<int>(x);
  return x - b >= 0.5 ? b + 1 : b;
}

double QueueTable::WaitProbability(int b) {
  if (std::isnan(wait_[b])) {
    const model::MmcInput in = Input(b);
    wait_[b] = model::ErlangC(in.servers, in.arrival_rate * in.service_time);
  }
  return wait_[b];
}

double QueueTable::P95(double rho) {
  const int b = Bucket(rho);
  if (std::isnan(p95_[b])) p95_[b] = model::MmcResponseQuantile(Input(b), 0.95);
  return p95_[b];
}

double QueueTable::Tail(double rho, double t) {
  const int b = Bucket(rho);
  return model::MmcResponseTailGivenWait(Input(b), WaitProbability(b), t);
}

double QueueTable::TailCached(double rho, double t) {
  const int b = Bucket(rho);
  if (tail_t_[b] != t) {  // NaN (never asked) compares unequal
    tail_v_[b] = model::MmcResponseTailGivenWait(Input(b), WaitProbability(b), t);
    tail_t_[b] = t;
  }
  return tail_v_[b];
}

namespace {

struct TierState {
  const TierModel* model = nullptr;
  int units = 0;                  // replicas that exist (cost), ready or starting
  std::deque<double> starting;    // ready times of units still starting, ascending
  double backlog = 0;
  double drain_start = -1;
  std::vector<double> ring;       // per-second metric, the last ring.size() seconds
  std::optional<Hpa> hpa;
  int base_min = 0;               // the HPA's minReplicas outside scheduled raises
  QueueTable table;
  TierSecond now;
  TierSummary sum;
};

int ReadyUnits(TierState& s, double t) {
  while (!s.starting.empty() && s.starting.front() <= t) s.starting.pop_front();
  return s.units - static_cast<int>(s.starting.size());
}

void Rescale(TierState& s, int desired, double t) {
  for (; s.units < desired; ++s.units) s.starting.push_back(t + s.model->startup_s);
  for (; s.units > desired; --s.units) {
    // The ReplicaSet deletes pods that are not ready first, the youngest of them first.
    if (!s.starting.empty()) s.starting.pop_back();
  }
}

// The metric a sync at t sees: the mean over the 15 s ending metric_lag_s before t.
double LaggedMetric(const TierState& s, double t) {
  const HpaSpec& h = s.hpa->spec();
  const auto n = static_cast<long>(s.ring.size());
  const long end = static_cast<long>(t) - static_cast<long>(std::lround(h.metric_lag_s));
  double sum = 0;
  int count = 0;
  for (long k = end - 15; k < end; ++k) {
    if (k < static_cast<long>(t) - n + 1 || k < 0) continue;
    sum += s.ring[static_cast<size_t>(k % n)];
    ++count;
  }
  return count ? sum / count : 0;
}

// OfferedRate at whole seconds t >= 0, with the daily factor of each second of the day computed
// once (the cosine) and the growth factor once per second instead of once per event. Equal to
// OfferedRate bit for bit: the same operations on the same operands in the same order.
class CurveCache {
 public:
  explicit CurveCache(const TrafficShape& shape)
      : shape_(shape), daily_(static_cast<size_t>(kDayS), std::numeric_limits<double>::quiet_NaN()) {}
  double At(long t) {
    const auto second = static_cast<size_t>(t % static_cast<long>(kDayS));
    const auto day = static_cast<size_t>(t / static_cast<long>(kDayS));
    double& daily = daily_[second];
    if (std::isnan(daily)) daily = DailyFactor(shape_, static_cast<double>(second));
    const double t_s = static_cast<double>(t);
    const double peak = NormalPeakAt(shape_, t_s);
    const double base = peak * shape_.weekly[day % 7] * daily;
    bool active = false;
    double rate = 0;
    for (const plan::EventSpec& e : shape_.events) {
      const double w = EventWeight(e, t_s);
      if (w <= 0) continue;
      const double r = base + w * (e.multiple * peak - base);
      rate = active ? std::max(rate, r) : r;
      active = true;
    }
    return active ? rate : base;
  }

 private:
  const TrafficShape& shape_;
  std::vector<double> daily_;
};

int InitialUnits(const TierModel& m, double arrivals) {
  if (!m.hpa) return m.units;
  const HpaSpec& h = *m.hpa;
  int n = h.min_replicas;
  if (h.metric == MetricKind::kUtilization && m.capacity_per_unit > 0)
    n = static_cast<int>(std::ceil(arrivals / (m.capacity_per_unit * h.target) - 1e-9));
  return std::clamp(n, h.min_replicas, h.max_replicas);
}

void StepTier(TierState& s, double arrivals, double t, double timeout_s) {
  const TierModel& m = *s.model;
  TierSecond& o = s.now;
  o.ready = ReadyUnits(s, t);
  const double capacity = o.ready * m.capacity_per_unit;
  const double work = s.backlog + arrivals;
  o.arrivals = arrivals;
  o.served = std::min(work, capacity);
  s.backlog = work - o.served;
  o.dropped = 0;
  if (m.synchronous) {
    const double keep = timeout_s * capacity;  // what can still be served within the timeout
    if (s.backlog > keep) {
      o.dropped = s.backlog - keep;
      s.backlog = keep;
    }
  }
  o.backlog = s.backlog;
  o.utilization = capacity > 0 ? o.served / capacity : (work > 0 ? 1 : 0);
  o.wait_s = capacity > 0 ? s.backlog / capacity : (s.backlog > 0 ? timeout_s : 0);
}

void Account(TierState& s, double t) {
  TierSummary& u = s.sum;
  const TierSecond& o = s.now;
  u.peak_units = std::max(u.peak_units, s.units);
  u.min_units = std::min(u.min_units, s.units);
  u.unit_seconds += s.units;
  u.peak_utilization = std::max(u.peak_utilization, o.utilization);
  u.max_wait_s = std::max(u.max_wait_s, o.wait_s);
  if (o.backlog > u.peak_backlog) {
    u.peak_backlog = o.backlog;
    u.peak_backlog_at_s = t;
  }
  if (o.backlog > 1e-9) {
    if (s.drain_start < 0) s.drain_start = t;
    u.longest_drain_s = std::max(u.longest_drain_s, t + 1 - s.drain_start);
  } else {
    s.drain_start = -1;
  }
  if (s.hpa && s.units >= s.hpa->spec().max_replicas && o.backlog > 0) ++u.seconds_at_max;
}

}  // namespace

namespace {

// The loop. `cached`: the traffic curve from CurveCache, the app's queue tail from TailCached,
// minute and sync ticks from integer counters; otherwise every second is evaluated afresh (the
// reference the cached path is tested against, and bench/sim_bench's "before").
Summary Run(const SimConfig& c, const RowSink& sink, bool cached) {
  std::vector<TierState> tiers(c.tiers.size());
  int app = -1, queue = -1;
  const double t0 = c.start_s, t_end = c.start_s + c.period_s;
  const double offered0 = OfferedRate(c.traffic, t0);
  double app_rate0 = 0;
  for (size_t i = 0; i < c.tiers.size(); ++i) {
    const TierModel& m = c.tiers[i];
    if (m.kind == plan::TierKind::kApp) app = static_cast<int>(i);
    if (m.kind == plan::TierKind::kQueue) queue = static_cast<int>(i);
  }
  if (app >= 0) app_rate0 = offered0 * c.tiers[app].factor;
  for (size_t i = 0; i < c.tiers.size(); ++i) {
    TierState& s = tiers[i];
    s.model = &c.tiers[i];
    s.table = QueueTable(s.model->concurrency, s.model->concurrency / s.model->capacity_per_unit);
    const double feed = s.model->feed == Feed::kOffered ? offered0 : app_rate0;
    s.units = InitialUnits(*s.model, feed * s.model->factor);
    if (s.model->hpa) {
      s.hpa.emplace(*s.model->hpa);
      s.base_min = s.model->hpa->min_replicas;
      s.ring.assign(static_cast<size_t>(std::lround(s.model->hpa->metric_lag_s)) + 16, 0);
    }
    s.sum.name = s.model->name;
    s.sum.start_units = s.sum.min_units = s.sum.peak_units = s.units;
    s.sum.autoscaled = s.model->hpa.has_value();
    s.sum.hpa_max = s.model->hpa ? s.model->hpa->max_replicas : s.units;
  }
  std::vector<TierSecond> row_tiers(tiers.size());
  Summary sum;
  sum.period_s = c.period_s;
  double minute_req = 0, minute_slow = 0, streak = 0;
  // Whole seconds from a whole start: t - t0 is the step index exactly, so the counters below give
  // the same ticks as fmod on the times.
  const bool counters = cached && t0 >= 0 && t0 == std::floor(t0) && t_end < 1e15;
  std::optional<CurveCache> curve;
  if (counters) curve.emplace(c.traffic);
  std::vector<long> sync_every(tiers.size(), 0);  // 0: fmod on the times (a fractional period)
  for (size_t i = 0; i < tiers.size(); ++i) {
    const TierState& s = tiers[i];
    if (counters && s.hpa && s.hpa->spec().sync_s == std::floor(s.hpa->spec().sync_s))
      sync_every[i] = static_cast<long>(s.hpa->spec().sync_s);
  }
  long step = 0;  // t - t0
  for (double t = t0; t < t_end; t += 1, ++step) {
    const double offered = counters ? curve->At(static_cast<long>(t)) : OfferedRate(c.traffic, t);
    sum.peak_offered_rps = std::max(sum.peak_offered_rps, offered);
    double app_served = 0;
    for (TierState& s : tiers) {
      const TierModel& m = *s.model;
      double in = 0;
      if (m.feed == Feed::kOffered) in = offered * m.factor;
      else if (m.feed == Feed::kAppServed) in = app_served * m.factor;
      else in = (queue >= 0 ? tiers[queue].now.served : app_served) * m.factor;
      StepTier(s, in, t, c.timeout_s);
      if (&s - tiers.data() == app) app_served = s.now.served;
    }
    // Response time of the requests arriving now, and errors in app requests.
    double p95 = 0, slow = 1, errors = 0, requests = 0;
    if (app >= 0) {
      TierState& a = tiers[app];
      requests = a.now.arrivals;
      double extra = a.now.wait_s;
      errors = a.now.dropped;
      for (TierState& s : tiers) {
        if (&s == &a || !s.model->synchronous || s.model->feed != Feed::kAppServed) continue;
        extra += s.now.wait_s + (s.table.P95(s.now.utilization) - s.table.P95(0));
        if (s.model->factor > 0) errors += s.now.dropped / s.model->factor;
      }
      errors = std::min(errors, requests + a.now.backlog);
      if (a.now.ready > 0) {
        p95 = a.table.P95(a.now.utilization) + extra;
        slow = cached ? a.table.TailCached(a.now.utilization, c.slo_p95_s - extra)
                      : a.table.Tail(a.now.utilization, c.slo_p95_s - extra);
      } else {
        p95 = c.timeout_s;
      }
    }
    sum.requests += requests;
    sum.errors += errors;
    sum.max_p95_s = std::max(sum.max_p95_s, requests > 0 ? p95 : 0);
    minute_req += requests;
    minute_slow += slow * requests;
    for (TierState& s : tiers) {
      s.now.desired = s.units;
      Account(s, t);
    }
    if (sink) {
      for (size_t i = 0; i < tiers.size(); ++i) row_tiers[i] = tiers[i].now;
      sink(SecondRow{t, offered, p95, slow, errors, &row_tiers});
    }
    const bool minute_end = counters ? (step + 1) % 60 == 0 : std::fmod(t - t0 + 1, 60) == 0;
    if (minute_end || t + 1 >= t_end) {
      ++sum.minutes;
      if (minute_req > 0 && minute_slow / minute_req > 0.05) {
        ++sum.minutes_slo_broken;
        if (sum.first_broken_s < 0)
          sum.first_broken_s = counters ? t - static_cast<double>(step % 60) : t - std::fmod(t - t0, 60);
        ++streak;
        sum.longest_broken_streak_min = std::max(sum.longest_broken_streak_min, streak);
      } else {
        streak = 0;
      }
      minute_req = minute_slow = 0;
    }
    // Autoscalers: record this second's metric, reconcile on sync ticks.
    for (size_t i = 0; i < tiers.size(); ++i) {
      TierState& s = tiers[i];
      if (!s.hpa) continue;
      const HpaSpec& h = s.hpa->spec();
      const double metric = h.metric == MetricKind::kUtilization ? s.now.utilization : s.now.backlog;
      s.ring[static_cast<size_t>(static_cast<long>(t) % static_cast<long>(s.ring.size()))] = metric;
      const double next = t + 1;
      if (sync_every[i] > 0 ? (step + 1) % sync_every[i] != 0 : std::fmod(next - t0, h.sync_s) != 0) continue;
      int min_now = s.base_min;
      for (const MinRaise& r : c.raises)
        if (r.tier == s.model->name && next >= r.from_s && next < r.to_s)
          min_now = std::max(min_now, r.min_replicas);
      s.hpa->set_min_replicas(std::min(min_now, h.max_replicas));
      const int ready = ReadyUnits(s, next);
      Rescale(s, s.hpa->Sync(next, s.units, ready, LaggedMetric(s, next)), next);
    }
  }
  for (TierState& s : tiers) {
    s.sum.cost = s.sum.unit_seconds * s.model->unit_cost_month / kMonthS;
    sum.cost += s.sum.cost;
    sum.tiers.push_back(s.sum);
  }
  const double month_requests = c.period_s > 0 ? sum.requests * kMonthS / c.period_s : 0;
  sum.error_budget_month = (1 - c.availability) * month_requests;
  sum.budget_burned = sum.error_budget_month > 0 ? sum.errors / sum.error_budget_month : 0;
  sum.held = sum.minutes_slo_broken == 0 && sum.budget_burned < 1;
  return sum;
}

}  // namespace

Summary Simulate(const SimConfig& c, const RowSink& sink) { return Run(c, sink, true); }

Summary SimulateUncached(const SimConfig& c, const RowSink& sink) { return Run(c, sink, false); }

}  // namespace headroom::sim
