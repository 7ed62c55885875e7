#include "engine/h2_worker.h"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>

#include "core/clock.h"

namespace headroom::engine {
namespace {

constexpr size_t kReadBufBytes = 64 * 1024;
constexpr size_t kWriteBatchBytes = 64 * 1024;  // session output gathered into one write
constexpr int kMaxEvents = 512;
constexpr int kPacerCheckEvery = 8;
// Closed model: a connection's freed streams are refilled together, once half of its streams are
// free or kGatherNs after the first of them freed, so that the server gets its requests in
// batches, as h2load's do (each write carried 2-3 requests without it, about 30 with h2load). The
// responses are timed at their receive time, so the gathering never shows in the latency.
constexpr int64_t kGatherNs = 100'000;
constexpr int kRefillTimer = -2;  // Timer::slot of a gathered refill
// Receive windows (stream and connection): large, so that a big body streams without waiting for
// WINDOW_UPDATEs; nghttp2 sends them as the bytes are consumed.
constexpr int32_t kWindowBytes = (1 << 30) - 1;

nghttp2_nv Nv(std::string_view name, std::string_view value) {
  return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
                    NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE};
}

}  // namespace

H2Worker::H2Worker(const Config& config, int index, int64_t start_ns, int connections,
                   std::vector<RateSegment> profile, double phase, const TlsContext* tls)
    : WorkerCore(config, index, start_ns, connections, std::move(profile), phase),
      slot_count_(config.http.max_streams > 0 ? config.http.max_streams : kDefaultMaxStreams),
      conns_(std::max(connections, 1)),
      read_buf_(new char[kReadBufBytes]),
      scheme_(tls != nullptr ? "https" : "http"),
      authority_(config.address.ToString()),
      tls_(tls) {
  avail_.reserve(conns_.size());
  dirty_.reserve(conns_.size());
  stream_timers_.reserve(conns_.size() * 2);
  for (Conn& c : conns_) c.worker = this;
  nghttp2_session_callbacks_new(&callbacks_);
  nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks_, OnBeginHeaders);
  nghttp2_session_callbacks_set_on_header_callback(callbacks_, OnHeader);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks_, OnDataChunk);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks_, OnFrameRecv);
  nghttp2_session_callbacks_set_on_frame_send_callback(callbacks_, OnFrameSend);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks_, OnStreamClose);
  nghttp2_session_callbacks_set_error_callback2(callbacks_, OnError);
  nghttp2_option_new(&options_);
  // Until the server's SETTINGS say otherwise, assume it takes as many streams as we open.
  nghttp2_option_set_peer_max_concurrent_streams(options_, uint32_t(slot_count_));
}

H2Worker::~H2Worker() {
  for (Conn& c : conns_) {
    if (c.session != nullptr) nghttp2_session_del(c.session);
    if (c.ssl != nullptr) TlsClose(c.ssl, false);
    if (c.fd >= 0) close(c.fd);
  }
  nghttp2_option_del(options_);
  nghttp2_session_callbacks_del(callbacks_);
}

void H2Worker::Run() {
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  int64_t now = MonoNowNs();
  now_ = now;
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
  Finish(MonoNowNs());
}

void H2Worker::Loop() {
  epoll_event events[kMaxEvents];
  for (;;) {
    int64_t now = MonoNowNs();
    now_ = now;
    if (StopSignalled()) {
      interrupted_ = true;
      return;
    }
    if (open_) {
      FirePacer(now);
      FlushDirty(now);
    }
    if (now >= end_ns_) return;
    if (open_ && next_arrival_ns_ < 0 && in_flight_ == 0 && WaitingCount() == 0) return;
    RunTimers(now);
    if (now >= next_sweep_ns_) Sweep(now);
    if (now >= start_ns_ + (interval_second_ + 1) * kSecondNs) Flush(now, false);
    int64_t wait = WakeNs(now) - now;
    int n = poller_.Wait(events, kMaxEvents, std::clamp<int64_t>(wait, 0, kMaxWaitNs));
    if (n == 0) continue;
    now = MonoNowNs();
    now_ = now;
    real_minus_mono_ns_ = RealMinusMonoNs();
    for (int i = 0; i < n; ++i) {
      OnEvent(events[i].data.u64, events[i].events, now);
      if (open_ && (i & (kPacerCheckEvery - 1)) == kPacerCheckEvery - 1) {
        now = MonoNowNs();
        now_ = now;
        FirePacer(now);
      }
    }
    if (open_) FlushDirty(now);
  }
}

