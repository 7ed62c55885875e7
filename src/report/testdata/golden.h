// Golden-file comparison for the report tests. HEADROOM_UPDATE_GOLDEN=1 rewrites the golden file
// with the actual output (then compares, so the run passes); review the diff before committing.
#pragma once
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace headroom::report::fixture {

inline std::string TestdataPath(const std::string& file) {
  return std::string(HEADROOM_SOURCE_DIR) + "/src/report/testdata/" + file;
}

inline void ExpectGolden(const std::string& file, const std::string& actual) {
  const std::string path = TestdataPath(file);
  const char* update = std::getenv("HEADROOM_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    std::ofstream(path, std::ios::binary) << actual;
  }
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << "missing golden file " << path << " (run with HEADROOM_UPDATE_GOLDEN=1)";
  std::stringstream expected;
  expected << in.rdbuf();
  EXPECT_EQ(expected.str(), actual) << "differs from " << path;
}

}  // namespace headroom::report::fixture
