// The host and process sources against fixture procfs trees (two snapshots one second apart,
// expected values worked out by hand in the comments) and against this test's own process.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <thread>

#include "collect/collect.h"
#include "core/clock.h"
#include "slo/slo.h"

namespace headroom::collect {
namespace {

namespace fs = std::filesystem;

const fs::path kFixtures = fs::path(HEADROOM_SOURCE_DIR) / "src/collect/testdata/host";

std::map<std::string, double> ByName(const Reading& r) {
  std::map<std::string, double> out;
  for (const Metric& m : r.metrics) out[m.name] = m.value;
  return out;
}

// A temporary procfs root holding snapshot t0, then t1 after Advance().
class FixtureRoot {
 public:
  FixtureRoot() : root_(fs::temp_directory_path() / ("headroom-proc-" + std::to_string(::getpid()))) {
    fs::remove_all(root_);
    fs::copy(kFixtures / "t0", root_, fs::copy_options::recursive);
  }
  ~FixtureRoot() { fs::remove_all(root_); }
  void Advance() {
    fs::remove_all(root_);
    fs::copy(kFixtures / "t1", root_, fs::copy_options::recursive);
  }
  std::string path() const { return root_.string(); }

 private:
  fs::path root_;
};

Reading ReadTwice(Source& source, FixtureRoot& root) {
  auto first = source.Read(1'000'000'000);
  EXPECT_TRUE(first.has_value()) << (first ? "" : first.error().message);
  root.Advance();
  auto second = source.Read(2'000'000'000);  // exactly one second later
  EXPECT_TRUE(second.has_value()) << (second ? "" : second.error().message);
  return second ? *second : Reading{};
}

TEST(HostSource, FixtureDeltasOverOneSecond) {
  FixtureRoot root;
  SourceOptions options{.proc_root = root.path(), .sys_root = (kFixtures / "sys").string()};
  auto source = MakeSource(*ParseWatchSpec("host"), options);
  const auto m = ByName(ReadTwice(*source, root));
  // cpu: busy (total - idle - iowait) 150 -> 550 of total 1000 -> 2000 jiffies.
  EXPECT_DOUBLE_EQ(m.at("cpu_ratio"), 0.4);
  EXPECT_DOUBLE_EQ(m.at("cpu_iowait_ratio"), 0.1);
  EXPECT_DOUBLE_EQ(m.at("core.0.cpu_ratio"), 0.65);  // 75 -> 400 busy of 500 -> 1000
  EXPECT_DOUBLE_EQ(m.at("core.1.cpu_ratio"), 0.15);  // 75 -> 150 of 500 -> 1000
  EXPECT_DOUBLE_EQ(m.at("cores"), 2);
  EXPECT_DOUBLE_EQ(m.at("run_queue"), 4);  // procs_running 5 includes the reader
  EXPECT_DOUBLE_EQ(m.at("procs_blocked"), 1);
  EXPECT_DOUBLE_EQ(m.at("context_switches_per_s"), 5000);
  EXPECT_DOUBLE_EQ(m.at("load1"), 1.5);
  EXPECT_DOUBLE_EQ(m.at("psi.cpu.some_ratio"), 0.25);  // 250000 us stalled in 1 s
  EXPECT_DOUBLE_EQ(m.at("psi.io.some_ratio"), 0.1);
  EXPECT_DOUBLE_EQ(m.at("psi.io.full_ratio"), 0.05);
  EXPECT_DOUBLE_EQ(m.at("psi.memory.full_ratio"), 0);
  EXPECT_DOUBLE_EQ(m.at("mem_available_bytes"), 2000000.0 * 1024);
  EXPECT_DOUBLE_EQ(m.at("mem_available_ratio"), 0.25);
  EXPECT_DOUBLE_EQ(m.at("swap_used_bytes"), 250000.0 * 1024);
  EXPECT_DOUBLE_EQ(m.at("swap_in_pages_per_s"), 10);
  // sda: 200 reads, 2048 sectors read, io time 500 of 1000 ms, weighted time 1500 ms.
  EXPECT_DOUBLE_EQ(m.at("disk.sda.reads_per_s"), 200);
  EXPECT_DOUBLE_EQ(m.at("disk.sda.read_bytes_per_s"), 2048.0 * 512);
  EXPECT_DOUBLE_EQ(m.at("disk.sda.write_bytes_per_s"), 2048.0 * 512);
  EXPECT_DOUBLE_EQ(m.at("disk.sda.util_ratio"), 0.5);
  EXPECT_DOUBLE_EQ(m.at("disk.sda.queue"), 1.5);
  EXPECT_DOUBLE_EQ(m.at("disk_util_max_ratio"), 0.5);
  EXPECT_EQ(m.count("disk.sda1.util_ratio"), 0u) << "partitions are not whole disks";
  EXPECT_EQ(m.count("disk.loop0.util_ratio"), 0u);
  EXPECT_DOUBLE_EQ(m.at("net.eth0.rx_bytes_per_s"), 10000);
  EXPECT_DOUBLE_EQ(m.at("net.eth0.rx_packets_per_s"), 100);
  EXPECT_DOUBLE_EQ(m.at("net.eth0.rx_drops_per_s"), 3);
  EXPECT_DOUBLE_EQ(m.at("net.eth0.tx_bytes_per_s"), 50000);
  EXPECT_DOUBLE_EQ(m.at("net.lo.rx_bytes_per_s"), 0);
  EXPECT_DOUBLE_EQ(m.at("net_drops_per_s"), 3);
  EXPECT_DOUBLE_EQ(m.at("tcp_retrans_segs_per_s"), 20);
  EXPECT_DOUBLE_EQ(m.at("tcp_out_segs_per_s"), 2000);
  EXPECT_DOUBLE_EQ(m.at("listen_overflows_per_s"), 5);
  EXPECT_DOUBLE_EQ(m.at("listen_drops_per_s"), 6);
}

// The SLO catalogue's host and process metrics are ones these sources produce.
TEST(HostSource, ProducesEveryGateableMetric) {
  for (std::string_view kind : {"host", "process"}) {
    FixtureRoot root;
    auto source = MakeSource(*ParseWatchSpec(kind == "host" ? "host" : "process:postgres"),
                             SourceOptions{.proc_root = root.path(), .sys_root = (kFixtures / "sys").string()});
    const auto m = ByName(ReadTwice(*source, root));
    for (const slo::TierMetricInfo& info : slo::TierMetrics()) {
      for (const slo::TierMetricSource& s : info.sources) {
        if (s.source_kind == kind) {
          EXPECT_EQ(m.count(std::string(s.metric)), 1u) << kind << ": " << s.metric;
        }
      }
    }
  }
}

TEST(HostSource, FirstReadHasGaugesOnly) {
  FixtureRoot root;
  auto source = MakeSource(*ParseWatchSpec("host"), SourceOptions{.proc_root = root.path()});
  auto first = source->Read(1'000'000'000);
  ASSERT_TRUE(first.has_value());
  const auto m = ByName(*first);
  EXPECT_EQ(m.count("cpu_ratio"), 0u);
  EXPECT_DOUBLE_EQ(m.at("mem_available_ratio"), 0.25);
}

TEST(HostSource, MissingProcIsAnError) {
  auto source = MakeSource(*ParseWatchSpec("host"), SourceOptions{.proc_root = "/nonexistent-proc"});
  auto r = source->Read(1);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "cannot read /nonexistent-proc/stat: No such file or directory");
}

TEST(HostSource, RealProcReadsTwice) {
  auto source = MakeSource(*ParseWatchSpec("host"));
  ASSERT_TRUE(source->Read(MonoNowNs()).has_value());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // a real interval to measure over
  auto r = source->Read(MonoNowNs());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  const auto m = ByName(*r);
  ASSERT_EQ(m.count("cpu_ratio"), 1u);
  EXPECT_GE(m.at("cpu_ratio"), 0);
  EXPECT_LE(m.at("cpu_ratio"), 1);
  EXPECT_GT(m.at("mem_available_bytes"), 0);
  EXPECT_EQ(m.count("net.lo.rx_bytes_per_s"), 1u);
}

TEST(ProcessSource, FixtureSumsEveryMatchingProcess) {
  FixtureRoot root;
  auto source = MakeSource(*ParseWatchSpec("process:postgres"), SourceOptions{.proc_root = root.path()});
  const auto m = ByName(ReadTwice(*source, root));
  EXPECT_DOUBLE_EQ(m.at("processes"), 2);  // 4242 and 4244; 4243 is another program
  EXPECT_DOUBLE_EQ(m.at("threads"), 3);    // 4242 has tasks 4242 and 4250
  EXPECT_DOUBLE_EQ(m.at("runnable_threads"), 1);
  EXPECT_DOUBLE_EQ(m.at("rss_bytes"), (10240.0 + 1024) * 1024);
  EXPECT_DOUBLE_EQ(m.at("fds"), 5);
  EXPECT_DOUBLE_EQ(m.at("fd_ratio"), 0.5);  // 4 of a soft limit of 8
  // utime+stime: 4242 200 -> 300 ticks, 4244 10 -> 60: 150 ticks in 1 s at 100 ticks/s.
  const double hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
  EXPECT_DOUBLE_EQ(m.at("cpu_cores"), 150 / hz);
  EXPECT_DOUBLE_EQ(m.at("cpu_ratio"), 150 / hz / 2);
  // Threads' switches, not the main thread's status line: 100 + 20 + 30 and 5 + 5.
  EXPECT_DOUBLE_EQ(m.at("voluntary_switches_per_s"), 150);
  EXPECT_DOUBLE_EQ(m.at("involuntary_switches_per_s"), 10);
  EXPECT_DOUBLE_EQ(m.at("read_bytes_per_s"), 8192);
  EXPECT_DOUBLE_EQ(m.at("write_bytes_per_s"), 0);
}

TEST(ProcessSource, LongNamesMatchThroughArgv0) {
  FixtureRoot root;
  auto source = MakeSource(*ParseWatchSpec("process:a-very-long-program-name"), SourceOptions{.proc_root = root.path()});
  auto r = source->Read(1);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_DOUBLE_EQ(ByName(*r).at("processes"), 1);
}

TEST(ProcessSource, NoMatchAndGonePidAreErrors) {
  FixtureRoot root;
  auto by_name = MakeSource(*ParseWatchSpec("process:nginx"), SourceOptions{.proc_root = root.path()});
  EXPECT_EQ(by_name->Read(1).error().message, "no process named 'nginx'");
  auto by_pid = MakeSource(*ParseWatchSpec("process:99999"), SourceOptions{.proc_root = root.path()});
  EXPECT_EQ(by_pid->Read(1).error().message, "process 99999 is gone");
}

TEST(ProcessSource, OwnProcessByPidAndByName) {
  std::atomic<bool> stop{false};
  std::thread spinner([&] {
    while (!stop.load(std::memory_order_relaxed)) {
    }
  });
  for (const std::string& spec : {"process:" + std::to_string(::getpid()), std::string("process:collect_test")}) {
    auto source = MakeSource(*ParseWatchSpec(spec));
    ASSERT_TRUE(source->Read(MonoNowNs()).has_value()) << spec;
    // Burn CPU on this thread until the spinner and this loop have used measurable time.
    const int64_t until = MonoNowNs() + 200'000'000;
    volatile uint64_t sink = 0;
    while (MonoNowNs() < until) sink = sink + 1;
    auto r = source->Read(MonoNowNs());
    ASSERT_TRUE(r.has_value()) << spec << ": " << r.error().message;
    const auto m = ByName(*r);
    EXPECT_GE(m.at("processes"), 1) << spec;
    EXPECT_GE(m.at("threads"), 2) << spec;
    EXPECT_GT(m.at("cpu_cores"), 0) << spec;  // two busy threads
    EXPECT_GT(m.at("rss_bytes"), 1 << 20) << spec;
    EXPECT_GE(m.at("fds"), 3) << spec;
  }
  stop = true;
  spinner.join();
}

}  // namespace
}  // namespace headroom::collect
