// headroom validate FILE...: loads each scenario file and reports every problem.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "scenario/scenario.h"

namespace headroom::cli {
namespace {

constexpr const char* kValidateUsage = R"(Usage: headroom validate FILE...

Checks scenario files (docs/scenario.md) without sending any traffic: YAML syntax, keys, units,
rates, phases, data files and columns, templates and SLO expressions. Every problem is printed
on stderr as FILE:LINE:COL: message.

Prints 'FILE: ok (N phases, M requests)' for each valid file.
Exit codes: 0 all files are valid, 2 a file has problems or the arguments are wrong.
)";

}  // namespace

int ValidateCommand(int argc, char** argv) {
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::fputs(kValidateUsage, stdout);
      return 0;
    }
    if (argv[i][0] == '-' && argv[i][1] != '\0') {
      std::fprintf(stderr, "headroom validate: unknown option '%s' (run 'headroom validate --help')\n", argv[i]);
      return 2;
    }
    files.emplace_back(argv[i]);
  }
  if (files.empty()) {
    std::fprintf(stderr, "headroom validate: no scenario file given (usage: headroom validate FILE...)\n");
    return 2;
  }
  int exit_code = 0;
  for (const std::string& file : files) {
    auto scenario = scenario::LoadScenario(file);
    if (!scenario) {
      std::fprintf(stderr, "%s\n", scenario.error().message.c_str());
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
