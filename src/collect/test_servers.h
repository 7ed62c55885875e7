// Real servers for the collector tests: PostgreSQL 15 (under an unprivileged user, since it
// refuses root), Redis 7 and the Prometheus node exporter, each started in a temporary directory
// on a free loopback port and stopped by PID when the object goes. Test-only.
//
// Start* returns an Error with the reason when the server cannot start (not installed, no
// unprivileged user...). REQUIRE_SERVER turns that into a failure under CI=true and a skip
// otherwise.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"

namespace headroom::collect::testing {

class ServerProcess {
 public:
  ServerProcess(pid_t pid, std::string dir, uint16_t port) : pid_(pid), dir_(std::move(dir)), port_(port) {}
  ~ServerProcess();  // SIGTERM (SIGINT for postgres: fast shutdown), wait, SIGKILL after 10 s; removes dir
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;
  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  void set_pid(pid_t pid) { pid_ = pid; }
  const std::string& dir() const { return dir_; }
  int stop_signal = 15;

 private:
  pid_t pid_;
  std::string dir_;
  uint16_t port_;
};

constexpr const char* kPostgresPassword = "s3cret-pw";

// PostgreSQL 15 with pg_stat_statements preloaded, autovacuum off, user "postgres" with password
// kPostgresPassword (scram over TCP). Conninfo: "host=127.0.0.1 port=N user=postgres dbname=postgres".
Result<std::unique_ptr<ServerProcess>> StartPostgres();
// "host=127.0.0.1 port=N user=postgres dbname=postgres password=..." for a started server.
std::string PostgresConninfo(const ServerProcess& server, bool with_password = true);
Result<std::unique_ptr<ServerProcess>> StartRedis();
Result<std::unique_ptr<ServerProcess>> StartNodeExporter();

bool InCi();

}  // namespace headroom::collect::testing

#define REQUIRE_SERVER(result)                                                                  \
  do {                                                                                          \
    if (!(result)) {                                                                            \
      if (::headroom::collect::testing::InCi()) FAIL() << "server did not start: " << (result).error().message; \
      GTEST_SKIP() << "server did not start: " << (result).error().message;                     \
    }                                                                                           \
  } while (0)
