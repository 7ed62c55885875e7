// The request mix (alias method) and the PRNG behind every random choice.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "scenario/diag.h"
#include "scenario/scenario.h"

namespace headroom::scenario {
namespace {

TEST(WeightedPicker, ProducesTheDocumentedMix) {
  const std::vector<double> weights = {70, 25, 5, 0};
  auto picker = WeightedPicker::Build(weights);
  ASSERT_TRUE(picker.has_value());
  Rng rng(2024);
  std::vector<int> counts(4);
  const int n = 200000;
  for (int i = 0; i < n; ++i) counts[picker->Pick(rng)]++;
  EXPECT_NEAR(counts[0] / double(n), 0.70, 0.01);
  EXPECT_NEAR(counts[1] / double(n), 0.25, 0.01);
  EXPECT_NEAR(counts[2] / double(n), 0.05, 0.005);
  EXPECT_EQ(counts[3], 0);  // weight 0 is never picked
}

TEST(WeightedPicker, ManyUnevenWeights) {
  std::vector<double> weights;
  double sum = 0;
  for (int i = 0; i < 20; ++i) {
    weights.push_back(i % 3 == 0 ? 0.0 : double(i * i) + 0.5);
    sum += weights.back();
  }
  auto picker = WeightedPicker::Build(weights);
  ASSERT_TRUE(picker.has_value());
  Rng rng(7);
  std::vector<int> counts(weights.size());
  const int n = 400000;
  for (int i = 0; i < n; ++i) counts[picker->Pick(rng)]++;
  for (size_t i = 0; i < weights.size(); ++i) {
    const double expected = weights[i] / sum;
    // 6 standard deviations of a binomial proportion: never fails with a fixed seed by chance.
    const double sd = std::sqrt(expected * (1 - expected) / n);
    EXPECT_NEAR(counts[i] / double(n), expected, 6 * sd + 1e-9) << "item " << i;
  }
}

TEST(WeightedPicker, RejectsBadWeights) {
  EXPECT_FALSE(WeightedPicker::Build(std::vector<double>{0, 0}).has_value());
  EXPECT_FALSE(WeightedPicker::Build(std::vector<double>{1, -1}).has_value());
  EXPECT_FALSE(WeightedPicker::Build(std::vector<double>{}).has_value());
  EXPECT_FALSE(WeightedPicker::Build(std::vector<double>{1, NAN}).has_value());
}

TEST(WeightedPicker, FromScenario) {
  auto s = LoadScenarioFromString(
      "name: t\ntarget: http://h\nrequests:\n  - { name: a, weight: 3, path: / }\n  - { name: b, path: /b }\n"
      "phases: [ { baseline: { rate: 1/s, duration: 1s } } ]\n",
      "t.yaml");
  ASSERT_TRUE(s.has_value()) << s.error().message;
  auto picker = MakeRequestPicker(*s);
  ASSERT_TRUE(picker.has_value());
  Rng rng(1);
  int a = 0;
  const int n = 100000;
  for (int i = 0; i < n; ++i) a += picker->Pick(rng) == 0;
  EXPECT_NEAR(a / double(n), 0.75, 0.01);
}

TEST(Rng, DeterministicPerSeedAndStream) {
  Rng a(42, 0), b(42, 0), c(42, 1), d(43, 0);
  int same_c = 0, same_d = 0;
  for (int i = 0; i < 1000; ++i) {
    uint64_t x = a.Next();
    EXPECT_EQ(x, b.Next());
    same_c += x == c.Next();
    same_d += x == d.Next();
  }
  EXPECT_EQ(same_c, 0);
  EXPECT_EQ(same_d, 0);
}

TEST(Rng, BelowStaysInRange) {
  Rng rng(9);
  for (uint64_t n : {1ULL, 2ULL, 3ULL, 10ULL, 1000ULL, (1ULL << 63) + 5}) {
    for (int i = 0; i < 1000; ++i) EXPECT_LT(rng.Below(n), n);
  }
  for (int i = 0; i < 1000; ++i) {
    double d = rng.NextDouble();
    EXPECT_GE(d, 0.0);
    EXPECT_LT(d, 1.0);
  }
}

}  // namespace
}  // namespace headroom::scenario
