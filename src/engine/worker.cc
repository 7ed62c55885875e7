#include "engine/worker.h"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <functional>

#include "core/clock.h"

namespace headroom::engine {
namespace {

constexpr size_t kReadBufBytes = 64 * 1024;
// Closed model: when the last wake-up handled fewer than half of the requests in flight (at most
// kGatherEvents; 4 or more in flight), the worker pauses kGatherNs before it waits again, so that
// completions gather and are handled in one pass, as the io_uring path's minimum wait does. Only
// while responses take kGatherRatio times the pause or longer (moving average of the service
// time): against a fast server with few connections (4 connections, 30 us round trips) the pause
// halved the requests/s. A wake-up that a server's response triggers costs the server (it wakes
// the sleeping client from its own CPU) more than the system calls it saves: HTTPS keep-alive
// against nginx went from 0.97x wrk's req/s to 1.1x with the pause. Responses are timed at the kernel's receive time, so the pause never shows in the
// latency; it only delays the next request on a connection by at most kGatherNs.
constexpr int kGatherEvents = 32;
constexpr int64_t kGatherNs = 20'000;
constexpr int64_t kGatherRatio = 10;
constexpr int kMaxEvents = 512;
constexpr int kPacerCheckEvery = 8;  // events handled between two looks at the pacer (power of 2)

}  // namespace

Worker::Worker(const Config& config, int index, int64_t start_ns, int connections,
               std::vector<RateSegment> profile, double phase, const TlsContext* tls)
    : WorkerCore(config, index, start_ns, connections, std::move(profile), phase),
      conns_(std::max(connections, 1)),
      read_buf_(new char[kReadBufBytes]),
      tls_(tls) {}

Worker::~Worker() {
  for (Conn& c : conns_) {
    if (c.ssl != nullptr) TlsClose(c.ssl, false);
    if (c.fd >= 0) close(c.fd);
  }
}

void Worker::Run() {
  // The default 50us timer slack would make every paced request that late; ask for 1ns.
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  int64_t now = MonoNowNs();
  StartSchedule(now);
  if (!open_) {
    // Closed model: every connection opens at once and sends as soon as it is connected.
    while (!closed_.empty()) {
      int i = closed_.back();
      closed_.pop_back();
      OpenConnection(conns_[i], now);
    }
  }
  Loop();
  Drain();
  Finish(MonoNowNs());
}

void Worker::Loop() {
  epoll_event events[kMaxEvents];
  int last_events = 0;
  for (;;) {
    int64_t now = MonoNowNs();
    if (StopSignalled()) {
      interrupted_ = true;
      return;
    }
    // Arrivals due before the end are sent even when the loop comes late to them, so the open
    // model sends exactly the profile's count.
    if (open_) FirePacer(now);
    if (now >= end_ns_) return;
    if (open_ && next_arrival_ns_ < 0 && in_flight_ == 0 && pending_.empty()) return;
    RunTimers(now);
    if (now >= next_sweep_ns_) Sweep(now);
    if (now >= start_ns_ + (interval_second_ + 1) * kSecondNs) Flush(now, false);
    int64_t wait = NextWakeNs(now) - now;
    if (!open_ && in_flight_ >= 4 && service_ewma_ns_ >= kGatherRatio * kGatherNs &&
        last_events < std::min(in_flight_ / 2, kGatherEvents) && wait > 0) {
      // Closed model with few completions last time: let more gather before asking (see kGatherNs).
      const timespec pause{0, long(std::min(wait, kGatherNs))};
      nanosleep(&pause, nullptr);
      now = MonoNowNs();
      wait = NextWakeNs(now) - now;
    }
    int n = poller_.Wait(events, kMaxEvents, std::clamp<int64_t>(wait, 0, kMaxWaitNs));
    last_events = n;
    if (n == 0) continue;
    now = MonoNowNs();
    real_minus_mono_ns_ = RealMinusMonoNs();
    for (int i = 0; i < n; ++i) {
      OnEvent(events[i].data.u64, events[i].events, now);
      // A large batch takes a while: keep the schedule by firing due arrivals between events.
      if (open_ && (i & (kPacerCheckEvery - 1)) == kPacerCheckEvery - 1) {
        now = MonoNowNs();
        FirePacer(now);
      }
    }
  }
}

// After the end, requests already in flight may finish (bounded by drain_ns and the timeout), so a
// server that stalls at the very end is still measured; nothing new is sent.
void Worker::Drain() {
  draining_ = true;
  interval_.unfinished += int64_t(pending_.size());  // queued in the generator, never sent
  pending_.clear();
  if (interrupted_) return;
  epoll_event events[kMaxEvents];
  int64_t deadline = MonoNowNs() + std::min(config_.drain_ns, config_.timeout_ns);
  for (;;) {
    int64_t now = MonoNowNs();
    if (in_flight_ == 0) return;
    if (now >= deadline) {
      Sweep(now);  // a request that reached its timeout by the deadline counts as timed out
      return;
    }
    if (StopSignalled()) return;
    if (now >= next_sweep_ns_) Sweep(now);
    if (now >= start_ns_ + (interval_second_ + 1) * kSecondNs) Flush(now, false);
    int n = poller_.Wait(events, kMaxEvents, std::min<int64_t>(kSweepEveryNs, deadline - now));
    now = MonoNowNs();
    real_minus_mono_ns_ = RealMinusMonoNs();
    for (int i = 0; i < n; ++i) OnEvent(events[i].data.u64, events[i].events, now);
  }
}

void Worker::Dispatch(int64_t intended_ns, int64_t now) {
  if (!idle_.empty()) {
    int i = idle_.back();
    idle_.pop_back();
    Send(conns_[i], intended_ns, now);
    return;
  }
  pending_.push_back(intended_ns);
  ++interval_.delayed;
  if (closed_.empty()) ++interval_.waited_at_cap;  // no connection left to open: the cap is reached
  interval_.max_queue_depth = std::max<int64_t>(interval_.max_queue_depth, int64_t(pending_.size()));
  // Open a connection for it when under the cap and not enough are already on their way.
  int connecting = open_conns_ - in_flight_ - int(idle_.size());
  if (!closed_.empty() && connecting < int(pending_.size())) {
    int i = closed_.back();
    closed_.pop_back();
    OpenConnection(conns_[i], now);
  }
}

void Worker::OpenConnection(Conn& c, int64_t now) {
  int err = 0;
  int fd = sys::StartConnect(config_.address, &err);
  ++interval_.connect_attempts;
  ++c.generation;
  c.reused = false;
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
  uint64_t data = (uint64_t(c.generation) << 32) | uint64_t(&c - conns_.data());
  if (!poller_.Add(fd, data)) {
    CloseConn(c);
    FailConnect(c, ErrorClass::kConnectError, now);
  }
}

// TCP is up on an https connection: the TLS handshake starts (the connect timeout covers both).
void Worker::OnConnected(Conn& c, int64_t now) {
  c.tls_socket.fd = c.fd;
  c.ssl = tls_->NewConnection(&c.tls_socket, &sessions_);
  if (c.ssl == nullptr) {
    FailTls(c, ErrorClass::kTlsHandshake, "cannot allocate a TLS session", now);
    return;
  }
  c.state = State::kHandshaking;
  c.handshake_start_ns = now;
  ContinueHandshake(c, now);
}

void Worker::ContinueHandshake(Conn& c, int64_t now) {
  ErrorClass cls = ErrorClass::kTlsHandshake;
  std::string reason;
  const int r = TlsHandshake(c.ssl, config_.tls.server_name, &cls, &reason);
  if (r == 0) return;  // waits for the server
  if (r < 0) {
    FailTls(c, cls, reason, now);
    return;
  }
  c.tls_ready = true;
  handshake_us_.Record(ToUs(MonoNowNs() - c.handshake_start_ns));
  if (SSL_session_reused(c.ssl)) {
    ++interval_.tls_handshakes_resumed;
  } else {
    ++interval_.tls_handshakes_new;
  }
  if (tls_version_.empty()) {
    tls_version_ = SSL_get_version(c.ssl);
    tls_cipher_ = SSL_get_cipher_name(c.ssl);
    const unsigned char* alpn = nullptr;
    unsigned alpn_len = 0;
    SSL_get0_alpn_selected(c.ssl, &alpn, &alpn_len);
    alpn_.assign(reinterpret_cast<const char*>(alpn), alpn_len);
  }
  GiveWork(c, now);
}

// A handshake that failed or timed out: counted like a failed connect, with its reason kept once.
void Worker::FailTls(Conn& c, ErrorClass cls, const std::string& reason, int64_t now) {
  if (first_tls_error_.empty()) {
    first_tls_error_ = std::string(ErrorClassName(cls)) + ": " + reason + " (" + config_.address.ToString() + ")";
  }
  CloseConn(c);
  FailConnect(c, cls, now);
}

ssize_t Worker::ReadSome(Conn& c, char* buf, size_t len, int64_t* received_real_ns) {
  return ConnRead(c.fd, c.ssl, buf, len, received_real_ns);
}

ssize_t Worker::WriteSome(Conn& c, const char* buf, size_t len) { return ConnWrite(c.fd, c.ssl, buf, len); }

void Worker::GiveWork(Conn& c, int64_t now) {
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

void Worker::Send(Conn& c, int64_t intended_ns, int64_t now) {
  std::string_view bytes;
  bool head = false;
  c.request_id = stream_->Next(c.scratch, &bytes, &head);
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
  ContinueWrite(c, now);
}

void Worker::ContinueWrite(Conn& c, int64_t now) {
  while (c.out_off < c.out_len) {
    ssize_t n = WriteSome(c, c.out + c.out_off, c.out_len - c.out_off);
    if (n > 0) {
      c.out_off += size_t(n);
      interval_.bytes_written += n;
      continue;
    }
    if (n == kTlsRetry) return;  // the next epoll edge resumes
    OnEof(c, now, true);
    return;
  }
  c.state = State::kReading;
}

void Worker::OnEvent(uint64_t data, uint32_t events, int64_t now) {
  Conn& c = conns_[uint32_t(data)];
  const uint32_t generation = uint32_t(data >> 32);
  if (c.generation != generation || c.fd < 0) return;  // stale event for a closed slot
  // Any step below may close the connection and reopen the slot (new generation): the rest of
  // this event then belongs to the old socket and is dropped.
  if (c.state == State::kConnecting) {
    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
    int err = sys::ConnectResult(c.fd);
    if (err != 0) {
      CloseConn(c);
      FailConnect(c, ClassifyConnectErrno(err), now);
      return;
    }
    ++interval_.connections_opened;  // established: the TCP handshake completed
    connect_us_.Record(ToUs(now - c.connect_start_ns));
    if (tls_ != nullptr) {
      OnConnected(c, now);
      return;
    }
    if ((events & EPOLLIN) && PeerSpokeFirst(c)) {
      // Bytes before any request: sending now would take them as its answer.
      CloseConn(c);
      FailConnect(c, ErrorClass::kMalformed, now);
      return;
    }
    GiveWork(c, now);
    if (c.generation != generation || !(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP))) return;
  }
  if (c.state == State::kHandshaking) {
    // Whatever the edge, SSL_connect reads or writes what it waits for; the request goes out when
    // it completes (and its response comes with a later edge).
    ContinueHandshake(c, now);
    return;
  }
  // TLS may need to read before it can write (and the reverse): any edge resumes it.
  if (c.state == State::kWriting && ((events & (EPOLLOUT | EPOLLERR)) || c.ssl != nullptr)) ContinueWrite(c, now);
  // (A TLS read may wait for the socket to take a write, e.g. a key update: any edge resumes it too.)
  if (c.generation == generation &&
      ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) || (c.ssl != nullptr && c.state == State::kReading))) {
    OnReadable(c, now, (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0);
  }
}

