// Starts a Server in-process on port 0 and talks to it over plain blocking sockets.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/clock.h"
#include "target/target.h"
#include "target/test_client.h"

namespace headroom::target {
namespace {

using testing::Client;
using testing::Response;


std::unique_ptr<Server> StartOrDie(Options o = {}) {
  auto s = Server::Start(o);
  EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().message);
  return s ? std::move(*s) : nullptr;
}

TEST(TargetServer, Routes) {
  auto server = StartOrDie();
  ASSERT_TRUE(server);
  Client c(server->port());
  ASSERT_TRUE(c.connected());
  Response r;
  c.Get("/");
  ASSERT_TRUE(c.Read(&r));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok\n");
  c.Get("/bytes/200000");
  ASSERT_TRUE(c.Read(&r));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.size(), 200000u);
  c.Get("/bytes/0");
  ASSERT_TRUE(c.Read(&r));
  EXPECT_EQ(r.body, "");
  c.Get("/cpu/200");
  ASSERT_TRUE(c.Read(&r));
  EXPECT_EQ(r.status, 200);
  c.Get("/status/503");
  ASSERT_TRUE(c.Read(&r));
  EXPECT_EQ(r.status, 503);
  c.Get("/status/204");
  ASSERT_TRUE(c.Read(&r));
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.headers.count("content-length"), 0u);
  c.Get("/chunked/2500");
  ASSERT_TRUE(c.Read(&r));
  EXPECT_EQ(r.headers["transfer-encoding"], "chunked");
  EXPECT_EQ(r.body.size(), 2500u);
  c.Get("/no/such/route");
  ASSERT_TRUE(c.Read(&r));
  EXPECT_EQ(r.status, 404);
  int64_t before_ns = MonoNowNs();
  c.Get("/sleep/30");
  ASSERT_TRUE(c.Read(&r));
  EXPECT_EQ(r.status, 200);
  EXPECT_GE(MonoNowNs() - before_ns, 30'000'000);  // answered no earlier than asked
  server->Stop();
  EXPECT_EQ(server->requests_served(), 9u);
}

TEST(TargetServer, SleepDoesNotBlockOtherConnections) {
  auto server = StartOrDie();
  ASSERT_TRUE(server);
  Client slow(server->port()), fast(server->port());
  int64_t sent_ns = MonoNowNs();
  slow.Get("/sleep/1000");
  fast.Get("/");
  Response r;
  ASSERT_TRUE(fast.Read(&r));
  EXPECT_EQ(r.status, 200);
  // The single worker answered `fast` while `slow` still waits for its timer.
  if (MonoNowNs() < sent_ns + 1'000'000'000) EXPECT_FALSE(slow.HasData());
  slow.Get("/");
  ASSERT_TRUE(slow.Read(&r));
  EXPECT_EQ(r.body, "ok\n");  // the sleep's response comes first, in order
  ASSERT_TRUE(slow.Read(&r));
  EXPECT_EQ(r.body, "ok\n");
}

TEST(TargetServer, PipelinedResponsesStayInOrder) {
  auto server = StartOrDie();
  ASSERT_TRUE(server);
  Client c(server->port());
  c.Send("GET /sleep/50 HTTP/1.1\r\n\r\nGET /status/201 HTTP/1.1\r\n\r\nGET /bytes/70000 HTTP/1.1\r\n\r\n"
         "GET /chunked/5 HTTP/1.1\r\n\r\nGET /status/404 HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n");
  Response r;
  std::vector<int> statuses;
  std::vector<size_t> sizes;
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(c.Read(&r)) << i;
    statuses.push_back(r.status);
    sizes.push_back(r.body.size());
  }
  EXPECT_EQ(statuses, (std::vector<int>{200, 201, 200, 200, 404, 200}));
  EXPECT_EQ(sizes, (std::vector<size_t>{3, 7, 70000, 5, 7, 3}));
}

TEST(TargetServer, ManyPipelinedRequestsInOneWrite) {
  auto server = StartOrDie();
  ASSERT_TRUE(server);
  Client c(server->port());
  std::string batch;
  for (int i = 0; i < 3000; ++i) batch += "GET / HTTP/1.1\r\n\r\n";
  c.Send(batch);
  Response r;
  for (int i = 0; i < 3000; ++i) {
    ASSERT_TRUE(c.Read(&r)) << i;
    ASSERT_EQ(r.body, "ok\n");
  }
}

