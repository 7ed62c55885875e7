#include <cstdio>

#include "cli/commands.h"

namespace headroom::cli {

int PlanCommand(int argc, char** argv) {
  std::fprintf(stderr, "headroom plan: not available in this build\n");
  return 2;
}

}  // namespace headroom::cli
