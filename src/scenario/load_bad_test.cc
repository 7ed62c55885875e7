// Data-driven: every testdata/bad/NAME.yaml must fail to load with exactly the text of
// testdata/bad/NAME.err. Set HEADROOM_UPDATE_GOLDEN=1 to rewrite the .err files (then review).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "scenario/scenario.h"

namespace headroom::scenario {
namespace {

namespace fs = std::filesystem;

const fs::path kBadDir = fs::path(HEADROOM_SOURCE_DIR) / "src/scenario/testdata/bad";

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> BadCases() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(kBadDir)) {
    if (e.path().extension() == ".yaml") names.push_back(e.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class BadScenario : public ::testing::TestWithParam<std::string> {};

TEST_P(BadScenario, FailsWithExpectedErrors) {
  const std::string name = GetParam();
  const fs::path yaml = kBadDir / (name + ".yaml");
  const fs::path err = kBadDir / (name + ".err");
  // Display name without directories keeps the expected text independent of the checkout path.
  auto loaded = LoadScenarioFromString(ReadFile(yaml), name + ".yaml", kBadDir.string());
  ASSERT_FALSE(loaded.has_value()) << name << " loaded without errors";
  const std::string& actual = loaded.error().message;
  if (std::getenv("HEADROOM_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(err, std::ios::binary) << actual << "\n";
  }
  ASSERT_TRUE(fs::exists(err)) << "missing " << err.filename();
  std::string expected = ReadFile(err);
  while (!expected.empty() && expected.back() == '\n') expected.pop_back();
  EXPECT_EQ(actual, expected);
}

INSTANTIATE_TEST_SUITE_P(Corpus, BadScenario, ::testing::ValuesIn(BadCases()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

TEST(BadScenarioCorpus, IsLargeAndEveryCaseHasExpectedText) {
  const auto cases = BadCases();
  EXPECT_GE(cases.size(), 15u);
  for (const auto& e : fs::directory_iterator(kBadDir)) {
    if (e.path().extension() == ".err") {
      EXPECT_TRUE(fs::exists(kBadDir / (e.path().stem().string() + ".yaml"))) << e.path().filename();
    }
  }
}

TEST(LoadScenario, MissingFileIsOneLine) {
  auto loaded = LoadScenario("/nonexistent-dir/scenario.yaml");
  ASSERT_FALSE(loaded.has_value());
  EXPECT_EQ(loaded.error().message, "/nonexistent-dir/scenario.yaml: cannot read the file: No such file or directory");
}

}  // namespace
}  // namespace headroom::scenario