TEST(TargetServer, Head) {
  auto server = StartOrDie();
  ASSERT_TRUE(server);
  Client c(server->port());
  c.Get("/bytes/100", "HEAD");
  Response r;
  ASSERT_TRUE(c.Read(&r, /*head=*/true));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-length"], "100");
  c.Get("/");  // no body bytes were sent for HEAD, so the next response parses cleanly
  ASSERT_TRUE(c.Read(&r));
  EXPECT_EQ(r.body, "ok\n");
}

TEST(TargetServer, ConnectionCloseAndHttp10) {
  auto server = StartOrDie();
  ASSERT_TRUE(server);
  Client c(server->port());
  c.Send("GET / HTTP/1.1\r\nConnection: close\r\n\r\n");
  Response r;
  ASSERT_TRUE(c.Read(&r));
  EXPECT_EQ(r.headers["connection"], "close");
  EXPECT_TRUE(c.AtEof());
  Client old(server->port());
  old.Send("GET / HTTP/1.0\r\n\r\n");
  ASSERT_TRUE(old.Read(&r));
  EXPECT_TRUE(old.AtEof());
}

TEST(TargetServer, CloseEvery) {
  Options o;
  o.close_every = 3;
  auto server = StartOrDie(o);
  ASSERT_TRUE(server);
  Client c(server->port());
  c.Send("GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n");
  Response r;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(c.Read(&r));
    EXPECT_EQ(r.headers.count("connection"), i == 2 ? 1u : 0u) << i;
  }
  EXPECT_TRUE(c.AtEof());  // the fourth request is not answered
}

TEST(TargetServer, ErrorRateIsExactWhenDeterministic) {
  Options o;
  o.error_rate = 0.02;
  auto server = StartOrDie(o);
  ASSERT_TRUE(server);
  Client c(server->port());
  int errors = 0;
  Response r;
  for (int batch = 0; batch < 10; ++batch) {
    std::string req;
    for (int i = 0; i < 100; ++i) req += "GET / HTTP/1.1\r\n\r\n";
    c.Send(req);
    for (int i = 0; i < 100; ++i) {
      ASSERT_TRUE(c.Read(&r));
      if (r.status == 500) ++errors;
      else EXPECT_EQ(r.status, 200);
    }
  }
  EXPECT_EQ(errors, 20);
}

TEST(TargetServer, GarbageRequestGets400AndClose) {
  auto server = StartOrDie();
  ASSERT_TRUE(server);
  for (std::string garbage : {std::string("\x16\x03\x01\x02\x00", 5), std::string("hello there\r\n\r\n"),
                              std::string("GET / HTTP/1.1\r\nbad header\r\n\r\n")}) {
    Client c(server->port());
    c.Send(garbage);
    Response r;
    ASSERT_TRUE(c.Read(&r));
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.headers["connection"], "close");
    EXPECT_TRUE(c.AtEof());
  }
  // A valid request after garbage on another connection still works.
  Client ok(server->port());
  ok.Get("/");
  Response r;
  ASSERT_TRUE(ok.Read(&r));
  EXPECT_EQ(r.status, 200);
}

TEST(TargetServer, RequestSplitIntoSingleBytes) {
  auto server = StartOrDie();
  ASSERT_TRUE(server);
  Client c(server->port());
  std::string req = "GET /bytes/5 HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\n\r\n";
  for (char ch : req) c.Send(std::string(1, ch));
  Response r;
  ASSERT_TRUE(c.Read(&r));
  EXPECT_EQ(r.body.size(), 5u);
  ASSERT_TRUE(c.Read(&r));
  EXPECT_EQ(r.body, "ok\n");
}

// Seeded random bytes and mutated requests: every connection ends in a 400, a normal answer or
// nothing, and the server keeps serving.
TEST(TargetServer, RandomInputNeverBreaksTheServer) {
  auto server = StartOrDie();
  ASSERT_TRUE(server);
  std::mt19937 rng(12345);
  const std::string valid = "GET /bytes/3 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab";
  for (int i = 0; i < 200; ++i) {
    std::string input = valid + valid;
    if (i % 2 == 0) {
      input.resize(rng() % 200);
      for (char& ch : input) ch = static_cast<char>(rng());
    } else {
      for (int m = 0; m < 4; ++m) input[rng() % input.size()] = static_cast<char>(rng());
    }
    Client c(server->port());
    c.Send(input);
    c.ShutdownWrite();
    std::string all = c.ReadToEof();
    EXPECT_TRUE(all.empty() || all.starts_with("HTTP/1.1 ")) << i;
  }
  Client ok(server->port());
  ok.Get("/");
  Response r;
  ASSERT_TRUE(ok.Read(&r));
  EXPECT_EQ(r.status, 200);
}

