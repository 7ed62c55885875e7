// Data-driven: every testdata/prom/NAME.txt parses to exactly testdata/prom/NAME.expect (a dump
// of the families and samples, or "error: ..."). HEADROOM_UPDATE_GOLDEN=1 rewrites the .expect
// files (then review the diff). Also the quantiles and rates the prometheus source derives.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "collect/collect.h"

namespace headroom::collect {
namespace {

namespace fs = std::filesystem;

const fs::path kDir = fs::path(HEADROOM_SOURCE_DIR) / "src/collect/testdata/prom";

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string_view TypeName(PromType t) {
  switch (t) {
    case PromType::kUntyped:
      return "untyped";
    case PromType::kCounter:
      return "counter";
    case PromType::kGauge:
      return "gauge";
    case PromType::kHistogram:
      return "histogram";
    case PromType::kSummary:
      return "summary";
    case PromType::kGaugeHistogram:
      return "gaugehistogram";
    case PromType::kInfo:
      return "info";
    case PromType::kStateSet:
      return "stateset";
  }
  return "?";
}

std::string Dump(const Result<std::vector<PromFamily>>& parsed) {
  if (!parsed) return "error: " + parsed.error().message + "\n";
  std::string out;
  for (const PromFamily& f : *parsed) {
    out += "family " + f.name + " " + std::string(TypeName(f.type)) + "\n";
    for (const PromSample& s : f.samples) {
      out += "  " + s.name;
      for (size_t i = 0; i < s.labels.size(); ++i) {
        out += (i == 0 ? "{" : ",") + s.labels[i].first + "=[" + s.labels[i].second + "]";
      }
      if (!s.labels.empty()) out += "}";
      char value[64];
      std::snprintf(value, sizeof value, " %.17g\n", s.value);
      out += value;
    }
  }
  return out;
}

std::vector<std::string> Cases() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(kDir)) {
    if (e.path().extension() == ".txt") names.push_back(e.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class PromCorpus : public ::testing::TestWithParam<std::string> {};

TEST_P(PromCorpus, ParsesToExpectedDump) {
  const std::string name = GetParam();
  const std::string actual = Dump(ParsePrometheusText(ReadFile(kDir / (name + ".txt"))));
  const fs::path expect = kDir / (name + ".expect");
  if (std::getenv("HEADROOM_UPDATE_GOLDEN") != nullptr) std::ofstream(expect, std::ios::binary) << actual;
  ASSERT_TRUE(fs::exists(expect)) << "missing " << expect.filename();
  EXPECT_EQ(actual, ReadFile(expect));
  EXPECT_EQ(name.starts_with("bad_"), actual.starts_with("error: ")) << "bad_* cases must fail, others parse";
}

INSTANTIATE_TEST_SUITE_P(Corpus, PromCorpus, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

TEST(PromParse, CrlfAndMissingFinalNewlineAreFine) {
  auto parsed = ParsePrometheusText("# TYPE a gauge\r\na 1\r\nb 2");
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  ASSERT_EQ(parsed->size(), 2u);
  EXPECT_EQ((*parsed)[1].samples[0].value, 2);
}

TEST(PromParse, SampleLimitIsAnError) {
  std::string body;
  for (int i = 0; i < 11; ++i) body += "m{i=\"" + std::to_string(i) + "\"} 1\n";
  auto parsed = ParsePrometheusText(body, PromParseOptions{.max_samples = 10});
  ASSERT_FALSE(parsed.has_value());
  EXPECT_EQ(parsed.error().message, "line 11: more than 10 samples; add selectors");
}

}  // namespace
}  // namespace headroom::collect