// Writes what the pacer's arrivals gave the connections since the last flush.
void H2Worker::FlushDirty(int64_t now) {
  for (size_t i = 0; i < dirty_.size(); ++i) {
    Conn& c = conns_[dirty_[i]];
    if (!c.dirty) continue;
    c.dirty = false;
    SendPending(c);
    if (c.failed) ConnFailed(c, c.fail_class, "", now);
  }
  dirty_.clear();
}

void H2Worker::Drain() {
  draining_ = true;
  interval_.unfinished += int64_t(WaitingCount());  // queued in the generator, never sent
  pending_.clear();
  retried_.clear();
  if (interrupted_) return;
  epoll_event events[kMaxEvents];
  int64_t deadline = MonoNowNs() + std::min(config_.drain_ns, config_.timeout_ns);
  for (;;) {
    int64_t now = MonoNowNs();
    now_ = now;
    if (in_flight_ == 0) return;
    if (now >= deadline) {
      Sweep(now);
      return;
    }
    if (StopSignalled()) return;
    if (now >= next_sweep_ns_) Sweep(now);
    if (now >= start_ns_ + (interval_second_ + 1) * kSecondNs) Flush(now, false);
    int n = poller_.Wait(events, kMaxEvents, std::min<int64_t>(kSweepEveryNs, deadline - now));
    now = MonoNowNs();
    now_ = now;
    real_minus_mono_ns_ = RealMinusMonoNs();
    for (int i = 0; i < n; ++i) OnEvent(events[i].data.u64, events[i].events, now);
  }
}

int64_t H2Worker::WakeNs(int64_t now) const {
  const int64_t wake = NextWakeNs(now);
  return stream_timers_.empty() ? wake : std::min(wake, stream_timers_.front().due_ns);
}

void H2Worker::Dispatch(int64_t intended_ns, int64_t now) { DispatchWaiting(Waiting{intended_ns, 0}, now); }

bool H2Worker::TakeWaiting(Waiting* w) {
  if (!retried_.empty()) {
    *w = retried_.front();
    retried_.pop_front();
    return true;
  }
  if (pending_.empty()) return false;
  *w = Waiting{pending_.front(), 0};
  pending_.pop_front();
  return true;
}

// Open model: the arrival takes a free stream slot on any ready connection; otherwise it waits in
// the generator (timed from its intended start) and a connection opens if the slots already on
// their way do not cover the waiting requests.
void H2Worker::DispatchWaiting(Waiting w, int64_t now) {
  while (!avail_.empty()) {
    Conn& c = conns_[avail_.back()];
    if (c.state == State::kReady && !c.goaway && !c.failed && c.active < c.limit && !c.free_slots.empty()) {
      Slot& s = c.slots[c.free_slots.back()];
      if (Submit(c, s, w, now) && !c.dirty) {
        // Sent when the pacer's batch is done: arrivals due together share one write.
        c.dirty = true;
        dirty_.push_back(Index(c));
      }
      return;
    }
    c.in_avail = false;
    avail_.pop_back();
  }
  if (w.retries > 0) {
    retried_.push_back(w);
  } else {
    pending_.push_back(w.intended_ns);
  }
  ++interval_.delayed;
  if (closed_.empty()) ++interval_.waited_at_cap;
  interval_.max_queue_depth = std::max<int64_t>(interval_.max_queue_depth, int64_t(WaitingCount()));
  if (!closed_.empty() && int64_t(connecting_) * slot_count_ < int64_t(WaitingCount())) {
    int i = closed_.back();
    closed_.pop_back();
    OpenConnection(conns_[i], now);
  }
}

void H2Worker::OpenConnection(Conn& c, int64_t now) {
  int err = 0;
  int fd = sys::StartConnect(config_.address, &err);
  ++interval_.connect_attempts;
  ++c.generation;
  if (fd < 0) {
    c.fd = -1;
    c.state = State::kClosed;
    FailConnect(c, ClassifyConnectErrno(err), now);
    return;
  }
  if (stamps_ && !EnableReceiveTimes(fd)) stamps_ = false;
  c.fd = fd;
  c.state = State::kConnecting;
  c.connect_start_ns = now;
  ++connecting_;
  uint64_t data = (uint64_t(c.generation) << 32) | uint64_t(Index(c));
  if (!poller_.Add(fd, data)) {
    CloseConn(c);
    FailConnect(c, ErrorClass::kConnectError, now);
  }
}

