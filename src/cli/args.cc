#include "cli/args.h"

#include <cstdio>

namespace headroom::cli {

std::optional<int> ParseArgs(CLI::App& app, int argc, char** argv, const char* command) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {  // --help
      std::fputs(app.help().c_str(), stdout);
      return 0;
    }
    std::fprintf(stderr, "headroom %s: %s (see 'headroom %s --help')\n", command, e.what(), command);
    return 2;
  }
  return std::nullopt;
}

}  // namespace headroom::cli
