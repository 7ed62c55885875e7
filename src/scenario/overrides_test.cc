// Command-line overrides of a loaded scenario: --slo and --duration-scale.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

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

TEST(Shard, ParseAcceptsIndexBelowCount) {
  auto s = ParseShard("2/3");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->index, 2);
  EXPECT_EQ(s->count, 3);
  for (const char* bad : {"3/2", "0/0", "1/1", "-1/2", "1", "a/b", "1/2x", "", "/", "0/100000"}) {
    auto r = ParseShard(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().message.rfind("--shard '", 0), 0u) << r.error().message;
    EXPECT_EQ(r.error().message.find('\n'), std::string::npos);
  }
}

TEST(Shard, RatesAreDividedConnectionsAndRowsSplit) {
  Scenario whole = Load("  - { name: b, baseline: { rate: 300/s, duration: 10s } }\n"
                        "  - { name: r, ramp: { from: 30/s, to: 90/s, duration: 10s }, connections: 10 }\n"
                        "  - { name: s, stress: { from: 100/s, ceiling: 1000/s, step_duration: 5s } }\n"
                        "  - { name: c, closed: { connections: 7, duration: 10s } }\n");
  std::vector<Scenario> shards;
  int closed = 0;
  for (int i = 0; i < 3; ++i) {
    Scenario s = whole;
    ASSERT_TRUE(ShardScenario(s, {i, 3}).has_value());
    EXPECT_DOUBLE_EQ(s.phases[0].rate_per_sec, 100);
    EXPECT_DOUBLE_EQ(s.phases[1].from_per_sec, 10);
    EXPECT_DOUBLE_EQ(s.phases[1].to_per_sec, 30);
    EXPECT_EQ(s.phases[1].connections, 4);  // a cap: rounded up
    EXPECT_DOUBLE_EQ(s.phases[2].from_per_sec * 3, whole.phases[2].from_per_sec);
    EXPECT_DOUBLE_EQ(s.phases[2].ceiling_per_sec * 3, whole.phases[2].ceiling_per_sec);
    closed += s.phases[3].connections;
    EXPECT_EQ(s.phases[3].connections, i == 0 ? 3 : 2);
  }
  EXPECT_EQ(closed, 7);  // every user runs on exactly one shard
  Scenario seven = whole;
  ASSERT_TRUE(ShardScenario(seven, {6, 7}).has_value());
  EXPECT_EQ(seven.phases[3].connections, 1);
  Scenario too_many = whole;
  auto r = ShardScenario(too_many, {0, 8});  // refused on shard 0 too, though it would get one
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("phase c: 7 connections cannot be split over 8 shards"), std::string::npos)
      << r.error().message;
}

TEST(Shard, DataRowsArePartitionedInFileOrder) {
  const std::string dir = ::testing::TempDir() + "/shard_rows";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/users.csv") << "name\na\nb\nc\nd\ne\n";
  const std::string text = "name: t\ntarget: http://127.0.0.1:9/\n"
                           "data: { users: { file: users.csv } }\n"
                           "requests: [{ name: u, path: '/u/{{ users.name }}' }]\n"
                           "phases: [{ name: b, baseline: { rate: 10/s, duration: 1s } }]\n";
  auto whole = LoadScenarioFromString(text, "t.yaml", dir);
  ASSERT_TRUE(whole.has_value()) << whole.error().message;
  std::vector<std::string> seen;
  for (int i = 0; i < 2; ++i) {
    Scenario s = *whole;
    ASSERT_TRUE(ShardScenario(s, {i, 2}).has_value());
    for (size_t row = 0; row < s.data[0].table->rows(); ++row) seen.emplace_back(s.data[0].table->Cell(row, 0));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "c", "e", "b", "d"}));  // rows i with i mod 2 == shard
  EXPECT_EQ(whole->data[0].table->rows(), 5u);                            // the loaded table is shared, not changed
  Scenario s = *whole;
  auto r = ShardScenario(s, {0, 6});
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("t.yaml:3:"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("data users: 5 rows cannot be split over 6 shards"), std::string::npos);
}

TEST(Shard, FingerprintTellsScenariosApart) {
  Scenario a = Load("  - { name: b, baseline: { rate: 300/s, duration: 10s } }\n");
  Scenario b = Load("  - { name: b, baseline: { rate: 300/s, duration: 10s } }\n");
  EXPECT_EQ(ScenarioFingerprint(a), ScenarioFingerprint(b));
  EXPECT_EQ(ScenarioFingerprint(a).size(), 16u);
  ASSERT_TRUE(AddSlo(b, "p99 < 1s").has_value());
  EXPECT_NE(ScenarioFingerprint(a), ScenarioFingerprint(b));
  Scenario c = Load("  - { name: b, baseline: { rate: 301/s, duration: 10s } }\n");
  EXPECT_NE(ScenarioFingerprint(a), ScenarioFingerprint(c));
}

}  // namespace
}  // namespace headroom::scenario
