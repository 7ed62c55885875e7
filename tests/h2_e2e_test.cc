// headroom run over HTTP/2: against nginx (h2 over TLS chosen by ALPN with a certificate this test
// makes with openssl, h2c with prior knowledge), and against hostile HTTP/2 servers written here
// from raw frames (GOAWAY after a few requests, RST_STREAM on every stream, a SETTINGS flood, an
// endless header block, a connection window that never opens, a server that never answers the
// preface). Every run ends within its bounds with its failures counted by class and results.json
// written.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <atomic>
#include <mutex>

#include "e2e_util.h"

namespace {

using e2e::Proc;
using e2e::RunHeadroom;
using e2e::Slurp;
using nlohmann::json;

using e2e::FreePort;
using e2e::InCi;
using e2e::Sh;

// A listening loopback socket on a free port (-1 on failure), for the hostile servers to accept on.
int ListenLoopback(uint16_t* port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 128) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    return -1;
  }
  *port = ntohs(a.sin_port);
  return fd;
}

int CountLines(const std::string& path) { return e2e::Lines(Slurp(path)); }

// nginx with h2 over TLS, h2c, and TLS without h2, on free loopback ports; one access log per
// server so that the test can count what the server saw. Stopped by PID.
class H2Servers {
 public:
  enum Port { kTlsH2, kH2c, kTlsHttp1, kPortCount };

  std::string Setup() {
    dir_ = e2e::TempDir("h2-servers");
    std::filesystem::create_directories(dir_ + "/logs");
    std::filesystem::create_directories(dir_ + "/www");
    const std::string d = dir_ + "/";
    if (!Sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + d + "cert.key -out " + d +
            "cert.pem -days 2 -subj '/CN=127.0.0.1' -addext subjectAltName=IP:127.0.0.1")) {
      return "openssl cannot make a certificate";
    }
    std::ofstream(d + "www/big.bin") << std::string(300 * 1024, 'x');  // beyond the 64 KiB default window
    // /held: nginx passes the request to a test target that holds every response 3 ms.
    headroom::target::Options held;
    held.latency_ns = 3'000'000;
    auto upstream = headroom::target::Server::Start(held);
    if (!upstream.has_value()) return "cannot start the test target behind /held";
    upstream_ = std::move(*upstream);
    for (uint16_t& p : ports_) p = FreePort();
    const std::string locations =
        " location / { return 200 \"ok h2\"; } location /big.bin { root " + d + "www; }"
        " location /post { return 200 \"posted\"; }"
        " location /held { proxy_pass http://127.0.0.1:" + std::to_string(upstream_->port()) + "/; }";
    auto log = [&](const char* name) { return " access_log " + d + "logs/" + name + ".log;"; };
    std::ofstream(d + "nginx.conf")
        << (::geteuid() == 0 ? "user root;\n" : "") << "worker_processes 1;\npid " << d << "nginx.pid;\n"
        << "error_log " << d << "logs/error.log warn;\nevents { worker_connections 256; }\n"
        << "http {\n  keepalive_requests 1000000;\n  client_body_temp_path " << d << "body;\n  proxy_temp_path " << d
        << "proxy;\n  fastcgi_temp_path " << d << "fastcgi;\n  uwsgi_temp_path " << d << "uwsgi;\n  scgi_temp_path "
        << d << "scgi;\n"
        << "  server { listen 127.0.0.1:" << ports_[kTlsH2] << " ssl http2; ssl_certificate " << d
        << "cert.pem; ssl_certificate_key " << d << "cert.key;" << log("tls-h2") << locations << " }\n"
        << "  server { listen 127.0.0.1:" << ports_[kH2c] << " http2;" << log("h2c") << locations << " }\n"
        << "  server { listen 127.0.0.1:" << ports_[kTlsHttp1] << " ssl; ssl_certificate " << d
        << "cert.pem; ssl_certificate_key " << d << "cert.key;" << log("tls-http1") << locations << " }\n}\n";
    return e2e::StartNginx(dir_, std::vector<uint16_t>(std::begin(ports_), std::end(ports_)), &pid_);
  }

  ~H2Servers() {
    e2e::StopPid(pid_);
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }

  std::string Url(Port p, const std::string& path = "/") const {
    return std::string(p == kH2c ? "http" : "https") + "://127.0.0.1:" + std::to_string(ports_[p]) + path;
  }
  std::string File(const std::string& name) const { return dir_ + "/" + name; }
  std::string Log(Port p) const {
    static const char* names[] = {"tls-h2", "h2c", "tls-http1"};
    return dir_ + "/logs/" + names[p] + ".log";
  }

 private:
  std::string dir_;
  pid_t pid_ = -1;
  uint16_t ports_[kPortCount] = {};
  std::unique_ptr<headroom::target::Server> upstream_;
};

