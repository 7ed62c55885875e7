#include "engine/engine.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include "core/clock.h"
#include "engine/h2_worker.h"
#include "engine/pacer.h"
#include "engine/uring_worker.h"
#include "engine/tls.h"
#include "engine/worker.h"

namespace headroom::engine {

const char* ErrorClassName(ErrorClass c) {
  switch (c) {
    case ErrorClass::kConnectRefused: return "connect_refused";
    case ErrorClass::kConnectTimeout: return "connect_timeout";
    case ErrorClass::kConnectError: return "connect_error";
    case ErrorClass::kRequestTimeout: return "request_timeout";
    case ErrorClass::kReset: return "reset";
    case ErrorClass::kMalformed: return "malformed_response";
    case ErrorClass::kHttp4xx: return "http_4xx";
    case ErrorClass::kHttp5xx: return "http_5xx";
    case ErrorClass::kCheckFailed: return "check_failed";
    case ErrorClass::kTlsHandshake: return "tls_handshake";
    case ErrorClass::kTlsVerify: return "tls_verify";
    case ErrorClass::kH2StreamReset: return "h2_stream_reset";
    case ErrorClass::kH2Goaway: return "h2_goaway";
    case ErrorClass::kH2Protocol: return "h2_protocol";
    case ErrorClass::kCount: break;
  }
  return "unknown";
}

const char* IoName(Io io) {
  switch (io) {
    case Io::kAuto: return "auto";
    case Io::kEpoll: return "epoll";
    case Io::kUring: return "uring";
  }
  return "unknown";
}

Result<Io> IoFromName(std::string_view name) {
  for (Io io : {Io::kAuto, Io::kEpoll, Io::kUring}) {
    if (name == IoName(io)) return io;
  }
  return Fail("must be 'uring', 'epoll' or 'auto', not '" + std::string(name) + "'");
}

Result<Io> ResolveIo(Io requested, std::string* notice) {
  static std::once_flag once;
  static Status probe = Ok();
  if (requested == Io::kEpoll) return Io::kEpoll;
  std::call_once(once, [] { probe = sys::ProbeUring(); });
  if (probe) return Io::kUring;
  if (requested == Io::kUring) return Fail("--io uring: io_uring is not available here (" + probe.error().message + ")");
  if (notice != nullptr) *notice = "io_uring is not available (" + probe.error().message + "): using epoll";
  return Io::kEpoll;
}

void Counters::Add(const Counters& o) {
  intended += o.intended;
  sent += o.sent;
  completed += o.completed;
  ok += o.ok;
  errors += o.errors;
  delayed += o.delayed;
  waited_at_cap += o.waited_at_cap;
  unfinished += o.unfinished;
  bytes_read += o.bytes_read;
  bytes_written += o.bytes_written;
  connections_opened += o.connections_opened;
  connect_attempts += o.connect_attempts;
  max_queue_depth = std::max(max_queue_depth, o.max_queue_depth);
  tls_handshakes_new += o.tls_handshakes_new;
  tls_handshakes_resumed += o.tls_handshakes_resumed;
  h2_goaways += o.h2_goaways;
  h2_resets += o.h2_resets;
  h2_retried += o.h2_retried;
  for (int i = 0; i < kErrorClassCount; ++i) by_class[i] += o.by_class[i];
  for (size_t i = 0; i < status_codes.size(); ++i) status_codes[i] += o.status_codes[i];
}

namespace {

class StaticSource final : public RequestSource {
 public:
  StaticSource(std::string name, std::string bytes, bool head)
      : name_(std::move(name)), bytes_(std::move(bytes)), head_(head) {}
  std::vector<std::string> names() const override { return {name_}; }
  std::unique_ptr<RequestStream> ForWorker(int, uint64_t) const override {
    return std::make_unique<Stream>(bytes_, head_);
  }

 private:
  class Stream final : public RequestStream {
   public:
    Stream(std::string_view bytes, bool head) : bytes_(bytes), head_(head) {}
    int Next(std::string&, std::string_view* bytes, bool* head) override {
      *bytes = bytes_;
      *head = head_;
      return 0;
    }

