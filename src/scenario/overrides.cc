// Command-line overrides of a loaded scenario: extra SLOs, shorter (or longer) phases, and one
// shard's share of a test run by several processes.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <memory>

#include "scenario/diag.h"
#include "scenario/scenario.h"

namespace headroom::scenario {
namespace {

constexpr int64_t kSecNs = 1'000'000'000;

// Scaled to whole seconds (per-second windows need them), at least one.
int64_t ScaleSeconds(int64_t ns, double factor) {
  if (ns <= 0) return ns;
  const double s = std::round(double(ns) * factor / double(kSecNs));
  return std::max<int64_t>(1, int64_t(s)) * kSecNs;
}

// "file:line:col: " for messages about a place in the scenario file.
std::string At(const std::string& file, SourcePos pos) {
  std::string at = file;
  if (pos.line > 0) at += ":" + std::to_string(pos.line) + ":" + std::to_string(pos.column);
  return at + ": ";
}

}  // namespace

Status AddSlo(Scenario& s, std::string_view text) {
  auto objective = slo::ParseObjective(text);
  if (!objective) return Fail("--slo '" + std::string(text) + "': " + objective.error().message);
  SloSpec spec;
  spec.text = objective->expr;
  if (!objective->request.empty()) {
    std::vector<std::string> names;
    for (const RequestSpec& r : s.requests) names.push_back(r.name);
    if (std::find(names.begin(), names.end(), objective->request) == names.end()) {
      return Fail("--slo '" + std::string(text) + "' names request '" + objective->request + "', which does not exist" +
                  DidYouMean(objective->request, names));
    }
    spec.request = objective->request;
    spec.text = spec.text.substr(objective->request.size() + 1);
    spec.text.erase(0, spec.text.find_first_not_of(' '));
  }
  spec.objective = std::move(*objective);
  s.slos.push_back(std::move(spec));
  return {};
}

Status ScaleDurations(Scenario& s, double factor) {
  if (!(factor > 0) || factor > 1000) {
    return Fail("--duration-scale must be a factor above 0 and at most 1000, like 0.1");
  }
  for (Phase& p : s.phases) {
    p.duration_ns = ScaleSeconds(p.duration_ns, factor);
    p.step_duration_ns = ScaleSeconds(p.step_duration_ns, factor);
    p.hold_ns = ScaleSeconds(p.hold_ns, factor);
    p.window_ns = ScaleSeconds(p.window_ns, factor);
    // Keep each kind's own rules: a spike ends after its hold, a soak window fits its phase.
    if (p.kind == PhaseKind::kSpike && p.duration_ns <= p.hold_ns) p.duration_ns = p.hold_ns + kSecNs;
    if (p.window_ns > 0 && p.duration_ns > 0) p.window_ns = std::min(p.window_ns, p.duration_ns);
  }
  if (s.abort_on_fail.grace_ns > 0) s.abort_on_fail.grace_ns = int64_t(double(s.abort_on_fail.grace_ns) * factor);
  return {};
}

Result<ShardSpec> ParseShard(std::string_view text) {
  const std::string bad = "--shard '" + std::string(text) + "': ";
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) return Fail(bad + "expected INDEX/COUNT, e.g. 0/4 for the first of four shards");
  auto number = [](std::string_view t, int* out) {
    auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), *out);
    return !t.empty() && ec == std::errc() && end == t.data() + t.size();
  };
  ShardSpec s;
  if (!number(text.substr(0, slash), &s.index) || !number(text.substr(slash + 1), &s.count)) {
    return Fail(bad + "expected INDEX/COUNT with whole numbers, e.g. 0/4 for the first of four shards");
  }
  if (s.count < 1 || s.count > kMaxShards) {
    return Fail(bad + "the count must be between 1 and " + std::to_string(kMaxShards));
  }
  if (s.index < 0 || s.index >= s.count) {
    return Fail(bad + "the index counts from 0, so it must be below the count (0.." + std::to_string(s.count - 1) + ")");
  }
  return s;
}

