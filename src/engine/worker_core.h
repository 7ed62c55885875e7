// What every load-generating worker thread shares, whatever its I/O (private to the engine): the
// schedule (the pacer, requests waiting for a connection, think-time and back-off timers), the
// per-request and per-second statistics, the hand-off of one interval snapshot per second to the
// reporter (a mutex taken once per second, never per request), and the stop flags. The I/O loop
// and the connections belong to the subclass (Worker: epoll; UringWorker: io_uring).
#pragma once
#include <sys/socket.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "engine/engine.h"
#include "engine/pacer.h"
#include "http/http.h"

namespace headroom::engine {

inline constexpr int64_t kSecondNs = 1'000'000'000;
inline constexpr int64_t kSweepEveryNs = 10'000'000;  // request and connect timeouts are checked this often
inline constexpr int64_t kMaxWaitNs = 50'000'000;     // the stop flag is seen within this
inline constexpr int64_t kBackoffNs = 10'000'000;     // before reconnecting after a failed connect (closed model)

inline int64_t ToUs(int64_t ns) { return ns < 1000 ? 1 : ns / 1000; }
ErrorClass ClassifyConnectErrno(int err);

// Responses are timed when their last bytes reached the socket: each plaintext socket asks for the
// kernel's receive time (SO_TIMESTAMPNS, CLOCK_REALTIME), which a worker turns into monotonic time
// with the offset it samples at each wake-up. Sockets that cannot have it are timed when read.
bool EnableReceiveTimes(int fd);
// The receive time carried by one control message, or -1 when it is not one.
int64_t ReceiveTimeRealNs(const cmsghdr* cm);
// CLOCK_REALTIME - CLOCK_MONOTONIC, now.
int64_t RealMinusMonoNs();

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

class WorkerCore {
 public:
  virtual ~WorkerCore() = default;
  Handoff& handoff() { return handoff_; }
  // Valid after the thread body returns.
  const Histogram& service_time_us() const { return service_us_; }
  const Histogram& pacer_lateness_us() const { return lateness_us_; }
  const std::vector<RequestStats>& requests() const { return requests_; }
  bool interrupted() const { return interrupted_; }
  const Histogram& connect_time_us() const { return connect_us_; }

 protected:
  // `profile` is this worker's share of the open-model rate; `connections` its share of the cap:
  // slots 0..connections-1, all closed at first.
  WorkerCore(const Config& config, int index, int64_t start_ns, int connections, std::vector<RateSegment> profile,
             double phase);

  // Sends a request due at intended_ns on an idle connection, or queues it (opening a connection
  // when under the cap).
  virtual void Dispatch(int64_t intended_ns, int64_t now) = 0;

  void StartSchedule(int64_t now);  // the first sweep and (open model) the first arrival
  bool StopSignalled() const;
  int64_t NextWakeNs(int64_t now) const;  // the next arrival, timer, sweep, second or the end
  void FirePacer(int64_t now);            // dispatches every arrival due by now
  // Counts a complete response of request `request_id` (code, kept headers and body for its
  // checks) sent at write_ns, due at intended_ns, complete at `at`. The caller takes it off
  // in_flight_.
  void RecordResponse(int request_id, int code, const http::ResponseCapture& kept, uint64_t body_bytes,
                      int64_t intended_ns, int64_t write_ns, int64_t at);
  void CountError(ErrorClass cls, int request_id);
  void ExpireQueued(int64_t now);  // requests waiting in the generator past their timeout fail
  void Flush(int64_t now, bool final);
  void Finish(int64_t now);  // the last (partial) second, and the reporter is told the thread is done

  const Config& config_;
  const int64_t start_ns_;
  const int64_t end_ns_;
  const int64_t connect_timeout_ns_;
  const bool open_;
  std::unique_ptr<RequestStream> stream_;
  Pacer pacer_;
  int64_t next_arrival_ns_ = -1;  // absolute; -1 when the profile has ended

  std::vector<int> idle_;                        // indices of idle connections
  std::vector<int> closed_;                      // indices of closed slots (open model)
  std::deque<int64_t> pending_;                  // intended start times waiting for a connection
  std::vector<std::pair<int64_t, int>> timers_;  // min-heap of (due ns, conn index): think time, back-off
  int in_flight_ = 0;
  int64_t service_ewma_ns_ = 0;  // moving average of the service time (a 16-response window)
  int open_conns_ = 0;
  bool draining_ = false;
  bool interrupted_ = false;

  Counters interval_;
  std::unique_ptr<Histogram> interval_us_;
  int64_t interval_second_ = 0;
  int64_t next_sweep_ns_ = 0;
  Histogram service_us_;
  Histogram lateness_us_;
  Histogram connect_us_;
  std::vector<RequestStats> requests_;
  std::vector<int64_t> timeouts_ns_;          // per request id
  std::vector<const ResponseCheck*> checks_;  // per request id; null = status < 400 is ok
  Handoff handoff_;
};

}  // namespace headroom::engine
