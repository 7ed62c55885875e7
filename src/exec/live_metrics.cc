// Live metrics: the run's counters as Prometheus text, served over HTTP on a thread of its own.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "exec/exec.h"

namespace headroom::exec {
namespace {

// Tier metrics worth a dashboard panel: the names without a per-device or per-core part
// (core.3.cpu_ratio, disk.sda.util_ratio and net.eth0.* are left to the tier's own exporter).
bool Headline(std::string_view metric) {
  return metric.find('.') == std::string_view::npos || metric.starts_with("waiting.") ||
         metric.starts_with("connections.");
}

std::string Num(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string Series(std::string_view name, const std::vector<std::pair<std::string, std::string>>& labels) {
  return collect::PromSeriesName(name, labels);
}

void Family(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void Line(std::string& out, std::string_view name, const std::vector<std::pair<std::string, std::string>>& labels,
          double v) {
  out += Series(name, labels);
  out += ' ';
  out += Num(v);
  out += '\n';
}

}  // namespace

void LiveMetrics::OnPhase(const std::string& phase, const std::string& label, double requested_rps) {
  std::lock_guard<std::mutex> lock(mu_);
  if (phase != phase_) ++phases_started_;
  phase_ = phase;
  label_ = label;
  requested_rps_ = requested_rps;
}

void LiveMetrics::OnSecond(const engine::SecondStats& s) {
  std::lock_guard<std::mutex> lock(mu_);
  counters_.Add(s.counters);
  const double span = s.span_s > 0 ? s.span_s : 1;
  seconds_ += s.span_s;
  intended_rps_ = double(s.counters.intended) / span;
  achieved_rps_ = double(s.counters.completed) / span;
  errors_rps_ = double(s.counters.errors) / span;
  s.response_time_us.ForEachBucket([&](int64_t highest_us, int64_t n) {
    size_t i = 0;
    while (i < std::size(kBucketsS) && double(highest_us) / 1e6 > kBucketsS[i]) ++i;
    bucket_counts_[i] += n;
    count_ += n;
  });
  sum_s_ += s.response_time_us.Mean() * double(s.response_time_us.Count()) / 1e6;
}

void LiveMetrics::OnEngineRun(const engine::RunStats& stats) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const engine::RequestStats& r : stats.requests) {
    RequestCounts& c = by_name_[r.name];
    c.requests += r.counters.ok + r.counters.errors;
    c.errors += r.counters.errors;
  }
  if (stats.pacer_lateness_us.Count() > 0) {
    pacer_p99_s_ = double(stats.pacer_lateness_us.ValueAtPercentile(99)) / 1e6;
    pacer_max_s_ = double(stats.pacer_lateness_us.Max()) / 1e6;
  }
}

void LiveMetrics::OnTierSample(const collect::SampleRecord& r) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string tier(r.tier), source(r.source);
  if (r.reading == nullptr) {
    ++tier_failures_[{tier, source}];
    return;
  }
  tier_failures_.try_emplace({tier, source}, 0);
  for (const collect::Metric& m : r.reading->metrics) {
    if (Headline(m.name) && std::isfinite(m.value)) tiers_[{tier, source, m.name}] = m.value;
  }
}

void LiveMetrics::OnRunEnd(std::string_view verdict) {
  std::lock_guard<std::mutex> lock(mu_);
  verdict_ = verdict;
}

