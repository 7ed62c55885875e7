// headroom demo --stack: the three-tier shop on a local PostgreSQL and Redis. Stress-tests it with
// the tiers watched, explains what broke first, applies the change explain names, measures again
// and compares the two runs.
#include <libpq-fe.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "core/clock.h"
#include "core/units.h"
#include "exec/exec.h"
#include "explain/explain.h"
#include "plan/plan.h"
#include "report/summary.h"
#include "sys/sys.h"
#include "target/target.h"

namespace headroom::cli {

extern const char kShopScenario[];  // examples/shop.yaml, embedded at build time
extern const char kShopPlan[];      // examples/plans/shop-measured.yaml

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

int Fatal(const std::string& message) {
  std::fprintf(stderr, "headroom demo --stack: %s\n", message.c_str());
  return 2;
}

Result<json> ReadJson(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Fail("cannot read " + path);
  json j = json::parse(in, nullptr, false);
  if (j.is_discarded()) return Fail(path + " is not JSON");
  return j;
}

std::optional<double> Capacity(const json& results) {
  for (const json& p : results.value("phases", json::array())) {
    if (p.contains("stress") && p["stress"].contains("capacity_rps") && p["stress"]["capacity_rps"].is_number()) {
      return p["stress"]["capacity_rps"].get<double>();
    }
  }
  return std::nullopt;
}

int Run(const std::string& scenario, const std::string& out) {
  std::vector<std::string> args = {"run", scenario, "--out", out};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return RunCommand(int(args.size()), argv.data());
}

Status ApplySql(const std::string& conninfo, const std::string& sql) {
  PGconn* c = PQconnectdb(conninfo.c_str());
  std::string err;
  if (PQstatus(c) != CONNECTION_OK) {
    err = PQerrorMessage(c);
  } else {
    PGresult* r = PQexec(c, sql.c_str());
    if (PQresultStatus(r) != PGRES_COMMAND_OK) err = PQerrorMessage(c);
    PQclear(r);
  }
  PQfinish(c);
  if (!err.empty()) return Fail("PostgreSQL: " + err.substr(0, err.find('\n')));
  return Ok();
}

}  // namespace

