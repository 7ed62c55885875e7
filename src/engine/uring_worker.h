// One load-generating worker thread on io_uring (private to the engine): the same connection state
// machine, pacing, timeouts, error classes and per-second hand-off as the epoll Worker, with its I/O
// batched. Each loop iteration queues the connects, sends, cancels and closes it decides on, then
// submits them and waits for completions in one io_uring_enter (with the time of the next wake-up
// as the wait's timeout, so no timer is armed per request); with many requests in flight that wait
// gathers several completions per wake-up. Each connection has one multishot receive (recvmsg)
// armed while it is open; received bytes land in a provided buffer ring shared by the worker's
// connections, with the kernel's receive time, and go back to the ring as soon as the parser has
// seen them. Responses are timed at that receive time. Requests are sent from their pre-encoded
// bytes (or the connection's scratch) without a copy.
// Plaintext HTTP/1.1 only.
#pragma once
#include <liburing.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/worker_core.h"
#include "http/http.h"

namespace headroom::engine {

class UringWorker : public WorkerCore {
 public:
  // As Worker's. REQUIRES: ResolveIo said io_uring is available.
  UringWorker(const Config& config, int index, int64_t start_ns, int connections, std::vector<RateSegment> profile,
              double phase);
  ~UringWorker();
  UringWorker(const UringWorker&) = delete;
  UringWorker& operator=(const UringWorker&) = delete;
  // Sets up the ring and the buffer ring (on the calling thread; Run then submits from its own, the
  // ring being created disabled so that its single submitter is the worker thread).
  Status Init();
  void Run();  // the thread body


 private:
  enum class State : uint8_t { kClosed, kConnecting, kIdle, kWriting, kReading, kWaiting };
  enum class Op : uint8_t { kConnect = 1, kSend, kRecv, kCancel, kClose };
  struct Conn {
    int fd = -1;
    uint32_t generation = 0;
    State state = State::kClosed;
    bool reused = false;    // has completed a response before: a silent close may be retried once
    bool sending = false;   // a send is in the kernel
    bool resend = false;    // the next request waits for that send's completion before it goes
    int request_id = 0;
    int64_t connect_start_ns = 0;
    int64_t intended_ns = 0;
    int64_t write_ns = 0;
    int64_t timeout_ns = 0;  // of the request in flight
    const char* out = nullptr;
    size_t out_len = 0;
    size_t out_off = 0;
    uint64_t response_bytes = 0;
    http::ResponseParser parser;
    http::ResponseCapture kept;  // headers and body kept for the request's checks
    // Templated requests are written here. Two, because a response can come before its request's
    // send completes: the next request then goes to the other one while the kernel may still read.
    std::string scratch[2];
    uint8_t scratch_at = 0;
  };

  void Loop();
  void Drain();
  void FinishCloses();
  void WaitAndHandle(int64_t wait_ns, bool pace);
  void OnCompletion(const io_uring_cqe& cqe, int64_t now);
  void Dispatch(int64_t intended_ns, int64_t now) override;
  void OpenConnection(Conn& c, int64_t now);
  void OnConnected(Conn& c, int res, int64_t now);
  void GiveWork(Conn& c, int64_t now);
  void Send(Conn& c, int64_t intended_ns, int64_t now);
  void QueueSend(Conn& c);
  void OnSent(Conn& c, int res, int64_t now);
  void ArmReceive(Conn& c);
  // `at`: when the bytes reached the socket (the kernel's receive time), `now`: when they are handled.
  void OnReceived(Conn& c, const char* p, size_t n, int64_t at, int64_t now);
  int64_t ArrivalNs(const Conn& c, io_uring_recvmsg_out* out, int64_t now) const;
  void Enter(int64_t wait_ns);
  void OnEof(Conn& c, int64_t now, bool reset);
  void Complete(Conn& c, int64_t at, int64_t now);
  void Record(Conn& c, int64_t now);
  void Unsolicited(Conn& c, int64_t now);
  void Unlist(Conn& c);
  void FailRequest(Conn& c, ErrorClass cls, int64_t now);
  void FailConnect(Conn& c, ErrorClass cls, int64_t now);
  void CloseConn(Conn& c);
  void AfterClose(Conn& c, int64_t now, bool backoff);
  void Sweep(int64_t now);
  void RunTimers(int64_t now);
  io_uring_sqe* Sqe(unsigned n);  // a free entry, with n-1 more after it (submits first if needed)
  uint64_t Tag(const Conn& c, Op op) const;
  void RecycleBuffer(uint16_t id);

  io_uring ring_{};
  bool ring_ok_ = false;
  bool disabled_ = false;             // created disabled: Run enables it on the worker thread
  bool registered_ = false;           // the ring's descriptor is registered (io_uring_register_ring_fd)
  bool min_wait_ = false;             // the kernel takes a minimum wait (IORING_FEAT_MIN_TIMEOUT, 6.12)
  bool stamps_ = true;                // every socket reports its receive times (SO_TIMESTAMPNS)
  int64_t real_minus_mono_ns_ = 0;    // CLOCK_REALTIME - CLOCK_MONOTONIC, sampled at each wake-up
  msghdr recv_msg_{};                 // the multishot receive's layout: no address, one timestamp
  const unsigned buf_count_;          // receive buffers (a power of 2)
  io_uring_buf_ring* buf_ring_ = nullptr;
  std::unique_ptr<char[]> buffers_;   // buf_count_ buffers of kBufBytes, in one allocation
  int buffers_returned_ = 0;          // added to the buffer ring since its tail was last published
  int closes_pending_ = 0;            // closes queued whose completion has not come
  bool finished_ = false;             // after the drain: completions only release resources

  std::vector<Conn> conns_;
};

}  // namespace headroom::engine
