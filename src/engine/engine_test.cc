// Engine behaviour against the embedded target started in-process on 127.0.0.1.
#include "engine/engine.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <functional>
#include <thread>

#include "engine/pacer.h"
#include "http/http.h"
#include "target/target.h"

namespace headroom::engine {
namespace {

constexpr int64_t kSec = 1'000'000'000;

std::unique_ptr<target::Server> StartTarget(target::Options o = {}) {
  auto s = target::Server::Start(o);
  EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().message);
  return s ? std::move(*s) : nullptr;
}

struct Harness {
  std::unique_ptr<RequestSource> source;
  Config config;
};

Harness Make(uint16_t port, const std::string& path) {
  Harness h;
  http::RequestSpec spec;
  spec.method = "GET";
  spec.path_and_query = path;
  spec.host = "127.0.0.1:" + std::to_string(port);
  h.source = MakeStaticSource("GET " + path, http::EncodeRequest(spec), false);
  auto addr = sys::Resolve("127.0.0.1", port);
  EXPECT_TRUE(addr.has_value());
  h.config.address = *addr;
  h.config.source = h.source.get();
  h.config.threads = 1;
  return h;
}

void OpenAt(Config& c, double rps, int64_t duration_ns) {
  c.model = Model::kOpen;
  c.rate_profile = {{duration_ns, rps, rps}};
  c.connections = 200;
}

int64_t ErrorsOf(const RunStats& s, ErrorClass c) { return s.counters.by_class[int(c)]; }

// For failure messages: every non-zero error class and the request counters.
std::string Describe(const RunStats& s) {
  std::string out = "ok=" + std::to_string(s.counters.ok) + " unfinished=" + std::to_string(s.counters.unfinished);
  for (int i = 0; i < kErrorClassCount; ++i) {
    if (s.counters.by_class[i]) out += std::string(" ") + ErrorClassName(ErrorClass(i)) + "=" + std::to_string(s.counters.by_class[i]);
  }
  return out;
}

TEST(PacerTest, UniformCountsMatchRateExactly) {
  Pacer p({{10 * kSec, 1000, 1000}}, Arrival::kUniform, 1, 0.0);
  int64_t n = 0, last = -1;
  for (int64_t t = p.Next(); t >= 0; t = p.Next()) {
    EXPECT_GE(t, last);
    last = t;
    ++n;
  }
  EXPECT_EQ(n, 10000);
}

TEST(PacerTest, RampCountsTheAreaUnderTheProfile) {
  // 0 -> 2000/s over 10 s is 10,000 arrivals, three quarters of them in the second half.
  Pacer p({{10 * kSec, 0, 2000}}, Arrival::kUniform, 1, 0.5);
  int64_t n = 0, second_half = 0;
  for (int64_t t = p.Next(); t >= 0; t = p.Next()) {
    ++n;
    if (t >= 5 * kSec) ++second_half;
  }
  EXPECT_NEAR(double(n), 10000, 1);
  EXPECT_NEAR(double(second_half), 7500, 2);
}

TEST(PacerTest, PoissonMeanRateAndExponentialGaps) {
  Pacer p({{100 * kSec, 1000, 1000}}, Arrival::kPoisson, 42, 0.0);
  int64_t n = 0, prev = 0, long_gaps = 0;
  for (int64_t t = p.Next(); t >= 0; t = p.Next()) {
    if (t - prev > 2'000'000) ++long_gaps;  // P(gap > 2 mean) = e^-2
    prev = t;
    ++n;
  }
  EXPECT_NEAR(double(n), 100000, 3 * std::sqrt(100000.0));
  EXPECT_NEAR(double(long_gaps) / double(n), std::exp(-2.0), 0.01);
}

// Runs until `enough(counters so far)` holds, checked once per second, then stops the run. A check
// then needs a number of responses, not a speed: a slow machine only takes longer. The 60 s
// bound only ends a run whose condition never comes (a failing test).
Result<RunStats> RunUntil(Config config, const std::function<bool(const Counters&)>& enough,
                          std::vector<int64_t>* seconds = nullptr) {
  std::atomic<bool> stop{false};
  config.stop = &stop;
  config.duration_ns = 60 * kSec;
  Counters total;
  return engine::Run(config, [&](const SecondStats& s) {
    if (seconds != nullptr) seconds->push_back(s.second);
    total.Add(s.counters);
    if (enough(total)) stop = true;
  });
}

TEST(EngineTest, OpenModelSendsTheRequestedCount) {
  auto server = StartTarget();
  Harness h = Make(server->port(), "/");
  OpenAt(h.config, 1000, 10 * kSec);
  auto stats = engine::Run(h.config, nullptr);
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->model, Model::kOpen);
  EXPECT_NEAR(double(stats->counters.intended), 10000, 100);
  EXPECT_NEAR(double(stats->counters.ok), 10000, 100);
  EXPECT_EQ(stats->counters.errors, 0);
  EXPECT_EQ(stats->response_time_us.Count(), stats->counters.completed);
  EXPECT_EQ(stats->service_time_us.Count(), stats->counters.completed);
}