void H2Worker::OnEvent(uint64_t data, uint32_t events, int64_t now) {
  Conn& c = conns_[uint32_t(data)];
  const uint32_t generation = uint32_t(data >> 32);
  if (c.generation != generation || c.fd < 0) return;
  if (c.state == State::kConnecting) {
    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
    int err = sys::ConnectResult(c.fd);
    if (err != 0) {
      CloseConn(c);
      FailConnect(c, ClassifyConnectErrno(err), now);
      return;
    }
    ++interval_.connections_opened;
    connect_us_.Record(ToUs(now - c.connect_start_ns));
    if (tls_ == nullptr) {
      StartSession(c, now);
      if (c.generation != generation) return;
      if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) OnReadable(c, now, (events & (EPOLLRDHUP | EPOLLHUP)) != 0);
      return;
    }
    c.tls_socket.fd = c.fd;
    c.ssl = tls_->NewConnection(&c.tls_socket, &sessions_);
    if (c.ssl == nullptr) {
      FailTls(c, ErrorClass::kTlsHandshake, "cannot allocate a TLS session", now);
      return;
    }
    c.state = State::kHandshaking;
    c.handshake_start_ns = now;
  }
  if (c.state == State::kHandshaking) {
    ContinueHandshake(c, now);
    return;
  }
  if (c.state != State::kReady) return;
  if ((events & (EPOLLOUT | EPOLLERR)) || c.ssl != nullptr) {
    SendPending(c);
    if (c.failed && !(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
      ConnFailed(c, c.fail_class, "", now);
      return;
    }
  }
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR) || c.ssl != nullptr) {
    OnReadable(c, now, (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0);
  }
}

void H2Worker::ContinueHandshake(Conn& c, int64_t now) {
  ErrorClass cls = ErrorClass::kTlsHandshake;
  std::string reason;
  const int r = TlsHandshake(c.ssl, config_.tls.server_name, &cls, &reason);
  if (r == 0) return;
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
  const unsigned char* alpn = nullptr;
  unsigned alpn_len = 0;
  SSL_get0_alpn_selected(c.ssl, &alpn, &alpn_len);
  std::string_view chosen(reinterpret_cast<const char*>(alpn), alpn_len);
  if (tls_version_.empty()) {
    tls_version_ = SSL_get_version(c.ssl);
    tls_cipher_ = SSL_get_cipher_name(c.ssl);
    alpn_.assign(chosen);
  }
  if (chosen != "h2") {
    const std::string reason = "the server did not choose h2 by ALPN (" +
                               (chosen.empty() ? std::string("it chose nothing") : "it chose " + std::string(chosen)) +
                               ")";
    NoteH2Error(reason);
    CloseConn(c);
    FailConnect(c, ErrorClass::kH2Protocol, now);
    return;
  }
  const uint32_t generation = c.generation;
  StartSession(c, now);
  // The server's SETTINGS may have come with the handshake's last flight, already read into
  // OpenSSL's buffer: no epoll edge would report them.
  if (c.generation == generation && c.state == State::kReady) OnReadable(c, now, false);
}

// The connection speaks HTTP/2: the client preface and SETTINGS go out with the first requests.
void H2Worker::StartSession(Conn& c, int64_t now) {
  --connecting_;
  c.state = State::kReady;  // no longer on its way, whatever happens next
  if (nghttp2_session_client_new2(&c.session, callbacks_, &c, options_) != 0) {
    c.session = nullptr;
    ConnFailed(c, ErrorClass::kH2Protocol, "cannot create an HTTP/2 session", now);
    return;
  }
  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, uint32_t(slot_count_)},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, uint32_t(kWindowBytes)},
  };
  nghttp2_submit_settings(c.session, NGHTTP2_FLAG_NONE, settings, sizeof settings / sizeof settings[0]);
  nghttp2_session_set_local_window_size(c.session, NGHTTP2_FLAG_NONE, 0, kWindowBytes);
  if (c.slots.empty()) {
    c.slots.resize(size_t(slot_count_));
    for (int i = 0; i < slot_count_; ++i) {
      c.slots[i].conn = &c;
      c.slots[i].index = i;
      c.slots[i].nv.reserve(16);
    }
  }
  c.free_slots.clear();
  for (int i = slot_count_ - 1; i >= 0; --i) {
    Slot& s = c.slots[i];
    s.in_use = s.cancelled = s.thinking = false;
    c.free_slots.push_back(i);
  }
  c.state = State::kReady;
  c.ready_ns = now;
  c.got_settings = c.goaway = c.failed = c.completed_any = false;
  c.fail_class = ErrorClass::kReset;
  c.active = 0;
  c.limit = slot_count_;
  c.out.clear();
  c.out_off = 0;
  if (max_streams_seen_ == 0) max_streams_seen_ = slot_count_;
  Refill(c, now);
  SendPending(c);
  if (c.failed) ConnFailed(c, c.fail_class, "", now);
}