// `closing`: the peer's FIN or an error came with this edge, so read on until EOF instead of
// stopping at a short read (no later edge would report it).
void Worker::OnReadable(Conn& c, int64_t now, bool closing) {
  const uint32_t generation = c.generation;
  for (;;) {
    int64_t received = -1;
    ssize_t n = ReadSome(c, read_buf_.get(), kReadBufBytes, &received);
    if (n == kTlsRetry) return;
    if (n < 0) {
      OnEof(c, now, true);
      return;
    }
    if (n == 0) {
      OnEof(c, now, false);
      return;
    }
    interval_.bytes_read += n;
    if (c.state != State::kReading && c.state != State::kWriting) {
      Unsolicited(c, now);
      return;
    }
    c.response_bytes += uint64_t(n);
    const char* p = read_buf_.get();
    size_t left = size_t(n);
    size_t used = 0;
    http::ParseStatus st = c.parser.Feed(p, left, &used);
    if (st == http::ParseStatus::kError) {
      FailRequest(c, ErrorClass::kMalformed, now);
      return;
    }
    if (st == http::ParseStatus::kComplete && used < left) {
      // More bytes than the response: they were sent before any next request.
      Record(c, ArrivalNs(c, received, now));
      Unsolicited(c, now);
      return;
    }
    if (st == http::ParseStatus::kComplete) {
      Complete(c, ArrivalNs(c, received, now), now);
      if (c.generation != generation) return;  // closed (and maybe reopened) meanwhile
    }
    // A short read drained the socket; edge-triggered epoll reports the next arrival. (TLS hands out
    // one record per SSL_read: the socket is drained when OpenSSL's last read() was short and it
    // holds no more bytes.)
    if (closing) continue;
    if (c.ssl == nullptr ? size_t(n) < kReadBufBytes : c.tls_socket.drained && !SSL_has_pending(c.ssl)) return;
  }
}

