#include "engine/uring_worker.h"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>

#include "core/clock.h"

namespace headroom::engine {
namespace {

constexpr unsigned kSqEntries = 512;
constexpr unsigned kCqEntries = 4096;  // completions beyond it wait in the kernel (IORING_FEAT_NODROP)
constexpr size_t kBufBytes = 4096;     // one provided receive buffer
constexpr int kBufGroup = 0;
// Waking up costs more than the system call itself. While many requests are in flight in the closed
// model, the worker asks the kernel to wait up to kMinWaitUs (never past the next timer) for half of
// them, at most kBatch, and handles them in one pass. Each response is recorded at the kernel's
// receive time, so the wait never shows in the latency. The open model does not wait so: its
// arrivals must go out on time (pacer lateness p99 76-84 us at 88,000/s without it, 104-123 us with).
constexpr unsigned kBatch = 32;
constexpr uint32_t kMinWaitUs = 100;
constexpr unsigned kFeatMinTimeout = 1U << 15;  // IORING_FEAT_MIN_TIMEOUT; liburing 2.3 predates it
constexpr int kPacerCheckEvery = 8;  // completions handled between two looks at the pacer (power of 2)


// Enough receive buffers for two responses in flight per connection, between 64 and 512 (2 MiB).
unsigned BufferCount(size_t connections) {
  unsigned n = 64;
  while (n < 512 && n < 2 * connections) n *= 2;
  return n;
}

}  // namespace

UringWorker::UringWorker(const Config& config, int index, int64_t start_ns, int connections,
                         std::vector<RateSegment> profile, double phase)
    : WorkerCore(config, index, start_ns, connections, std::move(profile), phase),
      buf_count_(BufferCount(size_t(std::max(connections, 1)))),
      conns_(std::max(connections, 1)) {}

UringWorker::~UringWorker() {
  // Leaving the ring cancels what is still in the kernel, releasing its hold on the sockets.
  if (ring_ok_) {
    if (buf_ring_ != nullptr) io_uring_unregister_buf_ring(&ring_, kBufGroup);
    io_uring_queue_exit(&ring_);
  }
  free(buf_ring_);
  for (Conn& c : conns_) {
    if (c.fd >= 0) close(c.fd);
  }
}

Status UringWorker::Init() {
  // Fewest wake-ups first: completions are processed only when the worker asks for them (Linux 6.1),
  // then cooperative task running (5.19), then the plain ring. The ring starts disabled so that the
  // worker thread, not this one, becomes its single submitter.
  const unsigned attempts[] = {
      IORING_SETUP_CQSIZE | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_R_DISABLED,
      IORING_SETUP_CQSIZE | IORING_SETUP_COOP_TASKRUN,
      IORING_SETUP_CQSIZE,
  };
  int rc = -EINVAL;
  for (unsigned flags : attempts) {
    io_uring_params p{};
    p.flags = flags;
    p.cq_entries = kCqEntries;
    rc = io_uring_queue_init_params(kSqEntries, &ring_, &p);
    if (rc == 0) {
      disabled_ = (flags & IORING_SETUP_R_DISABLED) != 0;
      min_wait_ = (p.features & kFeatMinTimeout) != 0 && (p.features & IORING_FEAT_EXT_ARG) != 0;
      break;
    }
    if (rc != -EINVAL) break;
  }
  if (rc < 0) return Fail(std::string("io_uring_setup: ") + std::strerror(-rc));
  ring_ok_ = true;
  // Enter() publishes entries itself: the submission array maps slot i to entry i, as liburing's
  // own submissions keep it.
  for (unsigned i = 0; i < ring_.sq.ring_entries; ++i) ring_.sq.array[i] = i;

  const size_t ring_bytes = buf_count_ * sizeof(io_uring_buf);
  void* mem = nullptr;
  if (posix_memalign(&mem, size_t(sysconf(_SC_PAGESIZE)), ring_bytes) != 0) return Fail("io_uring: out of memory");
  buf_ring_ = static_cast<io_uring_buf_ring*>(mem);
  std::memset(mem, 0, ring_bytes);
  io_uring_buf_ring_init(buf_ring_);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<uint64_t>(mem);
  reg.ring_entries = buf_count_;
  reg.bgid = kBufGroup;
  rc = io_uring_register_buf_ring(&ring_, &reg, 0);
  if (rc < 0) {
    free(buf_ring_);
    buf_ring_ = nullptr;
    return Fail(std::string("io_uring: cannot register a buffer ring: ") + std::strerror(-rc));
  }
  buffers_.reset(new char[buf_count_ * kBufBytes]);
  const int mask = io_uring_buf_ring_mask(buf_count_);
  for (unsigned i = 0; i < buf_count_; ++i) {
    io_uring_buf_ring_add(buf_ring_, buffers_.get() + i * kBufBytes, kBufBytes, uint16_t(i), mask, int(i));
  }
  io_uring_buf_ring_advance(buf_ring_, int(buf_count_));
  return Ok();
}

void UringWorker::Run() {
  // The default 50us timer slack would make every paced request that late; ask for 1ns.
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  // liburing 2.3 declares io_uring_enable_rings but does not export it: the register call itself.
  if (disabled_ && syscall(__NR_io_uring_register, ring_.ring_fd, IORING_REGISTER_ENABLE_RINGS, nullptr, 0) < 0) {
    // Cannot happen on a ring this thread may enable; the run then ends at once, as interrupted.
    interrupted_ = true;
  } else {
    registered_ = io_uring_register_ring_fd(&ring_) == 1;  // saves a file lookup per submission; optional
    recv_msg_.msg_controllen = CMSG_SPACE(sizeof(timespec));
    int64_t now = MonoNowNs();
    StartSchedule(now);
    if (!open_) {
      while (!closed_.empty()) {
        int i = closed_.back();
        closed_.pop_back();
        OpenConnection(conns_[i], now);
      }
    }
    Loop();
    Drain();
    FinishCloses();
  }
  Finish(MonoNowNs());
}

void UringWorker::Loop() {
  for (;;) {
    int64_t now = MonoNowNs();
    if (StopSignalled()) {
      interrupted_ = true;
      return;
    }
    if (open_) FirePacer(now);
    if (now >= end_ns_) return;
    if (open_ && next_arrival_ns_ < 0 && in_flight_ == 0 && pending_.empty()) return;
    RunTimers(now);
    if (now >= next_sweep_ns_) Sweep(now);
    if (now >= start_ns_ + (interval_second_ + 1) * kSecondNs) Flush(now, false);
    WaitAndHandle(std::clamp<int64_t>(NextWakeNs(now) - now, 0, kMaxWaitNs), open_);
  }
}

void UringWorker::Drain() {
  draining_ = true;
  interval_.unfinished += int64_t(pending_.size());
  pending_.clear();
  if (interrupted_) return;
  int64_t deadline = MonoNowNs() + std::min(config_.drain_ns, config_.timeout_ns);
  for (;;) {
    int64_t now = MonoNowNs();
    if (in_flight_ == 0) return;
    if (now >= deadline) {
      Sweep(now);
      return;
    }
    if (StopSignalled()) return;
    if (now >= next_sweep_ns_) Sweep(now);
    if (now >= start_ns_ + (interval_second_ + 1) * kSecondNs) Flush(now, false);
    WaitAndHandle(std::min<int64_t>(kSweepEveryNs, deadline - now), false);
  }
}

// The closes queued last (and those whose cancel is still in the kernel) complete before the worker
// ends, so that no descriptor outlives the run. Nothing else is counted any more.
void UringWorker::FinishCloses() {
  finished_ = true;
  const int64_t deadline = MonoNowNs() + kSecondNs;
  while (closes_pending_ > 0 && MonoNowNs() < deadline) WaitAndHandle(kSweepEveryNs, false);
}

// The one system call of an iteration: submits everything queued since the last one and waits for
// at least one completion, or until wait_ns passes.
void UringWorker::WaitAndHandle(int64_t wait_ns, bool pace) {
  Enter(wait_ns);
  int64_t now = MonoNowNs();
  real_minus_mono_ns_ = RealMinusMonoNs();
  unsigned head;
  unsigned seen = 0;
  io_uring_cqe* cqe;
  io_uring_for_each_cqe(&ring_, head, cqe) {
    OnCompletion(*cqe, now);
    ++seen;
    // A large batch takes a while: keep the schedule by firing due arrivals between completions.
    if (pace && (seen & (kPacerCheckEvery - 1)) == 0) {
      now = MonoNowNs();
      FirePacer(now);
    }
  }
  io_uring_cq_advance(&ring_, seen);
  if (buffers_returned_ > 0) {
    io_uring_buf_ring_advance(buf_ring_, buffers_returned_);
    buffers_returned_ = 0;
  }
}

// Submits everything queued and waits for completions (at most wait_ns).
void UringWorker::Enter(int64_t wait_ns) {
  if (wait_ns <= 0) {
    io_uring_submit_and_get_events(&ring_);
    return;
  }
  const unsigned want = unsigned(std::clamp(in_flight_ / 2, 1, int(kBatch)));
  const uint32_t min_wait_us = uint32_t(std::min<int64_t>(kMinWaitUs, wait_ns / 1000));
  __kernel_timespec ts{wait_ns / kSecondNs, wait_ns % kSecondNs};
  if (open_ || !min_wait_ || !stamps_ || want < 2 || min_wait_us == 0) {
    io_uring_cqe* first = nullptr;
    io_uring_submit_and_wait_timeout(&ring_, &first, 1, &ts, nullptr);
    return;
  }
  // liburing 2.3 cannot pass a minimum wait: publish the queued entries and enter directly.
  io_uring_sq& sq = ring_.sq;
  const unsigned tail = sq.sqe_tail;
  if (sq.sqe_head != tail) {
    sq.sqe_head = tail;
    io_uring_smp_store_release(sq.ktail, tail);
  }
  const unsigned submit = tail - *sq.khead;
  io_uring_getevents_arg arg{};
  arg.sigmask_sz = _NSIG / 8;
  arg.pad = min_wait_us;  // min_wait_usec in kernels that have IORING_FEAT_MIN_TIMEOUT
  arg.ts = uint64_t(reinterpret_cast<uintptr_t>(&ts));
  unsigned flags = IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG;
  if (registered_) flags |= IORING_ENTER_REGISTERED_RING;
  // EINTR, ETIME and EBUSY all mean: handle what has completed.
  syscall(__NR_io_uring_enter, registered_ ? ring_.enter_ring_fd : ring_.ring_fd, submit, want, flags, &arg,
          sizeof(arg));
}

// The kernel's receive time of the bytes in `out` on the monotonic clock, within [sent, now].
int64_t UringWorker::ArrivalNs(const Conn& c, io_uring_recvmsg_out* out, int64_t now) const {
  msghdr* layout = const_cast<msghdr*>(&recv_msg_);
  for (cmsghdr* cm = io_uring_recvmsg_cmsg_firsthdr(out, layout); cm != nullptr;
       cm = io_uring_recvmsg_cmsg_nexthdr(out, layout, cm)) {
    if (const int64_t real = ReceiveTimeRealNs(cm); real >= 0) {
      return std::clamp(real - real_minus_mono_ns_, std::min(c.write_ns, now), now);
    }
  }
  return now;
}

io_uring_sqe* UringWorker::Sqe(unsigned n) {
  // Linked entries must go in one submission: make room for all n first.
  if (io_uring_sq_space_left(&ring_) < n) io_uring_submit(&ring_);
  return io_uring_get_sqe(&ring_);
}

uint64_t UringWorker::Tag(const Conn& c, Op op) const {
  return (uint64_t(op) << 56) | (uint64_t(c.generation & 0xffffff) << 32) | uint64_t(&c - conns_.data());
}

void UringWorker::RecycleBuffer(uint16_t id) {
  io_uring_buf_ring_add(buf_ring_, buffers_.get() + size_t(id) * kBufBytes, kBufBytes, id,
                        io_uring_buf_ring_mask(buf_count_), buffers_returned_);
  ++buffers_returned_;
}

void UringWorker::OnCompletion(const io_uring_cqe& cqe, int64_t now) {
  const Op op = Op(cqe.user_data >> 56);
  if (op == Op::kCancel) return;  // a cancel that found nothing to cancel: the close runs anyway
  if (op == Op::kClose) {
    --closes_pending_;
    return;
  }
  if (finished_) {
    if (cqe.flags & IORING_CQE_F_BUFFER) RecycleBuffer(uint16_t(cqe.flags >> IORING_CQE_BUFFER_SHIFT));
    return;
  }
  Conn& c = conns_[uint32_t(cqe.user_data)];
  const uint32_t generation = uint32_t(cqe.user_data >> 32) & 0xffffff;
  // A completion of a closed socket (the slot may hold a new one): dropped, its buffer returned.
  const bool current = c.fd >= 0 && (c.generation & 0xffffff) == generation;
  const bool has_buffer = (cqe.flags & IORING_CQE_F_BUFFER) != 0;
  const uint16_t buffer = uint16_t(cqe.flags >> IORING_CQE_BUFFER_SHIFT);
  switch (op) {
    case Op::kConnect:
      if (current) OnConnected(c, cqe.res, now);
      break;
    case Op::kSend:
      if (current) OnSent(c, cqe.res, now);
      break;
    case Op::kRecv: {
      const uint32_t at_start = c.generation;
      bool eof = cqe.res == 0;
      if (current && cqe.res > 0 && has_buffer) {
        char* buf = buffers_.get() + size_t(buffer) * kBufBytes;
        if (io_uring_recvmsg_out* out = io_uring_recvmsg_validate(buf, cqe.res, &recv_msg_)) {
          const size_t n = io_uring_recvmsg_payload_length(out, cqe.res, &recv_msg_);
          if (n == 0) {
            eof = true;  // a receive of no bytes: the peer closed
          } else {
            OnReceived(c, static_cast<const char*>(io_uring_recvmsg_payload(out, &recv_msg_)), n,
                       ArrivalNs(c, out, now), now);
          }
        }
      }
      if (has_buffer) RecycleBuffer(buffer);
      if (!current || c.generation != at_start) break;
      if (eof) {
        OnEof(c, now, false);
        break;
      }
      if (cqe.flags & IORING_CQE_F_MORE) break;
      // The multishot receive ended: on an error, or early.
      if (cqe.res > 0 || cqe.res == -ENOBUFS) {
        ArmReceive(c);  // ended early (no free buffer, or a full completion queue): re-arm
      } else {
        OnEof(c, now, true);
      }
      break;
    }
    case Op::kCancel:
    case Op::kClose:
      break;
  }
}

void UringWorker::Dispatch(int64_t intended_ns, int64_t now) {
  if (!idle_.empty()) {
    int i = idle_.back();
    idle_.pop_back();
    Send(conns_[i], intended_ns, now);
    return;
  }
  pending_.push_back(intended_ns);
  ++interval_.delayed;
  if (closed_.empty()) ++interval_.waited_at_cap;
  interval_.max_queue_depth = std::max<int64_t>(interval_.max_queue_depth, int64_t(pending_.size()));
  int connecting = open_conns_ - in_flight_ - int(idle_.size());
  if (!closed_.empty() && connecting < int(pending_.size())) {
    int i = closed_.back();
    closed_.pop_back();
    OpenConnection(conns_[i], now);
  }
}

void UringWorker::OpenConnection(Conn& c, int64_t now) {
  int err = 0;
  int fd = sys::NewTcpSocket(config_.address, &err);
  ++interval_.connect_attempts;
  ++c.generation;
  c.reused = false;
  c.sending = false;
  c.resend = false;
  if (fd < 0) {
    c.fd = -1;
    c.state = State::kClosed;
    FailConnect(c, ClassifyConnectErrno(err), now);
    return;
  }
  c.fd = fd;
  c.state = State::kConnecting;
  c.connect_start_ns = now;
  ++open_conns_;
  if (stamps_ && !EnableReceiveTimes(fd)) stamps_ = false;
  io_uring_sqe* sqe = Sqe(1);
  io_uring_prep_connect(sqe, fd, reinterpret_cast<const sockaddr*>(&config_.address.storage), config_.address.length);
  io_uring_sqe_set_data64(sqe, Tag(c, Op::kConnect));
}

void UringWorker::OnConnected(Conn& c, int res, int64_t now) {
  if (c.state != State::kConnecting) return;
  if (res < 0) {
    CloseConn(c);
    FailConnect(c, ClassifyConnectErrno(-res), now);
    return;
  }
  ++interval_.connections_opened;
  connect_us_.Record(ToUs(now - c.connect_start_ns));
  if (sys::HasPendingInput(c.fd)) {
    // Bytes before any request: sending now would take them as its answer.
    CloseConn(c);
    FailConnect(c, ErrorClass::kMalformed, now);
    return;
  }
  ArmReceive(c);
  GiveWork(c, now);
}

void UringWorker::ArmReceive(Conn& c) {
  io_uring_sqe* sqe = Sqe(1);
  io_uring_prep_recvmsg_multishot(sqe, c.fd, &recv_msg_, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = kBufGroup;
  io_uring_sqe_set_data64(sqe, Tag(c, Op::kRecv));
}

void UringWorker::GiveWork(Conn& c, int64_t now) {
  if (draining_) {
    c.state = State::kIdle;
    return;
  }
  if (!pending_.empty()) {
    int64_t intended = pending_.front();
    pending_.pop_front();
    Send(c, intended, now);
    return;
  }
  if (open_) {
    c.state = State::kIdle;
    idle_.push_back(int(&c - conns_.data()));
    return;
  }
  if (config_.think_time_ns > 0 && c.reused) {
    c.state = State::kWaiting;
    timers_.emplace_back(now + config_.think_time_ns, int(&c - conns_.data()));
    std::push_heap(timers_.begin(), timers_.end(), std::greater<>());
    return;
  }
  ++interval_.intended;
  Send(c, now, now);
}

void UringWorker::Send(Conn& c, int64_t intended_ns, int64_t now) {
  std::string_view bytes;
  bool head = false;
  if (c.sending) c.scratch_at ^= 1;
  c.request_id = stream_->Next(c.scratch[c.scratch_at], &bytes, &head);
  c.timeout_ns = timeouts_ns_[c.request_id];
  if (const ResponseCheck* check = checks_[c.request_id]) {
    c.kept.header_names = &check->header_names();
    c.kept.max_body_bytes = check->max_body_bytes();
    c.parser.Reset(head, &c.kept);
  } else {
    c.parser.Reset(head);
  }
  c.intended_ns = intended_ns;
  c.write_ns = now;
  c.out = bytes.data();
  c.out_len = bytes.size();
  c.out_off = 0;
  c.response_bytes = 0;
  c.state = State::kWriting;
  ++in_flight_;
  ++interval_.sent;
  if (c.sending) {
    // The previous request's send has not completed (its response came first): this one goes when
    // that completion comes, so that it is not taken for this one's progress.
    c.resend = true;
    return;
  }
  QueueSend(c);
}

void UringWorker::QueueSend(Conn& c) {
  io_uring_sqe* sqe = Sqe(1);
  io_uring_prep_send(sqe, c.fd, c.out + c.out_off, c.out_len - c.out_off, MSG_NOSIGNAL);
  io_uring_sqe_set_data64(sqe, Tag(c, Op::kSend));
  c.sending = true;
}

void UringWorker::OnSent(Conn& c, int res, int64_t now) {
  c.sending = false;
  if (c.resend) {
    c.resend = false;
    if (c.state == State::kWriting) QueueSend(c);
    return;
  }
  if (c.state != State::kWriting) return;  // the response came before this completion
  if (res <= 0) {
    OnEof(c, now, true);
    return;
  }
  c.out_off += size_t(res);
  interval_.bytes_written += res;
  if (c.out_off < c.out_len) {
    QueueSend(c);
  } else {
    c.state = State::kReading;
  }
}

void UringWorker::OnReceived(Conn& c, const char* p, size_t n, int64_t at, int64_t now) {
  interval_.bytes_read += int64_t(n);
  if (c.state != State::kReading && c.state != State::kWriting) {
    Unsolicited(c, now);
    return;
  }
  c.response_bytes += n;
  size_t used = 0;
  http::ParseStatus st = c.parser.Feed(p, n, &used);
  if (st == http::ParseStatus::kError) {
    FailRequest(c, ErrorClass::kMalformed, now);
    return;
  }
  if (st == http::ParseStatus::kComplete && used < n) {
    // More bytes than the response: they were sent before any next request.
    Record(c, at);
    Unsolicited(c, now);
    return;
  }
  if (st == http::ParseStatus::kComplete) Complete(c, at, now);
}

void UringWorker::OnEof(Conn& c, int64_t now, bool reset) {
  if (c.state == State::kReading || c.state == State::kWriting) {
    if (!reset && c.parser.OnEof() == http::ParseStatus::kComplete) {
      const uint32_t generation = c.generation;
      Complete(c, now, now);
      if (c.generation == generation) {
        CloseConn(c);
        AfterClose(c, now, false);
      }
      return;
    }
    if (c.response_bytes == 0 && c.reused && !draining_) {
      // The server closed an idle keep-alive connection as we reused it: resend on a new one.
      pending_.push_front(c.intended_ns);
      --in_flight_;
      --interval_.sent;
      CloseConn(c);
      AfterClose(c, now, false);
      return;
    }
    FailRequest(c, ErrorClass::kReset, now);
    return;
  }
  Unlist(c);
  CloseConn(c);
  AfterClose(c, now, false);
}

void UringWorker::Unlist(Conn& c) {
  const int i = int(&c - conns_.data());
  if (c.state == State::kIdle) {
    auto it = std::find(idle_.begin(), idle_.end(), i);
    if (it != idle_.end()) idle_.erase(it);
  } else if (c.state == State::kWaiting) {
    auto end = std::remove_if(timers_.begin(), timers_.end(), [i](const auto& t) { return t.second == i; });
    if (end != timers_.end()) {
      timers_.erase(end, timers_.end());
      std::make_heap(timers_.begin(), timers_.end(), std::greater<>());
    }
  }
}

void UringWorker::Unsolicited(Conn& c, int64_t now) {
  CountError(ErrorClass::kMalformed, c.request_id);
  Unlist(c);
  CloseConn(c);
  AfterClose(c, now, false);
}

void UringWorker::Complete(Conn& c, int64_t at, int64_t now) {
  Record(c, at);
  if (c.parser.keep_alive()) {
    GiveWork(c, now);
  } else {
    CloseConn(c);
    AfterClose(c, now, false);
  }
}

void UringWorker::Record(Conn& c, int64_t at) {
  --in_flight_;
  RecordResponse(c.request_id, c.parser.status_code(), c.kept, c.parser.body_bytes(), c.intended_ns, c.write_ns, at);
  c.reused = true;
  c.state = State::kIdle;
}

void UringWorker::FailRequest(Conn& c, ErrorClass cls, int64_t now) {
  --in_flight_;
  CountError(cls, c.request_id);
  CloseConn(c);
  AfterClose(c, now, false);
}

void UringWorker::FailConnect(Conn& c, ErrorClass cls, int64_t now) {
  if (open_) {
    if (!pending_.empty()) {
      pending_.pop_front();
      CountError(cls, 0);
    }
    closed_.push_back(int(&c - conns_.data()));
    return;
  }
  ++interval_.intended;
  CountError(cls, 0);
  AfterClose(c, now, true);
}

// The socket's operations still in the kernel (the armed receive, a connect or a send) hold it open:
// they are cancelled first, then it is closed, both through the ring (hard-linked, so the close runs
// even when there was nothing to cancel). Their late completions carry the old generation.
void UringWorker::CloseConn(Conn& c) {
  if (c.fd >= 0) {
    io_uring_sqe* cancel = Sqe(2);
    io_uring_prep_cancel_fd(cancel, c.fd, IORING_ASYNC_CANCEL_ALL);
    io_uring_sqe_set_data64(cancel, uint64_t(Op::kCancel) << 56);
    cancel->flags |= IOSQE_IO_HARDLINK | IOSQE_CQE_SKIP_SUCCESS;
    io_uring_sqe* close_sqe = io_uring_get_sqe(&ring_);
    io_uring_prep_close(close_sqe, c.fd);
    io_uring_sqe_set_data64(close_sqe, uint64_t(Op::kClose) << 56);
    ++closes_pending_;
    c.fd = -1;
    --open_conns_;
  }
  c.state = State::kClosed;
  c.sending = false;
  c.resend = false;
  ++c.generation;
}

void UringWorker::AfterClose(Conn& c, int64_t now, bool backoff) {
  int i = int(&c - conns_.data());
  if (draining_) return;
  if (open_) {
    closed_.push_back(i);
    int connecting = open_conns_ - in_flight_ - int(idle_.size());
    if (connecting < int(pending_.size())) {
      closed_.pop_back();
      OpenConnection(c, now);
    }
    return;
  }
  if (backoff) {
    c.state = State::kWaiting;
    timers_.emplace_back(now + kBackoffNs, i);
    std::push_heap(timers_.begin(), timers_.end(), std::greater<>());
    return;
  }
  OpenConnection(c, now);
}

void UringWorker::RunTimers(int64_t now) {
  while (!timers_.empty() && timers_.front().first <= now) {
    std::pop_heap(timers_.begin(), timers_.end(), std::greater<>());
    int i = timers_.back().second;
    timers_.pop_back();
    Conn& c = conns_[i];
    if (c.state != State::kWaiting) continue;
    if (c.fd >= 0) {
      ++interval_.intended;
      Send(c, now, now);
    } else {
      OpenConnection(c, now);
    }
  }
}

void UringWorker::Sweep(int64_t now) {
  next_sweep_ns_ = now + kSweepEveryNs;
  for (Conn& c : conns_) {
    if ((c.state == State::kWriting || c.state == State::kReading) && now - c.write_ns > c.timeout_ns) {
      FailRequest(c, ErrorClass::kRequestTimeout, now);
    } else if (c.state == State::kConnecting && now - c.connect_start_ns > connect_timeout_ns_) {
      CloseConn(c);
      FailConnect(c, ErrorClass::kConnectTimeout, now);
    }
  }
  ExpireQueued(now);
}

}  // namespace headroom::engine