std::string LiveMetrics::Exposition() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  out.reserve(8192);
  Family(out, "headroom_requests_total", "counter", "Requests that ended (ok + errors), as results.json requests.total.");
  Line(out, "headroom_requests_total", {}, double(counters_.ok + counters_.errors));
  Family(out, "headroom_requests_ok_total", "counter", "Requests that succeeded.");
  Line(out, "headroom_requests_ok_total", {}, double(counters_.ok));
  Family(out, "headroom_request_errors_total", "counter", "Failed requests by class (results.json errors.by_class).");
  for (int c = 0; c < engine::kErrorClassCount; ++c) {
    Line(out, "headroom_request_errors_total", {{"class", engine::ErrorClassName(engine::ErrorClass(c))}},
         double(counters_.by_class[size_t(c)]));
  }
  Family(out, "headroom_requests_by_name_total", "counter",
         "Requests that ended, per request name; updated at the end of each phase and stress step.");
  for (const auto& [name, c] : by_name_) Line(out, "headroom_requests_by_name_total", {{"request", name}}, double(c.requests));
  Family(out, "headroom_request_errors_by_name_total", "counter",
         "Failed requests per request name; updated at the end of each phase and stress step.");
  for (const auto& [name, c] : by_name_) Line(out, "headroom_request_errors_by_name_total", {{"request", name}}, double(c.errors));
  Family(out, "headroom_requests_intended_total", "counter", "Requests the pacer scheduled (open model) or sent (closed).");
  Line(out, "headroom_requests_intended_total", {}, double(counters_.intended));
  Family(out, "headroom_requested_rate", "gauge", "The rate the current phase or stress step asks for, per second (0: closed model).");
  Line(out, "headroom_requested_rate", {}, requested_rps_);
  Family(out, "headroom_intended_rate", "gauge", "Requests scheduled in the last second, per second.");
  Line(out, "headroom_intended_rate", {}, intended_rps_);
  Family(out, "headroom_achieved_rate", "gauge", "Responses received in the last second, per second.");
  Line(out, "headroom_achieved_rate", {}, achieved_rps_);
  Family(out, "headroom_error_rate", "gauge", "Failed requests in the last second, per second.");
  Line(out, "headroom_error_rate", {}, errors_rps_);
  Family(out, "headroom_response_time_seconds", "histogram",
         "Response time from the intended start (open model), every response so far.");
  int64_t cumulative = 0;
  for (size_t i = 0; i < std::size(kBucketsS); ++i) {
    cumulative += bucket_counts_[i];
    Line(out, "headroom_response_time_seconds_bucket", {{"le", Num(kBucketsS[i])}}, double(cumulative));
  }
  Line(out, "headroom_response_time_seconds_bucket", {{"le", "+Inf"}}, double(count_));
  Line(out, "headroom_response_time_seconds_sum", {}, sum_s_);
  Line(out, "headroom_response_time_seconds_count", {}, double(count_));
  Family(out, "headroom_phase", "gauge", "1 for the phase (and stress step) running now.");
  if (!phase_.empty()) Line(out, "headroom_phase", {{"phase", phase_}, {"step", label_}}, 1);
  Family(out, "headroom_phases_started", "gauge", "Phases started so far.");
  Line(out, "headroom_phases_started", {}, double(phases_started_));
  Family(out, "headroom_elapsed_seconds", "gauge", "Seconds of load measured so far.");
  Line(out, "headroom_elapsed_seconds", {}, seconds_);
  Family(out, "headroom_run_finished", "gauge", "1 once the run has ended (label verdict: PASS, FAIL, INTERRUPTED).");
  Line(out, "headroom_run_finished", verdict_.empty() ? std::vector<std::pair<std::string, std::string>>{}
                                                      : std::vector<std::pair<std::string, std::string>>{{"verdict", verdict_}},
       verdict_.empty() ? 0 : 1);
  Family(out, "headroom_generator_delayed_requests_total", "counter", "Requests that waited in the generator for a free connection.");
  Line(out, "headroom_generator_delayed_requests_total", {}, double(counters_.delayed));
  Family(out, "headroom_generator_waited_at_cap_total", "counter", "Of those, requests that waited while the connection cap was reached.");
  Line(out, "headroom_generator_waited_at_cap_total", {}, double(counters_.waited_at_cap));
  Family(out, "headroom_generator_connections_opened_total", "counter", "TCP connections established.");
  Line(out, "headroom_generator_connections_opened_total", {}, double(counters_.connections_opened));
  Family(out, "headroom_generator_connect_attempts_total", "counter", "TCP connections tried.");
  Line(out, "headroom_generator_connect_attempts_total", {}, double(counters_.connect_attempts));
  Family(out, "headroom_generator_pacer_lateness_seconds", "gauge",
         "How late the pacer issued requests in the last finished phase or step (p99, max); absent before one ends.");
  if (pacer_p99_s_ >= 0) {
    Line(out, "headroom_generator_pacer_lateness_seconds", {{"quantile", "0.99"}}, pacer_p99_s_);
    Line(out, "headroom_generator_pacer_lateness_seconds", {{"quantile", "1"}}, pacer_max_s_);
  }
  Family(out, "headroom_tier_metric", "gauge", "Latest sample of each watched tier's headline metrics (docs/collect.md).");
  for (const auto& [key, v] : tiers_) {
    Line(out, "headroom_tier_metric", {{"tier", std::get<0>(key)}, {"source", std::get<1>(key)}, {"metric", std::get<2>(key)}}, v);
  }
  Family(out, "headroom_tier_read_failures_total", "counter", "Failed reads of each watched tier's source.");
  for (const auto& [key, n] : tier_failures_) {
    Line(out, "headroom_tier_read_failures_total", {{"tier", key.first}, {"source", key.second}}, double(n));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

Result<std::unique_ptr<MetricsServer>> MetricsServer::Start(const std::string& listen, bool allow_remote,
                                                            const LiveMetrics* metrics) {
  std::string host = "127.0.0.1", port_text = listen;
  const size_t colon = listen.rfind(':');
  if (colon != std::string::npos) {
    host = listen.substr(0, colon);
    port_text = listen.substr(colon + 1);
  }
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host == "localhost") host = "127.0.0.1";
  char* end = nullptr;
  const long port = std::strtol(port_text.c_str(), &end, 10);
  if (port_text.empty() || *end != '\0' || port < 0 || port > 65535) {
    return Fail("--metrics-listen '" + listen + "': expected PORT or HOST:PORT, e.g. 127.0.0.1:9464");
  }
  sockaddr_storage storage{};
  socklen_t len = 0;
  bool loopback = false;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(uint16_t(port));
    len = sizeof *v4;
    loopback = (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(uint16_t(port));
    len = sizeof *v6;
    loopback = IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr);
  } else {
    return Fail("--metrics-listen '" + listen + "': '" + host + "' is not a numeric IPv4 or IPv6 address");
  }
  if (!loopback && !allow_remote) {
    return Fail("--metrics-listen '" + listen + "' is not a loopback address; add --metrics-allow-remote to serve the "
                "run's metrics beyond this machine");
  }
  const int fd = socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Fail("--metrics-listen: socket: " + std::string(std::strerror(errno)));
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, reinterpret_cast<const sockaddr*>(&storage), len) != 0 || ::listen(fd, 16) != 0) {
    const int err = errno;
    close(fd);
    return Fail("--metrics-listen '" + listen + "': cannot listen: " + std::strerror(err));
  }
  sockaddr_storage bound{};
  socklen_t bound_len = sizeof bound;
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_len);
  const uint16_t actual = ntohs(bound.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                                                           : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
  std::unique_ptr<MetricsServer> server(new MetricsServer());
  server->fd_ = fd;
  server->metrics_ = metrics;
  server->url_ = "http://" + (storage.ss_family == AF_INET6 ? "[" + host + "]" : host) + ":" + std::to_string(actual) + "/metrics";
  server->thread_ = std::make_unique<std::thread>([s = server.get()] { s->Serve(); });
  return server;
}