   private:
    std::string_view bytes_;
    bool head_;
  };
  std::string name_;
  std::string bytes_;
  bool head_;
};

// Splits the rate profile (and so the arrivals) evenly over workers.
std::vector<RateSegment> ShareOf(const std::vector<RateSegment>& profile, int threads) {
  std::vector<RateSegment> out = profile;
  for (RateSegment& s : out) {
    s.start_rps /= threads;
    s.end_rps /= threads;
  }
  return out;
}

// The two worker kinds behind one face, for the reporter and the merge at the end.
class AnyWorker {
 public:
  virtual ~AnyWorker() = default;
  virtual void Run() = 0;
  virtual Handoff& handoff() = 0;
  virtual const Histogram& service_time_us() const = 0;
  virtual const Histogram& pacer_lateness_us() const = 0;
  virtual const std::vector<RequestStats>& requests() const = 0;
  virtual bool interrupted() const = 0;
  virtual const Histogram& connect_time_us() const = 0;
  // TLS figures: the epoll worker's only (https:// runs on the epoll path).
  virtual const Histogram* tls_handshake_time_us() const { return nullptr; }
  virtual std::string tls_version() const { return {}; }
  virtual std::string tls_cipher() const { return {}; }
  virtual std::string alpn() const { return {}; }
  virtual std::string first_tls_error() const { return {}; }
  // HTTP/2 figures: the h2 worker's only.
  virtual std::string first_h2_error() const { return {}; }
  virtual int h2_max_streams() const { return 0; }
  virtual int h2_peak_streams() const { return 0; }
};

template <class W>
class WorkerOf final : public AnyWorker {
 public:
  template <class... A>
  explicit WorkerOf(A&&... args) : w_(std::forward<A>(args)...) {}
  W& worker() { return w_; }
  void Run() override { w_.Run(); }
  Handoff& handoff() override { return w_.handoff(); }
  const Histogram& service_time_us() const override { return w_.service_time_us(); }
  const Histogram& pacer_lateness_us() const override { return w_.pacer_lateness_us(); }
  const std::vector<RequestStats>& requests() const override { return w_.requests(); }
  bool interrupted() const override { return w_.interrupted(); }
  const Histogram& connect_time_us() const override { return w_.connect_time_us(); }
  const Histogram* tls_handshake_time_us() const override {
    if constexpr (requires { w_.tls_handshake_time_us(); }) return &w_.tls_handshake_time_us();
    return nullptr;
  }
  std::string tls_version() const override {
    if constexpr (requires { w_.tls_version(); }) return w_.tls_version();
    return {};
  }
  std::string tls_cipher() const override {
    if constexpr (requires { w_.tls_cipher(); }) return w_.tls_cipher();
    return {};
  }
  std::string alpn() const override {
    if constexpr (requires { w_.alpn(); }) return w_.alpn();
    return {};
  }
  std::string first_tls_error() const override {
    if constexpr (requires { w_.first_tls_error(); }) return w_.first_tls_error();
    return {};
  }
  std::string first_h2_error() const override {
    if constexpr (requires { w_.first_h2_error(); }) return w_.first_h2_error();
    return {};
  }
  int h2_max_streams() const override {
    if constexpr (requires { w_.max_streams(); }) return w_.max_streams();
    return 0;
  }
  int h2_peak_streams() const override {
    if constexpr (requires { w_.peak_streams(); }) return w_.peak_streams();
    return 0;
  }

 private:
  W w_;
};

// Merges per-worker intervals by second and emits each second once every worker has reported it.
class Reporter {
 public:
  Reporter(std::vector<std::unique_ptr<AnyWorker>>& workers, const SecondCallback& cb, RunStats& stats)
      : workers_(workers), cb_(cb), stats_(stats) {}

  // Returns true when every worker is done and everything has been emitted.
  bool Poll() {
    bool all_done = true;
    for (auto& w : workers_) {
      Handoff& h = w->handoff();
      std::lock_guard<std::mutex> lock(h.mu);
      for (Interval& iv : h.ready) {
        Pending& p = pending_[iv.second];
        if (!p.stats) p.stats = std::make_unique<SecondStats>();
        p.stats->second = iv.second;
        p.span_s = std::max(p.span_s, iv.span_s);
        p.stats->counters.Add(iv.counters);
        p.stats->response_time_us.Add(*iv.response_time_us);
        ++p.reported;
        h.spare.push_back(std::move(iv.response_time_us));
      }
      h.ready.clear();
      if (!h.done) all_done = false;
    }
    // Emit in order while the oldest second is complete (or every worker has finished).
    while (!pending_.empty()) {
      auto it = pending_.begin();
      if (it->second.reported < int(workers_.size()) && !all_done) break;
      it->second.stats->span_s = it->second.span_s;
      stats_.counters.Add(it->second.stats->counters);
      stats_.response_time_us.Add(it->second.stats->response_time_us);
      if (cb_) cb_(*it->second.stats);
      pending_.erase(it);
    }
    return all_done && pending_.empty();
  }

