// The process source: every process whose name (comm or argv[0] basename) matches, or one pid,
// summed: CPU, threads, runnable threads, RSS, open files, context switches and storage I/O.
#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>

#include "collect/internal.h"

namespace headroom::collect {
namespace {

bool IsPid(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

std::vector<std::string> ListDir(const std::string& path) {
  std::vector<std::string> out;
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) return out;
  while (dirent* e = ::readdir(dir)) {
    if (e->d_name[0] != '.') out.emplace_back(e->d_name);
  }
  ::closedir(dir);
  return out;
}

// "Key:   value kB" lines of /proc/PID/status and /proc/PID/io.
std::optional<double> KeyedValue(std::string_view text, std::string_view key) {
  for (std::string_view line : SplitLines(text)) {
    if (!line.starts_with(key) || line.size() <= key.size() || line[key.size()] != ':') continue;
    auto f = SplitFields(line.substr(key.size() + 1));
    if (f.empty()) return std::nullopt;
    return ToNumber(f[0]);
  }
  return std::nullopt;
}

// Fields after the command name of /proc/PID/stat (the name may hold spaces and parentheses).
std::vector<std::string_view> StatFields(std::string_view text) {
  const size_t close = text.rfind(')');
  if (close == std::string_view::npos) return {};
  return SplitFields(text.substr(close + 1));  // [0] = state (field 3), [11] = utime (field 14)
}

struct ProcessTotals {
  double processes = 0, threads = 0, runnable = 0, rss_bytes = 0, fds = 0, fd_ratio_max = 0;
};

class ProcessSource final : public Source {
 public:
  ProcessSource(const WatchSpec& spec, const SourceOptions& options)
      : label_(spec.label), target_(spec.arg), by_pid_(IsPid(spec.arg)), proc_(options.proc_root) {
    ticks_per_s_ = static_cast<double>(::sysconf(_SC_CLK_TCK));
  }
  SourceKind kind() const override { return SourceKind::kProcess; }
  const std::string& label() const override { return label_; }
  Result<Reading> Read(int64_t now_ns) override;

 private:
  bool Matches(const std::string& pid) const;
  // Adds one process; false when it vanished while being read.
  bool AddProcess(const std::string& pid, ProcessTotals& totals, double sums[6]);
  int CountCores() const;

  std::string label_, target_;
  bool by_pid_;
  std::string proc_;
  double ticks_per_s_ = 100;
  RateTracker rates_;
};

bool ProcessSource::Matches(const std::string& pid) const {
  if (by_pid_) return pid == target_;
  auto comm = ReadTextFile(proc_ + "/" + pid + "/comm");
  if (!comm) return false;
  std::string_view name = *comm;
  while (!name.empty() && name.back() == '\n') name.remove_suffix(1);
  if (name == target_) return true;
  // comm is cut at 15 characters; argv[0]'s basename gives the full program name.
  auto cmdline = ReadTextFile(proc_ + "/" + pid + "/cmdline");
  if (!cmdline || cmdline->empty()) return false;
  std::string_view argv0 = std::string_view(*cmdline).substr(0, cmdline->find('\0'));
  argv0 = argv0.substr(argv0.rfind('/') == std::string_view::npos ? 0 : argv0.rfind('/') + 1);
  // Some servers rewrite argv[0] into "postgres: checkpointer"; the first word is the program.
  argv0 = argv0.substr(0, argv0.find_first_of(": "));
  return argv0 == target_;
}

int ProcessSource::CountCores() const {
  auto text = ReadTextFile(proc_ + "/stat");
  int cores = 0;
  if (text) {
    for (std::string_view line : SplitLines(*text)) {
      if (line.starts_with("cpu") && line.size() > 3 && std::isdigit(static_cast<unsigned char>(line[3]))) ++cores;
    }
  }
  return cores > 0 ? cores : static_cast<int>(std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN)));
}

