// Simulation of a plan over days at 1-second steps: a traffic curve (daily, weekly, monthly growth,
// events) x autoscalers with Kubernetes HPA semantics x tiers with backlog queues. It answers
// "does the autoscaling survive the flash sale": when the p95 SLO breaks, for how long, how much of
// the month's error budget burns, the peak backlog and its drain time, peak units and cost.
//
// Flow: plan::LoadPlanFile -> plan::BuildPlan -> BuildSimConfig (one phase of the plan, events and
// autoscaling overrides) -> ApplySet (what-ifs) -> Simulate (streams one SecondRow per second to
// a sink, keeps only fixed-size state) -> Summary. All functions are pure or own their state;
// nothing is shared between calls; thread-compatible. Rates are per second, times in seconds.
#pragma once
#include <array>
#include <deque>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "plan/plan.h"

namespace headroom::sim {

inline constexpr double kDayS = 86400;
inline constexpr double kMonthS = 30 * kDayS;  // growth compounds per 30 days; error budgets are per 30 days

// ---------------------------------------------------------------------------------------------
// Traffic

struct TrafficShape {
  double peak_rps = 0;           // the normal peak on day 1 (a day with weekly factor 1)
  double daily_peak_factor = 3;  // peak / the night's minimum (plan traffic.daily_peak_factor)
  double peak_hour = 18;         // hour of the daily maximum; the minimum is 12 hours away
  std::array<double, 7> weekly = {1, 1, 1, 1, 1, 0.8, 0.7};  // day 1 uses weekly[0], day 8 again
  double growth_monthly = 0;     // 0.3: +30 % per 30 days, compounding continuously
  std::vector<plan::EventSpec> events;
};

// In [1 / daily_peak_factor, 1]: a cosine with its maximum at peak_hour.
double DailyFactor(const TrafficShape& shape, double t_s);
// peak_rps x (1 + growth)^(t / 30 days): the normal peak on the day of t.
double NormalPeakAt(const TrafficShape& shape, double t_s);
// The curve without events: NormalPeakAt x weekly factor of the day x DailyFactor.
double BaseRateAt(const TrafficShape& shape, double t_s);
// 0 outside the event, 1 while it holds, linear during its ramps.
double EventWeight(const plan::EventSpec& event, double t_s);
// Offered requests per second at t: the base rate, or while events are active the highest of
// base + weight x (multiple x NormalPeakAt - base) over them.
double OfferedRate(const TrafficShape& shape, double t_s);
// Start of an event in seconds from the beginning of the period.
double EventStartS(const plan::EventSpec& event);

// ---------------------------------------------------------------------------------------------
// Kubernetes HorizontalPodAutoscaler (autoscaling/v2), one controller.

struct ScalingPolicy {
  bool percent = false;  // Percent or Pods
  int value = 0;
  double period_s = 15;
};
struct ScalingRules {
  double stabilization_s = 0;
  plan::SelectPolicy select = plan::SelectPolicy::kMax;
  std::vector<ScalingPolicy> policies;
};
// Kubernetes defaults: scale up without stabilization, at most max(100 %, 4 pods) per 15 s;
// scale down after a 300 s stabilization window, at most 100 % per 15 s.
ScalingRules DefaultScaleUp();
ScalingRules DefaultScaleDown();

enum class MetricKind {
  kUtilization,   // Resource metric, averageUtilization: metric = mean utilization of ready pods
  kAverageValue,  // External metric, averageValue (KEDA queue length): metric = the total value
};

struct HpaSpec {
  int min_replicas = 1, max_replicas = 10;
  MetricKind metric = MetricKind::kUtilization;
  double target = 0.8;        // utilization (0..1) or value per replica
  double sync_s = 15;         // --horizontal-pod-autoscaler-sync-period
  double tolerance = 0.1;     // no change while |ratio - 1| <= tolerance
  double metric_lag_s = 15;   // the metric seen at a sync is the mean over the 15 s ending lag ago
  ScalingRules scale_up = DefaultScaleUp();
  ScalingRules scale_down = DefaultScaleDown();
};

// One line per problem in the spec (min > max, a policy with period 0, ...); empty when valid.
std::string CheckHpa(const HpaSpec& spec);

// The controller's state between syncs: past recommendations (stabilization) and scale events
// (policies). Memory is bounded by the longest window / sync period, whatever the run's length.
class Hpa {
 public:
  explicit Hpa(HpaSpec spec) : spec_(std::move(spec)) {}
  // One reconciliation at now_s (non-decreasing between calls). `current` replicas exist, `ready`
  // of them serve; `metric` as MetricKind says. Returns the new replica count (the Deployment's
  // replicas) and records the scale event when it differs from current.
  int Sync(double now_s, int current, int ready, double metric);
  // The recommendation from the metric alone (before stabilization and policies) at the last sync.
  int last_raw() const { return last_raw_; }
  const HpaSpec& spec() const { return spec_; }
  // A scheduled minReplicas change (raised before an announced event, restored after).
  void set_min_replicas(int n) { spec_.min_replicas = n; }