// ---------------------------------------------------------------------------------------------
// A hostile HTTP/2 server (h2c, prior knowledge) built from raw frames: a 9-byte header (24-bit
// length, type, flags, 31-bit stream id) and a payload.

// kAnswerFirstOnly: answers the first request of each connection and holds every other one; it
// notes the requests that reach it before the client has reset any stream.
enum class Mode {
  kGoawayAfter,
  kRstEveryStream,
  kSettingsFlood,
  kEndlessHeaders,
  kNoConnectionWindow,
  kSilent,
  kAnswerFirstOnly
};

std::string Frame(uint8_t type, uint8_t flags, uint32_t stream, const std::string& payload) {
  std::string f;
  const uint32_t n = uint32_t(payload.size());
  f += char(n >> 16);
  f += char(n >> 8);
  f += char(n);
  f += char(type);
  f += char(flags);
  f += char((stream >> 24) & 0x7f);
  f += char(stream >> 16);
  f += char(stream >> 8);
  f += char(stream);
  return f + payload;
}

std::string U32(uint32_t v) { return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)}; }
std::string Setting(uint16_t id, uint32_t v) { return std::string{char(id >> 8), char(id)} + U32(v); }

// HPACK integer with an N-bit prefix (RFC 7541 5.1), first byte's high bits in `first`.
std::string HpackInt(uint8_t first, int prefix_bits, size_t v) {
  const size_t max = (size_t(1) << prefix_bits) - 1;
  std::string out;
  if (v < max) return std::string(1, char(first | v));
  out += char(first | max);
  v -= max;
  while (v >= 128) {
    out += char((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += char(v);
  return out;
}

// A literal header field without indexing, new name.
std::string HpackLiteral(const std::string& name, const std::string& value) {
  return std::string(1, '\0') + HpackInt(0, 7, name.size()) + name +
         HpackInt(0, 7, value.size()) + value;
}

constexpr uint8_t kData = 0, kHeaders = 1, kRstStream = 3, kSettings = 4, kGoaway = 7, kContinuation = 9;
constexpr uint8_t kEndStream = 1, kEndHeaders = 4, kAck = 1;

class HostileH2Server {
 public:
  HostileH2Server(Mode mode, int goaway_after = 5) : mode_(mode), goaway_after_(goaway_after) {
    listen_fd_ = ListenLoopback(&port_);
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }
  ~HostileH2Server() {
    stop_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    accept_thread_.join();
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
    }
    for (std::thread& t : conn_threads_) t.join();
    for (int fd : fds_) ::close(fd);
    ::close(listen_fd_);
  }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }
  int connections() const { return connections_.load(); }
  int requests_before_a_reset() const { return before_reset_.load(); }

 private:
  void AcceptLoop() {
    while (!stop_) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      timeval tv{0, 100'000};  // so that every thread sees stop_ soon
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      ++connections_;
      std::lock_guard<std::mutex> lock(mu_);
      fds_.push_back(fd);
      conn_threads_.emplace_back([this, fd] { Serve(fd); });
    }
  }

  bool Send(int fd, const std::string& bytes) {
    size_t off = 0;
    while (off < bytes.size() && !stop_) {
      const ssize_t n = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n > 0) {
        off += size_t(n);
      } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        continue;
      } else {
        return false;
      }
    }
    return off == bytes.size();
  }

  // Reads exactly n bytes; false on EOF, error or stop.
  bool Read(int fd, std::string* out, size_t n) {
    out->resize(n);
    size_t off = 0;
    while (off < n && !stop_) {
      const ssize_t r = ::recv(fd, out->data() + off, n - off, 0);
      if (r > 0) {
        off += size_t(r);
      } else if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
        continue;
      } else {
        return false;
      }
    }
    return off == n;
  }

  void Serve(int fd) {
    if (mode_ == Mode::kSilent) {
      std::string sink;
      while (!stop_ && Read(fd, &sink, 1)) {}  // reads, never answers
      return;
    }
    std::string preface;
    if (!Read(fd, &preface, 24)) return;
    std::string settings;
    if (mode_ == Mode::kNoConnectionWindow) settings = Setting(0x4, 0x7fffffff);  // streams may send; the connection may not
    if (!Send(fd, Frame(kSettings, 0, 0, settings))) return;
    if (mode_ == Mode::kSettingsFlood) {
      const std::string many = [] {
        std::string s;
        for (int i = 0; i < 2000; ++i) s += Frame(kSettings, 0, 0, Setting(0x3, 100));
        return s;
      }();
      while (!stop_ && Send(fd, many)) {}
      return;
    }
    int answered = 0;
    bool reset_seen = false;
    std::string header, payload;
    while (!stop_ && Read(fd, &header, 9)) {
      const size_t len = (size_t(uint8_t(header[0])) << 16) | (size_t(uint8_t(header[1])) << 8) | uint8_t(header[2]);
      const uint8_t type = uint8_t(header[3]);
      const uint8_t flags = uint8_t(header[4]);
      const uint32_t stream = ((uint32_t(uint8_t(header[5])) & 0x7f) << 24) | (uint32_t(uint8_t(header[6])) << 16) |
                              (uint32_t(uint8_t(header[7])) << 8) | uint8_t(header[8]);
      if (!Read(fd, &payload, len)) return;
      if (type == kSettings && !(flags & kAck)) {
        if (!Send(fd, Frame(kSettings, kAck, 0, ""))) return;
        continue;
      }
      if (type == kRstStream) reset_seen = true;
      if (type != kHeaders) continue;  // DATA, WINDOW_UPDATE, RST_STREAM...: read and dropped
      bool ok = true;
      switch (mode_) {
        case Mode::kGoawayAfter:
          if (answered < goaway_after_) {
            ok = Send(fd, Frame(kHeaders, kEndHeaders | kEndStream, stream, "\x88"));  // :status 200
            ++answered;
          } else {
            // Streams above the last one processed were not: the client may send them again.
            ok = Send(fd, Frame(kGoaway, 0, 0, U32(stream - 2) + U32(0)));
            ::shutdown(fd, SHUT_WR);
            std::string sink;
            while (!stop_ && Read(fd, &sink, 1)) {}
            return;
          }
          break;
        case Mode::kRstEveryStream:
          ok = Send(fd, Frame(kRstStream, 0, stream, U32(2)));  // INTERNAL_ERROR
          break;
        case Mode::kEndlessHeaders: {
          // A response header block that never ends: HEADERS, then CONTINUATION after CONTINUATION.
          const std::string field = HpackLiteral("x-filler", std::string(8000, 'a'));
          ok = Send(fd, Frame(kHeaders, 0, stream, "\x88" + field));
          for (int i = 0; ok && i < 200 && !stop_; ++i) ok = Send(fd, Frame(kContinuation, 0, stream, field));
          break;
        }
        case Mode::kAnswerFirstOnly:
          if (answered++ == 0) {
            ok = Send(fd, Frame(kHeaders, kEndHeaders | kEndStream, stream, "\x88"));
          } else if (!reset_seen) {
            ++before_reset_;
          }
          break;
        case Mode::kNoConnectionWindow:
          break;  // never answers, never opens the connection's window: the bodies stall
        default:
          break;
      }
      if (!ok) return;
    }
  }

  const Mode mode_;
  const int goaway_after_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::atomic<int> before_reset_{0};
  std::thread accept_thread_;
  std::mutex mu_;
  std::vector<int> fds_;
  std::vector<std::thread> conn_threads_;
};

