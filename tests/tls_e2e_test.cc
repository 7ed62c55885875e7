// headroom run https://: against nginx with TLS (a CA and certificates this test makes with the
// openssl command), and against hostile servers (expired, wrong-host and self-signed certificates,
// a server that never answers the handshake, plain HTTP on the port). Every run ends with its
// failures counted by class, the first one's reason named, and results.json written.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "e2e_util.h"

namespace {

using e2e::Proc;
using e2e::RunHeadroom;
using e2e::Slurp;
using nlohmann::json;

using e2e::FreePort;
using e2e::InCi;
using e2e::Sh;
using e2e::SilentListener;

// One nginx with a TLS server per certificate, a mutual-TLS server and a plain HTTP server, on free
// loopback ports; certificates from a CA made here. Stopped by PID.
class TlsServers {
 public:
  enum Port { kGood, kGood12, kWrongHost, kExpired, kSelfSigned, kMutual, kPlain, kPortCount };

  std::string Setup() {
    dir_ = e2e::TempDir("tls-servers");
    std::filesystem::create_directories(dir_ + "/logs");
    const std::string d = dir_ + "/";
    const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes ";
    // The CA, and certificates it signs: for 127.0.0.1, for another host, expired, a client's.
    if (!Sh("openssl req -x509" + ec + "-keyout " + d + "ca.key -out " + d + "ca.pem -days 2 -subj '/CN=headroom test CA'")) {
      return "openssl cannot make a CA";
    }
    std::ofstream(d + "ip.ext") << "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
    std::ofstream(d + "other.ext") << "subjectAltName=DNS:other.example\n";
    struct Leaf {
      const char* name;
      const char* ext;
      const char* days;
    };
    for (const Leaf& l : {Leaf{"good", "ip.ext", "2"}, Leaf{"wronghost", "other.ext", "2"},
                          Leaf{"expired", "ip.ext", "-1"}, Leaf{"client", "ip.ext", "2"}}) {
      const std::string n = d + l.name;
      if (!Sh("openssl req" + ec + "-keyout " + n + ".key -out " + n + ".csr -subj '/CN=" + l.name + "'") ||
          !Sh("openssl x509 -req -in " + n + ".csr -CA " + d + "ca.pem -CAkey " + d + "ca.key -CAcreateserial -out " +
              n + ".pem -days " + l.days + " -extfile " + d + l.ext)) {
        return std::string("openssl cannot make the ") + l.name + " certificate";
      }
    }
    if (!Sh("openssl req -x509" + ec + "-keyout " + d + "self.key -out " + d + "self.pem -days 2 -subj '/CN=127.0.0.1'"
            " -addext subjectAltName=IP:127.0.0.1")) {
      return "openssl cannot make a self-signed certificate";
    }
    for (uint16_t& p : ports_) p = FreePort();
    auto tls = [&](Port p, const std::string& cert, const std::string& extra) {
      return "  server { listen 127.0.0.1:" + std::to_string(ports_[p]) + " ssl; ssl_certificate " + d + cert +
             ".pem; ssl_certificate_key " + d + cert + ".key; " + extra + " location / { return 200 \"ok\"; } }\n";
    };
    std::ofstream(d + "nginx.conf")
        << (::geteuid() == 0 ? "user root;\n" : "") << "worker_processes 1;\npid " << d << "nginx.pid;\n"
        << "error_log " << d << "logs/error.log warn;\nevents { worker_connections 256; }\n"
        << "http {\n  access_log off;\n  client_body_temp_path " << d << "body;\n  proxy_temp_path " << d
        << "proxy;\n  fastcgi_temp_path " << d << "fastcgi;\n  uwsgi_temp_path " << d << "uwsgi;\n  scgi_temp_path "
        << d << "scgi;\n"
        << tls(kGood, "good", "ssl_protocols TLSv1.3;") << tls(kGood12, "good", "ssl_protocols TLSv1.2;")
        << tls(kWrongHost, "wronghost", "") << tls(kExpired, "expired", "")
        << tls(kSelfSigned, "self", "")
        << tls(kMutual, "good", "ssl_verify_client on; ssl_client_certificate " + d + "ca.pem;")
        << "  server { listen 127.0.0.1:" << ports_[kPlain] << "; location / { return 200 \"ok\"; } }\n}\n";
    return e2e::StartNginx(dir_, std::vector<uint16_t>(std::begin(ports_), std::end(ports_)), &pid_);
  }