TEST(EngineTest, PoissonArrivalsHoldTheMeanRate) {
  auto server = StartTarget();
  Harness h = Make(server->port(), "/");
  OpenAt(h.config, 2000, 5 * kSec);
  h.config.arrival = Arrival::kPoisson;
  h.config.threads = 2;
  auto stats = engine::Run(h.config, nullptr);
  ASSERT_TRUE(stats.has_value());
  EXPECT_NEAR(double(stats->counters.ok), 10000, 3 * std::sqrt(10000.0));
}

TEST(EngineTest, StalledServerCannotHideItsStall) {
  // Every 5 s the server freezes for 500 ms: 10% of arrivals wait 0..500 ms, uniformly.
  target::Options o;
  o.stall_ns = 500'000'000;
  o.stall_period_ns = 5 * kSec;
  auto server = StartTarget(o);
  Harness h = Make(server->port(), "/");
  OpenAt(h.config, 1000, 20 * kSec);
  h.config.connections = 1000;
  auto stats = engine::Run(h.config, nullptr);
  ASSERT_TRUE(stats.has_value());
  const Histogram& rt = stats->response_time_us;
  EXPECT_NEAR(double(rt.ValueAtPercentile(99)), 450'000, 45'000);
  EXPECT_NEAR(double(rt.ValueAtPercentile(99.9)), 495'000, 24'750);
  EXPECT_LT(rt.ValueAtPercentile(50), 1000);
  EXPECT_EQ(stats->counters.errors, 0);
}

TEST(EngineTest, ClosedModelKeepsConnectionsBusy) {
  auto server = StartTarget();
  Harness h = Make(server->port(), "/");
  h.config.model = Model::kClosed;
  h.config.connections = 8;
  h.config.duration_ns = 2 * kSec;
  std::vector<int64_t> seconds;
  auto stats = engine::Run(h.config, [&](const SecondStats& s) { seconds.push_back(s.second); });
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->model, Model::kClosed);
  EXPECT_GT(stats->counters.ok, 100);
  EXPECT_EQ(stats->counters.errors, 0);
  EXPECT_EQ(stats->counters.connections_opened, 8);
  ASSERT_GE(seconds.size(), 2u);
  for (size_t i = 0; i < seconds.size(); ++i) EXPECT_EQ(seconds[i], int64_t(i));
}

TEST(EngineTest, ReconnectsWhenTheServerClosesKeepAlive) {
  target::Options o;
  o.close_every = 3;
  auto server = StartTarget(o);
  Harness h = Make(server->port(), "/");
  h.config.connections = 4;
  h.config.duration_ns = kSec;
  auto stats = engine::Run(h.config, nullptr);
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->counters.errors, 0);
  EXPECT_GT(stats->counters.ok, 30);
  EXPECT_GE(stats->counters.connections_opened, stats->counters.ok / 3);
}

TEST(EngineTest, ServerErrorsAreClassified) {
  target::Options o;
  o.error_rate = 0.1;
  auto server = StartTarget(o);
  Harness h = Make(server->port(), "/");
  OpenAt(h.config, 1000, 2 * kSec);
  auto stats = engine::Run(h.config, nullptr);
  ASSERT_TRUE(stats.has_value());
  int64_t total = stats->counters.completed;
  EXPECT_NEAR(double(ErrorsOf(*stats, ErrorClass::kHttp5xx)), 0.1 * double(total), 0.02 * double(total));
  EXPECT_EQ(stats->counters.status_codes[500], ErrorsOf(*stats, ErrorClass::kHttp5xx));
  Harness h404 = Make(server->port(), "/status/404");
  h404.config.duration_ns = kSec / 2;
  h404.config.connections = 2;
  auto s404 = engine::Run(h404.config, nullptr);
  ASSERT_TRUE(s404.has_value());
  EXPECT_GT(ErrorsOf(*s404, ErrorClass::kHttp4xx), 0);
  EXPECT_EQ(s404->counters.ok, 0);
}

TEST(EngineTest, CloseMidResponseIsAReset) {
  target::Options o;
  o.mode = target::Mode::kCloseMidResponse;
  auto server = StartTarget(o);
  Harness h = Make(server->port(), "/");
  OpenAt(h.config, 200, 2 * kSec);
  auto stats = engine::Run(h.config, nullptr);
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->counters.ok, 0);
  EXPECT_NEAR(double(ErrorsOf(*stats, ErrorClass::kReset)), 400, 4) << Describe(*stats);
}

