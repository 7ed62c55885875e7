// Private to src/target: one worker thread's event loop (epoll, edge-triggered connections).
// A Worker owns its listener fd, its epoll fd and every connection it accepted. Only Run() and
// served() are called from outside: Run() on the worker thread, served() from any thread.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <queue>
#include <string>
#include <vector>

#include "core/status.h"
#include "target/request.h"
#include "target/target.h"

namespace headroom::target {

struct Conn;
class Shop;
struct ShopReply;

class Worker {
 public:
  // Takes ownership of listen_fd. stop_fd is an eventfd shared by all workers (not owned);
  // it becomes readable once stop is set. start_ns anchors the stall periods. `shop` (may be
  // null, not owned, must outlive the worker's last Run) answers the /shop/ routes and /metrics.
  static Result<std::unique_ptr<Worker>> Create(const Options& options, int listen_fd, int stop_fd,
                                                const std::atomic<bool>* stop, int64_t start_ns,
                                                Shop* shop = nullptr);
  ~Worker();

  void Run();  // returns after stop; closes every connection
  uint64_t served() const { return served_published_.load(std::memory_order_relaxed); }

 private:
  enum class FlushResult { kDone, kBlocked, kWaiting, kError };
  struct Timer {
    int64_t at_ns;
    uint64_t key;
    bool operator>(const Timer& o) const { return at_ns > o.at_ns; }
  };

  Worker(const Options& options, int listen_fd, int stop_fd, const std::atomic<bool>* stop,
         int64_t start_ns);
  // A shop request: its response waits in the connection's queue until a handler completes it.
  void SubmitToShop(Conn& c, const Request& req, bool close);
  void DrainShopReplies();
  bool InStall(int64_t now_ns, int64_t* stall_end_ns) const;
  bool WaitOutStall();
  int64_t NextWakeNs() const;
  void Dispatch(uint64_t key, uint32_t events);
  void AcceptAll();
  Conn* Lookup(uint64_t key);
  void Service(Conn& c);
  bool ReadSome(Conn& c);
  void Consume(Conn& c, const char* data, size_t n);
  void HandleRequest(Conn& c, const Request& req);
  void QueueResponse(Conn& c, int64_t ready_ns, const Route& route, int status, bool head,
                     bool close);
  void QueueRaw(Conn& c, std::string_view bytes);
  bool ErrorDue();
  FlushResult Flush(Conn& c);
  void ArmTimer(Conn& c, int64_t at_ns);
  void RunTimers();
  void BeginLinger(Conn& c);
  void DrainLinger(Conn& c);
  void Close(Conn& c);

  Options options_;
  int listen_fd_;
  int stop_fd_;
  int epoll_fd_ = -1;
  const std::atomic<bool>* stop_;
  int64_t start_ns_;
  int64_t now_ns_ = 0;
  int64_t listener_paused_until_ns_ = 0;
  int64_t error_ppm_ = 0;
  uint64_t error_seq_ = 0;
  uint32_t next_serial_ = 1;
  uint64_t served_ = 0;
  std::atomic<uint64_t> served_published_{0};
  std::vector<std::unique_ptr<Conn>> conns_;  // indexed by fd
  std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers_;
  std::string ok_response_;  // "/" keep-alive answer, built once
  std::unique_ptr<char[]> read_buf_;

  // Replies from the shop's handler threads, handed over under done_mu_ and signalled on done_fd_.
  struct ShopDone {
    uint64_t conn_key = 0;
    uint64_t id = 0;
    int status = 0;
    std::string body;
  };
  Shop* shop_ = nullptr;
  int done_fd_ = -1;
  uint64_t next_shop_id_ = 1;
  std::mutex done_mu_;
  std::vector<ShopDone> done_;
};

}  // namespace headroom::target
