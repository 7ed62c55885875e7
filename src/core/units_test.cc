#include "core/units.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace headroom {
namespace {

struct UnitsCase {
  std::string function, input, outcome, expected;
};

std::vector<UnitsCase> LoadCases() {
  std::vector<UnitsCase> cases;
  std::ifstream in(std::string(HEADROOM_SOURCE_DIR) + "/src/core/testdata/units_cases.tsv");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cols;
    std::stringstream row(line);
    for (std::string col; std::getline(row, col, '\t');) cols.push_back(col);
    cols.resize(4);
    if (cols[1] == "<empty>") cols[1].clear();
    cases.push_back({cols[0], cols[1], cols[2], cols[3]});
  }
  return cases;
}

// Runs one parser or formatter; returns the value as text ("ok") or the error message ("error").
std::pair<std::string, std::string> RunCase(const UnitsCase& c) {
  auto outcome = [](const auto& r, auto to_text) -> std::pair<std::string, std::string> {
    if (!r) return {"error", r.error().message};
    return {"ok", to_text(*r)};
  };
  auto number = [](double v) {
    std::ostringstream out;
    out << v;
    return out.str();
  };
  auto integer = [](int64_t v) { return std::to_string(v); };
  if (c.function == "duration") return outcome(ParseDurationNs(c.input), integer);
  if (c.function == "rate") return outcome(ParseRatePerSec(c.input), number);
  if (c.function == "percent") return outcome(ParsePercent(c.input), number);
  if (c.function == "size") return outcome(ParseSizeBytes(c.input), integer);
  const double value = std::strtod(c.input.c_str(), nullptr);
  if (c.function == "format_duration_us") return {"ok", FormatDurationUs(value)};
  if (c.function == "format_bytes") return {"ok", FormatBytes(value)};
  if (c.function == "format_count") return {"ok", FormatCount(value)};
  return {"unknown function", c.function};
}

TEST(UnitsTest, TableOfInputsAndResults) {
  const std::vector<UnitsCase> cases = LoadCases();
  ASSERT_GT(cases.size(), 50u);
  for (const UnitsCase& c : cases) {
    SCOPED_TRACE(c.function + "(\"" + c.input + "\")");
    const auto [outcome, text] = RunCase(c);
    EXPECT_EQ(outcome, c.outcome) << text;
    EXPECT_EQ(text, c.expected);
    EXPECT_EQ(text.find('\n'), std::string::npos);
  }
}

TEST(UnitsTest, ErrorsForMisplacedSpaceCarryTheCompactSpelling) {
  for (std::string_view text : {"300 ms", "300  ms", "1.5 s"}) {
    auto r = ParseDurationNs(text);
    ASSERT_FALSE(r.has_value()) << text;
    EXPECT_NE(r.error().message.find("without a space"), std::string::npos) << r.error().message;
  }
}

TEST(UnitsTest, DurationRoundTripsThroughFormatting) {
  auto ns = ParseDurationNs("312.4ms");
  ASSERT_TRUE(ns.has_value());
  EXPECT_EQ(FormatDurationUs(static_cast<double>(*ns) / 1000), "312.40ms");
}

}  // namespace
}  // namespace headroom
