// The prometheus source against a loopback HTTP server that answers scripted scrapes: counter
// rates, histogram quantiles from bucket deltas, selectors, and exporters that answer garbage,
// an error status or too slowly.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <thread>

#include "collect/collect.h"

namespace headroom::collect {
namespace {

// Serves responses[i] to the i-th connection (the last one again after that), each after
// `delay`. Runs on its own thread until destroyed.
class ScriptedExporter {
 public:
  explicit ScriptedExporter(std::vector<std::string> responses, std::chrono::milliseconds delay = {})
      : responses_(std::move(responses)), delay_(delay) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 8);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~ScriptedExporter() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/metrics"; }

  static std::string Ok(const std::string& body) {
    return "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
  }

 private:
  void Serve() {
    size_t i = 0;
    while (!stop_) {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      char buf[4096];
      std::string request;
      while (request.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        request.append(buf, static_cast<size_t>(n));
      }
      std::this_thread::sleep_for(delay_);  // the slow exporter under test
      const std::string& r = responses_[std::min(i++, responses_.size() - 1)];
      ::send(c, r.data(), r.size(), MSG_NOSIGNAL);
      ::close(c);
    }
  }

  std::vector<std::string> responses_;
  std::chrono::milliseconds delay_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

std::map<std::string, double> ByName(const Reading& r) {
  std::map<std::string, double> out;
  for (const Metric& m : r.metrics) out[m.name] = m.value;
  return out;
}

std::unique_ptr<Source> Scraper(const std::string& url, std::vector<std::string> selectors = {},
                                int64_t timeout_ns = 2'000'000'000) {
  auto spec = ParseWatchSpec("prometheus:" + url);
  EXPECT_TRUE(spec.has_value());
  spec->selectors = std::move(selectors);
  return MakeSource(*spec, SourceOptions{.timeout_ns = timeout_ns});
}

TEST(PrometheusSource, CountersBecomeRatesAndHistogramsQuantiles) {
  // 2 s apart: 200 more requests; 100 new observations: 50 <= 0.1, 30 in (0.1, 0.5], 20 above.
  const std::string first =
      "# TYPE req_total counter\nreq_total{code=\"200\"} 1000\n# TYPE temp gauge\ntemp 21.5\n"
      "# TYPE lat_seconds histogram\nlat_seconds_bucket{le=\"0.1\"} 10\nlat_seconds_bucket{le=\"0.5\"} 20\n"
      "lat_seconds_bucket{le=\"+Inf\"} 20\nlat_seconds_sum 3\nlat_seconds_count 20\n";
  const std::string second =
      "# TYPE req_total counter\nreq_total{code=\"200\"} 1200\n# TYPE temp gauge\ntemp 22\n"
      "# TYPE lat_seconds histogram\nlat_seconds_bucket{le=\"0.1\"} 60\nlat_seconds_bucket{le=\"0.5\"} 100\n"
      "lat_seconds_bucket{le=\"+Inf\"} 120\nlat_seconds_sum 23\nlat_seconds_count 120\n";
  ScriptedExporter exporter({ScriptedExporter::Ok(first), ScriptedExporter::Ok(second)});
  auto source = Scraper(exporter.url());
  auto r1 = source->Read(1'000'000'000);
  ASSERT_TRUE(r1.has_value()) << r1.error().message;
  EXPECT_EQ(ByName(*r1).count("req_total{code=\"200\"}"), 0u) << "no rate from one scrape";
  auto r2 = source->Read(3'000'000'000);
  ASSERT_TRUE(r2.has_value()) << r2.error().message;
  const auto m = ByName(*r2);
  EXPECT_DOUBLE_EQ(m.at("req_total{code=\"200\"}"), 100);
  EXPECT_DOUBLE_EQ(m.at("temp"), 22);
  EXPECT_DOUBLE_EQ(m.at("lat_seconds:per_s"), 50);
  EXPECT_DOUBLE_EQ(m.at("lat_seconds:mean"), 0.2);  // 20 s over 100 observations
  // p50: rank 50 is the last of the 50 in [0, 0.1] -> 0.1. p90: rank 90 is past the 80 at or
  // below 0.5, so in +Inf -> the largest finite bound, 0.5; p99 likewise.
  EXPECT_DOUBLE_EQ(m.at("lat_seconds:p50"), 0.1);
  EXPECT_DOUBLE_EQ(m.at("lat_seconds:p90"), 0.5);
  EXPECT_DOUBLE_EQ(m.at("lat_seconds:p99"), 0.5);
}

TEST(PrometheusSource, QuantileInterpolatesInsideABucket) {
  const std::string a = "# TYPE h histogram\nh_bucket{le=\"1\"} 0\nh_bucket{le=\"2\"} 0\nh_bucket{le=\"+Inf\"} 0\n";
  const std::string b = "# TYPE h histogram\nh_bucket{le=\"1\"} 0\nh_bucket{le=\"2\"} 100\nh_bucket{le=\"+Inf\"} 100\n";
  ScriptedExporter exporter({ScriptedExporter::Ok(a), ScriptedExporter::Ok(b)});
  auto source = Scraper(exporter.url());
  ASSERT_TRUE(source->Read(1'000'000'000).has_value());
  auto r = source->Read(2'000'000'000);
  ASSERT_TRUE(r.has_value());
  const auto m = ByName(*r);
  EXPECT_DOUBLE_EQ(m.at("h:p50"), 1.5);  // all 100 in (1, 2]: rank 50 is halfway
  EXPECT_DOUBLE_EQ(m.at("h:p90"), 1.9);
}

TEST(PrometheusSource, SelectorsKeepOnlyNamedFamilies) {
  ScriptedExporter exporter({ScriptedExporter::Ok("a_one 1\na_two 2\nb 3\n")});
  auto source = Scraper(exporter.url(), {"a_*", "b_exact"});
  auto r = source->Read(1);
  ASSERT_TRUE(r.has_value());
  const auto m = ByName(*r);
  EXPECT_EQ(m.size(), 2u);
  EXPECT_EQ(m.count("b"), 0u);
}

TEST(PrometheusSource, BadExportersAreClearErrors) {
  ScriptedExporter garbage({ScriptedExporter::Ok("<html>hello</html>\n")});
  EXPECT_EQ(Scraper(garbage.url())->Read(1).error().message,
            "the exporter's answer is not Prometheus text: line 1: a sample must start with a metric name");
  ScriptedExporter not_http({"SSH-2.0-OpenSSH\r\n\r\n"});
  EXPECT_EQ(Scraper(not_http.url())->Read(1).error().message, "not an HTTP answer: 'SSH-2.0-OpenSSH'");
  ScriptedExporter missing({"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"});
  EXPECT_EQ(Scraper(missing.url())->Read(1).error().message, "HTTP status 404 Not Found");
  ScriptedExporter slow({ScriptedExporter::Ok("up 1\n")}, std::chrono::milliseconds(1500));
  EXPECT_EQ(Scraper(slow.url(), {}, 200'000'000)->Read(1).error().message, "no complete answer within the time limit");
}

TEST(PrometheusSource, NothingListeningIsConnectionRefused) {
  int port = 0;
  {
    ScriptedExporter gone({ScriptedExporter::Ok("up 1\n")});
    port = std::stoi(gone.url().substr(17));
  }
  auto r = Scraper("http://127.0.0.1:" + std::to_string(port) + "/metrics")->Read(1);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "connect to 127.0.0.1:" + std::to_string(port) + ": Connection refused");
}

}  // namespace
}  // namespace headroom::collect
