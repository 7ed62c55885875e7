#include <cstdio>

#include "cli/commands.h"

namespace headroom::cli {

int TargetCommand(int argc, char** argv) {
  std::fprintf(stderr, "headroom target: not available in this build\n");
  return 2;
}

}  // namespace headroom::cli
