#include "report/hlog.h"

#include <gtest/gtest.h>

#include <cmath>
#include <regex>
#include <string>
#include <vector>

namespace headroom::report {
namespace {

// Per second: a different, known distribution (uniform, bimodal, long tail, single value).
std::vector<Histogram> KnownSeconds() {
  std::vector<Histogram> out(5);
  for (int i = 1; i <= 1000; ++i) out[0].Record(i * 10);
  for (int i = 0; i < 900; ++i) out[1].Record(800 + i % 50);
  for (int i = 0; i < 100; ++i) out[1].Record(250'000 + i * 997);
  for (int i = 1; i <= 5000; ++i) out[2].Record(int64_t(1000.0 * std::pow(1.002, i)) % 3'000'000'000LL + 1);
  out[3].RecordN(42, 7);
  // out[4] stays empty: a second in which nothing completed.
  return out;
}

constexpr int64_t kStartedAtUs = 1'767'225'600'250'000;  // Thu 2026-01-01 00:00:00.250 UTC

// A log written the way a run writes it: the header, then per phase its comment and its seconds.
// Phase "baseline" has seconds 0..2, phase "spike" (from 3 s) seconds 3 and 4; the last is half long.
std::string StreamedLog(const std::vector<Histogram>& seconds) {
  std::string text = HlogHeader("0.1.0", "checkout", kStartedAtUs);
  for (size_t i = 0; i < seconds.size(); ++i) {
    if (i == 0) text += HlogPhaseComment("baseline", "baseline", 0.0);
    if (i == 3) text += HlogPhaseComment("spike", "spike", 3.0);
    const Histogram& h = seconds[i];
    text += HlogIntervalLine(double(i), i + 1 == seconds.size() ? 0.5 : 1.0, h.Count() ? h.Max() : 0,
                             h.EncodeCompressedBase64());
  }
  return text;
}

TEST(HlogTest, RoundTripKeepsEveryCountAndPercentile) {
  const std::vector<Histogram> seconds = KnownSeconds();
  auto parsed = ParseHlog(StreamedLog(seconds));
  ASSERT_TRUE(parsed) << parsed.error().message;
  ASSERT_EQ(parsed->size(), seconds.size());
  for (size_t i = 0; i < seconds.size(); ++i) {
    const HlogInterval& iv = (*parsed)[i];
    const Histogram& want = seconds[i];
    SCOPED_TRACE("second " + std::to_string(i));
    EXPECT_EQ(iv.start_s, double(i));
    EXPECT_EQ(iv.length_s, i + 1 == seconds.size() ? 0.5 : 1.0);
    EXPECT_EQ(iv.tag, "");
    EXPECT_EQ(iv.histogram.Count(), want.Count());
    EXPECT_EQ(iv.histogram.Min(), want.Min());
    EXPECT_EQ(iv.histogram.Max(), want.Max());
    EXPECT_DOUBLE_EQ(iv.histogram.Mean(), want.Mean());
    for (double p : {0.0, 1.0, 50.0, 90.0, 95.0, 99.0, 99.9, 99.99, 100.0}) {
      EXPECT_EQ(iv.histogram.ValueAtPercentile(p), want.ValueAtPercentile(p)) << "p" << p;
    }
    // Interval_Max is in milliseconds (us / 1000), 3 decimals.
    EXPECT_NEAR(iv.max, want.Max() / 1000.0, 0.0005);
  }
}

TEST(HlogTest, HeaderAndPhaseCommentsFollowTheLogConventions) {
  const std::string text = StreamedLog(KnownSeconds());
  const std::string header =
      "#[headroom 0.1.0 interval log: checkout]\n"
      "#[Histogram log format version 1.3]\n"
      "#[StartTime: 1767225600.250 (seconds since epoch), Thu Jan 01 00:00:00 UTC 2026]\n"
      "#[BaseTime: 1767225600.250 (seconds since epoch)]\n"
      "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n"
      "#[Phase baseline: from 0.000s baseline]\n"
      "0.000,1.000,10.007,HISTF";
  EXPECT_EQ(text.substr(0, header.size()), header);
  // The second phase's comment comes right before its first interval line.
  EXPECT_NE(text.find("\n#[Phase spike: from 3.000s spike]\n3.000,1.000,0.042,HISTF"), std::string::npos) << text;
  EXPECT_NE(text.find("\n4.000,0.500,0.000,HISTF"), std::string::npos) << text;
  const std::regex data(R"(^[0-9]+\.[0-9]{3},[0-9]+\.[0-9]{3},[0-9]+\.[0-9]{3},[A-Za-z0-9+/]+=*$)");
  size_t data_lines = 0, comments = 0;
  size_t start = text.find('"');
  start = text.find('\n', start) + 1;
  for (size_t nl; start < text.size(); start = nl + 1) {
    nl = text.find('\n', start);
    const std::string l = text.substr(start, nl - start);
    if (l.starts_with("#[Phase ")) {
      ++comments;
      continue;
    }
    EXPECT_TRUE(std::regex_match(l, data)) << l;
    ++data_lines;
  }
  EXPECT_EQ(data_lines, 5u);
  EXPECT_EQ(comments, 2u);
}

TEST(HlogTest, NamesStayOnOneLine) {
  EXPECT_EQ(HlogPhaseComment("two\nlines", "base\rline", 1.25), "#[Phase two lines: from 1.250s base line]\n");
  const std::string header = HlogHeader("0.1.0", "a\nb", kStartedAtUs);
  EXPECT_EQ(header.rfind("#[headroom 0.1.0 interval log: a b]\n", 0), 0u) << header;
}

TEST(HlogTest, SecondWithoutResponsesIsAnEmptyInterval) {
  auto parsed = ParseHlog(HlogIntervalLine(7, 1, 0, Histogram().EncodeCompressedBase64()));
  ASSERT_TRUE(parsed) << parsed.error().message;
  ASSERT_EQ(parsed->size(), 1u);
  EXPECT_EQ((*parsed)[0].start_s, 7.0);
  EXPECT_EQ((*parsed)[0].max, 0.0);
  EXPECT_EQ((*parsed)[0].histogram.Count(), 0);
}

TEST(HlogTest, ReadsTagsCrlfAndLegacyLegend) {
  Histogram h;
  h.RecordN(1500, 3);
  const std::string payload = h.EncodeCompressedBase64();
  const std::string text = "#[StartTime: 1.000 (seconds since epoch), x]\r\n"
                           "Timestamp,Interval_Length,Interval_Max,Interval_Compressed_Histogram\r\n"
                           "\r\n"
                           "Tag=login,12.500,1.000,1.501," + payload + "\r\n" +
                           "13.500,1.000,1.501," + payload + "\n";
  auto parsed = ParseHlog(text);
  ASSERT_TRUE(parsed) << parsed.error().message;
  ASSERT_EQ(parsed->size(), 2u);
  EXPECT_EQ((*parsed)[0].tag, "login");
  EXPECT_EQ((*parsed)[0].start_s, 12.5);
  EXPECT_EQ((*parsed)[0].histogram.Count(), 3);
  EXPECT_EQ((*parsed)[1].tag, "");
  EXPECT_EQ((*parsed)[1].start_s, 13.5);
}

TEST(HlogTest, BadLinesAreOneLineErrorsWithTheirNumber) {
  Histogram h;
  h.Record(1);
  const std::string ok = "0.000,1.000,0.001," + h.EncodeCompressedBase64();
  struct Case {
    std::string line, error;
  };
  const std::vector<Case> cases = {
      {"0.000,1.000", "hlog line 2: expected 4 comma-separated fields (start, length, max, histogram)"},
      {"x,1.000,0.001,AAAA", "hlog line 2: start timestamp is not a number"},
      {"0.000,,0.001,AAAA", "hlog line 2: interval length is not a number"},
      {"0.000,1.000,1e999," + h.EncodeCompressedBase64(), "hlog line 2: interval max is not a number"},
      {"Tag=only", "hlog line 2: a tag but no interval fields"},
  };
  for (const Case& c : cases) {
    auto parsed = ParseHlog(ok + "\n" + c.line + "\n");
    ASSERT_FALSE(parsed) << c.line;
    EXPECT_EQ(parsed.error().message, c.error) << c.line;
  }
  auto bad_payload = ParseHlog(ok + "\n0.000,1.000,0.001,not-base64!\n");
  ASSERT_FALSE(bad_payload);
  EXPECT_EQ(bad_payload.error().message.rfind("hlog line 2: ", 0), 0u) << bad_payload.error().message;
  EXPECT_EQ(bad_payload.error().message.find('\n'), std::string::npos);
}

TEST(HlogTest, EmptyTextHasNoIntervals) {
  auto parsed = ParseHlog("");
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(parsed->empty());
}

}  // namespace
}  // namespace headroom::report
