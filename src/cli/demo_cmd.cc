// headroom demo: starts the embedded target on a free loopback port, measures a baseline, finds
// the breakpoint with a stress phase, gates both on SLOs, writes ./headroom-results/ and ends with
// a capacity plan built from the capacity it just measured.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <thread>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "exec/exec.h"
#include "engine/engine.h"
#include "http/http.h"
#include "plan/plan.h"
#include "report/summary.h"
#include "sys/sys.h"
#include "target/target.h"

namespace headroom::cli {
namespace {

constexpr int64_t kSec = 1'000'000'000;
constexpr const char* kPath = "/cpu/500";  // about 2,000 req/s of capacity on one target thread

std::vector<scenario::Phase> DemoPhases() {
  scenario::Phase baseline;
  baseline.name = "baseline";
  baseline.kind = scenario::PhaseKind::kBaseline;
  baseline.rate_per_sec = 300;
  baseline.duration_ns = 8 * kSec;
  baseline.connections = 200;
  scenario::Phase stress;
  stress.name = "find-capacity";
  stress.kind = scenario::PhaseKind::kStress;
  stress.from_per_sec = 250;
  stress.ceiling_per_sec = 8000;
  stress.step_duration_ns = 3 * kSec;
  stress.search = scenario::StressSearch::kExponential;
  stress.resolution = 0.1;
  stress.connections = 500;
  stress.slos = {{"p99 < 50ms", "", {}, {}}};
  return {baseline, stress};
}

}  // namespace

int DemoCommand(int argc, char** argv) {
  CLI::App app{"Start the embedded target on 127.0.0.1, measure a baseline, find its capacity with a stress "
               "phase, gate both on SLOs, write ./headroom-results/ and plan for 2x/10x/100x growth.",
               "headroom demo"};
  std::string out = "headroom-results";
  bool stack = false;
  app.add_option("-o,--out", out, "output folder (default ./headroom-results)");
  app.add_flag("--stack", stack,
               "the three-tier shop instead: starts PostgreSQL and Redis locally, stress-tests the shop with its "
               "tiers watched, explains what broke first, applies the fix and measures again (a few minutes)");
  if (auto code = ParseArgs(app, argc, argv, "demo")) return *code;
  if (stack) return DemoStack(out);
  target::Options topts;
  topts.threads = 1;
  auto server = target::Server::Start(topts);
  if (!server) {
    std::fprintf(stderr, "headroom demo: cannot start the target: %s\n", server.error().message.c_str());
    return 2;
  }
  uint16_t port = (*server)->port();
  std::string url = "http://127.0.0.1:" + std::to_string(port) + kPath;
  std::printf("headroom demo: target on http://127.0.0.1:%u (1 thread), each request to %s burns 500us of CPU\n",
              unsigned(port), kPath);
  std::printf("  1. baseline: 300 req/s for 8 s (open model)\n  2. stress: double the rate from 250/s until p99 "
              "< 50ms breaks, then bisect to 10%%\n\n");
  std::fflush(stdout);

  http::RequestSpec spec;
  spec.path_and_query = kPath;
  spec.host = "127.0.0.1:" + std::to_string(port);
  auto source = engine::MakeStaticSource(std::string("GET ") + kPath, http::EncodeRequest(spec), false);
  auto address = sys::Resolve("127.0.0.1", port);
  if (!address) {
    std::fprintf(stderr, "headroom demo: %s\n", address.error().message.c_str());
    return 2;
  }
  exec::ExecPlan plan;
  plan.target = url;
  plan.scenario = "demo";
  plan.address = *address;
  plan.source = source.get();
  plan.phases = DemoPhases();
  plan.slos = {{"p95 < 25ms", "", {}, {}}, {"error_rate < 0.5%", "", {}, {}}};
  plan.threads = 1;
  plan.timeout_ns = 5 * kSec;
  plan.out_dir = out;
  StderrProgress progress(false);
  plan.progress = &progress;
  plan.stop = &sys::StopFlag();
  sys::InstallStopSignals();
  auto results = exec::Execute(plan);
  (*server)->Stop();
  if (!results) {
    std::fprintf(stderr, "headroom demo: %s\n", results.error().message.c_str());
    return 2;
  }
  std::fputs(report::FormatSummary(*results).c_str(), stdout);
  if (results->verdict == report::Verdict::kInterrupted) return report::VerdictExitCode(results->verdict);
  std::optional<double> capacity;
  for (const report::PhaseResult& p : results->phases) {
    if (p.stress && p.stress->capacity_rps) capacity = p.stress->capacity_rps;
  }
  std::printf("\nresults: %s/results.json, report.html, summary.md, junit.xml, series.csv, results.hlog\n", out.c_str());
  if (!capacity) {
    std::printf("no capacity found (the first stress rate already broke the SLO): no plan\n");
    return 1;
  }
  std::printf("measured capacity: %.0f req/s with p99 < 50ms\n", *capacity);
  // The plan has only the tier the demo measured (the target, nothing behind it), held to the
  // run's own p95 objective.
  constexpr double kPlanP95Ms = 25;
  auto built = plan::BuildPlan(plan::DemoPlanInput(*capacity, kPlanP95Ms));
  if (!built) {
    std::fprintf(stderr, "headroom demo: plan: %s\n", built.error().message.c_str());
    return 2;
  }
  if (auto s = plan::WritePlan(*built, out + "/plan"); !s) {
    std::fprintf(stderr, "headroom demo: %s\n", s.error().message.c_str());
    return 2;
  }
  std::printf("capacity plan for the tier it measured (app at %.0f req/s per unit, p95 < %.0fms, +20%%/month):\n",
              *capacity, kPlanP95Ms);
  PrintPlanPhases(*built, out + "/plan");
  // The run wrote report.html without a plan; draw it again with the plan's cost view.
  auto page = exec::WriteHtmlReport(out, out + "/plan");
  if (!page) {
    std::fprintf(stderr, "headroom demo: %s\n", page.error().message.c_str());
    return 2;
  }
  std::printf("report: %s\n", page->c_str());
  return report::VerdictExitCode(results->verdict);
}

void PrintPlanPhases(const plan::PlanOutput& built, const std::string& dir) {
  for (const plan::PhaseResult& ph : built.phases) {
    std::printf("  %5.0fx  month %5.1f  required %8.0f req/s  %s  %.0f/month\n", ph.multiplier,
                ph.month_reached.value, ph.required_rps.value,
                ph.bottlenecks.empty() ? "no bottleneck" : ("bottleneck " + ph.bottlenecks[0].tier).c_str(),
                ph.monthly_cost.value);
  }
  std::printf("plan: %s/plan.md (plan.json, artifacts/)\n", dir.c_str());
}

}  // namespace headroom::cli