  ~TlsServers() {
    e2e::StopPid(pid_);
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }

  std::string Url(Port p, const std::string& scheme = "https") const {
    return scheme + "://127.0.0.1:" + std::to_string(ports_[p]) + "/";
  }
  std::string File(const std::string& name) const { return dir_ + "/" + name; }

 private:
  std::string dir_;
  pid_t pid_ = -1;
  uint16_t ports_[kPortCount] = {};
};

class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    servers_ = new TlsServers();
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

  // A short closed-model run; returns the process and its results.json (null when none was written).
  static std::pair<Proc, json> Run(const std::string& name, std::vector<std::string> args) {
    const std::string out = e2e::TempDir(name);
    args.insert(args.begin(), "run");
    for (const char* a : {"-d", "1s", "-c", "4", "-t", "1", "--timeout", "500ms", "-q"}) args.push_back(a);
    args.push_back("-o");
    args.push_back(out);
    Proc p = RunHeadroom(args);
    std::ifstream in(out + "/results.json");
    json j = in ? json::parse(in, nullptr, false) : json();
    if (j.is_discarded()) j = json();
    // Not an object (so ASSERT_TRUE(j.is_object()) fails) unless results.json was written.
    if (j.is_object()) j["__summary_md"] = Slurp(out + "/summary.md");
    return {p, j};
  }

  static TlsServers* servers_;
  static std::string* setup_error_;
};

TlsServers* TlsTest::servers_ = nullptr;
std::string* TlsTest::setup_error_ = nullptr;

TEST_F(TlsTest, VerifiedRunReportsProtocolCipherAndHandshakes) {
  auto [p, j] = Run("tls-good", {servers_->Url(TlsServers::kGood), "--cacert", servers_->File("ca.pem")});
  ASSERT_EQ(p.exit_code, 0) << p.err << p.out;
  ASSERT_TRUE(j.is_object());
  EXPECT_GT(j["requests"]["ok"].get<int64_t>(), 0);
  EXPECT_EQ(j["requests"]["errors"].get<int64_t>(), 0);
  const json& t = j["transport"];
  EXPECT_EQ(t["scheme"], "https");
  EXPECT_EQ(t["protocol"], "http/1.1");
  EXPECT_EQ(t["tls"]["verify"], true);
  EXPECT_TRUE(t["tls"]["version"].get<std::string>().starts_with("TLSv1.")) << t.dump();
  EXPECT_FALSE(t["tls"]["cipher"].get<std::string>().empty());
  const int64_t handshakes = t["tls"]["handshakes_new"].get<int64_t>() + t["tls"]["handshakes_resumed"].get<int64_t>();
  EXPECT_GE(handshakes, 4);  // one per connection, at least
  EXPECT_EQ(t["tls"]["handshake_time_us"]["count"].get<int64_t>(), handshakes);
  EXPECT_EQ(j["generator"]["connect_time_us"]["count"].get<int64_t>(), j["generator"]["connections_opened"].get<int64_t>());
  EXPECT_TRUE(t["tls"]["first_error"].is_null());
  EXPECT_NE(p.out.find("tls "), std::string::npos) << p.out;
  EXPECT_NE(p.out.find("certificate verified"), std::string::npos) << p.out;
  EXPECT_NE(j["__summary_md"].get<std::string>().find("**TLS:**"), std::string::npos);
}

// A scenario file's https target takes the same flags.
TEST_F(TlsTest, ScenarioTargetOverHttps) {
  const std::string dir = e2e::TempDir("tls-scenario-file");
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/s.yaml") << "name: tls\ntarget: " << servers_->Url(TlsServers::kGood)
                                 << "\nrequests:\n  - { name: home, path: /, expect: { status: 200 } }\n"
                                    "phases: [ { name: p, closed: { connections: 2, duration: 1s } } ]\n";
  const std::string out = dir + "/out";
  Proc p = RunHeadroom({"run", dir + "/s.yaml", "--cacert", servers_->File("ca.pem"), "-t", "1", "-q", "-o", out});
  EXPECT_EQ(p.exit_code, 0) << p.err << p.out;
  std::ifstream in(out + "/results.json");
  json j = json::parse(in, nullptr, false);
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["transport"]["scheme"], "https");
  EXPECT_GT(j["requests"]["ok"].get<int64_t>(), 0);
  EXPECT_EQ(j["requests"]["errors"].get<int64_t>(), 0);
}

