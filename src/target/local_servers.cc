#include "target/target.h"

#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>
#include <vector>

#include "core/clock.h"

namespace headroom::target {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPgBin = "/usr/lib/postgresql/15/bin";

Result<uint16_t> FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    if (fd >= 0) ::close(fd);
    return Fail(std::string("no free port: ") + std::strerror(errno));
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

Result<std::string> TempDir(const std::string& name) {
  std::string templ = (fs::temp_directory_path() / ("headroom-" + name + "-XXXXXX")).string();
  if (::mkdtemp(templ.data()) == nullptr) return Fail(std::string("mkdtemp: ") + std::strerror(errno));
  return templ;
}

struct RunAs {
  uid_t uid = 0;
  gid_t gid = 0;
  bool drop = false;
};

// The unprivileged user PostgreSQL runs as when the tests run as root.
Result<RunAs> UnprivilegedUser() {
  RunAs as;
  if (::geteuid() != 0) return as;
  const passwd* pw = ::getpwnam("nobody");
  if (pw == nullptr) return Fail("no 'nobody' user to run PostgreSQL as (it refuses to run as root)");
  as.uid = pw->pw_uid;
  as.gid = pw->pw_gid;
  as.drop = true;
  return as;
}

// fork + exec `argv` with output to `log`; returns the pid.
Result<pid_t> Spawn(const std::vector<std::string>& argv, const std::string& log, const RunAs& as) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  if (::access(argv[0].c_str(), X_OK) != 0) return Fail(argv[0] + " is not installed (run scripts/setup.sh)");
  const pid_t pid = ::fork();
  if (pid < 0) return Fail(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    if (as.drop && (::setgroups(0, nullptr) != 0 || ::setgid(as.gid) != 0 || ::setuid(as.uid) != 0)) _exit(126);
    ::execv(argv[0].c_str(), args.data());
    _exit(127);
  }
  return pid;
}

std::string Tail(const std::string& path) {
  std::ifstream in(path);
  std::string line, last;
  while (std::getline(in, line)) {
    if (!line.empty()) last = line;
  }
  return last;
}

// Polls `ready` until it holds or the server exits or 30 s pass.
Status WaitReady(pid_t pid, const std::string& log, const std::function<bool()>& ready) {
  const int64_t deadline = MonoNowNs() + 30'000'000'000;
  while (MonoNowNs() < deadline) {
    if (ready()) return Ok();
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) return Fail("exited early: " + Tail(log));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Fail("not ready after 30 s: " + Tail(log));
}

bool PortOpen(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  if (fd >= 0) ::close(fd);
  return ok;
}

