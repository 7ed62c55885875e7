// Real servers for the collector tests: target's local PostgreSQL 15, Redis 7 and Prometheus
// node exporter (target/target.h), with REQUIRE_SERVER: a server that cannot start fails the test
// under CI=true and skips it otherwise. Test-only.
#pragma once
#include <cstdlib>
#include <string>

#include "target/target.h"

namespace headroom::collect::testing {

using ServerProcess = target::LocalServer;
inline constexpr const char* kPostgresPassword = target::kLocalPostgresPassword;
using target::PostgresConninfo;
using target::StartNodeExporter;
using target::StartPostgres;
using target::StartRedis;

inline bool InCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

}  // namespace headroom::collect::testing

#define REQUIRE_SERVER(result)                                                                  \
  do {                                                                                          \
    if (!(result)) {                                                                            \
      if (::headroom::collect::testing::InCi()) FAIL() << "server did not start: " << (result).error().message; \
      GTEST_SKIP() << "server did not start: " << (result).error().message;                     \
    }                                                                                           \
  } while (0)
