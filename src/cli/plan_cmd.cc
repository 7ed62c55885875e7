// headroom plan PLAN.yaml [--results results.json] --out DIR
// Builds the phased capacity roadmap and writes DIR/plan.md, DIR/plan.json and DIR/artifacts/.
// Plan-file problems are printed one per line as file:line:col: message, exit code 2.
#include <cmath>
#include <cstdio>
#include <sstream>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/args.h"
#include "cli/commands.h"
#include "plan/plan.h"

namespace headroom::cli {
namespace {

int PrintErrors(const std::string& text) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) std::fprintf(stderr, "headroom plan: %s\n", line.c_str());
  return 2;
}

}  // namespace

int PlanCommand(int argc, char** argv) {
  CLI::App app{"Build a phased 2x/10x/100x capacity roadmap with cost and artifacts",
               "headroom plan"};
  std::string plan_path, results_path, out_dir;
  bool quiet = false;
  app.add_option("plan", plan_path, "plan file (YAML, see docs/plan.md)")->required();
  app.add_option("--results", results_path,
                 "results.json of a run: tiers it watched give capacity and latency to plan tiers of the same "
                 "name; 'capacity: results' takes its stress capacity");
  app.add_option("--out", out_dir, "output directory for plan.md, plan.json and artifacts/")
      ->required();
  app.add_flag("--quiet,-q", quiet, "print nothing on success");
  if (auto code = ParseArgs(app, argc, argv, "plan")) return *code;
  auto input = plan::LoadPlanFile(plan_path, results_path);
  if (!input) return PrintErrors(input.error().message);
  auto output = plan::BuildPlan(*input);
  if (!output) return PrintErrors(output.error().message);
  if (auto written = plan::WritePlan(*output, out_dir); !written)
    return PrintErrors(written.error().message);
  if (!quiet) {
    std::string shown = out_dir;
    while (shown.size() > 1 && shown.back() == '/') shown.pop_back();  // "plan/" -> "plan/plan.md"
    std::printf("plan '%s': %zu phases written to %s/plan.md, plan.json and artifacts/\n",
                output->input.name.c_str(), output->phases.size(), shown.c_str());
    if (const auto& run = output->input.measured) {
      std::string measured;
      for (const plan::TierSpec& t : output->input.tiers)
        if (t.measured && t.measured->used)
          measured += (measured.empty() ? "" : ", ") + t.name + " " + std::to_string(std::lround(t.capacity_rps)) + "/s";
      std::printf("  measured in %s at %s: %s%s\n", run->file.c_str(), run->at.why.c_str(),
                  measured.empty() ? "no tier's capacity" : measured.c_str(),
                  run->notes.empty() ? "" : " (notes in plan.md)");
    }
    for (const plan::PhaseResult& ph : output->phases) {
      char month[32] = "never";
      if (ph.month_reached.value >= 0)
        std::snprintf(month, sizeof month, "%.1f", ph.month_reached.value);
      std::printf("  %6gx  month %-6s %10.0f req/s required %10.0f %s/month%s%s\n", ph.multiplier,
                  month, ph.required_rps.value, ph.monthly_cost.value,
                  output->input.currency.c_str(), ph.within_budget ? "" : "  OVER BUDGET",
                  ph.feasible ? "" : "  SLO NOT RESTORED");
    }
  }
  return 0;
}

}  // namespace headroom::cli
