#include "target/worker.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/clock.h"
#include "target/shop.h"

namespace headroom::target {

namespace {

constexpr uint64_t kListenerKey = ~uint64_t{0};
constexpr uint64_t kStopKey = ~uint64_t{0} - 1;
constexpr uint64_t kShopKey = ~uint64_t{0} - 2;
constexpr int64_t kDeferred = INT64_MAX;  // a Pending the shop has not answered yet
constexpr size_t kReadBufBytes = 64 * 1024;
constexpr size_t kMaxQueuedResponses = 1024;    // per connection, before reading pauses
constexpr size_t kMaxQueuedBytes = 4 << 20;     // per connection, before reading pauses
constexpr size_t kKeptBufferBytes = 256 * 1024;  // output capacity kept between bursts
constexpr int64_t kLingerNs = 2'000'000'000;    // wait for the peer's FIN after our close
constexpr int64_t kAcceptPauseNs = 100'000'000;  // after EMFILE
constexpr std::string_view kMidResponse =
    "HTTP/1.1 200 OK\r\nServer: headroom-target\r\nContent-Length: 100\r\n\r\n0123456789";
// Sized explicitly: the bytes contain a NUL, which would end a plain C-string view early.
constexpr char kGarbageBytes[] = "\x16\x03\x01\x00garbage: this is not an HTTP response\r\n\r\n";
constexpr std::string_view kGarbage(kGarbageBytes, sizeof kGarbageBytes - 1);

timespec ToTimespec(int64_t ns) {
  if (ns < 0) ns = 0;
  return timespec{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
}

void BurnCpu(int64_t us) {
  int64_t until = MonoNowNs() + us * 1000;
  while (MonoNowNs() < until) {
  }
}

}  // namespace

// A response that cannot be written yet: delayed (sleep, latency, stall) or queued behind one.
struct Pending {
  int64_t ready_ns = 0;
  std::string bytes;         // head and inline body
  int64_t static_bytes = 0;  // then this many bytes of FillBuffer()
  uint64_t shop_id = 0;      // kDeferred until the shop's reply with this id arrives
  bool head = false, close = false;
};

enum class ConnState { kOpen, kClosing, kLinger };

struct Conn {
  int fd = -1;
  uint32_t serial = 0;
  ConnState state = ConnState::kOpen;
  bool readable = true;  // edge-triggered: true until a read proves the socket drained
  bool peer_eof = false;
  bool hup_seen = false;  // EPOLLRDHUP reported: read until EOF, a short read is not enough
  int64_t responses = 0;
  int64_t timer_ns = 0;  // earliest armed timer, 0 = none
  int64_t linger_deadline_ns = 0;
  std::string in;         // bytes of an incomplete request
  std::string out;        // ready to write; precedes static_left and waiting
  size_t out_off = 0;
  int64_t static_left = 0;
  std::vector<Pending> waiting;  // FIFO from waiting_head
  size_t waiting_head = 0;

