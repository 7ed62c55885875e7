// One load-generating worker thread (private to the engine). Owns an epoll loop, its connections,
// its pacer and its histograms; hands one interval snapshot per second to the reporter through a
// mutex taken once per second, never per request.
#pragma once
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/pacer.h"
#include "engine/tls.h"
#include "http/http.h"

namespace headroom::engine {

// Responses are timed when their last bytes reached the socket: each plaintext socket asks for the
// kernel's receive time (SO_TIMESTAMPNS, CLOCK_REALTIME), which a worker turns into monotonic time
// with the offset it samples at each wake-up. Sockets that cannot have it are timed when read.
bool EnableReceiveTimes(int fd);
// The receive time carried by one control message, or -1 when it is not one.
int64_t ReceiveTimeRealNs(const cmsghdr* cm);
// CLOCK_REALTIME - CLOCK_MONOTONIC, now.
int64_t RealMinusMonoNs(int64_t mono_now_ns);

struct Interval {
  int64_t second = 0;
  double span_s = 1.0;
  Counters counters;
  std::unique_ptr<Histogram> response_time_us;
};

// The reporter drains `ready`; the worker recycles histograms from `spare`. Guarded by mu.
struct Handoff {
  std::mutex mu;
  std::vector<Interval> ready;
  std::vector<std::unique_ptr<Histogram>> spare;
  bool done = false;
};

class Worker {
 public:
  // `profile` is this worker's share of the open-model rate; `connections` its share of the cap.
  // `tls` (null for plaintext) outlives the worker.
  Worker(const Config& config, int index, int64_t start_ns, int connections, std::vector<RateSegment> profile,
         double phase, const TlsContext* tls = nullptr);
  ~Worker();
  void Run();  // the thread body

  Handoff& handoff() { return handoff_; }
  // Valid after Run() returns.
  const Histogram& service_time_us() const { return service_us_; }
  const Histogram& pacer_lateness_us() const { return lateness_us_; }
  const std::vector<RequestStats>& requests() const { return requests_; }
  bool interrupted() const { return interrupted_; }
  const Histogram& connect_time_us() const { return connect_us_; }
  const Histogram& tls_handshake_time_us() const { return handshake_us_; }
  const std::string& tls_version() const { return tls_version_; }
  const std::string& tls_cipher() const { return tls_cipher_; }
  const std::string& alpn() const { return alpn_; }
  const std::string& first_tls_error() const { return first_tls_error_; }

 private:
  enum class State : uint8_t { kClosed, kConnecting, kHandshaking, kIdle, kWriting, kReading, kWaiting };
  struct Conn {
    int fd = -1;
    SSL* ssl = nullptr;         // https: the TLS session on fd
    TlsSocket tls_socket;       // what ssl reads and writes through
    bool tls_ready = false;     // the handshake completed
    uint32_t generation = 0;
    State state = State::kClosed;
    bool reused = false;  // has completed a response before: a silent close may be retried once
    int request_id = 0;
    int64_t connect_start_ns = 0;
    int64_t handshake_start_ns = 0;  // https: when TCP was established
    int64_t intended_ns = 0;
    int64_t write_ns = 0;
    int64_t timeout_ns = 0;  // of the request in flight
    const char* out = nullptr;
    size_t out_len = 0;
    size_t out_off = 0;
    uint64_t response_bytes = 0;
    http::ResponseParser parser;
    http::ResponseCapture kept;  // headers and body kept for the request's checks
    std::string scratch;
  };

  void Loop();
  void Drain();
  void FirePacer(int64_t now);
  void Dispatch(int64_t intended_ns, int64_t now);
  void OpenConnection(Conn& c, int64_t now);
  void GiveWork(Conn& c, int64_t now);
  void Send(Conn& c, int64_t intended_ns, int64_t now);
  void ContinueWrite(Conn& c, int64_t now);
  void OnEvent(uint64_t data, uint32_t events, int64_t now);
  void OnConnected(Conn& c, int64_t now);
  void ContinueHandshake(Conn& c, int64_t now);
  void FailTls(Conn& c, ErrorClass cls, const std::string& reason, int64_t now);
  // > 0, 0 = EOF, kTlsRetry, kTlsError; *received_real_ns: the kernel's receive time, when given.
  ssize_t ReadSome(Conn& c, char* buf, size_t len, int64_t* received_real_ns);
  ssize_t WriteSome(Conn& c, const char* buf, size_t len);  // > 0, kTlsRetry, kTlsError
  void OnReadable(Conn& c, int64_t now, bool closing);
  void OnEof(Conn& c, int64_t now, bool reset);
  void Complete(Conn& c, int64_t at, int64_t now);  // at: when the response arrived
  int64_t ArrivalNs(const Conn& c, int64_t received_real_ns, int64_t now) const;  // within [sent, now]
  void Record(Conn& c, int64_t now);
  void Unsolicited(Conn& c, int64_t now);
  bool PeerSpokeFirst(const Conn& c) const;
  void Unlist(Conn& c);
  void FailRequest(Conn& c, ErrorClass cls, int64_t now);
  void FailConnect(Conn& c, ErrorClass cls, int64_t now);
  void CloseConn(Conn& c);
  void AfterClose(Conn& c, int64_t now, bool backoff);
  void Sweep(int64_t now);
  void RunTimers(int64_t now);
  void Flush(int64_t now, bool final);
  void CountError(ErrorClass cls, int request_id);
  int64_t NextWakeNs(int64_t now) const;
  bool StopSignalled() const;
  bool Draining() const { return draining_; }

  const Config& config_;
  const int64_t start_ns_;
  const int64_t end_ns_;
  const int64_t connect_timeout_ns_;
  const bool open_;
  sys::Poller poller_;
  std::unique_ptr<RequestStream> stream_;
  Pacer pacer_;
  int64_t next_arrival_ns_ = -1;  // absolute; -1 when the profile has ended

  std::vector<Conn> conns_;
  std::vector<int> idle_;            // indices of idle connections
  std::vector<int> closed_;          // indices of closed slots (open model)
  std::deque<int64_t> pending_;      // intended start times waiting for a connection
  std::vector<std::pair<int64_t, int>> timers_;  // min-heap of (due ns, conn index): think time, back-off
  int in_flight_ = 0;
  int open_conns_ = 0;
  bool draining_ = false;
  bool interrupted_ = false;

  std::unique_ptr<char[]> read_buf_;
  bool stamps_ = true;               // plaintext sockets report their receive times
  int64_t real_minus_mono_ns_ = 0;   // sampled at each wake-up
  Counters interval_;
  std::unique_ptr<Histogram> interval_us_;
  int64_t interval_second_ = 0;
  int64_t next_sweep_ns_ = 0;
  Histogram service_us_;
  Histogram lateness_us_;
  std::vector<RequestStats> requests_;
  std::vector<int64_t> timeouts_ns_;  // per request id
  std::vector<const ResponseCheck*> checks_;  // per request id; null = status < 400 is ok
  Handoff handoff_;

  // Transport (https).
  const TlsContext* tls_ = nullptr;
  SessionCache sessions_;
  Histogram connect_us_;
  Histogram handshake_us_;
  std::string tls_version_, tls_cipher_, alpn_;  // of this worker's first completed handshake
  std::string first_tls_error_;
};

}  // namespace headroom::engine
