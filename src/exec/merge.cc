// headroom merge: the shards of a distributed test (headroom run --shard I/N) combined into the
// results of one test, exactly: counters summed, histograms added bucket by bucket, per-second
// rows aligned on the common start (--start-at) and the SLOs judged once, on the merged figures.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "core/version.h"
#include "exec/executor.h"
#include "report/hlog.h"

namespace headroom::exec {
namespace {

namespace fs = std::filesystem;

std::string ShardName(const ShardOutput& s) {
  return "shard " + std::to_string(s.results.shard->index) + "/" + std::to_string(s.results.shard->count) + " (" +
         s.dir + ")";
}

// Rows of a section's per-second histograms in the order of its rows, with their seconds on the
// common clock (seconds after --start-at, from results.hlog's interval starts).
struct TimedSecond {
  int64_t at_s = 0;
  const report::SecondRow* row = nullptr;
  const Histogram* histogram = nullptr;
};

// The merged second: counts summed, histogram added, percentiles read from the sum.
struct MergedSecond {
  report::SecondRow row;
  Histogram histogram;
};

std::vector<MergedSecond> MergeSeconds(const std::vector<std::vector<TimedSecond>>& shards) {
  std::map<int64_t, MergedSecond> by_second;
  for (const std::vector<TimedSecond>& seconds : shards) {
    for (const TimedSecond& t : seconds) {
      auto [it, fresh] = by_second.try_emplace(t.at_s);
      MergedSecond& m = it->second;
      m.row.span_s = fresh ? t.row->span_s : std::max(m.row.span_s, t.row->span_s);
      m.row.intended += t.row->intended;
      m.row.completed += t.row->completed;
      m.row.ok += t.row->ok;
      m.row.errors += t.row->errors;
      m.histogram.Add(*t.histogram);
    }
  }
  std::vector<MergedSecond> out;
  for (auto& [at, m] : by_second) {
    m.row.second = int64_t(out.size());
    m.row = WithLatency(m.row, m.histogram);
    out.push_back(std::move(m));
  }
  return out;
}

template <typename T, typename F>
bool AllSame(const std::vector<ShardOutput>& shards, F get, T* first) {
  *first = get(shards[0]);
  for (const ShardOutput& s : shards) {
    if (get(s) != *first) return false;
  }
  return true;
}

// The phases of every shard must be the same list (names and kinds) run the same way.
Status CheckPhases(const std::vector<ShardOutput>& shards) {
  const std::vector<report::PhaseResult>& first = shards[0].results.phases;
  for (const ShardOutput& s : shards) {
    const std::vector<report::PhaseResult>& mine = s.results.phases;
    bool same = mine.size() == first.size();
    for (size_t i = 0; same && i < mine.size(); ++i) same = mine[i].name == first[i].name && mine[i].kind == first[i].kind;
    if (!same) return Fail(ShardName(s) + " ran other phases than " + ShardName(shards[0]));
  }
  return {};
}

// Objectives from the SLO expressions a phase was judged on (those all shards share).
std::vector<slo::Objective> ObjectivesOf(const report::Section& section) {
  std::vector<slo::Objective> out;
  for (const report::SloResult& v : section.slo) {
    auto o = slo::ParseObjective(v.expr);
    if (o) out.push_back(std::move(*o));  // "abort_on_fail" is an entry, not an objective
  }
  return out;
}

// Tier objectives are judged by each shard on the tiers it watched (tiers are not merged): the
// merged verdict holds only when it held on every shard.
void JudgeTiersOnShards(std::vector<report::SloResult>& verdicts, const std::vector<const report::Section*>& parts) {
  for (report::SloResult& v : verdicts) {
    auto o = slo::ParseObjective(v.expr);
    if (!o || o->metric != slo::Metric::kTier) continue;
    v.pass = true;
    for (const report::Section* p : parts) {
      for (const report::SloResult& mine : p->slo) {
        if (mine.expr == v.expr && !mine.pass) {
          v.pass = false;
          v.observed = mine.observed;
          v.observed_text = mine.observed_text + " (on one shard)";
        }
      }
    }
  }
}

std::vector<report::Section> MergeByName(const std::vector<const std::vector<report::Section>*>& lists) {
  std::vector<std::string> names;
  for (const auto* list : lists) {
    for (const report::Section& s : *list) {
      if (std::find(names.begin(), names.end(), s.name) == names.end()) names.push_back(s.name);
    }
  }
  std::vector<report::Section> out;
  for (const std::string& name : names) {
    std::vector<const report::Section*> parts;
    for (const auto* list : lists) {
      for (const report::Section& s : *list) {
        if (s.name == name) parts.push_back(&s);
      }
    }
    out.push_back(MergeSections(parts));
  }
  return out;
}

report::StressResult MergeStress(const std::vector<const report::StressResult*>& parts, const std::string& phase,
                                 Status* status) {
  report::StressResult out = *parts[0];
  for (const report::StressResult* p : parts) {
    if (p->curve.size() != out.curve.size()) {
      *status = Fail("stress phase " + phase + ": the shards tried different numbers of steps (was --sync-dir shared?)");
      return out;
    }
  }
  out.capacity_rps.reset();
  for (size_t k = 0; k < out.curve.size(); ++k) {
    report::StressPoint m = out.curve[k];
    m.rate_rps = m.achieved_rps = 0;
    m.requests_total = m.requests_errors = 0;
    m.response_time_us.Reset();
    for (const report::StressPoint* p : [&] {
           std::vector<const report::StressPoint*> v;
           for (const report::StressResult* s : parts) v.push_back(&s->curve[k]);
           return v;
         }()) {
      if (p->pass != m.pass) {
        *status = Fail("stress phase " + phase + ": the shards judged step " + std::to_string(k + 1) +
                       " differently (was --sync-dir shared?)");
      }
      m.rate_rps += p->rate_rps;
      m.achieved_rps += p->achieved_rps;
      m.requests_total += p->requests_total;
      m.requests_errors += p->requests_errors;
      m.response_time_us.Add(p->response_time_us);
      m.interrupted = m.interrupted || p->interrupted;
    }
    m.p50_us = m.response_time_us.ValueAtPercentile(50);
    m.p95_us = m.response_time_us.ValueAtPercentile(95);
    m.p99_us = m.response_time_us.ValueAtPercentile(99);
    m.error_rate = m.requests_total ? double(m.requests_errors) / double(m.requests_total) : 0;
    out.curve[k] = std::move(m);
  }
  if (parts[0]->capacity_rps) {
    // The capacity is the rate of a step every shard passed: the sum of the shards' rates there.
    for (const report::StressPoint& p : out.curve) {
      if (p.pass && !p.confirmation && std::abs(p.rate_rps - *parts[0]->capacity_rps * double(parts.size())) <=
                                           1e-6 * std::max(1.0, p.rate_rps)) {
        out.capacity_rps = p.rate_rps;
      }
    }
    if (!out.capacity_rps) {
      double sum = 0;
      for (const report::StressResult* p : parts) sum += p->capacity_rps.value_or(0);
      out.capacity_rps = sum;
    }
  }
  return out;
}

// One phase of the merged test. `seconds[i]` are shard i's seconds of this phase.
Result<report::PhaseResult> MergePhase(const std::vector<ShardOutput>& shards, size_t index,
                                       const std::vector<std::vector<TimedSecond>>& seconds,
                                       std::vector<MergedSecond>* merged_seconds) {
  const report::PhaseResult& first = shards[0].results.phases[index];
  report::PhaseResult r = first;
  std::vector<const report::Section*> sections;
  std::vector<const std::vector<report::Section>*> requests;
  bool aborted = false, interrupted = false, skipped = false;
  for (const ShardOutput& s : shards) {
    const report::PhaseResult& p = s.results.phases[index];
    sections.push_back(&p.section);
    requests.push_back(&p.requests);
    r.elapsed_s = std::max(r.elapsed_s, p.elapsed_s);
    r.duration_s = std::max(r.duration_s, p.duration_s);
    aborted = aborted || p.status == report::PhaseStatus::kAborted;
    interrupted = interrupted || p.status == report::PhaseStatus::kInterrupted;
    skipped = skipped || p.status == report::PhaseStatus::kSkipped;
  }
  r.section = MergeSections(sections);
  r.section.name = first.name;
  r.requests = MergeByName(requests);
  r.tiers.clear();
  *merged_seconds = MergeSeconds(seconds);
  r.series.clear();
  for (const MergedSecond& m : *merged_seconds) r.series.push_back(m.row);

  const std::vector<slo::Objective> objectives = ObjectivesOf(first.section);
  scenario::Phase plan;
  plan.kind = first.kind == "soak" ? scenario::PhaseKind::kSoak : scenario::PhaseKind::kBaseline;
  plan.duration_ns = int64_t(std::llround(first.duration_s * 1e9));
  if (first.soak) plan.window_ns = int64_t(std::llround(first.soak->window_s * 1e9));
  DriftWindows windows = DriftWindows::For(plan);
  for (const MergedSecond& m : *merged_seconds) {
    engine::Counters c;
    c.ok = m.row.ok;
    c.errors = m.row.errors;
    c.completed = m.row.completed;
    windows.Add(m.row.second, c, m.histogram);
  }
  if (first.stress) {
    std::vector<const report::StressResult*> parts;
    for (const ShardOutput& s : shards) {
      if (!s.results.phases[index].stress) return Fail(ShardName(s) + ": phase " + first.name + " has no stress curve");
      parts.push_back(&*s.results.phases[index].stress);
    }
    Status status;
    r.stress = MergeStress(parts, first.name, &status);
    if (!status) return std::unexpected(status.error());
    // The phase's verdicts are those of the capacity step (or the first step), on merged figures.
    const report::StressPoint* shown = r.stress->curve.empty() ? nullptr : &r.stress->curve.front();
    for (const report::StressPoint& p : r.stress->curve) {
      if (r.stress->capacity_rps && p.pass && !p.confirmation && p.rate_rps == *r.stress->capacity_rps) shown = &p;
    }
    if (shown != nullptr) {
      report::Section step;
      step.requests_total = shown->requests_total;
      step.requests_errors = shown->requests_errors;
      step.requests_ok = shown->requests_total - shown->requests_errors;
      step.achieved_rps = shown->achieved_rps;
      step.response_time_us = shown->response_time_us;
      r.section.slo = Judge(objectives, step, {}, nullptr, nullptr);
    }
  } else {
    r.section.slo = Judge(objectives, r.section, r.requests, &windows, nullptr);
  }
  JudgeTiersOnShards(r.section.slo, sections);
  if (first.soak) {
    r.soak = SoakDrift(windows);
    r.soak->window_s = first.soak->window_s;
  }
  if (first.spike && !first.spike->slo.empty()) {
    std::vector<Histogram> each;
    for (const MergedSecond& m : *merged_seconds) each.push_back(m.histogram);
    if (const slo::Objective* latency = RecoveryObjective(objectives)) {
      r.spike->recovery_s = SpikeRecoveryS(each, int64_t(std::llround(first.spike->hold_s * 1e9)),
                                           int64_t(std::llround(first.duration_s)), *latency);
      r.spike->recovered = r.spike->recovery_s.has_value();
    }
  }
  if (skipped) {
    r.status = report::PhaseStatus::kSkipped;
  } else if (aborted) {
    r.status = report::PhaseStatus::kAborted;
    for (const report::Section* p : sections) {
      for (const report::SloResult& v : p->slo) {
        if (v.expr == "abort_on_fail") {
          r.section.slo.push_back(v);
          break;
        }
      }
      if (!r.section.slo.empty() && r.section.slo.back().expr == "abort_on_fail") break;
    }
  } else if (interrupted) {
    r.status = report::PhaseStatus::kInterrupted;
  } else if (r.stress) {
    r.status = r.stress->capacity_rps ? report::PhaseStatus::kPassed : report::PhaseStatus::kFailed;
  } else {
    r.status = AllPass(r.section.slo) && r.section.requests_ok > 0 ? report::PhaseStatus::kPassed
                                                                    : report::PhaseStatus::kFailed;
  }
  return r;
}

// Each shard's per-second rows of each phase, on the common clock.
Result<std::vector<std::vector<std::vector<TimedSecond>>>> SecondsByPhase(const std::vector<ShardOutput>& shards) {
  std::vector<std::vector<std::vector<TimedSecond>>> out(shards[0].results.phases.size(),
                                                         std::vector<std::vector<TimedSecond>>(shards.size()));
  for (size_t i = 0; i < shards.size(); ++i) {
    const ShardOutput& s = shards[i];
    size_t row = 0;
    for (size_t p = 0; p < s.results.phases.size(); ++p) {
      for (size_t k = 0; k < s.results.phases[p].series.size(); ++k, ++row) {
        if (row >= s.seconds.size() || row >= s.results.series.size()) {
          return Fail(s.dir + "/results.hlog has fewer seconds than results.json: are they from the same run?");
        }
        // Interval starts are seconds after --start-at; each lies a few ms after a whole second.
        out[p][i].push_back({int64_t(std::floor(s.seconds[row].start_s + 0.25)), &s.results.series[row],
                             &s.seconds[row].histogram});
      }
    }
  }
  return out;
}

Status CheckShards(const std::vector<ShardOutput>& shards, const MergeOptions& options) {
  if (shards.empty()) return Fail("no shard results to merge");
  for (const ShardOutput& s : shards) {
    if (!s.results.shard) {
      return Fail(s.dir + ": not a shard's results (it was not run with --shard I/N)");
    }
  }
  int count = 0;
  if (!AllSame(shards, [](const ShardOutput& s) { return s.results.shard->count; }, &count)) {
    return Fail("the shards were run with different counts: " + ShardName(shards[0]) + " and " +
                ShardName(*std::find_if(shards.begin(), shards.end(), [&](const ShardOutput& s) {
                  return s.results.shard->count != count;
                })));
  }
  std::string hash;
  if (!AllSame(shards, [](const ShardOutput& s) { return s.results.shard->scenario_hash; }, &hash)) {
    for (const ShardOutput& s : shards) {
      if (s.results.shard->scenario_hash != hash) {
        return Fail("the shards ran different scenarios: " + ShardName(shards[0]) + " ran " +
                    shards[0].results.shard->scenario_hash + " (" + shards[0].results.scenario + "), " + ShardName(s) +
                    " ran " + s.results.shard->scenario_hash + " (" + s.results.scenario + ")");
      }
    }
  }
  int64_t start_at = 0;
  if (!AllSame(shards, [](const ShardOutput& s) { return s.results.shard->start_at_us; }, &start_at)) {
    return Fail("the shards were given different --start-at times, so they are not parts of one test (give every "
                "shard the same absolute time: +30s means 30 s after each process's own start)");
  }
  std::map<int, const ShardOutput*> by_index;
  for (const ShardOutput& s : shards) {
    auto [it, fresh] = by_index.emplace(s.results.shard->index, &s);
    if (!fresh) return Fail(ShardName(*it->second) + " and " + ShardName(s) + " are the same shard: merge each once");
  }
  std::vector<std::string> missing;
  for (int i = 0; i < count; ++i) {
    if (!by_index.contains(i)) missing.push_back(std::to_string(i));
  }
  if (!missing.empty()) {
    std::string list;
    for (const std::string& m : missing) list += (list.empty() ? "" : ", ") + m;
    return Fail("shard" + std::string(missing.size() > 1 ? "s " : " ") + list + " of " + std::to_string(count) +
                " missing: " + std::to_string(missing.size()) + "/" + std::to_string(count) +
                " of the test's load has no results, so it cannot be judged (did that shard fail? rerun the test)");
  }
  for (const ShardOutput& s : shards) {
    if (!s.results.complete) {
      return Fail(ShardName(s) + " did not finish (its results.json is a checkpoint): that part of the test is missing");
    }
    if (s.results.interrupted) {
      return Fail(ShardName(s) + " was interrupted: its share of the load stopped early, so the test cannot be judged");
    }
  }
  int64_t lo = shards[0].results.shard->started_us, hi = lo;
  for (const ShardOutput& s : shards) {
    lo = std::min(lo, s.results.shard->started_us);
    hi = std::max(hi, s.results.shard->started_us);
  }
  if (double(hi - lo) / 1e6 > options.max_start_spread_s) {
    char text[160];
    std::snprintf(text, sizeof text, "the shards started %.3f s apart (more than %.3f s): their clocks or starts disagree",
                  double(hi - lo) / 1e6, options.max_start_spread_s);
    return Fail(std::string(text) + " (sync the nodes' clocks with NTP, or give a --start-at far enough ahead)");
  }
  return CheckPhases(shards);
}

}  // namespace

report::Section MergeSections(const std::vector<const report::Section*>& parts) {
  report::Section out;
  if (parts.empty()) return out;
  out.name = parts[0]->name;
  for (const report::Section* p : parts) {
    out.requests_total += p->requests_total;
    out.requests_ok += p->requests_ok;
    out.requests_errors += p->requests_errors;
    // Each shard's rate is its completions over the same planned time: the rates add up.
    out.achieved_rps += p->achieved_rps;
    if (p->requested_rps) out.requested_rps = out.requested_rps.value_or(0) + *p->requested_rps;
    out.response_time_us.Add(p->response_time_us);
    out.service_time_us.Add(p->service_time_us);
    for (const auto& [k, v] : p->errors_by_class) out.errors_by_class[k] += v;
    for (const auto& [k, v] : p->status_codes) out.status_codes[k] += v;
    if (out.check_failure.empty()) out.check_failure = p->check_failure;
  }
  return out;
}

// The shards' connections as one: counts add up, the peak is the highest, the handshake times
// merge, and the first error is the lowest shard's. Shards that spoke different protocols (one fell
// back to HTTP/1.1, say) are named in a notice; the merged protocol is the first shard's.
report::Transport MergeTransports(const std::vector<ShardOutput>& shards, std::vector<std::string>* notices) {
  report::Transport t = shards[0].results.transport;
  for (size_t i = 1; i < shards.size(); ++i) {
    const report::Transport& x = shards[i].results.transport;
    if (x.protocol != t.protocol || x.scheme != t.scheme) {
      notices->push_back("shard " + std::to_string(shards[i].results.shard->index) + " spoke " + x.scheme + " " +
                         x.protocol + ", shard " + std::to_string(shards[0].results.shard->index) + " " + t.scheme +
                         " " + t.protocol + ": transport is the latter's");
    }
    t.tls = t.tls || x.tls;
    t.tls_verify = t.tls_verify && x.tls_verify;
    if (t.tls_version.empty()) t.tls_version = x.tls_version;
    if (t.tls_cipher.empty()) t.tls_cipher = x.tls_cipher;
    t.tls_handshakes_new += x.tls_handshakes_new;
    t.tls_handshakes_resumed += x.tls_handshakes_resumed;
    t.tls_handshake_time_us.Add(x.tls_handshake_time_us);
    if (t.first_tls_error.empty()) t.first_tls_error = x.first_tls_error;
    t.h2 = t.h2 || x.h2;
    if (x.h2_max_streams > 0) {
      t.h2_max_streams = t.h2_max_streams > 0 ? std::min(t.h2_max_streams, x.h2_max_streams) : x.h2_max_streams;
    }
    t.h2_peak_streams = std::max(t.h2_peak_streams, x.h2_peak_streams);
    t.h2_goaways += x.h2_goaways;
    t.h2_resets += x.h2_resets;
    t.h2_retried += x.h2_retried;
    if (t.first_h2_error.empty()) t.first_h2_error = x.first_h2_error;
  }
  return t;
}

Result<std::vector<std::string>> ShardFolders(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  for (const std::string& arg : args) {
    std::error_code ec;
    if (!fs::is_directory(arg, ec)) return Fail(arg + ": not a folder");
    if (fs::exists(fs::path(arg) / "results.json", ec)) {
      out.push_back(arg);
      continue;
    }
    std::vector<std::string> found;
    for (const fs::directory_entry& e : fs::directory_iterator(arg, ec)) {
      if (e.is_directory(ec) && fs::exists(e.path() / "results.json", ec)) found.push_back(e.path().string());
    }
    if (found.empty()) return Fail(arg + ": no results.json in it or in its subfolders (nothing to merge)");
    std::sort(found.begin(), found.end());
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}

Result<ShardOutput> ReadShardOutput(const std::string& dir) {
  ShardOutput out;
  out.dir = dir;
  auto results = report::ReadResultsFile(dir + "/results.json");
  if (!results) return std::unexpected(results.error());
  out.results = std::move(*results);
  std::ifstream in(dir + "/results.hlog", std::ios::binary);
  if (!in) return Fail(dir + ": no results.hlog (the per-second histograms the merge needs)");
  std::ostringstream text;
  text << in.rdbuf();
  auto intervals = report::ParseHlog(text.str());
  if (!intervals) return Fail(dir + "/results.hlog: " + intervals.error().message);
  out.seconds = std::move(*intervals);
  return out;
}

Result<Merged> MergeShards(const std::vector<ShardOutput>& in, const MergeOptions& options) {
  if (auto s = CheckShards(in, options); !s) return std::unexpected(s.error());
  std::vector<ShardOutput> shards = in;
  std::sort(shards.begin(), shards.end(),
            [](const ShardOutput& a, const ShardOutput& b) { return a.results.shard->index < b.results.shard->index; });
  auto seconds = SecondsByPhase(shards);
  if (!seconds) return std::unexpected(seconds.error());

  Merged m;
  report::Results& r = m.results;
  const report::Results& first = shards[0].results;
  r.tool_version = HEADROOM_VERSION;
  r.started_at_us = first.shard->start_at_us;
  r.target = first.target;
  r.method = first.method;
  r.model = first.model;
  r.arrival = first.arrival;
  r.scenario = first.scenario;
  r.duration_s = first.duration_s;
  std::vector<const report::Section*> overall;
  std::vector<const std::vector<report::Section>*> requests;
  std::set<std::string> notices;
  int64_t lo = first.shard->started_us, hi = lo;
  for (const ShardOutput& s : shards) {
    const report::Results& x = s.results;
    r.threads += x.threads;
    r.connections += x.connections;
    r.elapsed_s = std::max(r.elapsed_s, x.elapsed_s);
    r.duration_s = std::max(r.duration_s, x.duration_s);
    r.bytes_read += x.bytes_read;
    r.bytes_written += x.bytes_written;
    overall.push_back(&x.overall);
    requests.push_back(&x.requests);
    report::Generator& g = r.generator;
    g.pacer_lateness_us.Add(x.generator.pacer_lateness_us);
    g.delayed += x.generator.delayed;
    g.waited_at_cap += x.generator.waited_at_cap;
    g.max_queue_depth = std::max(g.max_queue_depth, x.generator.max_queue_depth);
    g.unfinished += x.generator.unfinished;
    g.connections_opened += x.generator.connections_opened;
    g.connect_attempts += x.generator.connect_attempts;
    g.cpu_user_s += x.generator.cpu_user_s;
    g.cpu_system_s += x.generator.cpu_system_s;
    g.rss_bytes = std::max(g.rss_bytes, x.generator.rss_bytes);
    for (const std::string& n : x.notices) {
      // A shard's advice about its own share (its verdict covers 1/N) is not the merged test's.
      if (n.starts_with("this run is shard ")) continue;
      if (notices.insert(n).second) r.notices.push_back("shard " + std::to_string(x.shard->index) + ": " + n);
    }
    lo = std::min(lo, x.shard->started_us);
    hi = std::max(hi, x.shard->started_us);
  }
  r.transport = MergeTransports(shards, &r.notices);
  r.overall = MergeSections(overall);
  r.overall.name.clear();
  r.overall.slo.clear();
  r.requests = MergeByName(requests);
  for (size_t p = 0; p < first.phases.size(); ++p) {
    std::vector<MergedSecond> phase_seconds;
    auto phase = MergePhase(shards, p, (*seconds)[p], &phase_seconds);
    if (!phase) return std::unexpected(phase.error());
    for (MergedSecond& s : phase_seconds) {
      s.row.second = int64_t(r.series.size());
      r.series.push_back(s.row);
      m.seconds.push_back(std::move(s.histogram));
    }
    r.phases.push_back(std::move(*phase));
  }
  if (r.phases.size() == 1) r.overall.slo = r.phases[0].section.slo;
  r.verdict = RunVerdict(r.phases, r.overall.requests_ok, false);
  r.merged = report::MergeInfo{first.shard->count, first.shard->scenario_hash, first.shard->start_at_us,
                               double(hi - lo) / 1e6};
  return m;
}

Status WriteMerged(const Merged& m, const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Fail("cannot create " + dir + ": " + ec.message());
  const report::Results& r = m.results;
  std::string hlog = report::HlogHeader(HEADROOM_VERSION, r.scenario.empty() ? r.target : r.scenario, r.started_at_us);
  size_t row = 0;
  for (size_t p = 0; p < r.phases.size(); ++p) {
    const report::PhaseResult& phase = r.phases[p];
    hlog += report::HlogPhaseComment(phase.name, phase.kind, phase.offset_s);
    for (size_t k = 0; k < phase.series.size() && row < m.seconds.size(); ++k, ++row) {
      const Histogram& h = m.seconds[row];
      hlog += report::HlogIntervalLine(phase.offset_s + double(k), phase.series[k].span_s, h.Count() ? h.Max() : 0,
                                       h.EncodeCompressedBase64());
    }
  }
  if (auto s = report::WriteFileAtomic(dir + "/results.hlog", hlog); !s) return s;
  return WriteAllOutputs(r, dir);
}

}  // namespace headroom::exec
