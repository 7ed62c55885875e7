// The HTML report's data and page: the data is the run's (percentiles recomputed from the HDR
// histograms, series as columns, buckets past kMaxSeriesPoints), and no text in it can leave the
// data element. The page itself is checked in a real browser (web/test/browser_test.mjs).
#include "report/html.h"

#include <gtest/gtest.h>

#include "report/testdata/sample_results.h"

namespace headroom::report {
namespace {

using nlohmann::json;

json Sample() { return json::parse(ToJson(fixture::SampleResults()).dump()); }

// The JSON between the data element's tags.
std::string DataText(const std::string& page) {
  const std::string open = "<script type=\"application/json\" id=\"headroom-data\">";
  const size_t from = page.find(open);
  const size_t to = page.find("</script>", from);
  EXPECT_NE(from, std::string::npos);
  EXPECT_NE(to, std::string::npos);
  return page.substr(from + open.size(), to - from - open.size());
}

TEST(HtmlTemplate, IsOnePageWithOneDataMarkerAndNoNetworkReference) {
  const std::string_view t = HtmlTemplate();
  EXPECT_TRUE(t.starts_with("<!doctype html>"));
  EXPECT_NE(t.find("/*@DATA@*/"), std::string_view::npos);
  EXPECT_EQ(t.find("/*@DATA@*/"), t.rfind("/*@DATA@*/"));
  EXPECT_EQ(t.find("<script src"), std::string_view::npos);
  EXPECT_EQ(t.find("<link"), std::string_view::npos);
  EXPECT_NE(t.find("default-src 'none'"), std::string_view::npos);  // the page may fetch nothing
  EXPECT_NE(t.find("The MIT License"), std::string_view::npos);     // uPlot's notice
}

TEST(ReportData, RejectsWhatIsNotAResultsFile) {
  EXPECT_FALSE(ReportData(json::object(), {}));
  EXPECT_FALSE(ReportData(json{{"schema", "headroom.plan/1"}}, {}));
  EXPECT_FALSE(ReportData(json::array(), {}));
}

TEST(ReportData, PercentileCurvesComeFromTheHistograms) {
  auto data = ReportData(Sample(), {});
  ASSERT_TRUE(data) << data.error().message;
  const json& curves = (*data)["percentiles"];
  ASSERT_FALSE(curves.empty());
  EXPECT_EQ(curves[0]["scope"], "run");
  const Results r = fixture::SampleResults();
  EXPECT_EQ(curves[0]["count"], r.overall.response_time_us.Count());
  // 41 points, 0 to 4 nines; 1 nine is p90, 2 nines p99.
  ASSERT_EQ(curves[0]["points"].size(), 41u);
  EXPECT_EQ(curves[0]["points"][10][0].get<double>(), 1.0);
  EXPECT_EQ(curves[0]["points"][10][1].get<int64_t>(), r.overall.response_time_us.ValueAtPercentile(90));
  EXPECT_EQ(curves[0]["points"][20][1].get<int64_t>(), r.overall.response_time_us.ValueAtPercentile(99));
  // One curve per phase that measured something (the skipped phase has no responses).
  int phases = 0;
  for (const json& c : curves) phases += c["scope"] == "phase";
  int measured = 0;
  for (const PhaseResult& p : r.phases) measured += p.section.response_time_us.Count() > 0;
  EXPECT_EQ(phases, measured);
}

TEST(ReportData, TheResultsLoseHistogramsAndSeriesOnly) {
  auto data = ReportData(Sample(), {});
  ASSERT_TRUE(data);
  const json& r = (*data)["results"];
  EXPECT_FALSE(r.contains("histograms"));
  EXPECT_FALSE(r.contains("series"));
  EXPECT_FALSE(r["phases"][0].contains("histograms"));
  EXPECT_EQ(r["verdict"], Sample()["verdict"]);
  EXPECT_EQ(r["slo"], Sample()["slo"]);
  EXPECT_EQ(r["phases"].size(), Sample()["phases"].size());
}

json Rows(int n) {
  json rows = json::array();
  for (int i = 0; i < n; ++i) {
    rows.push_back({{"second", i}, {"span_s", 1}, {"intended", 100}, {"completed", 100}, {"ok", 99}, {"errors", 1},
                    {"p50_us", 1000}, {"p95_us", 2000 + (i == 5 ? 50000 : 0)}, {"p99_us", 3000}, {"max_us", 4000}});
  }
  return rows;
}

TEST(ReportData, SeriesAreColumnsOnePointPerSecond) {
  json results = Sample();
  results["series"] = Rows(10);
  auto data = ReportData(results, {});
  ASSERT_TRUE(data);
  const json& s = (*data)["series"];
  EXPECT_EQ(s["bucket_s"], 1);
  ASSERT_EQ(s["t"].size(), 10u);
  EXPECT_EQ(s["rps"][3], 100.0);
  EXPECT_EQ(s["errors_rps"][3], 1.0);
  EXPECT_EQ(s["p95_us"][5], 52000.0);
}

TEST(ReportData, LongRunsAreBucketedKeepingTheWorstSecond) {
  json results = Sample();
  const int n = int(kMaxSeriesPoints) * 3 + 1;  // 24 h would be 86,400
  results["series"] = Rows(n);
  auto data = ReportData(results, {});
  ASSERT_TRUE(data);
  const json& s = (*data)["series"];
  EXPECT_EQ(s["bucket_s"], 4);
  EXPECT_LE(s["t"].size(), kMaxSeriesPoints);
  EXPECT_EQ(s["t"][1], 4);
  EXPECT_EQ(s["rps"][0], 100.0);          // the bucket's mean rate
  EXPECT_EQ(s["p95_us"][1], 52000.0);     // second 5 is in the second bucket: its stall shows
  EXPECT_EQ(s["p95_us"][0], 2000.0);
}

TEST(ReportData, ASecondWithoutResponsesHasNoResponseTime) {
  json results = Sample();
  json rows = Rows(2);
  for (const char* k : {"completed", "ok", "errors", "p50_us", "p95_us", "p99_us", "max_us"}) rows[1][k] = 0;
  results["series"] = rows;
  auto data = ReportData(results, {});
  ASSERT_TRUE(data);
  EXPECT_TRUE((*data)["series"]["p95_us"][1].is_null());
  EXPECT_EQ((*data)["series"]["rps"][1], 0.0);
}

TEST(ReportData, TierSamplesBecomeHeadlineSeriesWithRoles) {
  ReportInputs in;
  in.tiers_jsonl =
      R"({"t":1.0,"tier":"app","source":"host","metrics":{"cpu_ratio":0.5,"run_queue":2,"ignored_metric":7}})" "\n"
      R"({"t":2.0,"tier":"app","source":"host","metrics":{"cpu_ratio":0.75,"run_queue":3}})" "\n"
      R"({"t":2.5,"tier":"cache","source":"redis:127.0.0.1:1","error":"cannot connect"})" "\n"
      R"({"t":3.0,"tier":"app","source":"host","metr)";  // a torn last line (a killed run)
  auto data = ReportData(Sample(), in);
  ASSERT_TRUE(data);
  const json& tiers = (*data)["tiers"];
  ASSERT_EQ(tiers.size(), 2u);
  EXPECT_EQ(tiers[0]["kind"], "host");
  EXPECT_EQ(tiers[0]["samples"], 2);
  ASSERT_EQ(tiers[0]["metrics"].size(), 2u);
  EXPECT_EQ(tiers[0]["metrics"][0]["name"], "cpu_ratio");
  EXPECT_EQ(tiers[0]["metrics"][0]["role"], "utilization");
  EXPECT_EQ(tiers[0]["metrics"][0]["v"], json::array({0.5, 0.75}));
  EXPECT_EQ(tiers[0]["metrics"][1]["role"], "saturation");
  EXPECT_EQ(tiers[1]["failures"], 1);
  EXPECT_EQ(tiers[1]["error"], "cannot connect");
  EXPECT_TRUE(tiers[1]["metrics"].empty());
}

TEST(HtmlReport, HostileTextCannotLeaveTheDataElement) {
  json results = Sample();
  const std::string hostile = "</script><script>alert(1)</script> & \"quotes\" 'x' <!-- \xe2\x80\xa8 ünïcødé 🚀";
  results["scenario"] = hostile;
  results["requests_by_name"][0]["name"] = hostile;
  auto data = ReportData(results, {});
  ASSERT_TRUE(data);
  const std::string page = HtmlReport(*data);
  const std::string text = DataText(page);
  EXPECT_EQ(text.find('<'), std::string::npos);
  EXPECT_EQ(text.find('>'), std::string::npos);
  EXPECT_EQ(text.find('&'), std::string::npos);
  EXPECT_EQ(text.find("\xe2\x80\xa8"), std::string::npos);
  // And the text is still the data: parsing gives back the very strings.
  const json back = json::parse(text);
  EXPECT_EQ(back["results"]["scenario"], hostile);
  EXPECT_EQ(back["results"]["requests_by_name"][0]["name"], hostile);
  EXPECT_EQ(back, *data);
}

TEST(HtmlReport, PageIsTheTemplateWithTheDataInIt) {
  auto data = ReportData(Sample(), {});
  ASSERT_TRUE(data);
  const std::string page = HtmlReport(*data);
  const std::string_view t = HtmlTemplate();
  const size_t at = t.find("/*@DATA@*/");
  EXPECT_EQ(page.substr(0, at), t.substr(0, at));
  EXPECT_EQ(page.find("/*@DATA@*/"), std::string::npos);
  EXPECT_EQ(json::parse(DataText(page))["schema"], kReportDataSchema);
}

TEST(ParseResultsForReport, DropsThePerSecondHistogramsOnly) {
  auto doc = ParseResultsForReport(R"({"series":[{"second":0,"histogram":"HISTF..."}],"histograms":{"response_time_us":"x"}})");
  ASSERT_TRUE(doc);
  EXPECT_FALSE((*doc)["series"][0].contains("histogram"));
  EXPECT_EQ((*doc)["series"][0]["second"], 0);
  EXPECT_EQ((*doc)["histograms"]["response_time_us"], "x");
  EXPECT_FALSE(ParseResultsForReport("{not json"));
}

}  // namespace
}  // namespace headroom::report
