#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>

#include "core/clock.h"
#include "target/shop.h"
#include "target/target.h"
#include "target/worker.h"

namespace headroom::target {

struct Server::Impl {
  std::atomic<bool> stop{false};
  int stop_fd = -1;
  std::unique_ptr<Shop> shop;  // outlives the workers' threads (they hand it requests)
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<std::thread> threads;
  std::mutex stop_mu;
  bool stopped = false;
  uint64_t final_served = 0;

  ~Impl() {
    if (stop_fd >= 0) ::close(stop_fd);
  }
};

Result<Mode> ParseMode(std::string_view text) {
  if (text == "normal") return Mode::kNormal;
  if (text == "close-mid-response") return Mode::kCloseMidResponse;
  if (text == "never-respond") return Mode::kNeverRespond;
  if (text == "garbage") return Mode::kGarbage;
  if (text == "early-response") return Mode::kEarlyResponse;
  return Fail("unknown mode '" + std::string(text) +
              "' (use normal, close-mid-response, never-respond, garbage or early-response)");
}

namespace {

struct Address {
  sockaddr_storage storage{};
  socklen_t len = 0;
  bool loopback = false;
};

Result<Address> ResolveBind(const std::string& bind, uint16_t port) {
  Address a;
  std::string host = bind == "localhost" ? "127.0.0.1" : bind;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&a.storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    a.len = sizeof *v4;
    a.loopback = (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
    return a;
  }
  std::string h6 = host.size() > 2 && host.front() == '[' && host.back() == ']'
                       ? host.substr(1, host.size() - 2)
                       : host;
  if (inet_pton(AF_INET6, h6.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    a.len = sizeof *v6;
    a.loopback = IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr);
    return a;
  }
  return Fail("--bind '" + bind + "' is not a numeric IPv4 or IPv6 address");
}

Result<int> Listen(const Address& a) {
  int fd = socket(a.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Fail(std::string("socket: ") + std::strerror(errno));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (bind(fd, reinterpret_cast<const sockaddr*>(&a.storage), a.len) != 0) {
    int err = errno;
    ::close(fd);
    return Fail("cannot bind the address: " + std::string(std::strerror(err)));
  }
  if (listen(fd, 4096) != 0) {
    int err = errno;
    ::close(fd);
    return Fail(std::string("listen: ") + std::strerror(err));
  }
  return fd;
}

uint16_t BoundPort(int fd) {
  sockaddr_storage s{};
  socklen_t len = sizeof s;
  getsockname(fd, reinterpret_cast<sockaddr*>(&s), &len);
  if (s.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&s)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&s)->sin_port);
}

Status Validate(const Options& o) {
  if (o.threads < 1 || o.threads > kMaxThreads) {
    return Fail("--threads must be between 1 and " + std::to_string(kMaxThreads));
  }
  if (o.stall_ns < 0 || o.stall_period_ns < 0) return Fail("--stall durations must be positive");
  if (o.stall_ns > 0 && o.stall_ns >= o.stall_period_ns) {
    return Fail("--stall: the stall must be shorter than its period (e.g. 500ms/5s)");
  }
  if (!(o.error_rate >= 0 && o.error_rate <= 1)) return Fail("--error-rate must be within 0%..100%");
  if (o.latency_ns < 0) return Fail("--latency must not be negative");
  if (o.close_every < 0) return Fail("--close-every must not be negative");
  return Ok();
}

}  // namespace

Result<std::unique_ptr<Server>> Server::Start(const Options& options) {
  if (Status s = Validate(options); !s) return std::unexpected(s.error());
  auto addr = ResolveBind(options.bind, options.port);
  if (!addr) return std::unexpected(addr.error());
  if (!addr->loopback && !options.allow_non_loopback) {
    return Fail("refusing to bind non-loopback address '" + options.bind +
                "' (pass --bind explicitly to serve beyond this machine)");
  }
  std::unique_ptr<Server> server(new Server());
  server->impl_ = std::make_unique<Impl>();
  Impl& impl = *server->impl_;
  impl.stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (impl.stop_fd < 0) return Fail(std::string("eventfd: ") + std::strerror(errno));
  server->start_ns_ = MonoNowNs();
  if (!options.shop.postgres.empty()) {
    auto shop = Shop::Start(options.shop);
    if (!shop) return std::unexpected(shop.error());
    impl.shop = std::move(*shop);
  } else if (!options.shop.redis.empty()) {
    return Fail("--redis needs --postgres: the shop keeps its data in PostgreSQL");
  }
  for (int i = 0; i < options.threads; ++i) {
    auto fd = Listen(*addr);
    if (!fd) return std::unexpected(fd.error());
    if (i == 0) {
      server->port_ = BoundPort(*fd);
      // Every other listener joins the same SO_REUSEPORT group.
      auto* v4 = reinterpret_cast<sockaddr_in*>(&addr->storage);
      auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr->storage);
      if (addr->storage.ss_family == AF_INET6) {
        v6->sin6_port = htons(server->port_);
      } else {
        v4->sin_port = htons(server->port_);
      }
    }
    auto w = Worker::Create(options, *fd, impl.stop_fd, &impl.stop, server->start_ns_, impl.shop.get());
    if (!w) {
      ::close(*fd);
      return std::unexpected(w.error());
    }
    impl.workers.push_back(std::move(*w));
  }
  for (auto& w : impl.workers) impl.threads.emplace_back([wp = w.get()] { wp->Run(); });
  return server;
}

void Server::Stop() {
  if (!impl_) return;
  std::lock_guard<std::mutex> lock(impl_->stop_mu);
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->stop.store(true);
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(impl_->stop_fd, &one, sizeof one);
  for (auto& t : impl_->threads) t.join();
  if (impl_->shop) impl_->shop->Stop();  // its last replies go to workers that still exist
  for (const auto& w : impl_->workers) impl_->final_served += w->served();
  impl_->workers.clear();  // closes listeners and connections
}

Server::~Server() { Stop(); }

uint64_t Server::requests_served() const {
  if (!impl_) return 0;
  std::lock_guard<std::mutex> lock(impl_->stop_mu);
  uint64_t total = impl_->final_served;
  for (const auto& w : impl_->workers) total += w->served();
  return total;
}

}  // namespace headroom::target
