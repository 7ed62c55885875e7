// headroom run URL: one open- or closed-model load test with SLO gates.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <chrono>
#include <sstream>
#include <optional>
#include <thread>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "exec/exec.h"
#include "explain/explain.h"
#include "core/clock.h"
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
  int connections = 0;  // 0: not given, the model's default
  std::string duration = "10s";
  int threads = 0;  // 0: not given, one per core
  std::string timeout = "10s";
  std::string method = "GET";
  std::vector<std::string> headers;
  std::string body;
  std::vector<std::string> slos;
  std::string out;
  uint64_t seed = 1;
  bool quiet = false;
  std::vector<std::string> env;    // NAME=VALUE, for ${NAME} and env(NAME) in scenario files
  double duration_scale = 1;       // scenario files: every phase this much longer or shorter
  std::string target_override;    // scenario files: replaces `target`
  std::vector<std::string> watch;  // [NAME=]KIND[:ARG] tiers watched beside the run
  std::string metrics_listen;      // "" = no live metrics endpoint
  bool metrics_allow_remote = false;
  std::string metrics_linger = "0s";
  std::string shard;            // "I/N": this process runs shard I of N (docs/distributed.md)
  std::string start_at;         // with --shard: when every shard starts
  std::string sync_dir;         // with --shard and stress phases: the folder the shards share
  std::optional<scenario::ShardSpec> shard_spec;  // parsed --shard
  int64_t start_at_us = 0;                         // parsed --start-at
  std::string io = "auto";          // the engine's I/O path: uring | epoll | auto
  // https:// (docs/tls.md)
  std::string cacert;
  bool insecure = false;
  std::string cert;
  std::string key;
  bool no_tls_resume = false;
  // HTTP version (docs/http2.md)
  bool http2 = false;
  bool h2c = false;
  bool http1 = false;
  int max_streams = 0;  // 0: not given
};

// --io: refused before the run starts when io_uring was asked for and is unavailable (auto falls
// back to epoll with a notice during the run instead).
Status WireIo(exec::ExecPlan& plan, const RunFlags& f) {
  auto io = engine::IoFromName(f.io);
  if (!io) return Fail("--io " + io.error().message);
  if (auto resolved = engine::ResolveIo(*io, nullptr); !resolved) return std::unexpected(resolved.error());
  plan.io = *io;
  return Ok();
}

bool Readable(const std::string& path) { return ::access(path.c_str(), R_OK) == 0; }

// The TLS settings of an https:// target from the flags; the TLS flags on an http:// target, a file
// that cannot be read or does not hold what it should are one-line errors.
Result<engine::TlsOptions> TlsFor(const RunFlags& f, const http::Url& url) {
  engine::TlsOptions tls;
  if (url.scheme != "https") {
    if (!f.cacert.empty() || f.insecure || !f.cert.empty() || !f.key.empty() || f.no_tls_resume) {
      return Fail("--cacert, --insecure, --cert, --key and --no-tls-resume apply to https:// targets only");
    }
    return tls;
  }
  if (f.insecure && !f.cacert.empty()) return Fail("--insecure turns verification off, so --cacert has no use with it");
  if (f.cert.empty() != f.key.empty()) return Fail("--cert and --key go together (a client certificate and its key)");
  for (const auto& [flag, path] : {std::pair{"--cacert", &f.cacert}, {"--cert", &f.cert}, {"--key", &f.key}}) {
    if (!path->empty() && !Readable(*path)) return Fail(std::string(flag) + ": cannot read '" + *path + "'");
  }
  tls.enabled = true;
  tls.server_name = url.host;
  tls.verify = !f.insecure;
  tls.ca_file = f.cacert;
  tls.cert_file = f.cert;
  tls.key_file = f.key;
  tls.resume = !f.no_tls_resume;
  if (auto s = engine::CheckTls(tls); !s) return std::unexpected(s.error());
  return tls;
}