 private:
  struct Pending {
    std::unique_ptr<SecondStats> stats;
    int reported = 0;
    double span_s = 1.0;
  };
  std::vector<std::unique_ptr<AnyWorker>>& workers_;
  const SecondCallback& cb_;
  RunStats& stats_;
  std::map<int64_t, Pending> pending_;
};

}  // namespace

namespace {

// The TLS context of an https:// run and whether it speaks HTTP/2: kHttp1 offers http/1.1 only;
// kAuto and kHttp2 first make one connection to see what the server picks by ALPN (kHttp2 refuses
// a server that does not pick h2; kAuto speaks HTTP/1.1 unless it does).
Result<std::unique_ptr<TlsContext>> ChooseTls(const Config& config, bool* h2) {
  *h2 = false;
  if (config.http.version == HttpVersion::kHttp1) return TlsContext::Create(config.tls, AlpnOffer::kHttp1);
  // The probe offers both, so that a server without h2 answers with its choice rather than an alert.
  auto context = TlsContext::Create(config.tls, AlpnOffer::kH2AndHttp1);
  if (!context) return std::unexpected(context.error());
  const int64_t timeout_ns = config.connect_timeout_ns > 0 ? config.connect_timeout_ns
                                                           : std::min<int64_t>(config.timeout_ns, 5'000'000'000);
  auto chosen = ProbeAlpn(**context, config.address, timeout_ns);
  if (config.http.version == HttpVersion::kHttp2) {
    if (chosen && *chosen != "h2") {
      return Fail("--http2: the server at " + config.address.ToString() + " did not choose h2 by ALPN (" +
                  (chosen->empty() ? std::string("it chose no protocol") : "it chose " + *chosen) +
                  "): it does not speak HTTP/2 over TLS");
    }
    *h2 = true;  // when the probe could not connect, the workers count that failure themselves
    return TlsContext::Create(config.tls, AlpnOffer::kH2);
  }
  if (chosen && *chosen == "h2") {
    *h2 = true;
    return context;
  }
  return TlsContext::Create(config.tls, AlpnOffer::kHttp1);
}

}  // namespace

Status CheckTls(const TlsOptions& tls) {
  auto context = TlsContext::Create(tls);
  if (!context) return std::unexpected(context.error());
  return Ok();
}

std::unique_ptr<RequestSource> MakeStaticSource(std::string name, std::string bytes, bool head) {
  return std::make_unique<StaticSource>(std::move(name), std::move(bytes), head);
}

Result<RunStats> Run(const Config& in, const SecondCallback& on_second) {
  if (in.source == nullptr) return Fail("no request source");
  Config config = in;
  if (config.threads < 1) config.threads = 1;
  if (config.connections < 1) return Fail("--connections must be at least 1");
  if (config.model == Model::kOpen) {
    if (config.rate_profile.empty()) return Fail("open model needs a rate");
    config.duration_ns = 0;
    for (const RateSegment& s : config.rate_profile) config.duration_ns += s.duration_ns;
  }
  config.threads = std::min(config.threads, config.connections);
  if (config.http.max_streams < 0 || config.http.max_streams > kMaxStreamsLimit) {
    return Fail("--max-streams must be between 1 and " + std::to_string(kMaxStreamsLimit));
  }
  std::unique_ptr<TlsContext> tls;
  bool h2 = false;
  if (config.tls.enabled) {
    auto chosen = ChooseTls(config, &h2);
    if (!chosen) return std::unexpected(chosen.error());
    tls = std::move(*chosen);
  } else {
    h2 = config.http.version == HttpVersion::kHttp2;  // h2c, prior knowledge
  }

  std::string io_notice;
  Result<Io> io = ResolveIo(config.io, &io_notice);
  if (!io) return std::unexpected(io.error());
  if ((config.tls.enabled || h2) && *io == Io::kUring) {
    // TLS and HTTP/2 connections run on the epoll path (docs/engine.md).
    if (config.io == Io::kUring) {
      io_notice = h2 ? "HTTP/2 runs on the epoll path: --io uring applies to HTTP/1.1 targets"
                     : "https:// runs on the epoll path: --io uring applies to http:// targets";
    }
    io = Io::kEpoll;
  }

  RunStats stats;
  stats.model = config.model;
  stats.io = *io;
  stats.io_notice = io_notice;
  stats.protocol = h2 ? (config.tls.enabled ? "h2" : "h2c") : "http/1.1";
  stats.threads = config.threads;
  stats.connections = config.connections;
  if (config.model == Model::kOpen && config.duration_ns > 0) {
    double total = 0;
    for (const RateSegment& s : config.rate_profile) total += (s.start_rps + s.end_rps) * 0.5 * s.duration_ns / 1e9;
    stats.requested_rps = total / (config.duration_ns / 1e9);
  }

  sys::ProcessUsage usage_before = sys::ReadSelfUsage();
  int64_t start_ns = MonoNowNs() + 20'000'000;  // a short lead so every worker starts on the same clock
  std::vector<std::unique_ptr<AnyWorker>> workers;
  for (int i = 0; i < config.threads; ++i) {
    int share = config.connections / config.threads + (i < config.connections % config.threads ? 1 : 0);
    std::vector<RateSegment> profile = ShareOf(config.rate_profile, config.threads);
    double phase = WorkerPhase(i, config.threads, config.shard_phase);
    if (*io == Io::kUring) {
      auto w = std::make_unique<WorkerOf<UringWorker>>(config, i, start_ns, share, std::move(profile), phase);
      if (Status st = w->worker().Init(); !st) return Fail("--io uring: " + st.error().message);
      workers.push_back(std::move(w));
    } else if (h2) {
      workers.push_back(
          std::make_unique<WorkerOf<H2Worker>>(config, i, start_ns, share, std::move(profile), phase, tls.get()));
    } else {
      workers.push_back(std::make_unique<WorkerOf<Worker>>(config, i, start_ns, share, std::move(profile), phase,
                                                                   tls.get()));
    }
  }
  std::vector<std::thread> threads;
  threads.reserve(workers.size());
  while (MonoNowNs() < start_ns - 1'000'000) std::this_thread::sleep_for(std::chrono::microseconds(500));
  for (auto& w : workers) threads.emplace_back([&w] { w->Run(); });

  Reporter reporter(workers, on_second, stats);
  while (!reporter.Poll()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  for (std::thread& t : threads) t.join();
  stats.elapsed_s = double(MonoNowNs() - start_ns) / 1e9;

  stats.requests.resize(config.source->names().size());
  for (auto& w : workers) {
    stats.service_time_us.Add(w->service_time_us());
    stats.pacer_lateness_us.Add(w->pacer_lateness_us());
    stats.interrupted = stats.interrupted || w->interrupted();
    stats.connect_time_us.Add(w->connect_time_us());
    if (const Histogram* h = w->tls_handshake_time_us()) stats.tls_handshake_time_us.Add(*h);
    if (stats.tls_version.empty()) {
      stats.tls_version = w->tls_version();
      stats.tls_cipher = w->tls_cipher();
      stats.alpn = w->alpn();
    }
    if (stats.first_tls_error.empty()) stats.first_tls_error = w->first_tls_error();
    if (stats.first_h2_error.empty()) stats.first_h2_error = w->first_h2_error();
    if (w->h2_max_streams() > 0) {
      stats.h2_max_streams =
          stats.h2_max_streams == 0 ? w->h2_max_streams() : std::min(stats.h2_max_streams, w->h2_max_streams());
    }
    stats.h2_peak_streams = std::max(stats.h2_peak_streams, w->h2_peak_streams());
    for (size_t i = 0; i < stats.requests.size(); ++i) {
      stats.requests[i].name = w->requests()[i].name;
      stats.requests[i].response_time_us.Add(w->requests()[i].response_time_us);
      stats.requests[i].counters.Add(w->requests()[i].counters);
      if (stats.requests[i].first_check_failure.empty()) {
        stats.requests[i].first_check_failure = w->requests()[i].first_check_failure;
      }
    }
  }
  sys::ProcessUsage usage_after = sys::ReadSelfUsage();
  stats.cpu_user_s = usage_after.cpu_user_s - usage_before.cpu_user_s;
  stats.cpu_system_s = usage_after.cpu_system_s - usage_before.cpu_system_s;
  stats.rss_bytes = usage_after.rss_bytes;
  return stats;
}

}  // namespace headroom::engine