  uint64_t key() const { return (uint64_t{serial} << 32) | static_cast<uint32_t>(fd); }
  size_t queued() const { return waiting.size() - waiting_head; }
  bool Drained() const { return out_off >= out.size() && static_left == 0 && queued() == 0; }
  bool Backlogged() const { return queued() >= kMaxQueuedResponses || out.size() >= kMaxQueuedBytes; }
};

Worker::Worker(const Options& options, int listen_fd, int stop_fd, const std::atomic<bool>* stop,
               int64_t start_ns)
    : options_(options), listen_fd_(listen_fd), stop_fd_(stop_fd), stop_(stop), start_ns_(start_ns) {
  error_ppm_ = static_cast<int64_t>(options.error_rate * 1e6 + 0.5);
  Route root = RouteRequest("GET", "/");
  AppendHead(&ok_response_, 200, root, false);
  AppendBody(&ok_response_, root);
  read_buf_ = std::make_unique<char[]>(kReadBufBytes);
}

Result<std::unique_ptr<Worker>> Worker::Create(const Options& options, int listen_fd, int stop_fd,
                                               const std::atomic<bool>* stop, int64_t start_ns, Shop* shop) {
  std::unique_ptr<Worker> w(new Worker(options, listen_fd, stop_fd, stop, start_ns));
  w->epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (w->epoll_fd_ < 0) return Fail(std::string("epoll_create1: ") + std::strerror(errno));
  if (shop != nullptr) {
    w->shop_ = shop;
    w->done_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->done_fd_ < 0) return Fail(std::string("eventfd: ") + std::strerror(errno));
    epoll_event sev{};
    sev.events = EPOLLIN;
    sev.data.u64 = kShopKey;
    if (epoll_ctl(w->epoll_fd_, EPOLL_CTL_ADD, w->done_fd_, &sev) != 0) {
      return Fail(std::string("epoll_ctl(shop): ") + std::strerror(errno));
    }
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kListenerKey;
  if (epoll_ctl(w->epoll_fd_, EPOLL_CTL_ADD, listen_fd, &ev) != 0) {
    return Fail(std::string("epoll_ctl(listener): ") + std::strerror(errno));
  }
  ev.data.u64 = kStopKey;
  if (epoll_ctl(w->epoll_fd_, EPOLL_CTL_ADD, stop_fd, &ev) != 0) {
    return Fail(std::string("epoll_ctl(stop): ") + std::strerror(errno));
  }
  return w;
}

Worker::~Worker() {
  for (auto& c : conns_) {
    if (c) ::close(c->fd);
  }
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  if (done_fd_ >= 0) ::close(done_fd_);
}

bool Worker::InStall(int64_t now_ns, int64_t* stall_end_ns) const {
  if (options_.stall_ns <= 0 || options_.stall_period_ns <= 0) return false;
  int64_t since = now_ns - start_ns_;
  if (since < 0) return false;
  int64_t offset = since % options_.stall_period_ns;
  if (offset >= options_.stall_ns) return false;
  *stall_end_ns = now_ns - offset + options_.stall_ns;
  return true;
}

// Sleeps (watching only the stop eventfd) until the current stall ends. Returns false on stop.
bool Worker::WaitOutStall() {
  int64_t end_ns = 0;
  while (InStall(MonoNowNs(), &end_ns)) {
    if (stop_->load(std::memory_order_relaxed)) return false;
    pollfd p{stop_fd_, POLLIN, 0};
    timespec ts = ToTimespec(end_ns - MonoNowNs());
    ppoll(&p, 1, &ts, nullptr);
  }
  now_ns_ = MonoNowNs();
  return !stop_->load(std::memory_order_relaxed);
}

int64_t Worker::NextWakeNs() const {
  int64_t wake = INT64_MAX;
  if (!timers_.empty()) wake = timers_.top().at_ns;
  if (listener_paused_until_ns_ > 0 && listener_paused_until_ns_ < wake) {
    wake = listener_paused_until_ns_;
  }
  if (options_.stall_ns > 0 && options_.stall_period_ns > 0) {
    int64_t since = now_ns_ - start_ns_;
    int64_t next = start_ns_ + (since / options_.stall_period_ns + 1) * options_.stall_period_ns;
    if (next < wake) wake = next;
  }
  return wake;
}

void Worker::Run() {
  constexpr int kMaxEvents = 256;
  epoll_event events[kMaxEvents];
  now_ns_ = MonoNowNs();
  while (!stop_->load(std::memory_order_relaxed)) {
    if (!WaitOutStall()) break;
    int64_t wake = NextWakeNs();
    timespec ts = ToTimespec(wake - now_ns_);
    int n = epoll_pwait2(epoll_fd_, events, kMaxEvents, wake == INT64_MAX ? nullptr : &ts, nullptr);
    if (n < 0 && errno != EINTR) break;
    // Events that arrive inside a stall wait for its end, like everything else.
    if (!WaitOutStall()) break;
    if (listener_paused_until_ns_ > 0 && now_ns_ >= listener_paused_until_ns_) {
      listener_paused_until_ns_ = 0;
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = kListenerKey;
      epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, listen_fd_, &ev);
    }
    for (int i = 0; i < n; ++i) Dispatch(events[i].data.u64, events[i].events);
    RunTimers();
    served_published_.store(served_, std::memory_order_relaxed);
  }
  served_published_.store(served_, std::memory_order_relaxed);
}

void Worker::Dispatch(uint64_t key, uint32_t events) {
  if (key == kStopKey) return;  // the loop condition sees the flag
  if (key == kShopKey) {
    DrainShopReplies();
    return;
  }
  if (key == kListenerKey) {
    AcceptAll();
    return;
  }
  Conn* c = Lookup(key);
  if (c == nullptr) return;  // closed earlier in this batch
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) c->readable = true;
  if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) c->hup_seen = true;
  if (c->state == ConnState::kLinger) {
    DrainLinger(*c);
  } else {
    Service(*c);
  }
}