// A short run; returns the process and its results.json (not an object when none was written).
std::pair<Proc, json> RunH(const std::string& name, std::vector<std::string> args) {
  const std::string out = e2e::TempDir(name);
  args.insert(args.begin(), "run");
  for (const char* a : {"-t", "1", "-q"}) args.push_back(a);
  args.push_back("-o");
  args.push_back(out);
  Proc p = RunHeadroom(args);
  std::ifstream in(out + "/results.json");
  json j = in ? json::parse(in, nullptr, false) : json();
  if (j.is_discarded()) j = json();
  if (j.is_object()) j["__summary_md"] = Slurp(out + "/summary.md");
  return {p, j};
}

class H2Test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    servers_ = new H2Servers();
    setup_error_ = new std::string(servers_->Setup());
  }
  static void TearDownTestSuite() {
    delete servers_;
    delete setup_error_;
  }
  void SetUp() override {
    if (setup_error_->empty()) return;
    if (InCi()) FAIL() << *setup_error_;
    GTEST_SKIP() << *setup_error_;
  }
  static H2Servers* servers_;
  static std::string* setup_error_;
};

H2Servers* H2Test::servers_ = nullptr;
std::string* H2Test::setup_error_ = nullptr;

// h2 by ALPN: two connections carry more than two requests at once, and every response nginx
// logged is one headroom counted.
TEST_F(H2Test, TlsServerChoosesH2AndStreamsShareConnections) {
  const int before = CountLines(servers_->Log(H2Servers::kTlsH2));
  auto [p, j] = RunH("h2-tls", {servers_->Url(H2Servers::kTlsH2), "--cacert", servers_->File("cert.pem"), "-c", "2",
                               "--max-streams", "10", "-d", "1s"});
  ASSERT_EQ(p.exit_code, 0) << p.err << p.out;
  ASSERT_TRUE(j.is_object());
  const json& t = j["transport"];
  EXPECT_EQ(t["scheme"], "https");
  EXPECT_EQ(t["protocol"], "h2");
  EXPECT_EQ(t["tls"]["verify"], true);
  EXPECT_EQ(t["h2"]["max_streams"], 10);
  EXPECT_GT(t["h2"]["peak_streams_per_connection"].get<int>(), 2) << t.dump();
  EXPECT_LE(t["h2"]["peak_streams_per_connection"].get<int>(), 10);
  EXPECT_EQ(j["generator"]["connections_opened"], 2);
  EXPECT_EQ(j["requests"]["errors"], 0);
  EXPECT_EQ(j["generator"]["unfinished_requests"], 0);
  const int64_t ok = j["requests"]["ok"].get<int64_t>();
  EXPECT_GT(ok, 20);
  EXPECT_EQ(CountLines(servers_->Log(H2Servers::kTlsH2)) - before, ok);
  EXPECT_NE(p.out.find("h2 (by ALPN), up to 10 streams per connection"), std::string::npos) << p.out;
  EXPECT_NE(j["__summary_md"].get<std::string>().find("**HTTP/2:**"), std::string::npos);
}

