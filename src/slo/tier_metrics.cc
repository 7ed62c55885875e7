// Tier metrics in SLOs: the catalogue of what can be gated, validation against the watched tiers
// and evaluation from the watcher's window aggregates.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "core/diag.h"
#include "core/units.h"
#include "slo/tier_internal.h"

namespace headroom::slo {
namespace {

using enum TierUnit;
using enum TierStat;

// Kinds are tried in order. Redis comes first for cpu: it runs commands on one thread, so its
// main thread's share of one core is the saturation signal even when the process is watched too.
const std::vector<TierMetricInfo>& Catalogue() {
  static const std::vector<TierMetricInfo> kMetrics = {
      {"cpu", kRatio, "CPU busy: Redis main thread (of one core), processes (of all cores), host (of all cores)",
       {{"redis", "main_thread_cpu_cores"}, {"process", "cpu_ratio"}, {"host", "cpu_ratio"}}},
      {"cpu_cores", kCount, "cores used by the processes or Redis's main thread",
       {{"process", "cpu_cores"}, {"redis", "main_thread_cpu_cores"}}},
      {"run_queue", kCount, "runnable threads waiting for a CPU (host)", {{"host", "run_queue"}}},
      {"cpu_pressure", kRatio, "share of time some task stalled on CPU (PSI)", {{"host", "psi.cpu.some_ratio"}}},
      {"io_pressure", kRatio, "share of time some task stalled on I/O (PSI)", {{"host", "psi.io.some_ratio"}}},
      {"memory_pressure", kRatio, "share of time some task stalled on memory (PSI)",
       {{"host", "psi.memory.some_ratio"}}},
      {"mem_available", kRatio, "lowest share of memory available (host)", {{"host", "mem_available_ratio", kMin}}},
      {"swap_used", kBytes, "largest swap in use (host)", {{"host", "swap_used_bytes", kMax}}},
      {"disk_util", kRatio, "utilization of the busiest disk (host)", {{"host", "disk_util_max_ratio"}}},
      {"tcp_retransmits", kPerSecond, "TCP segments retransmitted (host)", {{"host", "tcp_retrans_segs_per_s"}}},
      {"listen_drops", kPerSecond, "connections dropped at a full listen queue (host)",
       {{"host", "listen_drops_per_s"}}},
      {"net_drops", kPerSecond, "packets dropped by the network interfaces (host)", {{"host", "net_drops_per_s"}}},
      {"rss", kBytes, "largest resident memory of the processes", {{"process", "rss_bytes", kMax}}},
      {"threads", kCount, "most threads of the processes", {{"process", "threads", kMax}}},
      {"fds", kRatio, "highest share of the open-files limit in use (processes)", {{"process", "fd_ratio", kMax}}},
      {"connections", kRatio, "most client connections, of max_connections (PostgreSQL)",
       {{"postgres", "connections_ratio", kMax}}},
      {"lock_waits", kCount, "most lock requests waiting at once (PostgreSQL)", {{"postgres", "lock_waits", kMax}}},
      {"statement_mean", kMilliseconds, "mean execution time of all statements (pg_stat_statements)",
       {{"postgres", "statement_time_ms_per_s", kTotalQuotient, "statement_calls_per_s"}}},
      {"seq_scan_rows", kPerSecond, "rows read by sequential scans (PostgreSQL)", {{"postgres", "seq_scan_rows_per_s"}}},
      {"seq_scans", kPerSecond, "sequential scans started (PostgreSQL)", {{"postgres", "seq_scans_per_s"}}},
      {"commits", kPerSecond, "transactions committed (PostgreSQL)", {{"postgres", "commits_per_s"}}},
      {"rollbacks", kPerSecond, "transactions rolled back (PostgreSQL)", {{"postgres", "rollbacks_per_s"}}},
      {"deadlocks", kPerSecond, "deadlocks detected (PostgreSQL)", {{"postgres", "deadlocks_per_s"}}},
      {"temp_bytes", kPerSecond, "bytes written to temporary files (PostgreSQL)", {{"postgres", "temp_bytes_per_s"}}},
      {"replication_lag", kSeconds, "largest replication lag (PostgreSQL)", {{"postgres", "replication_lag_s", kMax}}},
      {"hit_ratio", kRatio, "cache hits of all lookups: Redis keyspace, PostgreSQL buffer cache",
       {{"redis", "hits_per_s", kTotalQuotient, "lookups_per_s"}, {"postgres", "cache_hit_ratio"}}},
      {"ops", kPerSecond, "commands processed (Redis)", {{"redis", "ops_per_s"}}},
      {"evictions", kPerSecond, "keys evicted (Redis)", {{"redis", "evictions_per_s"}}},
      {"memory", kRatio, "largest used_memory of maxmemory (Redis)", {{"redis", "memory_ratio", kMax}}},
      {"clients", kCount, "most connected clients (Redis)", {{"redis", "connected_clients", kMax}}},
      {"blocked_clients", kCount, "most blocked clients (Redis)", {{"redis", "blocked_clients", kMax}}},
      {"slowlog", kPerSecond, "slow-log entries added (Redis)", {{"redis", "slowlog_added_per_s"}}},
  };
  return kMetrics;
}

std::string TrimmedNumber(double v, const char* format) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  std::string s = buf;
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

std::string KindList(const TierMetricInfo& info) {
  std::string out;
  for (size_t i = 0; i < info.sources.size(); ++i) {
    out += (i == 0 ? "" : i + 1 == info.sources.size() ? " or " : ", ") + std::string(info.sources[i].source_kind);
  }
  return out;
}

}  // namespace

std::span<const TierMetricInfo> TierMetrics() { return Catalogue(); }

const TierMetricInfo* FindTierMetric(std::string_view name) {
  for (const TierMetricInfo& m : Catalogue()) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

std::string SuggestTierMetric(std::string_view tier, std::string_view metric) {
  std::vector<std::string> names;
  for (const TierMetricInfo& m : Catalogue()) names.emplace_back(m.name);
  const std::string best = ClosestMatch(metric, names);
  return best.empty() ? "" : std::string(tier) + "." + std::string(best);
}

Result<double> ParseTierThreshold(const TierMetricInfo& info, std::string_view text) {
  const std::string name(info.name);
  switch (info.unit) {
    case kRatio: {
      auto v = ParsePercent(text);
      if (!v) return Fail(name + " is a percentage: compare it with a value like 70%, not '" + std::string(text) + "'");
      return v;
    }
    case kPerSecond: {
      double plain = 0;
      auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), plain);
      if (ec == std::errc() && ptr == text.data() + text.size() && plain >= 0) return plain;
      auto v = ParseRatePerSec(text);
      if (!v) return Fail(name + " is a rate: compare it with a value like 1000/s, not '" + std::string(text) + "'");
      return v;
    }
    case kCount: {
      double v = 0;
      auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || ptr != text.data() + text.size() || v < 0) {
        return Fail(name + " is a number: compare it with a value like 4, not '" + std::string(text) + "'");
      }
      return v;
    }
    case kBytes: {
      auto v = ParseSizeBytes(text);
      if (!v) return Fail(name + " is a size: compare it with a value like 512MiB, not '" + std::string(text) + "'");
      return static_cast<double>(*v);
    }
    case kMilliseconds:
    case kSeconds: {
      auto ns = ParseDurationNs(text);
      if (!ns) return Fail(name + " is a duration: compare it with a value like 50ms, not '" + std::string(text) + "'");
      return static_cast<double>(*ns) / (info.unit == kMilliseconds ? 1e6 : 1e9);
    }
  }
  return Fail("internal: unknown tier unit");
}