// The HTTP version and streams per connection from the flags; combinations that cannot apply to
// the target are one-line errors.
Result<engine::HttpOptions> HttpFor(const RunFlags& f, const http::Url& url) {
  engine::HttpOptions http;
  if (int(f.http2) + int(f.h2c) + int(f.http1) > 1) return Fail("choose one of --http2, --h2c and --http1.1");
  const bool https = url.scheme == "https";
  if (f.h2c && https) return Fail("--h2c is cleartext HTTP/2 for http:// targets; for https:// use --http2");
  if (f.http2 && !https) {
    return Fail("--http2 needs an https:// target (h2 by ALPN); for cleartext HTTP/2 to an http:// target use --h2c");
  }
  if (f.max_streams > 0 && (f.http1 || (!https && !f.h2c))) {
    return Fail("--max-streams applies to HTTP/2 only (https:// targets that choose h2, --http2 or --h2c)");
  }
  http.version = f.http1 ? engine::HttpVersion::kHttp1
                         : (f.http2 || f.h2c ? engine::HttpVersion::kHttp2 : engine::HttpVersion::kAuto);
  http.max_streams = f.max_streams;
  return http;
}

// The tiers to watch (the file's and --watch), and every tier SLO checked against them.
Status WireTiers(exec::ExecPlan& plan, const std::vector<scenario::Tier>& file_tiers, const RunFlags& f) {
  auto tiers = exec::TierSpecs(file_tiers, f.watch);
  if (!tiers) return std::unexpected(tiers.error());
  plan.tiers = std::move(*tiers);
  std::vector<slo::WatchedTier> watched;
  for (const collect::TierSpec& t : plan.tiers) {
    slo::WatchedTier w{t.name, {}};
    for (const collect::WatchSpec& s : t.sources) w.source_kinds.emplace_back(collect::SourceKindName(s.kind));
    watched.push_back(std::move(w));
  }
  for (const scenario::SloSpec& spec : plan.slos) {
    auto o = slo::ParseObjective(spec.text);
    if (!o || o->metric != slo::Metric::kTier) continue;
    if (auto s = slo::ValidateTierObjective(*o, watched); !s) return Fail("SLO '" + spec.text + "': " + s.error().message);
  }
  return {};
}

constexpr int kMaxConnections = 1'000'000;
constexpr int kMaxThreads = 1024;

