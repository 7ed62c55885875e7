// The host source: CPU, run queue, pressure stall information, memory, swap, disks, network and
// TCP counters from procfs (the root is configurable so that tests read fixture files).
#include <sys/stat.h>

#include <algorithm>

#include "collect/internal.h"

namespace headroom::collect {
namespace {

class HostSource final : public Source {
 public:
  HostSource(const WatchSpec& spec, const SourceOptions& options)
      : label_(spec.label), proc_(options.proc_root), sys_(options.sys_root) {}
  SourceKind kind() const override { return SourceKind::kHost; }
  const std::string& label() const override { return label_; }
  Result<Reading> Read(int64_t now_ns) override;

 private:
  Status ReadStat(Reading& out);
  void ReadLoadavg(Reading& out);
  void ReadPressure(Reading& out);
  void ReadMeminfo(Reading& out);
  void ReadVmstat(Reading& out);
  void ReadDiskstats(Reading& out);
  void ReadNetDev(Reading& out);
  void ReadSnmp(const std::string& file, std::string_view prefix,
                std::initializer_list<std::pair<std::string_view, std::string_view>> counters, Reading& out);
  bool IsWholeDisk(std::string_view name) const;
  void AddDeltaRatio(Reading& out, const std::string& name, double busy, double total);
  std::optional<std::string> Optional(const std::string& relative);