std::string FormatTierValue(const TierMetricInfo& info, double value) {
  switch (info.unit) {
    case kRatio:
      return TrimmedNumber(value * 100, "%.2f") + "%";
    case kPerSecond:
      return (value >= 100 ? FormatCount(value) : TrimmedNumber(value, "%.2f")) + "/s";
    case kCount:
      return TrimmedNumber(value, "%.2f");
    case kBytes:
      return FormatBytes(value);
    case kMilliseconds:
      return FormatDurationUs(value * 1000);
    case kSeconds:
      return FormatDurationUs(value * 1e6);
  }
  return std::to_string(value);
}

Status ValidateTierObjective(const Objective& o, std::span<const WatchedTier> tiers) {
  if (o.metric != Metric::kTier) return Ok();
  const WatchedTier* tier = nullptr;
  std::vector<std::string> names;
  for (const WatchedTier& t : tiers) {
    names.push_back(t.name);
    if (t.name == o.tier) tier = &t;
  }
  if (tier == nullptr) {
    std::string watched;
    for (const std::string& n : names) watched += (watched.empty() ? "" : ", ") + n;
    return Fail("tier '" + o.tier + "' is not watched" + DidYouMean(o.tier, names) +
                (watched.empty() ? " (no tiers are watched: add them under 'tiers' or with --watch)"
                                 : " (watched: " + watched + ")"));
  }
  const TierMetricInfo* info = FindTierMetric(o.tier_metric);
  if (info == nullptr) {
    const std::string suggestion = SuggestTierMetric(o.tier, o.tier_metric);
    return Fail("unknown tier metric '" + o.tier_metric + "'" + (suggestion.empty() ? "" : "; did you mean " + suggestion + "?"));
  }
  for (const TierMetricSource& s : info->sources) {
    if (std::find(tier->source_kinds.begin(), tier->source_kinds.end(), s.source_kind) != tier->source_kinds.end()) {
      return Ok();
    }
  }
  std::string kinds;
  for (const std::string& k : tier->source_kinds) kinds += (kinds.empty() ? "" : ", ") + k;
  return Fail(o.tier + "." + o.tier_metric + " needs a " + KindList(*info) + " source, and tier '" + o.tier +
              "' watches " + (kinds.empty() ? "nothing" : kinds));
}

Verdict EvaluateTier(const Objective& o, const TierLookup& lookup) {
  const TierMetricInfo* info = FindTierMetric(o.tier_metric);
  if (o.metric != Metric::kTier || info == nullptr) return Verdict{o.expr, 0, "not a tier metric", false};
  for (const TierMetricSource& s : info->sources) {
    const auto values = lookup(o.tier, s.source_kind, s.metric);
    if (!values || values->samples == 0) continue;
    double observed = values->mean;
    if (s.stat == kMin) observed = values->min;
    if (s.stat == kMax) observed = values->max;
    if (s.stat == kTotalQuotient) {
      const auto divisor = lookup(o.tier, s.source_kind, s.divisor);
      if (!divisor || divisor->total <= 0) return Verdict{o.expr, 0, "nothing to divide: no " + std::string(s.divisor), false};
      observed = values->total / divisor->total;
    }
    return Verdict{o.expr, observed, FormatTierValue(*info, observed), Holds(observed, o.op, o.threshold)};
  }
  return Verdict{o.expr, 0, "no samples from tier " + o.tier + " for " + o.tier_metric, false};
}

}  // namespace headroom::slo