Conn* Worker::Lookup(uint64_t key) {
  uint32_t fd = static_cast<uint32_t>(key);
  if (fd >= conns_.size() || !conns_[fd] || conns_[fd]->serial != static_cast<uint32_t>(key >> 32)) {
    return nullptr;
  }
  return conns_[fd].get();
}

void Worker::AcceptAll() {
  for (int i = 0; i < 64; ++i) {
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Level-triggered listener: stop watching it for a moment instead of spinning.
        epoll_event ev{};
        ev.data.u64 = kListenerKey;
        epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, listen_fd_, &ev);
        listener_paused_until_ns_ = now_ns_ + kAcceptPauseNs;
      }
      return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (static_cast<size_t>(fd) >= conns_.size()) conns_.resize(static_cast<size_t>(fd) + 1);
    auto c = std::make_unique<Conn>();
    c->fd = fd;
    c->serial = next_serial_++;
    if (next_serial_ == 0) next_serial_ = 1;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.u64 = c->key();
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      ::close(fd);
      continue;
    }
    // Written on the first EPOLLOUT, before the client can have sent anything that is read.
    if (options_.mode == Mode::kEarlyResponse) c->out.append(ok_response_);
    conns_[static_cast<size_t>(fd)] = std::move(c);
  }
}

// Reads, answers and writes until the connection makes no more progress.
void Worker::Service(Conn& c) {
  for (;;) {
    bool read_more = c.state == ConnState::kOpen && c.readable && !c.peer_eof && !c.Backlogged();
    if (read_more && !ReadSome(c)) return;  // closed
    FlushResult r = Flush(c);
    if (r == FlushResult::kError) {
      Close(c);
      return;
    }
    if (c.Drained() && (c.state == ConnState::kClosing || c.peer_eof)) {
      BeginLinger(c);
      return;
    }
    if (r == FlushResult::kBlocked || c.state != ConnState::kOpen || c.peer_eof || !c.readable ||
        c.Backlogged()) {
      return;
    }
  }
}

// Reads until the socket is drained or the connection backs up. False if the connection closed.
bool Worker::ReadSome(Conn& c) {
  while (c.state == ConnState::kOpen && !c.Backlogged()) {
    ssize_t n = recv(c.fd, read_buf_.get(), kReadBufBytes, 0);
    if (n > 0) {
      Consume(c, read_buf_.get(), static_cast<size_t>(n));
      // A short read drained the socket; the next arrival raises a new edge. A FIN that was
      // already reported with this edge raises none, so then read on until EOF.
      if (static_cast<size_t>(n) < kReadBufBytes && !c.hup_seen) {
        c.readable = false;
        break;
      }
    } else if (n == 0) {
      c.peer_eof = true;
      c.readable = false;
      break;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      c.readable = false;
      break;
    } else if (errno != EINTR) {
      Close(c);
      return false;
    }
  }
  return true;
}

void Worker::Consume(Conn& c, const char* data, size_t n) {
  if (options_.mode == Mode::kNeverRespond) return;
  bool buffered = !c.in.empty();
  if (buffered) c.in.append(data, n);
  std::string_view buf = buffered ? std::string_view(c.in) : std::string_view(data, n);
  size_t off = 0;
  while (c.state == ConnState::kOpen && off < buf.size() && !c.Backlogged()) {
    Request req;
    ParseState s = ParseRequest(buf.substr(off), &req);
    if (s == ParseState::kIncomplete) break;
    if (s == ParseState::kBad) {
      Route bad;
      bad.status = 400;
      bad.inline_body = "bad request\n";
      QueueResponse(c, now_ns_, bad, 400, false, true);
      off = buf.size();
      break;
    }
    off += req.consumed_bytes;
    HandleRequest(c, req);
  }
  if (c.state != ConnState::kOpen) {
    c.in.clear();
  } else if (buffered) {
    c.in.erase(0, off);
  } else if (off < n) {
    c.in.assign(data + off, n - off);
  }
}

bool Worker::ErrorDue() {
  if (error_ppm_ <= 0) return false;
  uint64_t n = error_seq_++;
  uint64_t ppm = static_cast<uint64_t>(error_ppm_);
  return (n + 1) * ppm / 1'000'000 > n * ppm / 1'000'000;
}