MetricsServer::~MetricsServer() {
  stop_.store(true);
  if (thread_) thread_->join();
  if (fd_ >= 0) close(fd_);
}

// One request per connection (HTTP/1.0 style): read the request head, answer, close. Scrapes are
// rare (every few seconds), so one thread serving them in turn is plenty.
void MetricsServer::Serve() {
  while (!stop_.load()) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    const int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    timeval tv{2, 0};
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    std::string head;
    char buf[2048];
    while (head.find("\r\n\r\n") == std::string::npos && head.find("\n\n") == std::string::npos && head.size() < 16384) {
      const ssize_t n = recv(c, buf, sizeof buf, 0);
      if (n <= 0) break;
      head.append(buf, size_t(n));
    }
    std::string status = "200 OK", type = "text/plain; version=0.0.4; charset=utf-8", body;
    const bool get = head.starts_with("GET ");
    const size_t path_end = head.find(' ', 4);
    const std::string path = get && path_end != std::string::npos ? head.substr(4, path_end - 4) : "";
    if (!get) {
      status = "405 Method Not Allowed";
      type = "text/plain";
      body = "GET /metrics\n";
    } else if (path != "/metrics" && !path.starts_with("/metrics?")) {
      status = "404 Not Found";
      type = "text/plain";
      body = "headroom serves its metrics at /metrics\n";
    } else {
      body = metrics_->Exposition();
    }
    std::string response = "HTTP/1.1 " + status + "\r\nContent-Type: " + type + "\r\nContent-Length: " +
                            std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
    size_t sent = 0;
    while (sent < response.size()) {
      const ssize_t n = send(c, response.data() + sent, response.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += size_t(n);
    }
    close(c);
  }
}

}  // namespace headroom::exec