 private:
  int RawDesired(int current, int ready, double metric) const;
  int Stabilize(double now_s, int current, int raw);
  int ScaleUpLimit(double now_s, int current) const;
  int ScaleDownLimit(double now_s, int current) const;
  int ChangeIn(const std::deque<std::pair<double, int>>& events, double now_s, double period_s) const;

  HpaSpec spec_;
  std::deque<std::pair<double, int>> recommendations_;  // (time, raw recommendation)
  std::deque<std::pair<double, int>> ups_, downs_;       // (time, replicas added / removed)
  int last_raw_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Tiers and the simulation

enum class Feed {
  kOffered,    // the offered rate x factor (cdn, app)
  kAppServed,  // what the app served this second x factor (cache, database, queue: synchronous)
  kJobs,       // what the queue tier (or the app) passed on x factor: background jobs (workers)
};

struct TierModel {
  std::string name;
  plan::TierKind kind = plan::TierKind::kApp;
  Feed feed = Feed::kOffered;
  double factor = 1;            // work per unit of the feed (queries per app request, ...)
  int units = 1;                // units at the start (autoscaled: the HPA's choice for t = 0)
  double capacity_per_unit = 0; // work per second at 100 %
  int concurrency = 8;          // servers of one unit's M/M/c queue
  double startup_s = 60;        // a new unit serves after this
  double unit_cost_month = 0;
  bool synchronous = true;      // its waits add to the request's response time
  std::optional<HpaSpec> hpa;   // autoscaled when set
};

// minReplicas of `tier` raised to `min_replicas` for syncs in [from_s, to_s).
struct MinRaise {
  std::string tier;
  int min_replicas = 0;
  double from_s = 0, to_s = 0;
};

struct SimConfig {
  std::string name;            // plan name and phase, for outputs
  double start_s = 0;          // simulate [start_s, start_s + period_s) of the traffic curve
  TrafficShape traffic;
  std::vector<TierModel> tiers;
  double period_s = 7 * kDayS;
  double slo_p95_s = 0.3;
  double availability = 0.999;   // error budget = 1 - availability of the month's requests
  double timeout_s = 30;         // a request waiting longer in a backlog fails (and is dropped)
  std::optional<double> job_delay_s;  // workers' SLO, reported
  std::string currency = "EUR";
  std::vector<MinRaise> raises;
};

// From one phase of a built plan (units, autoscalers and loads at the phase's required rate) and
// the plan file's events and autoscaling overrides. Fails with "origin: message" lines for an
// override naming no tier, an event outside the period, an invalid HPA.
Result<SimConfig> BuildSimConfig(const plan::PlanOutput& plan, double multiplier, double days);

// A what-if: "app.hpa.target=65%", "app.min=8", "app.max=40", "app.startup=30s", "app.count=6",
// "app.capacity=900/s", "app.hpa.sync=30s", "app.hpa.metric_lag=0s", "app.hpa.tolerance=5%",
// "app.hpa.scale_up.stabilization=60s", "app.hpa.scale_down.stabilization=0s", "timeout=10s",
// "traffic.peak_hour=20". One-line error naming the setting.
Status ApplySet(SimConfig& config, const std::string& assignment);

// Everything valid? One line per problem ("origin: message"), empty when valid.
std::string CheckConfig(const SimConfig& config);

struct TierSecond {
  double arrivals = 0;   // work arriving this second
  double served = 0;
  double backlog = 0;    // work waiting at the end of the second
  double dropped = 0;    // work that waited past the timeout (errors)
  double utilization = 0;  // served / capacity of the ready units
  int desired = 0, ready = 0;
  double wait_s = 0;     // backlog wait a request arriving now sees
};

struct SecondRow {
  double t_s = 0;
  double offered_rps = 0;
  double p95_s = 0;         // response time p95 of the requests arriving this second
  double slow_share = 0;    // share of this second's requests slower than the SLO
  double errors = 0;        // requests failed this second (timeouts, in app requests)
  const std::vector<TierSecond>* tiers = nullptr;  // valid during the callback only
};

struct TierSummary {
  std::string name;
  int start_units = 0, peak_units = 0, min_units = 0;
  double peak_backlog = 0;     // work units
  double peak_backlog_at_s = 0;
  double longest_drain_s = 0;  // longest stretch with a non-zero backlog
  double max_wait_s = 0;
  double peak_utilization = 0;
  double unit_seconds = 0;     // units x seconds
  double cost = 0;             // of the simulated period
  bool autoscaled = false;
  int hpa_max = 0;
  int seconds_at_max = 0;      // seconds with desired == maxReplicas and backlog > 0
};

struct Summary {
  double period_s = 0;
  double requests = 0, errors = 0;
  int minutes = 0;
  int minutes_slo_broken = 0;   // minutes whose p95 exceeds the SLO (share slower > 5 %)
  double first_broken_s = -1;   // start of the first broken minute
  double longest_broken_streak_min = 0;
  double error_budget_month = 0;  // (1 - availability) x the month's requests at this pace
  double budget_burned = 0;       // errors / error_budget_month
  double peak_offered_rps = 0;
  double max_p95_s = 0;
  double cost = 0;
  std::vector<TierSummary> tiers;
  bool held = true;  // no minute broken and the month's budget not exhausted
};

using RowSink = std::function<void(const SecondRow&)>;

// Runs the simulation second by second. `sink` (may be empty) sees every second in order. State is
// fixed-size per tier (metric rings, HPA windows, pending starts), so memory does not grow with
// the period. REQUIRES: CheckConfig(config) is empty.
Summary Simulate(const SimConfig& config, const RowSink& sink);
// The same loop with nothing cached: the traffic curve (cosine, growth) and the M/M/c tail
// (exponentials) evaluated afresh every second, minute and sync ticks by fmod. Simulate equals it
// bit for bit (simulate_test.cc asserts it row by row); kept as the reference and for
// bench/sim_bench's before/after.
Summary SimulateUncached(const SimConfig& config, const RowSink& sink);

// The lowest minReplicas for `tier` (an autoscaled one) at which the period holds, searched from
// its minimum to its maximum; nullopt when even maxReplicas does not hold or no HPA.
struct EventAdvice {
  std::string event;
  std::string tier;
  int min_replicas = 0;     // raise minReplicas to this
  int current_min = 0;      // the HPA's minReplicas now (equal: no raise needed)
  double lead_s = 0;        // this long before the event starts (startup + sync + lag)
  bool holds = false;       // the period holds with it
};
std::vector<EventAdvice> AdviseForEvents(const SimConfig& config);

// ---------------------------------------------------------------------------------------------
// Outputs (DIR/series.csv, DIR/summary.json): see docs/simulate.md.

class CsvSeries {
 public:
  // Writes the header now and one line per Row() (streamed; nothing kept in memory).
  static Result<std::unique_ptr<CsvSeries>> Open(const std::string& path, const SimConfig& config);
  void Row(const SecondRow& row);
  Status Close();
  ~CsvSeries();