// sums: cpu ticks, voluntary and involuntary switches, read and write bytes (deltas), unused.
bool ProcessSource::AddProcess(const std::string& pid, ProcessTotals& totals, double sums[6]) {
  const std::string dir = proc_ + "/" + pid;
  auto stat = ReadTextFile(dir + "/stat");
  auto status = ReadTextFile(dir + "/status");
  if (!stat || !status) return false;
  auto f = StatFields(*stat);
  if (f.size() < 13) return false;
  totals.processes += 1;
  if (auto d = rates_.Delta(pid + "/cpu", ToNumber(f[11]).value_or(0) + ToNumber(f[12]).value_or(0))) sums[0] += *d;
  totals.rss_bytes += KeyedValue(*status, "VmRSS").value_or(0) * 1024;
  double voluntary = 0, involuntary = 0;
  const std::vector<std::string> tasks = ListDir(dir + "/task");
  totals.threads += tasks.empty() ? KeyedValue(*status, "Threads").value_or(1) : static_cast<double>(tasks.size());
  // Context switches in /proc/PID/status are the main thread's only: sum the threads'.
  for (const std::string& tid : tasks) {
    auto task_stat = ReadTextFile(dir + "/task/" + tid + "/stat");
    auto task_status = ReadTextFile(dir + "/task/" + tid + "/status");
    if (task_stat) {
      auto tf = StatFields(*task_stat);
      if (!tf.empty() && tf[0] == "R") totals.runnable += 1;
    }
    if (task_status) {
      voluntary += KeyedValue(*task_status, "voluntary_ctxt_switches").value_or(0);
      involuntary += KeyedValue(*task_status, "nonvoluntary_ctxt_switches").value_or(0);
    }
  }
  if (tasks.empty()) {
    if (f[0] == "R") totals.runnable += 1;
    voluntary = KeyedValue(*status, "voluntary_ctxt_switches").value_or(0);
    involuntary = KeyedValue(*status, "nonvoluntary_ctxt_switches").value_or(0);
  }
  if (auto d = rates_.Delta(pid + "/vcs", voluntary)) sums[1] += *d;
  if (auto d = rates_.Delta(pid + "/ics", involuntary)) sums[2] += *d;
  if (auto io = ReadTextFile(dir + "/io")) {
    if (auto d = rates_.Delta(pid + "/rb", KeyedValue(*io, "read_bytes").value_or(0))) sums[3] += *d;
    if (auto d = rates_.Delta(pid + "/wb", KeyedValue(*io, "write_bytes").value_or(0))) sums[4] += *d;
  }
  const double fds = static_cast<double>(ListDir(dir + "/fd").size());
  totals.fds += fds;
  if (auto limits = ReadTextFile(dir + "/limits")) {
    for (std::string_view line : SplitLines(*limits)) {
      if (!line.starts_with("Max open files")) continue;
      auto lf = SplitFields(line.substr(14));
      if (auto soft = lf.empty() ? std::nullopt : ToNumber(lf[0]); soft && *soft > 0) {
        totals.fd_ratio_max = std::max(totals.fd_ratio_max, fds / *soft);
      }
    }
  }
  return true;
}

Result<Reading> ProcessSource::Read(int64_t now_ns) {
  const double interval_s = rates_.Begin(now_ns);
  std::vector<std::string> pids;
  if (by_pid_) {
    pids.push_back(target_);
  } else {
    for (const std::string& entry : ListDir(proc_)) {
      if (IsPid(entry) && Matches(entry)) pids.push_back(entry);
    }
  }
  ProcessTotals totals;
  double sums[6] = {};
  for (const std::string& pid : pids) AddProcess(pid, totals, sums);
  rates_.Prune();
  if (totals.processes == 0) {
    rates_.Reset();
    return Fail(by_pid_ ? "process " + target_ + " is gone" : "no process named '" + target_ + "'");
  }
  Reading out;
  out.metrics = {{"processes", totals.processes},      {"threads", totals.threads},
                 {"runnable_threads", totals.runnable}, {"rss_bytes", totals.rss_bytes},
                 {"fds", totals.fds},                   {"fd_ratio", totals.fd_ratio_max}};
  if (interval_s > 0) {
    const double cores_used = sums[0] / ticks_per_s_ / interval_s;
    out.metrics.push_back(Metric{"cpu_cores", cores_used});
    out.metrics.push_back(Metric{"cpu_ratio", cores_used / CountCores()});
    out.metrics.push_back(Metric{"voluntary_switches_per_s", sums[1] / interval_s, MetricType::kRate});
    out.metrics.push_back(Metric{"involuntary_switches_per_s", sums[2] / interval_s, MetricType::kRate});
    out.metrics.push_back(Metric{"read_bytes_per_s", sums[3] / interval_s, MetricType::kRate});
    out.metrics.push_back(Metric{"write_bytes_per_s", sums[4] / interval_s, MetricType::kRate});
  }
  return out;
}

}  // namespace

std::unique_ptr<Source> MakeProcessSource(const WatchSpec& spec, const SourceOptions& options) {
  return std::make_unique<ProcessSource>(spec, options);
}

}  // namespace headroom::collect
