#include <cstdio>

#include "cli/commands.h"

namespace headroom::cli {

int DemoCommand(int argc, char** argv) {
  std::fprintf(stderr, "headroom demo: not available in this build\n");
  return 2;
}

}  // namespace headroom::cli