int DemoStack(const std::string& out) {
  std::printf("headroom demo --stack: the reference shop (product pages cached in Redis, orders in PostgreSQL)\n"
              "started with a classic flaw: no index on orders (customer_id).\n\n");
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) return Fatal("cannot create " + out + ": " + ec.message());
  std::printf("  starting PostgreSQL 15 and Redis 7 on loopback...\n");
  std::fflush(stdout);
  target::LocalPostgresSettings pg_settings;
  pg_settings.max_connections = 50;
  pg_settings.shared_buffers = "128MB";
  auto pg = target::StartPostgres(pg_settings);
  if (!pg) return Fatal(pg.error().message + " (scripts/setup.sh installs PostgreSQL 15 and Redis)");
  auto redis = target::StartRedis();
  if (!redis) return Fatal(redis.error().message + " (scripts/setup.sh installs PostgreSQL 15 and Redis)");
  target::ShopOptions shop;
  shop.postgres = target::PostgresConninfo(**pg);
  shop.redis = "127.0.0.1:" + std::to_string((*redis)->port());
  shop.flaws = target::kFlawMissingIndex;
  if (Status s = target::InitShopDatabase(shop, target::ShopData{}, stdout); !s) return Fatal(s.error().message);

  // The shop runs as a process of its own, so that its CPU is measured apart from the generator's.
  auto app = target::StartTargetProcess("/proc/self/exe", {"--postgres", shop.postgres, "--redis", shop.redis,
                                                            "--flaws", "missing-index"});
  if (!app) return Fatal(app.error().message);
  const std::string url = "http://127.0.0.1:" + std::to_string((*app)->port());
  std::printf("  the shop: %s (pid %d), flaws: missing-index\n", url.c_str(), int((*app)->pid()));
  const std::string scenario = out + "/shop.yaml";
  std::ofstream(scenario) << kShopScenario;
  ::setenv("TARGET_URL", url.c_str(), 1);
  ::setenv("SHOP_POSTGRES", shop.postgres.c_str(), 1);
  ::setenv("SHOP_REDIS", shop.redis.c_str(), 1);
  std::printf("  the scenario: %s (87%% product pages, 3%% a customer's orders, 10%% new orders; p95 < 100ms)\n\n"
              "1/3 stress test, app, database and cache watched\n\n", scenario.c_str());
  std::fflush(stdout);

  const std::string before_dir = out + "/before", after_dir = out + "/after";
  int code = Run(scenario, before_dir);
  if (code == 3 || sys::StopFlag().load()) return 3;
  auto before = ReadJson(before_dir + "/results.json");
  if (!before) return Fatal(before.error().message);
  auto explained = explain::Explain(*before);
  if (!explained) return Fatal("explain: " + explained.error().message);
  if (explained->findings.empty()) {
    std::printf("\nexplain found no bottleneck to fix: %s\n", explained->elsewhere.c_str());
    return 1;
  }
  const explain::Finding& top = explained->findings.front();
  std::printf("\n2/3 what broke first: [%s %s] %s\n", top.tier.c_str(), top.resource.c_str(), top.title.c_str());
  for (const std::string& e : top.evidence) std::printf("      evidence: %s\n", e.c_str());
  std::printf("      change:   %s\n", top.change.c_str());
  if (top.change.rfind("CREATE INDEX", 0) != 0) {
    std::printf("\nthe demo applies SQL changes only; apply this one by hand and run %s again\n", scenario.c_str());
    return 1;
  }
  std::printf("    applying it to the shop's database...\n");
  std::fflush(stdout);
  const int64_t t0 = MonoNowNs();
  if (Status s = ApplySql(shop.postgres, top.change); !s) return Fatal(s.error().message);
  std::printf("    done in %.1f s; the same stress test again:\n\n", double(MonoNowNs() - t0) / 1e9);
  std::fflush(stdout);

  code = Run(scenario, after_dir);
  if (code == 3 || sys::StopFlag().load()) return 3;
  auto after = ReadJson(after_dir + "/results.json");
  if (!after) return Fatal(after.error().message);
  auto compared = explain::Compare(*before, *after, before_dir + "/results.json", after_dir + "/results.json");
  if (!compared) return Fatal("compare: " + compared.error().message);
  std::printf("\n3/3 before and after the change\n\n%s", explain::CompareText(*compared).c_str());
  const auto cap_before = Capacity(*before), cap_after = Capacity(*after);
  auto cap = [](std::optional<double> v) { return v ? FormatCount(std::round(*v)) + " req/s" : std::string("none"); };
  std::printf("\ncapacity with p95 < 100ms: %s before, %s after\n", cap(cap_before).c_str(), cap(cap_after).c_str());
  std::printf("results: %s/{before,after}/ (results.json, summary.md), the scenario %s\n", out.c_str(),
              scenario.c_str());
  const bool raised = cap_after && (!cap_before || *cap_after > *cap_before);
  if (!raised) std::printf("the change did not raise the measured capacity\n");

  // The plan takes each watched tier's capacity from the run after the fix.
  const std::string plan_file = out + "/shop-plan.yaml";
  std::ofstream(plan_file) << kShopPlan;
  auto input = plan::LoadPlanFile(plan_file, after_dir + "/results.json");
  if (!input) return Fatal("plan: " + input.error().message);
  auto built = plan::BuildPlan(*input);
  if (!built) return Fatal("plan: " + built.error().message);
  if (Status s = plan::WritePlan(*built, out + "/plan"); !s) return Fatal(s.error().message);
  std::printf("\ncapacity plan from the tiers measured after the change (%s):\n", plan_file.c_str());
  PrintPlanPhases(*built, out + "/plan");
  // The run after the change, drawn again with the plan's cost view.
  auto page = exec::WriteHtmlReport(after_dir, out + "/plan");
  if (!page) return Fatal(page.error().message);
  std::printf("report: %s (before the change: %s/report.html)\n", page->c_str(), before_dir.c_str());
  return raised ? 0 : 1;
}

}  // namespace headroom::cli
