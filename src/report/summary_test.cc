// The terminal summary's advice: "raise --connections" only when it is true.
#include <gtest/gtest.h>

#include "report/summary.h"

namespace headroom::report {
namespace {

// An open-model run of 10,000 requests; `waited` of them waited at the connection cap.
Results MakeRun(int64_t waited, int64_t service_p99_us, int64_t response_p99_us, int64_t errors = 0) {
  Results r;
  r.model = LoadModel::kOpen;
  r.connections = 100;
  r.overall.requests_total = 10'000;
  r.overall.requests_errors = errors;
  r.overall.requests_ok = 10'000 - errors;
  r.overall.service_time_us.RecordN(service_p99_us, 10'000);
  r.overall.response_time_us.RecordN(response_p99_us, 10'000);
  r.generator.pacer_lateness_us.RecordN(10, 10'000);
  r.generator.delayed = waited;
  r.generator.waited_at_cap = waited;
  return r;
}

// The terminal shows a stress step cut short as such, and an unmeasured soak drift as not measured.
TEST(PhaseBlocks, InterruptedStepAndUnmeasuredDrift) {
  Results r;
  r.target = "t";
  PhaseResult stress;
  stress.name = "limit";
  stress.kind = "stress";
  stress.status = PhaseStatus::kInterrupted;
  StressResult st;
  st.capacity_rps = 100;
  st.curve = {{100, 100, 5000, 5000, 5000, 0, true, false, "", false, {}},
              {200, 200, 5000, 5000, 5000, 0, false, false, "", true, {}}};
  stress.stress = st;
  PhaseResult soak;
  soak.name = "long";
  soak.kind = "soak";
  soak.status = PhaseStatus::kInterrupted;
  SoakResult drift;
  drift.window_s = 120;
  drift.first_p95_us = 302'000;
  drift.first_error_rate = 0;
  soak.soak = drift;
  r.phases = {stress, soak};
  const std::string text = FormatSummary(r);
  EXPECT_NE(text.find("    capacity     100/s (the search was interrupted: it may be higher)\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("      CUT  200/s -> 200/s, 5.00ms / 5.00ms / 5.00ms, 0.00%  interrupted: not judged\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("FAIL 200/s"), std::string::npos) << text;
  EXPECT_NE(text.find("    drift        not measured: no request ended in the last window of 120s\n"), std::string::npos)
      << text;
}

// A refused port: every attempt failed, so nothing was opened.
TEST(ConnectionsLine, CountsEstablishedConnectionsAndFailedAttemptsApart) {
  Results refused = MakeRun(0, 2'000, 80'000, 10'000);
  refused.generator.connections_opened = 0;
  refused.generator.connect_attempts = 200;
  EXPECT_NE(FormatSummary(refused).find("\n  connections    0 opened of 200 attempts\n"), std::string::npos)
      << FormatSummary(refused);
  Results fine = MakeRun(0, 2'000, 80'000);
  fine.generator.connections_opened = fine.generator.connect_attempts = 12;
  EXPECT_NE(FormatSummary(fine).find("\n  connections    12 opened\n"), std::string::npos) << FormatSummary(fine);
}

TEST(ConnectionAdvice, GivenWhenRequestsQueuedAtTheCapWhileTheServerKeptUp) {
  Results r = MakeRun(500, 2'000, 80'000);
  EXPECT_TRUE(ConnectionCapLimited(r));
  EXPECT_NE(FormatSummary(r).find("raise --connections"), std::string::npos);
}

TEST(ConnectionAdvice, NotGivenWhenConnectionsWereOnlyReopened) {
  // A server that closes every connection: many requests waited for a new connection, none at the cap.
  Results r = MakeRun(0, 2'000, 80'000);
  r.generator.delayed = 9'000;
  EXPECT_FALSE(ConnectionCapLimited(r));
  EXPECT_EQ(FormatSummary(r).find("raise --connections"), std::string::npos);
}

TEST(ConnectionAdvice, NotGivenWhenTheServerIsTheBottleneck) {
  EXPECT_FALSE(ConnectionCapLimited(MakeRun(500, 70'000, 80'000)));  // the server's own time dominates
  EXPECT_FALSE(ConnectionCapLimited(MakeRun(500, 2'000, 80'000, 1'000)));  // 10% errors
  EXPECT_FALSE(ConnectionCapLimited(MakeRun(50, 2'000, 80'000)));  // 0.5%: noise
  Results closed = MakeRun(500, 2'000, 80'000);
  closed.model = LoadModel::kClosed;
  EXPECT_FALSE(ConnectionCapLimited(closed));
}

}  // namespace
}  // namespace headroom::report

namespace headroom::report {
namespace {

// An https run says what was negotiated and whether the certificate was checked, in the terminal
// summary, summary.md and results.json alike; an http run says nothing about TLS.
TEST(Transport, TlsIsReportedAndInsecureNeverHidden) {
  Results r;
  r.target = "https://127.0.0.1:8443/";
  r.transport.scheme = "https";
  r.transport.tls = true;
  r.transport.tls_version = "TLSv1.3";
  r.transport.tls_cipher = "TLS_AES_256_GCM_SHA384";
  r.transport.tls_handshakes_new = 2;
  r.transport.tls_handshakes_resumed = 48;
  r.transport.tls_handshake_time_us.RecordN(300, 50);
  EXPECT_EQ(TlsLine(r.transport),
            "TLSv1.3 TLS_AES_256_GCM_SHA384, http/1.1, certificate verified; handshakes 2 new, 48 resumed");
  std::string text = FormatSummary(r);
  EXPECT_NE(text.find("tls handshake"), std::string::npos) << text;
  EXPECT_EQ(text.find("NOT verified"), std::string::npos) << text;
  nlohmann::ordered_json j = ToJson(r);
  EXPECT_EQ(j["transport"]["tls"]["verify"], true);
  EXPECT_EQ(j["transport"]["tls"]["handshakes_resumed"], 48);
  EXPECT_EQ(j["transport"]["tls"]["handshake_time_us"]["count"], 50);
  EXPECT_TRUE(j["transport"]["tls"]["first_error"].is_null());

  r.transport.tls_verify = false;
  r.transport.first_tls_error = "tls_verify: certificate expired (127.0.0.1:8443)";
  text = FormatSummary(r);
  EXPECT_NE(text.find("certificate NOT verified (--insecure)"), std::string::npos) << text;
  EXPECT_NE(text.find("warning: TLS certificate verification was OFF"), std::string::npos) << text;
  EXPECT_NE(text.find("tls error      tls_verify: certificate expired"), std::string::npos) << text;
  j = ToJson(r);
  EXPECT_EQ(j["transport"]["tls"]["verify"], false);
  EXPECT_EQ(j["transport"]["tls"]["first_error"], "tls_verify: certificate expired (127.0.0.1:8443)");

  Results plain;
  EXPECT_EQ(TlsLine(plain.transport), "");
  EXPECT_EQ(FormatSummary(plain).find("  tls"), std::string::npos);
  EXPECT_TRUE(ToJson(plain)["transport"]["tls"].is_null());
  EXPECT_EQ(ToJson(plain)["transport"]["scheme"], "http");
}

// An HTTP/2 run says so in the summary and results.json, with its stream and frame counts; an
// HTTP/1.1 run has no http/2 line and a null transport.h2.
TEST(Transport, Http2IsReportedWithItsCounts) {
  Results r;
  r.transport.protocol = "h2c";
  r.transport.h2 = true;
  r.transport.h2_max_streams = 32;
  r.transport.h2_peak_streams = 30;
  r.transport.h2_goaways = 2;
  r.transport.h2_resets = 7;
  r.transport.h2_retried = 5;
  r.transport.first_h2_error = "h2_protocol: flood (127.0.0.1:80)";
  EXPECT_EQ(H2Line(r.transport),
            "h2c (cleartext, prior knowledge), up to 32 streams per connection, peak 30 in flight; received 2 GOAWAY, 7 "
            "RST_STREAM; 5 requests retried");
  const std::string text = FormatSummary(r);
  EXPECT_NE(text.find("  http/2         h2c (cleartext"), std::string::npos) << text;
  EXPECT_NE(text.find("  http/2 error   h2_protocol: flood"), std::string::npos) << text;
  nlohmann::ordered_json j = ToJson(r);
  EXPECT_EQ(j["transport"]["protocol"], "h2c");
  EXPECT_EQ(j["transport"]["h2"]["max_streams"], 32);
  EXPECT_EQ(j["transport"]["h2"]["peak_streams_per_connection"], 30);
  EXPECT_EQ(j["transport"]["h2"]["goaways_received"], 2);
  EXPECT_EQ(j["transport"]["h2"]["rst_streams_received"], 7);
  EXPECT_EQ(j["transport"]["h2"]["requests_retried"], 5);
  EXPECT_EQ(j["transport"]["h2"]["first_error"], "h2_protocol: flood (127.0.0.1:80)");

  Results plain;
  EXPECT_EQ(H2Line(plain.transport), "");
  EXPECT_EQ(FormatSummary(plain).find("http/2"), std::string::npos);
  EXPECT_TRUE(ToJson(plain)["transport"]["h2"].is_null());
}

}  // namespace
}  // namespace headroom::report