  std::string label_, proc_, sys_;
  RateTracker rates_;
};

// CPU lines: "cpu  user nice system idle iowait irq softirq steal guest guest_nice".
struct CpuTimes {
  double total = 0, idle = 0, iowait = 0, steal = 0;
};

std::optional<CpuTimes> ParseCpuLine(const std::vector<std::string_view>& f) {
  if (f.size() < 5) return std::nullopt;
  CpuTimes t;
  // guest and guest_nice are already counted in user and nice.
  const size_t n = std::min<size_t>(f.size(), 9);
  for (size_t i = 1; i < n; ++i) {
    auto v = ToNumber(f[i]);
    if (!v) return std::nullopt;
    t.total += *v;
    if (i == 4) t.idle = *v;
    if (i == 5) t.iowait = *v;
    if (i == 8) t.steal = *v;
  }
  return t;
}

std::optional<std::string> HostSource::Optional(const std::string& relative) {
  auto text = ReadTextFile(proc_ + "/" + relative);
  if (!text) return std::nullopt;
  return std::move(*text);
}

void HostSource::AddDeltaRatio(Reading& out, const std::string& name, double busy, double total) {
  auto d_busy = rates_.Delta(name + "#busy", busy);
  auto d_total = rates_.Delta(name + "#total", total);
  if (d_busy && d_total && *d_total > 0) {
    out.metrics.push_back(Metric{name, std::clamp(*d_busy / *d_total, 0.0, 1.0)});
  }
}

Status HostSource::ReadStat(Reading& out) {
  auto text = ReadTextFile(proc_ + "/stat");
  if (!text) return std::unexpected(text.error());
  int cores = 0;
  for (std::string_view line : SplitLines(*text)) {
    auto f = SplitFields(line);
    if (f.empty()) continue;
    if (f[0].starts_with("cpu")) {
      auto t = ParseCpuLine(f);
      if (!t) continue;
      const double busy = t->total - t->idle - t->iowait;
      if (f[0] == "cpu") {
        AddDeltaRatio(out, "cpu_ratio", busy, t->total);
        AddDeltaRatio(out, "cpu_iowait_ratio", t->iowait, t->total);
        AddDeltaRatio(out, "cpu_steal_ratio", t->steal, t->total);
      } else {
        ++cores;
        AddDeltaRatio(out, "core." + std::string(f[0].substr(3)) + ".cpu_ratio", busy, t->total);
      }
    } else if (f.size() >= 2 && (f[0] == "procs_running" || f[0] == "procs_blocked")) {
      if (auto v = ToNumber(f[1])) {
        // procs_running counts the thread reading this file; the run queue is the others.
        const double value = f[0] == "procs_running" ? std::max(0.0, *v - 1) : *v;
        out.metrics.push_back(Metric{f[0] == "procs_running" ? "run_queue" : "procs_blocked", value});
      }
    } else if (f.size() >= 2 && f[0] == "ctxt") {
      if (auto v = ToNumber(f[1])) rates_.AddRate(out.metrics, "context_switches_per_s", *v);
    }
  }
  if (cores == 0) return Fail("no cpu lines in " + proc_ + "/stat");
  out.metrics.push_back(Metric{"cores", static_cast<double>(cores)});
  return Ok();
}

void HostSource::ReadLoadavg(Reading& out) {
  auto text = Optional("loadavg");
  if (!text) return;
  auto f = SplitFields(*text);
  if (f.size() < 3) return;
  if (auto v = ToNumber(f[0])) out.metrics.push_back(Metric{"load1", *v});
  if (auto v = ToNumber(f[1])) out.metrics.push_back(Metric{"load5", *v});
  if (auto v = ToNumber(f[2])) out.metrics.push_back(Metric{"load15", *v});
}

void HostSource::ReadPressure(Reading& out) {
  bool any = false;
  for (std::string_view resource : {"cpu", "io", "memory"}) {
    auto text = Optional("pressure/" + std::string(resource));
    if (!text) continue;
    any = true;
    for (std::string_view line : SplitLines(*text)) {
      auto f = SplitFields(line);
      if (f.empty() || (f[0] != "some" && f[0] != "full")) continue;
      for (std::string_view field : f) {
        if (!field.starts_with("total=")) continue;
        // `total` is microseconds stalled; per second of wall time it is the stall fraction.
        auto us = ToNumber(field.substr(6));
        const std::string name = "psi." + std::string(resource) + "." + std::string(f[0]) + "_ratio";
        if (us) {
          if (auto rate = rates_.Rate(name, *us)) {
            out.metrics.push_back(Metric{name, std::clamp(*rate / 1e6, 0.0, 1.0)});
          }
        }
      }
    }
  }
  if (!any) out.attributes.emplace_back("psi", "unavailable: no " + proc_ + "/pressure (kernel without PSI)");
}

void HostSource::ReadMeminfo(Reading& out) {
  auto text = Optional("meminfo");
  if (!text) return;
  double total = 0, available = -1, swap_total = 0, swap_free = 0;
  for (std::string_view line : SplitLines(*text)) {
    auto f = SplitFields(line);
    if (f.size() < 2) continue;
    auto v = ToNumber(f[1]);
    if (!v) continue;
    const double bytes = *v * 1024;
    if (f[0] == "MemTotal:") total = bytes;
    if (f[0] == "MemAvailable:") available = bytes;
    if (f[0] == "SwapTotal:") swap_total = bytes;
    if (f[0] == "SwapFree:") swap_free = bytes;
  }
  if (available >= 0) {
    out.metrics.push_back(Metric{"mem_available_bytes", available});
    if (total > 0) out.metrics.push_back(Metric{"mem_available_ratio", available / total});
  }
  out.metrics.push_back(Metric{"swap_used_bytes", swap_total - swap_free});
}

void HostSource::ReadVmstat(Reading& out) {
  auto text = Optional("vmstat");
  if (!text) return;
  for (std::string_view line : SplitLines(*text)) {
    auto f = SplitFields(line);
    if (f.size() < 2) continue;
    if (f[0] != "pswpin" && f[0] != "pswpout") continue;
    if (auto v = ToNumber(f[1])) {
      rates_.AddRate(out.metrics, f[0] == "pswpin" ? "swap_in_pages_per_s" : "swap_out_pages_per_s", *v);
    }
  }
}

bool HostSource::IsWholeDisk(std::string_view name) const {
  if (name.starts_with("loop") || name.starts_with("ram") || name.starts_with("zram")) return false;
  struct stat st{};
  if (::stat((sys_ + "/block").c_str(), &st) != 0) return true;  // no sysfs (fixtures): keep all
  std::string entry(name);
  std::replace(entry.begin(), entry.end(), '/', '!');
  return ::stat((sys_ + "/block/" + entry).c_str(), &st) == 0;
}

void HostSource::ReadDiskstats(Reading& out) {
  auto text = Optional("diskstats");
  if (!text) return;
  const double interval_ms = rates_.interval_s() * 1000;
  double util_max = -1;
  for (std::string_view line : SplitLines(*text)) {
    auto f = SplitFields(line);
    if (f.size() < 14 || !IsWholeDisk(f[2])) continue;
    const std::string prefix = "disk." + std::string(f[2]) + ".";
    auto field = [&](size_t i) { return ToNumber(f[i]).value_or(0); };
    rates_.AddRate(out.metrics, prefix + "reads_per_s", field(3));
    rates_.AddRate(out.metrics, prefix + "writes_per_s", field(7));
    rates_.AddRate(out.metrics, prefix + "read_bytes_per_s", field(5) * 512);
    rates_.AddRate(out.metrics, prefix + "write_bytes_per_s", field(9) * 512);
    // Milliseconds spent doing I/O per millisecond is utilization; the time-weighted count
    // (field 13) per millisecond is the average queue length.
    auto busy = rates_.Delta(prefix + "#io_ms", field(12));
    auto weighted = rates_.Delta(prefix + "#weighted_ms", field(13));
    if (busy && interval_ms > 0) {
      const double util = std::clamp(*busy / interval_ms, 0.0, 1.0);
      out.metrics.push_back(Metric{prefix + "util_ratio", util});
      util_max = std::max(util_max, util);
    }
    if (weighted && interval_ms > 0) {
      out.metrics.push_back(Metric{prefix + "queue", *weighted / interval_ms});
    }
  }
  if (util_max >= 0) out.metrics.push_back(Metric{"disk_util_max_ratio", util_max});
}

void HostSource::ReadNetDev(Reading& out) {
  auto text = Optional("net/dev");
  if (!text) return;
  double drops = 0;
  bool any = false;
  for (std::string_view line : SplitLines(*text)) {
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    auto name = SplitFields(line.substr(0, colon));
    auto f = SplitFields(line.substr(colon + 1));
    if (name.size() != 1 || f.size() < 12) continue;
    const std::string prefix = "net." + std::string(name[0]) + ".";
    auto field = [&](size_t i) { return ToNumber(f[i]).value_or(0); };
    rates_.AddRate(out.metrics, prefix + "rx_bytes_per_s", field(0));
    rates_.AddRate(out.metrics, prefix + "rx_packets_per_s", field(1));
    rates_.AddRate(out.metrics, prefix + "rx_drops_per_s", field(3));
    rates_.AddRate(out.metrics, prefix + "tx_bytes_per_s", field(8));
    rates_.AddRate(out.metrics, prefix + "tx_packets_per_s", field(9));
    rates_.AddRate(out.metrics, prefix + "tx_drops_per_s", field(11));
    if (auto d = rates_.Rate(prefix + "#drops", field(3) + field(11))) {
      drops += *d;
      any = true;
    }
  }
  if (any) out.metrics.push_back(Metric{"net_drops_per_s", drops, MetricType::kRate});
}

// /proc/net/snmp and /proc/net/netstat: a "Prefix: Name Name..." line, then "Prefix: 1 2...".
void HostSource::ReadSnmp(const std::string& file, std::string_view prefix,
                          std::initializer_list<std::pair<std::string_view, std::string_view>> counters,
                          Reading& out) {
  auto text = Optional(file);
  if (!text) return;
  auto lines = SplitLines(*text);
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    auto names = SplitFields(lines[i]);
    auto values = SplitFields(lines[i + 1]);
    if (names.empty() || names[0] != prefix || values.empty() || values[0] != prefix) continue;
    for (size_t k = 1; k < names.size() && k < values.size(); ++k) {
      for (const auto& [field, metric] : counters) {
        if (names[k] != field) continue;
        if (auto v = ToNumber(values[k])) rates_.AddRate(out.metrics, std::string(metric), *v);
      }
    }
    return;
  }
}

Result<Reading> HostSource::Read(int64_t now_ns) {
  rates_.Begin(now_ns);
  Reading out;
  if (auto s = ReadStat(out); !s) {
    rates_.Reset();
    return std::unexpected(s.error());
  }
  ReadLoadavg(out);
  ReadPressure(out);
  ReadMeminfo(out);
  ReadVmstat(out);
  ReadDiskstats(out);
  ReadNetDev(out);
  ReadSnmp("net/snmp", "Tcp:", {{"RetransSegs", "tcp_retrans_segs_per_s"}, {"OutSegs", "tcp_out_segs_per_s"}},
           out);
  ReadSnmp("net/netstat", "TcpExt:",
           {{"ListenOverflows", "listen_overflows_per_s"}, {"ListenDrops", "listen_drops_per_s"}}, out);
  rates_.Prune();
  return out;
}

}  // namespace

std::unique_ptr<Source> MakeHostSource(const WatchSpec& spec, const SourceOptions& options) {
  return std::make_unique<HostSource>(spec, options);
}

}  // namespace headroom::collect