// Hands the session one request on slot s. False when the session refused it (the request is then
// retried elsewhere or counted).
bool H2Worker::Submit(Conn& c, Slot& s, Waiting w, int64_t now) {
  std::string_view bytes;
  bool head = false;
  s.request_id = stream_->Next(s.scratch, &bytes, &head);
  s.timeout_ns = timeouts_ns_[s.request_id];
  // A request in stable storage (not rendered into the slot's scratch) that the slot sent last time
  // is split already: its header list is reused as it is.
  const bool rendered = bytes.data() >= s.scratch.data() && bytes.data() < s.scratch.data() + s.scratch.capacity();
  if (rendered || bytes.data() != s.split_of.data() || bytes.size() != s.split_of.size()) {
    s.split_of = {};
    if (!http::SplitRequestForH2(bytes, &s.request)) {
      CountError(ErrorClass::kMalformed, s.request_id);
      return false;
    }
    const http::H2Request& r = s.request;
    s.nv.clear();
    s.nv.push_back(Nv(":method", r.method));
    s.nv.push_back(Nv(":scheme", scheme_));
    s.nv.push_back(Nv(":authority", r.authority.empty() ? std::string_view(authority_) : r.authority));
    s.nv.push_back(Nv(":path", r.path));
    for (const http::H2Request::Field& f : r.headers) s.nv.push_back(Nv(f.name, f.value));
    if (!rendered) s.split_of = bytes;
  }
  const http::H2Request& r = s.request;
  if (const ResponseCheck* check = checks_[s.request_id]) {
    s.kept.header_names = &check->header_names();
    s.kept.max_body_bytes = check->max_body_bytes();
    s.response.Reset(head, &s.kept);
  } else {
    s.response.Reset(head, nullptr);
  }
  s.body_off = 0;
  nghttp2_data_provider body{};
  body.source.ptr = &s;
  body.read_callback = OnDataSource;
  const int32_t id = nghttp2_submit_request(c.session, nullptr, s.nv.data(), s.nv.size(),
                                            r.body.empty() ? nullptr : &body, &s);
  if (id < 0) {
    // Stream ids ran out (or the session is going away): this connection takes no more requests.
    c.goaway = true;
    if (w.retries > 0) {
      retried_.push_front(w);
    } else {
      pending_.push_front(w.intended_ns);
    }
    return false;
  }
  c.free_slots.pop_back();
  s.in_use = true;
  s.cancelled = s.headers_sent = s.rst_received = s.refused = false;
  s.stream_id = id;
  s.intended_ns = w.intended_ns;
  s.retries = w.retries;
  s.submit_ns = now;
  s.write_ns = now;
  ++c.active;
  ++in_flight_;
  ++interval_.sent;
  peak_streams_ = std::max(peak_streams_, c.active);
  return true;
}

// Gives a ready connection work for its free slots: waiting requests first, then (closed model)
// new ones. An open-model connection with room left is listed as available.
void H2Worker::Refill(Conn& c, int64_t now) {
  if (c.state != State::kReady || c.goaway || c.failed || draining_) return;
  while (c.active < c.limit && !c.free_slots.empty()) {
    Slot& s = c.slots[c.free_slots.back()];
    Waiting w;
    if (TakeWaiting(&w)) {
      if (!Submit(c, s, w, now)) return;
      continue;
    }
    if (open_) break;
    ++interval_.intended;
    if (!Submit(c, s, Waiting{now, 0}, now)) return;
  }
  if (open_ && c.active < c.limit && !c.free_slots.empty() && !c.in_avail) {
    c.in_avail = true;
    avail_.push_back(Index(c));
  }
}

ssize_t H2Worker::OnDataSource(nghttp2_session*, int32_t, uint8_t* buf, size_t length, uint32_t* data_flags,
                               nghttp2_data_source* source, void*) {
  Slot& s = *static_cast<Slot*>(source->ptr);
  const std::string_view body = s.request.body;
  const size_t n = std::min(length, body.size() - s.body_off);
  std::memcpy(buf, body.data() + s.body_off, n);
  s.body_off += n;
  if (s.body_off == body.size()) *data_flags |= NGHTTP2_DATA_FLAG_EOF;
  return ssize_t(n);
}