TEST(EngineTest, GarbageIsMalformed) {
  target::Options o;
  o.mode = target::Mode::kGarbage;
  auto server = StartTarget(o);
  Harness h = Make(server->port(), "/");
  OpenAt(h.config, 200, kSec);
  auto stats = engine::Run(h.config, nullptr);
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->counters.ok, 0);
  EXPECT_NEAR(double(ErrorsOf(*stats, ErrorClass::kMalformed)), 200, 2) << Describe(*stats);
}

// A response that comes while no request is in flight (here: before the first request) is a
// protocol error. Closed model with a think time longer than the run: after its first response a
// connection never sends again, so the server's answer to that request also arrives while nothing
// is in flight, whichever the client took for the answer. Either way every connection ends in one
// malformed_response and is replaced; before the fix the early bytes were taken as the answer and
// the late ones dropped, so the 4 connections lived on with no error counted.
TEST(EngineTest, ResponseWithNoRequestInFlightIsMalformed) {
  target::Options o;
  o.mode = target::Mode::kEarlyResponse;
  auto server = StartTarget(o);
  Harness h = Make(server->port(), "/");
  h.config.model = Model::kClosed;
  h.config.connections = 4;
  h.config.think_time_ns = 3600 * kSec;
  auto stats = RunUntil(h.config, [](const Counters& c) { return c.by_class[int(ErrorClass::kMalformed)] >= 20; });
  ASSERT_TRUE(stats.has_value());
  const int64_t malformed = ErrorsOf(*stats, ErrorClass::kMalformed);
  EXPECT_GE(malformed, 20) << Describe(*stats);
  EXPECT_EQ(stats->counters.errors, malformed) << Describe(*stats);
  // Every connection closed so far was closed for it; at most the last 4 are still open.
  EXPECT_GE(malformed, stats->counters.connections_opened - 4) << Describe(*stats);
  EXPECT_LE(malformed, stats->counters.connections_opened) << Describe(*stats);
}

TEST(EngineTest, RefusedConnectionsAreCountedAndTheRunEndsOnTime) {
  uint16_t port;
  {
    auto server = StartTarget();
    port = server->port();
  }  // stopped: nothing listens on port now
  Harness h = Make(port, "/");
  OpenAt(h.config, 500, 2 * kSec);
  auto stats = engine::Run(h.config, nullptr);
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->counters.ok, 0);
  EXPECT_NEAR(double(ErrorsOf(*stats, ErrorClass::kConnectRefused)), 1000, 10);
  EXPECT_LT(stats->elapsed_s, 4.0);
  // The closed model backs off instead of spinning, and still counts the failures.
  h.config.model = Model::kClosed;
  h.config.connections = 2;
  h.config.duration_ns = kSec;
  auto closed = engine::Run(h.config, nullptr);
  ASSERT_TRUE(closed.has_value());
  EXPECT_GT(ErrorsOf(*closed, ErrorClass::kConnectRefused), 10);
  EXPECT_LT(ErrorsOf(*closed, ErrorClass::kConnectRefused), 1000);
}

TEST(EngineTest, ServerThatNeverAnswersTimesOut) {
  target::Options o;
  o.mode = target::Mode::kNeverRespond;
  auto server = StartTarget(o);
  Harness h = Make(server->port(), "/");
  OpenAt(h.config, 100, 3 * kSec);
  h.config.timeout_ns = kSec;
  auto stats = engine::Run(h.config, nullptr);
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->counters.ok, 0);
  // Every request times out: the drain after the end lasts up to the timeout, so the last second's
  // requests reach theirs too.
  EXPECT_EQ(ErrorsOf(*stats, ErrorClass::kRequestTimeout), 300) << Describe(*stats);
  EXPECT_EQ(stats->counters.unfinished, 0);
  EXPECT_LT(stats->elapsed_s, 3.0 + 1.0 + 1.5);
}

TEST(EngineTest, StopFlagInterruptsTheRun) {
  auto server = StartTarget();
  Harness h = Make(server->port(), "/");
  OpenAt(h.config, 1000, 60 * kSec);
  std::atomic<bool> stop{false};
  h.config.stop = &stop;
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    stop = true;
  });
  auto stats = engine::Run(h.config, nullptr);
  stopper.join();
  ASSERT_TRUE(stats.has_value());
  EXPECT_TRUE(stats->interrupted);
  EXPECT_LT(stats->elapsed_s, 5.0);
  EXPECT_GT(stats->counters.ok, 100);
}

}  // namespace
}  // namespace headroom::engine
