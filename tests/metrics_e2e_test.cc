// headroom run --metrics-listen: scraped during a real run with headroom's own Prometheus parser,
// the counters only grow, and the last scrape (after the run, while --metrics-linger keeps serving)
// adds up to results.json.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>

#include "collect/collect.h"
#include "e2e_util.h"

namespace {

using namespace e2e;

// GET path from 127.0.0.1:port; the body, or "" when nothing answered.
std::string HttpGet(uint16_t port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return "";
  }
  const std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  (void)!write(fd, req.data(), req.size());
  std::string resp;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) resp.append(buf, size_t(n));
  close(fd);
  return resp;
}

// series name (with labels) -> value
std::map<std::string, double> Scrape(uint16_t port) {
  std::map<std::string, double> out;
  const std::string resp = HttpGet(port, "/metrics");
  const size_t body = resp.find("\r\n\r\n");
  if (resp.rfind("HTTP/1.1 200", 0) != 0 || body == std::string::npos) return out;
  auto families = headroom::collect::ParsePrometheusText(resp.substr(body + 4));
  EXPECT_TRUE(families) << (families ? "" : families.error().message);
  if (!families) return out;
  for (const auto& f : *families) {
    for (const auto& s : f.samples) out[headroom::collect::PromSeriesName(s.name, s.labels)] = s.value;
  }
  return out;
}

TEST(MetricsListen, ScrapesDuringTheRunAddUpToResultsJson) {
  auto target = Target();
  const std::string dir = TempDir("metrics");
  std::filesystem::create_directories(dir);
  const std::string scenario = dir + "/mix.yaml";
  std::ofstream(scenario) << "name: metrics\n"
                             "target: " << Url(*target, "") << "\n"
                             "requests:\n"
                             "  - { name: home, weight: 3, path: / }\n"
                             "  - { name: broken, weight: 1, path: /status/500 }\n"
                             "phases:\n"
                             "  - { name: one, baseline: { rate: 200/s, duration: 2s } }\n"
                             "  - { name: two, baseline: { rate: 100/s, duration: 2s } }\n";
  const std::string err_path = std::filesystem::temp_directory_path() / ("hr-e2e-" + std::to_string(getpid())) / "err";
  uint16_t port = 0;
  std::vector<std::map<std::string, double>> during;
  std::map<std::string, double> last;
  Proc p = RunHeadroom({"run", scenario, "--out", dir + "/out", "--metrics-listen", "127.0.0.1:0", "--metrics-linger", "30s"},
                       [&] {
                         if (port == 0) {
                           std::smatch m;
                           const std::string err = Slurp(err_path);
                           static const std::regex kUrl("live metrics at http://127\\.0\\.0\\.1:(\\d+)/metrics");
                           if (std::regex_search(err, m, kUrl)) port = uint16_t(std::stoi(m[1]));
                           return false;
                         }
                         auto s = Scrape(port);
                         if (s.empty()) return false;
                         if (s["headroom_run_finished{verdict=\"PASS\"}"] == 1) {
                           last = s;
                           return true;  // seen the end: stop the linger with SIGINT
                         }
                         during.push_back(std::move(s));
                         return false;
                       });
  ASSERT_NE(port, 0) << p.err;
  EXPECT_EQ(p.exit_code, 0) << p.err;  // the linger ended by SIGINT after a PASS keeps the run's code
  ASSERT_FALSE(last.empty());
  ASSERT_FALSE(during.empty());
  // Counters only grow while the run goes on.
  for (size_t i = 1; i < during.size(); ++i) {
    EXPECT_GE(during[i]["headroom_requests_total"], during[i - 1]["headroom_requests_total"]);
  }
  EXPECT_TRUE(std::any_of(during.begin(), during.end(), [](auto& s) { return s["headroom_requests_total"] > 0; }));
  auto in_phase = [&](const std::string& name) {
    return std::any_of(during.begin(), during.end(), [&](auto& s) {
      auto it = s.lower_bound("headroom_phase{phase=\"" + name + "\"");
      return it != s.end() && it->first.starts_with("headroom_phase{phase=\"" + name + "\"") && it->second == 1;
    });
  };
  EXPECT_TRUE(in_phase("one"));
  EXPECT_TRUE(in_phase("two"));

  const nlohmann::json r = nlohmann::json::parse(Slurp(dir + "/out/results.json"));
  EXPECT_EQ(last["headroom_requests_total"], r["requests"]["total"].get<double>());
  EXPECT_EQ(last["headroom_requests_ok_total"], r["requests"]["ok"].get<double>());
  EXPECT_EQ(last["headroom_request_errors_total{class=\"http_5xx\"}"], r["errors"]["by_class"].value("http_5xx", 0.0));
  EXPECT_GT(last["headroom_request_errors_total{class=\"http_5xx\"}"], 0);
  EXPECT_EQ(last["headroom_request_errors_total{class=\"connect_refused\"}"], 0);
  for (const auto& q : r["requests_by_name"]) {
    const std::string name = q["name"];
    EXPECT_EQ(last["headroom_requests_by_name_total{request=\"" + name + "\"}"], q["requests"]["total"].get<double>()) << name;
    EXPECT_EQ(last["headroom_request_errors_by_name_total{request=\"" + name + "\"}"], q["requests"]["errors"].get<double>()) << name;
  }
  EXPECT_EQ(last["headroom_response_time_seconds_count"], r["latency"]["response_time_us"]["count"].get<double>());
  EXPECT_EQ(last["headroom_response_time_seconds_bucket{le=\"+Inf\"}"], last["headroom_response_time_seconds_count"]);
  EXPECT_LE(last["headroom_response_time_seconds_bucket{le=\"0.001\"}"], last["headroom_response_time_seconds_bucket{le=\"0.01\"}"]);
  EXPECT_EQ(last["headroom_phases_started"], 2);
  EXPECT_EQ(HttpGet(port, "/metrics"), "");  // the server ends with the run
}

TEST(MetricsListen, NonLoopbackNeedsTheExplicitFlagAndBadAddressesAreOneLine) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"--metrics-listen", "0.0.0.0:9464"},
           {"--metrics-listen", "not-an-address:9464"},
           {"--metrics-listen", "127.0.0.1:99999"},
           {"--metrics-linger", "5s"}}) {
    std::vector<std::string> full = {"run", "http://127.0.0.1:1/", "-d", "1s"};
    full.insert(full.end(), args.begin(), args.end());
    Proc p = RunHeadroom(full);
    EXPECT_EQ(p.exit_code, 2) << args[1];
    EXPECT_EQ(Lines(p.err), 1) << p.err;
  }
  Proc p = RunHeadroom({"run", "http://127.0.0.1:1/", "-d", "1s", "--metrics-listen", "0.0.0.0:9464"});
  EXPECT_NE(p.err.find("--metrics-allow-remote"), std::string::npos) << p.err;
}

}  // namespace
