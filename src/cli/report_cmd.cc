// headroom report DIR [--plan PLANDIR]: writes DIR/report.html, the HTML dashboard of a run's
// output folder (docs/report.md).
#include <cstdio>
#include <string>

#include "cli/args.h"
#include "cli/commands.h"
#include "exec/exec.h"

namespace headroom::cli {

int ReportCommand(int argc, char** argv) {
  CLI::App app{"Write DIR/report.html: one self-contained HTML page from the load graph to the cost view "
               "(docs/report.md)",
               "headroom report"};
  std::string dir, plan_dir;
  app.add_option("dir", dir, "a run's output folder (headroom run --out DIR), holding results.json")->required();
  app.add_option("--plan", plan_dir, "a plan's output folder (headroom plan PLAN.yaml --out PLANDIR), for the cost view");
  if (auto rc = ParseArgs(app, argc, argv, "report")) return *rc;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  while (plan_dir.size() > 1 && plan_dir.back() == '/') plan_dir.pop_back();
  auto page = exec::WriteHtmlReport(dir, plan_dir);
  if (!page) {
    std::fprintf(stderr, "headroom report: %s\n", page.error().message.c_str());
    return 2;
  }
  std::printf("%s\n", page->c_str());
  return 0;
}

}  // namespace headroom::cli
