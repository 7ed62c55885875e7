// headroom run URL: one open- or closed-model load test with SLO gates.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "cli/commands.h"
#include "cli/run_support.h"
#include "core/units.h"
#include "http/http.h"
#include "report/summary.h"
#include "sys/sys.h"

namespace headroom::cli {
namespace {

struct RunFlags {
  std::string url;
  std::string rate;
  std::string arrival = "uniform";
  int connections = 0;  // 0: model default
  std::string duration = "10s";
  int threads = 0;
  std::string timeout = "10s";
  std::string method = "GET";
  std::vector<std::string> headers;
  std::string body;
  std::vector<std::string> slos;
  std::string out;
  uint64_t seed = 1;
  bool quiet = false;
};

constexpr int kDefaultClosedConnections = 50;
constexpr int kDefaultOpenConnectionCap = 1000;

Result<std::string> ReadBody(const std::string& spec) {
  if (spec.empty() || spec[0] != '@') return spec;
  std::ifstream in(spec.substr(1), std::ios::binary);
  if (!in) return Fail("--body: cannot read file '" + spec.substr(1) + "'");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Everything the engine needs, validated before any request is sent.
struct Prepared {
  engine::Config config;
  std::unique_ptr<engine::RequestSource> source;
  std::vector<slo::Objective> objectives;
  std::string target;
};

Result<Prepared> Prepare(const RunFlags& f) {
  Prepared p;
  auto url = http::ParseUrl(f.url);
  if (!url) return std::unexpected(url.error());
  p.target = f.url;
  http::RequestSpec spec;
  spec.method = f.method;
  spec.path_and_query = url->path_and_query;
  spec.host = url->authority;
  for (const std::string& h : f.headers) {
    size_t colon = h.find(':');
    if (colon == std::string::npos || colon == 0) return Fail("--header '" + h + "': expected 'Name: value'");
    std::string value = h.substr(colon + 1);
    size_t start = value.find_first_not_of(' ');
    spec.headers.emplace_back(h.substr(0, colon), start == std::string::npos ? "" : value.substr(start));
  }
  auto body = ReadBody(f.body);
  if (!body) return std::unexpected(body.error());
  spec.body = *body;
  auto bytes = http::EncodeRequestChecked(spec);
  if (!bytes) return std::unexpected(bytes.error());
  p.source = engine::MakeStaticSource(f.method + " " + url->path_and_query, *bytes, f.method == "HEAD");

  auto duration = ParseDurationNs(f.duration);
  if (!duration) return Fail("--duration: " + duration.error().message);
  if (*duration <= 0) return Fail("--duration must be positive");
  auto timeout = ParseDurationNs(f.timeout);
  if (!timeout) return Fail("--timeout: " + timeout.error().message);
  if (*timeout <= 0) return Fail("--timeout must be positive");
  if (f.arrival != "uniform" && f.arrival != "poisson") {
    return Fail("--arrival must be 'uniform' or 'poisson', not '" + f.arrival + "'");
  }
  auto address = sys::Resolve(url->host, url->port);
  if (!address) return std::unexpected(address.error());

  engine::Config& c = p.config;
  c.address = *address;
  c.duration_ns = *duration;
  c.timeout_ns = *timeout;
  c.threads = f.threads > 0 ? f.threads : int(std::max(1u, std::thread::hardware_concurrency()));
  c.arrival = f.arrival == "poisson" ? engine::Arrival::kPoisson : engine::Arrival::kUniform;
  c.seed = f.seed;
  if (!f.rate.empty()) {
    auto rate = ParseRatePerSec(f.rate);
    if (!rate) return Fail("--rate: " + rate.error().message);
    if (*rate <= 0) return Fail("--rate must be positive");
    c.model = engine::Model::kOpen;
    c.rate_profile = {{*duration, *rate, *rate}};
    c.connections = f.connections > 0 ? f.connections : kDefaultOpenConnectionCap;
  } else {
    c.model = engine::Model::kClosed;
    c.connections = f.connections > 0 ? f.connections : kDefaultClosedConnections;
  }
  if (f.connections < 0) return Fail("--connections must be at least 1");
  auto objectives = ParseObjectives(f.slos);
  if (!objectives) return std::unexpected(objectives.error());
  p.objectives = std::move(*objectives);
  return p;
}

}  // namespace

int RunCommand(int argc, char** argv) {
  CLI::App app{"Load-test a URL. Open model with --rate (latency timed from each request's intended start, "
               "so a stalled server cannot hide its stall); closed model otherwise.",
               "headroom run"};
  RunFlags f;
  app.add_option("url", f.url, "http://host[:port]/path (a scenario file comes with scenarios)")->required();
  app.add_option("-r,--rate", f.rate, "open model: target rate, e.g. 2000/s, 90000/min");
  app.add_option("--arrival", f.arrival, "open model arrivals: uniform | poisson (default uniform)");
  app.add_option("-c,--connections", f.connections,
                 "closed model: connections (default 50); open model: cap on connections (default 1000)");
  app.add_option("-d,--duration", f.duration, "test duration, e.g. 30s, 5m (default 10s)");
  app.add_option("-t,--threads", f.threads, "worker threads (default: one per core)");
  app.add_option("--timeout", f.timeout, "per-request timeout (default 10s)");
  app.add_option("-m,--method", f.method, "HTTP method (default GET)");
  app.add_option("-H,--header", f.headers, "request header 'Name: value' (repeatable)");
  app.add_option("--body", f.body, "request body: TEXT or @file");
  app.add_option("--slo", f.slos, "objective, e.g. 'p95 < 300ms', 'error_rate < 0.5%', 'rps >= 1000' (repeatable)");
  app.add_option("-o,--out", f.out, "write DIR/results.json and DIR/series.csv");
  app.add_option("--seed", f.seed, "random seed for arrivals (default 1)");
  app.add_flag("-q,--quiet", f.quiet, "no live progress line");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {
      std::fputs(app.help().c_str(), stdout);
      return 0;
    }
    std::fprintf(stderr, "headroom run: %s (see 'headroom run --help')\n", e.what());
    return 2;
  }
  auto prepared = Prepare(f);
  if (!prepared) {
    std::fprintf(stderr, "headroom run: %s\n", prepared.error().message.c_str());
    return 2;
  }
  Prepared& p = *prepared;
  p.config.source = p.source.get();
  sys::InstallStopSignals();
  sys::RaiseFileLimit();
  p.config.stop = &sys::StopFlag();

  double total_s = double(p.config.model == engine::Model::kOpen ? p.config.rate_profile[0].duration_ns
                                                                   : p.config.duration_ns) / 1e9;
  SeriesCollector series("run", total_s, !f.quiet);
  auto stats = engine::Run(p.config, [&](const engine::SecondStats& s) { series.OnSecond(s); });
  series.Finish();
  if (!stats) {
    std::fprintf(stderr, "headroom run: %s\n", stats.error().message.c_str());
    return 2;
  }
  report::Results results = ToResults(*stats, p.config, p.target, f.method, series.TakeRows());
  results.overall.slo = EvaluateObjectives(p.objectives, results.overall, results.requests);
  std::fputs(report::FormatSummary(results).c_str(), stdout);
  std::fflush(stdout);
  if (!f.out.empty()) {
    if (auto s = report::WriteResults(results, f.out); !s) {
      std::fprintf(stderr, "headroom run: %s\n", s.error().message.c_str());
      return 2;
    }
  }
  return GateExitCode(results.overall);
}

}  // namespace headroom::cli
