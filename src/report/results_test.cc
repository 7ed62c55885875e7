#include "report/results.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "report/testdata/sample_results.h"

namespace headroom::report {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string OutPath(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "/headroom_results_test_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  return dir + "/" + name;
}

std::vector<SecondRow> Rows(int n, bool with_histograms) {
  std::vector<SecondRow> rows;
  for (int i = 0; i < n; ++i) {
    SecondRow row;
    row.second = i;
    row.span_s = i + 1 < n ? 1.0 : 0.25;
    row.intended = row.completed = row.ok = 100 + i;
    row.errors = i % 3;
    row.p50_us = 800 + i;
    row.p90_us = row.p95_us = 1200 + i;
    row.p99_us = 2000 + 10 * i;
    row.max_us = 5000 + i;
    row.mean_us = 901.5 + i;
    if (with_histograms) {
      Histogram h;
      h.Record(row.p50_us);
      h.Record(row.max_us);
      row.histogram = h.EncodeCompressedBase64();
    }
    rows.push_back(row);
  }
  return rows;
}

// The streamed writer is an implementation of ToJson(r).dump(2) that never holds the series
// as a tree: byte for byte the same document, whatever the series hold.
void ExpectSameAsToJson(const Results& r, const std::string& name) {
  const std::string path = OutPath(name);
  ASSERT_TRUE(WriteResultsJson(r, path).has_value());
  const std::string written = ReadAll(path);
  EXPECT_EQ(written, ToJson(r).dump(2) + "\n");
  EXPECT_EQ(nlohmann::ordered_json::parse(written), ToJson(r));
}

TEST(WriteResultsJson, SameDocumentAsToJsonWithSeriesEverywhere) {
  Results r = fixture::SampleResults();
  r.series = Rows(7, true);
  for (size_t i = 0; i < r.phases.size(); ++i) r.phases[i].series = Rows(int(i) + 1, false);
  ExpectSameAsToJson(r, "everywhere.json");
}

TEST(WriteResultsJson, SameDocumentWithEmptySeries) {
  Results r = fixture::SampleResults();
  ExpectSameAsToJson(r, "empty.json");
  r.series = Rows(3, false);  // a checkpoint: the running phase's rows are at the top level only
  ExpectSameAsToJson(r, "top-only.json");
  r.phases.clear();
  r.series.clear();
  ExpectSameAsToJson(r, "no-phases.json");
}

TEST(WriteResultsJson, AStringThatLooksLikeAMarkerStaysAString) {
  Results r = fixture::SampleResults();
  r.series = Rows(2, true);
  r.phases[0].series = Rows(2, false);
  r.target = "http://127.0.0.1:8080/\x01headroom-series:-1\x01";
  r.scenario = "\x01headroom-series:0\x01";
  r.phases[0].name = "series";
  r.phases[1].name = "\x01headroom-series:1\x01";
  ExpectSameAsToJson(r, "lookalike.json");
}

TEST(WriteResultsJson, ReplacesTheFileAndLeavesNoTemporary) {
  const std::string path = OutPath("replace.json");
  std::ofstream(path) << "old";
  Results r = fixture::SampleResults();
  r.series = Rows(2, true);
  ASSERT_TRUE(WriteResultsJson(r, path).has_value());
  EXPECT_EQ(ReadAll(path), ToJson(r).dump(2) + "\n");
  for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::path(path).parent_path())) {
    EXPECT_EQ(entry.path().string().find(".tmp."), std::string::npos) << entry.path();
  }
}

TEST(WriteResultsJson, AnUnwritableFolderIsAnError) {
  auto s = WriteResultsJson(fixture::SampleResults(), OutPath("missing") + "/sub/results.json");
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().message.find("cannot write"), std::string::npos) << s.error().message;
}

// headroom merge reads results.json back: what it needs survives the round trip exactly.
TEST(ResultsReadTest, RoundTripKeepsFiguresHistogramsAndShard) {
  Results r = fixture::SampleResults();
  r.shard = ShardInfo{2, 4, 1'777'636'800'000'000, 1'777'636'800'020'000, "0123456789abcdef"};
  const std::string path = OutPath("roundtrip.json");
  ASSERT_TRUE(WriteResultsJson(r, path).has_value());
  auto back = ReadResultsFile(path);
  ASSERT_TRUE(back.has_value()) << back.error().message;
  // Written again, it is the same file: nothing merge relies on was lost or changed.
  EXPECT_EQ(ToJson(*back).dump(2), ToJson(r).dump(2));
  ASSERT_TRUE(back->shard.has_value());
  EXPECT_EQ(back->shard->index, 2);
  EXPECT_EQ(back->shard->started_us, 1'777'636'800'020'000);
  EXPECT_EQ(back->overall.response_time_us.EncodeCompressedBase64(), r.overall.response_time_us.EncodeCompressedBase64());
}

TEST(ResultsReadTest, RefusesWhatIsNotAResultsFile) {
  const std::string path = OutPath("not-results.json");
  std::ofstream(path) << "{\"schema\": \"headroom.plan/1\"}";
  auto r = ReadResultsFile(path);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("not a headroom results file"), std::string::npos);
  std::ofstream(path) << "{";
  EXPECT_FALSE(ReadResultsFile(path).has_value());
  EXPECT_FALSE(ReadResultsFile(OutPath("missing.json")).has_value());
}

}  // namespace
}  // namespace headroom::report
