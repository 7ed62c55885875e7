// Private to src/plan tests: reading files and running the built binary.
#pragma once
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include <sys/wait.h>

#include <gtest/gtest.h>

#include "plan/plan.h"

namespace headroom::plan::test_util {

inline const std::string kSourceDir = HEADROOM_SOURCE_DIR;

inline std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs `command` through the shell from the source directory.
inline CommandResult RunShell(const std::string& command) {
  CommandResult r;
  std::string full = "cd '" + kSourceDir + "' && " + command + " 2>&1";
  FILE* pipe = popen(full.c_str(), "r");
  if (!pipe) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) r.output.append(buf, n);
  int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// examples/plans/<name>.yaml, parsed (a failure is reported and gives an empty input).
inline PlanInput Example(const std::string& name) {
  auto r = LoadPlanFile(kSourceDir + "/examples/plans/" + name + ".yaml", "");
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  return r.value_or(PlanInput{});
}

inline const LoadRow* Row(const std::vector<LoadRow>& rows, const std::string& tier,
                          const std::string& role = "") {
  for (const LoadRow& r : rows)
    if (r.tier == tier && r.role == role) return &r;
  return nullptr;
}

inline bool InForce(const PhaseResult& ph, const std::string& id) {
  return std::find(ph.remedies.begin(), ph.remedies.end(), id) != ph.remedies.end();
}

}  // namespace headroom::plan::test_util
