// headroom: measure, gate, explain, model and plan. Dispatches to subcommands; the top-level
// catch turns anything unexpected into one line on stderr and exit code 2.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>
#include <exception>
#include <string_view>

#include "cli/commands.h"
#include "core/diag.h"
#include "core/version.h"

namespace {

constexpr const char* kUsage = R"(headroom - measure, gate, explain, model and plan service capacity

Usage: headroom <command> [options]

Commands:
  run URL|SCENARIO   load-test a URL (open model with --rate, closed otherwise) or run a scenario file
  validate SCENARIO  check a scenario file and print every error with file:line:col
  target             serve the embedded test service on 127.0.0.1 (with fault injection)
  demo               start the target, measure it, gate it, find its capacity and plan for growth
  model usl|queue    fit the Universal Scalability Law, or compute M/M/c queueing figures
  plan PLAN          build a phased 2x/10x/100x capacity roadmap with cost and artifacts
  import KIND INPUT  write a scenario from curl command lines, a HAR file or an access log
  explain RESULTS    rank a run's bottlenecks from its watched tiers, with evidence and changes
  compare A B        two runs side by side: capacity, latency, errors, tiers, SLOs, change in %
  simulate PLAN      simulate a plan phase second by second: traffic x autoscalers x tiers
  report DIR         write DIR/report.html: the run's dashboard, from load graph to cost view
  merge DIR...       merge the shards of a distributed test (run --shard I/N) and judge its SLOs once
  k8s SCENARIO       write Kubernetes manifests that run a scenario on N generator pods and merge them

Run 'headroom <command> --help' for a command's options.
Exit codes: 0 success, 1 an SLO or gate failed, 2 usage or configuration error,
3 run interrupted by SIGINT/SIGTERM (never a pass).
)";

struct Entry {
  std::string_view name;
  int (*fn)(int, char**);
};

constexpr Entry kCommands[] = {
    {"run", headroom::cli::RunCommand},       {"validate", headroom::cli::ValidateCommand},
    {"target", headroom::cli::TargetCommand}, {"demo", headroom::cli::DemoCommand},
    {"model", headroom::cli::ModelCommand},   {"plan", headroom::cli::PlanCommand},
    {"import", headroom::cli::ImportCommand}, {"explain", headroom::cli::ExplainCommand},
    {"simulate", headroom::cli::SimulateCommand}, {"compare", headroom::cli::CompareCommand},
    {"report", headroom::cli::ReportCommand}, {"merge", headroom::cli::MergeCommand},
    {"k8s", headroom::cli::K8sCommand},
};

int Dispatch(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0 ||
      std::strcmp(argv[1], "help") == 0) {
    std::fputs(kUsage, stdout);
    return argc < 2 ? 2 : 0;
  }
  if (std::strcmp(argv[1], "--version") == 0 || std::strcmp(argv[1], "version") == 0) {
    std::printf("headroom %s\n", HEADROOM_VERSION);
    return 0;
  }
  for (const Entry& e : kCommands) {
    if (e.name == argv[1]) return e.fn(argc - 1, argv + 1);
  }
  std::vector<std::string> names;
  for (const Entry& e : kCommands) names.emplace_back(e.name);
  std::fprintf(stderr, "headroom: unknown command '%s'%s (run 'headroom --help')\n", argv[1],
               headroom::DidYouMean(argv[1], names).c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Dispatch(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "headroom: %s\n", e.what());
    return 2;
  } catch (...) {
    std::fprintf(stderr, "headroom: unexpected error\n");
    return 2;
  }
}
