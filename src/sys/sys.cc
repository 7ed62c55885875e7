#include "sys/sys.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/file.h>
#include <liburing.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace headroom::sys {

std::string Address::ToString() const {
  char host[INET6_ADDRSTRLEN] = "?";
  uint16_t port = 0;
  if (storage.ss_family == AF_INET) {
    auto* a = reinterpret_cast<const sockaddr_in*>(&storage);
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
    port = ntohs(a->sin_port);
    return std::string(host) + ":" + std::to_string(port);
  }
  auto* a = reinterpret_cast<const sockaddr_in6*>(&storage);
  inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
  port = ntohs(a->sin6_port);
  return "[" + std::string(host) + "]:" + std::to_string(port);
}

Result<Address> Resolve(const std::string& host, uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  std::string h = host;
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  int rc = getaddrinfo(h.c_str(), std::to_string(port).c_str(), &hints, &list);
  if (rc != 0 || list == nullptr) {
    return Fail("cannot resolve '" + host + "': " + gai_strerror(rc));
  }
  Address out;
  std::memcpy(&out.storage, list->ai_addr, list->ai_addrlen);
  out.length = list->ai_addrlen;
  freeaddrinfo(list);
  return out;
}

int StartConnect(const Address& address, int* error_number) {
  int fd = socket(address.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd < 0) {
    *error_number = errno;
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&address.storage), address.length) != 0 &&
      errno != EINPROGRESS) {
    *error_number = errno;
    close(fd);
    return -1;
  }
  *error_number = 0;
  return fd;
}

int ConnectResult(int fd) {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
  return err;
}

int NewTcpSocket(const Address& address, int* error_number) {
  int fd = socket(address.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd < 0) {
    *error_number = errno;
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  *error_number = 0;
  return fd;
}

bool HasPendingInput(int fd) {
  char byte;
  ssize_t n;
  do {
    n = recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  return n > 0;
}

Status ProbeUring() {
  const char* forced = std::getenv("HEADROOM_IO_URING_PROBE");
  if (forced != nullptr && std::strcmp(forced, "fail") == 0) return Fail("disabled by HEADROOM_IO_URING_PROBE=fail");
  io_uring ring;
  int rc = io_uring_queue_init(8, &ring, 0);
  if (rc < 0) return Fail(std::string("io_uring_setup: ") + std::strerror(-rc));
  Status status = Ok();
  io_uring_probe* probe = io_uring_get_probe_ring(&ring);
  for (int op : {IORING_OP_CONNECT, IORING_OP_SEND, IORING_OP_RECVMSG, IORING_OP_ASYNC_CANCEL, IORING_OP_CLOSE}) {
    if (probe == nullptr || !io_uring_opcode_supported(probe, op)) {
      status = Fail("io_uring: the kernel lacks an operation the engine needs (opcode " + std::to_string(op) + ")");
      break;
    }
  }
  if (probe != nullptr) io_uring_free_probe(probe);
  if (status) {
    // A provided buffer ring (Linux 5.19) of one entry, registered and unregistered again.
    void* mem = nullptr;
    if (posix_memalign(&mem, size_t(sysconf(_SC_PAGESIZE)), sizeof(io_uring_buf)) != 0) mem = nullptr;
    io_uring_buf_reg reg{};
    reg.ring_addr = reinterpret_cast<uint64_t>(mem);
    reg.ring_entries = 1;
    reg.bgid = 0;
    rc = mem == nullptr ? -ENOMEM : io_uring_register_buf_ring(&ring, &reg, 0);
    if (rc < 0) {
      status = Fail(std::string("io_uring: no provided buffer rings: ") + std::strerror(-rc));
    } else {
      io_uring_unregister_buf_ring(&ring, 0);
    }
    free(mem);
  }
  io_uring_queue_exit(&ring);
  if (status) {
    // Multishot receive came with Linux 6.0; no probe flag tells it apart.
    utsname u{};
    int major = 0, minor = 0;
    if (uname(&u) == 0 && std::sscanf(u.release, "%d.%d", &major, &minor) == 2 && major < 6) {
      status = Fail(std::string("io_uring: multishot receive needs Linux 6.0 (this is ") + u.release + ")");
    }
  }
  return status;
}

Poller::Poller() { fd_ = epoll_create1(EPOLL_CLOEXEC); }

Poller::~Poller() {
  if (fd_ >= 0) close(fd_);
}

bool Poller::Add(int fd, uint64_t data) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.u64 = data;
  return epoll_ctl(fd_, EPOLL_CTL_ADD, fd, &ev) == 0;
}

void Poller::Remove(int fd) { epoll_ctl(fd_, EPOLL_CTL_DEL, fd, nullptr); }

int Poller::Wait(epoll_event* events, int max_events, int64_t timeout_ns) {
  int n;
  if (has_pwait2_) {
    timespec ts{};
    timespec* tp = nullptr;
    if (timeout_ns >= 0) {
      ts.tv_sec = timeout_ns / 1'000'000'000;
      ts.tv_nsec = timeout_ns % 1'000'000'000;
      tp = &ts;
    }
    n = epoll_pwait2(fd_, events, max_events, tp, nullptr);
    if (n < 0 && errno == ENOSYS) has_pwait2_ = false;
  }
  if (!has_pwait2_) {
    // Older kernels: round up to whole milliseconds; the pacer then catches up on wake-up.
    int timeout_ms = timeout_ns < 0 ? -1 : int((timeout_ns + 999'999) / 1'000'000);
    n = epoll_wait(fd_, events, max_events, timeout_ms);
  }
  return n < 0 ? 0 : n;
}

namespace {
std::atomic<bool> g_stop{false};
void OnStopSignal(int) { g_stop.store(true, std::memory_order_relaxed); }
}  // namespace

void InstallStopSignals() {
  struct sigaction sa{};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

bool StopRequested() { return g_stop.load(std::memory_order_relaxed); }
const std::atomic<bool>& StopFlag() { return g_stop; }

int64_t RaiseFileLimit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return -1;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  return int64_t(rl.rlim_cur);
}

ProcessUsage ReadSelfUsage() {
  ProcessUsage u;
  rusage ru{};
  if (getrusage(RUSAGE_SELF, &ru) == 0) {
    u.cpu_user_s = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
    u.cpu_system_s = ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
  }
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    long pages_total = 0, pages_resident = 0;
    if (std::fscanf(f, "%ld %ld", &pages_total, &pages_resident) == 2) {
      u.rss_bytes = int64_t(pages_resident) * sysconf(_SC_PAGESIZE);
    }
    std::fclose(f);
  }
  return u;
}

Result<FileLock> FileLock::Acquire(const std::string& path) {
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Fail("cannot open " + path + ": " + std::strerror(errno));
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    char buf[32] = {};
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    close(fd);
    std::string holder = n > 0 ? std::string(buf, size_t(n)) : std::string();
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    if (err == EWOULDBLOCK) return Fail("locked by another process" + (holder.empty() ? "" : " (pid " + holder + ")"));
    return Fail("cannot lock " + path + ": " + std::strerror(err));
  }
  const std::string pid = std::to_string(getpid()) + "\n";
  if (ftruncate(fd, 0) == 0) (void)!pwrite(fd, pid.data(), pid.size(), 0);
  return FileLock(fd);
}

FileLock& FileLock::operator=(FileLock&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

FileLock::~FileLock() {
  if (fd_ >= 0) close(fd_);  // closing the last descriptor releases the flock
}

}  // namespace headroom::sys