Result<std::string> ReadBody(const std::string& spec) {
  if (spec.empty() || spec[0] != '@') return spec;
  std::ifstream in(spec.substr(1), std::ios::binary);
  if (!in) return Fail("--body: cannot read file '" + spec.substr(1) + "'");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool LooksLikeScenario(const std::string& arg) {
  auto ends = [&](std::string_view suffix) {
    return arg.size() >= suffix.size() && arg.compare(arg.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return ends(".yaml") || ends(".yml");
}

int DefaultThreads(int flag) { return flag > 0 ? flag : int(std::max(1u, std::thread::hardware_concurrency())); }

// Everything the executor needs, validated before any request is sent.
struct Prepared {
  exec::ExecPlan plan;
  std::unique_ptr<engine::RequestSource> source;
};

// `headroom run URL`: one phase (baseline when a rate is given, closed otherwise) and one request.
Result<Prepared> PrepareUrl(const RunFlags& f) {
  Prepared p;
  auto url = http::ParseUrl(f.url);
  if (!url) return std::unexpected(url.error());
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
  if (*duration < 1'000'000) return Fail("--duration must be at least 1ms");
  auto timeout = ParseDurationNs(f.timeout);
  if (!timeout) return Fail("--timeout: " + timeout.error().message);
  if (*timeout <= 0) return Fail("--timeout must be positive");
  if (f.arrival != "uniform" && f.arrival != "poisson") {
    return Fail("--arrival must be 'uniform' or 'poisson', not '" + f.arrival + "'");
  }
  for (const std::string& e : f.slos) {
    auto o = slo::ParseObjective(e);
    if (!o) return Fail("--slo '" + e + "': " + o.error().message);
    if (!o->request.empty()) return Fail("--slo '" + e + "': a plain run has one request; drop the name prefix");
  }
  auto address = sys::Resolve(url->host, url->port);
  if (!address) return std::unexpected(address.error());
  auto tls = TlsFor(f, *url);
  if (!tls) return std::unexpected(tls.error());
  auto http_options = HttpFor(f, *url);
  if (!http_options) return std::unexpected(http_options.error());

  scenario::Phase phase;
  phase.name = "run";
  phase.duration_ns = *duration;
  phase.arrival = f.arrival == "poisson" ? scenario::Arrival::kPoisson : scenario::Arrival::kUniform;
  if (!f.rate.empty()) {
    auto rate = ParseRatePerSec(f.rate);
    if (!rate) return Fail("--rate: " + rate.error().message);
    if (*rate <= 0) return Fail("--rate must be positive");
    phase.kind = scenario::PhaseKind::kBaseline;
    phase.rate_per_sec = *rate;
    phase.connections = f.connections > 0 ? f.connections : scenario::kDefaultConnectionCap;
  } else {
    phase.kind = scenario::PhaseKind::kClosed;
    phase.connections = f.connections > 0 ? f.connections : scenario::kDefaultClosedConnections;
  }
  for (const std::string& e : f.slos) p.plan.slos.push_back({e, "", {}, {}});
  exec::ExecPlan& plan = p.plan;
  plan.target = f.url;
  plan.method = f.method;
  plan.address = *address;
  plan.tls = *tls;
  plan.http = *http_options;
  plan.phases = {phase};
  plan.threads = DefaultThreads(f.threads);
  plan.timeout_ns = *timeout;
  plan.seed = f.seed;
  if (auto s = WireIo(plan, f); !s) return std::unexpected(s.error());
  if (auto s = WireTiers(plan, {}, f); !s) return std::unexpected(s.error());
  return p;
}

// `headroom run scenario.yaml`: validated like `headroom validate`, then compiled.
Result<Prepared> PrepareScenario(const RunFlags& f) {
  auto sc = scenario::LoadScenario(f.url, {f.target_override});
  if (!sc) return std::unexpected(sc.error());
  for (const std::string& e : f.slos) {
    if (auto s = scenario::AddSlo(*sc, e); !s) return std::unexpected(s.error());
  }
  if (f.duration_scale != 1) {
    if (auto s = scenario::ScaleDurations(*sc, f.duration_scale); !s) return std::unexpected(s.error());
  }
  std::optional<exec::ShardPlan> shard;
  if (f.shard_spec) {
    shard.emplace();
    shard->spec = *f.shard_spec;
    shard->start_at_us = f.start_at_us;
    shard->scenario_hash = scenario::ScenarioFingerprint(*sc);
    shard->sync_dir = f.sync_dir;
    for (const scenario::Phase& p : sc->phases) {
      if (p.kind == scenario::PhaseKind::kStress && f.sync_dir.empty() && f.shard_spec->count > 1) {
        return Fail("phase " + p.name + " is a stress phase: with --shard, give --sync-dir DIR (a folder every shard "
                    "can read and write) so that the shards judge each step together");
      }
    }
    if (auto s = scenario::ShardScenario(*sc, *f.shard_spec); !s) return std::unexpected(s.error());
  }
  auto url = http::ParseUrl(sc->target);
  if (!url) return Fail((f.target_override.empty() ? f.url + ": target: " : "--target: ") + url.error().message);
  std::string base_path = url->path_and_query == "/" ? "" : url->path_and_query;
  auto compiled = scenario::CompileRequests(*sc, url->authority, base_path);
  if (!compiled) return std::unexpected(compiled.error());
  auto picker = scenario::MakeRequestPicker(*sc);
  if (!picker) return std::unexpected(picker.error());
  auto address = sys::Resolve(url->host, url->port);
  if (!address) return std::unexpected(address.error());
  auto tls = TlsFor(f, *url);
  if (!tls) return Fail("headroom run: " + tls.error().message);
  // The file's defaults.http and max_streams, unless the command line chose the version.
  RunFlags version = f;
  if (!f.http2 && !f.h2c && !f.http1) {
    using Http = scenario::Defaults::Http;
    version.http2 = sc->defaults.http == Http::kHttp2;
    version.h2c = sc->defaults.http == Http::kH2c;
    version.http1 = sc->defaults.http == Http::kHttp1;
  }
  if (f.max_streams == 0 && !f.http1) version.max_streams = sc->defaults.max_streams;
  auto http_options = HttpFor(version, *url);
  if (!http_options) return Fail("headroom run: " + http_options.error().message);
  Prepared p;
  exec::ExecPlan& plan = p.plan;
  plan.threads = DefaultThreads(f.threads);
  p.source = exec::MakeScenarioSource(*sc, std::move(*compiled), std::move(*picker), plan.threads,
                                      shard ? shard->spec.index : 0, shard ? shard->spec.count : 1);
  plan.shard = std::move(shard);
  plan.target = sc->target;
  plan.scenario = sc->name.empty() ? f.url : sc->name;
  plan.method = sc->requests.size() == 1 ? sc->requests[0].method : "mix";
  plan.address = *address;
  plan.tls = *tls;
  plan.http = *http_options;
  plan.phases = sc->phases;
  plan.slos = sc->slos;
  for (const scenario::RequestSpec& r : sc->requests) {
    for (const scenario::SloSpec& s : r.slos) plan.slos.push_back(s);
  }
  plan.abort_on_fail = sc->abort_on_fail;
  // The run-wide timeout bounds the drain and requests queued in the generator: the longest one.
  plan.timeout_ns = sc->defaults.timeout_ns;
  for (const scenario::RequestSpec& r : sc->requests) plan.timeout_ns = std::max(plan.timeout_ns, r.timeout_ns);
  plan.seed = sc->seed.value_or(f.seed);
  if (auto s = WireIo(plan, f); !s) return std::unexpected(s.error());
  if (auto s = WireTiers(plan, sc->tiers, f); !s) return std::unexpected(s.error());
  return p;
}

// --shard, --start-at and --sync-dir: parsed and checked together; prints the one-line error.
bool ValidateShardFlags(const CLI::App& app, RunFlags& f) {
  if (f.shard.empty()) {
    std::fprintf(stderr, "headroom run: --start-at and --sync-dir apply with --shard I/N only\n");
    return false;
  }
  if (!LooksLikeScenario(f.url)) {
    std::fprintf(stderr, "headroom run: --shard needs a scenario file (.yaml), not a URL\n");
    return false;
  }
  auto spec = scenario::ParseShard(f.shard);
  if (!spec) {
    std::fprintf(stderr, "headroom run: %s\n", spec.error().message.c_str());
    return false;
  }
  if (f.start_at.empty()) {
    std::fprintf(stderr,
                 "headroom run: --shard needs --start-at TIME (e.g. +30s or 2026-05-01T12:00:00Z), the same for every "
                 "shard, so that they start together\n");
    return false;
  }
  auto at = ParseStartAtUs(f.start_at, WallNowUs());
  if (!at) {
    std::fprintf(stderr, "headroom run: %s\n", at.error().message.c_str());
    return false;
  }
  if (app.count("--sync-dir") > 0 && f.sync_dir.empty()) {
    std::fprintf(stderr, "headroom run: --sync-dir needs a folder\n");
    return false;
  }
  f.shard_spec = *spec;
  f.start_at_us = *at;
  return true;
}

}  // namespace

int RunCommand(int argc, char** argv) {
  CLI::App app{"Load-test a URL. Open model with --rate (latency timed from each request's intended start, "
               "so a stalled server cannot hide its stall); closed model otherwise.",
               "headroom run"};
  RunFlags f;
  app.add_option("target", f.url, "http[s]://host[:port]/path, or a scenario file (.yaml) with phases")->required();
  app.add_option("-r,--rate", f.rate, "open model: target rate, e.g. 2000/s, 90000/min");
  app.add_option("--arrival", f.arrival, "open model arrivals: uniform | poisson (default uniform)");
  AddCount(app, "-c,--connections", f.connections,
           "closed model: connections (default 50); open model: cap on connections (default 1000)", 1,
           kMaxConnections);
  app.add_option("-d,--duration", f.duration, "test duration, e.g. 30s, 5m (default 10s)");
  AddCount(app, "-t,--threads", f.threads, "worker threads (default: one per core)", 1, kMaxThreads);
  app.add_option("--timeout", f.timeout, "per-request timeout (default 10s)");
  app.add_option("-m,--method", f.method, "HTTP method (default GET)");
  app.add_option("-H,--header", f.headers, "request header 'Name: value' (repeatable)");
  app.add_option("--body", f.body, "request body: TEXT or @file");
  app.add_option("--slo", f.slos, "objective, e.g. 'p95 < 300ms', 'error_rate < 0.5%', 'rps >= 1000' (repeatable)");
  app.add_option("-o,--out", f.out, "write DIR/results.json (refreshed every 10 s), report.html, series.csv, junit.xml, summary.md, results.hlog");
  // Without the check, CLI11 would wrap a negative seed around to a huge unsigned one.
  auto not_negative = [](const std::string& text) -> std::string {
    return text.starts_with('-') ? "must not be negative, not " + text : "";
  };
  app.add_option("--seed", f.seed, "random seed for arrivals (default 1)")
      ->check(CLI::Validator(not_negative, "UINT", "not negative"));
  app.add_option("--watch", f.watch,
                 "watch a tier beside the run: [NAME=]host | process:NAME|PID | postgres:CONNINFO | redis:HOST:PORT | "
                 "prometheus:URL (repeatable; docs/collect.md)");
  app.add_option("-e,--env", f.env, "NAME=VALUE: environment for ${NAME} and env(NAME) in scenario files (repeatable)");
  app.add_option("--duration-scale", f.duration_scale,
                 "scenario files: scale every phase's length, e.g. 0.1 to smoke-test a 30-minute soak in 3 minutes");
  app.add_option("--target", f.target_override, "scenario files: base URL replacing the file's target");
  app.add_option("--metrics-listen", f.metrics_listen,
                 "serve the run's live state in the Prometheus text format at http://ADDR/metrics, e.g. 127.0.0.1:9464 "
                 "(docs/report.md)");
  app.add_flag("--metrics-allow-remote", f.metrics_allow_remote,
               "allow --metrics-listen on a non-loopback address (the metrics then reach beyond this machine)");
  app.add_option("--metrics-linger", f.metrics_linger,
                 "keep serving the final metrics this long after the run, e.g. 15s, so a scrape sees the end (default 0s)");
  app.add_option("--shard", f.shard,
                 "I/N: run shard I (from 0) of a test split over N processes: 1/N of every rate, connection and data "
                 "row; merge the shards' --out folders with headroom merge (docs/distributed.md)");
  app.add_option("--start-at", f.start_at,
                 "with --shard: when every shard starts, e.g. 2026-05-01T12:00:00Z, Unix seconds, or +30s");
  app.add_option("--sync-dir", f.sync_dir,
                 "with --shard: a folder every shard shares, through which stress phases judge each step on all "
                 "shards' figures");
  app.add_option("--io", f.io,
                 "I/O path: auto | uring | epoll (default auto: io_uring where the kernel allows it, else epoll "
                 "with a notice; TLS runs on epoll)");
  app.add_option("--cacert", f.cacert,
                 "https: PEM file of CA certificates to trust besides the system store (docs/tls.md)");
  app.add_flag("--insecure", f.insecure,
               "https: do not verify the server's certificate (every output then says so)");
  app.add_option("--cert", f.cert, "https: client certificate (PEM) for mutual TLS, with --key");
  app.add_option("--key", f.key, "https: private key (PEM) of --cert");
  app.add_flag("--no-tls-resume", f.no_tls_resume,
               "https: a full TLS handshake on every connection (default: resume the latest session on reconnect)");
  app.add_flag("--http2", f.http2,
               "https: speak HTTP/2 and fail unless the server chooses h2 by ALPN (default: h2 when the server "
               "chooses it, else HTTP/1.1; docs/http2.md)");
  app.add_flag("--h2c", f.h2c, "http: speak cleartext HTTP/2 with prior knowledge (no upgrade)");
  app.add_flag("--http1.1", f.http1, "speak HTTP/1.1 only (https: offer only http/1.1 by ALPN)");
  AddCount(app, "--max-streams", f.max_streams,
           "HTTP/2: requests in flight per connection at most (default: what the server's "
           "SETTINGS_MAX_CONCURRENT_STREAMS allows, at most 100)",
           1, engine::kMaxStreamsLimit);
  app.add_flag("-q,--quiet", f.quiet, "no progress (a live line on a terminal, a line every 10 s otherwise)");
  if (auto code = ParseArgs(app, argc, argv, "run")) return *code;
  if (LooksLikeScenario(f.url)) {
    for (const char* flag : {"--rate", "--arrival", "--connections", "--duration", "--timeout", "--method", "--header",
                             "--body"}) {
      if (app.count(flag) > 0) {
        std::fprintf(stderr, "headroom run: %s does not apply to a scenario file; set it in %s\n", flag,
                     f.url.c_str());
        return 2;
      }
    }
  }
  if (!LooksLikeScenario(f.url)) {
    for (const char* flag : {"--duration-scale", "--target"}) {
      if (app.count(flag) > 0) {
        std::fprintf(stderr, "headroom run: %s applies to scenario files only\n", flag);
        return 2;
      }
    }
  }
  if (!f.shard.empty() || !f.start_at.empty() || !f.sync_dir.empty()) {
    if (!ValidateShardFlags(app, f)) return 2;
  }
  if (!ApplyEnv(f.env, "run")) return 2;
  if (f.metrics_listen.empty() && (app.count("--metrics-allow-remote") > 0 || app.count("--metrics-linger") > 0)) {
    std::fprintf(stderr, "headroom run: --metrics-allow-remote and --metrics-linger need --metrics-listen\n");
    return 2;
  }
  auto linger_ns = ParseDurationNs(f.metrics_linger);
  if (!linger_ns || *linger_ns < 0) {
    std::fprintf(stderr, "headroom run: --metrics-linger: %s\n",
                 linger_ns ? "must not be negative" : linger_ns.error().message.c_str());
    return 2;
  }
  auto prepared = LooksLikeScenario(f.url) ? PrepareScenario(f) : PrepareUrl(f);
  if (!prepared) {
    // Scenario errors are one "file:line:col: message" line each; print them all.
    std::string msg = prepared.error().message;
    std::string prefix = LooksLikeScenario(f.url) ? "" : "headroom run: ";
    std::fprintf(stderr, "%s%s\n", prefix.c_str(), msg.c_str());
    return 2;
  }
  Prepared& p = *prepared;
  p.plan.source = p.source.get();
  p.plan.out_dir = f.out;
  StderrProgress progress(f.quiet);
  p.plan.progress = &progress;
  p.plan.stop = &sys::StopFlag();
  exec::LiveMetrics live;
  std::unique_ptr<exec::MetricsServer> metrics_server;
  if (!f.metrics_listen.empty()) {
    auto server = exec::MetricsServer::Start(f.metrics_listen, f.metrics_allow_remote, &live);
    if (!server) {
      std::fprintf(stderr, "headroom run: %s\n", server.error().message.c_str());
      return 2;
    }
    metrics_server = std::move(*server);
    p.plan.live = &live;
    if (!f.quiet) std::fprintf(stderr, "headroom: live metrics at %s\n", metrics_server->url().c_str());
  }
  sys::InstallStopSignals();
  sys::RaiseFileLimit();
  if (p.plan.shard && !f.quiet) {
    std::fprintf(stderr, "headroom: shard %d/%d starts at %s (in %.1f s)\n", p.plan.shard->spec.index,
                 p.plan.shard->spec.count, FormatUtc(p.plan.shard->start_at_us).c_str(),
                 std::max(0.0, double(p.plan.shard->start_at_us - WallNowUs()) / 1e6));
  }
  auto results = exec::Execute(p.plan);
  if (!results) {
    std::fprintf(stderr, "headroom run: %s\n", results.error().message.c_str());
    return 2;
  }
  live.OnRunEnd(report::VerdictName(results->verdict));
  const std::optional<explain::Explanation> ranked = explain::ExplainRun(*results);
  std::fputs(report::FormatSummary(*results, ranked ? explain::Text(*ranked) : "").c_str(), stdout);
  std::fflush(stdout);
  if (metrics_server) {
    // The final state stays up for a last scrape; SIGINT/SIGTERM ends the wait.
    const auto until = std::chrono::steady_clock::now() + std::chrono::nanoseconds(*linger_ns);
    while (std::chrono::steady_clock::now() < until && !sys::StopRequested()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  if (results->shard && results->verdict != report::Verdict::kInterrupted) {
    // A shard judges 1/N of the load; the test's verdict (and exit code) comes from headroom merge.
    if (!f.quiet) {
      std::fprintf(stderr,
                   "headroom: shard %d/%d finished; its verdict covers its share only: merge every shard's --out "
                   "folder with headroom merge\n",
                   results->shard->index, results->shard->count);
    }
    return 0;
  }
  return report::VerdictExitCode(results->verdict);
}

}  // namespace headroom::cli
