// Engine behaviour against the embedded target started in-process on 127.0.0.1.
#include "engine/engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <thread>

#include "engine/pacer.h"
#include "http/http.h"
#include "target/target.h"

namespace headroom::engine {
namespace {

constexpr int64_t kSec = 1'000'000'000;

// The I/O path of the engine tests' runs: every EngineTest runs on both (the fixture sets it).
Io g_io = Io::kEpoll;

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
  h.config.io = g_io;
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

// N shards of T workers each (T may differ per shard) send exactly the arrivals of one pacer at the
// full rate: the union of their schedules is the single-process schedule.
TEST(PacerTest, ShardsInterleaveIntoTheSingleProcessSchedule) {
  const double rate = 1200;
  const int64_t duration = 2 * kSec;
  std::vector<int64_t> whole;
  Pacer one({{duration, rate, rate}}, Arrival::kUniform, 1, 0.0);
  for (int64_t t; (t = one.Next()) >= 0;) whole.push_back(t);
  for (int shards : {2, 3, 5}) {
    std::vector<int64_t> uni;
    for (int i = 0; i < shards; ++i) {
      const int threads = 1 + i % 3;  // shards on machines of different sizes
      for (int w = 0; w < threads; ++w) {
        const double share = rate / shards / threads;
        Pacer p({{duration, share, share}}, Arrival::kUniform, 1, WorkerPhase(w, threads, double(i) / shards));
        for (int64_t t; (t = p.Next()) >= 0;) uni.push_back(t);
      }
    }
    std::sort(uni.begin(), uni.end());
    ASSERT_EQ(uni.size(), whole.size()) << shards;
    for (size_t k = 0; k < whole.size(); ++k) EXPECT_NEAR(double(uni[k]), double(whole[k]), 2.0) << shards << " " << k;
  }
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

// Every request the pacer scheduled ends as exactly one of: ok, an error, or unfinished at the end.
void ExpectEveryRequestAccountedFor(const RunStats& s) {
  EXPECT_EQ(s.counters.ok + s.counters.errors + s.counters.unfinished, s.counters.intended) << Describe(s);
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

// Runs each engine test on epoll and on io_uring. Where io_uring is unavailable (a seccomp profile,
// kernel.io_uring_disabled), the io_uring variants skip, except under CI where they fail: CI must
// say when it stops testing that path.
class EngineTest : public ::testing::TestWithParam<Io> {
 protected:
  void SetUp() override {
    g_io = GetParam();
    Result<Io> io = ResolveIo(GetParam(), nullptr);
    if (!io) {
      const char* ci = std::getenv("CI");
      if (ci != nullptr && std::string(ci) == "true") FAIL() << io.error().message;
      GTEST_SKIP() << io.error().message;
    }
  }
};

INSTANTIATE_TEST_SUITE_P(Io, EngineTest, ::testing::Values(Io::kEpoll, Io::kUring),
                         [](const ::testing::TestParamInfo<Io>& info) { return std::string(IoName(info.param)); });

TEST_P(EngineTest, RunsOnTheRequestedIoPath) {
  auto server = StartTarget();
  Harness h = Make(server->port(), "/");
  OpenAt(h.config, 200, kSec / 2);
  auto stats = engine::Run(h.config, nullptr);
  ASSERT_TRUE(stats.has_value()) << stats.error().message;
  EXPECT_EQ(stats->io, GetParam());
  EXPECT_EQ(stats->io_notice, "");
  EXPECT_EQ(stats->counters.ok, 100) << Describe(*stats);
}

TEST_P(EngineTest, OpenModelSendsTheRequestedCount) {
  auto server = StartTarget();
  Harness h = Make(server->port(), "/");
  OpenAt(h.config, 1000, 2 * kSec);
  auto stats = engine::Run(h.config, nullptr);
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->model, Model::kOpen);
  EXPECT_EQ(stats->counters.intended, 2000);  // uniform arrivals: rate x duration, exactly
  EXPECT_EQ(stats->counters.errors, 0) << Describe(*stats);
  EXPECT_GT(stats->counters.ok, 0);
  ExpectEveryRequestAccountedFor(*stats);
  EXPECT_EQ(stats->response_time_us.Count(), stats->counters.completed);
  EXPECT_EQ(stats->service_time_us.Count(), stats->counters.completed);
}

TEST_P(EngineTest, PoissonArrivalsHoldTheMeanRate) {
  auto server = StartTarget();
  Harness h = Make(server->port(), "/");
  OpenAt(h.config, 2000, 5 * kSec);
  h.config.arrival = Arrival::kPoisson;
  h.config.threads = 2;
  auto stats = engine::Run(h.config, nullptr);
  ASSERT_TRUE(stats.has_value());
  // Seeded arrivals: the count is fixed by the seed, and within 3 sigma of rate x duration.
  EXPECT_NEAR(double(stats->counters.intended), 10000, 3 * std::sqrt(10000.0));
  EXPECT_EQ(stats->counters.errors, 0) << Describe(*stats);
  ExpectEveryRequestAccountedFor(*stats);
}

TEST_P(EngineTest, StalledServerCannotHideItsStall) {
  // Every 2 s the server freezes for 500 ms, so a 4 s run holds at least one whole stall. Requests
  // are due every 1 ms; with only 10 connections, those due during the stall wait in the generator
  // (the 10 connections are stuck in it). Timed from their intended start, the 250 due in the first
  // half of the stall took at least 250 ms and the 50 due in its first 50 ms at least 450 ms,
  // however fast the machine; a few may have slipped into the server just as the stall began.
  target::Options o;
  o.stall_ns = 500'000'000;
  o.stall_period_ns = 2 * kSec;
  auto server = StartTarget(o);
  Harness h = Make(server->port(), "/");
  OpenAt(h.config, 1000, 4 * kSec);
  h.config.connections = 10;
  auto stats = engine::Run(h.config, nullptr);
  ASSERT_TRUE(stats.has_value());
  const Histogram& rt = stats->response_time_us;
  int64_t slow = 0;
  rt.ForEachBucket([&](int64_t highest_equivalent, int64_t count) {
    if (highest_equivalent >= 250'000) slow += count;
  });
  EXPECT_GE(slow, 200) << Describe(*stats);
  EXPECT_GE(rt.Max(), 450'000);
  EXPECT_GT(stats->counters.delayed, 0);  // they did wait in the generator
  EXPECT_EQ(stats->counters.errors, 0) << Describe(*stats);
  ExpectEveryRequestAccountedFor(*stats);
}

TEST_P(EngineTest, NoResponseIsTimedBeforeTheServerAnswered) {
  // The server holds every response 3 ms. However the worker batches its wake-ups and wherever it
  // takes a response's time from (the io_uring path uses the kernel's receive time), no request
  // can have taken less than that, from its intended start or from its send.
  target::Options o;
  o.latency_ns = 3'000'000;
  auto server = StartTarget(o);
  for (Model model : {Model::kClosed, Model::kOpen}) {
    Harness h = Make(server->port(), "/");
    if (model == Model::kOpen) {
      OpenAt(h.config, 4000, kSec / 2);  // about 12 in flight
    } else {
      h.config.model = Model::kClosed;
      h.config.duration_ns = kSec / 2;
    }
    h.config.connections = 32;  // many requests in flight: the worker gathers completions
    auto stats = engine::Run(h.config, nullptr);
    ASSERT_TRUE(stats.has_value());
    EXPECT_EQ(stats->counters.errors, 0) << Describe(*stats);
    ASSERT_GT(stats->counters.ok, 100) << Describe(*stats);
    EXPECT_GE(stats->response_time_us.Min(), 3000) << "model " << int(model);
    EXPECT_GE(stats->service_time_us.Min(), 3000) << "model " << int(model);
    EXPECT_LE(stats->service_time_us.Min(), stats->response_time_us.Min());
  }
}

TEST_P(EngineTest, ClosedModelKeepsConnectionsBusy) {
  auto server = StartTarget();
  Harness h = Make(server->port(), "/");
  h.config.model = Model::kClosed;
  h.config.connections = 8;
  std::vector<int64_t> seconds;
  // Each connection sends its next request when a response arrives: more responses than
  // connections, never more than one request in flight per connection.
  auto stats = RunUntil(h.config, [](const Counters& c) { return c.ok >= 3 * 8; }, &seconds);
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->model, Model::kClosed);
  EXPECT_GE(stats->counters.ok, 3 * 8);
  EXPECT_LE(stats->counters.unfinished, 8);
  EXPECT_EQ(stats->counters.errors, 0) << Describe(*stats);
  EXPECT_EQ(stats->counters.connections_opened, 8);
  EXPECT_EQ(stats->counters.connect_attempts, 8);
  ExpectEveryRequestAccountedFor(*stats);
  ASSERT_GE(seconds.size(), 1u);
  for (size_t i = 0; i < seconds.size(); ++i) EXPECT_EQ(seconds[i], int64_t(i));
}

TEST_P(EngineTest, ReconnectsWhenTheServerClosesKeepAlive) {
  target::Options o;
  o.close_every = 3;
  auto server = StartTarget(o);
  Harness h = Make(server->port(), "/");
  h.config.connections = 4;
  auto stats = RunUntil(h.config, [](const Counters& c) { return c.ok >= 30; });
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->counters.errors, 0) << Describe(*stats);
  EXPECT_GE(stats->counters.ok, 30);
  EXPECT_GE(stats->counters.connections_opened, stats->counters.ok / 3);
}

// Responses larger than a receive buffer (the io_uring path's are 4 KiB) arrive in many pieces, and
// chunked ones in many chunks: every one is parsed whole, with its bytes counted.
TEST_P(EngineTest, LargeAndChunkedBodiesArriveWhole) {
  auto server = StartTarget();
  for (const char* path : {"/bytes/300000", "/chunked/100000"}) {
    SCOPED_TRACE(path);
    Harness h = Make(server->port(), path);
    h.config.connections = 4;
    auto stats = RunUntil(h.config, [](const Counters& c) { return c.ok >= 40; });
    ASSERT_TRUE(stats.has_value()) << stats.error().message;
    EXPECT_GE(stats->counters.ok, 40);
    EXPECT_EQ(stats->counters.errors, 0) << Describe(*stats);
    EXPECT_EQ(stats->counters.connections_opened, 4);
    EXPECT_GE(stats->counters.bytes_read, stats->counters.ok * (path[1] == 'b' ? 300000 : 100000));
  }
}

int OpenDescriptors() {
  int n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

// Every socket the engine opened is closed when the run returns, however it ended: here the server
// closes each connection after its response, so the run closes (and reopens) hundreds of them, and
// it ends with requests still in flight.
TEST_P(EngineTest, ClosedConnectionsLeaveNoDescriptorsBehind) {
  const int before = OpenDescriptors();
  {
    target::Options o;
    o.close_every = 1;
    auto server = StartTarget(o);
    Harness h = Make(server->port(), "/");
    h.config.connections = 8;
    auto stats = RunUntil(h.config, [](const Counters& c) { return c.ok >= 300; });
    ASSERT_TRUE(stats.has_value()) << stats.error().message;
    EXPECT_EQ(stats->counters.errors, 0) << Describe(*stats);
    EXPECT_GE(stats->counters.connections_opened, 300);
  }  // the server stops: its sockets close too
  EXPECT_EQ(OpenDescriptors(), before);
}

TEST_P(EngineTest, ServerErrorsAreClassified) {
  target::Options o;
  o.error_rate = 0.1;  // exactly every 10th response of the (single) server thread
  auto server = StartTarget(o);
  Harness h = Make(server->port(), "/");
  OpenAt(h.config, 1000, 2 * kSec);
  auto stats = engine::Run(h.config, nullptr);
  ASSERT_TRUE(stats.has_value());
  const int64_t completed = stats->counters.completed;
  const int64_t errors_5xx = ErrorsOf(*stats, ErrorClass::kHttp5xx);
  EXPECT_GT(completed, 0);
  // Responses the server produced but the client did not see are unfinished.
  EXPECT_LE(std::abs(10 * errors_5xx - completed), 10 * (stats->counters.unfinished + 1)) << Describe(*stats);
  EXPECT_EQ(stats->counters.status_codes[500], errors_5xx);
  ExpectEveryRequestAccountedFor(*stats);
  Harness h404 = Make(server->port(), "/status/404");
  h404.config.connections = 2;
  auto s404 = RunUntil(h404.config, [](const Counters& c) { return c.completed >= 10; });
  ASSERT_TRUE(s404.has_value());
  // The same server turns every 10th response into a 500.
  EXPECT_EQ(ErrorsOf(*s404, ErrorClass::kHttp4xx) + ErrorsOf(*s404, ErrorClass::kHttp5xx), s404->counters.completed);
  EXPECT_GT(ErrorsOf(*s404, ErrorClass::kHttp4xx), 0);
  EXPECT_EQ(s404->counters.ok, 0);
}

// Hostile servers: every request fails, each in its class (a close mid-response is a reset, non-HTTP
// bytes are malformed), and every one the pacer scheduled is accounted for.
TEST_P(EngineTest, HostileModesFailEveryRequestInItsClass) {
  struct Case {
    target::Mode mode;
    ErrorClass expected;
  };
  for (const Case& c : {Case{target::Mode::kCloseMidResponse, ErrorClass::kReset},
                        Case{target::Mode::kGarbage, ErrorClass::kMalformed}}) {
    SCOPED_TRACE(ErrorClassName(c.expected));
    target::Options o;
    o.mode = c.mode;
    auto server = StartTarget(o);
    Harness h = Make(server->port(), "/");
    OpenAt(h.config, 200, kSec);
    auto stats = engine::Run(h.config, nullptr);
    ASSERT_TRUE(stats.has_value());
    EXPECT_EQ(stats->counters.intended, 200);
    EXPECT_EQ(stats->counters.ok, 0);
    EXPECT_GT(ErrorsOf(*stats, c.expected), 0);
    EXPECT_EQ(ErrorsOf(*stats, c.expected), stats->counters.errors) << Describe(*stats);
    ExpectEveryRequestAccountedFor(*stats);
  }
}

// A response that comes while no request is in flight (here: before the first request) is a
// protocol error. Closed model with a think time longer than the run: after its first response a
// connection never sends again, so the server's answer to that request also arrives while nothing
// is in flight, whichever the client took for the answer. Either way every connection ends in one
// malformed_response and is replaced; before the fix the early bytes were taken as the answer and
// the late ones dropped, so the 4 connections lived on with no error counted.
TEST_P(EngineTest, ResponseWithNoRequestInFlightIsMalformed) {
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

TEST_P(EngineTest, RefusedConnectionsAreCounted) {
  uint16_t port;
  {
    auto server = StartTarget();
    port = server->port();
  }  // stopped: nothing listens on port now
  Harness h = Make(port, "/");
  OpenAt(h.config, 500, 2 * kSec);
  auto stats = engine::Run(h.config, nullptr);
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->counters.intended, 1000);
  EXPECT_EQ(stats->counters.ok, 0);
  EXPECT_GT(ErrorsOf(*stats, ErrorClass::kConnectRefused), 0);
  EXPECT_EQ(ErrorsOf(*stats, ErrorClass::kConnectRefused), stats->counters.errors) << Describe(*stats);
  ExpectEveryRequestAccountedFor(*stats);
  // Every attempt failed: none was established, so none was opened.
  EXPECT_EQ(stats->counters.connections_opened, 0);
  EXPECT_GE(stats->counters.connect_attempts, ErrorsOf(*stats, ErrorClass::kConnectRefused));
  // The closed model backs off 10 ms after a failed connect instead of spinning: at most one
  // attempt per connection per back-off, and the failures are still counted.
  h.config.model = Model::kClosed;
  h.config.connections = 2;
  h.config.duration_ns = kSec;
  auto closed = engine::Run(h.config, nullptr);
  ASSERT_TRUE(closed.has_value());
  EXPECT_GT(ErrorsOf(*closed, ErrorClass::kConnectRefused), 0);
  EXPECT_LE(ErrorsOf(*closed, ErrorClass::kConnectRefused), 2 * (kSec / 10'000'000 + 1));
}

TEST_P(EngineTest, ServerThatNeverAnswersTimesOut) {
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
  EXPECT_EQ(stats->counters.intended, 300);
  EXPECT_EQ(ErrorsOf(*stats, ErrorClass::kRequestTimeout), 300) << Describe(*stats);
  EXPECT_EQ(stats->counters.unfinished, 0);
}

TEST_P(EngineTest, StopFlagInterruptsTheRun) {
  auto server = StartTarget();
  Harness h = Make(server->port(), "/");
  OpenAt(h.config, 1000, 60 * kSec);
  std::atomic<bool> stop{false};
  h.config.stop = &stop;
  int64_t seconds = 0;
  auto stats = engine::Run(h.config, [&](const SecondStats&) {
    ++seconds;
    stop = true;  // after the first second
  });
  ASSERT_TRUE(stats.has_value());
  EXPECT_TRUE(stats->interrupted);
  EXPECT_LT(seconds, 60);
  EXPECT_LT(stats->counters.intended, 60'000);
  EXPECT_GT(stats->counters.ok, 0);
  ExpectEveryRequestAccountedFor(*stats);
}

}  // namespace
}  // namespace headroom::engine