Status RunToEnd(const std::vector<std::string>& argv, const std::string& log, const RunAs& as) {
  auto pid = Spawn(argv, log, as);
  if (!pid) return std::unexpected(pid.error());
  int status = 0;
  while (::waitpid(*pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return Fail(argv[0] + " failed: " + Tail(log));
  return Ok();
}

}  // namespace

LocalServer::~LocalServer() {
  if (pid_ > 0) {
    ::kill(pid_, stop_signal);
    const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
    bool exited = false;
    if (pidfd >= 0) {
      pollfd p{pidfd, POLLIN, 0};
      exited = ::poll(&p, 1, 10'000) == 1;
      ::close(pidfd);
    }
    if (!exited) ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  std::error_code ec;
  if (!dir_.empty()) fs::remove_all(dir_, ec);
}

std::string PostgresConninfo(const LocalServer& server, bool with_password) {
  return "host=127.0.0.1 port=" + std::to_string(server.port()) + " user=postgres dbname=postgres" +
         (with_password ? std::string(" password=") + kLocalPostgresPassword : "");
}

namespace {

// How to start one server: `prepare` (may be empty) runs first in the fresh directory, then
// `argv` is spawned and `ready` polled.
struct Launch {
  std::string name;
  RunAs as;
  std::function<Status(const std::string& dir, uint16_t port)> prepare;
  std::function<std::vector<std::string>(const std::string& dir, uint16_t port)> argv;
  std::function<bool(uint16_t port)> ready;
  int stop_signal = SIGTERM;
};

Result<std::unique_ptr<LocalServer>> Start(const Launch& launch) {
  auto dir = TempDir(launch.name);
  if (!dir) return std::unexpected(dir.error());
  auto port = FreePort();
  // Owns the directory from here on, and the process once there is one.
  auto server = std::make_unique<LocalServer>(0, *dir, port.value_or(0));
  if (!port) return std::unexpected(port.error());
  if (launch.as.drop) ::chown(dir->c_str(), launch.as.uid, launch.as.gid);
  if (launch.prepare) {
    if (auto s = launch.prepare(*dir, *port); !s) return Fail(launch.name + ": " + s.error().message);
  }
  const std::string log = *dir + "/log";
  auto pid = Spawn(launch.argv(*dir, *port), log, launch.as);
  if (!pid) return std::unexpected(pid.error());
  server->set_pid(*pid);
  server->stop_signal = launch.stop_signal;
  if (auto s = WaitReady(*pid, log, [&] { return launch.ready(*port); }); !s) {
    return Fail(launch.name + " " + s.error().message);
  }
  return server;
}

}  // namespace

Result<std::unique_ptr<LocalServer>> StartPostgres(const LocalPostgresSettings& settings) {
  auto as = UnprivilegedUser();
  if (!as) return std::unexpected(as.error());
  const std::string bin = kPgBin;
  Launch launch;
  launch.name = "postgres";
  launch.as = *as;
  launch.prepare = [&](const std::string& dir, uint16_t) -> Status {
    const std::string pwfile = dir + "/pw";
    std::ofstream(pwfile) << kLocalPostgresPassword << "\n";
    if (as->drop) ::chown(pwfile.c_str(), as->uid, as->gid);
    return RunToEnd({bin + "/initdb", "-D", dir + "/data", "-U", "postgres", "--pwfile=" + pwfile,
                     "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync", "--no-instructions"},
                    dir + "/log", *as);
  };
  launch.argv = [&, settings](const std::string& dir, uint16_t port) -> std::vector<std::string> {
    return {bin + "/postgres", "-D", dir + "/data", "-p", std::to_string(port), "-k", dir,
            "-c", "listen_addresses=127.0.0.1", "-c", "shared_preload_libraries=pg_stat_statements",
            "-c", "autovacuum=off", "-c", "fsync=off", "-c", "max_connections=" + std::to_string(settings.max_connections),
            "-c", "shared_buffers=" + settings.shared_buffers};
  };
  launch.ready = [](uint16_t port) {
    const std::string conninfo = "host=127.0.0.1 port=" + std::to_string(port) + " user=postgres dbname=postgres " +
                                 "password=" + kLocalPostgresPassword + " connect_timeout=2";
    return PQping(conninfo.c_str()) == PQPING_OK;
  };
  launch.stop_signal = SIGINT;  // fast shutdown
  return Start(launch);
}

Result<std::unique_ptr<LocalServer>> StartRedis() {
  Launch launch;
  launch.name = "redis-server";
  launch.argv = [](const std::string& dir, uint16_t port) -> std::vector<std::string> {
    return {"/usr/bin/redis-server", "--port", std::to_string(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--daemonize", "no", "--dir", dir};
  };
  launch.ready = PortOpen;
  return Start(launch);
}

Result<std::unique_ptr<LocalServer>> StartNodeExporter() {
  Launch launch;
  launch.name = "prometheus-node-exporter";
  launch.argv = [](const std::string&, uint16_t port) -> std::vector<std::string> {
    return {"/usr/bin/prometheus-node-exporter", "--web.listen-address=127.0.0.1:" + std::to_string(port)};
  };
  launch.ready = PortOpen;
  return Start(launch);
}

Result<std::unique_ptr<LocalServer>> StartTargetProcess(const std::string& binary,
                                                         const std::vector<std::string>& args) {
  Launch launch;
  launch.name = "target";
  launch.argv = [&](const std::string&, uint16_t port) -> std::vector<std::string> {
    std::vector<std::string> argv = {binary, "target", "--port", std::to_string(port)};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  };
  launch.ready = PortOpen;
  return Start(launch);
}

}  // namespace headroom::target