Status ShardScenario(Scenario& s, const ShardSpec& shard) {
  if (shard.count < 1 || shard.index < 0 || shard.index >= shard.count) return Fail("invalid shard");
  if (shard.count == 1) return {};
  const double n = double(shard.count);
  const std::string of = " over " + std::to_string(shard.count) + " shards";
  for (Phase& p : s.phases) {
    for (double* rate : {&p.rate_per_sec, &p.from_per_sec, &p.to_per_sec, &p.ceiling_per_sec, &p.step_per_sec}) {
      *rate /= n;
    }
    if (p.kind == PhaseKind::kClosed) {
      const int c = p.connections;
      const int share = c / shard.count + (shard.index < c % shard.count ? 1 : 0);
      if (c < shard.count) {  // refused on every shard alike, not only on those left without one
        return Fail(At(s.file, p.pos) + "phase " + p.name + ": " + std::to_string(c) +
                    " connections cannot be split" + of + " (each shard needs at least one)");
      }
      p.connections = share;
    } else {
      const int cap = p.connections > 0 ? p.connections : kDefaultConnectionCap;
      p.connections = (cap + shard.count - 1) / shard.count;
    }
  }
  for (DataSource& d : s.data) {
    const CsvTable& all = *d.table;
    if (all.rows() < size_t(shard.count)) {
      return Fail(At(s.file, d.pos) + "data " + d.name + ": " + std::to_string(all.rows()) + " rows cannot be split" + of +
                  " (each shard needs at least one row)");
    }
    auto mine = std::make_shared<CsvTable>();
    mine->columns = all.columns;
    for (size_t row = size_t(shard.index); row < all.rows(); row += size_t(shard.count)) {
      for (size_t c = 0; c < all.columns.size(); ++c) mine->cells.emplace_back(all.Cell(row, c));
    }
    d.table = std::move(mine);
  }
  return {};
}

namespace {

// FNV-1a, 64 bits: a fingerprint to tell scenarios apart, not a defence against forgery.
class Fnv {
 public:
  void Add(std::string_view text) {
    for (unsigned char c : text) h_ = (h_ ^ c) * 0x100000001b3ULL;
    Sep();
  }
  void Add(double v) { Add(std::to_string(v)); }
  void Add(int64_t v) { Add(std::to_string(v)); }
  std::string Hex() const {
    char out[17];
    std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h_));
    return out;
  }

 private:
  void Sep() { h_ = (h_ ^ 0xff) * 0x100000001b3ULL; }
  uint64_t h_ = 0xcbf29ce484222325ULL;
};

}  // namespace

std::string ScenarioFingerprint(const Scenario& s) {
  Fnv f;
  f.Add(s.name);
  f.Add(s.target);
  f.Add(s.seed ? int64_t(*s.seed) : int64_t(-1));
  f.Add(s.defaults.timeout_ns);
  f.Add(int64_t(s.abort_on_fail.enabled));
  f.Add(s.abort_on_fail.grace_ns);
  for (const RequestSpec& r : s.requests) {
    f.Add(r.name);
    f.Add(r.weight);
    f.Add(r.method);
    f.Add(r.path);
    for (const Header& h : r.headers) {
      f.Add(h.name);
      f.Add(h.value);
    }
    f.Add(r.body.value_or(std::string("\x01none")));
    f.Add(r.timeout_ns);
    for (const SloSpec& slo : r.slos) f.Add(slo.text);
  }
  for (const SloSpec& slo : s.slos) {
    f.Add(slo.request);
    f.Add(slo.text);
  }
  for (const Phase& p : s.phases) {
    f.Add(p.name);
    f.Add(PhaseKindName(p.kind));
    for (int64_t v : {p.duration_ns, p.hold_ns, p.window_ns, p.step_duration_ns, p.think_ns, int64_t(p.connections),
                      int64_t(p.search), int64_t(p.confirm), int64_t(p.arrival)}) {
      f.Add(v);
    }
    for (double v : {p.rate_per_sec, p.from_per_sec, p.to_per_sec, p.ceiling_per_sec, p.step_per_sec, p.resolution}) {
      f.Add(v);
    }
    for (const SloSpec& slo : p.slos) f.Add(slo.text);
  }
  for (const DataSource& d : s.data) {
    f.Add(d.name);
    f.Add(int64_t(d.order));
    for (const std::string& c : d.table->columns) f.Add(c);
    for (const std::string& c : d.table->cells) f.Add(c);
  }
  return f.Hex();
}

}  // namespace headroom::scenario
