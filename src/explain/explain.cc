#include "explain/explain.h"

#include <algorithm>
#include <cmath>
#include <regex>

#include "core/units.h"

namespace headroom::explain {
namespace {

using json = nlohmann::json;

// Thresholds of the rules (docs/explain.md lists them).
constexpr double kSaturated = 0.80;           // utilization that counts as saturated
constexpr double kPressure = 0.10;            // PSI "some" share of time stalled
constexpr double kPinnedCore = 0.90;          // a single process at this many cores is pinned
constexpr double kSeqRowsPerS = 10'000;       // rows read by sequential scans per second
constexpr double kCallsPerRequest = 5;        // statements per HTTP request: N+1
constexpr double kSlowShareOfBudget = 0.5;    // a statement's mean time over this share of the latency SLO
constexpr double kLowHitRatio = 0.80;         // cache hit ratio
constexpr double kLowBufferHitRatio = 0.99;   // PostgreSQL buffer cache
constexpr double kContention = 1.5;           // metric growth / load growth above this: contention
constexpr double kPoolWaiting = 0.5;
constexpr double kConnectionsPerRequest = 0.2;  // new database/cache connections per HTTP request          // requests waiting for a pool's thread or connection, on average
constexpr double kSpecificCause = 0.85;       // a finding this severe ranks above the levels below it
constexpr int kCause = 3, kPoolQueue = 2, kThreadQueue = 1, kBusyResource = 0;  // Finding::level

struct Source {
  std::string tier;
  std::string label;
  std::string kind;
  const json* body = nullptr;
  std::string tier_kind;
};

std::vector<Source> SourcesOf(const json& tiers) {
  std::vector<Source> out;
  if (!tiers.is_array()) return out;
  for (const json& t : tiers) {
    if (!t.is_object() || !t.contains("sources") || !t["sources"].is_array()) continue;
    for (const json& s : t["sources"]) {
      if (!s.is_object()) continue;
      out.push_back({t.value("name", ""), s.value("label", ""), s.value("kind", ""), &s, t.value("kind", "")});
    }
  }
  return out;
}

std::optional<double> Metric(const Source& s, const std::string& name, const char* field = "mean") {
  const json& m = (*s.body)["metrics"];
  if (!m.is_object() || !m.contains(name) || !m[name].is_object()) return std::nullopt;
  const json& v = m[name];
  if (!v.contains(field) || !v[field].is_number()) return std::nullopt;
  return v[field].get<double>();
}

double MetricOr(const Source& s, const std::string& name, double fallback = 0) {
  return Metric(s, name).value_or(fallback);
}

// The label sets ("{name=\"shop\"}", or "" without labels) of a Prometheus family in a source.
std::vector<std::string> LabelSets(const Source& s, const std::string& family) {
  std::vector<std::string> out;
  const json& m = (*s.body)["metrics"];
  if (!m.is_object()) return out;
  for (auto it = m.begin(); it != m.end(); ++it) {
    const std::string& key = it.key();
    if (key == family || (key.size() > family.size() && key.compare(0, family.size(), family) == 0 && key[family.size()] == '{')) {
      out.push_back(key.substr(family.size()));
    }
  }
  return out;
}

std::string Attribute(const Source& s, const std::string& name) {
  const json& a = (*s.body)["attributes"];
  if (!a.is_object() || !a.contains(name) || !a[name].is_string()) return "";
  return a[name].get<std::string>();
}

// The top activities of one group ("statements", "tables", "commands"), largest `count` first.
std::vector<std::pair<std::string, json>> Top(const Source& s, const std::string& group, const std::string& count) {
  std::vector<std::pair<std::string, json>> out;
  const json& top = (*s.body)["top"];
  if (!top.is_array()) return out;
  for (const json& a : top) {
    if (a.is_object() && a.value("group", "") == group && a.contains("counts")) out.push_back({a.value("key", ""), a["counts"]});
  }
  auto num = [&](const json& c) { return c.contains(count) && c[count].is_number() ? c[count].get<double>() : 0.0; };
  std::stable_sort(out.begin(), out.end(), [&](const auto& a, const auto& b) { return num(a.second) > num(b.second); });
  return out;
}

double CountOf(const json& counts, const std::string& name) {
  return counts.contains(name) && counts[name].is_number() ? counts[name].get<double>() : 0.0;
}

std::string Pct(double ratio) {
  char buf[32];
  std::snprintf(buf, sizeof buf, ratio < 0.1 && ratio > 0 ? "%.1f%%" : "%.0f%%", 100 * ratio);
  return buf;
}

std::string Num(double v, int digits = 0) {
  if (digits == 0 && std::fabs(v) >= 1000) return FormatCount(std::round(v));
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string Rate(double rps) { return Num(rps) + "/s"; }

// A statement cut to one readable line.
std::string Short(std::string text, size_t limit = 90) {
  for (char& c : text) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  if (text.size() > limit) text = text.substr(0, limit) + "...";
  return text;
}

// The column a statement filters `table` on ("... FROM orders WHERE customer_id = $1" -> customer_id).
std::string FilterColumn(const std::string& statement, const std::string& table) {
  const std::string bare = table.substr(table.find('.') == std::string::npos ? 0 : table.find('.') + 1);
  static const std::regex kWhere(R"(\bwhere\s+(?:[a-z_][a-z0-9_]*\.)?([a-z_][a-z0-9_]*)\s*(?:=|<|>|in\b|between\b))",
                                 std::regex::icase);
  std::string lower = statement;
  for (char& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
  if (lower.find(bare) == std::string::npos) return "";
  std::smatch m;
  const std::string tail = lower.substr(lower.find(bare));
  if (std::regex_search(tail, m, kWhere)) return m[1].str();
  return "";
}

// The smallest latency threshold among the SLOs that applied at the point ("p99 < 50ms" -> 50 ms).
std::optional<double> LatencyBudgetMs(const json& phase) {
  std::optional<double> best;
  static const std::regex kLatency(R"(^\s*(?:[A-Za-z_][A-Za-z0-9_-]*\.)?(?:p\d+(?:\.\d+)?|mean|max)\s*<=?\s*(\S+))");
  if (!phase.contains("slo") || !phase["slo"].is_array()) return best;
  for (const json& s : phase["slo"]) {
    const std::string expr = s.value("expr", "");
    std::smatch m;
    if (!std::regex_search(expr, m, kLatency)) continue;
    Result<int64_t> ns = ParseDurationNs(m[1].str());
    if (!ns) continue;
    const double ms = double(*ns) / 1e6;
    if (!best || ms < *best) best = ms;
  }
  return best;
}

std::optional<double> Number(const json& object, const char* key) {
  if (!object.is_object() || !object.contains(key) || !object[key].is_number()) return std::nullopt;
  return object[key].get<double>();
}

// Every source with the mean of each metric, and the mean time of its top statements or commands.
std::vector<Reading> ReadingsOf(const std::vector<Source>& sources) {
  std::vector<Reading> out;
  for (const Source& s : sources) {
    Reading r{s.tier, s.tier_kind, s.label, s.kind, {}, std::nullopt};
    const json& m = (*s.body)["metrics"];
    if (m.is_object()) {
      for (const auto& [name, v] : m.items()) {
        if (auto mean = Number(v, "mean")) r.mean[name] = *mean;
      }
    }
    const char* group = s.kind == "postgres" ? "statements" : s.kind == "redis" ? "commands" : nullptr;
    if (group != nullptr) {
      double time_ms = 0, calls = 0;
      for (const auto& [key, counts] : Top(s, group, "time_ms")) {
        time_ms += CountOf(counts, "time_ms");
        calls += CountOf(counts, "calls");
      }
      if (calls > 0) r.activity_mean_ms = time_ms / calls;
    }
    out.push_back(std::move(r));
  }
  return out;
}

struct Candidate {
  Point point;
  const json* tiers = nullptr;
  std::optional<Point> before;
  const json* before_tiers = nullptr;
  const json* phase = nullptr;
};

// The point that matters: the first knee in phase order, else the highest load with tiers.
std::optional<Candidate> PickPoint(const json& results) {
  std::optional<Candidate> knee, highest;
  auto consider_highest = [&](const Candidate& c) {
    if (!highest || c.point.achieved_rps > highest->point.achieved_rps) highest = c;
  };
  for (const json& phase : results["phases"]) {
    if (!phase.is_object()) continue;
    const std::string name = phase.value("name", "");
    const json* curve = phase.contains("stress") && phase["stress"].is_object() && phase["stress"].contains("curve")
                            ? &phase["stress"]["curve"]
                            : nullptr;
    if (curve != nullptr && curve->is_array() && !curve->empty()) {
      const json* k = nullptr;
      const json* best_pass = nullptr;
      for (const json& p : *curve) {
        if (p.value("confirmation", false)) continue;
        if (!p.value("pass", true) && (k == nullptr || p.value("rate_rps", 0.0) < (*k).value("rate_rps", 0.0))) k = &p;
      }
      for (const json& p : *curve) {
        if (p.value("confirmation", false) || !p.value("pass", false)) continue;
        if (k != nullptr && p.value("rate_rps", 0.0) >= (*k).value("rate_rps", 0.0)) continue;
        if (best_pass == nullptr || p.value("rate_rps", 0.0) > (*best_pass).value("rate_rps", 0.0)) best_pass = &p;
      }
      auto point_of = [&](const json& p, bool is_knee) {
        Point pt;
        pt.phase = name;
        pt.rate_rps = p.value("rate_rps", 0.0);
        pt.achieved_rps = p.value("achieved_rps", 0.0);
        pt.knee = is_knee;
        for (size_t i = 0; i < curve->size(); ++i) {
          if (&(*curve)[i] == &p) pt.step = int(i);
        }
        pt.p95_us = Number(p, "p95_us");
        pt.p99_us = Number(p, "p99_us");
        pt.why = is_knee ? "'" + p.value("broken", std::string("an SLO")) + "' broke at " + Rate(pt.rate_rps) +
                               " in stress phase " + name + " (the knee)"
                         : "the highest rate every SLO held at (stress phase " + name + ", " + Rate(pt.rate_rps) + ")";
        return pt;
      };
      if (k != nullptr) {
        Candidate c{point_of(*k, true), &(*k)["tiers"], std::nullopt, nullptr, &phase};
        if (best_pass != nullptr) {
          c.before = point_of(*best_pass, false);
          c.before_tiers = &(*best_pass)["tiers"];
        }
        if (!knee) knee = c;
      } else if (best_pass != nullptr) {
        consider_highest(Candidate{point_of(*best_pass, false), &(*best_pass)["tiers"], std::nullopt, nullptr, &phase});
      }
      continue;
    }
    Point pt;
    pt.phase = name;
    pt.achieved_rps = phase.contains("throughput") ? phase["throughput"].value("achieved_rps", 0.0) : 0.0;
    pt.rate_rps = pt.achieved_rps;
    if (phase.contains("latency") && phase["latency"].is_object()) {
      pt.p95_us = Number(phase["latency"].value("response_time_us", json::object()), "p95");
      pt.p99_us = Number(phase["latency"].value("response_time_us", json::object()), "p99");
    }
    const bool failed = phase.value("status", "") == "failed" || phase.value("status", "") == "aborted";
    pt.knee = failed;
    pt.why = failed ? "phase " + name + ", which broke its SLOs at " + Rate(pt.achieved_rps)
                    : "the highest load reached (phase " + name + ", " + Rate(pt.achieved_rps) + ")";
    Candidate c{pt, phase.contains("tiers") ? &phase["tiers"] : nullptr, std::nullopt, nullptr, &phase};
    if (failed && !knee) knee = c;
    consider_highest(c);
  }
  return knee ? knee : highest;
}

class Rules {
 public:
  Rules(const Candidate& c, std::optional<double> budget_ms) : c_(c), budget_ms_(budget_ms) {
    sources_ = SourcesOf(*c.tiers);
    if (c.before_tiers != nullptr) before_ = SourcesOf(*c.before_tiers);
    for (const Source& s : sources_) {
      if (s.kind == "host" && Metric(s, "cores")) cores_ = Metric(s, "cores");
    }
  }

  std::vector<Finding> Run() {
    for (const Source& s : sources_) {
      if (s.kind == "host") Host(s);
      if (s.kind == "process") Process(s);
      if (s.kind == "postgres") Postgres(s);
      if (s.kind == "redis") Redis(s);
      if (s.kind == "prometheus") AppPools(s);
    }
    // A busy resource is where the time goes and a queue is where requests wait; a specific cause
    // found on a tier is why, so it ranks first and the others name it, deeper queues first.
    const Finding* cause = nullptr;
    for (const Finding& f : out_) {
      if (f.level == kCause && f.severity >= kSpecificCause && (cause == nullptr || f.severity > cause->severity)) {
        cause = &f;
      }
    }
    for (int level = kCause - 1; level >= 0; --level) {
      const Finding* top = nullptr;  // the strongest finding above this level
      for (const Finding& f : out_) {
        if (f.level > level && f.severity >= kSpecificCause && (top == nullptr || f.severity > top->severity)) top = &f;
      }
      if (top == nullptr) continue;
      const double cap = top->severity - 0.01 * (kCause - level);
      const Finding& named = cause != nullptr ? *cause : *top;
      const std::string why = "likely cause: the " + named.tier + " tier's " + named.resource + " finding (" +
                              named.title + ")";
      for (Finding& f : out_) {
        if (f.level == level && f.severity > cap) {
          f.severity = cap;
          f.evidence.push_back(why);
        }
      }
    }
    std::stable_sort(out_.begin(), out_.end(), [](const Finding& a, const Finding& b) { return a.severity > b.severity; });
    return out_;
  }

  const std::vector<Source>& sources() const { return sources_; }

 private:
  double rps() const { return c_.point.achieved_rps; }

  Finding& Add(const Source& s, std::string resource, std::string title, double severity) {
    Finding f;
    f.tier = s.tier;
    f.source = s.label;
    f.resource = std::move(resource);
    f.title = std::move(title);
    f.severity = severity;
    out_.push_back(std::move(f));
    return out_.back();
  }

  // "rose 4.0x while load rose 1.3x": a resource growing much faster than load is contention.
  void Growth(Finding& f, const Source& s, const std::string& metric,
              const char* faster_means = "contention, not just use") {
    if (!c_.before) return;
    const Source* b = nullptr;
    for (const Source& o : before_) {
      if (o.tier == s.tier && o.label == s.label) b = &o;
    }
    if (b == nullptr) return;
    const auto now = Metric(s, metric);
    const auto then = Metric(*b, metric);
    if (!now || !then || *then <= 0 || c_.before->achieved_rps <= 0) return;
    const double grew = *now / *then;
    const double load = rps() / c_.before->achieved_rps;
    if (load <= 1.0) return;
    std::string line = metric + " rose " + Num(grew, 1) + "x from " + Rate(c_.before->achieved_rps) + " to " +
                       Rate(rps()) + " while load rose " + Num(load, 1) + "x";
    if (grew > kContention * load) {
      line += std::string(": ") + faster_means;
      f.severity += 0.2;
    }
    f.evidence.push_back(line);
  }

  void Host(const Source& s) {
    const double cores = cores_.value_or(1);
    const double cpu = MetricOr(s, "cpu_ratio");
    const double psi = MetricOr(s, "psi.cpu.some_ratio");
    const double runq = MetricOr(s, "run_queue");
    if (cpu >= kSaturated || psi >= kPressure || runq > cores) {
      Finding& f = Add(s, "cpu", std::string("host CPU ") + (cpu >= kSaturated ? "saturated" : "under pressure") + " at " + Pct(cpu),
                       cpu + std::min(psi, 0.5) + (runq > cores ? 0.1 : 0));
      f.level = kBusyResource;
      f.utilization = cpu;
      f.evidence.push_back("cpu_ratio " + Pct(cpu) + " of " + Num(cores) + " cores at " + Rate(rps()));
      if (psi > 0) f.evidence.push_back("psi.cpu.some_ratio " + Pct(psi) + " (share of time some task waited for a CPU)");
      f.evidence.push_back("run_queue " + Num(runq, 1) + " runnable threads for " + Num(cores) + " cores");
      Growth(f, s, "cpu_ratio");
      const double at_full = cpu > 0 ? rps() / cpu : 0;
      f.change = "more CPU for this host's work: at " + Pct(cpu) + " busy for " + Rate(rps()) +
                 ", one such host carries about " + Rate(at_full * 0.7) + " at a 70 % target; for " + Rate(rps() * 2) +
                 " plan " + Num(std::ceil(rps() * 2 / std::max(at_full * 0.7, 1.0))) +
                 " hosts of this size, or profile the busiest process first";
    }
    const double avail = MetricOr(s, "mem_available_ratio", 1);
    const double swap = MetricOr(s, "swap_in_pages_per_s") + MetricOr(s, "swap_out_pages_per_s");
    if (avail <= 0.10 || swap > 0) {
      Finding& f = Add(s, "memory", "host memory nearly exhausted (" + Pct(avail) + " available)",
                       1 - avail + (swap > 0 ? 0.2 : 0));
      f.level = kBusyResource;
      f.utilization = 1 - avail;
      f.evidence.push_back("mem_available_ratio " + Pct(avail));
      if (swap > 0) f.evidence.push_back("swapping " + Num(swap) + " pages/s");
      f.change = "give the host more memory or cap the biggest consumer (connection counts, cache sizes); swapping "
                 "multiplies latency";
    }
    const double disk = MetricOr(s, "disk_util_max_ratio");
    const double io_psi = MetricOr(s, "psi.io.some_ratio");
    if (disk >= kSaturated || io_psi >= 2 * kPressure) {
      Finding& f = Add(s, "disk", "disk busy " + Pct(disk) + " of the time", disk + std::min(io_psi, 0.5));
      f.level = kBusyResource;
      f.utilization = disk;
      f.evidence.push_back("disk_util_max_ratio " + Pct(disk) + ", psi.io.some_ratio " + Pct(io_psi));
      Growth(f, s, "disk_util_max_ratio");
      f.change = "move the hot data to memory (a larger buffer cache or a cache tier) or to faster storage; find the "
                 "writer in the process tiers' write_bytes_per_s";
    }
    const double drops = MetricOr(s, "listen_overflows_per_s") + MetricOr(s, "listen_drops_per_s");
    if (drops > 0) {
      Finding& f = Add(s, "accept queue", "connections dropped at the listen queue (" + Num(drops, 1) + "/s)", 0.9);
      f.evidence.push_back("listen_overflows_per_s + listen_drops_per_s " + Num(drops, 1));
      f.change = "the server does not accept fast enough: raise net.core.somaxconn and the server's listen backlog "
                 "(e.g. 4096; nginx `listen ... backlog=4096`), and look at what blocks its accept loop";
    }
  }

  void Process(const Source& s) {
    const double used = MetricOr(s, "cpu_cores");
    const double procs = MetricOr(s, "processes");
    const double cores = cores_.value_or(0);
    if (procs == 1 && used >= kPinnedCore && used <= 1.1 && cores >= 2) {
      Finding& f = Add(s, "cpu", "one process pinned at one core while " + Num(cores) + " cores exist", 0.95);
      f.utilization = used;
      f.evidence.push_back("cpu_cores " + Num(used, 2) + " in 1 process (" + Num(MetricOr(s, "threads")) +
                           " threads) at " + Rate(rps()));
      Growth(f, s, "cpu_cores");
      f.change = "run one process per core: " + Num(cores) + " workers (Node `cluster` or PM2 `-i " + Num(cores) +
                 "`, gunicorn `--workers " + Num(cores) + "`, or " + Num(cores) +
                 " replicas behind the load balancer); expect up to " + Rate(rps() * cores * 0.8) + " if nothing "
                 "else limits";
    } else if (cores > 0 && used / cores >= kSaturated) {
      Finding& f = Add(s, "cpu", "process CPU saturated: " + Num(used, 2) + " of " + Num(cores) + " cores", used / cores);
      f.level = kBusyResource;
      f.utilization = used / cores;
      f.evidence.push_back("cpu_cores " + Num(used, 2) + " across " + Num(procs) + " process(es) at " + Rate(rps()));
      Growth(f, s, "cpu_cores");
      f.change = "CPU per request is " + Num(rps() > 0 ? used * 1e6 / rps() : 0) +
                 " us: profile the handler (perf, a flame graph) or add instances; one more host of this size adds "
                 "about " + Rate(rps() / std::max(used / cores, 0.01) * 0.7) + " at a 70 % target";
    }
    const double fd = MetricOr(s, "fd_ratio");
    if (fd >= kSaturated) {
      Finding& f = Add(s, "file descriptors", "open files at " + Pct(fd) + " of the process limit", fd);
      f.utilization = fd;
      f.evidence.push_back("fds " + Num(MetricOr(s, "fds")) + " (" + Pct(fd) + " of the soft limit)");
      f.change = "raise the limit (systemd `LimitNOFILE=" + Num(std::max(65536.0, MetricOr(s, "fds") * 4)) +
                 "`, `ulimit -n`) and check for leaked connections";
    }
  }

  void Postgres(const Source& s) {
    const double ratio = MetricOr(s, "connections_ratio");
    const double conns = MetricOr(s, "connections");
    const double max_conns = MetricOr(s, "max_connections");
    if (ratio >= kSaturated) {
      Finding& f = Add(s, "connections", "connections at " + Pct(ratio) + " of max_connections", ratio);
      f.utilization = ratio;
      f.evidence.push_back("connections " + Num(conns) + " of max_connections " + Num(max_conns) + ", " +
                           Num(MetricOr(s, "connections.active")) + " active, " +
                           Num(MetricOr(s, "connections.idle")) + " idle");
      Growth(f, s, "connections");
      const double pool = std::max(10.0, std::min(std::ceil(MetricOr(s, "connections.active") * 1.5), max_conns * 0.5));
      f.change = "put a pooler in transaction mode between the app and PostgreSQL: PgBouncer `pool_mode = "
                 "transaction`, `default_pool_size = " + Num(pool) + "` (the active backends at the knee x 1.5), "
                 "`max_client_conn = " + Num(std::max(conns * 4, 1000.0)) + "`; the app's own pool per instance "
                 "then needs no more connections than its concurrent requests";
    }
    const double locks = MetricOr(s, "lock_waits") + MetricOr(s, "waiting.lock");
    if (locks >= 1) {
      Finding& f = Add(s, "locks", "transactions wait for locks (" + Num(locks, 1) + " waiting on average)",
                       0.6 + std::min(locks / 10, 0.4));
      f.evidence.push_back("lock_waits " + Num(MetricOr(s, "lock_waits"), 1) + ", backends waiting on a lock " +
                           Num(MetricOr(s, "waiting.lock"), 1));
      auto top = Top(s, "statements", "time_ms");
      if (!top.empty()) f.evidence.push_back("most time: " + Short(top[0].first));
      Growth(f, s, "lock_waits");
      f.change = "shorten the transactions that hold the hot rows (no network calls inside them), update rows in a "
                 "consistent order, or move the counter/row everyone updates out of the request path";
    }
    // Sequential scans reading many rows: the table, the statement and the column to index.
    const double seq_rows = MetricOr(s, "seq_scan_rows_per_s");
    std::optional<size_t> index_finding;  // in out_
    std::string index_statement;
    if (seq_rows >= kSeqRowsPerS) {
      auto tables = Top(s, "tables", "seq_tup_read");
      const std::string table = tables.empty() ? "" : tables[0].first;
      std::string column, statement;
      for (const auto& [text, counts] : Top(s, "statements", "time_ms")) {
        if (table.empty()) break;
        column = FilterColumn(text, table);
        if (!column.empty()) {
          statement = text;
          break;
        }
      }
      Finding& f = Add(s, "index", "sequential scans read " + Num(seq_rows) + " rows/s" +
                                       (table.empty() ? "" : " on " + table),
                       0.9 + std::min(seq_rows / 1e6, 0.3));
      f.evidence.push_back("seq_scan_rows_per_s " + Num(seq_rows) + ", seq_scans_per_s " +
                           Num(MetricOr(s, "seq_scans_per_s"), 1) + ", idx_scans_per_s " +
                           Num(MetricOr(s, "idx_scans_per_s"), 1));
      if (!table.empty()) {
        f.evidence.push_back(table + ": " + Num(CountOf(tables[0].second, "seq_tup_read")) + " rows read by " +
                             Num(CountOf(tables[0].second, "seq_scan")) + " sequential scans in the window");
      }
      if (!statement.empty()) f.evidence.push_back("statement: " + Short(statement));
      Growth(f, s, "seq_scan_rows_per_s");
      index_finding = out_.size() - 1;
      index_statement = statement;
      f.change = !column.empty() ? "CREATE INDEX CONCURRENTLY ON " + table + " (" + column + ");"
                 : !table.empty() ? "index the column " + table + " is filtered on (EXPLAIN the statements above)"
                                  : "find the table with pg_stat_user_tables.seq_tup_read and index its filter column";
    }
    ConnectionsPerRequest(s, "sessions_per_s", "PostgreSQL",
                          "pool the connections in the app (HikariCP, pgx's pool, SQLAlchemy's QueuePool, "
                          "node-postgres' Pool) or put PgBouncer in front; a PostgreSQL connection is a process "
                          "fork and an authentication, milliseconds each");
    const double calls = MetricOr(s, "statement_calls_per_s");
    if (rps() > 0 && calls / rps() >= kCallsPerRequest) {
      auto top = Top(s, "statements", "calls");
      Finding& f = Add(s, "statements", Num(calls / rps(), 1) + " statements per HTTP request (N+1 pattern)", 0.7);
      f.evidence.push_back("statement_calls_per_s " + Num(calls) + " for " + Rate(rps()) + " of HTTP requests");
      if (!top.empty()) {
        f.evidence.push_back("most called: " + Short(top[0].first) + " (" + Num(CountOf(top[0].second, "calls")) +
                             " calls in the window)");
      }
      f.change = "load the related rows in one statement (a JOIN or `WHERE id = ANY($1)`) or batch them "
                 "(DataLoader-style); each round trip adds its latency to every request";
    }
    if (budget_ms_) {
      for (const auto& [text, counts] : Top(s, "statements", "time_ms")) {
        const double n = CountOf(counts, "calls");
        if (n <= 0) continue;
        const double mean_ms = CountOf(counts, "time_ms") / n;
        if (mean_ms < kSlowShareOfBudget * *budget_ms_) continue;
        const double severity = 0.8 + std::min(mean_ms / *budget_ms_ - kSlowShareOfBudget, 0.4);
        if (index_finding && text == index_statement) {
          // The same cause: the statement is slow because it scans the table the index is for.
          Finding& f = out_[*index_finding];
          f.evidence.push_back("that statement takes " + Num(mean_ms, 1) + " ms on average (" + Num(n) + " calls), " +
                               Pct(mean_ms / *budget_ms_) + " of the " + Num(*budget_ms_) + " ms SLO");
          f.severity = std::max(f.severity, severity) + 0.05;
          break;
        }
        Finding& f = Add(s, "statement", "a statement takes " + Num(mean_ms, 1) + " ms on average, " +
                                             Pct(mean_ms / *budget_ms_) + " of the " + Num(*budget_ms_) + " ms SLO",
                         severity);
        f.evidence.push_back("statement: " + Short(text) + " (" + Num(n) + " calls, " + Num(mean_ms, 1) + " ms mean)");
        f.change = "EXPLAIN (ANALYZE, BUFFERS) it: index its filter, return fewer rows, or move it off the request path";
        break;  // the slowest one is enough
      }
    }
    const double hit = MetricOr(s, "cache_hit_ratio", 1);
    const double blocks = MetricOr(s, "blocks_read_per_s");
    if (hit < kLowBufferHitRatio && blocks > 100) {
      Finding& f = Add(s, "buffer cache", "buffer cache hit ratio " + Pct(hit) + " (" + Num(blocks) + " blocks/s from disk)",
                       0.5 + (kLowBufferHitRatio - hit));
      f.evidence.push_back("cache_hit_ratio " + Pct(hit) + ", blocks_read_per_s " + Num(blocks));
      f.change = "raise shared_buffers (about 25 % of the database host's memory) so the working set stays in memory, "
                 "or add the missing index that makes the scans read fewer blocks";
    }
  }

  void Redis(const Source& s) {
    const double mem = MetricOr(s, "memory_ratio");
    const double evict = MetricOr(s, "evictions_per_s");
    const std::string policy = Attribute(s, "maxmemory_policy");
    // Full with no key kept (the clients' buffers alone fill maxmemory): nothing left to evict,
    // every write refused.
    const bool no_room = mem >= 0.9 && evict <= 0 && MetricOr(s, "keys") < 1 && MetricOr(s, "misses_per_s") > 0;
    const bool full = mem >= 0.9 && (evict > 0 || no_room);
    if (full) {
      const double used = MetricOr(s, "used_memory_bytes");
      Finding& f = Add(s, "memory", no_room ? "cache at maxmemory with no room for a key: every lookup misses"
                                            : "cache at maxmemory, evicting " + Num(evict) + " keys/s",
                       0.85 + (no_room ? 0.2 : std::min(evict / 1e4, 0.2)));
      f.utilization = mem;
      f.evidence.push_back("used_memory " + FormatBytes(used) + " of maxmemory " +
                           FormatBytes(MetricOr(s, "maxmemory_bytes")) + " (" + Pct(mem) + "), evictions_per_s " +
                           Num(evict) + (policy.empty() ? "" : ", maxmemory-policy " + policy));
      const double hit = MetricOr(s, "hit_ratio", -1);
      if (hit >= 0) f.evidence.push_back("hit_ratio " + Pct(hit));
      Growth(f, s, "evictions_per_s", "the working set outgrew the cache");
      // At a uniform key popularity the hit ratio is the share of the working set that fits, so the
      // working set is about used / hit ratio; a skewed popularity needs less.
      const double fit = hit > 0.05 ? std::max(used * 1.5, used / hit) : used * 20;
      f.change = "`maxmemory " + FormatBytes(std::ceil(fit)) + "` (" +
                 (hit > 0.05 ? "the used memory / the hit ratio " + Pct(hit) + ", at least x 1.5, "
                             : std::string("20 x the used memory: almost nothing hits, ")) +
                 "so the working set fits)" + (policy.find("lru") == std::string::npos && policy.find("lfu") == std::string::npos
                                ? " and `maxmemory-policy allkeys-lru` (now " + (policy.empty() ? std::string("unknown") : policy) + ")"
                                : "");
    }
    const double main_cpu = MetricOr(s, "main_thread_cpu_cores");
    if (main_cpu >= kSaturated) {
      Finding& f = Add(s, "cpu", "Redis main thread at " + Num(main_cpu, 2) + " cores (it runs on one)", main_cpu);
      f.utilization = main_cpu;
      f.evidence.push_back("main_thread_cpu_cores " + Num(main_cpu, 2) + ", ops_per_s " + Num(MetricOr(s, "ops_per_s")));
      auto top = Top(s, "commands", "time_ms");
      if (!top.empty()) f.evidence.push_back("busiest command: " + top[0].first);
      Growth(f, s, "main_thread_cpu_cores");
      f.change = "split the keyspace over shards (Redis Cluster, or client-side sharding by key), pipeline or batch "
                 "small commands (MGET), and replace O(N) commands (KEYS, large SMEMBERS) with SCAN or smaller keys";
    }
    const double hit = MetricOr(s, "hit_ratio", 1);
    const double keys_min = Metric(s, "keys", "min").value_or(0), keys_max = Metric(s, "keys", "max").value_or(0);
    const bool warming = evict <= 0 && keys_max > 0 && keys_max - keys_min >= 0.05 * keys_max;
    if (hit < kLowHitRatio && MetricOr(s, "lookups_per_s") > 0 && warming) {
      // Keys still arriving and none evicted: the misses are a cold cache, not a flaw.
      Finding& f = Add(s, "hit ratio", "cache hit ratio " + Pct(hit) + " while the cache warms up (keys " +
                                           Num(keys_min) + " -> " + Num(keys_max) + " in the window)",
                       0.3);
      f.evidence.push_back("hits_per_s " + Num(MetricOr(s, "hits_per_s")) + ", misses_per_s " +
                           Num(MetricOr(s, "misses_per_s")) + ", evictions_per_s 0");
      f.change = "measure after a warm-up phase long enough to fill the cache (or prewarm the hot keys): this "
                 "point's latency includes cold misses that steady traffic would not have";
    } else if (hit < kLowHitRatio && MetricOr(s, "lookups_per_s") > 0 && !full) {
      Finding& f = Add(s, "hit ratio", "cache hit ratio " + Pct(hit), 0.4 + (kLowHitRatio - hit));
      f.evidence.push_back("hits_per_s " + Num(MetricOr(s, "hits_per_s")) + ", misses_per_s " +
                           Num(MetricOr(s, "misses_per_s")) + ", keys " + Num(MetricOr(s, "keys")));
      f.change = "check what misses: keys written with a TTL shorter than their reuse, keys never written back "
                 "(cache-aside on every miss), or a key space larger than the traffic repeats";
    }
    ConnectionsPerRequest(s, "connections_received_per_s", "Redis",
                          "keep the Redis connections open and share them (one client or pool per process, "
                          "e.g. redis-py's ConnectionPool, Lettuce's shared connection)");
    const double rejected = MetricOr(s, "rejected_connections_per_s");
    if (rejected > 0) {
      Finding& f = Add(s, "connections", "Redis rejects " + Num(rejected, 1) + " connections/s", 0.9);
      f.evidence.push_back("rejected_connections_per_s " + Num(rejected, 1) + ", connected_clients " +
                           Num(MetricOr(s, "connected_clients")));
      f.change = "raise `maxclients` and pool the app's Redis connections (one pool per instance)";
    }
  }

  // Connections opened per HTTP request: no pooling. Right at any load.
  void ConnectionsPerRequest(const Source& s, const char* metric, const char* server, const char* change) {
    const double opened = MetricOr(s, metric);
    if (rps() <= 0 || opened / rps() < kConnectionsPerRequest) return;
    Finding& f = Add(s, "connections", std::string("a new ") + server + " connection for every " +
                                           (opened >= rps() ? std::string("request") : Num(rps() / opened, 1) + " requests") +
                                           " (no pooling)",
                     0.85 + std::min(opened / rps() / 10, 0.2));
    f.evidence.push_back(std::string(metric) + " " + Num(opened) + " for " + Rate(rps()) + " of HTTP requests (" +
                         Num(opened / rps(), 2) + " per request)");
    f.change = change;
  }

  // A service's own pools, from the names Micrometer publishes: the request thread pool
  // (executor_*) and the database connection pool (hikaricp_*). Busy and waiting counts come from
  // the time summaries when present (their rate is the average number busy or waiting over the
  // window, exact), else from the gauges sampled once per interval.
  void AppPools(const Source& s) {
    const double cores = cores_.value_or(0);
    auto mean_of = [&](const std::string& timed, const std::string& gauge) -> std::optional<double> {
      if (auto v = Metric(s, timed)) return v;
      return Metric(s, gauge);
    };
    for (const std::string& l : LabelSets(s, "executor_pool_max_threads")) {
      const double max = MetricOr(s, "executor_pool_max_threads" + l);
      const auto busy = mean_of("executor_seconds_sum" + l, "executor_active_threads" + l);
      const auto waiting = mean_of("executor_idle_seconds_sum" + l, "executor_queued_tasks" + l);
      // Saturated: the threads are nearly all busy, or more requests wait than there are threads
      // (on a CPU-starved host a freed thread waits to be scheduled, so the queue grows first).
      if (max <= 0 || !busy || waiting.value_or(0) < kPoolWaiting || (*busy / max < kSaturated && *waiting < max)) continue;
      const double queued = MetricOr(s, "executor_queued_tasks" + l);
      const double wait_ms = MetricOr(s, "executor_idle_seconds_sum" + l) /
                             std::max(MetricOr(s, "executor_idle_seconds_count" + l), 1e-9) * 1000;
      double cpu = -1;
      for (const Source& o : sources_) {
        if (o.tier == s.tier && o.kind == "process") cpu = MetricOr(o, "cpu_cores", -1);
      }
      Finding& f = Add(s, "threads", std::string("request threads ") + (*busy / max >= kSaturated ? "exhausted" : "too few") +
                                         ": " + Num(*busy, 1) + " of " + Num(max) + " busy, " +
                                         Num(*waiting, 1) + " requests waiting for one",
                       1.0 + std::min(*waiting / (10 * max), 0.3));
      f.utilization = std::min(*busy / max, 1.0);
      f.evidence.push_back("executor_seconds_sum" + l + " " + Num(*busy, 2) + " threads busy on average of " +
                           "executor_pool_max_threads " + Num(max) + " at " + Rate(rps()));
      f.evidence.push_back("executor_queued_tasks " + Num(queued, 1) + " sampled, " + Num(*waiting, 1) +
                           " waiting on average" + (wait_ms > 0 ? ", " + Num(wait_ms, 1) + " ms each" : ""));
      if (cpu >= 0) f.evidence.push_back("the tier's processes use " + Num(cpu, 2) + " cores");
      Growth(f, s, "executor_seconds_sum" + l);
      const bool cpu_bound = cpu >= 0.9 * max;
      if (!cpu_bound) f.level = kThreadQueue;
      if (cpu_bound) {
        f.change = "the threads are busy on CPU (" + Num(cpu, 2) + " cores for " + Num(max) + " threads): run " +
                   Num(std::max(cores, max + 1)) + " threads (one per core), then add instances";
      } else {
        // Little's law: a request holds a thread busy / rps seconds; twice the load at 80 % busy.
        const double queued_need = *busy / max < kSaturated ? std::ceil(*busy + *waiting) : 0;
        const double want = std::min(256.0, std::max({max + 1, std::ceil(2 * *busy / kSaturated), queued_need}));
        f.change = "the threads mostly wait on I/O (" + (cpu >= 0 ? Num(cpu, 2) + " cores used" : std::string("CPU not watched")) +
                   "): each request holds a thread " + Num(*busy / std::max(rps(), 1e-9) * 1000, 2) + " ms, so " +
                   Rate(2 * rps()) + " (2x) needs " + Num(want) + " threads at 80 % busy: raise the request threads from " +
                   Num(max) + " to " + Num(want) + " (Tomcat `server.tomcat.threads.max`, a thread pool's maximum size, "
                   "Puma/gunicorn threads), or make what they wait for faster";
      }
    }
    for (const std::string& l : LabelSets(s, "hikaricp_connections_max")) {
      const double max = MetricOr(s, "hikaricp_connections_max" + l);
      const auto in_use = mean_of("hikaricp_connections_usage_seconds_sum" + l, "hikaricp_connections_active" + l);
      const auto waiting = mean_of("hikaricp_connections_acquire_seconds_sum" + l, "hikaricp_connections_pending" + l);
      if (max <= 0 || !in_use || waiting.value_or(0) < kPoolWaiting || (*in_use / max < kSaturated && *waiting < max)) {
        continue;
      }
      const double timeouts = MetricOr(s, "hikaricp_connections_timeout_total" + l);
      const double acquire_ms = MetricOr(s, "hikaricp_connections_acquire_seconds_sum" + l) /
                                std::max(MetricOr(s, "hikaricp_connections_acquire_seconds_count" + l), 1e-9) * 1000;
      Finding& f = Add(s, "connection pool", std::string("database connection pool ") +
                                                 (*in_use / max >= kSaturated ? "exhausted" : "too small") + ": " +
                                                 Num(*in_use, 1) + " of " + Num(max) + " connections in use, " +
                                                 Num(*waiting, 1) + " requests waiting for one",
                       1.0 + std::min(*waiting / (10 * max), 0.3));
      // A queue in front of the database: a cause only when nothing explains the slow statements.
      f.level = kPoolQueue;
      f.utilization = std::min(*in_use / max, 1.0);
      f.evidence.push_back("hikaricp_connections_usage_seconds_sum" + l + " " + Num(*in_use, 2) +
                           " connections in use on average of hikaricp_connections_max " + Num(max) + " at " + Rate(rps()));
      f.evidence.push_back("hikaricp_connections_acquire_seconds_sum " + Num(*waiting, 1) + " waiting on average" +
                           (acquire_ms > 0 ? ", " + Num(acquire_ms, 1) + " ms per acquisition" : "") +
                           (timeouts > 0 ? ", " + Num(timeouts, 1) + " timeouts/s" : ""));
      double db_max = 0, db_conns = 0;
      for (const Source& o : sources_) {
        if (o.kind == "postgres") {
          db_max = MetricOr(o, "max_connections");
          db_conns = MetricOr(o, "connections");
        }
      }
      if (db_max > 0) {
        f.evidence.push_back("PostgreSQL: " + Num(db_conns) + " connections of max_connections " + Num(db_max));
      }
      Growth(f, s, "hikaricp_connections_acquire_seconds_sum" + l, "requests queue for connections faster than load grows");
      // Little's law as for threads: twice the load at 80 % of the pool in use, within what the
      // database accepts.
      // A pool that is not busy yet has a queue (handoffs on a starved CPU): at least in use + waiting.
      const double queued_need = *in_use / max < kSaturated ? std::ceil(*in_use + *waiting) : 0;
      double want = std::max({max + 1, std::ceil(2 * *in_use / kSaturated), queued_need});
      if (db_max > 0) want = std::min(want, std::max(max + 1, std::floor(db_max * 0.8) - (db_conns - *in_use)));
      f.change = "each request holds a connection " + Num(*in_use / std::max(rps(), 1e-9) * 1000, 2) + " ms, so " +
                 Rate(2 * rps()) + " (2x) needs " + Num(want) + " connections at 80 % in use: raise the pool from " +
                 Num(max) + " to " + Num(want) + " (HikariCP `maximumPoolSize`, the pool size of your driver); beyond "
                 "about 2-4 connections per database core, more connections queue inside PostgreSQL instead: then "
                 "make the statements cheaper or add a PgBouncer in transaction mode";
    }
  }

  const Candidate& c_;
  std::optional<double> budget_ms_;
  std::vector<Source> sources_, before_;
  std::optional<double> cores_;
  std::vector<Finding> out_;
};

}  // namespace

Result<Explanation> Explain(const json& results) {
  if (!results.is_object() || !results.contains("schema") || !results["schema"].is_string() ||
      results["schema"].get<std::string>().rfind("headroom.results/", 0) != 0) {
    return Fail("not a headroom results.json (no \"schema\": \"headroom.results/N\")");
  }
  if (!results.contains("phases") || !results["phases"].is_array() || results["phases"].empty()) {
    return Fail("results.json has no phases to explain");
  }
  std::optional<Candidate> c = PickPoint(results);
  if (!c) return Fail("results.json has no phase with measurements");
  Explanation e;
  e.at = c->point;
  e.before = c->before;
  static const json kNoTiers = json::array();
  if (c->tiers == nullptr || !c->tiers->is_array()) c->tiers = &kNoTiers;
  e.tiers_watched = int(c->tiers->size());
  if (e.tiers_watched == 0) {
    e.elsewhere = "no tiers were watched during this run, so nothing can be ranked: run again with `--watch` or a "
                  "`tiers:` section (docs/collect.md)";
    return e;
  }
  Rules rules(*c, LatencyBudgetMs(*c->phase));
  e.findings = rules.Run();
  e.readings = ReadingsOf(rules.sources());
  const bool saturated = std::any_of(e.findings.begin(), e.findings.end(), [](const Finding& f) { return f.severity >= 0.8; });
  if (!saturated) {
    double lateness_p99 = 0;
    if (results.contains("generator") && results["generator"].contains("pacer_lateness_us")) {
      lateness_p99 = results["generator"]["pacer_lateness_us"].value("p99", 0.0);
    }
    e.elsewhere = "no watched resource was saturated at " + Rate(e.at.achieved_rps) +
                  ": the limit is somewhere not watched — a tier without a source, the network, a lock or pool "
                  "inside the app, or the load generator itself (its pacer ran " +
                  FormatDurationUs(lateness_p99) + " late at p99)";
  }
  return e;
}

std::optional<Explanation> ExplainRun(const report::Results& results) {
  bool watched = false;
  json doc;
  doc["schema"] = "headroom.results/3";
  doc["generator"] = {{"pacer_lateness_us", report::LatencyJson(results.generator.pacer_lateness_us)}};
  doc["phases"] = json::array();
  for (const report::PhaseResult& p : results.phases) {
    watched = watched || !p.tiers.empty();
    if (p.stress) {
      for (const report::StressPoint& s : p.stress->curve) watched = watched || !s.tiers.empty();
    }
    doc["phases"].push_back(json(report::PhaseJson(p)));
  }
  if (!watched) return std::nullopt;
  auto e = Explain(doc);
  if (!e) return std::nullopt;
  return *e;
}

std::string Text(const Explanation& e) {
  std::string out = "explain: at " + e.at.why + ", " + Rate(e.at.achieved_rps) + " achieved\n";
  if (e.before) out += "  compared with " + Rate(e.before->achieved_rps) + " (the last rate that held)\n";
  int i = 0;
  for (const Finding& f : e.findings) {
    out += "  " + std::to_string(++i) + ". [" + f.tier + " " + f.resource + "] " + f.title + "\n";
    for (const std::string& line : f.evidence) out += "       evidence: " + line + "\n";
    out += "       change:   " + f.change + "\n";
  }
  if (!e.elsewhere.empty()) out += "  " + e.elsewhere + "\n";
  return out;
}

std::string Markdown(const Explanation& e) {
  std::string out = "### Bottlenecks\n\nAt " + e.at.why + ", " + Rate(e.at.achieved_rps) + " achieved" +
                    (e.before ? " (compared with " + Rate(e.before->achieved_rps) + ", the last rate that held)" : "") +
                    ".\n\n";
  int i = 0;
  for (const Finding& f : e.findings) {
    out += std::to_string(++i) + ". **" + f.tier + " — " + f.resource + "**: " + f.title + "\n";
    for (const std::string& line : f.evidence) out += "   - " + line + "\n";
    out += "   - change: " + f.change + "\n";
  }
  if (!e.elsewhere.empty()) out += (e.findings.empty() ? "" : "\n") + e.elsewhere + ".\n";
  return out;
}

nlohmann::ordered_json ToJson(const Explanation& e) {
  using oj = nlohmann::ordered_json;
  auto point = [](const Point& p) {
    return oj{{"phase", p.phase}, {"rate_rps", p.rate_rps}, {"achieved_rps", p.achieved_rps}, {"why", p.why}, {"knee", p.knee}};
  };
  oj j;
  j["schema"] = "headroom.explain/1";
  j["at"] = point(e.at);
  j["before"] = e.before ? point(*e.before) : oj(nullptr);
  j["tiers_watched"] = e.tiers_watched;
  oj findings = oj::array();
  for (const Finding& f : e.findings) {
    findings.push_back({{"tier", f.tier},
                        {"source", f.source},
                        {"resource", f.resource},
                        {"title", f.title},
                        {"severity", std::round(f.severity * 1000) / 1000},
                        {"utilization", f.utilization ? oj(*f.utilization) : oj(nullptr)},
                        {"evidence", f.evidence},
                        {"change", f.change}});
  }
  j["bottlenecks"] = findings;
  j["elsewhere"] = e.elsewhere.empty() ? oj(nullptr) : oj(e.elsewhere);
  return j;
}

}  // namespace headroom::explain