// h2c with prior knowledge in the open model: exactly the scheduled count, each logged by nginx.
// Over TLS a response is timed when its bytes reached the socket (the kernel's receive time), not
// when it was decrypted: however the client batches its reads (the HTTP/2 closed model waits for a
// batch of responses before it reads), no response behind /held can have taken less than the
// 3 ms the server held it, from its intended start or from its send.
TEST_F(H2Test, NoTlsResponseIsTimedBeforeTheServerAnswered) {
  struct Protocol {
    const char* flag;
    H2Servers::Port port;
  };
  for (const Protocol& proto : {Protocol{"--http2", H2Servers::kTlsH2}, Protocol{"--http1.1", H2Servers::kTlsHttp1}}) {
    for (const bool open : {false, true}) {
      std::vector<std::string> args = {servers_->Url(proto.port, "/held"), proto.flag, "--cacert",
                                       servers_->File("cert.pem"), "-c", "4", "-d", "1s"};
      if (proto.port == H2Servers::kTlsH2) args.insert(args.end(), {"--max-streams", "8"});
      if (open) args.insert(args.end(), {"--rate", "400/s"});
      auto [p, j] = RunH("h2-held-tls", args);
      ASSERT_TRUE(j.is_object()) << p.err << p.out;
      const std::string what = std::string(proto.flag) + (open ? " open" : " closed");
      EXPECT_EQ(j["requests"]["errors"], 0) << what << j["errors"].dump();
      EXPECT_GT(j["requests"]["ok"].get<int64_t>(), 100) << what;
      EXPECT_GE(j["latency"]["response_time_us"]["min"].get<int64_t>(), 3000) << what;
      EXPECT_GE(j["latency"]["service_time_us"]["min"].get<int64_t>(), 3000) << what;
    }
  }
}

