#include <cstdio>

#include "cli/commands.h"

namespace headroom::cli {

int ValidateCommand(int argc, char** argv) {
  std::fprintf(stderr, "headroom validate: not available in this build\n");
  return 2;
}

}  // namespace headroom::cli
