// The load engine: worker threads that send HTTP/1.1 requests on keep-alive connections (or HTTP/2
// streams, many per connection: HttpOptions), paced by an open-model arrival process (latency timed
// from each request's intended start, so a stalled server cannot hide its stall) or run as a closed
// model (N connections, each sends its next request when the previous one completes). Each worker owns its event loop, connections, pacer and
// histograms; workers share nothing per request and hand one snapshot per second to the reporter.
#pragma once
#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/histogram.h"
#include "core/status.h"
#include "http/http.h"
#include "sys/sys.h"

namespace headroom::engine {

enum class Model { kOpen, kClosed };
enum class Arrival { kUniform, kPoisson };

// The I/O path of the workers. Both paths have the same semantics (timing, error classes, counters);
// io_uring batches the sends and receives of many connections into one system call per loop.
// kAuto: io_uring when this process may use it (ResolveIo), epoll otherwise.
enum class Io { kAuto, kEpoll, kUring };
const char* IoName(Io io);  // "auto", "epoll", "uring"
// "auto" | "epoll" | "uring" -> Io; otherwise an error naming the accepted values.
Result<Io> IoFromName(std::string_view name);

// What kAuto and kUring resolve to here. The io_uring probe runs once per process; its answer is
// kept. kUring fails (with the reason) where io_uring is unavailable; kAuto then resolves to kEpoll
// and sets *notice to one line saying why. Thread-safe.
Result<Io> ResolveIo(Io requested, std::string* notice);

// Every failure is classified and counted; none is fatal to the run.
enum class ErrorClass : int {
  kConnectRefused = 0,
  kConnectTimeout,
  kConnectError,     // other connect failures (EMFILE, EADDRNOTAVAIL, unreachable...)
  kRequestTimeout,   // no complete response within the timeout (or queued past it in the generator)
  kReset,            // reset or EOF before the response was complete
  kMalformed,        // response bytes that are not valid HTTP/1.1, or that come with no request in flight
  kHttp4xx,
  kHttp5xx,
  kCheckFailed,      // a response that failed its request's checks (scenario `expect:`)
  kTlsHandshake,     // the TLS handshake failed or timed out (not a certificate problem)
  kTlsVerify,        // the server's certificate was refused: expired, wrong host, unknown CA...
  kH2StreamReset,    // HTTP/2: the server reset the request's stream (RST_STREAM)
  kH2Goaway,         // HTTP/2: the server's GOAWAY ended the connection before the response (and it was
                     // not retried, or its retry was refused too)
  kH2Protocol,       // HTTP/2: a protocol error (bad frames, a flood, no h2 by ALPN, no SETTINGS reply)
  kCount,
};
constexpr int kErrorClassCount = int(ErrorClass::kCount);
const char* ErrorClassName(ErrorClass c);  // "connect_refused", "http_5xx", ...

// A piece of the open-model rate profile: the rate changes linearly from start to end over duration.
struct RateSegment {
  int64_t duration_ns = 0;
  double start_rps = 0;
  double end_rps = 0;
};

// Produces the bytes of each request. One stream per worker, used only by that worker's thread.
class RequestStream {
 public:
  virtual ~RequestStream() = default;
  // Picks the next request. Either points *bytes at stable storage (static requests) or renders into
  // `scratch` (owned by the connection, capacity kept between requests) and points *bytes at it.
  // Returns the request's index in RequestSource::names(). *head is true for HEAD requests.
  virtual int Next(std::string& scratch, std::string_view* bytes, bool* head) = 0;
};

// Checks on each response of one request beyond "status < 400" (scenario `expect:`). Immutable
// and shared by every worker: Evaluate runs on worker threads concurrently.
class ResponseCheck {
 public:
  enum class Outcome {
    kPass,       // the response is ok
    kHttpError,  // a status >= 400 the check does not expect: counted as http_4xx / http_5xx
    kFail,       // counted as check_failed
  };
  virtual ~ResponseCheck() = default;
  // What the parser must keep: these header values (lower-case names) and this many body bytes.
  virtual const std::vector<std::string>& header_names() const = 0;
  virtual size_t max_body_bytes() const = 0;
  // Judges one complete response. `reason`, when not null, receives a one-line explanation of a
  // kFail (the engine asks only for the first failure of each request, so passing costs nothing).
  virtual Outcome Evaluate(int status, const http::ResponseCapture& kept, uint64_t body_bytes,
                           std::string* reason) const = 0;
};

class RequestSource {
 public:
  virtual ~RequestSource() = default;
  virtual std::vector<std::string> names() const = 0;  // request names, for per-request statistics
  // Per-request timeouts in the order of names(); 0 or missing = Config::timeout_ns.
  virtual std::vector<int64_t> timeouts_ns() const { return {}; }
  // Response checks in the order of names(); null or missing = status < 400 is ok. Owned by the
  // source.
  virtual std::vector<const ResponseCheck*> checks() const { return {}; }
  virtual std::unique_ptr<RequestStream> ForWorker(int worker_index, uint64_t seed) const = 0;
};

// ---------------------------------------------------------------------------------------------
// Transport security (https://). Everything TLS in Config lives in this one struct.
struct TlsOptions {
  bool enabled = false;      // https://: every connection does a TLS handshake before its first request
  std::string server_name;   // SNI (host names only) and the name or IP literal the certificate must match
  bool verify = true;        // false (--insecure): any certificate is accepted, and every output says so
  std::string ca_file;       // PEM file of CA certificates trusted besides the system store ("" = none)
  std::string cert_file;     // client certificate (PEM) for mutual TLS; with key_file
  std::string key_file;      // its private key (PEM)
  bool resume = true;        // offer the worker's latest session on reconnect; false: a full handshake every time
};

// Builds the TLS client context once, so that a missing or unreadable file, or a key that does not
// match its certificate, is a one-line error before any load is sent.
Status CheckTls(const TlsOptions& tls);

// ---------------------------------------------------------------------------------------------
// The HTTP version. kAuto: https:// offers h2 and http/1.1 by ALPN and speaks what the server
// picks; http:// speaks HTTP/1.1. kHttp1: HTTP/1.1 only. kHttp2: https:// must get h2 by ALPN;
// http:// speaks h2c with prior knowledge (no upgrade).
enum class HttpVersion { kAuto, kHttp1, kHttp2 };

struct HttpOptions {
  HttpVersion version = HttpVersion::kAuto;
  // HTTP/2: requests in flight per connection at most; 0 = what the server's
  // SETTINGS_MAX_CONCURRENT_STREAMS allows, capped at kDefaultMaxStreams.
  int max_streams = 0;
};
constexpr int kDefaultMaxStreams = 100;
constexpr int kMaxStreamsLimit = 10000;  // --max-streams at most

// A source that always sends the same pre-encoded request.
std::unique_ptr<RequestSource> MakeStaticSource(std::string name, std::string bytes, bool head);

struct Config {
  sys::Address address;
  Model model = Model::kClosed;
  Arrival arrival = Arrival::kUniform;
  std::vector<RateSegment> rate_profile;  // open model; total duration = sum of segments
  int64_t duration_ns = 10'000'000'000;   // closed model (open: derived from the profile)
  int threads = 1;
  int connections = 50;              // closed: connection count; open: cap on connections
  int64_t timeout_ns = 10'000'000'000;
  int64_t connect_timeout_ns = 0;    // 0 = min(timeout, 5s)
  int64_t think_time_ns = 0;         // closed model only
  int64_t drain_ns = 1'000'000'000;  // after the end, how long in-flight requests may still finish
  uint64_t seed = 1;
  // Open model, uniform arrivals, one shard of several processes (headroom run --shard I/N, whose
  // rate_profile is already 1/N of the test's): the fraction I/N of one of this process's arrival
  // intervals by which its arrivals are offset, so that the N processes' arrivals interleave into the
  // single-process schedule. 0 for a process that runs the whole test. In [0, 1).
  double shard_phase = 0;
  const RequestSource* source = nullptr;  // REQUIRES: outlives the run
  // Set by anyone (signal handler, abort policy) to end the run early. May be null.
  const std::atomic<bool>* stop = nullptr;
  // A second, independent stop flag (e.g. an abort-on-fail policy beside the signal handler).
  const std::atomic<bool>* abort = nullptr;
  Io io = Io::kEpoll;  // the I/O path (see Io)
  TlsOptions tls;  // https://
  HttpOptions http;
};

struct Counters {
  int64_t intended = 0;     // requests the pacer scheduled (open) / sent (closed)
  int64_t sent = 0;         // requests written to a connection
  int64_t completed = 0;    // responses received (any status)
  int64_t ok = 0;           // responses with status < 400
  int64_t errors = 0;       // failed requests, all classes
  int64_t delayed = 0;      // open model: requests that waited in the generator for a connection
  int64_t waited_at_cap = 0;  // of those, requests that waited while every allowed connection was open
  int64_t unfinished = 0;   // in flight or queued when the run ended (neither success nor error)
  int64_t bytes_read = 0;
  int64_t bytes_written = 0;
  int64_t connections_opened = 0;  // connections established (connect completed)
  int64_t connect_attempts = 0;    // connections tried, whether they were established or not
  int64_t max_queue_depth = 0;
  int64_t tls_handshakes_new = 0;      // full TLS handshakes completed
  int64_t tls_handshakes_resumed = 0;  // abbreviated handshakes that resumed a saved session
  int64_t h2_goaways = 0;      // HTTP/2 GOAWAY frames received
  int64_t h2_resets = 0;       // HTTP/2 RST_STREAM frames received
  int64_t h2_retried = 0;      // requests resent on another connection (refused by GOAWAY or REFUSED_STREAM)
  std::array<int64_t, kErrorClassCount> by_class{};
  std::array<int64_t, 600> status_codes{};
  void Add(const Counters& o);
};

struct RequestStats {
  std::string name;
  Histogram response_time_us;
  Counters counters;
  std::string first_check_failure;  // why the first response that failed its checks failed ("" = none)
};

// One second of the run, merged over workers.
struct SecondStats {
  int64_t second = 0;  // 0-based from the run's start
  double span_s = 1.0; // length of the interval (the last one may be partial)
  Counters counters;
  Histogram response_time_us;
};

struct RunStats {
  Model model = Model::kClosed;
  double requested_rps = 0;  // open model: mean of the profile
  double elapsed_s = 0;
  bool interrupted = false;
  int threads = 0;
  int connections = 0;
  Counters counters;
  Histogram response_time_us;
  Histogram service_time_us;
  Histogram pacer_lateness_us;  // open model: how late the generator issued each request
  Histogram connect_time_us;    // TCP connect: from the socket call to the connection being established
  Histogram tls_handshake_time_us;  // https: from the established TCP connection to the end of the handshake
  std::string tls_version;      // of the first completed handshake, e.g. "TLSv1.3" ("" = none completed)
  std::string tls_cipher;       // e.g. "TLS_AES_256_GCM_SHA384"
  std::string alpn;             // the application protocol the server chose by ALPN ("" = none)
  std::string first_tls_error;  // "tls_verify: certificate has expired" ("" = no TLS failure)
  std::string protocol = "http/1.1";  // spoken: "http/1.1", "h2" (over TLS) or "h2c" (cleartext)
  int h2_max_streams = 0;       // HTTP/2: the per-connection stream limit in force (the lowest seen)
  int h2_peak_streams = 0;      // HTTP/2: most requests in flight on one connection at once
  std::string first_h2_error;   // "h2_protocol: ..." ("" = none)
  std::vector<RequestStats> requests;
  double cpu_user_s = 0;
  double cpu_system_s = 0;
  int64_t rss_bytes = 0;
  Io io = Io::kEpoll;     // the path that ran (never kAuto)
  std::string io_notice;  // set when Io::kAuto fell back to epoll: one line saying why
};

// Called on the calling thread of Run() once per completed second, in order.
using SecondCallback = std::function<void(const SecondStats&)>;

// Runs the load described by config, blocking until the profile/duration ends or *stop is set.
// Returns an error only for set-up failures (no request source, cannot create threads...).
Result<RunStats> Run(const Config& config, const SecondCallback& on_second);

}  // namespace headroom::engine
