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
//   /json        a small JSON document
//   anything else 404
//
// With ShopOptions::postgres set, the target is also a small three-tier shop (target/shop.h):
// /shop/... routes run on a pool of handler threads that call PostgreSQL and Redis, and /metrics
// exposes the pools in the Prometheus text format.
//
// Thread-safety: Start, port(), requests_served() and Stop() may be called from any thread;
// Stop is idempotent and the destructor calls it.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

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

// Flaws the shop can be started with, each a classic from real systems (docs/target.md).
enum Flaw : unsigned {
  kFlawMissingIndex = 1,  // orders has no index on customer_id: a customer's orders scan the table
  kFlawSmallCache = 2,    // Redis gets maxmemory 2mb with maxmemory-policy allkeys-random
  kFlawTinyPool = 4,      // one PostgreSQL connection for every handler thread
  kFlawOneThread = 8,     // one handler thread
};
// Parses "missing-index,small-cache,tiny-pool,one-thread" (any subset, "none" for no flaw).
Result<unsigned> ParseFlaws(std::string_view text);
std::string FlawNames(unsigned flaws);  // "missing-index,tiny-pool", or "none"

struct ShopOptions {
  std::string postgres;        // libpq conninfo; empty: no shop
  std::string redis;           // HOST:PORT of the cache
  int handler_threads = 16;    // 1..kMaxThreads; kFlawOneThread makes it 1
  int db_pool = 10;            // PostgreSQL connections, 1..kMaxThreads; kFlawTinyPool makes it 1
  unsigned flaws = 0;
  int64_t cache_ttl_s = 300;
  int64_t pool_timeout_ms = 5000;  // a handler waiting longer for a connection answers 503
  // Each product page also asks a recommendation service, simulated by this wait (the handler
  // thread waits, using no CPU), as real pages wait on the services behind them.
  int64_t downstream_ns = 2'000'000;
};

// Data the shop's --init-db creates.
struct ShopData {
  int products = 10'000;
  int customers = 20'000;
  int orders = 1'000'000;
  int reviews_per_product = 50;
};

// Creates the shop's tables in the database `postgres` names (dropping earlier ones) and fills
// them; the index on orders (customer_id) is left out with kFlawMissingIndex. `log` gets one line
// per step (nullptr: quiet).
Status InitShopDatabase(const ShopOptions& shop, const ShopData& data, std::FILE* log);

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
  ShopOptions shop;
};

// Local PostgreSQL 15, Redis 7 and Prometheus node exporter for demos and tests: each started in
// a temporary directory on a free loopback port, stopped by PID (and the directory removed) when
// the LocalServer goes. Start* returns an Error with the reason when the server cannot start (not
// installed: run scripts/setup.sh; no unprivileged user...).
class LocalServer {
 public:
  LocalServer(pid_t pid, std::string dir, uint16_t port) : pid_(pid), dir_(std::move(dir)), port_(port) {}
  ~LocalServer();  // SIGTERM (SIGINT for postgres: fast shutdown), wait, SIGKILL after 10 s; removes dir
  LocalServer(const LocalServer&) = delete;
  LocalServer& operator=(const LocalServer&) = delete;
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

inline constexpr const char* kLocalPostgresPassword = "s3cret-pw";

struct LocalPostgresSettings {
  int max_connections = 20;
  std::string shared_buffers = "16MB";
};

// PostgreSQL 15 (as user "nobody" when run as root, since it refuses root) with
// pg_stat_statements preloaded, autovacuum and fsync off, user "postgres" with password
// kLocalPostgresPassword (scram over TCP).
Result<std::unique_ptr<LocalServer>> StartPostgres(const LocalPostgresSettings& settings = {});
// "host=127.0.0.1 port=N user=postgres dbname=postgres password=..." for a started server.
std::string PostgresConninfo(const LocalServer& server, bool with_password = true);
Result<std::unique_ptr<LocalServer>> StartRedis();
Result<std::unique_ptr<LocalServer>> StartNodeExporter();
// `binary target --port N ARGS...` (binary: a headroom executable, e.g. "/proc/self/exe") as a
// process of its own, ready when it listens; its output goes to dir()/log.
Result<std::unique_ptr<LocalServer>> StartTargetProcess(const std::string& binary, const std::vector<std::string>& args);

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