TEST(TargetServer, ModeCloseMidResponse) {
  Options o;
  o.mode = Mode::kCloseMidResponse;
  auto server = StartOrDie(o);
  ASSERT_TRUE(server);
  Client c(server->port());
  c.Get("/");
  std::string all = c.ReadToEof();
  size_t end = all.find("\r\n\r\n");
  ASSERT_NE(end, std::string::npos);
  EXPECT_NE(all.find("Content-Length: 100\r\n"), std::string::npos);
  EXPECT_EQ(all.size() - end - 4, 10u);
}

TEST(TargetServer, ModeNeverRespond) {
  Options o;
  o.mode = Mode::kNeverRespond;
  auto server = StartOrDie(o);
  ASSERT_TRUE(server);
  Client c(server->port());
  c.Get("/");
  c.Get("/bytes/10");
  c.ShutdownWrite();  // the server sees EOF, closes, and never wrote a byte
  EXPECT_EQ(c.ReadToEof(), "");
  server->Stop();
  EXPECT_EQ(server->requests_served(), 0u);
}

TEST(TargetServer, ModeGarbage) {
  Options o;
  o.mode = Mode::kGarbage;
  auto server = StartOrDie(o);
  ASSERT_TRUE(server);
  Client c(server->port());
  c.Get("/");
  std::string all = c.ReadToEof();
  ASSERT_FALSE(all.empty());
  EXPECT_FALSE(all.starts_with("HTTP/"));
}

TEST(TargetServer, RequestDuringStallIsAnsweredAfterIt) {
  Options o;
  o.stall_ns = 200'000'000;
  o.stall_period_ns = 400'000'000;
  auto server = StartOrDie(o);
  ASSERT_TRUE(server);
  Client c(server->port());
  int checked = 0;
  for (int attempt = 0; attempt < 10 && checked < 2; ++attempt) {
    // Send shortly after a stall begins; check only sends that really landed inside one.
    int64_t since = MonoNowNs() - server->start_ns();
    int64_t next_stall_ns = server->start_ns() + (since / o.stall_period_ns + 1) * o.stall_period_ns;
    while (MonoNowNs() < next_stall_ns + 20'000'000) usleep(1000);
    int64_t sent_ns = MonoNowNs();
    c.Get("/");
    Response r;
    ASSERT_TRUE(c.Read(&r));
    int64_t received_ns = MonoNowNs();
    EXPECT_EQ(r.status, 200);
    int64_t offset = (sent_ns - server->start_ns()) % o.stall_period_ns;
    if (offset >= o.stall_ns) continue;  // the send slipped past the stall
    ++checked;
    EXPECT_GE(received_ns, sent_ns - offset + o.stall_ns);
  }
  EXPECT_GE(checked, 1);
}

TEST(TargetServer, LatencyDelaysEveryResponse) {
  Options o;
  o.latency_ns = 20'000'000;
  auto server = StartOrDie(o);
  ASSERT_TRUE(server);
  Client c(server->port());
  for (int i = 0; i < 3; ++i) {
    int64_t sent_ns = MonoNowNs();
    c.Get("/");
    Response r;
    ASSERT_TRUE(c.Read(&r));
    EXPECT_EQ(r.status, 200);
    EXPECT_GE(MonoNowNs() - sent_ns, o.latency_ns);
  }
}

TEST(TargetServer, SeveralThreadsServeManyConnections) {
  Options o;
  o.threads = 3;
  auto server = StartOrDie(o);
  ASSERT_TRUE(server);
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 30; ++i) clients.push_back(std::make_unique<Client>(server->port()));
  for (auto& c : clients) c->Get("/bytes/5");
  for (auto& c : clients) {
    Response r;
    ASSERT_TRUE(c->Read(&r));
    EXPECT_EQ(r.body.size(), 5u);
  }
  server->Stop();
  EXPECT_EQ(server->requests_served(), 30u);
  server->Stop();  // idempotent
}

TEST(TargetServer, RejectsBadOptions) {
  Options remote;
  remote.bind = "192.0.2.1";
  auto s = Server::Start(remote);
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().message.find("non-loopback"), std::string::npos);
  Options bad_bind;
  bad_bind.bind = "not-an-address";
  EXPECT_FALSE(Server::Start(bad_bind).has_value());
  Options stall;
  stall.stall_ns = 5;
  stall.stall_period_ns = 5;
  EXPECT_FALSE(Server::Start(stall).has_value());
  Options threads;
  threads.threads = 0;
  EXPECT_FALSE(Server::Start(threads).has_value());
  EXPECT_TRUE(ParseMode("garbage").has_value());
  EXPECT_FALSE(ParseMode("chaos").has_value());
}

}  // namespace
}  // namespace headroom::target