// A scenario names its HTTP version in defaults (http, max_streams); the command line's flag wins.
TEST_F(H2Test, ScenarioDefaultsChooseTheHttpVersion) {
  const std::string dir = e2e::TempDir("h2-scenario");
  std::filesystem::create_directories(dir);
  auto write = [&](const std::string& name, const std::string& target, const std::string& defaults) {
    std::ofstream(dir + "/" + name) << "name: versions\ntarget: " << target << "\ndefaults: " << defaults
                                     << "\nrequests: [ { name: home, path: / } ]\n"
                                        "phases: [ { name: steady, closed: { connections: 2, duration: 1s } } ]\n";
    return dir + "/" + name;
  };
  const std::string h2c = write("h2c.yaml", servers_->Url(H2Servers::kH2c), "{ http: h2c, max_streams: 4 }");
  const std::string tls = write("tls.yaml", servers_->Url(H2Servers::kTlsH2), "{ http: 2, max_streams: 6 }");
  struct Case {
    std::string file;
    std::vector<std::string> flags;
    const char* protocol;
    int max_streams;  // 0: no h2
  };
  for (const Case& c : {Case{h2c, {}, "h2c", 4}, Case{tls, {"--cacert", servers_->File("cert.pem")}, "h2", 6},
                        Case{tls, {"--cacert", servers_->File("cert.pem"), "--max-streams", "3"}, "h2", 3},
                        Case{tls, {"--cacert", servers_->File("cert.pem"), "--http1.1"}, "http/1.1", 0}}) {
    std::vector<std::string> args = {c.file};
    args.insert(args.end(), c.flags.begin(), c.flags.end());
    auto [p, j] = RunH("h2-scenario-run", args);
    ASSERT_TRUE(j.is_object()) << p.err << p.out;
    EXPECT_EQ(p.exit_code, 0) << p.err << p.out;
    const json& t = j["transport"];
    EXPECT_EQ(t["protocol"], c.protocol) << c.file << " " << t.dump();
    if (c.max_streams > 0) {
      EXPECT_EQ(t["h2"]["max_streams"], c.max_streams) << t.dump();
    } else {
      EXPECT_TRUE(t["h2"].is_null()) << t.dump();
    }
    EXPECT_GT(j["requests"]["ok"].get<int64_t>(), 10);
    EXPECT_EQ(j["requests"]["errors"], 0);
  }
  std::filesystem::remove_all(dir);
}

TEST_F(H2Test, H2cOpenModelSendsTheScheduleOverFewConnections) {
  const int before = CountLines(servers_->Log(H2Servers::kH2c));
  auto [p, j] = RunH("h2c-open", {servers_->Url(H2Servers::kH2c), "--h2c", "--rate", "400/s", "-d", "1s", "-c", "4"});
  ASSERT_EQ(p.exit_code, 0) << p.err << p.out;
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["transport"]["protocol"], "h2c");
  EXPECT_TRUE(j["transport"]["tls"].is_null());
  EXPECT_EQ(j["requests"]["ok"], 400);
  EXPECT_EQ(j["requests"]["errors"], 0);
  EXPECT_LE(j["generator"]["connections_opened"].get<int>(), 4);
  EXPECT_EQ(CountLines(servers_->Log(H2Servers::kH2c)) - before, 400);
}

