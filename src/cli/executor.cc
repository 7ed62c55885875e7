#include "cli/executor.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "cli/executor_internal.h"
#include "core/clock.h"
#include "core/version.h"
#include "report/hlog.h"
#include "report/junit.h"
#include "report/markdown.h"
#include "sys/sys.h"

namespace headroom::cli {
namespace {

constexpr int64_t kSecNs = 1'000'000'000;
constexpr int64_t kCheckpointEveryNs = 10 * kSecNs;

engine::Arrival ToEngine(scenario::Arrival a) {
  return a == scenario::Arrival::kPoisson ? engine::Arrival::kPoisson : engine::Arrival::kUniform;
}

// The soak window, or a quarter of the phase for drift SLOs on other kinds.
int64_t DriftWindowNs(const scenario::Phase& p) {
  if (p.kind == scenario::PhaseKind::kSoak && p.window_ns > 0) return p.window_ns;
  return std::max<int64_t>(kSecNs, p.duration_ns / 4);
}

double Drift(double first, double last) {
  if (first == 0) return last == 0 ? 0.0 : INFINITY;
  return (last - first) / first;
}

double ErrorRate(const engine::Counters& c) {
  int64_t n = c.ok + c.errors;
  return n ? double(c.errors) / double(n) : 0.0;
}

}  // namespace

void Accumulator::Add(const engine::RunStats& s, double planned) {
  counters.Add(s.counters);
  response_time_us.Add(s.response_time_us);
  service_time_us.Add(s.service_time_us);
  pacer_lateness_us.Add(s.pacer_lateness_us);
  if (requests.empty()) {
    for (const engine::RequestStats& r : s.requests) requests.push_back({r.name, Histogram(), engine::Counters{}});
  }
  for (size_t i = 0; i < requests.size() && i < s.requests.size(); ++i) {
    requests[i].response_time_us.Add(s.requests[i].response_time_us);
    requests[i].counters.Add(s.requests[i].counters);
  }
  planned_s += planned;
  elapsed_s += s.elapsed_s;
  cpu_user_s += s.cpu_user_s;
  cpu_system_s += s.cpu_system_s;
  rss_bytes = std::max(rss_bytes, s.rss_bytes);
}

report::Section Accumulator::MakeSection(std::string name) const {
  report::Section s;
  s.name = std::move(name);
  FillSection(s, counters, response_time_us, &service_time_us, planned_s);
  return s;
}

std::vector<report::Section> Accumulator::MakeRequestSections() const {
  std::vector<report::Section> out;
  for (const engine::RequestStats& r : requests) {
    report::Section s;
    s.name = r.name;
    FillSection(s, r.counters, r.response_time_us, nullptr, planned_s);
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<report::SloResult> Judge(const std::vector<slo::Objective>& objectives, const report::Section& section,
                                     const std::vector<report::Section>& by_name, const EngineRun* windows) {
  std::vector<report::SloResult> out;
  for (const slo::Objective& o : objectives) {
    const report::Section* s = &section;
    if (!o.request.empty()) {
      s = nullptr;
      for (const report::Section& r : by_name) {
        if (r.name == o.request) s = &r;
      }
      if (s == nullptr) {
        out.push_back({o.expr, 0, "no request named '" + o.request + "'", false});
        continue;
      }
    }
    slo::Observations obs;
    obs.response_time_us = &s->response_time_us;
    obs.requests = s->requests_total;
    obs.errors = s->requests_errors;
    obs.achieved_rps = s->achieved_rps;
    if (windows != nullptr && o.request.empty()) {
      obs.first_window_us = &windows->first_window_us;
      obs.last_window_us = &windows->last_window_us;
      obs.first_window_error_rate = ErrorRate(windows->first_window);
      obs.last_window_error_rate = ErrorRate(windows->last_window);
    }
    slo::Verdict v = slo::Evaluate(o, obs);
    out.push_back({v.expr, v.observed, v.observed_text, v.pass});
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

Executor::Executor(const ExecPlan& plan) : plan_(plan) {}

Executor::~Executor() {
  if (hlog_ != nullptr) std::fclose(hlog_);
}

bool Executor::Stopped() const { return sys::StopRequested() || abort_.load(); }

std::string Executor::Label(size_t index, const scenario::Phase& phase) const {
  if (plan_.phases.size() == 1) return phase.name;
  return "phase " + std::to_string(index + 1) + "/" + std::to_string(plan_.phases.size()) + " " + phase.name;
}

engine::Config Executor::BaseConfig(const scenario::Phase& p) const {
  engine::Config c;
  c.address = plan_.address;
  c.source = plan_.source;
  c.threads = plan_.threads;
  c.timeout_ns = plan_.timeout_ns;
  c.seed = plan_.seed;
  c.stop = &sys::StopFlag();
  c.abort = &abort_;
  c.arrival = ToEngine(p.arrival);
  c.connections = p.connections > 0 ? p.connections : 1000;
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

Result<EngineRun> Executor::RunEngine(const engine::Config& config, const scenario::Phase& phase,
                                      const std::string& label, double total_s,
                                      const std::vector<slo::Objective>* abort_objectives) {
  EngineRun run;
  SeriesCollector collector(label, total_s, plan_.live);
  const bool keep_seconds = phase.kind == scenario::PhaseKind::kSpike;
  const int64_t window_ns = DriftWindowNs(phase);
  const int64_t duration_ns = phase.duration_ns;
  std::vector<int64_t> broken_since(abort_objectives ? abort_objectives->size() : 0, -1);
  auto on_second = [&](const engine::SecondStats& s) {
    collector.OnSecond(s);
    if (hlog_ != nullptr) {
      const Histogram& h = s.response_time_us;
      std::fputs(report::HlogIntervalLine(double(hlog_seconds_), s.span_s, h.Count() ? h.Max() : 0,
                                          h.EncodeCompressedBase64())
                     .c_str(),
                 hlog_);
    }
    ++hlog_seconds_;
    running_counters_.Add(s.counters);
    running_us_.Add(s.response_time_us);
    if (keep_seconds) run.seconds.push_back(s.response_time_us);
    int64_t at_ns = s.second * kSecNs;
    if (at_ns < window_ns) {
      run.first_window_us.Add(s.response_time_us);
      run.first_window.Add(s.counters);
    }
    if (duration_ns > 0 && at_ns >= duration_ns - window_ns && at_ns < duration_ns) {
      run.last_window_us.Add(s.response_time_us);
      run.last_window.Add(s.counters);
    }
    if (abort_objectives != nullptr && s.counters.ok + s.counters.errors > 0) {
      slo::Observations obs;
      obs.response_time_us = &s.response_time_us;
      obs.requests = s.counters.ok + s.counters.errors;
      obs.errors = s.counters.errors;
      obs.achieved_rps = double(s.counters.completed);
      for (size_t i = 0; i < abort_objectives->size(); ++i) {
        const slo::Objective& o = (*abort_objectives)[i];
        if (!o.request.empty() || o.metric == slo::Metric::kPercentileDrift ||
            o.metric == slo::Metric::kErrorRateDrift || o.metric == slo::Metric::kRps) {
          continue;  // judged on the whole phase only
        }
        if (slo::Evaluate(o, obs).pass) {
          broken_since[i] = -1;
          continue;
        }
        if (broken_since[i] < 0) broken_since[i] = s.second;
        if ((s.second + 1 - broken_since[i]) * kSecNs > plan_.abort_on_fail.grace_ns && !abort_.load()) {
          run.aborted = true;
          run.abort_reason = o.expr;
          abort_.store(true);
        }
      }
    }
    Checkpoint(&phase, &collector.rows(), false);
  };
  auto stats = engine::Run(config, on_second);
  collector.Finish();
  if (!stats) return std::unexpected(stats.error());
  run.stats = std::move(*stats);
  run.rows = collector.TakeRows();
  return run;
}

Result<report::PhaseResult> Executor::RunPhase(size_t index, const scenario::Phase& phase,
                                               const std::vector<slo::Objective>& objectives) {
  engine::Config config = BaseConfig(phase);
  const bool watch = plan_.abort_on_fail.enabled;
  auto run = RunEngine(config, phase, Label(index, phase), double(phase.duration_ns) / 1e9,
                       watch ? &objectives : nullptr);
  if (!run) return std::unexpected(run.error());
  Accumulator acc;
  acc.Add(run->stats, double(phase.duration_ns) / 1e9);
  if (run->stats.interrupted) acc.planned_s = std::min(acc.planned_s, run->stats.elapsed_s);
  total_.Add(run->stats, acc.planned_s);

  report::PhaseResult r;
  r.name = phase.name;
  r.kind = std::string(scenario::PhaseKindName(phase.kind));
  r.model = config.model == engine::Model::kOpen ? "open" : "closed";
  r.duration_s = double(phase.duration_ns) / 1e9;
  r.elapsed_s = run->stats.elapsed_s;
  r.offset_s = offset_s_;
  r.section = acc.MakeSection(phase.name);
  if (config.model == engine::Model::kOpen) r.section.requested_rps = run->stats.requested_rps;
  r.requests = acc.MakeRequestSections();
  r.section.slo = Judge(objectives, r.section, r.requests, &*run);
  r.series = run->rows;

  if (phase.kind == scenario::PhaseKind::kSoak) {
    report::SoakResult s;
    s.window_s = double(DriftWindowNs(phase)) / 1e9;
    s.first_p95_us = run->first_window_us.ValueAtPercentile(95);
    s.last_p95_us = run->last_window_us.ValueAtPercentile(95);
    s.p95_drift = Drift(double(s.first_p95_us), double(s.last_p95_us));
    s.p99_drift = Drift(double(run->first_window_us.ValueAtPercentile(99)),
                        double(run->last_window_us.ValueAtPercentile(99)));
    s.first_error_rate = ErrorRate(run->first_window);
    s.last_error_rate = ErrorRate(run->last_window);
    s.error_rate_drift = Drift(s.first_error_rate, s.last_error_rate);
    s.throughput_drift = Drift(double(run->first_window.completed), double(run->last_window.completed));
    r.soak = s;
  }
  if (phase.kind == scenario::PhaseKind::kSpike) {
    report::SpikeResult s;
    s.from_rps = phase.from_per_sec;
    s.to_rps = phase.to_per_sec;
    s.hold_s = double(phase.hold_ns) / 1e9;
    const slo::Objective* latency = nullptr;
    for (const slo::Objective& o : objectives) {
      if (o.request.empty() && o.metric == slo::Metric::kPercentile && latency == nullptr) latency = &o;
    }
    if (latency != nullptr) {
      s.slo = latency->expr;
      // Recovery: the first second after the hold from which every later second meets the SLO.
      int64_t first = phase.hold_ns / kSecNs;
      int64_t seconds = std::min<int64_t>(int64_t(run->seconds.size()), phase.duration_ns / kSecNs);
      int64_t recovered_at = -1;
      for (int64_t k = seconds - 1; k >= first; --k) {
        slo::Observations obs;
        obs.response_time_us = &run->seconds[k];
        obs.requests = run->seconds[k].Count();
        if (obs.requests > 0 && !slo::Evaluate(*latency, obs).pass) break;
        recovered_at = k;
      }
      if (recovered_at >= 0) {
        s.recovered = true;
        s.recovery_s = std::max(0.0, double(recovered_at) - s.hold_s);
      }
    }
    r.spike = s;
  }
  if (run->aborted) {
    r.status = "aborted";
  } else if (run->stats.interrupted) {
    r.status = "interrupted";
  } else {
    r.status = AllPass(r.section.slo) && r.section.requests_ok > 0 ? "passed" : "failed";
  }
  if (run->aborted) {
    r.section.slo.push_back({"abort_on_fail", 0, "'" + run->abort_reason + "' stayed broken: run stopped", false});
  }
  return r;
}

void Executor::FinishPhase(report::PhaseResult phase_result, const std::vector<report::SecondRow>& rows) {
  for (const report::SecondRow& row : rows) {
    report::SecondRow copy = row;
    copy.second = int64_t(all_rows_.size());
    all_rows_.push_back(std::move(copy));
  }
  offset_s_ += phase_result.elapsed_s;
  done_.push_back(std::move(phase_result));
  running_counters_ = engine::Counters{};
  running_us_.Reset();
}

void Executor::Checkpoint(const scenario::Phase* phase, const std::vector<report::SecondRow>* rows_in, bool force) {
  if (plan_.out_dir.empty()) return;
  int64_t now = MonoNowNs();
  if (!force && now - last_checkpoint_ns_ < kCheckpointEveryNs) return;
  last_checkpoint_ns_ = now;
  if (hlog_ != nullptr) std::fflush(hlog_);
  std::error_code ec;
  std::filesystem::create_directories(plan_.out_dir, ec);
  if (phase == nullptr) {
    report::Results done = Assemble(false, nullptr, nullptr);
    (void)report::WriteFileAtomic(plan_.out_dir + "/results.json", report::ToJson(done).dump(2) + "\n");
    return;
  }
  const std::vector<report::SecondRow>& rows = *rows_in;
  report::PhaseResult running;
  running.name = phase->name;
  running.kind = std::string(scenario::PhaseKindName(phase->kind));
  running.model = scenario::IsOpenModel(phase->kind) ? "open" : "closed";
  running.status = "running";
  running.offset_s = offset_s_;
  running.elapsed_s = double(rows.size());
  FillSection(running.section, running_counters_, running_us_, nullptr, double(rows.size()));
  report::Results r = Assemble(false, &running, &rows);
  (void)report::WriteFileAtomic(plan_.out_dir + "/results.json", report::ToJson(r).dump(2) + "\n");
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
  r.interrupted = sys::StopRequested();
  bool any_open = false;
  for (const scenario::Phase& p : plan_.phases) {
    any_open = any_open || scenario::IsOpenModel(p.kind);
    r.duration_s += double(p.duration_ns) / 1e9;
    r.connections = std::max(r.connections, p.connections > 0 ? p.connections : 1000);
  }
  r.model = any_open ? "open" : "closed";
  r.arrival = plan_.phases.empty() || plan_.phases[0].arrival == scenario::Arrival::kUniform ? "uniform" : "poisson";
  r.elapsed_s = total_.elapsed_s;
  r.bytes_read = total_.counters.bytes_read;
  r.bytes_written = total_.counters.bytes_written;
  Accumulator total = total_;
  if (running != nullptr) {
    total.counters.Add(running_counters_);
    total.response_time_us.Add(running_us_);
    total.planned_s += running->elapsed_s;
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
  g.max_queue_depth = total.counters.max_queue_depth;
  g.unfinished = total.counters.unfinished;
  g.connections_opened = total.counters.connections_opened;
  g.cpu_user_s = total.cpu_user_s;
  g.cpu_system_s = total.cpu_system_s;
  g.rss_bytes = total.rss_bytes;
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
  r.passed = r.overall.requests_ok > 0;
  for (const report::PhaseResult& p : r.phases) {
    if (p.status == "failed" || p.status == "aborted") r.passed = false;
    if (p.status == "interrupted" && !AllPass(p.section.slo)) r.passed = false;
  }
  return r;
}

Result<report::Results> Executor::Run() {
  started_at_us_ = WallNowUs();
  last_checkpoint_ns_ = MonoNowNs();
  if (!plan_.out_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(plan_.out_dir, ec);
    if (ec) return Fail("cannot create " + plan_.out_dir + ": " + ec.message());
    std::string path = plan_.out_dir + "/results.hlog";
    hlog_ = std::fopen(path.c_str(), "w");
    if (hlog_ == nullptr) return Fail("cannot write " + path);
    std::fputs(report::HlogHeader(HEADROOM_VERSION, plan_.scenario.empty() ? plan_.target : plan_.scenario,
                                  started_at_us_)
                   .c_str(),
               hlog_);
  }
  for (size_t i = 0; i < plan_.phases.size(); ++i) {
    const scenario::Phase& phase = plan_.phases[i];
    if (Stopped()) {
      report::PhaseResult skipped;
      skipped.name = phase.name;
      skipped.kind = std::string(scenario::PhaseKindName(phase.kind));
      skipped.model = scenario::IsOpenModel(phase.kind) ? "open" : "closed";
      skipped.status = "skipped";
      skipped.offset_s = offset_s_;
      done_.push_back(std::move(skipped));
      continue;
    }
    auto objectives = PhaseObjectives(plan_.slos, phase);
    if (!objectives) return std::unexpected(objectives.error());
    if (hlog_ != nullptr) {
      std::fputs(report::HlogPhaseComment(phase.name, std::string(scenario::PhaseKindName(phase.kind)), offset_s_).c_str(),
                 hlog_);
    }
    auto result = phase.kind == scenario::PhaseKind::kStress ? RunStress(i, phase, *objectives)
                                                              : RunPhase(i, phase, *objectives);
    if (!result) return std::unexpected(result.error());
    std::vector<report::SecondRow> rows = result->series;
    FinishPhase(std::move(*result), rows);
    Checkpoint(nullptr, nullptr, true);
  }
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

Result<report::Results> Execute(const ExecPlan& plan) {
  Executor executor(plan);
  return executor.Run();
}

Status WriteAllOutputs(const report::Results& results, const std::string& dir) {
  if (auto s = report::WriteResults(results, dir); !s) return s;
  if (auto s = report::WriteFileAtomic(dir + "/junit.xml", report::JunitXml(results)); !s) return s;
  // results.hlog was written second by second during the run.
  return report::WriteFileAtomic(dir + "/summary.md", report::MarkdownSummary(results));
}

}  // namespace headroom::cli
