// The terminal summary's advice: "raise --connections" only when it is true.
#include <gtest/gtest.h>

#include "report/summary.h"

namespace headroom::report {
namespace {

// An open-model run of 10,000 requests; `waited` of them waited at the connection cap.
Results MakeRun(int64_t waited, int64_t service_p99_us, int64_t response_p99_us, int64_t errors = 0) {
  Results r;
  r.model = LoadModel::kOpen;
  r.connections = 100;
  r.overall.requests_total = 10'000;
  r.overall.requests_errors = errors;
  r.overall.requests_ok = 10'000 - errors;
  r.overall.service_time_us.RecordN(service_p99_us, 10'000);
  r.overall.response_time_us.RecordN(response_p99_us, 10'000);
  r.generator.pacer_lateness_us.RecordN(10, 10'000);
  r.generator.delayed = waited;
  r.generator.waited_at_cap = waited;
  return r;
}

TEST(ConnectionAdvice, GivenWhenRequestsQueuedAtTheCapWhileTheServerKeptUp) {
  Results r = MakeRun(500, 2'000, 80'000);
  EXPECT_TRUE(ConnectionCapLimited(r));
  EXPECT_NE(FormatSummary(r).find("raise --connections"), std::string::npos);
}

TEST(ConnectionAdvice, NotGivenWhenConnectionsWereOnlyReopened) {
  // A server that closes every connection: many requests waited for a new connection, none at the cap.
  Results r = MakeRun(0, 2'000, 80'000);
  r.generator.delayed = 9'000;
  EXPECT_FALSE(ConnectionCapLimited(r));
  EXPECT_EQ(FormatSummary(r).find("raise --connections"), std::string::npos);
}

TEST(ConnectionAdvice, NotGivenWhenTheServerIsTheBottleneck) {
  EXPECT_FALSE(ConnectionCapLimited(MakeRun(500, 70'000, 80'000)));  // the server's own time dominates
  EXPECT_FALSE(ConnectionCapLimited(MakeRun(500, 2'000, 80'000, 1'000)));  // 10% errors
  EXPECT_FALSE(ConnectionCapLimited(MakeRun(50, 2'000, 80'000)));  // 0.5%: noise
  Results closed = MakeRun(500, 2'000, 80'000);
  closed.model = LoadModel::kClosed;
  EXPECT_FALSE(ConnectionCapLimited(closed));
}

}  // namespace
}  // namespace headroom::report