// Gathers what the session has to send into one buffer and writes it; what the socket does not
// take waits for the next EPOLLOUT edge.
void H2Worker::SendPending(Conn& c) {
  if (c.state != State::kReady || c.session == nullptr) return;
  for (;;) {
    if (c.out_off == c.out.size()) {
      c.out.clear();
      c.out_off = 0;
      while (c.out.size() < kWriteBatchBytes) {
        const uint8_t* data = nullptr;
        const ssize_t n = nghttp2_session_mem_send(c.session, &data);
        if (n < 0) {
          c.failed = true;
          c.fail_class = ErrorClass::kH2Protocol;
          NoteH2Error(std::string("cannot send: ") + nghttp2_strerror(int(n)));
          return;
        }
        if (n == 0) break;
        c.out.append(reinterpret_cast<const char*>(data), size_t(n));
      }
      if (c.out.empty()) return;
    }
    while (c.out_off < c.out.size()) {
      const ssize_t n = WriteSome(c, c.out.data() + c.out_off, c.out.size() - c.out_off);
      if (n > 0) {
        c.out_off += size_t(n);
        interval_.bytes_written += n;
        continue;
      }
      if (n == kTlsRetry) return;
      c.failed = true;  // a reset or a closed socket
      c.fail_class = c.goaway ? ErrorClass::kH2Goaway : ErrorClass::kReset;
      return;
    }
  }
}

ssize_t H2Worker::ReadSome(Conn& c, char* buf, size_t len, int64_t* received_real_ns) {
  return ConnRead(c.fd, c.ssl, buf, len, received_real_ns);
}

ssize_t H2Worker::WriteSome(Conn& c, const char* buf, size_t len) { return ConnWrite(c.fd, c.ssl, buf, len); }

void H2Worker::OnReadable(Conn& c, int64_t now, bool closing) {
  for (;;) {
    int64_t received_real_ns = -1;
    const ssize_t n = ReadSome(c, read_buf_.get(), kReadBufBytes, &received_real_ns);
    if (n == kTlsRetry) break;
    if (n <= 0) {
      if (!c.got_settings) {
        ConnFailed(c, ErrorClass::kH2Protocol,
                   "the server closed the connection without a SETTINGS frame (does it speak HTTP/2 on this port?)",
                   now);
        return;
      }
      ConnFailed(c, c.goaway ? ErrorClass::kH2Goaway : ErrorClass::kReset, "", now);
      return;
    }
    interval_.bytes_read += n;
    wire_bytes_ += n;
    // Responses completed by these bytes are timed when the bytes reached the socket (the kernel's
    // receive time, over TLS as over h2c), as on the HTTP/1.1 paths.
    received_ns_ = received_real_ns >= 0 ? std::min(received_real_ns - real_minus_mono_ns_, now) : now;
    const ssize_t used = nghttp2_session_mem_recv(c.session, reinterpret_cast<const uint8_t*>(read_buf_.get()),
                                                  size_t(n));
    received_ns_ = -1;
    if (used < 0) {
      ConnFailed(c, ErrorClass::kH2Protocol,
                 std::string("the server broke the HTTP/2 protocol (") + nghttp2_strerror(int(used)) + ")", now);
      return;
    }
    if (c.failed) break;
    if (closing) continue;
    if (c.ssl == nullptr ? size_t(n) < kReadBufBytes : c.tls_socket.drained && !SSL_has_pending(c.ssl)) break;
  }
  AfterIo(c, now);
}

// After the session took the bytes: new requests for freed slots, the session's replies (SETTINGS
// and PING acks, WINDOW_UPDATEs, RST_STREAMs) sent, and a connection that is done closed.
void H2Worker::AfterIo(Conn& c, int64_t now) {
  if (!c.failed && RefillNow(c, now)) Refill(c, now);
  if (!c.failed) SendPending(c);
  if (c.failed) {
    ConnFailed(c, c.fail_class, "", now);
    return;
  }
  const bool done = (c.goaway && c.active == 0) ||
                    (!nghttp2_session_want_read(c.session) && !nghttp2_session_want_write(c.session));
  if (done && c.out_off == c.out.size()) {
    // Every request on it has ended (GOAWAY, or the session has nothing left to do): a new
    // connection takes over.
    ConnFailed(c, c.goaway ? ErrorClass::kH2Goaway : ErrorClass::kH2Protocol, "", now);
  }
}

// Whether a connection's free streams should get their requests now (see kGatherNs); if not, a
// timer refills them at the latest kGatherNs after the first one freed.
bool H2Worker::RefillNow(Conn& c, int64_t now) {
  if (open_ || draining_ || config_.think_time_ns > 0) return true;
  const int usable = std::min(int(c.free_slots.size()), c.limit - c.active);
  if (usable <= 0) return false;
  if (c.active == 0 || usable * 2 >= c.limit || (c.refill_by_ns >= 0 && now >= c.refill_by_ns)) {
    c.refill_by_ns = -1;
    SetLowat(c, 1);
    return true;
  }
  if (c.refill_by_ns < 0) {
    c.refill_by_ns = now + kGatherNs;
    AddTimer(c.refill_by_ns, c, kRefillTimer);
    // Wake for this connection only once about enough responses for a batch have arrived.
    const int needed = (c.limit + 1) / 2 - usable;
    const int64_t per = wire_responses_ > 0 ? wire_bytes_ / wire_responses_ : 0;
    const int lowat = int(std::clamp<int64_t>(per * needed * 9 / 10, 1, 64 * 1024));
    if (lowat > 1) SetLowat(c, lowat);
  }
  return false;
}

