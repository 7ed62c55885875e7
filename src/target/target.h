// The embedded target service: a small HTTP/1.1 server that load tests and demos run against.
//
// Linux only (epoll). Each of Options::threads worker threads owns its own epoll loop and its own
// SO_REUSEPORT listener on the same port; connections never move between threads. Keep-alive and
// pipelining are supported (responses go out in request order); malformed requests get a 400 and
// the connection is closed.
//
// Routes (GET and HEAD):
//   /            "ok\n"
//   /bytes/N     N-byte body (N <= 64 MiB), served from a static buffer
//   /cpu/US      busy-loops about US microseconds of CPU (US <= 10 s) on the worker, then responds
//   /sleep/MS    responds after MS milliseconds (MS <= 1 h) without blocking the worker
//   /status/C    responds with status C (200..599)
//   /chunked/N   N-byte body in chunked transfer encoding (chunks of at most 1000 bytes, N <= 16 MiB)
//   anything else 404
//
// Thread-safety: Start, port(), requests_served() and Stop() may be called from any thread;
// Stop is idempotent and the destructor calls it.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace headroom::target {

// Misbehaving-server modes for testing a client's error handling.
enum class Mode {
  kNormal,
  kCloseMidResponse,  // every request: headers with Content-Length: 100, 10 body bytes, close
  kNeverRespond,      // reads and discards requests, never writes
  kGarbage,           // every request: answers non-HTTP bytes, then closes
  kEarlyResponse,     // every connection: a 200 response before any request, then as kNormal
};

// Parses "normal", "close-mid-response", "never-respond", "garbage", "early-response".
Result<Mode> ParseMode(std::string_view text);

inline constexpr int kMaxThreads = 256;

struct Options {
  std::string bind = "127.0.0.1";  // numeric IPv4 or IPv6 address (or "localhost")
  bool allow_non_loopback = false;  // REQUIRES: true to bind anything but a loopback address
  uint16_t port = 0;                // 0 = any free port
  int threads = 1;                  // worker threads, 1..kMaxThreads
  // Fault injection. Time is divided into periods of stall_period_ns from server start; during
  // the first stall_ns of each period no connection is read or written.
  int64_t stall_ns = 0, stall_period_ns = 0;
  double error_rate = 0;   // fraction in [0,1] of responses turned into 500 (evenly spaced per thread)
  int64_t latency_ns = 0;  // added to every response (a timer, the thread keeps serving)
  int64_t close_every = 0;  // > 0: the Nth response on a connection carries Connection: close
  Mode mode = Mode::kNormal;
};

class Server {
 public:
  // Validates options, binds the listeners and starts the worker threads. The server is
  // accepting connections when this returns.
  static Result<std::unique_ptr<Server>> Start(const Options& options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  uint16_t port() const { return port_; }
  // CLOCK_MONOTONIC ns at which the stall periods start (see Options).
  int64_t start_ns() const { return start_ns_; }
  // Stops accepting, closes every connection and joins the workers. Idempotent, thread-safe.
  void Stop();
  // Responses produced so far (all threads; updated once per event-loop iteration).
  uint64_t requests_served() const;

 private:
  Server() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  uint16_t port_ = 0;
  int64_t start_ns_ = 0;
};

}  // namespace headroom::target