void Worker::HandleRequest(Conn& c, const Request& req) {
  ++c.responses;
  if (options_.mode == Mode::kCloseMidResponse || options_.mode == Mode::kGarbage) {
    ++served_;
    QueueRaw(c, options_.mode == Mode::kGarbage ? kGarbage : kMidResponse);
    c.state = ConnState::kClosing;
    return;
  }
  bool close = !req.keep_alive || (options_.close_every > 0 && c.responses >= options_.close_every);
  if (shop_ != nullptr) {
    std::string_view path = req.target.substr(0, req.target.find('?'));
    if (Shop::IsShopPath(path)) {
      SubmitToShop(c, req, close);
      return;
    }
    if (path == "/metrics") {
      const std::string text = shop_->Metrics();
      Route metrics;
      metrics.content_type = "text/plain; version=0.0.4";
      metrics.inline_body = text;
      QueueResponse(c, now_ns_, metrics, 200, req.head, close);
      return;
    }
  }
  Route route = RouteRequest(req.method, req.target);
  if (route.cpu_us > 0) {
    BurnCpu(route.cpu_us);
    now_ns_ = MonoNowNs();
  }
  if (ErrorDue()) {
    route = Route{};
    route.status = 500;
    route.inline_body = "error\n";
  }
  int64_t ready_ns = now_ns_ + options_.latency_ns + route.sleep_ms * 1'000'000;
  bool immediate = ready_ns <= now_ns_ && c.queued() == 0 && c.static_left == 0;
  if (immediate && !close && !req.head && route.status == 200 && route.body_kind == BodyKind::kInline &&
      route.inline_body == "ok\n") {
    ++served_;
    c.out.append(ok_response_);  // the hot path: no formatting
    return;
  }
  QueueResponse(c, ready_ns, route, route.status, req.head, close);
}

void Worker::QueueResponse(Conn& c, int64_t ready_ns, const Route& route, int status, bool head,
                           bool close) {
  ++served_;
  if (close) c.state = ConnState::kClosing;
  int64_t static_bytes = (!head && route.body_kind == BodyKind::kStatic) ? route.body_bytes : 0;
  bool immediate = ready_ns <= now_ns_ && c.queued() == 0 && c.static_left == 0;
  std::string* dst = &c.out;
  if (!immediate) {
    if (c.waiting_head == c.waiting.size()) {
      c.waiting.clear();
      c.waiting_head = 0;
    }
    c.waiting.push_back(Pending{ready_ns, {}, static_bytes});
    dst = &c.waiting.back().bytes;
  }
  AppendHead(dst, status, route, close);
  if (!head) AppendBody(dst, route);
  if (immediate) c.static_left = static_bytes;
}

void Worker::SubmitToShop(Conn& c, const Request& req, bool close) {
  ++served_;
  if (close) c.state = ConnState::kClosing;
  if (c.waiting_head == c.waiting.size()) {
    c.waiting.clear();
    c.waiting_head = 0;
  }
  const uint64_t id = next_shop_id_++;
  Pending p;
  p.ready_ns = kDeferred;
  p.shop_id = id;
  p.head = req.head;
  p.close = close;
  c.waiting.push_back(std::move(p));
  shop_->Submit(std::string(req.method), std::string(req.target), [this, key = c.key(), id](ShopReply reply) {
    {
      std::lock_guard<std::mutex> lock(done_mu_);
      done_.push_back(ShopDone{key, id, reply.status, std::move(reply.body)});
    }
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(done_fd_, &one, sizeof one);
  });
}

void Worker::DrainShopReplies() {
  uint64_t count = 0;
  [[maybe_unused]] ssize_t n = read(done_fd_, &count, sizeof count);
  std::vector<ShopDone> done;
  {
    std::lock_guard<std::mutex> lock(done_mu_);
    done.swap(done_);
  }
  now_ns_ = MonoNowNs();
  for (ShopDone& d : done) {
    Conn* c = Lookup(d.conn_key);
    if (c == nullptr) continue;  // the client went away meanwhile
    for (size_t i = c->waiting_head; i < c->waiting.size(); ++i) {
      Pending& p = c->waiting[i];
      if (p.shop_id != d.id) continue;
      Route route;
      route.content_type = "application/json";
      route.inline_body = d.body;
      AppendHead(&p.bytes, d.status, route, p.close);
      if (!p.head) AppendBody(&p.bytes, route);
      p.ready_ns = now_ns_;
      p.shop_id = 0;
      break;
    }
  }
  for (ShopDone& d : done) {
    if (Conn* c = Lookup(d.conn_key); c != nullptr && c->state != ConnState::kLinger) Service(*c);
  }
}

