#include <cstdio>

#include "cli/commands.h"

namespace headroom::cli {

int ModelCommand(int argc, char** argv) {
  std::fprintf(stderr, "headroom model: not available in this build\n");
  return 2;
}

}  // namespace headroom::cli
