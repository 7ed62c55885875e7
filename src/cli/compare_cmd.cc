// headroom compare BEFORE.json AFTER.json [--markdown | --json] [--fail-on-regression PCT]: two runs
// side by side (docs/explain.md).
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/units.h"
#include "explain/explain.h"

namespace headroom::cli {
namespace {

int Refuse(const std::string& message) {
  std::fprintf(stderr, "headroom compare: %s\n", message.c_str());
  return 2;
}

}  // namespace

int CompareCommand(int argc, char** argv) {
  CLI::App app{"Two runs' results.json side by side: capacity, latency at the same rates, errors, watched tiers "
               "and SLO verdicts, with the change in percent (docs/explain.md)",
               "headroom compare"};
  std::string before_path, after_path, tolerance_text;
  bool markdown = false, as_json = false;
  app.add_option("before", before_path, "results.json of the run before the change")->required();
  app.add_option("after", after_path, "results.json of the run after it")->required();
  app.add_flag("--markdown", markdown, "print Markdown (for a CI job summary or a review)");
  app.add_flag("--json", as_json, "print JSON (schema headroom.compare/1)");
  app.add_option("--fail-on-regression", tolerance_text,
                 "exit 1 when a figure got worse by more than this (e.g. 10%) or an SLO went from pass to fail");
  if (auto rc = ParseArgs(app, argc, argv, "compare")) return *rc;
  if (markdown && as_json) return Refuse("give at most one of --markdown and --json");
  std::optional<double> tolerance;
  if (!tolerance_text.empty()) {
    auto t = ParsePercent(tolerance_text);
    if (!t) return Refuse("--fail-on-regression: " + t.error().message);
    tolerance = *t;
  }
  nlohmann::json docs[2];
  const std::string* paths[2] = {&before_path, &after_path};
  for (int i = 0; i < 2; ++i) {
    std::ifstream in(*paths[i], std::ios::binary);
    if (!in) return Refuse("cannot read " + *paths[i]);
    std::stringstream text;
    text << in.rdbuf();
    docs[i] = nlohmann::json::parse(text.str(), nullptr, false);
    if (docs[i].is_discarded()) return Refuse(*paths[i] + " is not JSON");
  }
  auto c = explain::Compare(docs[0], docs[1], before_path, after_path);
  if (!c) return Refuse(c.error().message);
  const std::string out = as_json ? explain::CompareJson(*c).dump(2) + "\n"
                          : markdown ? explain::CompareMarkdown(*c)
                                     : explain::CompareText(*c);
  std::fwrite(out.data(), 1, out.size(), stdout);
  if (!tolerance) return 0;
  int regressions = 0;
  for (const explain::Delta& d : c->deltas) regressions += d.regressed(*tolerance);
  for (const explain::SloChange& s : c->slos) regressions += s.before.value_or(false) && !s.after.value_or(true);
  if (regressions > 0) {
    std::fprintf(stderr, "headroom compare: %d regression(s) beyond %s\n", regressions, tolerance_text.c_str());
    return 1;
  }
  return 0;
}

}  // namespace headroom::cli