void H2Worker::SetLowat(Conn& c, int lowat) {
  if (c.lowat == lowat) return;
  c.lowat = lowat;
  setsockopt(c.fd, SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof(lowat));
}

// nghttp2's reason for a protocol error it met (it then ends the session or resets the stream).
int H2Worker::OnError(nghttp2_session*, int, const char* msg, size_t len, void* user_data) {
  static_cast<Conn*>(user_data)->worker->NoteH2Error(std::string(msg, len));
  return 0;
}

int H2Worker::OnBeginHeaders(nghttp2_session* session, const nghttp2_frame* frame, void*) {
  if (frame->hd.type != NGHTTP2_HEADERS) return 0;
  auto* s = static_cast<Slot*>(nghttp2_session_get_stream_user_data(session, frame->hd.stream_id));
  if (s != nullptr && s->in_use) s->response.BeginHeaders();
  return 0;
}

int H2Worker::OnHeader(nghttp2_session* session, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
                       const uint8_t* value, size_t valuelen, uint8_t, void*) {
  if (frame->hd.type != NGHTTP2_HEADERS) return 0;
  auto* s = static_cast<Slot*>(nghttp2_session_get_stream_user_data(session, frame->hd.stream_id));
  if (s == nullptr || !s->in_use || s->cancelled) return 0;
  if (!s->response.OnHeader(std::string_view(reinterpret_cast<const char*>(name), namelen),
                            std::string_view(reinterpret_cast<const char*>(value), valuelen))) {
    s->refused = true;
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // nghttp2 resets the stream
  }
  return 0;
}

int H2Worker::OnDataChunk(nghttp2_session* session, uint8_t, int32_t stream_id, const uint8_t* data, size_t len,
                          void*) {
  auto* s = static_cast<Slot*>(nghttp2_session_get_stream_user_data(session, stream_id));
  if (s != nullptr && s->in_use && !s->cancelled) s->response.OnData(reinterpret_cast<const char*>(data), len);
  return 0;
}

