// headroom target: serve the embedded test service until SIGINT/SIGTERM.
#include <CLI/CLI.hpp>
#include <sys/prctl.h>

#include <csignal>
#include <cstdio>
#include <string>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/units.h"
#include "target/target.h"

namespace headroom::cli {
namespace {

int UsageError(const std::string& message) {
  std::fprintf(stderr, "headroom target: %s\n", message.c_str());
  return 2;
}

// "500ms/5s" -> stall and period.
Status ParseStall(const std::string& text, target::Options* o) {
  size_t slash = text.find('/');
  if (slash == std::string::npos) return Fail("--stall wants DURATION/PERIOD, e.g. 500ms/5s");
  auto stall = ParseDurationNs(std::string_view(text).substr(0, slash));
  if (!stall) return Fail("--stall: " + stall.error().message);
  auto period = ParseDurationNs(std::string_view(text).substr(slash + 1));
  if (!period) return Fail("--stall: " + period.error().message);
  o->stall_ns = *stall;
  o->stall_period_ns = *period;
  return Ok();
}

struct Flags {
  std::string bind, stall, error_rate, latency, mode = "normal", flaws, downstream;
  int64_t close_every = 0;
  bool init_db = false;
};

Result<target::Options> BuildOptions(const Flags& f, const CLI::App& app, target::Options o) {
  if (app.count("--bind") > 0) {
    o.bind = f.bind;
    o.allow_non_loopback = true;
  }
  if (!f.stall.empty()) {
    if (Status s = ParseStall(f.stall, &o); !s) return std::unexpected(s.error());
  }
  if (!f.error_rate.empty()) {
    auto r = ParsePercent(f.error_rate);
    if (!r) return Fail("--error-rate: " + r.error().message);
    o.error_rate = *r;
  }
  if (!f.latency.empty()) {
    auto d = ParseDurationNs(f.latency);
    if (!d) return Fail("--latency: " + d.error().message);
    o.latency_ns = *d;
  }
  if (f.close_every < 0) return Fail("--close-every must not be negative");
  o.close_every = f.close_every;
  auto m = target::ParseMode(f.mode);
  if (!m) return Fail("--mode: " + m.error().message);
  o.mode = *m;
  if (!f.downstream.empty()) {
    auto d = ParseDurationNs(f.downstream);
    if (!d) return Fail("--downstream-latency: " + d.error().message);
    o.shop.downstream_ns = *d;
  }
  if (!f.flaws.empty()) {
    auto flaws = target::ParseFlaws(f.flaws);
    if (!flaws) return Fail("--flaws: " + flaws.error().message);
    o.shop.flaws = *flaws;
  }
  if (o.shop.postgres.empty() && (!o.shop.redis.empty() || f.init_db || !f.flaws.empty() ||
                                  app.count("--handler-threads") > 0 || app.count("--db-pool") > 0 ||
                                  !f.downstream.empty())) {
    return Fail("--redis, --init-db, --flaws, --handler-threads, --db-pool and --downstream-latency belong to the "
                "shop: add --postgres CONNINFO");
  }
  if (!o.shop.postgres.empty() && o.shop.redis.empty()) return Fail("the shop needs --redis HOST:PORT as well");
  return o;
}

std::string UrlHost(const std::string& bind) {
  if (bind == "0.0.0.0" || bind == "localhost") return "127.0.0.1";
  if (bind == "::") return "[::1]";
  if (bind.find(':') != std::string::npos && bind.front() != '[') return "[" + bind + "]";
  return bind;
}

}  // namespace

int TargetCommand(int argc, char** argv) {
  CLI::App app{"Serve the embedded HTTP/1.1 test service (routes: /, /bytes/N, /cpu/US, /sleep/MS, "
               "/status/CODE, /chunked/N, /json) with optional fault injection; with --postgres and --redis, "
               "also a three-tier shop (/shop/products/ID, /shop/customers/ID/orders, POST "
               "/shop/orders?customer=ID&product=ID, /metrics) with switchable flaws."};
  app.name("headroom target");
  target::Options o;
  Flags f;
  app.add_option("--port", o.port, "TCP port (0 = any free port)");
  AddCount(app, "--threads", o.threads, "worker threads, each with its own listener and event loop", 1,
           target::kMaxThreads);
  app.add_option("--bind", f.bind, "address to bind (default 127.0.0.1; required to bind a non-loopback address)");
  app.add_option("--stall", f.stall, "freeze every connection for D at the start of each period P, e.g. 500ms/5s");
  app.add_option("--error-rate", f.error_rate, "fraction of responses that are 500, e.g. 2%");
  app.add_option("--latency", f.latency, "delay added to every response, e.g. 5ms (does not block a thread)");
  app.add_option("--close-every", f.close_every, "close each connection after N responses");
  app.add_option("--mode", f.mode, "normal | close-mid-response | never-respond | garbage | early-response");
  app.add_option("--postgres", o.shop.postgres, "the shop's database (libpq conninfo, e.g. \"host=127.0.0.1 dbname=shop\")");
  app.add_option("--redis", o.shop.redis, "the shop's cache, HOST:PORT");
  app.add_flag("--init-db", f.init_db, "create and fill the shop's tables first (drops earlier ones; 1M orders)");
  app.add_option("--flaws", f.flaws, "missing-index,small-cache,tiny-pool,one-thread (any subset) or none");
  AddCount(app, "--handler-threads", o.shop.handler_threads, "the shop's request handler threads (default 16)", 1,
           target::kMaxThreads);
  app.add_option("--downstream-latency", f.downstream,
                 "the simulated recommendation call each product page waits for (default 2ms; 0 for none)");
  AddCount(app, "--db-pool", o.shop.db_pool, "the shop's PostgreSQL connections (default 10)", 1, target::kMaxThreads);
  if (auto code = ParseArgs(app, argc, argv, "target")) return *code;
  auto options = BuildOptions(f, app, o);
  if (!options) return UsageError(options.error().message);

  // Block the stop signals before any thread starts so that every thread inherits the mask and
  // only sigwait below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  if (f.init_db) {
    if (Status s = target::InitShopDatabase(options->shop, target::ShopData{}, stderr); !s) {
      return UsageError(s.error().message);
    }
  }
  // The shop's process is "headroom-shop" in ps and /proc, so that a scenario can watch it by
  // name (process:headroom-shop) apart from the load generator, which is "headroom" too.
  if (!options->shop.postgres.empty()) prctl(PR_SET_NAME, "headroom-shop", 0, 0, 0);
  auto server = target::Server::Start(*options);
  if (!server) return UsageError(server.error().message);
  std::printf("headroom target listening on http://%s:%u\n", UrlHost(options->bind).c_str(),
              static_cast<unsigned>((*server)->port()));
  if (!options->shop.postgres.empty()) {
    std::printf("shop: /shop/products/1..10000, /shop/customers/1..20000/orders, POST /shop/orders, /metrics; "
                "flaws: %s\n", target::FlawNames(options->shop.flaws).c_str());
  }
  std::fflush(stdout);
  int sig = 0;
  sigwait(&signals, &sig);
  (*server)->Stop();
  return 0;
}

}  // namespace headroom::cli
