// The Watcher: one thread that reads every source when it is due, streams each sample to the sink
// and folds it into the running aggregates of the segment (between two marks) it belongs to.
#include <pthread.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <thread>

#include "collect/internal.h"
#include "core/clock.h"

namespace headroom::collect {
namespace {

constexpr size_t kMaxActivityKeys = 500;  // per source and segment; the smallest are dropped beyond

struct Aggregate {
  MetricType type = MetricType::kGauge;
  int64_t samples = 0;
  double sum = 0, min = std::numeric_limits<double>::infinity(), max = -min, last = 0, total = 0;
};

struct SourceAggregate {
  int64_t samples = 0, failures = 0;
  std::string error;
  std::map<std::string, Aggregate, std::less<>> metrics;
  std::map<std::string, std::string> attributes;
  std::map<std::pair<std::string, std::string>, std::vector<Count>> activity;
};

struct Segment {
  double start_s = 0;
  double end_s = std::numeric_limits<double>::infinity();  // open until the next mark
  std::vector<std::vector<SourceAggregate>> tiers;           // [tier][source]
};

struct SourceRun {
  size_t tier = 0, index = 0;
  std::unique_ptr<Source> source;
  int64_t interval_ns = 0;
  int64_t next_ns = 0;
  double previous_t_s = -1;  // time of the previous successful read (for rate totals)
  int64_t failed_in_row = 0;
  std::vector<std::string> reported_notes;
};

void Fold(SourceAggregate& agg, const Reading& reading, double dt_s) {
  ++agg.samples;
  for (const Metric& m : reading.metrics) {
    Aggregate& a = agg.metrics[m.name];
    a.type = m.type;
    ++a.samples;
    a.sum += m.value;
    a.min = std::min(a.min, m.value);
    a.max = std::max(a.max, m.value);
    a.last = m.value;
    if (m.type == MetricType::kRate && dt_s > 0) a.total += m.value * dt_s;
  }
  for (const auto& [k, v] : reading.attributes) agg.attributes[k] = v;
  for (const Activity& act : reading.activity) {
    std::vector<Count>& counts = agg.activity[{act.group, act.key}];
    if (counts.empty()) counts = act.counts;
    else
      for (size_t i = 0; i < counts.size() && i < act.counts.size(); ++i) counts[i].value += act.counts[i].value;
  }
  if (agg.activity.size() > 2 * kMaxActivityKeys) {
    std::vector<std::pair<double, std::pair<std::string, std::string>>> order;
    for (const auto& [key, counts] : agg.activity) order.push_back({counts.empty() ? 0 : counts[0].value, key});
    std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    for (size_t i = kMaxActivityKeys; i < order.size(); ++i) agg.activity.erase(order[i].second);
  }
}

void Merge(SourceAggregate& into, const SourceAggregate& from) {
  into.samples += from.samples;
  into.failures += from.failures;
  if (into.error.empty()) into.error = from.error;
  for (const auto& [name, a] : from.metrics) {
    Aggregate& m = into.metrics[name];
    m.type = a.type;
    m.samples += a.samples;
    m.sum += a.sum;
    m.min = std::min(m.min, a.min);
    m.max = std::max(m.max, a.max);
    m.last = a.last;
    m.total += a.total;
  }
  for (const auto& [k, v] : from.attributes) into.attributes[k] = v;
  for (const auto& [key, counts] : from.activity) {
    std::vector<Count>& c = into.activity[key];
    if (c.empty()) c = counts;
    else
      for (size_t i = 0; i < c.size() && i < counts.size(); ++i) c[i].value += counts[i].value;
  }
}

std::vector<ActivitySummary> TopActivity(const SourceAggregate& agg) {
  std::map<std::string, std::vector<ActivitySummary>> by_group;
  for (const auto& [key, counts] : agg.activity) by_group[key.first].push_back(ActivitySummary{key.first, key.second, counts});
  std::vector<ActivitySummary> out;
  for (auto& [group, items] : by_group) {
    std::stable_sort(items.begin(), items.end(), [](const ActivitySummary& a, const ActivitySummary& b) {
      return (a.counts.empty() ? 0 : a.counts[0].value) > (b.counts.empty() ? 0 : b.counts[0].value);
    });
    if (items.size() > 10) items.resize(10);
    for (ActivitySummary& a : items) out.push_back(std::move(a));
  }
  return out;
}

}  // namespace

struct Watcher::State {
  std::vector<TierSpec> tiers;
  WatcherOptions options;
  std::vector<SourceRun> runs;
  std::thread thread;

