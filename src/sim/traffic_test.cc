// Traffic curve cases from testdata/traffic.tsv, and the event grammar.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "sim/sim.h"

namespace headroom::sim {
namespace {

TrafficShape ShapeFrom(const std::string& spec) {
  TrafficShape s;
  std::string rest = spec;
  auto ev = rest.find("events=");
  if (ev != std::string::npos) {
    std::istringstream events(rest.substr(ev + 7));
    rest = rest.substr(0, ev);
    for (std::string one; std::getline(events, one, ';');) {
      auto e = plan::ParseEvent(one, "test");
      EXPECT_TRUE(e.has_value()) << one << ": " << (e ? "" : e.error().message);
      if (e) s.events.push_back(*e);
    }
  }
  std::istringstream in(rest);
  for (std::string kv; in >> kv;) {
    auto eq = kv.find('=');
    const std::string k = kv.substr(0, eq);
    const double v = std::stod(kv.substr(eq + 1));
    if (k == "peak") s.peak_rps = v;
    if (k == "dpf") s.daily_peak_factor = v;
    if (k == "growth") s.growth_monthly = v;
  }
  return s;
}

double TimeOf(const std::string& text) {  // "2 18:00:00"
  int day = 0, h = 0, m = 0, sec = 0;
  std::sscanf(text.c_str(), "%d %d:%d:%d", &day, &h, &m, &sec);
  return (day - 1) * kDayS + h * 3600.0 + m * 60.0 + sec;
}

TEST(TrafficTest, CurveCases) {
  std::ifstream file(std::filesystem::path(HEADROOM_SOURCE_DIR) / "src/sim/testdata/traffic.tsv");
  int cases = 0, line_no = 0;
  for (std::string line; std::getline(file, line);) {
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cols;
    std::istringstream in(line);
    for (std::string c; std::getline(in, c, '\t');) cols.push_back(c);
    ASSERT_GE(cols.size(), 3u) << "line " << line_no;
    const double expected = std::stod(cols[2]);
    const double got = OfferedRate(ShapeFrom(cols[0]), TimeOf(cols[1]));
    EXPECT_NEAR(got, expected, 1e-6 * expected + 1e-6) << "traffic.tsv:" << line_no << ": " << cols[3];
    ++cases;
  }
  EXPECT_GE(cases, 15);
}

TEST(TrafficTest, EventGrammar) {
  auto e = plan::ParseEvent("flash-sale day 2 18:00 6x for 30m ramp 2m", "--event 1");
  ASSERT_TRUE(e.has_value()) << e.error().message;
  EXPECT_EQ(e->name, "flash-sale");
  EXPECT_EQ(e->day, 2);
  EXPECT_DOUBLE_EQ(e->at_s, 18 * 3600);
  EXPECT_DOUBLE_EQ(e->multiple, 6);
  EXPECT_DOUBLE_EQ(e->duration_s, 1800);
  EXPECT_DOUBLE_EQ(e->ramp_s, 120);
  EXPECT_DOUBLE_EQ(EventStartS(*e), kDayS + 18 * 3600);
  auto no_ramp = plan::ParseEvent("promo day 1 09:30 2.5x for 1h", "x");
  ASSERT_TRUE(no_ramp.has_value());
  EXPECT_DOUBLE_EQ(no_ramp->ramp_s, 0);

  const std::pair<const char*, const char*> bad[] = {
      {"sale day 0 18:00 6x for 30m", "day '0'"},
      {"sale day 2 25:00 6x for 30m", "time '25:00'"},
      {"sale day 2 18:00 6 for 30m", "must end in x"},
      {"sale day 2 18:00 6x for 0s", "duration '0s'"},
      {"sale day 2 18:00 6x for 30m ramp -2m", "ramp '-2m'"},
      {"sale day 2 18:00 6x for 30m ramp 40m", "longer than the event"},
      {"sale day 2 18:00 6x for 30m extra", "unexpected 'extra'"},
      {"sale 2 18:00 6x", "expected NAME day D HH:MM"},
  };
  for (const auto& [text, message] : bad) {
    auto r = plan::ParseEvent(text, "x");
    ASSERT_FALSE(r.has_value()) << text;
    EXPECT_NE(r.error().message.find(message), std::string::npos) << text << " -> " << r.error().message;
    EXPECT_EQ(r.error().message.find('\n'), std::string::npos);
  }
}

}  // namespace
}  // namespace headroom::sim
