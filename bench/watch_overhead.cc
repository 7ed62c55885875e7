// The watcher's own cost: five sources at 1 Hz (host, process:postgres, postgres, redis and a
// node exporter, all real and on loopback) for SECONDS (default 60). Prints the watcher thread's
// CPU time per minute (getrusage-equivalent thread CPU clock), as a share of one core, and this
// process's RSS at the start and the end of the sampling (memory must stay flat).
#include <libpq-fe.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "collect/collect.h"
#include "collect/test_servers.h"
#include "core/clock.h"
#include "sys/sys.h"

using namespace headroom;

int main(int argc, char** argv) {
  const int seconds = argc > 1 ? std::atoi(argv[1]) : 60;
  auto pg = collect::testing::StartPostgres();
  auto redis = collect::testing::StartRedis();
  auto exporter = collect::testing::StartNodeExporter();
  if (!pg || !redis || !exporter) {
    std::fprintf(stderr, "watch_overhead: a server did not start: %s\n",
                 (!pg ? pg.error() : !redis ? redis.error() : exporter.error()).message.c_str());
    return 2;
  }
  // With pg_stat_statements, the heaviest query the postgres source runs.
  PGconn* c = PQconnectdb(collect::testing::PostgresConninfo(**pg).c_str());
  PQclear(PQexec(c, "CREATE EXTENSION pg_stat_statements"));
  PQfinish(c);
  const std::string port = std::to_string((*exporter)->port());
  auto tier = collect::ParseTierSpec(
      "all", "other",
      {"host", "process:postgres", "postgres:" + collect::testing::PostgresConninfo(**pg),
       "redis:127.0.0.1:" + std::to_string((*redis)->port()), "prometheus:http://127.0.0.1:" + port + "/metrics"});
  if (!tier) {
    std::fprintf(stderr, "watch_overhead: %s\n", tier.error().message.c_str());
    return 2;
  }
  collect::WatcherOptions options;
  options.on_message = [](const std::string& m) { std::fprintf(stderr, "watch_overhead: %s\n", m.c_str()); };
  int64_t samples = 0;
  options.sink = [&](const collect::SampleRecord&) { ++samples; };
  auto watcher = collect::Watcher::Start({*tier}, std::move(options));
  if (!watcher) return 2;
  std::this_thread::sleep_for(std::chrono::seconds(2));  // past the first samples (connects, priming)
  const double cpu0 = (*watcher)->ThreadCpuSeconds();
  const int64_t rss0 = sys::ReadSelfUsage().rss_bytes;
  const int64_t t0 = MonoNowNs();
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  const double cpu1 = (*watcher)->ThreadCpuSeconds();
  const double wall = static_cast<double>(MonoNowNs() - t0) / 1e9;
  const int64_t rss1 = sys::ReadSelfUsage().rss_bytes;
  (*watcher)->Stop();
  const double per_minute = (cpu1 - cpu0) / wall * 60;
  std::printf("watcher: 5 sources at 1 Hz for %.0f s, %lld samples: %.3f CPU s per minute = %.3f%% of one core\n",
              wall, static_cast<long long>(samples), per_minute, per_minute / 60 * 100);
  std::printf("rss: %.1f MiB at start, %.1f MiB at end\n", rss0 / 1048576.0, rss1 / 1048576.0);
  return 0;
}