 private:
  explicit CsvSeries(std::FILE* f) : file_(f) {}
  std::FILE* file_;
};

// DIR/series.json: the same columns and numbers as series.csv in one JSON document,
// {"schema": "headroom.simulation.series/1", "name", "start_s", "step_s", "columns": [...],
// "rows": [[...], ...]}, streamed a row at a time (no document tree in memory).
class JsonSeries {
 public:
  static Result<std::unique_ptr<JsonSeries>> Open(const std::string& path, const SimConfig& config);
  void Row(const SecondRow& row);
  Status Close();  // writes the closing brackets
  ~JsonSeries();

 private:
  explicit JsonSeries(std::FILE* f) : file_(f) {}
  std::FILE* file_;
  bool first_ = true;
};

// The series' column names, in order: t_s, offered_rps, p95_ms, slow_share, errors, then per
// tier <tier>_arrivals, _served, _desired, _ready, _utilization, _backlog, _dropped.
std::vector<std::string> SeriesColumns(const SimConfig& config);

std::string SummaryJson(const SimConfig& config, const Summary& summary,
                        const std::vector<EventAdvice>& advice);
std::string SummaryText(const SimConfig& config, const Summary& summary,
                        const std::vector<EventAdvice>& advice);

}  // namespace headroom::sim
