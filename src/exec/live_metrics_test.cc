// LiveMetrics: what the executor feeds it comes out as Prometheus text that headroom's own parser
// reads back, with the sums the feed implies.
#include <gtest/gtest.h>

#include <map>

#include "exec/exec.h"

namespace headroom::exec {
namespace {

std::map<std::string, double> Parsed(const LiveMetrics& m) {
  auto families = collect::ParsePrometheusText(m.Exposition());
  EXPECT_TRUE(families) << (families ? "" : families.error().message);
  std::map<std::string, double> out;
  if (!families) return out;
  for (const collect::PromFamily& f : *families) {
    for (const collect::PromSample& s : f.samples) out[collect::PromSeriesName(s.name, s.labels)] = s.value;
  }
  return out;
}

engine::SecondStats Second(int64_t ok, int64_t http5xx, std::initializer_list<int64_t> times_us) {
  engine::SecondStats s;
  s.counters.intended = ok + http5xx;
  s.counters.completed = ok + http5xx;
  s.counters.ok = ok;
  s.counters.errors = http5xx;
  s.counters.by_class[size_t(engine::ErrorClass::kHttp5xx)] = http5xx;
  for (int64_t t : times_us) s.response_time_us.Record(t);
  return s;
}

TEST(LiveMetrics, BeforeAnythingRanEveryCounterIsZero) {
  LiveMetrics m;
  auto p = Parsed(m);
  EXPECT_EQ(p["headroom_requests_total"], 0);
  EXPECT_EQ(p["headroom_request_errors_total{class=\"connect_refused\"}"], 0);
  EXPECT_EQ(p["headroom_response_time_seconds_count"], 0);
  EXPECT_EQ(p["headroom_run_finished"], 0);
  EXPECT_EQ(p.count("headroom_generator_pacer_lateness_seconds{quantile=\"0.99\"}"), 0u);
}

TEST(LiveMetrics, SecondsAddUpAndTheHistogramIsCumulative) {
  LiveMetrics m;
  m.OnPhase("warm-up", "warm-up", 100);
  m.OnSecond(Second(3, 1, {200, 800, 3000, 40000}));
  m.OnSecond(Second(2, 0, {900, 2'000'000}));
  auto p = Parsed(m);
  EXPECT_EQ(p["headroom_requests_total"], 6);
  EXPECT_EQ(p["headroom_requests_ok_total"], 5);
  EXPECT_EQ(p["headroom_request_errors_total{class=\"http_5xx\"}"], 1);
  EXPECT_EQ(p["headroom_requests_intended_total"], 6);
  EXPECT_EQ(p["headroom_requested_rate"], 100);
  EXPECT_EQ(p["headroom_achieved_rate"], 2);  // the last second
  EXPECT_EQ(p["headroom_phase{phase=\"warm-up\",step=\"warm-up\"}"], 1);
  // 200us, 800us, 900us <= 1ms; 3ms <= 5ms; 40ms <= 50ms; 2s <= 2.5s.
  EXPECT_EQ(p["headroom_response_time_seconds_bucket{le=\"0.00050000000000000001\"}"], 1);
  EXPECT_EQ(p["headroom_response_time_seconds_bucket{le=\"0.001\"}"], 3);
  EXPECT_EQ(p["headroom_response_time_seconds_bucket{le=\"0.0050000000000000001\"}"], 4);
  EXPECT_EQ(p["headroom_response_time_seconds_bucket{le=\"0.050000000000000003\"}"], 5);
  EXPECT_EQ(p["headroom_response_time_seconds_bucket{le=\"1\"}"], 5);
  EXPECT_EQ(p["headroom_response_time_seconds_bucket{le=\"2.5\"}"], 6);
  EXPECT_EQ(p["headroom_response_time_seconds_bucket{le=\"+Inf\"}"], 6);
  EXPECT_EQ(p["headroom_response_time_seconds_count"], 6);
  EXPECT_NEAR(p["headroom_response_time_seconds_sum"], 2.0449, 0.005);
}

TEST(LiveMetrics, RequestNamesTiersAndTheEnd) {
  LiveMetrics m;
  engine::RunStats stats;
  engine::RequestStats home;
  home.name = "home \"quoted\"";
  home.counters.ok = 7;
  home.counters.errors = 2;
  stats.requests.push_back(home);
  for (int i = 1; i <= 100; ++i) stats.pacer_lateness_us.Record(i * 10);
  m.OnEngineRun(stats);
  m.OnEngineRun(stats);  // a second phase adds up
  collect::Reading reading;
  reading.metrics = {{"cpu_ratio", 0.5, collect::MetricType::kGauge}, {"core.0.cpu_ratio", 0.9, collect::MetricType::kGauge}};
  m.OnTierSample({"app", "host", 1.0, &reading, ""});
  m.OnTierSample({"db", "postgres:host=x password=***", 1.0, nullptr, "refused"});
  m.OnRunEnd("FAIL");
  auto p = Parsed(m);
  EXPECT_EQ(p["headroom_requests_by_name_total{request=\"home \\\"quoted\\\"\"}"], 18);
  EXPECT_EQ(p["headroom_request_errors_by_name_total{request=\"home \\\"quoted\\\"\"}"], 4);
  EXPECT_EQ(p["headroom_generator_pacer_lateness_seconds{quantile=\"0.99\"}"], 0.00099);
  EXPECT_EQ(p["headroom_tier_metric{tier=\"app\",source=\"host\",metric=\"cpu_ratio\"}"], 0.5);
  EXPECT_EQ(p.count("headroom_tier_metric{tier=\"app\",source=\"host\",metric=\"core.0.cpu_ratio\"}"), 0u);
  EXPECT_EQ(p["headroom_tier_read_failures_total{tier=\"db\",source=\"postgres:host=x password=***\"}"], 1);
  EXPECT_EQ(p["headroom_run_finished{verdict=\"FAIL\"}"], 1);
}

}  // namespace
}  // namespace headroom::exec
