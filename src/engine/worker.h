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
#include "engine/tls.h"
#include "engine/worker_core.h"
#include "http/http.h"

namespace headroom::engine {

class Worker : public WorkerCore {
 public:
  // `profile` is this worker's share of the open-model rate; `connections` its share of the cap.
  // `tls` (null for plaintext) outlives the worker.
  Worker(const Config& config, int index, int64_t start_ns, int connections, std::vector<RateSegment> profile,
         double phase, const TlsContext* tls = nullptr);
  ~Worker();
  void Run();  // the thread body

  // Valid after Run() returns.
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
  void Dispatch(int64_t intended_ns, int64_t now) override;
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
  bool Draining() const { return draining_; }

  sys::Poller poller_;
  std::vector<Conn> conns_;
  std::unique_ptr<char[]> read_buf_;
  bool stamps_ = true;               // sockets report their receive times (SO_TIMESTAMPNS)
  int64_t real_minus_mono_ns_ = 0;   // sampled at each wake-up

  // Transport (https).
  const TlsContext* tls_ = nullptr;
  SessionCache sessions_;
  Histogram handshake_us_;
  std::string tls_version_, tls_cipher_, alpn_;  // of this worker's first completed handshake
  std::string first_tls_error_;
};

}  // namespace headroom::engine
