// headroom explain RESULTS.json [--markdown | --json] [--out FILE]: ranks the bottlenecks of a run
// from its watched tiers (docs/explain.md).
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/args.h"
#include "cli/commands.h"
#include "explain/explain.h"

namespace headroom::cli {

int ExplainCommand(int argc, char** argv) {
  CLI::App app{"Rank the bottlenecks of a run from its watched tiers (docs/explain.md)", "headroom explain"};
  std::string path;
  bool markdown = false, as_json = false;
  app.add_option("results", path, "a results.json written by headroom run --out")->required();
  app.add_flag("--markdown", markdown, "print Markdown (for a CI job summary) instead of text");
  app.add_flag("--json", as_json, "print JSON (schema headroom.explain/1)");
  if (auto rc = ParseArgs(app, argc, argv, "explain")) return *rc;
  if (markdown && as_json) {
    std::fprintf(stderr, "headroom explain: give at most one of --markdown and --json\n");
    return 2;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "headroom explain: cannot read %s\n", path.c_str());
    return 2;
  }
  std::stringstream text;
  text << in.rdbuf();
  const nlohmann::json doc = nlohmann::json::parse(text.str(), nullptr, false);
  if (doc.is_discarded()) {
    std::fprintf(stderr, "headroom explain: %s is not JSON\n", path.c_str());
    return 2;
  }
  auto e = explain::Explain(doc);
  if (!e) {
    std::fprintf(stderr, "headroom explain: %s: %s\n", path.c_str(), e.error().message.c_str());
    return 2;
  }
  const std::string out = as_json ? explain::ToJson(*e).dump(2) + "\n" : markdown ? explain::Markdown(*e) : explain::Text(*e);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace headroom::cli