// Large bodies both ways: a 300 KiB response (beyond the default 64 KiB window) and POST bodies.
TEST_F(H2Test, LargeBodiesFlowBothWays) {
  auto [p, j] = RunH("h2-big", {servers_->Url(H2Servers::kH2c, "/big.bin"), "--h2c", "-c", "1", "--max-streams", "4",
                               "-d", "1s"});
  ASSERT_EQ(p.exit_code, 0) << p.err << p.out;
  ASSERT_TRUE(j.is_object());
  const int64_t ok = j["requests"]["ok"].get<int64_t>();
  EXPECT_GT(ok, 0);
  EXPECT_GE(j["bytes"]["read"].get<int64_t>(), ok * 300 * 1024);
  const std::string body(100 * 1024, 'b');
  auto [q, k] = RunH("h2-post", {servers_->Url(H2Servers::kTlsH2, "/post"), "--cacert", servers_->File("cert.pem"),
                                "-m", "POST", "--body", body, "-c", "1", "--max-streams", "4", "-d", "1s"});
  ASSERT_EQ(q.exit_code, 0) << q.err << q.out;
  ASSERT_TRUE(k.is_object());
  EXPECT_GT(k["requests"]["ok"].get<int64_t>(), 0);
  EXPECT_EQ(k["requests"]["errors"], 0);
  EXPECT_GE(k["bytes"]["written"].get<int64_t>(), 100 * 1024);
}

// Response checks read h2 responses as they read HTTP/1.1 ones; the scenario takes --h2c.
TEST_F(H2Test, ResponseChecksWorkOnH2Responses) {
  const std::string dir = e2e::TempDir("h2-checks");
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/s.yaml")
      << "name: h2 checks\ntarget: " << servers_->Url(H2Servers::kH2c) << "\nrequests:\n"
      << "  - { name: good, path: /, weight: 1, expect: { status: 200, headers: { Content-Type: { contains: text }, "
         "Server: { present: true } }, body_contains: 'ok h2' } }\n"
      << "  - { name: bad, path: /, weight: 1, expect: { body_contains: nope } }\n"
      << "phases: [ { name: p, closed: { connections: 2, duration: 1s } } ]\n";
  const std::string out = dir + "/out";
  Proc p = RunHeadroom({"run", dir + "/s.yaml", "--h2c", "--max-streams", "5", "-t", "1", "-q", "-o", out});
  EXPECT_EQ(p.exit_code, 0) << p.err << p.out;  // no SLO: the run passes when anything succeeded
  std::ifstream in(out + "/results.json");
  json j = json::parse(in, nullptr, false);
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["transport"]["protocol"], "h2c");
  for (const json& r : j["requests_by_name"]) {
    if (r["name"] == "good") {
      EXPECT_GT(r["requests"]["ok"].get<int64_t>(), 0) << r.dump();
      EXPECT_EQ(r["requests"]["errors"], 0) << r.dump();
    } else {
      EXPECT_EQ(r["requests"]["ok"], 0) << r.dump();
      EXPECT_GT(r["errors"]["by_class"].value("check_failed", 0), 0) << r.dump();
    }
  }
}

// A TLS server without h2: by default the run speaks HTTP/1.1; --http2 is refused up front.
TEST_F(H2Test, ServerWithoutH2) {
  auto [p, j] = RunH("h2-fallback", {servers_->Url(H2Servers::kTlsHttp1), "--cacert", servers_->File("cert.pem"), "-c",
                                    "2", "-d", "1s"});
  ASSERT_EQ(p.exit_code, 0) << p.err << p.out;
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["transport"]["protocol"], "http/1.1");
  EXPECT_TRUE(j["transport"]["h2"].is_null());
  Proc forced = RunHeadroom({"run", servers_->Url(H2Servers::kTlsHttp1), "--cacert", servers_->File("cert.pem"),
                             "--http2", "-d", "1s", "-q"});
  EXPECT_EQ(forced.exit_code, 2) << forced.err;
  EXPECT_EQ(e2e::Lines(forced.err), 1) << forced.err;
  EXPECT_NE(forced.err.find("did not choose h2 by ALPN (it chose http/1.1)"), std::string::npos) << forced.err;
  // --http1.1 keeps HTTP/1.1 on a server that offers h2.
  auto [h1, k] = RunH("h2-forced-http1", {servers_->Url(H2Servers::kTlsH2), "--cacert", servers_->File("cert.pem"),
                                         "--http1.1", "-c", "2", "-d", "1s"});
  ASSERT_EQ(h1.exit_code, 0) << h1.err;
  EXPECT_EQ(k["transport"]["protocol"], "http/1.1");
}

