// The headroom binary as a user runs it: exit codes, one-line errors, results files, SIGINT.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "target/target.h"
#include "e2e_util.h"

namespace {

using namespace e2e;

TEST(CliTest, HelpAndVersionExitZero) {
  EXPECT_EQ(RunHeadroom({"--help"}).exit_code, 0);
  Proc v = RunHeadroom({"--version"});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_EQ(v.out.rfind("headroom ", 0), 0u);
  Proc r = RunHeadroom({"run", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--rate"), std::string::npos);
}

TEST(CliTest, BadInputIsOneLineAndExitTwo) {
  const std::vector<std::vector<std::string>> cases = {
      {"run", "http://127.0.0.1:1/", "--rate", "2000"},          // rate without unit
      {"run", "http://127.0.0.1:1/", "--duration", "10 s"},      // space in a duration
      {"run", "http://127.0.0.1:1/", "--slo", "p95 < 300mss"},   // bad SLO unit
      {"run", "http://127.0.0.1:1/", "--slo", "latency < 3ms"},  // unknown metric
      {"run", "ftp://x/"},                                       // unsupported scheme
      {"run", "http://127.0.0.1:1/", "--connections", "x"},      // not a number
      {"run", "http://127.0.0.1:1/", "--arrival", "bursty"},
      {"run", "http://127.0.0.1:1/", "--body", "@/nonexistent/file"},
      {"run", "http://127.0.0.1:1/", "-H", "NoColon"},
      {"run"},
      {"frobnicate"},
      {"run", HEADROOM_SOURCE_DIR "/examples/baseline.yaml", "--rate", "10/s"},  // flag for a URL run only
      // Counts out of range: refused, never replaced by a default.
      {"run", "http://127.0.0.1:1/", "--connections", "0"},
      {"run", "http://127.0.0.1:1/", "-c", "-5"},
      {"run", "http://127.0.0.1:1/", "--connections", "99999999999"},
      {"run", "http://127.0.0.1:1/", "--threads", "-1"},
      {"run", "http://127.0.0.1:1/", "-t", "0"},
      {"run", "http://127.0.0.1:1/", "--threads", "1.5"},
      {"run", HEADROOM_SOURCE_DIR "/examples/baseline.yaml", "--threads", "0"},
      {"target", "--threads", "0"},
      {"target", "--threads", "1000"},
      {"target", "--close-every", "-1"},
      {"run", "http://127.0.0.1:1/", "--seed", "-1"},  // would wrap around to 2^64 - 1
  };
  for (const auto& args : cases) {
    Proc p = RunHeadroom(args);
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    EXPECT_EQ(p.exit_code, 2) << joined << "\n" << p.err;
    EXPECT_EQ(Lines(p.err), 1) << joined << "\n" << p.err;
    EXPECT_EQ(p.err.rfind("headroom", 0), 0u) << p.err;
  }
}

// A mistyped command or import kind gets a suggestion on its one line.
TEST(CliTest, MistypedCommandsAreSuggested) {
  Proc p = RunHeadroom({"rn", "http://127.0.0.1:1/"});
  EXPECT_EQ(p.exit_code, 2);
  EXPECT_EQ(p.err, "headroom: unknown command 'rn'; did you mean 'run'? (run 'headroom --help')\n");
  p = RunHeadroom({"import", "--out", "x.yaml", "crul", "curl http://127.0.0.1:1/"});
  EXPECT_EQ(p.exit_code, 2);
  EXPECT_NE(p.err.find("unknown kind 'crul'; did you mean 'curl'?"), std::string::npos) << p.err;
  EXPECT_EQ(Lines(p.err), 1) << p.err;
}

// validate checks a file as run will run it: the same -e, --target, --slo and --duration-scale.
TEST(CliTest, ValidateTakesTheOverridesRunTakes) {
  const std::string dir = TempDir("validate-overrides");
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/env.yaml";
  std::ofstream(path) << "name: env\ntarget: ${HR_TEST_TARGET}\nrequests:\n"
                         "  - { name: r, path: \"/x/{{ env(HR_TEST_REGION) }}\" }\n"
                         "phases: [ { name: p, baseline: { rate: 10/s, duration: 10s } } ]\n";
  Proc bare = RunHeadroom({"validate", path});
  EXPECT_EQ(bare.exit_code, 2) << bare.err;
  EXPECT_NE(bare.err.find("HR_TEST_TARGET is not set"), std::string::npos) << bare.err;
  Proc ok = RunHeadroom({"validate", path, "-e", "HR_TEST_TARGET=http://127.0.0.1:1", "-e", "HR_TEST_REGION=eu",
                         "--slo", "p95 < 300ms", "--duration-scale", "0.1"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  Proc target = RunHeadroom({"validate", path, "--target", "http://127.0.0.1:1", "-e", "HR_TEST_REGION=eu"});
  EXPECT_EQ(target.exit_code, 0) << "--target replaces the file's unset ${HR_TEST_TARGET}: " << target.err;
  Proc https = RunHeadroom({"validate", path, "--target", "https://127.0.0.1:1", "-e", "HR_TEST_REGION=eu"});
  EXPECT_EQ(https.exit_code, 0) << "an https target is valid: " << https.err;
  Proc ftp = RunHeadroom({"validate", path, "--target", "ftp://127.0.0.1:1", "-e", "HR_TEST_REGION=eu"});
  EXPECT_EQ(ftp.exit_code, 2);
  EXPECT_NE(ftp.err.find("env.yaml:2:9: target (--target): 'ftp://127.0.0.1:1' is not an http:// or https:// URL"),
            std::string::npos)
      << ftp.err;
  Proc bad_slo = RunHeadroom({"validate", path, "--target", "http://127.0.0.1:1", "-e", "HR_TEST_REGION=eu", "--slo",
                              "p95 < 3 ms"});
  EXPECT_EQ(bad_slo.exit_code, 2);
}

// stderr is not a terminal here (a file, as in CI logs): one compact line per 10 s, none with --quiet.
TEST(CliTest, ProgressIsALineEveryTenSecondsWhenNotATerminal) {
  auto server = Target();
  Proc p = RunHeadroom({"run", Url(*server), "--rate", "50/s", "-d", "11s"});
  EXPECT_EQ(p.exit_code, 0) << p.err;
  EXPECT_EQ(Lines(p.err), 1) << p.err;
  EXPECT_EQ(p.err.rfind("headroom: 10s elapsed, run [10s/11s]: 50 req/s, p95 ", 0), 0u) << p.err;
  EXPECT_EQ(p.err.find('\r'), std::string::npos) << p.err;  // no terminal redraws in a log
  Proc quiet = RunHeadroom({"run", Url(*server), "--rate", "50/s", "-d", "11s", "-q"});
  EXPECT_EQ(quiet.err, "");
}

// A mistyped flag names the flag it probably meant.
TEST(CliTest, MistypedFlagSuggestsTheRealOne) {
  Proc p = RunHeadroom({"run", "http://127.0.0.1:1/", "--rat", "10/s"});
  EXPECT_EQ(p.exit_code, 2);
  EXPECT_EQ(Lines(p.err), 1) << p.err;
  EXPECT_NE(p.err.find("did you mean '--rate'?"), std::string::npos) << p.err;
  Proc q = RunHeadroom({"run", "http://127.0.0.1:1/", "--duraton=5s"});
  EXPECT_NE(q.err.find("did you mean '--duration'?"), std::string::npos) << q.err;
  Proc far = RunHeadroom({"run", "http://127.0.0.1:1/", "--frobnicate"});
  EXPECT_EQ(far.err.find("did you mean"), std::string::npos) << far.err;
}

// Issue 8: `--connections 0` ran with 50 connections and `--threads -1` with one per core.
TEST(CliTest, NonPositiveCountsAreRefusedWithTheirRange) {
  Proc c = RunHeadroom({"run", "http://127.0.0.1:1/", "--connections", "0", "-d", "1s"});
  EXPECT_EQ(c.exit_code, 2);
  EXPECT_EQ(c.err, "headroom run: --connections: must be between 1 and 1000000, not 0 (see 'headroom run --help')\n");
  Proc t = RunHeadroom({"run", "http://127.0.0.1:1/", "--threads", "-1", "-d", "1s"});
  EXPECT_EQ(t.exit_code, 2);
  EXPECT_EQ(t.err, "headroom run: --threads: must be between 1 and 1024, not -1 (see 'headroom run --help')\n");
  Proc x = RunHeadroom({"target", "--threads", "x"});
  EXPECT_EQ(x.exit_code, 2);
  EXPECT_EQ(x.err,
            "headroom target: --threads: must be a whole number between 1 and 256, not 'x' (see 'headroom target "
            "--help')\n");
}

TEST(CliTest, ScenarioErrorsNameTheFileAndExitTwo) {
  Proc missing = RunHeadroom({"run", "/nonexistent/scenario.yaml"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(Lines(missing.err), 1) << missing.err;
  EXPECT_NE(missing.err.find("/nonexistent/scenario.yaml"), std::string::npos) << missing.err;
  Proc bad = RunHeadroom({"run", HEADROOM_SOURCE_DIR "/src/scenario/testdata/bad/unknown_key.yaml"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("unknown_key.yaml:"), std::string::npos) << bad.err;
}

TEST(CliTest, OpenRunWritesResultsAndPassesItsSlos) {
  auto server = Target();
  std::string dir = TempDir("open");
  Proc p = RunHeadroom({"run", Url(*server), "--rate", "500/s", "--duration", "2s", "--slo", "p99 < 5s",
                        "--slo", "error_rate < 1%", "--out", dir, "--quiet"});
  ASSERT_EQ(p.exit_code, 0) << p.out << p.err;
  EXPECT_NE(p.out.find("open model"), std::string::npos);
  EXPECT_NE(p.out.find("PASS  p99 < 5s"), std::string::npos);
  auto j = nlohmann::json::parse(Slurp(dir + "/results.json"));
  EXPECT_EQ(j["schema"], "headroom.results/3");
  EXPECT_EQ(j["model"], "open");
  EXPECT_EQ(j["requests"]["total"], 1000);
  EXPECT_EQ(j["requests"]["errors"], 0);
  EXPECT_DOUBLE_EQ(j["throughput"]["requested_rps"].get<double>(), 500.0);
  EXPECT_GT(j["throughput"]["achieved_rps"].get<double>(), 0.0);
  for (const char* k : {"p50", "p90", "p95", "p99", "p99_9", "max", "mean"}) {
    EXPECT_TRUE(j["latency"]["response_time_us"].contains(k)) << k;
    EXPECT_TRUE(j["latency"]["service_time_us"].contains(k)) << k;
  }
  EXPECT_EQ(j["slo"].size(), 2u);
  EXPECT_TRUE(j["slo"][0]["pass"].get<bool>());
  EXPECT_FALSE(j["interrupted"].get<bool>());
  EXPECT_FALSE(j["histograms"]["response_time_us"].get<std::string>().empty());
  EXPECT_GE(j["series"].size(), 2u);
  std::string csv = Slurp(dir + "/series.csv");
  EXPECT_EQ(csv.rfind("second,", 0), 0u);
  EXPECT_GE(Lines(csv), 3);
}

TEST(CliTest, ClosedRunSaysSoAndHasNoRequestedRate) {
  auto server = Target();
  std::string dir = TempDir("closed");
  Proc p = RunHeadroom({"run", Url(*server), "-c", "4", "-t", "1", "-d", "1s", "--out", dir, "-q"});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_NE(p.out.find("closed model"), std::string::npos);
  auto j = nlohmann::json::parse(Slurp(dir + "/results.json"));
  EXPECT_EQ(j["model"], "closed");
  EXPECT_TRUE(j["throughput"]["requested_rps"].is_null());
  EXPECT_GT(j["requests"]["ok"].get<int>(), 0);
}

// --io picks the engine's I/O path; results.json and the summary say which one ran. Where io_uring
// is unavailable the uring half fails under CI (CI must say when it stops testing that path).
TEST(CliTest, IoPathIsRecordedInResultsAndSummary) {
  auto server = Target();
  for (const char* io : {"epoll", "uring"}) {
    SCOPED_TRACE(io);
    std::string dir = TempDir(std::string("io-") + io);
    Proc p = RunHeadroom({"run", Url(*server), "-c", "2", "-t", "1", "-d", "1s", "--io", io, "--out", dir, "-q"});
    if (std::string(io) == "uring" && p.exit_code == 2 && p.err.find("io_uring is not available") != std::string::npos) {
      const char* ci = std::getenv("CI");
      if (ci != nullptr && std::string(ci) == "true") FAIL() << p.err;
      GTEST_SKIP() << p.err;
    }
    ASSERT_EQ(p.exit_code, 0) << p.err;
    auto j = nlohmann::json::parse(Slurp(dir + "/results.json"));
    EXPECT_EQ(j["generator"]["io"], io);
    EXPECT_GT(j["requests"]["ok"].get<int>(), 0);
    EXPECT_EQ(j["requests"]["errors"], 0);
    EXPECT_TRUE(j["notices"].empty()) << j["notices"].dump();
    EXPECT_NE(p.out.find(std::string("io ") + io + "; cpu"), std::string::npos) << p.out;
  }
}

// Where io_uring is refused (forced here through the probe's test switch), --io auto runs on epoll
// with one notice line, kept in results.json; --io uring refuses to start; a bad value is one line.
TEST(CliTest, IoAutoFallsBackToEpollWithOneNotice) {
  auto server = Target();
  setenv("HEADROOM_IO_URING_PROBE", "fail", 1);
  std::string dir = TempDir("io-fallback");
  Proc p = RunHeadroom({"run", Url(*server), "--rate", "100/s", "-t", "1", "-d", "1s", "--io", "auto", "--out", dir, "-q"});
  Proc refused = RunHeadroom({"run", Url(*server), "-c", "2", "-d", "1s", "--io", "uring", "-q"});
  unsetenv("HEADROOM_IO_URING_PROBE");
  ASSERT_EQ(p.exit_code, 0) << p.err;
  const std::string notice = "io_uring is not available (disabled by HEADROOM_IO_URING_PROBE=fail): using epoll";
  EXPECT_EQ(p.err, "headroom: warning: " + notice + "\n");
  auto j = nlohmann::json::parse(Slurp(dir + "/results.json"));
  EXPECT_EQ(j["generator"]["io"], "epoll");
  EXPECT_EQ(j["notices"], nlohmann::json::array({notice}));
  EXPECT_EQ(j["requests"]["total"], 100);
  EXPECT_EQ(j["requests"]["errors"], 0);
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_EQ(refused.err, "headroom run: --io uring: io_uring is not available here (disabled by "
                         "HEADROOM_IO_URING_PROBE=fail)\n");
  Proc bad = RunHeadroom({"run", Url(*server), "--io", "iouring"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.err, "headroom run: --io must be 'uring', 'epoll' or 'auto', not 'iouring'\n");
}

TEST(CliTest, FailedSloExitsOne) {
  headroom::target::Options o;
  o.error_rate = 0.2;
  auto server = Target(o);
  Proc p = RunHeadroom({"run", Url(*server), "--rate", "200/s", "-d", "1s", "--slo", "error_rate < 1%", "-q"});
  EXPECT_EQ(p.exit_code, 1) << p.out;
  EXPECT_NE(p.out.find("FAIL  error_rate < 1%"), std::string::npos) << p.out;
  EXPECT_NE(p.out.find("http_5xx"), std::string::npos);
}

TEST(CliTest, NoSuccessfulRequestExitsOneAndStillWritesResults) {
  uint16_t port;
  {
    auto server = Target();
    port = server->port();
  }
  std::string dir = TempDir("refused");
  Proc p = RunHeadroom({"run", "http://127.0.0.1:" + std::to_string(port) + "/", "--rate", "100/s", "-d", "1s",
                        "--out", dir, "-q"});
  EXPECT_EQ(p.exit_code, 1);
  auto j = nlohmann::json::parse(Slurp(dir + "/results.json"));
  EXPECT_EQ(j["requests"]["ok"], 0);
  EXPECT_GT(j["errors"]["by_class"]["connect_refused"].get<int>(), 50);
}

// HTTP/2 flags that cannot apply to the target are refused before any load, one line each.
TEST(CliTest, Http2FlagCombinationsAreOneLineErrors) {
  const std::string http = "http://127.0.0.1:1/", https = "https://127.0.0.1:1/";
  const std::string scenario = HEADROOM_SOURCE_DIR "/examples/baseline.yaml";
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"run", https, "--h2c"},
       "headroom run: --h2c is cleartext HTTP/2 for http:// targets; for https:// use --http2\n"},
      {{"run", http, "--http2"},
       "headroom run: --http2 needs an https:// target (h2 by ALPN); for cleartext HTTP/2 to an http:// target use "
       "--h2c\n"},
      {{"run", https, "--http2", "--h2c"}, "headroom run: choose one of --http2, --h2c and --http1.1\n"},
      {{"run", http, "--h2c", "--http1.1"}, "headroom run: choose one of --http2, --h2c and --http1.1\n"},
      {{"run", http, "--h2c", "--max-streams", "0"},
       "headroom run: --max-streams: must be between 1 and 10000, not 0 (see 'headroom run --help')\n"},
      {{"run", http, "--h2c", "--max-streams", "10001"},
       "headroom run: --max-streams: must be between 1 and 10000, not 10001 (see 'headroom run --help')\n"},
      {{"run", http, "--max-streams", "8"},
       "headroom run: --max-streams applies to HTTP/2 only (https:// targets that choose h2, --http2 or --h2c)\n"},
      {{"run", https, "--http1.1", "--max-streams", "8"},
       "headroom run: --max-streams applies to HTTP/2 only (https:// targets that choose h2, --http2 or --h2c)\n"},
      {{"run", scenario, "--max-streams", "8"},
       "headroom run: --max-streams applies to HTTP/2 only (https:// targets that choose h2, --http2 or --h2c)\n"},
  };
  for (const auto& [args, message] : cases) {
    std::vector<std::string> a = args;
    if (!a[1].ends_with(".yaml")) {
      a.push_back("-d");
      a.push_back("1s");
    }
    Proc p = RunHeadroom(a);
    EXPECT_EQ(p.exit_code, 2) << a[1] << " " << a[2];
    EXPECT_EQ(p.err, message);
  }
}

// h2c to a server that speaks only HTTP/1.1: its answer to the preface is a protocol error, counted
// and named; the run ends on time with results.json written.
TEST(CliTest, H2cToAnHttp1ServerIsAProtocolError) {
  auto server = Target();
  std::string dir = TempDir("h2c-to-http1");
  Proc p = RunHeadroom({"run", "http://127.0.0.1:" + std::to_string(server->port()) + "/", "--h2c", "-c", "2", "-d",
                        "1s", "--out", dir, "-q"});
  EXPECT_EQ(p.exit_code, 1) << p.err;
  auto j = nlohmann::json::parse(Slurp(dir + "/results.json"));
  EXPECT_EQ(j["transport"]["protocol"], "h2c");
  EXPECT_EQ(j["requests"]["ok"], 0);
  EXPECT_GT(j["errors"]["by_class"]["h2_protocol"].get<int>(), 0) << j["errors"].dump();
  EXPECT_TRUE(j["transport"]["h2"]["first_error"].get<std::string>().starts_with("h2_protocol: ")) << j["transport"];
  EXPECT_NE(p.out.find("http/2 error"), std::string::npos) << p.out;
}

TEST(CliTest, SigintEndsTheRunAndWritesInterruptedResults) {
  auto server = Target();
  std::string dir = TempDir("sigint");
  // SIGINT once the run is under way: the target has answered 100 requests.
  Proc p = RunHeadroom({"run", Url(*server), "--rate", "500/s", "-d", "60s", "--out", dir, "-q"},
                       [&] { return server->requests_served() >= 100; });
  EXPECT_NE(p.out.find("interrupted"), std::string::npos) << p.out;
  auto j = nlohmann::json::parse(Slurp(dir + "/results.json"));
  EXPECT_TRUE(j["interrupted"].get<bool>());
  EXPECT_LT(j["series"].size(), 60u);  // fewer seconds than the 60 asked for: the signal ended it
  EXPECT_GT(j["requests"]["ok"].get<int>(), 0);
  // Never a false green: its own exit code and verdict, the same in every output.
  EXPECT_EQ(p.exit_code, 3) << p.out << p.err;
  EXPECT_EQ(j["verdict"], "INTERRUPTED");
  EXPECT_EQ(j["exit_code"], 3);
  EXPECT_FALSE(j["passed"].get<bool>());
  EXPECT_NE(p.out.find("verdict: INTERRUPTED"), std::string::npos) << p.out;
  const std::string md = Slurp(dir + "/summary.md");
  EXPECT_NE(md.find("INTERRUPTED"), std::string::npos) << md;
  EXPECT_EQ(md.find("PASS"), std::string::npos) << md;
  const std::string junit = Slurp(dir + "/junit.xml");
  EXPECT_NE(junit.find("type=\"interrupted\""), std::string::npos) << junit;
  EXPECT_EQ(junit.find("failures=\"0\""), std::string::npos) << junit;
}

// A second run into the same --out is refused while the first is running; the first is unharmed.
TEST(CliTest, SecondRunIntoTheSameOutFolderIsRefused) {
  auto server = Target();
  std::string dir = TempDir("locked");
  pid_t first = fork();
  if (first == 0) {
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    std::string bin = HEADROOM_BINARY, url = Url(*server);
    execl(bin.c_str(), bin.c_str(), "run", url.c_str(), "--rate", "200/s", "-d", "60s", "--out", dir.c_str(), "-q",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  // The lock file names its holder once the first run owns the folder.
  const std::string pid_line = std::to_string(first) + "\n";
  for (int i = 0; i < 3000 && Slurp(dir + "/.headroom.lock") != pid_line; ++i) usleep(10'000);
  ASSERT_EQ(Slurp(dir + "/.headroom.lock"), pid_line);
  Proc second = RunHeadroom({"run", Url(*server), "--rate", "200/s", "-d", "1s", "--out", dir, "-q"});
  EXPECT_EQ(second.exit_code, 2);
  EXPECT_NE(second.err.find("is in use: another headroom run is writing there (locked by another process (pid " +
                            std::to_string(first) + "))"),
            std::string::npos)
      << second.err;
  EXPECT_EQ(Lines(second.err), 1) << second.err;
  kill(first, SIGINT);
  int status = 0;
  waitpid(first, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 3);  // interrupted: never 0
  auto j = nlohmann::json::parse(Slurp(dir + "/results.json"));
  EXPECT_EQ(j["verdict"], "INTERRUPTED");
  // The hlog holds the first run's lines only: its header once and no second header.
  const std::string hlog = Slurp(dir + "/results.hlog");
  EXPECT_EQ(hlog.find("#[StartTime"), hlog.rfind("#[StartTime")) << hlog;
}

// Tiers watched beside a run: per-phase summaries in results.json, samples in tiers.jsonl, tier
// SLOs judged, a failing source reported without stopping the run, an unwatched tier refused.
TEST(CliTest, WatchedTiersAreSummarizedAndGated) {
  auto server = Target();  // in this process: the process tier watches the target
  std::string dir = TempDir("watch");
  Proc p = RunHeadroom({"run", Url(*server), "--rate", "200/s", "-d", "2s", "--watch", "host", "--watch",
                        "app=process:" + std::to_string(getpid()), "--watch", "redis:127.0.0.1:1", "--slo",
                        "host.cpu <= 100%", "--slo", "app.cpu_cores < 1000", "--out", dir, "-q"});
  EXPECT_EQ(p.exit_code, 0) << p.out << p.err;
  auto j = nlohmann::json::parse(Slurp(dir + "/results.json"));
  EXPECT_EQ(j["tiers_series"], "tiers.jsonl");
  const auto& tiers = j["phases"][0]["tiers"];
  ASSERT_EQ(tiers.size(), 3u) << tiers.dump();
  EXPECT_EQ(tiers[0]["name"], "host");
  EXPECT_GE(tiers[0]["sources"][0]["samples"].get<int>(), 1);
  EXPECT_TRUE(tiers[0]["sources"][0]["metrics"].contains("cpu_ratio")) << tiers[0].dump();
  EXPECT_EQ(tiers[1]["name"], "app");
  EXPECT_EQ(tiers[1]["sources"][0]["metrics"]["processes"]["max"], 1);
  EXPECT_EQ(tiers[2]["name"], "cache");
  EXPECT_EQ(tiers[2]["sources"][0]["samples"], 0);
  EXPECT_FALSE(tiers[2]["sources"][0]["error"].is_null());
  ASSERT_EQ(j["notices"].size(), 1u) << j["notices"].dump();  // the failing source, once
  EXPECT_NE(j["notices"][0].get<std::string>().find("redis:127.0.0.1:1"), std::string::npos);
  EXPECT_NE(p.err.find("redis:127.0.0.1:1"), std::string::npos) << p.err;
  EXPECT_NE(p.out.find("tier         host (host)"), std::string::npos) << p.out;
  EXPECT_EQ(j["phases"][0]["slo"][0]["pass"], true);
  EXPECT_EQ(j["phases"][0]["slo"][1]["pass"], true);
  EXPECT_GE(Lines(Slurp(dir + "/tiers.jsonl")), 3);
  // With tiers watched, the terminal summary and summary.md rank the bottlenecks (docs/explain.md),
  // and `headroom explain` on results.json says the same.
  const size_t ranked = p.out.find("explain: at the highest load reached (phase run, ");
  EXPECT_NE(ranked, std::string::npos) << p.out;
  EXPECT_LT(ranked, p.out.find("verdict: PASS")) << "the ranking comes before the verdict";
  const std::string md = Slurp(dir + "/summary.md");
  EXPECT_NE(md.find("### Bottlenecks"), std::string::npos) << md;
  Proc explained = RunHeadroom({"explain", dir + "/results.json"});
  EXPECT_EQ(explained.exit_code, 0) << explained.err;
  EXPECT_NE(p.out.find(explained.out.substr(0, explained.out.find('\n'))), std::string::npos)
      << explained.out << "\nvs\n" << p.out;

  // An SLO on a tier nobody watches is a configuration error, never a silent pass.
  Proc unwatched = RunHeadroom({"run", Url(*server), "-d", "1s", "--slo", "db.hit_ratio > 80%", "-q"});
  EXPECT_EQ(unwatched.exit_code, 2);
  EXPECT_EQ(Lines(unwatched.err), 1) << unwatched.err;
  EXPECT_NE(unwatched.err.find("tier 'db' is not watched"), std::string::npos) << unwatched.err;
  Proc bad = RunHeadroom({"run", Url(*server), "-d", "1s", "--watch", "redsi:127.0.0.1:6379", "-q"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(Lines(bad.err), 1) << bad.err;
}

// headroom explain on what is not a results file: one line, exit 2.
TEST(CliTest, ExplainRefusesWhatIsNotAResultsFile) {
  const std::string dir = TempDir("explain-bad");
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/plan.json") << R"({"schema": "headroom.plan/1"})";
  std::ofstream(dir + "/broken.json") << "{ not json";
  for (const std::string& f : {dir + "/plan.json", dir + "/broken.json", dir + "/missing.json"}) {
    Proc p = RunHeadroom({"explain", f});
    EXPECT_EQ(p.exit_code, 2) << f;
    EXPECT_EQ(Lines(p.err), 1) << p.err;
    EXPECT_EQ(p.err.rfind("headroom explain: ", 0), 0u) << p.err;
  }
  Proc both = RunHeadroom({"explain", dir + "/plan.json", "--json", "--markdown"});
  EXPECT_EQ(both.exit_code, 2);
}

// headroom compare: 0 without a gate, 1 when --fail-on-regression finds something worse, 2 on bad input.
TEST(CliTest, CompareGatesOnRegressions) {
  const std::string before = HEADROOM_SOURCE_DIR "/src/explain/testdata/compare_before.json";
  const std::string after = HEADROOM_SOURCE_DIR "/src/explain/testdata/compare_after.json";
  Proc plain = RunHeadroom({"compare", before, after});
  EXPECT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_NE(plain.out.find("capacity, stress phase limit"), std::string::npos) << plain.out;
  Proc gated = RunHeadroom({"compare", before, after, "--fail-on-regression", "10%"});
  EXPECT_EQ(gated.exit_code, 1);
  EXPECT_EQ(gated.err, "headroom compare: 4 regression(s) beyond 10%\n");  // 3 warm-up latencies + its SLO
  Proc same = RunHeadroom({"compare", after, after, "--fail-on-regression", "1%"});
  EXPECT_EQ(same.exit_code, 0) << same.err;
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"compare", before, "/nonexistent.json"},
        std::vector<std::string>{"compare", before, after, "--fail-on-regression", "ten"},
        std::vector<std::string>{"compare", before, HEADROOM_SOURCE_DIR "/src/plan/testdata/golden/order-management/plan.json"}}) {
    Proc bad = RunHeadroom(args);
    EXPECT_EQ(bad.exit_code, 2) << args.back();
    EXPECT_EQ(Lines(bad.err), 1) << bad.err;
  }
}

TEST(CliTest, MidResponseCloseIsReportedAsReset) {
  headroom::target::Options o;
  o.mode = headroom::target::Mode::kCloseMidResponse;
  auto server = Target(o);
  std::string dir = TempDir("reset");
  Proc p = RunHeadroom({"run", Url(*server), "--rate", "100/s", "-d", "1s", "--out", dir, "-q"});
  EXPECT_EQ(p.exit_code, 1);
  auto j = nlohmann::json::parse(Slurp(dir + "/results.json"));
  EXPECT_EQ(j["errors"]["by_class"]["reset"], 100);
}

// `headroom model`: the JSON it prints and its usage errors.
TEST(ModelCli, UslJsonHasTheDocumentedKeys) {
  Proc p = RunHeadroom({"model", "usl", "--csv", HEADROOM_SOURCE_DIR "/src/model/testdata/sdm91.csv", "--json"});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  auto doc = nlohmann::json::parse(p.out);
  for (const char* key : {"sigma", "kappa", "lambda", "peak_concurrency", "peak_throughput", "r2"})
    EXPECT_TRUE(doc.contains(key)) << key;
  EXPECT_NEAR(doc["sigma"].get<double>(), 0.02773, 0.02773 * 0.005);  // the published SDM91 fit
}

// A results.json of an interrupted stress run: one warning line on stderr, and the point of the
// step cut short is not fitted.
TEST(ModelCli, UslWarnsAboutAnInterruptedRunAndSkipsItsCutPoint) {
  const std::string dir = TempDir("usl-interrupted");
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/results.json";
  std::ofstream(path) << R"({"schema": "headroom.results/3", "interrupted": true, "complete": true,
      "phases": [{"stress": {"capacity_rps": 800, "curve": [
        {"rate_rps": 100, "achieved_rps": 100, "interrupted": false},
        {"rate_rps": 200, "achieved_rps": 199, "interrupted": false},
        {"rate_rps": 400, "achieved_rps": 390, "interrupted": false},
        {"rate_rps": 800, "achieved_rps": 700, "interrupted": false},
        {"rate_rps": 1600, "achieved_rps": 33, "interrupted": true}]}}]})";
  Proc p = RunHeadroom({"model", "usl", "--results", path});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_EQ(Lines(p.err), 1) << p.err;
  EXPECT_EQ(p.err.rfind("headroom model: warning: " + path + ": the run was interrupted (interrupted: true)", 0), 0u)
      << p.err;
  EXPECT_NE(p.err.find("1 interrupted curve point left out"), std::string::npos) << p.err;
  EXPECT_NE(p.out.find("USL fit of 4 points"), std::string::npos) << p.out;
}

TEST(ModelCli, QueueJsonMatchesReference) {
  Proc p = RunHeadroom({"model", "queue", "--servers", "4", "--arrival-rate", "0.35", "--service-time", "10", "--json"});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  auto doc = nlohmann::json::parse(p.out);
  for (const char* key : {"utilization", "wait_probability", "wait_mean", "response_mean", "response_p95", "response_p99"})
    EXPECT_TRUE(doc.contains(key)) << key;
  // M/M/4 with offered load 3.5 Erlangs and service time 10 (worked out in src/model/model_test.cc).
  EXPECT_NEAR(doc["wait_mean"].get<double>(), 14.7572, 14.7572 * 0.005);
  EXPECT_NEAR(doc["response_mean"].get<double>(), 24.7572, 24.7572 * 0.005);
}

TEST(ModelCli, BadInputExitsTwo) {
  const std::vector<std::vector<std::string>> cases = {
      {"model", "queue", "--servers", "4", "--arrival-rate", "1", "--service-time", "10"},     // unstable
      {"model", "queue", "--servers", "4", "--arrival-rate", "50/s", "--service-time", "2"},  // mixed units
      {"model", "queue", "--servers", "0", "--arrival-rate", "1", "--service-time", "0.5"},
      {"model", "usl", "--csv", HEADROOM_SOURCE_DIR "/src/model/testdata/bad_row.csv"},
      {"model", "usl"},
      {"model"},
  };
  for (const auto& args : cases) {
    Proc p = RunHeadroom(args);
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    EXPECT_EQ(p.exit_code, 2) << joined << "\n" << p.err;
  }
}

}  // namespace