// A new connection per request: the first handshakes are full, the later ones resume a session
// (a TLS 1.3 ticket, a TLS 1.2 session).
TEST_F(TlsTest, ReconnectsResumeTheSession) {
  for (auto [port, version] : {std::pair{TlsServers::kGood, "TLSv1.3"}, std::pair{TlsServers::kGood12, "TLSv1.2"}}) {
    SCOPED_TRACE(version);
    auto [p, j] = Run(std::string("tls-resume-") + version,
                      {servers_->Url(port), "--cacert", servers_->File("ca.pem"), "-H", "Connection: close"});
    ASSERT_EQ(p.exit_code, 0) << p.err << p.out;
    ASSERT_TRUE(j.is_object());
    const json& tls = j["transport"]["tls"];
    EXPECT_EQ(tls["version"], version);
    EXPECT_GE(tls["handshakes_new"].get<int64_t>(), 1);
    EXPECT_GT(tls["handshakes_resumed"].get<int64_t>(), tls["handshakes_new"].get<int64_t>()) << tls.dump();
    EXPECT_GT(j["requests"]["ok"].get<int64_t>(), 4);
  }
}

// --no-tls-resume: every connection pays a full handshake (to measure a server's handshake
// capacity, or to compare with a client that does not resume).
TEST_F(TlsTest, NoTlsResumeMakesEveryHandshakeFull) {
  for (auto [port, version] : {std::pair{TlsServers::kGood, "TLSv1.3"}, std::pair{TlsServers::kGood12, "TLSv1.2"}}) {
    SCOPED_TRACE(version);
    auto [p, j] = Run(std::string("tls-no-resume-") + version, {servers_->Url(port), "--cacert", servers_->File("ca.pem"),
                                                                "-H", "Connection: close", "--no-tls-resume"});
    ASSERT_EQ(p.exit_code, 0) << p.err << p.out;
    ASSERT_TRUE(j.is_object());
    const json& tls = j["transport"]["tls"];
    EXPECT_EQ(tls["handshakes_resumed"], 0) << tls.dump();
    // Each response came on a connection of its own, after a full handshake.
    EXPECT_GE(tls["handshakes_new"].get<int64_t>(), j["requests"]["ok"].get<int64_t>()) << tls.dump();
    EXPECT_GT(j["requests"]["ok"].get<int64_t>(), 4);
  }
}

TEST_F(TlsTest, InsecureIsSaidInEveryOutput) {
  auto [p, j] = Run("tls-insecure", {servers_->Url(TlsServers::kSelfSigned), "--insecure"});
  ASSERT_EQ(p.exit_code, 0) << p.err << p.out;
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["transport"]["tls"]["verify"], false);
  EXPECT_EQ(j["requests"]["errors"].get<int64_t>(), 0);
  bool noticed = false;
  for (const json& n : j["notices"]) noticed = noticed || n.get<std::string>().find("--insecure") != std::string::npos;
  EXPECT_TRUE(noticed) << j["notices"].dump();
  EXPECT_NE(p.out.find("NOT verified (--insecure)"), std::string::npos) << p.out;
  EXPECT_NE(j["__summary_md"].get<std::string>().find("--insecure"), std::string::npos);
}

TEST_F(TlsTest, MutualTlsSendsTheClientCertificate) {
  auto [with, jw] = Run("tls-mtls", {servers_->Url(TlsServers::kMutual), "--cacert", servers_->File("ca.pem"), "--cert",
                                     servers_->File("client.pem"), "--key", servers_->File("client.key")});
  EXPECT_EQ(with.exit_code, 0) << with.err << with.out;
  ASSERT_TRUE(jw.is_object());
  EXPECT_EQ(jw["requests"]["errors"].get<int64_t>(), 0);
  // Without one nginx answers 400: the handshake completed, the request failed.
  auto [without, jo] = Run("tls-mtls-none", {servers_->Url(TlsServers::kMutual), "--cacert", servers_->File("ca.pem")});
  EXPECT_EQ(without.exit_code, 1) << without.err << without.out;
  ASSERT_TRUE(jo.is_object());
  EXPECT_GT(jo["errors"]["by_class"].value("http_4xx", 0), 0) << jo["errors"].dump();
}

