#include "exec/executor.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "core/clock.h"
#include "core/version.h"
#include "explain/explain.h"
#include "report/hlog.h"
#include "report/junit.h"
#include "report/markdown.h"

namespace headroom::exec {
namespace {

constexpr int64_t kCheckpointEveryNs = 10 * kSecNs;
// In the output folder; holds the running process's pid.
constexpr const char* kOutLockName = ".headroom.lock";
// After this many seconds without any connection established, the run says so (a shorter run says
// so at its end).
constexpr int64_t kNoConnectionNoticeS = 3;
// A phase with no SLO whose failed share of requests is above this gets a notice.
constexpr double kUngatedErrorShare = 0.01;

engine::Arrival ToEngine(scenario::Arrival a) {
  return a == scenario::Arrival::kPoisson ? engine::Arrival::kPoisson : engine::Arrival::kUniform;
}

class EngineRunner final : public PhaseRunner {
 public:
  Result<engine::RunStats> Run(const engine::Config& config, const engine::SecondCallback& on_second) override {
    return engine::Run(config, on_second);
  }
};

// A connection was established when anything came back or failed after connecting.
bool AnyConnection(const engine::Counters& c) {
  using engine::ErrorClass;
  return c.completed > 0 || c.by_class[int(ErrorClass::kReset)] > 0 || c.by_class[int(ErrorClass::kMalformed)] > 0;
}

int64_t ConnectFailures(const engine::Counters& c) {
  using engine::ErrorClass;
  return c.by_class[int(ErrorClass::kConnectRefused)] + c.by_class[int(ErrorClass::kConnectTimeout)] +
         c.by_class[int(ErrorClass::kConnectError)] + c.by_class[int(ErrorClass::kTlsHandshake)] +
         c.by_class[int(ErrorClass::kTlsVerify)];
}

}  // namespace

std::unique_ptr<PhaseRunner> MakeEngineRunner() { return std::make_unique<EngineRunner>(); }

void FillSection(report::Section& section, const engine::Counters& c, const Histogram& response_us,
                 const Histogram* service_us, double seconds) {
  section.requests_ok = c.ok;
  section.requests_errors = c.errors;
  section.requests_total = c.ok + c.errors;
  section.achieved_rps = seconds > 0 ? double(c.completed) / seconds : 0;
  section.response_time_us = response_us;
  if (service_us) section.service_time_us = *service_us;
  for (int i = 0; i < engine::kErrorClassCount; ++i) {
    if (c.by_class[i]) section.errors_by_class[engine::ErrorClassName(engine::ErrorClass(i))] = c.by_class[i];
  }
  for (size_t i = 0; i < c.status_codes.size(); ++i) {
    if (c.status_codes[i]) section.status_codes[int(i)] = c.status_codes[i];
  }
}

report::SecondRow RowOf(const engine::SecondStats& s) {
  report::SecondRow row;
  row.second = s.second;
  row.span_s = s.span_s;
  const Histogram& h = s.response_time_us;
  row.intended = s.counters.intended;
  row.completed = s.counters.completed;
  row.ok = s.counters.ok;
  row.errors = s.counters.errors;
  return WithLatency(row, h);
}

report::SecondRow WithLatency(report::SecondRow row, const Histogram& h) {
  row.p50_us = h.ValueAtPercentile(50);
  row.p90_us = h.ValueAtPercentile(90);
  row.p95_us = h.ValueAtPercentile(95);
  row.p99_us = h.ValueAtPercentile(99);
  row.max_us = h.Count() ? h.Max() : 0;
  row.mean_us = h.Count() ? h.Mean() : 0;
  return row;
}

void Accumulator::Add(const engine::RunStats& s, double seconds) {
  counters.Add(s.counters);
  response_time_us.Add(s.response_time_us);
  service_time_us.Add(s.service_time_us);
  pacer_lateness_us.Add(s.pacer_lateness_us);
  connect_time_us.Add(s.connect_time_us);
  tls_handshake_time_us.Add(s.tls_handshake_time_us);
  if (protocol.empty()) protocol = s.protocol;
  if (s.h2_max_streams > 0) {
    h2_max_streams = h2_max_streams == 0 ? s.h2_max_streams : std::min(h2_max_streams, s.h2_max_streams);
  }
  h2_peak_streams = std::max(h2_peak_streams, s.h2_peak_streams);
  if (tls_version.empty()) {
    tls_version = s.tls_version;
    tls_cipher = s.tls_cipher;
    alpn = s.alpn;
  }
  if (requests.empty()) {
    for (const engine::RequestStats& r : s.requests) requests.push_back({r.name, Histogram(), engine::Counters{}, ""});
  }
  for (size_t i = 0; i < requests.size() && i < s.requests.size(); ++i) {
    requests[i].response_time_us.Add(s.requests[i].response_time_us);
    requests[i].counters.Add(s.requests[i].counters);
    if (requests[i].first_check_failure.empty()) requests[i].first_check_failure = s.requests[i].first_check_failure;
  }
  measured_s += seconds;
  elapsed_s += s.elapsed_s;
  cpu_user_s += s.cpu_user_s;
  cpu_system_s += s.cpu_system_s;
  rss_bytes = std::max(rss_bytes, s.rss_bytes);
}

report::Section Accumulator::MakeSection(std::string name) const {
  report::Section s;
  s.name = std::move(name);
  FillSection(s, counters, response_time_us, &service_time_us, measured_s);
  for (const engine::RequestStats& r : requests) {
    if (s.check_failure.empty() && !r.first_check_failure.empty()) s.check_failure = r.name + ": " + r.first_check_failure;
  }
  return s;
}

std::vector<report::Section> Accumulator::MakeRequestSections() const {
  std::vector<report::Section> out;
  for (const engine::RequestStats& r : requests) {
    report::Section s;
    s.name = r.name;
    FillSection(s, r.counters, r.response_time_us, nullptr, measured_s);
    s.check_failure = r.first_check_failure;
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<report::SloResult> Judge(const std::vector<slo::Objective>& objectives, const report::Section& section,
                                     const std::vector<report::Section>& by_name, const DriftWindows* windows,
                                     const collect::Summary* tiers) {
  std::vector<report::SloResult> out;
  const slo::TierLookup lookup = [tiers](std::string_view tier, std::string_view kind,
                                         std::string_view metric) -> std::optional<slo::TierValues> {
    const collect::MetricSummary* m = tiers != nullptr ? tiers->FindMetric(tier, kind, metric) : nullptr;
    if (m == nullptr || m->samples == 0) return std::nullopt;
    return slo::TierValues{m->samples, m->mean, m->min, m->max, m->total};
  };
  for (const slo::Objective& o : objectives) {
    if (o.metric == slo::Metric::kTier) {
      slo::Verdict v = slo::EvaluateTier(o, lookup);
      out.push_back({v.expr, v.observed, v.observed_text, v.pass});
      continue;
    }
    const report::Section* s = &section;
    if (!o.request.empty()) {
      auto it = std::find_if(by_name.begin(), by_name.end(), [&](const report::Section& r) { return r.name == o.request; });
      if (it == by_name.end()) {
        out.push_back({o.expr, 0, "no request named '" + o.request + "'", false});
        continue;
      }
      s = &*it;
    }
    slo::Observations obs = ObservationsOf(*s);
    if (windows != nullptr && o.request.empty()) {
      obs.first_window_us = &windows->first_us();
      obs.last_window_us = &windows->last_us();
      obs.first_window_error_rate = ErrorRate(windows->first());
      obs.last_window_error_rate = ErrorRate(windows->last());
      obs.first_window_requests = windows->first().ok + windows->first().errors;
      obs.last_window_requests = windows->last().ok + windows->last().errors;
    }
    slo::Verdict v = slo::Evaluate(o, obs);
    out.push_back({v.expr, v.observed, v.observed_text, v.pass});
  }
  return out;
}

std::vector<report::TierResult> TierResults(const collect::Summary& summary) {
  std::vector<report::TierResult> out;
  for (const collect::TierSummary& t : summary.tiers) {
    report::TierResult tier{t.name, t.kind, {}};
    for (const collect::SourceSummary& s : t.sources) {
      report::TierSourceResult src;
      src.label = s.label;
      src.kind = std::string(collect::SourceKindName(s.kind));
      src.samples = s.samples;
      src.failures = s.failures;
      src.error = s.error;
      for (const auto& [name, m] : s.metrics) {
        src.metrics.push_back({name, m.type == collect::MetricType::kRate ? "rate" : "gauge", m.samples, m.mean, m.min,
                               m.max, m.last, m.total});
      }
      for (const auto& [k, v] : s.attributes) src.attributes.emplace_back(k, v);
      for (const collect::ActivitySummary& a : s.top) {
        report::TierActivityResult act{a.group, a.key, {}};
        for (const collect::Count& c : a.counts) act.counts.emplace_back(c.name, c.value);
        src.top.push_back(std::move(act));
      }
      tier.sources.push_back(std::move(src));
    }
    out.push_back(std::move(tier));
  }
  return out;
}

bool AllPass(const std::vector<report::SloResult>& verdicts) {
  return std::all_of(verdicts.begin(), verdicts.end(), [](const report::SloResult& v) { return v.pass; });
}

Result<std::vector<slo::Objective>> PhaseObjectives(const std::vector<scenario::SloSpec>& top,
                                                    const scenario::Phase& phase) {
  std::vector<slo::Objective> out;
  for (const auto* list : {&top, &phase.slos}) {
    for (const scenario::SloSpec& spec : *list) {
      auto o = slo::ParseObjective(spec.text);
      if (!o) return Fail("SLO '" + spec.text + "': " + o.error().message);
      if (!spec.request.empty()) {
        o->request = spec.request;
        o->expr = spec.request + "." + o->expr;
      }
      out.push_back(std::move(*o));
    }
  }
  return out;
}

Executor::Executor(const ExecPlan& plan)
    : plan_(plan), runner_(plan.runner), progress_(plan.progress ? plan.progress : &silent_) {
  if (runner_ == nullptr) {
    own_runner_ = MakeEngineRunner();
    runner_ = own_runner_.get();
  }
}

Executor::~Executor() {
  if (hlog_ != nullptr) std::fclose(hlog_);
}

std::string Executor::Label(size_t index, const scenario::Phase& phase) const {
  if (plan_.phases.size() == 1) return phase.name;
  return "phase " + std::to_string(index + 1) + "/" + std::to_string(plan_.phases.size()) + " " + phase.name;
}

engine::Config Executor::BaseConfig(const scenario::Phase& p) const {
  engine::Config c;
  c.address = plan_.address;
  c.tls = plan_.tls;
  c.http = plan_.http;
  c.source = plan_.source;
  c.threads = plan_.threads;
  c.timeout_ns = plan_.timeout_ns;
  c.seed = plan_.seed;
  if (plan_.shard) {
    // Independent Poisson processes of rate r/N superpose into one of rate r: each shard its own seed.
    c.seed = plan_.seed + uint64_t(plan_.shard->spec.index) * 0x9E3779B97F4A7C15ULL;
    c.shard_phase = double(plan_.shard->spec.index) / double(plan_.shard->spec.count);
  }
  c.io = plan_.io;
  c.stop = plan_.stop;
  c.abort = &abort_;
  c.arrival = ToEngine(p.arrival);
  c.connections = p.connections > 0 ? p.connections : scenario::kDefaultConnectionCap;
  c.model = scenario::IsOpenModel(p.kind) ? engine::Model::kOpen : engine::Model::kClosed;
  switch (p.kind) {
    case scenario::PhaseKind::kBaseline:
    case scenario::PhaseKind::kSoak:
      c.rate_profile = {{p.duration_ns, p.rate_per_sec, p.rate_per_sec}};
      break;
    case scenario::PhaseKind::kRamp:
      c.rate_profile = {{p.duration_ns, p.from_per_sec, p.to_per_sec}};
      break;
    case scenario::PhaseKind::kSpike:
      c.rate_profile = {{p.hold_ns, p.to_per_sec, p.to_per_sec},
                        {p.duration_ns - p.hold_ns, p.from_per_sec, p.from_per_sec}};
      break;
    case scenario::PhaseKind::kClosed:
      c.duration_ns = p.duration_ns;
      c.think_time_ns = p.think_ns;
      break;
    case scenario::PhaseKind::kStress:
      break;  // each step sets its own profile
  }
  return c;
}

void Executor::WriteHlogSecond(const engine::SecondStats& s) {
  if (hlog_ != nullptr) {
    const Histogram& h = s.response_time_us;
    std::fputs(report::HlogIntervalLine(hlog_at_s_, s.span_s, h.Count() ? h.Max() : 0,
                                        h.EncodeCompressedBase64())
                   .c_str(),
               hlog_);
  }
  hlog_at_s_ += s.span_s;
}

double Executor::TierWindowStart() {
  if (watcher_ == nullptr) return 0;
  const double t = watcher_->NowS();
  watcher_->Mark(t);
  return t;
}

std::optional<collect::Summary> Executor::TierWindowEnd(double from_s) {
  if (watcher_ == nullptr) return std::nullopt;
  const double t = watcher_->NowS();
  watcher_->Mark(t);
  DrainTierMessages();
  return watcher_->Summarize(from_s, t);
}

void Executor::DrainTierMessages() {
  std::vector<std::string> messages;
  {
    std::lock_guard<std::mutex> lock(tier_messages_mu_);
    messages.swap(tier_messages_);
  }
  for (std::string& m : messages) {
    progress_->OnNotice(m);
    notices_.push_back(std::move(m));
  }
}

// A phase without SLOs fails only when nothing succeeded: say so when many requests failed, so that
// a green verdict is never read as "the service was fine".
void Executor::WarnUngated(const report::PhaseResult& phase, bool no_objectives) {
  const double rate = phase.section.error_rate();
  if (!no_objectives || rate <= kUngatedErrorShare || phase.section.requests_ok == 0) return;
  char pct[32];
  std::snprintf(pct, sizeof pct, "%.1f%%", 100 * rate);
  notices_.push_back("phase " + phase.name + " has no SLO, so its verdict only checks that something succeeded, "
                     "while " + pct + " of its requests failed; gate it with --slo 'error_rate < 1%'");
  progress_->OnNotice(notices_.back());
}

void Executor::CheckConnections(const engine::SecondStats& s) {
  run_s_ += s.span_s;
  ever_connected_ = ever_connected_ || AnyConnection(s.counters);
  connect_failures_ += ConnectFailures(s.counters);
  tls_failures_ += s.counters.by_class[int(engine::ErrorClass::kTlsHandshake)] +
                   s.counters.by_class[int(engine::ErrorClass::kTlsVerify)];
  if (run_s_ + 1e-9 < double(kNoConnectionNoticeS)) return;
  NoConnectionNotice("in the first " + std::to_string(kNoConnectionNoticeS) + " s");
}

void Executor::NoConnectionNotice(const std::string& when) {
  if (ever_connected_ || warned_no_connection_ || connect_failures_ == 0) return;
  warned_no_connection_ = true;
  notices_.push_back("no connection to " + plan_.target + " was established " + when + ": every attempt failed (" +
                     (tls_failures_ == 0 ? std::to_string(connect_failures_) + " connect errors); is the server up?"
                                         : std::to_string(connect_failures_ - tls_failures_) + " connect errors, " +
                                               std::to_string(tls_failures_) +
                                               " failed TLS handshakes); does the server speak TLS with a "
                                               "certificate this run trusts?"));
  progress_->OnNotice(notices_.back());
}

Result<EngineRun> Executor::RunEngine(const engine::Config& config, const scenario::Phase& phase,
                                      const std::string& label, double total_s,
                                      const std::vector<slo::Objective>* abort_objectives) {
  EngineRun run;
  run.rows.reserve(size_t(total_s) + 2);  // one row a second (plus the partial last): no regrowth mid-run
  run.windows = DriftWindows::For(phase);
  const bool keep_seconds = phase.kind == scenario::PhaseKind::kSpike;
  std::optional<AbortWatch> watch;
  if (abort_objectives != nullptr) watch.emplace(*abort_objectives, plan_.abort_on_fail.grace_ns);
  if (plan_.live != nullptr) {
    // The rate the run starts at (a ramp's or a spike's changes over its segments).
    const double rate = config.model == engine::Model::kOpen && !config.rate_profile.empty() ? config.rate_profile[0].start_rps : 0;
    plan_.live->OnPhase(phase.name, label, rate);
  }
  auto on_second = [&](const engine::SecondStats& s) {
    if (plan_.live != nullptr) plan_.live->OnSecond(s);
    run.rows.push_back(RowOf(s));
    progress_->OnSecond(label, total_s, run.rows.back());
    WriteHlogSecond(s);
    CheckConnections(s);
    if (watcher_ != nullptr) DrainTierMessages();
    running_counters_.Add(s.counters);
    running_us_.Add(s.response_time_us);
    if (keep_seconds) run.seconds.push_back(s.response_time_us);
    run.windows->Add(s.second, s.counters, s.response_time_us);
    if (watch && !run.aborted) {
      if (auto broken = watch->Observe(s.second, s.counters, s.response_time_us)) {
        run.aborted = *broken;
        abort_.store(true);
      }
    }
    Checkpoint(&phase, &run.rows, false);
  };
  auto stats = runner_->Run(config, on_second);
  progress_->OnRunEnd();
  if (!stats) return std::unexpected(stats.error());
  io_ = stats->io;
  if (!stats->io_notice.empty() && std::find(notices_.begin(), notices_.end(), stats->io_notice) == notices_.end()) {
    notices_.push_back(stats->io_notice);  // once per run, not once per phase
    progress_->OnNotice(notices_.back());
  }
  if (plan_.live != nullptr) plan_.live->OnEngineRun(*stats);
  double seconds_s = 0;
  for (const report::SecondRow& row : run.rows) seconds_s += row.span_s;
  hlog_at_s_ += std::max(0.0, stats->elapsed_s - seconds_s);  // the drain after the last second
  if (first_h2_error_.empty() && !stats->first_h2_error.empty()) {
    first_h2_error_ = stats->first_h2_error;
    notices_.push_back("HTTP/2 connections failed; the first: " + first_h2_error_);
    progress_->OnNotice(notices_.back());
  }
  if (first_tls_error_.empty() && !stats->first_tls_error.empty()) {
    first_tls_error_ = stats->first_tls_error;
    notices_.push_back("TLS handshakes failed; the first: " + first_tls_error_);
    progress_->OnNotice(notices_.back());
  }
  run.stats = std::move(*stats);
  return run;
}

Result<report::PhaseResult> Executor::RunPhase(size_t index, const scenario::Phase& phase,
                                               const std::vector<slo::Objective>& objectives) {
  engine::Config config = BaseConfig(phase);
  const double planned_s = double(phase.duration_ns) / 1e9;
  const double tier_from_s = TierWindowStart();
  auto run = RunEngine(config, phase, Label(index, phase), planned_s,
                       plan_.abort_on_fail.enabled ? &objectives : nullptr);
  if (!run) return std::unexpected(run.error());
  const std::optional<collect::Summary> tiers = TierWindowEnd(tier_from_s);
  // Rates are per second of the phase as planned, or of the time it ran when it was cut short.
  const double measured_s = run->stats.interrupted ? std::min(planned_s, run->stats.elapsed_s) : planned_s;
  Accumulator acc;
  acc.Add(run->stats, measured_s);
  total_.Add(run->stats, measured_s);

  report::PhaseStatus status = report::PhaseStatus::kPassed;
  report::PhaseResult r = PhaseHeader(phase, status, offset_s_);
  r.duration_s = planned_s;
  r.elapsed_s = run->stats.elapsed_s;
  r.section = acc.MakeSection(phase.name);
  if (config.model == engine::Model::kOpen) r.section.requested_rps = run->stats.requested_rps;
  r.requests = acc.MakeRequestSections();
  r.section.slo = Judge(objectives, r.section, r.requests, &*run->windows, tiers ? &*tiers : nullptr);
  if (tiers) r.tiers = TierResults(*tiers);
  r.series = std::move(run->rows);
  if (phase.kind == scenario::PhaseKind::kSoak) r.soak = SoakDrift(*run->windows);
  if (phase.kind == scenario::PhaseKind::kSpike) {
    report::SpikeResult s;
    s.from_rps = phase.from_per_sec;
    s.to_rps = phase.to_per_sec;
    s.hold_s = double(phase.hold_ns) / 1e9;
    if (const slo::Objective* latency = RecoveryObjective(objectives)) {
      s.slo = latency->expr;
      s.recovery_s = SpikeRecoveryS(run->seconds, phase.hold_ns, phase.duration_ns / kSecNs, *latency);
      s.recovered = s.recovery_s.has_value();
    }
    r.spike = s;
  }
  if (run->aborted) {
    r.status = report::PhaseStatus::kAborted;
    r.section.slo.push_back({"abort_on_fail", 0, "'" + *run->aborted + "' stayed broken: run stopped", false});
  } else if (run->stats.interrupted) {
    r.status = report::PhaseStatus::kInterrupted;
  } else {
    r.status = AllPass(r.section.slo) && r.section.requests_ok > 0 ? report::PhaseStatus::kPassed
                                                                    : report::PhaseStatus::kFailed;
  }
  return r;
}

void Executor::FinishPhase(report::PhaseResult phase_result) {
  for (const report::SecondRow& row : phase_result.series) {
    report::SecondRow copy = row;
    copy.second = int64_t(all_rows_.size());
    all_rows_.push_back(std::move(copy));
  }
  offset_s_ += phase_result.elapsed_s;
  done_.push_back(std::move(phase_result));
  running_counters_ = engine::Counters{};
  running_us_.Reset();
}

void Executor::Checkpoint(const scenario::Phase* phase, const std::vector<report::SecondRow>* rows, bool force) {
  if (plan_.out_dir.empty()) return;
  const int64_t now = MonoNowNs();
  if (!force && now - last_checkpoint_ns_ < kCheckpointEveryNs) return;
  last_checkpoint_ns_ = now;
  if (hlog_ != nullptr) std::fflush(hlog_);
  if (phase == nullptr) {
    report::Results done = Assemble(false, nullptr, nullptr);
    (void)report::WriteResultsJson(done, plan_.out_dir + "/results.json");
    return;
  }
  report::PhaseResult running = PhaseHeader(*phase, report::PhaseStatus::kRunning, offset_s_);
  running.elapsed_s = double(rows->size());
  FillSection(running.section, running_counters_, running_us_, nullptr, double(rows->size()));
  report::Results r = Assemble(false, &running, rows);
  (void)report::WriteResultsJson(r, plan_.out_dir + "/results.json");
}

report::Results Executor::Assemble(bool complete, const report::PhaseResult* running,
                                   const std::vector<report::SecondRow>* running_rows) const {
  report::Results r;
  r.tool_version = HEADROOM_VERSION;
  r.started_at_us = started_at_us_;
  r.target = plan_.target;
  r.scenario = plan_.scenario;
  r.method = plan_.method;
  r.threads = plan_.threads;
  r.complete = complete;
  r.interrupted = Interrupted();
  r.notices = notices_;
  if (watch_sink_) r.tiers_series = "tiers.jsonl";
  bool any_open = false;
  for (size_t i = 0; i < plan_.phases.size(); ++i) {
    const scenario::Phase& p = plan_.phases[i];
    any_open = any_open || scenario::IsOpenModel(p.kind);
    // Planned length; a stress phase's is known once it ran (the sum of its steps).
    r.duration_s += i < done_.size() ? done_[i].duration_s : double(p.duration_ns) / 1e9;
    r.connections = std::max(r.connections, p.connections > 0 ? p.connections : scenario::kDefaultConnectionCap);
  }
  r.model = any_open ? report::LoadModel::kOpen : report::LoadModel::kClosed;
  r.arrival = plan_.phases.empty() || plan_.phases[0].arrival == scenario::Arrival::kUniform ? "uniform" : "poisson";
  r.elapsed_s = offset_s_ + (running != nullptr ? running->elapsed_s : 0);  // includes pauses between steps
  r.bytes_read = total_.counters.bytes_read;
  r.bytes_written = total_.counters.bytes_written;
  Accumulator total = total_;
  if (running != nullptr) {
    total.counters.Add(running_counters_);
    total.response_time_us.Add(running_us_);
    total.measured_s += running->elapsed_s;
  }
  r.overall = total.MakeSection("");
  r.requests = total.MakeRequestSections();
  double requested = 0, open_s = 0;
  for (const report::PhaseResult& p : done_) {
    if (p.section.requested_rps) {
      requested += *p.section.requested_rps * p.duration_s;
      open_s += p.duration_s;
    }
  }
  if (open_s > 0) r.overall.requested_rps = requested / open_s;
  if (done_.size() == 1 && plan_.phases.size() == 1) r.overall.slo = done_[0].section.slo;
  report::Generator& g = r.generator;
  g.pacer_lateness_us = total.pacer_lateness_us;
  g.delayed = total.counters.delayed;
  g.waited_at_cap = total.counters.waited_at_cap;
  g.max_queue_depth = total.counters.max_queue_depth;
  g.unfinished = total.counters.unfinished;
  g.connections_opened = total.counters.connections_opened;
  g.connect_attempts = total.counters.connect_attempts;
  g.connect_time_us = total.connect_time_us;
  report::Transport& t = r.transport;
  t.scheme = plan_.tls.enabled ? "https" : "http";
  t.protocol = !total.protocol.empty() ? total.protocol : "http/1.1";
  t.h2 = t.protocol == "h2" || t.protocol == "h2c";
  t.h2_max_streams = total.h2_max_streams;
  t.h2_peak_streams = total.h2_peak_streams;
  t.h2_goaways = total.counters.h2_goaways;
  t.h2_resets = total.counters.h2_resets;
  t.h2_retried = total.counters.h2_retried;
  t.first_h2_error = first_h2_error_;
  t.tls = plan_.tls.enabled;
  t.tls_verify = plan_.tls.verify;
  t.tls_version = total.tls_version;
  t.tls_cipher = total.tls_cipher;
  t.tls_handshakes_new = total.counters.tls_handshakes_new;
  t.tls_handshakes_resumed = total.counters.tls_handshakes_resumed;
  t.tls_handshake_time_us = total.tls_handshake_time_us;
  t.first_tls_error = first_tls_error_;
  g.cpu_user_s = total.cpu_user_s;
  g.cpu_system_s = total.cpu_system_s;
  g.rss_bytes = total.rss_bytes;
  g.io = engine::IoName(io_);
  r.series = all_rows_;
  r.phases = done_;
  if (running != nullptr) {
    for (const report::SecondRow& row : *running_rows) {
      report::SecondRow copy = row;
      copy.second = int64_t(r.series.size());
      r.series.push_back(std::move(copy));
    }
    r.phases.push_back(*running);
  }
  r.verdict = RunVerdict(r.phases, r.overall.requests_ok, r.interrupted);
  if (plan_.shard) {
    r.shard = report::ShardInfo{plan_.shard->spec.index, plan_.shard->spec.count, plan_.shard->start_at_us,
                                shard_started_us_, plan_.shard->scenario_hash};
  }
  return r;
}

double Executor::WaitForSlot(const std::string& what) {
  const int64_t before = WallNowUs();
  while (!Stopped()) {
    const int64_t left_us = next_start_us_ - WallNowUs();
    if (left_us <= 0) break;
    std::this_thread::sleep_for(std::chrono::microseconds(std::min<int64_t>(left_us, 50'000)));
  }
  if (Stopped()) return -1;
  const int64_t now = WallNowUs();
  if (now - next_start_us_ > 100'000) {
    char late[64];
    std::snprintf(late, sizeof late, "%.2f s", double(now - next_start_us_) / 1e6);
    notices_.push_back("shard " + std::to_string(plan_.shard->spec.index) + "/" +
                       std::to_string(plan_.shard->spec.count) + " started " + what + " " + late +
                       " late: its seconds are not aligned with the other shards'");
    progress_->OnNotice(notices_.back());
  }
  return double(std::max<int64_t>(0, now - before)) / 1e6;
}

double Executor::ShardClockS() const { return double(WallNowUs() - plan_.shard->start_at_us) / 1e6; }

Result<report::Results> Executor::Run() {
  started_at_us_ = plan_.shard ? plan_.shard->start_at_us : WallNowUs();
  origin_ns_ = MonoNowNs();
  if (plan_.tls.enabled && !plan_.tls.verify) {
    notices_.push_back("TLS certificate verification is OFF (--insecure): the server's identity was not checked");
    progress_->OnNotice(notices_.back());
  }
  last_checkpoint_ns_ = origin_ns_;
  if (!plan_.out_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(plan_.out_dir, ec);
    if (ec) return Fail("cannot create " + plan_.out_dir + ": " + ec.message());
    auto lock = sys::FileLock::Acquire(plan_.out_dir + "/" + kOutLockName);
    if (!lock) {
      return Fail("--out " + plan_.out_dir + " is in use: another headroom run is writing there (" +
                  lock.error().message + "); wait for it or choose another folder");
    }
    out_lock_.emplace(std::move(*lock));
    if (!plan_.tiers.empty()) {
      auto sink = collect::JsonLinesSink(plan_.out_dir + "/tiers.jsonl");
      if (!sink) return std::unexpected(sink.error());
      watch_sink_ = std::move(*sink);
    }
    std::string path = plan_.out_dir + "/results.hlog";
    hlog_ = std::fopen(path.c_str(), "w");
    if (hlog_ == nullptr) return Fail("cannot write " + path);
    std::fputs(report::HlogHeader(HEADROOM_VERSION, plan_.scenario.empty() ? plan_.target : plan_.scenario,
                                  started_at_us_)
                   .c_str(),
               hlog_);
  }
  if (!plan_.tiers.empty()) {
    collect::WatcherOptions options;
    options.origin_ns = origin_ns_;
    options.sink = watch_sink_;
    if (plan_.live != nullptr) {
      options.sink = [file = watch_sink_, live = plan_.live](const collect::SampleRecord& r) {
        if (file) file(r);
        live->OnTierSample(r);
      };
    }
    options.on_message = [this](const std::string& m) {
      std::lock_guard<std::mutex> lock(tier_messages_mu_);
      tier_messages_.push_back(m);
    };
    options.make_source = plan_.make_source;
    auto watcher = collect::Watcher::Start(plan_.tiers, std::move(options));
    if (!watcher) return std::unexpected(watcher.error());
    watcher_ = std::move(*watcher);
  }
  if (plan_.shard) {
    notices_.push_back("this run is shard " + std::to_string(plan_.shard->spec.index) + " of " +
                       std::to_string(plan_.shard->spec.count) +
                       " of a distributed test: its figures and verdicts cover its share of the load only; "
                       "headroom merge judges the whole test");
    next_start_us_ = plan_.shard->start_at_us;
    WaitForSlot("the run");
    shard_started_us_ = WallNowUs();
  }
  for (size_t i = 0; i < plan_.phases.size(); ++i) {
    const scenario::Phase& phase = plan_.phases[i];
    // Shards start each phase at the same wall-clock time; offsets are seconds after --start-at.
    if (plan_.shard && i > 0 && WaitForSlot("phase " + phase.name) >= 0) offset_s_ = ShardClockS();
    const int64_t slot_us = next_start_us_;
    if (Stopped()) {
      done_.push_back(PhaseHeader(phase, report::PhaseStatus::kSkipped, offset_s_));
      done_.back().duration_s = double(phase.duration_ns) / 1e9;
      continue;
    }
    hlog_at_s_ = offset_s_;
    auto objectives = PhaseObjectives(plan_.slos, phase);
    if (!objectives) return std::unexpected(objectives.error());
    if (hlog_ != nullptr) {
      std::fputs(report::HlogPhaseComment(phase.name, std::string(scenario::PhaseKindName(phase.kind)), offset_s_).c_str(),
                 hlog_);
    }
    auto result = phase.kind == scenario::PhaseKind::kStress ? RunStress(i, phase, *objectives)
                                                              : RunPhase(i, phase, *objectives);
    if (!result) return std::unexpected(result.error());
    // Every shard computes the same start for the next phase (a stress phase sets it from its last
    // exchanged step).
    if (plan_.shard && phase.kind != scenario::PhaseKind::kStress) {
      next_start_us_ = slot_us + phase.duration_ns / 1000 + kShardPhaseGapUs;
    }
    WarnUngated(*result, objectives->empty());
    FinishPhase(std::move(*result));
    Checkpoint(nullptr, nullptr, true);
  }
  if (watcher_ != nullptr) {
    watcher_->Stop();
    DrainTierMessages();
  }
  // A run shorter than the notice's delay still says that nothing connected, in its own terms.
  char lasted[64];
  std::snprintf(lasted, sizeof lasted, "in the %.1f s the run lasted", run_s_);
  NoConnectionNotice(lasted);
  report::Results r = Assemble(true, nullptr, nullptr);
  if (hlog_ != nullptr) {
    std::fclose(hlog_);
    hlog_ = nullptr;
  }
  if (!plan_.out_dir.empty()) {
    if (auto s = WriteAllOutputs(r, plan_.out_dir); !s) return std::unexpected(s.error());
  }
  return r;
}

report::Verdict RunVerdict(const std::vector<report::PhaseResult>& phases, int64_t requests_ok, bool interrupted) {
  if (interrupted) return report::Verdict::kInterrupted;
  if (requests_ok == 0) return report::Verdict::kFail;
  for (const report::PhaseResult& p : phases) {
    if (p.status != report::PhaseStatus::kPassed && p.status != report::PhaseStatus::kRunning) {
      return report::Verdict::kFail;
    }
  }
  return report::Verdict::kPass;
}

Result<report::Results> Execute(const ExecPlan& plan) {
  Executor executor(plan);
  return executor.Run();
}

Status WriteAllOutputs(const report::Results& results, const std::string& dir) {
  if (auto s = report::WriteResults(results, dir); !s) return s;
  if (auto s = report::WriteFileAtomic(dir + "/junit.xml", report::JunitXml(results)); !s) return s;
  // results.hlog was written second by second during the run.
  const std::optional<explain::Explanation> ranked = explain::ExplainRun(results);
  if (auto s = report::WriteFileAtomic(dir + "/summary.md",
                                       report::MarkdownSummary(results, ranked ? explain::Markdown(*ranked) : ""));
      !s) {
    return s;
  }
  // Drawn from the files just written, as `headroom report DIR` draws it.
  if (auto page = WriteHtmlReport(dir, ""); !page) return std::unexpected(page.error());
  return {};
}

}  // namespace headroom::exec
