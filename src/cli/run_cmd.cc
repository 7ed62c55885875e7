#include <cstdio>

#include "cli/commands.h"

namespace headroom::cli {

int RunCommand(int argc, char** argv) {
  std::fprintf(stderr, "headroom run: not available in this build\n");
  return 2;
}

}  // namespace headroom::cli
