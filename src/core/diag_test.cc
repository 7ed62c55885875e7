#include "core/diag.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace headroom {
namespace {

std::vector<std::vector<std::string>> LoadCases() {
  std::vector<std::vector<std::string>> cases;
  std::ifstream in(std::string(HEADROOM_SOURCE_DIR) + "/src/core/testdata/did_you_mean_cases.tsv");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cols;
    std::stringstream row(line);
    for (std::string col; std::getline(row, col, '\t');) cols.push_back(col == "<empty>" ? "" : col);
    cols.resize(4);
    cases.push_back(cols);
  }
  return cases;
}

std::vector<std::string> SplitCommas(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream s(text);
  for (std::string item; std::getline(s, item, ',');) out.push_back(item);
  return out;
}

TEST(DidYouMeanTest, Cases) {
  const auto cases = LoadCases();
  ASSERT_GT(cases.size(), 10u);
  for (const auto& c : cases) {
    SCOPED_TRACE(c[0] + " " + c[1] + " " + c[2]);
    if (c[0] == "distance") {
      EXPECT_EQ(EditDistance(c[1], c[2]), std::stoul(c[3]));
      EXPECT_EQ(EditDistance(c[2], c[1]), std::stoul(c[3]));  // symmetric
      continue;
    }
    ASSERT_EQ(c[0], "hint");
    const std::vector<std::string> candidates = SplitCommas(c[2]);
    const std::string match = c[3] == "<none>" ? "" : c[3];
    EXPECT_EQ(ClosestMatch(c[1], candidates), match);
    EXPECT_EQ(DidYouMean(c[1], candidates), match.empty() ? "" : "; did you mean '" + match + "'?");
  }
}

TEST(DidYouMeanTest, ListAndVectorCandidatesAgree) {
  EXPECT_EQ(DidYouMean("wieght", {"name", "weight", "path"}),
            DidYouMean("wieght", std::vector<std::string>{"name", "weight", "path"}));
  EXPECT_EQ(ClosestMatch("Paht", {"name", "weight", "path"}), "path");
}

}  // namespace
}  // namespace headroom
