// headroom validate FILE...: loads each scenario file and reports every problem.
#include <cstdio>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/commands.h"
#include "scenario/scenario.h"

namespace headroom::cli {

int ValidateCommand(int argc, char** argv) {
  CLI::App app{
      "Checks scenario files (docs/scenario.md) without sending any traffic: YAML syntax, keys, units, rates, "
      "phases, data files and columns, templates, response checks and SLO expressions. Every problem is printed on "
      "stderr as FILE:LINE:COL: message; each valid file prints 'FILE: ok (N phases, M requests)'. The options are "
      "those of 'headroom run FILE', so a file is checked as it will run.\n"
      "Exit codes: 0 all files are valid, 2 a file has problems or the arguments are wrong.",
      "headroom validate"};
  std::vector<std::string> files, env, slos;
  std::string target;
  double duration_scale = 1;
  app.add_option("files", files, "scenario files")->required();
  app.add_option("-e,--env", env, "NAME=VALUE: environment for ${NAME} and env(NAME) (repeatable)");
  app.add_option("--target", target, "base URL replacing the files' target");
  app.add_option("--slo", slos, "an SLO to add, checked like the file's own (repeatable)");
  app.add_option("--duration-scale", duration_scale, "scale every phase's length, as run does");
  if (auto rc = ParseArgs(app, argc, argv, "validate")) return *rc;
  if (!ApplyEnv(env, "validate")) return 2;
  int exit_code = 0;
  for (const std::string& file : files) {
    auto scenario = scenario::LoadScenario(file, {target});
    Status extra;
    for (const std::string& s : slos) {
      if (scenario && extra) extra = scenario::AddSlo(*scenario, s);
    }
    if (scenario && extra && duration_scale != 1) extra = scenario::ScaleDurations(*scenario, duration_scale);
    if (!scenario || !extra) {
      std::fprintf(stderr, "%s\n", (!scenario ? scenario.error() : extra.error()).message.c_str());
      exit_code = 2;
      continue;
    }
    std::printf("%s: ok (%zu %s, %zu %s)\n", file.c_str(), scenario->phases.size(),
                scenario->phases.size() == 1 ? "phase" : "phases", scenario->requests.size(),
                scenario->requests.size() == 1 ? "request" : "requests");
  }
  return exit_code;
}

}  // namespace headroom::cli
