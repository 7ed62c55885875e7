// One load-generating worker thread for HTTP/2 (private to the engine): h2 over TLS (chosen by
// ALPN) or h2c with prior knowledge, on an epoll loop. The schedule, statistics and hand-off are
// WorkerCore's (worker_core.h), as for the HTTP/1.1 workers.
//
// Each connection has one nghttp2 session (its own HPACK state and flow-control windows) and a
// fixed array of stream slots, one per request it may have in flight (the lower of --max-streams
// and the server's SETTINGS_MAX_CONCURRENT_STREAMS). Open model: an arrival goes to any connection
// with a free slot; a new connection opens (up to the cap) only when the waiting requests exceed
// the slots already on their way. Closed model: every connection keeps all its slots busy.
//
// Allocation: slots, their request and response buffers and the write buffer keep their capacity
// from one request to the next; nghttp2 allocates its own per-stream state (and header copies)
// inside the session, which headroom does not control.
#pragma once
#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/tls.h"
#include "engine/worker_core.h"
#include "http/http.h"
#include "sys/sys.h"

namespace headroom::engine {

class H2Worker final : public WorkerCore {
 public:
  // `tls` (null for h2c) outlives the worker and offers h2 by ALPN.
  H2Worker(const Config& config, int index, int64_t start_ns, int connections, std::vector<RateSegment> profile,
           double phase, const TlsContext* tls);
  ~H2Worker();
  H2Worker(const H2Worker&) = delete;
  H2Worker& operator=(const H2Worker&) = delete;
  void Run();  // the thread body

  // Valid after Run() returns.
  const Histogram& tls_handshake_time_us() const { return handshake_us_; }
  const std::string& tls_version() const { return tls_version_; }
  const std::string& tls_cipher() const { return tls_cipher_; }
  const std::string& alpn() const { return alpn_; }
  const std::string& first_tls_error() const { return first_tls_error_; }
  const std::string& first_h2_error() const { return first_h2_error_; }
  int max_streams() const { return max_streams_seen_; }
  int peak_streams() const { return peak_streams_; }

 private:
  enum class State : uint8_t { kClosed, kConnecting, kHandshaking, kReady, kBackoff };
  struct Conn;
  struct Slot {
    Conn* conn = nullptr;
    int index = 0;
    bool in_use = false;      // a request owns the slot (sent, or being cancelled)
    bool cancelled = false;   // timed out and reset by us: already counted, waits for nghttp2 to close it
    bool headers_sent = false;
    bool rst_received = false;
    bool refused = false;     // a header the response builder refused (bad :status, too large)
    bool thinking = false;    // closed model: think time before its next request
    int32_t stream_id = -1;
    int request_id = 0;
    int retries = 0;
    int64_t intended_ns = 0;
    int64_t submit_ns = 0;    // when the request was handed to the session (its timeout runs from here)
    int64_t write_ns = 0;     // when its HEADERS frame was written (service time)
    int64_t timeout_ns = 0;
    size_t body_off = 0;
    http::H2Request request;
    http::H2ResponseBuilder response;
    http::ResponseCapture kept;
    std::string scratch;      // rendered request bytes
    std::vector<nghttp2_nv> nv;
    std::string_view split_of;  // the stable request bytes `request` and `nv` were built from
  };
  struct Conn {
    H2Worker* worker = nullptr;
    int fd = -1;
    SSL* ssl = nullptr;
    TlsSocket tls_socket;
    bool tls_ready = false;
    uint32_t generation = 0;
    State state = State::kClosed;
    nghttp2_session* session = nullptr;
    bool got_settings = false;  // the server's first SETTINGS arrived
    bool goaway = false;        // the server sent GOAWAY: no new streams here
    bool failed = false;        // broken: closed once the current step returns (never inside a callback)
    ErrorClass fail_class = ErrorClass::kReset;  // what its requests in flight then fail with
    bool completed_any = false;
    bool in_avail = false;      // listed in avail_
    bool dirty = false;         // listed in dirty_: has output to write at the next flush
    int active = 0;             // slots in use and not cancelled
    int limit = 0;              // stream slots usable now
    int64_t connect_start_ns = 0;
    int64_t handshake_start_ns = 0;
    int64_t ready_ns = 0;
    int64_t refill_by_ns = -1;  // closed model: its free streams get their requests by then
    int lowat = 1;              // SO_RCVLOWAT while its refill is gathered
    std::vector<Slot> slots;
    std::vector<int> free_slots;
    std::string out;            // bytes from the session not yet written
    size_t out_off = 0;
  };
  struct Waiting {
    int64_t intended_ns;
    int retries;
  };
  struct Timer {
    int64_t due_ns;
    int conn;
    int slot;  // -1: reconnect after a back-off; -2: a gathered refill (kRefillTimer)
    uint32_t generation;
    bool operator>(const Timer& o) const { return due_ns > o.due_ns; }
  };