void Worker::QueueRaw(Conn& c, std::string_view bytes) {
  if (c.queued() == 0 && c.static_left == 0) {
    c.out.append(bytes);
  } else {
    c.waiting.push_back(Pending{now_ns_, std::string(bytes), 0});
  }
}

Worker::FlushResult Worker::Flush(Conn& c) {
  std::string_view fill = FillBuffer();
  for (;;) {
    if (c.out_off < c.out.size()) {
      size_t want = c.out.size() - c.out_off;
      ssize_t n = send(c.fd, c.out.data() + c.out_off, want, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        return (errno == EAGAIN || errno == EWOULDBLOCK) ? FlushResult::kBlocked : FlushResult::kError;
      }
      c.out_off += static_cast<size_t>(n);
      if (static_cast<size_t>(n) < want) return FlushResult::kBlocked;
    }
    c.out.clear();
    c.out_off = 0;
    if (c.static_left > 0) {
      size_t want = c.static_left < static_cast<int64_t>(fill.size()) ? static_cast<size_t>(c.static_left)
                                                                       : fill.size();
      ssize_t n = send(c.fd, fill.data(), want, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        return (errno == EAGAIN || errno == EWOULDBLOCK) ? FlushResult::kBlocked : FlushResult::kError;
      }
      c.static_left -= n;
      if (static_cast<size_t>(n) < want) return FlushResult::kBlocked;
      continue;
    }
    if (c.queued() == 0) {
      // A burst of pipelined requests must not pin megabytes to an idle connection.
      if (c.out.capacity() > kKeptBufferBytes) std::string().swap(c.out);
      if (c.waiting.capacity() > 64) {
        std::vector<Pending>().swap(c.waiting);
        c.waiting_head = 0;
      }
      return FlushResult::kDone;
    }
    if (c.waiting[c.waiting_head].ready_ns > now_ns_) {
      if (c.waiting[c.waiting_head].ready_ns != kDeferred) ArmTimer(c, c.waiting[c.waiting_head].ready_ns);
      return FlushResult::kWaiting;
    }
    // Batch every ready response (up to one with a static body) into a single write.
    while (c.queued() > 0 && c.static_left == 0 && c.waiting[c.waiting_head].ready_ns <= now_ns_) {
      Pending& p = c.waiting[c.waiting_head++];
      c.out.append(p.bytes);
      c.static_left = p.static_bytes;
    }
    if (c.queued() == 0) {
      c.waiting.clear();
      c.waiting_head = 0;
    }
  }
}

void Worker::ArmTimer(Conn& c, int64_t at_ns) {
  if (c.timer_ns != 0 && c.timer_ns <= at_ns) return;
  c.timer_ns = at_ns;
  timers_.push(Timer{at_ns, c.key()});
}

void Worker::RunTimers() {
  now_ns_ = MonoNowNs();
  while (!timers_.empty() && timers_.top().at_ns <= now_ns_) {
    Timer t = timers_.top();
    timers_.pop();
    Conn* c = Lookup(t.key);
    if (c == nullptr || c->timer_ns != t.at_ns) continue;  // closed, or superseded
    c->timer_ns = 0;
    if (c->state == ConnState::kLinger) {
      if (now_ns_ >= c->linger_deadline_ns) Close(*c);
    } else {
      Service(*c);
    }
  }
}

// Half-close, then wait for the peer's FIN while discarding input, so that unread input does
// not turn our close into a reset that could destroy the last response in flight.
void Worker::BeginLinger(Conn& c) {
  if (c.peer_eof) {
    Close(c);
    return;
  }
  c.state = ConnState::kLinger;
  shutdown(c.fd, SHUT_WR);
  c.linger_deadline_ns = now_ns_ + kLingerNs;
  c.timer_ns = 0;
  ArmTimer(c, c.linger_deadline_ns);
  c.readable = true;
  DrainLinger(c);
}

void Worker::DrainLinger(Conn& c) {
  for (;;) {
    ssize_t n = recv(c.fd, read_buf_.get(), kReadBufBytes, 0);
    if (n > 0) continue;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    Close(c);  // EOF or error
    return;
  }
}

void Worker::Close(Conn& c) {
  int fd = c.fd;
  ::close(fd);  // also removes it from the epoll set
  conns_[static_cast<size_t>(fd)].reset();
}

}  // namespace headroom::target