int H2Worker::OnFrameRecv(nghttp2_session* session, const nghttp2_frame* frame, void* user_data) {
  Conn& c = *static_cast<Conn*>(user_data);
  H2Worker& w = *c.worker;
  switch (frame->hd.type) {
    case NGHTTP2_SETTINGS:
      if (!(frame->hd.flags & NGHTTP2_FLAG_ACK)) {
        c.got_settings = true;
        const uint32_t max = nghttp2_session_get_remote_settings(session, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
        c.limit = int(std::min<uint32_t>(max, uint32_t(w.slot_count_)));
        if (c.limit < w.max_streams_seen_ || w.max_streams_seen_ == 0) w.max_streams_seen_ = std::max(c.limit, 0);
      }
      break;
    case NGHTTP2_GOAWAY:
      c.goaway = true;
      ++w.interval_.h2_goaways;
      break;
    case NGHTTP2_RST_STREAM: {
      ++w.interval_.h2_resets;
      auto* s = static_cast<Slot*>(nghttp2_session_get_stream_user_data(session, frame->hd.stream_id));
      if (s != nullptr) s->rst_received = true;
      break;
    }
    default:
      break;
  }
  return 0;
}

int H2Worker::OnFrameSend(nghttp2_session* session, const nghttp2_frame* frame, void* user_data) {
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  auto* s = static_cast<Slot*>(nghttp2_session_get_stream_user_data(session, frame->hd.stream_id));
  if (s != nullptr && s->in_use) {
    s->headers_sent = true;
    s->write_ns = static_cast<Conn*>(user_data)->worker->now_;
  }
  return 0;
}

int H2Worker::OnStreamClose(nghttp2_session* session, int32_t stream_id, uint32_t error_code, void* user_data) {
  auto* s = static_cast<Slot*>(nghttp2_session_get_stream_user_data(session, stream_id));
  if (s == nullptr || !s->in_use) return 0;
  Conn& c = *static_cast<Conn*>(user_data);
  c.worker->StreamClosed(c, *s, error_code);
  return 0;
}

// A stream ended: a complete response, or the reason it has none.
void H2Worker::StreamClosed(Conn& c, Slot& s, uint32_t error_code) {
  if (s.cancelled) {  // counted when it timed out
    FreeSlot(c, s);
    return;
  }
  --in_flight_;
  --c.active;
  if (error_code == NGHTTP2_NO_ERROR && s.response.status_code() != 0) {
    c.completed_any = true;
    ++wire_responses_;
    const int64_t at = received_ns_ >= 0 ? std::clamp(received_ns_, std::min(s.write_ns, now_), now_) : now_;
    RecordResponse(s.request_id, s.response.status_code(), s.kept, s.response.body_bytes(), s.intended_ns, s.write_ns,
                   at);
  } else if (error_code == NGHTTP2_REFUSED_STREAM) {
    // Refused before any processing (GOAWAY above the last stream id, or RST_STREAM REFUSED_STREAM):
    // safe to send again.
    Retry(s, c.goaway ? ErrorClass::kH2Goaway : ErrorClass::kH2StreamReset);
  } else if (s.refused || error_code == NGHTTP2_NO_ERROR) {
    CountError(ErrorClass::kMalformed, s.request_id);
  } else if (s.rst_received) {
    CountError(ErrorClass::kH2StreamReset, s.request_id);
  } else if (c.goaway) {
    CountError(ErrorClass::kH2Goaway, s.request_id);
  } else {
    CountError(ErrorClass::kH2Protocol, s.request_id);
  }
  FreeSlot(c, s);
  if (!open_ && config_.think_time_ns > 0 && !draining_ && c.state == State::kReady) {
    // Closed model: this slot waits its think time before its next request.
    Slot& mine = c.slots[c.free_slots.back()];
    c.free_slots.pop_back();
    mine.thinking = true;
    AddTimer(now_ + config_.think_time_ns, c, mine.index);
  }
}

void H2Worker::Retry(Slot& s, ErrorClass otherwise) {
  if (s.retries == 0 && !draining_) {
    ++interval_.h2_retried;
    retried_.push_back(Waiting{s.intended_ns, s.retries + 1});
    if (!open_) --interval_.intended;  // the closed model counts it again when it is resent
    --interval_.sent;
    return;
  }
  CountError(otherwise, s.request_id);
}

void H2Worker::FreeSlot(Conn& c, Slot& s) {
  s.in_use = false;
  s.cancelled = false;
  s.stream_id = -1;
  c.free_slots.push_back(s.index);
}

void H2Worker::NoteH2Error(const std::string& reason) {
  if (first_h2_error_.empty() && !reason.empty()) {
    first_h2_error_ = "h2_protocol: " + reason + " (" + config_.address.ToString() + ")";
  }
}

// The connection is gone (EOF, reset, protocol error, GOAWAY done): requests whose HEADERS never
// left are sent again elsewhere; the others fail with `cls`.
void H2Worker::ConnFailed(Conn& c, ErrorClass cls, const std::string& reason, int64_t now) {
  if (cls == ErrorClass::kH2Protocol) NoteH2Error(reason);
  for (Slot& s : c.slots) {
    if (!s.in_use) continue;
    if (!s.cancelled) {
      --in_flight_;
      if (!s.headers_sent && !draining_) {
        Retry(s, cls);
      } else {
        CountError(cls, s.request_id);
      }
    }
    s.in_use = false;
    s.cancelled = false;
  }
  const bool backoff = !c.completed_any;
  CloseConn(c);
  AfterClose(c, now, backoff);
}

void H2Worker::FailTls(Conn& c, ErrorClass cls, const std::string& reason, int64_t now) {
  if (first_tls_error_.empty()) {
    first_tls_error_ = std::string(ErrorClassName(cls)) + ": " + reason + " (" + config_.address.ToString() + ")";
  }
  CloseConn(c);
  FailConnect(c, cls, now);
}

// A connection attempt failed: in the open model the oldest waiting request fails with it; in the
// closed model one request fails and the slot retries after a back-off.
void H2Worker::FailConnect(Conn& c, ErrorClass cls, int64_t now) {
  if (open_) {
    Waiting w;
    if (TakeWaiting(&w)) CountError(cls, 0);
    if (!draining_) closed_.push_back(Index(c));
    return;
  }
  ++interval_.intended;
  CountError(cls, 0);
  AfterClose(c, now, true);
}

void H2Worker::CloseConn(Conn& c) {
  c.dirty = false;
  c.refill_by_ns = -1;
  c.lowat = 1;  // a new socket starts at the kernel's default
  if (c.state == State::kConnecting || c.state == State::kHandshaking) --connecting_;
  if (c.session != nullptr) {
    nghttp2_session_del(c.session);
    c.session = nullptr;
  }
  c.active = 0;
  c.free_slots.clear();
  if (c.in_avail) {
    auto it = std::find(avail_.begin(), avail_.end(), Index(c));
    if (it != avail_.end()) avail_.erase(it);
    c.in_avail = false;
  }
  if (c.ssl != nullptr) {
    TlsClose(c.ssl, c.tls_ready);
    c.ssl = nullptr;
    c.tls_ready = false;
  }
  if (c.fd >= 0) {
    poller_.Remove(c.fd);
    close(c.fd);
    c.fd = -1;
  }
  c.state = State::kClosed;
  ++c.generation;
}

void H2Worker::AfterClose(Conn& c, int64_t now, bool backoff) {
  if (draining_) return;
  if (open_) {
    closed_.push_back(Index(c));
    if (WaitingCount() > 0 && int64_t(connecting_) * slot_count_ < int64_t(WaitingCount())) {
      closed_.pop_back();
      if (backoff) {
        c.state = State::kBackoff;
        AddTimer(now + kBackoffNs, c, -1);
      } else {
        OpenConnection(c, now);
      }
    }
    return;
  }
  if (backoff) {
    c.state = State::kBackoff;
    AddTimer(now + kBackoffNs, c, -1);
    return;
  }
  OpenConnection(c, now);
}

void H2Worker::AddTimer(int64_t due_ns, Conn& c, int slot) {
  stream_timers_.push_back(Timer{due_ns, Index(c), slot, c.generation});
  std::push_heap(stream_timers_.begin(), stream_timers_.end(), std::greater<>());
}

void H2Worker::RunTimers(int64_t now) {
  while (!stream_timers_.empty() && stream_timers_.front().due_ns <= now) {
    std::pop_heap(stream_timers_.begin(), stream_timers_.end(), std::greater<>());
    const Timer t = stream_timers_.back();
    stream_timers_.pop_back();
    Conn& c = conns_[t.conn];
    if (c.generation != t.generation || draining_) continue;
    if (t.slot == kRefillTimer) {
      // The batch's time is up: what arrived below the low-water mark is read, and AfterIo
      // refills the free streams (refill_by_ns has passed).
      if (c.state == State::kReady && c.refill_by_ns >= 0 && !c.failed) OnReadable(c, now, false);
      continue;
    }
    if (t.slot < 0) {
      if (c.state == State::kBackoff) OpenConnection(c, now);
      continue;
    }
    Slot& s = c.slots[t.slot];
    if (c.state != State::kReady || !s.thinking) continue;
    s.thinking = false;
    c.free_slots.push_back(s.index);
    Refill(c, now);
    SendPending(c);
    if (c.failed) ConnFailed(c, c.fail_class, "", now);
  }
}

void H2Worker::Sweep(int64_t now) {
  next_sweep_ns_ = now + kSweepEveryNs;
  for (Conn& c : conns_) {
    if (c.state == State::kConnecting && now - c.connect_start_ns > connect_timeout_ns_) {
      CloseConn(c);
      FailConnect(c, ErrorClass::kConnectTimeout, now);
    } else if (c.state == State::kHandshaking && now - c.connect_start_ns > connect_timeout_ns_) {
      FailTls(c, ErrorClass::kTlsHandshake,
              "no TLS handshake reply within " + std::to_string(connect_timeout_ns_ / 1'000'000) + " ms", now);
    } else if (c.state == State::kReady) {
      if (!c.got_settings && now - c.ready_ns > connect_timeout_ns_) {
        ConnFailed(c, ErrorClass::kH2Protocol,
                   "no SETTINGS frame from the server within " + std::to_string(connect_timeout_ns_ / 1'000'000) +
                       " ms (does it speak HTTP/2 on this port?)",
                   now);
        continue;
      }
      bool reset = false;
      for (Slot& s : c.slots) {
        if (!s.in_use || s.cancelled || now - s.submit_ns <= s.timeout_ns) continue;
        // Timed out: counted now; the stream is reset so that the server stops working on it.
        CountError(ErrorClass::kRequestTimeout, s.request_id);
        --in_flight_;
        --c.active;
        s.cancelled = true;
        nghttp2_submit_rst_stream(c.session, NGHTTP2_FLAG_NONE, s.stream_id, NGHTTP2_CANCEL);
        reset = true;
      }
      if (reset) {
        SendPending(c);
        if (c.failed) ConnFailed(c, c.fail_class, "", now);
      }
    }
  }
  ExpireQueued(now);
  while (!retried_.empty() && now - retried_.front().intended_ns > config_.timeout_ns) {
    retried_.pop_front();
    CountError(ErrorClass::kRequestTimeout, 0);
  }
}

}  // namespace headroom::engine
