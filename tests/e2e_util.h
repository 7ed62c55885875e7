// Helpers for end-to-end tests: run the headroom binary as a user would, read its files.
#pragma once
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "target/target.h"

namespace e2e {

struct Proc {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs headroom with args. With `signal_when`, sends `sig` as soon as signal_when() is true (asked
// every 10 ms while headroom runs), so a test waits for something to happen, not for a time.
inline Proc RunHeadroom(const std::vector<std::string>& args, const std::function<bool()>& signal_when = {},
                        int sig = SIGINT) {
  std::string dir = std::filesystem::temp_directory_path() / ("hr-e2e-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string out_path = dir + "/out", err_path = dir + "/err";
  pid_t pid = fork();
  if (pid == 0) {
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int null = open("/dev/null", O_RDONLY);
    dup2(null, 0);
    dup2(out, 1);
    dup2(err, 2);
    std::vector<char*> argv;
    std::string bin = HEADROOM_BINARY;
    argv.push_back(bin.data());
    std::vector<std::string> copy = args;
    for (std::string& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  int status = 0;
  bool exited = false;
  if (signal_when) {
    while (!(exited = waitpid(pid, &status, WNOHANG) == pid) && !signal_when()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!exited) kill(pid, sig);
  }
  if (!exited) waitpid(pid, &status, 0);
  Proc p;
  p.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  p.out = Slurp(out_path);
  p.err = Slurp(err_path);
  return p;
}

inline int Lines(const std::string& s) { return int(std::count(s.begin(), s.end(), '\n')); }

inline std::unique_ptr<headroom::target::Server> Target(headroom::target::Options o = {}) {
  auto s = headroom::target::Server::Start(o);
  EXPECT_TRUE(s.has_value());
  return std::move(*s);
}

inline std::string Url(const headroom::target::Server& s, const std::string& path = "/") {
  return "http://127.0.0.1:" + std::to_string(s.port()) + path;
}

inline std::string TempDir(const std::string& name) {
  auto p = std::filesystem::temp_directory_path() / ("hr-e2e-" + std::to_string(getpid()) + "-" + name);
  std::filesystem::remove_all(p);
  return p;
}

// Under CI (CI=true) a missing tool or server fails a test; elsewhere the test is skipped.
inline bool InCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

// Runs a shell command line (e.g. the openssl CLI), its output discarded; true when it exits 0.
inline bool Sh(const std::string& command) { return std::system((command + " >/dev/null 2>&1").c_str()) == 0; }

// A loopback socket that listens but is never accepted from (port 0 when it could not listen): the
// kernel completes TCP handshakes, nothing ever answers.
struct SilentListener {
  int fd = -1;
  uint16_t port = 0;
  SilentListener() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(fd, 128) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
      port = ntohs(a.sin_port);
    }
  }
  ~SilentListener() {
    if (fd >= 0) ::close(fd);
  }
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;
};

// A loopback port that was free a moment ago.
inline uint16_t FreePort() {
  SilentListener l;
  return l.port;
}

inline bool PortOpen(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// Starts nginx in the foreground on DIR/nginx.conf (prefix DIR, logs in DIR/logs) and waits until
// every port accepts. Returns "" then, or why not (nginx's error log when it exited). *pid is
// nginx's PID (-1 when it exited); the caller stops it with StopPid.
inline std::string StartNginx(const std::string& dir, const std::vector<uint16_t>& ports, pid_t* pid) {
  const std::string nginx = "/usr/sbin/nginx";
  *pid = -1;
  if (::access(nginx.c_str(), X_OK) != 0) return "nginx is not installed (run scripts/setup.sh)";
  const std::string d = dir + "/";
  std::filesystem::create_directories(d + "logs");
  *pid = ::fork();
  if (*pid == 0) {
    const int log = ::open((d + "logs/stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(log, 1);
    ::dup2(log, 2);
    ::execl(nginx.c_str(), nginx.c_str(), "-p", dir.c_str(), "-e", (d + "logs/error.log").c_str(), "-c",
            (d + "nginx.conf").c_str(), "-g", "daemon off;", static_cast<char*>(nullptr));
    _exit(127);
  }
  for (int i = 0; i < 500; ++i) {
    bool all = true;
    for (uint16_t p : ports) all = all && PortOpen(p);
    if (all) return "";
    int status = 0;
    if (::waitpid(*pid, &status, WNOHANG) == *pid) {
      *pid = -1;
      return "nginx exited: " + Slurp(d + "logs/error.log") + Slurp(d + "logs/stderr");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return "nginx did not listen within 10 s";
}

// SIGTERM to a process this test started, then waits for it.
inline void StopPid(pid_t pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
}

}  // namespace e2e