  mutable std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  bool stopped = false;
  std::vector<Segment> segments;  // guarded by mu
  double last_folded_s = 0;       // guarded by mu
  double final_cpu_s = 0;         // the thread's CPU time when it ended; guarded by mu

  double SecondsAt(int64_t ns) const { return static_cast<double>(ns - options.origin_ns) / 1e9; }
  Segment NewSegment(double start_s) const {
    Segment s;
    s.start_s = start_s;
    for (const TierSpec& t : tiers) s.tiers.emplace_back(t.sources.size());
    return s;
  }
  void Message(const std::string& text) const {
    if (options.on_message) options.on_message(text);
  }
  void Sample(SourceRun& run);
  void Loop();
};

void Watcher::State::Sample(SourceRun& run) {
  const TierSpec& tier = tiers[run.tier];
  const int64_t now_ns = MonoNowNs();
  const double t_s = SecondsAt(now_ns);
  Result<Reading> reading = run.source->Read(now_ns);
  const std::string prefix = "tier " + tier.name + ": " + run.source->label() + ": ";
  if (!reading) {
    if (run.failed_in_row++ == 0) Message(prefix + reading.error().message + "; the run goes on without it");
    run.previous_t_s = -1;
  } else {
    if (run.failed_in_row > 0) {
      Message(prefix + "answering again after " + std::to_string(run.failed_in_row) + " failed sample(s)");
    }
    run.failed_in_row = 0;
    for (const auto& [key, value] : reading->attributes) {
      if (!value.starts_with("unavailable") && !value.starts_with("kept ")) continue;
      if (std::find(run.reported_notes.begin(), run.reported_notes.end(), value) != run.reported_notes.end()) continue;
      run.reported_notes.push_back(value);
      Message(prefix + key + " " + value);
    }
  }
  if (options.sink) {
    options.sink(SampleRecord{tier.name, run.source->label(), t_s, reading ? &*reading : nullptr,
                              reading ? std::string_view() : std::string_view(reading.error().message)});
  }
  const double dt_s = run.previous_t_s >= 0 ? t_s - run.previous_t_s : 0;
  if (reading) run.previous_t_s = t_s;
  std::lock_guard lock(mu);
  // The segment this sample's timestamp falls in (a mark may have closed the open one meanwhile).
  Segment* segment = &segments.back();
  for (auto it = segments.rbegin(); it != segments.rend(); ++it) {
    if (it->start_s <= t_s) {
      segment = &*it;
      break;
    }
  }
  SourceAggregate& agg = segment->tiers[run.tier][run.index];
  if (reading) {
    Fold(agg, *reading, dt_s);
  } else {
    ++agg.failures;
    if (agg.error.empty()) agg.error = reading.error().message;
  }
  last_folded_s = std::max(last_folded_s, t_s);
}

void Watcher::State::Loop() {
  for (;;) {
    int64_t due_ns = std::numeric_limits<int64_t>::max();
    for (const SourceRun& run : runs) due_ns = std::min(due_ns, run.next_ns);
    {
      std::unique_lock lock(mu);
      while (!stop && MonoNowNs() < due_ns) {
        const int64_t wait_ns = due_ns - MonoNowNs();
        cv.wait_for(lock, std::chrono::nanoseconds(std::max<int64_t>(wait_ns, 0)));
      }
      if (stop) break;
    }
    const int64_t now_ns = MonoNowNs();
    for (SourceRun& run : runs) {
      if (run.next_ns > now_ns) continue;
      Sample(run);
      // Keep the cadence of the schedule; after a stall (a slow source), skip missed ticks.
      run.next_ns += run.interval_ns;
      if (run.next_ns <= MonoNowNs()) run.next_ns = MonoNowNs() + run.interval_ns;
    }
  }
  // The last sample closes the final window.
  for (SourceRun& run : runs) Sample(run);
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  std::lock_guard lock(mu);
  final_cpu_s = static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

Result<std::unique_ptr<Watcher>> Watcher::Start(std::vector<TierSpec> tiers, WatcherOptions options) {
  if (tiers.empty()) return Fail("no tiers to watch");
  auto state = std::make_unique<State>();
  if (options.origin_ns == 0) options.origin_ns = MonoNowNs();
  state->tiers = std::move(tiers);
  state->options = std::move(options);
  const int64_t start_ns = MonoNowNs();
  for (size_t t = 0; t < state->tiers.size(); ++t) {
    const TierSpec& tier = state->tiers[t];
    if (tier.interval_ns <= 0) return Fail("tier " + tier.name + ": the interval must be above 0");
    for (size_t i = 0; i < tier.sources.size(); ++i) {
      SourceRun run;
      run.tier = t;
      run.index = i;
      run.source = state->options.make_source ? state->options.make_source(tier, tier.sources[i])
                                              : MakeSource(tier.sources[i], state->options.source_options);
      run.interval_ns = tier.interval_ns;
      run.next_ns = start_ns;
      state->runs.push_back(std::move(run));
    }
  }
  state->segments.push_back(state->NewSegment(std::min(0.0, state->SecondsAt(start_ns))));
  State* raw = state.get();
  state->thread = std::thread([raw] { raw->Loop(); });
  return std::unique_ptr<Watcher>(new Watcher(std::move(state)));
}

Watcher::Watcher(std::unique_ptr<State> state) : state_(std::move(state)) {}

Watcher::~Watcher() { Stop(); }

double Watcher::NowS() const { return state_->SecondsAt(MonoNowNs()); }

void Watcher::Mark(double t_s) {
  std::lock_guard lock(state_->mu);
  auto& segments = state_->segments;
  t_s = std::max(t_s, std::nextafter(state_->last_folded_s, std::numeric_limits<double>::infinity()));
  if (t_s <= segments.back().start_s) return;  // an empty segment: nothing to split
  segments.back().end_s = t_s;
  segments.push_back(state_->NewSegment(t_s));
}

Summary Watcher::Summarize(double from_s, double to_s) const {
  constexpr double kTolerance = 1e-3;
  std::lock_guard lock(state_->mu);
  const double now_s = NowS();
  Summary summary;
  summary.from_s = std::numeric_limits<double>::infinity();
  summary.to_s = -summary.from_s;
  std::vector<std::vector<SourceAggregate>> merged;
  for (const TierSpec& t : state_->tiers) merged.emplace_back(t.sources.size());
  for (const Segment& s : state_->segments) {
    const double end = std::isinf(s.end_s) ? now_s : s.end_s;
    if (s.start_s < from_s - kTolerance || end > to_s + kTolerance) continue;
    summary.from_s = std::min(summary.from_s, s.start_s);
    summary.to_s = std::max(summary.to_s, end);
    for (size_t t = 0; t < merged.size(); ++t) {
      for (size_t i = 0; i < merged[t].size(); ++i) Merge(merged[t][i], s.tiers[t][i]);
    }
  }
  if (std::isinf(summary.from_s)) summary.from_s = summary.to_s = from_s;
  for (size_t t = 0; t < merged.size(); ++t) {
    const TierSpec& spec = state_->tiers[t];
    TierSummary tier{spec.name, spec.kind, {}};
    for (size_t i = 0; i < merged[t].size(); ++i) {
      const SourceAggregate& agg = merged[t][i];
      SourceSummary source;
      source.label = spec.sources[i].label;
      source.kind = spec.sources[i].kind;
      source.samples = agg.samples;
      source.failures = agg.failures;
      source.error = agg.error;
      source.attributes = agg.attributes;
      for (const auto& [name, a] : agg.metrics) {
        source.metrics[name] = MetricSummary{a.type, a.samples, a.sum / static_cast<double>(a.samples), a.min, a.max, a.last, a.total};
      }
      source.top = TopActivity(agg);
      tier.sources.push_back(std::move(source));
    }
    summary.tiers.push_back(std::move(tier));
  }
  return summary;
}

void Watcher::Stop() {
  {
    std::lock_guard lock(state_->mu);
    if (state_->stopped) return;
    state_->stop = true;
    state_->stopped = true;
  }
  state_->cv.notify_all();
  if (state_->thread.joinable()) state_->thread.join();
}

double Watcher::ThreadCpuSeconds() const {
  {
    std::lock_guard lock(state_->mu);
    if (state_->stopped) return state_->final_cpu_s;
  }
  clockid_t clock;
  if (pthread_getcpuclockid(const_cast<std::thread&>(state_->thread).native_handle(), &clock) != 0) return 0;
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

const SourceSummary* Summary::Find(std::string_view tier, SourceKind kind) const {
  for (const TierSummary& t : tiers) {
    if (t.name != tier) continue;
    for (const SourceSummary& s : t.sources) {
      if (s.kind == kind) return &s;
    }
  }
  return nullptr;
}

const MetricSummary* Summary::FindMetric(std::string_view tier, std::string_view kind, std::string_view metric) const {
  for (const TierSummary& t : tiers) {
    if (t.name != tier) continue;
    for (const SourceSummary& s : t.sources) {
      if (SourceKindName(s.kind) != kind) continue;
      if (auto it = s.metrics.find(std::string(metric)); it != s.metrics.end()) return &it->second;
    }
  }
  return nullptr;
}

}  // namespace headroom::collect