TEST_F(H2Test, MisusedFlagsAreOneLineErrors) {
  struct Bad {
    std::vector<std::string> args;
    const char* message;
  };
  const std::string https = servers_->Url(H2Servers::kTlsH2);
  const std::string http = servers_->Url(H2Servers::kH2c);
  const Bad cases[] = {
      {{https, "--h2c"}, "--h2c is cleartext HTTP/2 for http:// targets"},
      {{http, "--http2"}, "use --h2c"},
      {{https, "--http2", "--h2c"}, "choose one of --http2, --h2c and --http1.1"},
      {{https, "--http2", "--http1.1"}, "choose one of"},
      {{http, "--h2c", "--max-streams", "0"}, "--max-streams"},
      {{http, "--max-streams", "10"}, "--max-streams applies to HTTP/2 only"},
      {{https, "--http1.1", "--max-streams", "10"}, "--max-streams applies to HTTP/2 only"},
  };
  for (const Bad& b : cases) {
    std::vector<std::string> args = {"run"};
    args.insert(args.end(), b.args.begin(), b.args.end());
    args.push_back("-d");
    args.push_back("1s");
    Proc p = RunHeadroom(args);
    EXPECT_EQ(p.exit_code, 2) << b.message << ": " << p.err;
    EXPECT_EQ(e2e::Lines(p.err), 1) << p.err;
    EXPECT_NE(p.err.find(b.message), std::string::npos) << p.err;
  }
}

// ---------------------------------------------------------------------------------------------
// Hostile servers: each run ends (bounded by its duration and timeouts), counts its failures by
// class, and writes results.json. These need no nginx.

std::pair<Proc, json> RunHostile(const std::string& name, const HostileH2Server& server,
                                 std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {server.Url(), "--h2c", "-d", "1s", "-c", "2", "--max-streams", "4", "--timeout",
                                   "400ms"};
  args.insert(args.end(), extra.begin(), extra.end());
  return RunH(name, args);
}

TEST(H2HostileTest, GoawayAfterAFewRequestsIsRetriedOnNewConnections) {
  HostileH2Server server(Mode::kGoawayAfter, 5);
  auto [p, j] = RunHostile("h2-goaway", server);
  ASSERT_TRUE(j.is_object()) << p.err << p.out;
  EXPECT_EQ(p.exit_code, 0) << p.err << p.out;
  const json& h2 = j["transport"]["h2"];
  EXPECT_GT(h2["goaways_received"].get<int64_t>(), 1) << h2.dump();
  EXPECT_GT(h2["requests_retried"].get<int64_t>(), 0) << h2.dump();
  EXPECT_GT(j["requests"]["ok"].get<int64_t>(), 10);
  EXPECT_GT(j["generator"]["connections_opened"].get<int64_t>(), 2);  // the run went on over new ones
  // What was not retried is counted as h2_goaway, nothing else.
  for (const auto& [cls, n] : j["errors"]["by_class"].items()) EXPECT_EQ(cls, "h2_goaway") << n;
}

TEST(H2HostileTest, RstStreamOnEveryStreamIsCountedAndTheConnectionGoesOn) {
  HostileH2Server server(Mode::kRstEveryStream);
  auto [p, j] = RunHostile("h2-rst", server);
  ASSERT_TRUE(j.is_object()) << p.err << p.out;
  EXPECT_EQ(p.exit_code, 1);
  EXPECT_EQ(j["requests"]["ok"], 0);
  EXPECT_GT(j["errors"]["by_class"].value("h2_stream_reset", 0), 10) << j["errors"].dump();
  EXPECT_EQ(j["errors"]["by_class"].size(), 1u) << j["errors"].dump();
  EXPECT_EQ(j["generator"]["connections_opened"], 2);  // the same two connections throughout
  EXPECT_EQ(j["transport"]["h2"]["rst_streams_received"].get<int64_t>(),
            j["errors"]["by_class"]["h2_stream_reset"].get<int64_t>());
  EXPECT_EQ(server.connections(), 2);
}