void Worker::OnEof(Conn& c, int64_t now, bool reset) {
  if (c.state == State::kReading || c.state == State::kWriting) {
    if (!reset && c.parser.OnEof() == http::ParseStatus::kComplete) {
      const uint32_t generation = c.generation;
      Complete(c, now, now);  // a close-delimited body: Complete sees keep_alive() false and closes
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

// Takes a connection with no request in flight off the idle list or the timer heap before it closes,
// so that neither keeps a stale entry (and the heap never grows past its reserved size).
void Worker::Unlist(Conn& c) {
  const int i = int(&c - conns_.data());
  if (c.state == State::kIdle) {
    auto it = std::find(idle_.begin(), idle_.end(), i);
    if (it != idle_.end()) idle_.erase(it);  // idle while draining is not listed
  } else if (c.state == State::kWaiting) {
    auto end = std::remove_if(timers_.begin(), timers_.end(), [i](const auto& t) { return t.second == i; });
    if (end != timers_.end()) {
      timers_.erase(end, timers_.end());
      std::make_heap(timers_.begin(), timers_.end(), std::greater<>());
    }
  }
}

// HTTP/1.1 has no unsolicited responses: bytes that arrive while no request is in flight are a
// protocol error. Taken as they come they would become the answer to the next request, so the
// connection is counted as malformed and closed. Rare, so the O(n) unlisting does not matter.
void Worker::Unsolicited(Conn& c, int64_t now) {
  CountError(ErrorClass::kMalformed, c.request_id);
  Unlist(c);
  CloseConn(c);
  AfterClose(c, now, false);
}

// Only asked when a connect completes with EPOLLIN: data (not just a FIN) already waits.
bool Worker::PeerSpokeFirst(const Conn& c) const {
  char byte;
  ssize_t n;
  do {
    n = recv(c.fd, &byte, 1, MSG_PEEK);
  } while (n < 0 && errno == EINTR);
  return n > 0;
}

int64_t Worker::ArrivalNs(const Conn& c, int64_t received_real_ns, int64_t now) const {
  if (received_real_ns < 0) return now;
  return std::clamp(received_real_ns - real_minus_mono_ns_, std::min(c.write_ns, now), now);
}

void Worker::Complete(Conn& c, int64_t at, int64_t now) {
  Record(c, at);
  if (c.parser.keep_alive()) {
    GiveWork(c, now);
  } else {
    CloseConn(c);
    AfterClose(c, now, false);
  }
}

// Counts a complete response; the caller decides what the connection does next.
void Worker::Record(Conn& c, int64_t at) {
  --in_flight_;
  RecordResponse(c.request_id, c.parser.status_code(), c.kept, c.parser.body_bytes(), c.intended_ns, c.write_ns, at);
  c.reused = true;
  c.state = State::kIdle;  // no request in flight; not listed as idle until GiveWork says so
}

void Worker::FailRequest(Conn& c, ErrorClass cls, int64_t now) {
  --in_flight_;
  CountError(cls, c.request_id);
  CloseConn(c);
  AfterClose(c, now, false);
}

// A connection attempt failed: in the open model the oldest waiting request fails with it; in the
// closed model the connection's next request fails and the slot retries after a back-off.
void Worker::FailConnect(Conn& c, ErrorClass cls, int64_t now) {
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

void Worker::CloseConn(Conn& c) {
  if (c.ssl != nullptr) {
    TlsClose(c.ssl, c.tls_ready);
    c.ssl = nullptr;
    c.tls_ready = false;
  }
  if (c.fd >= 0) {
    poller_.Remove(c.fd);
    close(c.fd);
    c.fd = -1;
    --open_conns_;
  }
  c.state = State::kClosed;
  ++c.generation;
}

// Decides what a just-closed slot does next: the closed model reconnects (after a back-off when the
// connect itself failed), the open model returns the slot and reopens only if requests wait.
void Worker::AfterClose(Conn& c, int64_t now, bool backoff) {
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

void Worker::RunTimers(int64_t now) {
  while (!timers_.empty() && timers_.front().first <= now) {
    std::pop_heap(timers_.begin(), timers_.end(), std::greater<>());
    int i = timers_.back().second;
    timers_.pop_back();
    Conn& c = conns_[i];
    if (c.state != State::kWaiting) continue;
    if (c.fd >= 0) {
      ++interval_.intended;
      Send(c, now, now);  // think time over
    } else {
      OpenConnection(c, now);  // back-off over
    }
  }
}

void Worker::Sweep(int64_t now) {
  next_sweep_ns_ = now + kSweepEveryNs;
  for (Conn& c : conns_) {
    if ((c.state == State::kWriting || c.state == State::kReading) && now - c.write_ns > c.timeout_ns) {
      FailRequest(c, ErrorClass::kRequestTimeout, now);
    } else if (c.state == State::kConnecting && now - c.connect_start_ns > connect_timeout_ns_) {
      CloseConn(c);
      FailConnect(c, ErrorClass::kConnectTimeout, now);
    } else if (c.state == State::kHandshaking && now - c.connect_start_ns > connect_timeout_ns_) {
      FailTls(c, ErrorClass::kTlsHandshake,
              "no TLS handshake reply within " + std::to_string(connect_timeout_ns_ / 1'000'000) + " ms", now);
    }
  }
  ExpireQueued(now);
}

}  // namespace headroom::engine
