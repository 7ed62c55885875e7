#include "core/histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace headroom {
namespace {

// Percentiles as tenths of a percent so the exact rank is computed in integers: ceil(p * n / 100).
constexpr int kPercentileTenths[] = {1, 10, 100, 250, 500, 750, 900, 950, 990, 999};

int64_t ExactPercentile(const std::vector<int64_t>& sorted, int tenths) {
  const int64_t n = static_cast<int64_t>(sorted.size());
  const int64_t rank = std::max<int64_t>(1, (tenths * n + 999) / 1000);
  return sorted[static_cast<size_t>(rank - 1)];
}

void ExpectPercentilesClose(const std::vector<int64_t>& values, const Histogram& h) {
  std::vector<int64_t> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  ASSERT_EQ(h.Count(), static_cast<int64_t>(values.size()));
  for (int tenths : kPercentileTenths) {
    const int64_t exact = ExactPercentile(sorted, tenths);
    const int64_t got = h.ValueAtPercentile(tenths / 10.0);
    // HDR reports the highest value of the bucket, so it never under-reports and stays within 0.1%.
    EXPECT_GE(got, exact) << "p" << tenths / 10.0;
    EXPECT_LE(static_cast<double>(got - exact), 0.001 * static_cast<double>(exact)) << "p" << tenths / 10.0;
  }
  EXPECT_EQ(h.ValueAtPercentile(100), h.Max());
  EXPECT_LE(static_cast<double>(h.Max() - sorted.back()), 0.001 * static_cast<double>(sorted.back()));
  EXPECT_GE(h.Max(), sorted.back());
  EXPECT_LE(h.Min(), sorted.front());
  EXPECT_GE(static_cast<double>(h.Min()), 0.999 * static_cast<double>(sorted.front()));
}

struct Distribution {
  const char* name;
  std::vector<int64_t> (*make)(std::mt19937_64&);
};

std::vector<int64_t> Uniform(std::mt19937_64& rng) {
  std::uniform_int_distribution<int64_t> d(1000, 50'000);
  std::vector<int64_t> v(200'000);
  for (auto& x : v) x = d(rng);
  return v;
}
std::vector<int64_t> Exponential(std::mt19937_64& rng) {
  std::exponential_distribution<double> d(1.0 / 5000);
  std::vector<int64_t> v(200'000);
  for (auto& x : v) x = 1 + static_cast<int64_t>(d(rng));
  return v;
}
std::vector<int64_t> Bimodal(std::mt19937_64& rng) {
  std::normal_distribution<double> fast(2000, 200), slow(250'000, 20'000);
  std::bernoulli_distribution pick_slow(0.05);
  std::vector<int64_t> v(200'000);
  for (auto& x : v) x = std::max<int64_t>(1, static_cast<int64_t>(pick_slow(rng) ? slow(rng) : fast(rng)));
  return v;
}
std::vector<int64_t> WideRange(std::mt19937_64& rng) {  // log-uniform over 1 .. 1e6
  std::uniform_real_distribution<double> d(0, 6);
  std::vector<int64_t> v(200'000);
  for (auto& x : v) x = static_cast<int64_t>(std::pow(10.0, d(rng)));
  return v;
}
std::vector<int64_t> NearOneHour(std::mt19937_64& rng) {
  std::uniform_int_distribution<int64_t> d(3'500'000'000LL, 3'600'000'000LL);
  std::vector<int64_t> v(50'000);
  for (auto& x : v) x = d(rng);
  return v;
}

class HistogramDistributionTest : public testing::TestWithParam<Distribution> {};

TEST_P(HistogramDistributionTest, PercentilesWithinOneTenthPercentOfExact) {
  std::mt19937_64 rng(42);
  const std::vector<int64_t> values = GetParam().make(rng);
  Histogram h;
  for (int64_t v : values) h.Record(v);
  EXPECT_EQ(h.Clamped(), 0);
  ExpectPercentilesClose(values, h);
  double sum = 0;
  for (int64_t v : values) sum += static_cast<double>(v);
  const double exact_mean = sum / static_cast<double>(values.size());
  EXPECT_NEAR(h.Mean(), exact_mean, 0.001 * exact_mean);
}

TEST_P(HistogramDistributionTest, MergedWorkerHistogramsEqualOneHistogram) {
  std::mt19937_64 rng(7);
  const std::vector<int64_t> values = GetParam().make(rng);
  Histogram all;
  std::vector<Histogram> workers(4);
  for (size_t i = 0; i < values.size(); ++i) {
    all.Record(values[i]);
    workers[i % workers.size()].Record(values[i]);
  }
  Histogram merged;
  for (const Histogram& w : workers) merged.Add(w);
  std::vector<std::pair<int64_t, int64_t>> a, b;
  all.ForEachBucket([&](int64_t v, int64_t c) { a.emplace_back(v, c); });
  merged.ForEachBucket([&](int64_t v, int64_t c) { b.emplace_back(v, c); });
  EXPECT_EQ(a, b);
  EXPECT_EQ(all.Count(), merged.Count());
  EXPECT_EQ(all.Min(), merged.Min());
  EXPECT_EQ(all.Max(), merged.Max());
  EXPECT_DOUBLE_EQ(all.Mean(), merged.Mean());
}

TEST_P(HistogramDistributionTest, EncodeDecodeRoundTripKeepsEveryCount) {
  std::mt19937_64 rng(9);
  const std::vector<int64_t> values = GetParam().make(rng);
  Histogram h;
  for (int64_t v : values) h.Record(v);
  auto decoded = Histogram::DecodeCompressedBase64(h.EncodeCompressedBase64());
  ASSERT_TRUE(decoded.has_value()) << decoded.error().message;
  std::vector<std::pair<int64_t, int64_t>> a, b;
  h.ForEachBucket([&](int64_t v, int64_t c) { a.emplace_back(v, c); });
  decoded->ForEachBucket([&](int64_t v, int64_t c) { b.emplace_back(v, c); });
  EXPECT_EQ(a, b);
  EXPECT_EQ(decoded->Count(), h.Count());
  EXPECT_EQ(decoded->Min(), h.Min());
  EXPECT_EQ(decoded->Max(), h.Max());
  for (double p : {0.0, 1.0, 50.0, 90.0, 99.0, 99.9, 99.99, 100.0}) {
    EXPECT_EQ(decoded->ValueAtPercentile(p), h.ValueAtPercentile(p)) << "p" << p;
  }
}

INSTANTIATE_TEST_SUITE_P(Distributions, HistogramDistributionTest,
                         testing::Values(Distribution{"uniform", Uniform}, Distribution{"exponential", Exponential},
                                         Distribution{"bimodal", Bimodal}, Distribution{"wide_range", WideRange},
                                         Distribution{"near_one_hour", NearOneHour}),
                         [](const testing::TestParamInfo<Distribution>& info) { return info.param.name; });

TEST(HistogramTest, EmptyHistogramReportsZeros) {
  Histogram h;
  EXPECT_EQ(h.Count(), 0);
  EXPECT_EQ(h.Min(), 0);
  EXPECT_EQ(h.Max(), 0);
  EXPECT_EQ(h.Mean(), 0);
  EXPECT_EQ(h.StdDev(), 0);
  EXPECT_EQ(h.ValueAtPercentile(50), 0);
  EXPECT_EQ(h.ValueAtPercentile(100), 0);
  int buckets = 0;
  h.ForEachBucket([&](int64_t, int64_t) { ++buckets; });
  EXPECT_EQ(buckets, 0);
  auto decoded = Histogram::DecodeCompressedBase64(h.EncodeCompressedBase64());
  ASSERT_TRUE(decoded.has_value()) << decoded.error().message;
  EXPECT_EQ(decoded->Count(), 0);
  EXPECT_EQ(decoded->Highest(), h.Highest());
}

TEST(HistogramTest, ValuesOutsideTheRangeAreClampedAndCounted) {
  Histogram h(1, 10'000, 3);
  h.Record(0);
  h.Record(-3);
  h.Record(20'000);
  h.Record(500);
  h.RecordN(1'000'000, 3);
  EXPECT_EQ(h.Count(), 7);
  EXPECT_EQ(h.Clamped(), 6);
  EXPECT_EQ(h.Min(), 1);
  EXPECT_EQ(h.Max(), 10'000);  // the bucket of 10000 reaches 10007; reports stop at Highest()
  EXPECT_EQ(h.ValueAtPercentile(100), 10'000);
  EXPECT_EQ(h.ValueAtPercentile(1), 1);
}

TEST(HistogramTest, SmallValuesAreExactAtThreeDigits) {
  Histogram h;
  for (int64_t v = 1; v <= 2000; ++v) h.Record(v);
  for (int64_t v = 1; v <= 2000; ++v) {
    EXPECT_EQ(h.ValueAtPercentile(100.0 * static_cast<double>(v) / 2000), v);
  }
  EXPECT_EQ(h.Min(), 1);
  EXPECT_EQ(h.Max(), 2000);
  EXPECT_DOUBLE_EQ(h.Mean(), 1000.5);  // (1 + 2000) / 2: buckets of width 1 hold one value each
}

TEST(HistogramTest, PercentileRankFollowsCeilingRule) {
  Histogram h;
  for (int64_t v = 1; v <= 1000; ++v) h.Record(v);
  EXPECT_EQ(h.ValueAtPercentile(99.9), 999);  // rank ceil(999.0) = 999, not 1000
  EXPECT_EQ(h.ValueAtPercentile(99.91), 1000);
  EXPECT_EQ(h.ValueAtPercentile(50), 500);
  EXPECT_EQ(h.ValueAtPercentile(0.05), 1);
  EXPECT_EQ(h.ValueAtPercentile(0), 1);
  EXPECT_EQ(h.ValueAtPercentile(-5), 1);
  EXPECT_EQ(h.ValueAtPercentile(150), 1000);
}

TEST(HistogramTest, StdDevOfTwoPointDistribution) {
  Histogram h;
  h.RecordN(100, 50);
  h.RecordN(300, 50);
  EXPECT_DOUBLE_EQ(h.Mean(), 200.0);
  EXPECT_DOUBLE_EQ(h.StdDev(), 100.0);
}

// Below 2048 (3 digits, lowest 1) every bucket holds one value, so Mean and StdDev must equal the
// sum / count and the population standard deviation computed from the values themselves.
TEST(HistogramTest, MeanAndStdDevAreExactWhereBucketsAre) {
  const std::vector<std::vector<int64_t>> cases = {
      {1, 2},          {7},        {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, {5, 5, 5, 1000},
      {100, 300, 301}, {2047, 1}, {17, 999, 1024, 1500, 2046},
  };
  for (const std::vector<int64_t>& values : cases) {
    Histogram h;
    double sum = 0;
    for (int64_t v : values) {
      h.Record(v);
      sum += static_cast<double>(v);
    }
    const double mean = sum / static_cast<double>(values.size());
    double sum_sq = 0;
    for (int64_t v : values) sum_sq += (static_cast<double>(v) - mean) * (static_cast<double>(v) - mean);
    EXPECT_DOUBLE_EQ(h.Mean(), mean) << testing::PrintToString(values);
    EXPECT_NEAR(h.StdDev(), std::sqrt(sum_sq / static_cast<double>(values.size())), 1e-9)
        << testing::PrintToString(values);
  }
}

// Values that share a bucket count as the bucket's median-equivalent value, as in HdrHistogram:
// lowest equivalent value + half the bucket width. Expectations worked out by hand.
TEST(HistogramTest, MeanOfSharedBucketsUsesTheMedianEquivalentValue) {
  struct Case {
    const char* why;
    int digits;
    std::vector<int64_t> values;
    double mean;
    double stddev;
  };
  const std::vector<Case> cases = {
      // [2048, 2049] is one bucket of width 2: median equivalent 2048 + 1.
      {"2048 and 2049 share a width-2 bucket", 3, {2048, 2049}, 2049, 0},
      // [4096, 4099], width 4: 4096 + 2.
      {"width-4 bucket", 3, {4096, 4097, 4098, 4099}, 4098, 0},
      // 1000 is exact; 3000 is in [3000, 3001] -> 3001. Mean (1000 + 3001) / 2, deviation 1000.5.
      {"an exact bucket beside a shared one", 3, {1000, 3000}, 2000.5, 1000.5},
      // 2^19 <= 1e6 < 2^20: width 512; lowest 1953 * 512 = 999936; + 256.
      {"one million microseconds", 3, {1'000'000}, 1'000'192, 0},
      // 2 digits: 256 sub-buckets, so [256, 511] has width 2 and 300 stands for 301.
      {"two digits", 2, {300, 300, 300}, 301, 0},
  };
  for (const Case& c : cases) {
    Histogram h(1, 3'600'000'000LL, c.digits);
    for (int64_t v : c.values) h.Record(v);
    EXPECT_DOUBLE_EQ(h.Mean(), c.mean) << c.why;
    EXPECT_DOUBLE_EQ(h.StdDev(), c.stddev) << c.why;
  }
}

TEST(HistogramTest, ResetKeepsConfigurationAndForgetsValues) {
  Histogram h(1, 1'000'000, 2);
  const size_t memory = h.MemoryBytes();
  h.RecordN(123, 10);
  h.Record(0);
  h.Reset();
  EXPECT_EQ(h.Count(), 0);
  EXPECT_EQ(h.Clamped(), 0);
  EXPECT_EQ(h.ValueAtPercentile(50), 0);
  EXPECT_EQ(h.SignificantDigits(), 2);
  EXPECT_EQ(h.Highest(), 1'000'000);
  EXPECT_EQ(h.MemoryBytes(), memory);
  h.Record(77);
  EXPECT_EQ(h.ValueAtPercentile(50), 77);
}

TEST(HistogramTest, MemoryIsFixedByConfiguration) {
  Histogram h;
  const size_t before = h.MemoryBytes();
  EXPECT_LT(before, size_t{256} * 1024);
  for (int64_t v = 1; v < 3'600'000'000LL; v = v * 3 + 1) h.RecordN(v, 1000);
  EXPECT_EQ(h.MemoryBytes(), before);
}

TEST(HistogramTest, AddAcrossConfigurationsRequantizes) {
  Histogram coarse(1, 1'000'000, 2);
  coarse.RecordN(5000, 4);
  coarse.Record(2'000'000);  // clamped in coarse
  Histogram fine;
  fine.Add(coarse);
  EXPECT_EQ(fine.Count(), 5);
  EXPECT_EQ(fine.Clamped(), 1);
  EXPECT_NEAR(static_cast<double>(fine.ValueAtPercentile(50)), 5000, 5000 * 0.01);
}

TEST(HistogramTest, HigherPrecisionNarrowsBuckets) {
  for (int digits = 1; digits <= 5; ++digits) {
    Histogram h(1, 10'000'000, digits);
    h.Record(1'234'567);
    const double relative = static_cast<double>(h.Max() - 1'234'567) / 1'234'567;
    EXPECT_LT(relative, std::pow(10.0, -digits)) << digits << " digits";
  }
}

TEST(HistogramTest, DecodesKnownEncodingsFromConfigurations) {
  for (int digits = 1; digits <= 5; ++digits) {
    Histogram h(1000, 60'000'000'000LL, digits);  // ns precision lower bound, 1 minute
    h.RecordN(1'500'000, 10);
    h.Record(45'000'000'000LL);
    auto d = Histogram::DecodeCompressedBase64(h.EncodeCompressedBase64());
    ASSERT_TRUE(d.has_value()) << d.error().message;
    EXPECT_EQ(d->Lowest(), 1000);
    EXPECT_EQ(d->Highest(), 60'000'000'000LL);
    EXPECT_EQ(d->SignificantDigits(), digits);
    EXPECT_EQ(d->ValueAtPercentile(50), h.ValueAtPercentile(50));
    EXPECT_EQ(d->Max(), h.Max());
  }
}

TEST(HistogramTest, EncodingStartsWithV2CompressedCookie) {
  Histogram h;
  h.Record(1);
  // 0x1c849314 base64-encodes to "HISTF" followed by the length bytes: the tag .hlog readers look for.
  EXPECT_EQ(h.EncodeCompressedBase64().substr(0, 5), "HISTF");
}

// Payloads written by the reference Java HdrHistogram, with the buckets it reports for them.
TEST(HistogramTest, DecodesPayloadsWrittenByJavaHdrHistogram) {
  std::ifstream in(std::string(HEADROOM_SOURCE_DIR) + "/src/core/testdata/hdr_java_fixtures.tsv");
  ASSERT_TRUE(in.good());
  std::string line;
  int cases = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cols;
    std::stringstream row(line);
    for (std::string col; std::getline(row, col, '\t');) cols.push_back(col);
    cols.resize(6);
    SCOPED_TRACE(cols[0]);
    auto h = Histogram::DecodeCompressedBase64(cols[1]);
    ASSERT_TRUE(h.has_value()) << h.error().message;
    int64_t lowest = 0, highest = 0, digits = 0, count = 0, min = 0, max = 0;
    std::istringstream(cols[2]) >> lowest >> highest >> digits;
    std::istringstream(cols[3]) >> count;
    std::istringstream(cols[4]) >> min >> max;
    EXPECT_EQ(h->Lowest(), lowest);
    EXPECT_EQ(h->Highest(), highest);
    EXPECT_EQ(h->SignificantDigits(), digits);
    EXPECT_EQ(h->Count(), count);
    // headroom reports Min/Max inside [Lowest, Highest]; Java does not clamp.
    EXPECT_EQ(h->Min(), count == 0 ? 0 : std::clamp(min, lowest, highest));
    EXPECT_EQ(h->Max(), count == 0 ? 0 : std::clamp(max, lowest, highest));
    std::string buckets;
    h->ForEachBucket([&](int64_t v, int64_t c) {
      if (!buckets.empty()) buckets += ' ';
      buckets += std::to_string(v);
      buckets += ':';
      buckets += std::to_string(c);
    });
    EXPECT_EQ(buckets, cols[5]);
    // Re-encoding and decoding again keeps everything.
    auto again = Histogram::DecodeCompressedBase64(h->EncodeCompressedBase64());
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(again->ValueAtPercentile(99), h->ValueAtPercentile(99));
    ++cases;
  }
  EXPECT_EQ(cases, 5);
}

// Builds an uncompressed V2 payload (cookie 0x1c849313) by hand, base64-encoded.
std::string UncompressedV2(uint32_t digits, int64_t lowest, int64_t highest, const std::vector<uint8_t>& counts,
                           uint32_t normalizing_offset = 0, int64_t claimed_payload = -1) {
  std::vector<uint8_t> b;
  auto u32 = [&](uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(v >> s));
  };
  auto u64 = [&](uint64_t v) {
    for (int s = 56; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(v >> s));
  };
  u32(0x1c849313);
  u32(static_cast<uint32_t>(claimed_payload < 0 ? static_cast<int64_t>(counts.size()) : claimed_payload));
  u32(normalizing_offset);
  u32(digits);
  u64(static_cast<uint64_t>(lowest));
  u64(static_cast<uint64_t>(highest));
  u64(0x3ff0000000000000ULL);  // 1.0
  b.insert(b.end(), counts.begin(), counts.end());
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < b.size(); i += 3) {
    const size_t n = std::min<size_t>(3, b.size() - i);
    uint32_t group = uint32_t{b[i]} << 16;
    if (n > 1) group |= uint32_t{b[i + 1]} << 8;
    if (n > 2) group |= b[i + 2];
    for (size_t k = 0; k < 4; ++k) out += k <= n ? kAlphabet[(group >> (18 - 6 * k)) & 63] : '=';
  }
  return out;
}

TEST(HistogramTest, DecodesUncompressedV2AndRejectsBadHeaders) {
  // ZigZag: -5 -> 0x09 (skip five empty buckets), 3 -> 0x06, 0 -> 0x00 (one empty bucket), 1 -> 0x02.
  auto h = Histogram::DecodeCompressedBase64(UncompressedV2(3, 1, 3'600'000'000LL, {0x09, 0x06, 0x00, 0x02}));
  ASSERT_TRUE(h.has_value()) << h.error().message;
  std::string buckets;
  h->ForEachBucket([&](int64_t v, int64_t c) { buckets += std::to_string(v) + ":" + std::to_string(c) + " "; });
  EXPECT_EQ(buckets, "5:3 7:1 ");
  EXPECT_EQ(h->Count(), 4);

  struct Bad {
    const char* why;
    std::string text;
  };
  const std::vector<Bad> bad = {
      {"payload longer than data", UncompressedV2(3, 1, 1000, {0x02}, 0, 50)},
      {"normalized", UncompressedV2(3, 1, 1000, {0x02}, 1)},
      {"zero digits", UncompressedV2(0, 1, 1000, {0x02})},
      {"six digits", UncompressedV2(6, 1, 1000, {0x02})},
      {"lowest zero", UncompressedV2(3, 0, 1000, {0x02})},
      {"highest below 2*lowest", UncompressedV2(3, 100, 150, {0x02})},
      {"negative highest", UncompressedV2(3, 1, -5, {0x02})},
      {"run past the end", UncompressedV2(3, 1, 1000, {0xff, 0xff, 0xff, 0x0f})},  // a run of ~16.7M empty buckets
      {"count past the end", UncompressedV2(2, 1, 2, std::vector<uint8_t>(5000, 0x02))},
      {"number cut short", UncompressedV2(3, 1, 1000, {0x82})},
  };
  for (const Bad& b : bad) {
    auto r = Histogram::DecodeCompressedBase64(b.text);
    EXPECT_FALSE(r.has_value()) << b.why;
  }
}

TEST(HistogramTest, DecodeRejectsGarbageWithoutCrashing) {
  const std::vector<std::string> bad = {
      "", "   ", "!!!!", "A", "AAAA", "HISTFAAAA", "not base64 at all", "SGVsbG8gd29ybGQ=",
      "HISTFAAAACh4nJNpmSzMwMDABMEwBgA=",  // compressed cookie, corrupt zlib
  };
  for (const std::string& text : bad) {
    auto r = Histogram::DecodeCompressedBase64(text);
    EXPECT_FALSE(r.has_value()) << text;
    if (!r) {
      EXPECT_EQ(r.error().message.find('\n'), std::string::npos);
      EXPECT_EQ(r.error().message.rfind("invalid histogram", 0), 0u) << r.error().message;
    }
  }
}

TEST(HistogramTest, DecodeRejectsEveryTruncationAndBitFlip) {
  Histogram h;
  std::mt19937_64 rng(3);
  std::exponential_distribution<double> d(1.0 / 2000);
  for (int i = 0; i < 5000; ++i) h.Record(1 + static_cast<int64_t>(d(rng)));
  const std::string good = h.EncodeCompressedBase64();
  // Every proper prefix cut at a 4-character boundary must fail cleanly.
  for (size_t n = 0; n + 4 <= good.size() - 4; n += 4) {
    EXPECT_FALSE(Histogram::DecodeCompressedBase64(good.substr(0, n)).has_value()) << n;
  }
  // Corrupted characters must never crash; zlib's checksum rejects nearly all of them.
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bent = good;
    bent[i] = bent[i] == 'A' ? 'B' : 'A';
    auto r = Histogram::DecodeCompressedBase64(bent);
    if (r) {
      EXPECT_GE(r->Count(), 0);
    }
  }
}

}  // namespace
}  // namespace headroom