struct Hostile {
  const char* name;
  TlsServers::Port port;
  const char* scheme_class;
  const char* reason;
};

// Each ends in counted errors of its class, the first one's reason named, and a written results.json.
TEST_F(TlsTest, BadCertificatesAndBrokenHandshakesAreCountedAndNamed) {
  const Hostile cases[] = {
      {"tls-unknown-ca", TlsServers::kGood, "tls_verify", "unknown CA"},  // no --cacert: the test CA is unknown
      {"tls-expired", TlsServers::kExpired, "tls_verify", "certificate expired"},
      {"tls-wrong-host", TlsServers::kWrongHost, "tls_verify", "hostname mismatch"},
      {"tls-self-signed", TlsServers::kSelfSigned, "tls_verify", "unknown CA"},
      {"tls-plaintext-port", TlsServers::kPlain, "tls_handshake", "tls_handshake: "},
  };
  for (const Hostile& h : cases) {
    SCOPED_TRACE(h.name);
    std::vector<std::string> args = {servers_->Url(h.port)};
    if (std::string(h.name) != "tls-unknown-ca" && std::string(h.name) != "tls-plaintext-port") {
      args.push_back("--cacert");
      args.push_back(servers_->File("ca.pem"));
    }
    auto [p, j] = Run(h.name, args);
    EXPECT_EQ(p.exit_code, 1) << p.err << p.out;
    ASSERT_TRUE(j.is_object()) << "no results.json";
    EXPECT_EQ(j["requests"]["ok"].get<int64_t>(), 0);
    EXPECT_GT(j["errors"]["by_class"].value(h.scheme_class, 0), 0) << j["errors"].dump();
    EXPECT_EQ(j["errors"]["by_class"].size(), 1u) << j["errors"].dump();
    const std::string first = j["transport"]["tls"]["first_error"].get<std::string>();
    EXPECT_TRUE(first.starts_with(std::string(h.scheme_class) + ": ")) << first;
    EXPECT_NE(first.find(h.reason), std::string::npos) << first;
    EXPECT_NE(p.out.find(first), std::string::npos) << "the summary names the first TLS error: " << p.out;
  }
}

TEST_F(TlsTest, ServerThatNeverAnswersTheHandshakeTimesOut) {
  SilentListener silent;
  ASSERT_NE(silent.port, 0);
  auto [p, j] = Run("tls-stall", {"https://127.0.0.1:" + std::to_string(silent.port) + "/", "--insecure"});
  EXPECT_EQ(p.exit_code, 1) << p.err << p.out;
  ASSERT_TRUE(j.is_object());
  EXPECT_GT(j["errors"]["by_class"].value("tls_handshake", 0), 0) << j["errors"].dump();
  EXPECT_NE(j["transport"]["tls"]["first_error"].get<std::string>().find("no TLS handshake reply"), std::string::npos);
  EXPECT_EQ(j["transport"]["tls"]["handshakes_new"].get<int64_t>(), 0);
  EXPECT_TRUE(j["transport"]["tls"]["version"].is_null());
}

TEST_F(TlsTest, MisusedFlagsAreOneLineErrors) {
  struct Bad {
    std::vector<std::string> args;
    const char* message;
  };
  const std::string https = servers_->Url(TlsServers::kGood);
  const Bad cases[] = {
      {{https, "--cacert", "/nonexistent/ca.pem"}, "--cacert: cannot read '/nonexistent/ca.pem'"},
      {{servers_->Url(TlsServers::kPlain, "http"), "--insecure"}, "apply to https:// targets only"},
      {{servers_->Url(TlsServers::kPlain, "http"), "--no-tls-resume"}, "apply to https:// targets only"},
      {{https, "--cert", servers_->File("client.pem")}, "--cert and --key go together"},
      {{https, "--cacert", servers_->File("ip.ext")}, "cannot load a PEM certificate"},
      {{https, "--cert", servers_->File("client.pem"), "--key", servers_->File("good.key")}, "does not match"},
      {{https, "--insecure", "--cacert", servers_->File("ca.pem")}, "--insecure turns verification off"},
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

}  // namespace
