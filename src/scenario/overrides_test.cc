// Command-line overrides of a loaded scenario: --slo and --duration-scale.
#include <gtest/gtest.h>

#include "scenario/scenario.h"

namespace headroom::scenario {
namespace {

constexpr int64_t kSec = 1'000'000'000;

Scenario Load(const std::string& phases) {
  auto s = LoadScenarioFromString("name: t\ntarget: http://127.0.0.1:9/\n"
                                  "requests: [{ name: home, path: / }, { name: checkout, path: /c }]\n"
                                  "slos: [ \"p95 < 300ms\" ]\nabort_on_fail: { grace: 20s }\nphases:\n" + phases,
                                  "t.yaml");
  EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().message);
  return *s;
}

TEST(Overrides, SloIsAddedBesideTheFilesOwn) {
  Scenario s = Load("  - { name: b, baseline: { rate: 10/s, duration: 10s } }\n");
  ASSERT_TRUE(AddSlo(s, "error_rate < 0.5%").has_value());
  ASSERT_TRUE(AddSlo(s, "checkout.p99 < 1s").has_value());
  ASSERT_EQ(s.slos.size(), 3u);
  EXPECT_EQ(s.slos[1].text, "error_rate < 0.5%");
  EXPECT_EQ(s.slos[1].request, "");
  EXPECT_EQ(s.slos[2].text, "p99 < 1s");
  EXPECT_EQ(s.slos[2].request, "checkout");
  EXPECT_EQ(s.slos[2].objective.request, "checkout");
}

TEST(Overrides, SloErrorsNameTheFlagAndSuggest) {
  Scenario s = Load("  - { name: b, baseline: { rate: 10/s, duration: 10s } }\n");
  auto bad = AddSlo(s, "p95 <");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message.rfind("--slo 'p95 <': ", 0), 0u) << bad.error().message;
  auto unknown = AddSlo(s, "chekout.p99 < 1s");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_NE(unknown.error().message.find("'chekout', which does not exist"), std::string::npos);
  EXPECT_NE(unknown.error().message.find("checkout"), std::string::npos) << unknown.error().message;
  EXPECT_EQ(s.slos.size(), 1u);  // nothing added on error
}

TEST(Overrides, DurationScaleShortensEveryPhaseToWholeSeconds) {
  Scenario s = Load(
      "  - { name: soak, soak: { rate: 10/s, duration: 30m, window: 5m } }\n"
      "  - { name: sale, spike: { from: 10/s, to: 60/s, hold: 5s, duration: 8s } }\n"
      "  - { name: limit, stress: { from: 10/s, ceiling: 100/s, step_duration: 10s } }\n"
      "  - { name: short, baseline: { rate: 10/s, duration: 2s } }\n");
  ASSERT_TRUE(ScaleDurations(s, 0.1).has_value());
  EXPECT_EQ(s.phases[0].duration_ns, 180 * kSec);
  EXPECT_EQ(s.phases[0].window_ns, 30 * kSec);
  EXPECT_EQ(s.phases[1].hold_ns, 1 * kSec);      // 0.5 s rounds to the 1 s minimum
  EXPECT_EQ(s.phases[1].duration_ns, 2 * kSec);  // 0.8 s -> 1 s, then longer than the hold
  EXPECT_EQ(s.phases[2].step_duration_ns, 1 * kSec);
  EXPECT_EQ(s.phases[3].duration_ns, 1 * kSec);
  EXPECT_EQ(s.abort_on_fail.grace_ns, 2 * kSec);
}

TEST(Overrides, DurationScaleRefusesNonsense) {
  Scenario s = Load("  - { name: b, baseline: { rate: 10/s, duration: 10s } }\n");
  for (double f : {0.0, -1.0, 5000.0}) {
    auto r = ScaleDurations(s, f);
    ASSERT_FALSE(r.has_value()) << f;
    EXPECT_NE(r.error().message.find("--duration-scale"), std::string::npos);
  }
  EXPECT_EQ(s.phases[0].duration_ns, 10 * kSec);
}

}  // namespace
}  // namespace headroom::scenario
