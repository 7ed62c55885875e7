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

namespace headroom {
namespace {

constexpr int64_t kNow = 1'777'636'800'000'000;  // 2026-05-01T12:00:00Z

TEST(StartAt, AcceptsUtcOffsetsUnixSecondsAndRelative) {
  EXPECT_EQ(*ParseStartAtUs("2026-05-01T12:00:30Z", kNow), kNow + 30'000'000);
  EXPECT_EQ(*ParseStartAtUs("2026-05-01T12:00:30.250Z", kNow), kNow + 30'250'000);
  EXPECT_EQ(*ParseStartAtUs("2026-05-01T14:00:30+02:00", kNow), kNow + 30'000'000);
  EXPECT_EQ(*ParseStartAtUs("1777636830", kNow), kNow + 30'000'000);
  EXPECT_EQ(*ParseStartAtUs("+10s", kNow), kNow + 10'000'000);
  EXPECT_EQ(*ParseStartAtUs("2026-05-01T11:59:59Z", kNow), kNow - 1'000'000);  // within the tolerance
  EXPECT_EQ(FormatUtc(kNow + 30'250'000), "2026-05-01T12:00:30.250Z");
  EXPECT_EQ(FormatUtc(0), "1970-01-01T00:00:00.000Z");
}

TEST(StartAt, RefusesGarbageThePastAndFarFuture) {
  for (const char* bad : {"", "garbage", "+", "+10", "12:00", "2026-13-01T00:00:00Z", "2026-05-01T12:00:00",
                          "2026-05-01T12:00:00Zx", "-5", "1e9"}) {
    auto r = ParseStartAtUs(bad, kNow);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().message.rfind("--start-at '", 0), 0u) << r.error().message;
    EXPECT_EQ(r.error().message.find('\n'), std::string::npos);
  }
  auto past = ParseStartAtUs("2026-05-01T11:59:00Z", kNow);
  ASSERT_FALSE(past.has_value());
  EXPECT_NE(past.error().message.find("passed 60.0 s ago"), std::string::npos) << past.error().message;
  auto far = ParseStartAtUs("1777636800000", kNow);  // milliseconds by mistake
  ASSERT_FALSE(far.has_value());
  EXPECT_NE(far.error().message.find("more than a day ahead"), std::string::npos);
}

}  // namespace
}  // namespace headroom