  // nghttp2 callbacks (user_data is the Conn).
  static ssize_t OnDataSource(nghttp2_session*, int32_t, uint8_t*, size_t, uint32_t*, nghttp2_data_source*, void*);
  static int OnBeginHeaders(nghttp2_session*, const nghttp2_frame*, void*);
  static int OnHeader(nghttp2_session*, const nghttp2_frame*, const uint8_t*, size_t, const uint8_t*, size_t, uint8_t,
                      void*);
  static int OnDataChunk(nghttp2_session*, uint8_t, int32_t, const uint8_t*, size_t, void*);
  static int OnFrameRecv(nghttp2_session*, const nghttp2_frame*, void*);
  static int OnFrameSend(nghttp2_session*, const nghttp2_frame*, void*);
  static int OnStreamClose(nghttp2_session*, int32_t, uint32_t, void*);
  static int OnError(nghttp2_session*, int, const char*, size_t, void*);

  void Loop();
  void Drain();
  void Dispatch(int64_t intended_ns, int64_t now) override;
  void DispatchWaiting(Waiting w, int64_t now);
  bool TakeWaiting(Waiting* w);  // the oldest retried request, else the oldest waiting arrival
  size_t WaitingCount() const { return pending_.size() + retried_.size(); }
  void OpenConnection(Conn& c, int64_t now);
  void OnEvent(uint64_t data, uint32_t events, int64_t now);
  void ContinueHandshake(Conn& c, int64_t now);
  void StartSession(Conn& c, int64_t now);
  bool Submit(Conn& c, Slot& s, Waiting w, int64_t now);
  void Refill(Conn& c, int64_t now);
  void SendPending(Conn& c);
  void FlushDirty(int64_t now);
  void OnReadable(Conn& c, int64_t now, bool closing);
  void AfterIo(Conn& c, int64_t now);
  void StreamClosed(Conn& c, Slot& s, uint32_t error_code);
  void FreeSlot(Conn& c, Slot& s);
  void ConnFailed(Conn& c, ErrorClass cls, const std::string& reason, int64_t now);
  void FailTls(Conn& c, ErrorClass cls, const std::string& reason, int64_t now);
  void FailConnect(Conn& c, ErrorClass cls, int64_t now);
  void CloseConn(Conn& c);
  void AfterClose(Conn& c, int64_t now, bool backoff);
  void Retry(Slot& s, ErrorClass otherwise);
  void NoteH2Error(const std::string& reason);
  void AddTimer(int64_t due_ns, Conn& c, int slot);
  void RunTimers(int64_t now);
  void Sweep(int64_t now);
  // > 0, 0 = EOF, kTlsRetry, kTlsError; *received_real_ns: the kernel's receive time when given.
  ssize_t ReadSome(Conn& c, char* buf, size_t len, int64_t* received_real_ns);
  ssize_t WriteSome(Conn& c, const char* buf, size_t len);
  bool RefillNow(Conn& c, int64_t now);
  void SetLowat(Conn& c, int lowat);
  int64_t WakeNs(int64_t now) const;  // WorkerCore's, or an earlier stream timer
  int Index(const Conn& c) const { return int(&c - conns_.data()); }

  const int slot_count_;  // stream slots per connection: --max-streams, or kDefaultMaxStreams
  sys::Poller poller_;
  int64_t now_ = 0;  // the loop's clock, for the callbacks
  int64_t real_minus_mono_ns_ = 0;  // sampled at each wake-up
  int64_t received_ns_ = -1;        // while the session takes a read: when its bytes arrived (monotonic)
  bool stamps_ = true;              // h2c sockets report their receive times

  std::vector<Conn> conns_;
  std::vector<int> avail_;     // open model: ready connections that may have a free slot
  std::vector<int> dirty_;     // open model: connections with requests submitted since the last flush
  std::deque<Waiting> retried_;  // requests refused by the server, to send again (before pending_)
  int64_t wire_bytes_ = 0;      // bytes read and responses completed, for the batch's low-water mark
  int64_t wire_responses_ = 0;
  std::vector<Timer> stream_timers_;  // min-heap: think time per stream slot, reconnect back-off, gathered refills
  int connecting_ = 0;  // connections on their way (TCP, TLS)

  nghttp2_session_callbacks* callbacks_ = nullptr;
  nghttp2_option* options_ = nullptr;
  std::unique_ptr<char[]> read_buf_;
  std::string scheme_;     // "https" | "http"
  std::string authority_;  // :authority when a request has no Host

  const TlsContext* tls_ = nullptr;
  SessionCache sessions_;
  Histogram handshake_us_;
  std::string tls_version_, tls_cipher_, alpn_;
  std::string first_tls_error_;
  std::string first_h2_error_;
  int max_streams_seen_ = 0;
  int peak_streams_ = 0;
};

}  // namespace headroom::engine
