// Linux system layer: address resolution, non-blocking sockets, an epoll poller with nanosecond
// timeouts, stop signals and /proc readers. Every call returns a value or an Error; nothing throws.
#pragma once
#include <sys/epoll.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <string>

#include "core/status.h"

namespace headroom::sys {

struct Address {
  sockaddr_storage storage{};
  socklen_t length = 0;
  std::string ToString() const;  // "127.0.0.1:8080" or "[::1]:8080"
};

// Resolves host (name or literal) and port once, before any load is sent.
Result<Address> Resolve(const std::string& host, uint16_t port);

// Outcome of a non-blocking socket call, three-way like the engine's I/O.
enum class IoResult { kOk, kRetry, kError };

// Starts a non-blocking TCP connect with TCP_NODELAY. Returns the fd (connect in progress or done)
// or the errno of an immediate failure (ECONNREFUSED, EMFILE...) in *error_number.
int StartConnect(const Address& address, int* error_number);
// After EPOLLOUT on a connecting socket: 0 when connected, else the socket's pending errno.
int ConnectResult(int fd);
// A non-blocking TCP socket with TCP_NODELAY for `address`'s family, not yet connected (the caller
// connects it, e.g. through io_uring). Returns the fd, or -1 with the errno in *error_number.
int NewTcpSocket(const Address& address, int* error_number);
// True when a non-blocking recv(MSG_PEEK) finds data waiting on a connected socket.
bool HasPendingInput(int fd);

// Whether this process may use the io_uring features the engine's io_uring path needs: a ring
// (refused with EPERM/ENOSYS by seccomp profiles and by kernel.io_uring_disabled), a provided
// buffer ring, and multishot receive (Linux 6.0). Probes once per call (the caller keeps the answer).
// The environment variable HEADROOM_IO_URING_PROBE=fail makes it report unavailable (tests of the
// fallback use it). Ok, or why not ("io_uring_setup: Operation not permitted").
Status ProbeUring();

// Epoll instance owned by one thread. Not thread-safe.
class Poller {
 public:
  Poller();
  ~Poller();
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;
  bool ok() const { return fd_ >= 0; }
  // Registers fd edge-triggered for both directions; `data` comes back in events.
  bool Add(int fd, uint64_t data);
  void Remove(int fd);
  // Waits up to timeout_ns (<0: forever) with nanosecond precision. Returns events (0 on timeout or EINTR).
  int Wait(epoll_event* events, int max_events, int64_t timeout_ns);

 private:
  int fd_ = -1;
  bool has_pwait2_ = true;
};

// SIGINT/SIGTERM set a process-wide flag instead of killing the process.
void InstallStopSignals();
bool StopRequested();
const std::atomic<bool>& StopFlag();

// An exclusive advisory lock (flock) on a file, held until destruction; the file records the
// holder's pid. Not copyable. A process that dies releases its lock with it.
class FileLock {
 public:
  // Fails when another process holds the lock (the message names its pid) or the file cannot be opened.
  static Result<FileLock> Acquire(const std::string& path);
  FileLock(FileLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  FileLock& operator=(FileLock&& o) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// Raises RLIMIT_NOFILE's soft limit to its hard limit; returns the new soft limit.
int64_t RaiseFileLimit();

struct ProcessUsage {
  double cpu_user_s = 0;
  double cpu_system_s = 0;
  int64_t rss_bytes = 0;
};
// Reads /proc/self (getrusage for CPU, /proc/self/statm for RSS).
ProcessUsage ReadSelfUsage();

}  // namespace headroom::sys