// The closed model gathers a connection's freed streams into one write, but never waits for the
// others to end: with three streams held by the server, the one that was answered gets its next
// request before any of the held ones times out (the client resets those only at the timeout).
TEST(H2HostileTest, AFreedStreamIsRefilledWhileTheOthersAreHeld) {
  HostileH2Server server(Mode::kAnswerFirstOnly);
  auto [p, j] = RunH("h2-held", {server.Url(), "--h2c", "-d", "1s", "-c", "1", "--max-streams", "4", "--timeout",
                                 "400ms"});
  ASSERT_TRUE(j.is_object()) << p.err << p.out;
  EXPECT_EQ(j["transport"]["h2"]["peak_streams_per_connection"], 4) << j["transport"].dump();
  EXPECT_EQ(j["requests"]["ok"], 1);
  // The three held at the start, then the refill of the answered stream.
  EXPECT_GE(server.requests_before_a_reset(), 3 + 1);
  for (const auto& [cls, n] : j["errors"]["by_class"].items()) EXPECT_EQ(cls, "request_timeout") << n;
}

TEST(H2HostileTest, SettingsFloodIsAProtocolError) {
  HostileH2Server server(Mode::kSettingsFlood);
  auto [p, j] = RunHostile("h2-settings-flood", server);
  ASSERT_TRUE(j.is_object()) << p.err << p.out;
  EXPECT_EQ(p.exit_code, 1);
  EXPECT_EQ(j["requests"]["ok"], 0);
  EXPECT_GT(j["errors"]["by_class"].value("h2_protocol", 0), 0) << j["errors"].dump();
  EXPECT_FALSE(j["transport"]["h2"]["first_error"].is_null());
}

TEST(H2HostileTest, EndlessHeaderBlockIsRefused) {
  HostileH2Server server(Mode::kEndlessHeaders);
  auto [p, j] = RunHostile("h2-huge-headers", server);
  ASSERT_TRUE(j.is_object()) << p.err << p.out;
  EXPECT_EQ(p.exit_code, 1);
  EXPECT_EQ(j["requests"]["ok"], 0);
  EXPECT_GT(j["requests"]["errors"].get<int64_t>(), 0);
  for (const auto& [cls, n] : j["errors"]["by_class"].items()) {
    // nghttp2 refuses the block (h2_protocol: the connection fails), or headroom's 64 KiB cap on a
    // response's headers trips first (malformed_response: the stream is reset); never a timeout.
    EXPECT_TRUE(cls == "malformed_response" || cls == "h2_protocol") << cls << " " << n;
  }
}

TEST(H2HostileTest, ConnectionWindowThatNeverOpensTimesOutPostBodies) {
  HostileH2Server server(Mode::kNoConnectionWindow);
  auto [p, j] = RunHostile("h2-zero-window", server, {"-m", "POST", "--body", std::string(100 * 1024, 'p')});
  ASSERT_TRUE(j.is_object()) << p.err << p.out;
  EXPECT_EQ(p.exit_code, 1);
  EXPECT_EQ(j["requests"]["ok"], 0);
  EXPECT_GT(j["errors"]["by_class"].value("request_timeout", 0), 0) << j["errors"].dump();
}

TEST(H2HostileTest, ServerThatNeverAnswersThePreface) {
  HostileH2Server server(Mode::kSilent);
  auto [p, j] = RunHostile("h2-silent", server);
  ASSERT_TRUE(j.is_object()) << p.err << p.out;
  EXPECT_EQ(p.exit_code, 1);
  EXPECT_EQ(j["requests"]["ok"], 0);
  EXPECT_GT(j["errors"]["by_class"].value("h2_protocol", 0), 0) << j["errors"].dump();
  EXPECT_NE(j["transport"]["h2"]["first_error"].get<std::string>().find("no SETTINGS frame"), std::string::npos);
}

// --http2 to a TLS port that never answers the handshake: counted as tls_handshake, bounded.
TEST(H2HostileTest, TlsServerThatStallsTheHandshake) {
  uint16_t port = 0;
  const int fd = ListenLoopback(&port);
  ASSERT_GE(fd, 0);
  auto [p, j] = RunH("h2-tls-stall", {"https://127.0.0.1:" + std::to_string(port) + "/", "--insecure", "--http2", "-d",
                                     "1s", "-c", "2", "--timeout", "300ms"});
  ::close(fd);
  ASSERT_TRUE(j.is_object()) << p.err << p.out;
  EXPECT_EQ(p.exit_code, 1);
  EXPECT_EQ(j["transport"]["protocol"], "h2");
  EXPECT_GT(j["errors"]["by_class"].value("tls_handshake", 0), 0) << j["errors"].dump();
}

}  // namespace
