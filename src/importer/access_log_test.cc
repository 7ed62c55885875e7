// Access logs -> request shapes, weights and a replay of the arrival curve (testdata/logs), and
// the streaming bound: memory follows the number of shapes, not the size of the log.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <sstream>

#include "importer/importer.h"
#include "importer/log_model.h"
#include "importer/test_util.h"

#if defined(__SANITIZE_ADDRESS__)
// AddressSanitizer keeps freed blocks in a quarantine (256 MB by default) before reusing them, which
// the bounded-memory test below would count as growth; a small quarantine keeps the figure honest.
extern "C" const char* __asan_default_options() { return "quarantine_size_mb=4"; }
#endif

namespace headroom::importer {
namespace {

namespace fs = std::filesystem;
using namespace testing;  // the helpers of test_util.h

constexpr int64_t kSec = 1'000'000'000;

Imported MustImport(const std::string& log_text, const Options& options = Options{}) {
  std::istringstream in(log_text);
  auto imported = ImportAccessLog(in, options);
  EXPECT_TRUE(imported.has_value()) << (imported ? "" : imported.error().message);
  return imported ? *imported : Imported{};
}

// Requests the replay sends: the integral of every ramp.
double ReplayedRequests(const scenario::Scenario& s) {
  double total = 0;
  for (const scenario::Phase& p : s.phases) total += (p.from_per_sec + p.to_per_sec) / 2 * double(p.duration_ns) / kSec;
  return total;
}

TEST(AccessLogLine, CombinedAndCommonFormats) {
  auto a = ParseAccessLogLine(
      R"(203.0.113.9 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif?x=1 HTTP/1.0" 200 2326 "http://e.com/" "Mozilla/4.08 [en]")");
  ASSERT_TRUE(a.has_value()) << a.error().message;
  EXPECT_EQ(a->time_s, 971211336);  // 2000-10-10T20:55:36Z
  EXPECT_EQ(a->method, "GET");
  EXPECT_EQ(a->target, "/apache_pb.gif?x=1");
  EXPECT_EQ(a->status, 200);
  auto b = ParseAccessLogLine(R"(::1 - - [29/Feb/2024:00:00:00 +0000] "POST http://h/x/y HTTP/1.1" 502 -)");
  ASSERT_TRUE(b.has_value()) << b.error().message;
  EXPECT_EQ(b->target, "/x/y");
  EXPECT_EQ(b->time_s, 1709164800);
  auto c = ParseAccessLogLine(R"(h - - [01/May/2024:10:00:00 +0000] "GET /q?s=\x22a\x22 HTTP/1.1" 200 1)");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->target, "/q?s=\"a\"");
  for (const char* bad : {"", "garbage", "h - - [01/May/2024:10:00:00 +0000] \"GET\" 200",
                          "h - - [01/May/2024:10:00:00 +0000] \"-\" 400 0",
                          "h - - [01/Mai/2024:10:00:00 +0000] \"GET / HTTP/1.1\" 200 1",
                          "h - - [01/May/2024:10:00:00 +0000] \"GET / HTTP/1.1\" 20x 1"}) {
    EXPECT_FALSE(ParseAccessLogLine(bad).has_value()) << bad;
  }
}

TEST(AccessLogImport, IdsCollapseIntoTemplates) {
  Imported imported = MustImport(ReadText(kTestdata / "logs/ids.log"));
  ExpectGolden(kTestdata / "logs/ids.yaml", NotesText(imported) + imported.yaml);
  scenario::Scenario s = MustLoad(imported.yaml);
  ASSERT_FALSE(s.requests.empty());
  // /users/123/orders, /users/456/orders and /users/7/orders?page=2: one shape without the query.
  EXPECT_EQ(s.requests[0].path, "/users/{{ randint(123, 456) }}/orders");
  EXPECT_EQ(s.requests[0].weight, 2);
  bool uuid = false, hex = false, search = false, odd = false;
  for (const scenario::RequestSpec& r : s.requests) {
    uuid |= r.path == "/orders/{{ uuid() }}";
    hex |= r.path == "/blobs/{{ choice(\"5f2b3c4d5e6f7a8b9c0d1e2f\", \"aa11bb22cc33dd44ee55ff66\") }}";
    search |= r.path == "/search?q={{ choice(\"red+shoes\", \"blue%20hat\") }}&sort=price";
    if (r.path.starts_with("/odd/")) {
      odd = true;
      EXPECT_TRUE(Render(s, size_t(&r - s.requests.data())).starts_with("GET /odd/{{x}}/\"q\" HTTP/1.1\r\n"));
    }
  }
  EXPECT_TRUE(uuid && hex && search && odd) << imported.yaml;
}

TEST(AccessLogImport, MalformedLinesAreCountedNeverFatal) {
  Imported imported = MustImport(ReadText(kTestdata / "logs/malformed.log"));
  scenario::Scenario s = MustLoad(imported.yaml);
  EXPECT_EQ(s.requests.size(), 2u);
  EXPECT_NE(NotesText(imported).find("3 malformed line(s) skipped; first at line 2: no [time] field"), std::string::npos)
      << NotesText(imported);
  std::istringstream only_bad("nothing\nhere\n");
  auto none = ImportAccessLog(only_bad, Options{});
  ASSERT_FALSE(none.has_value());
  EXPECT_NE(none.error().message.find("line 1"), std::string::npos) << none.error().message;
  std::istringstream empty("");
  EXPECT_FALSE(ImportAccessLog(empty, Options{}).has_value());
}

// A log whose rate rises from 1/s to 10/s over 10 minutes, then holds at 10/s for 5 minutes.
std::string CurveLog(int64_t* lines) {
  std::string log;
  *lines = 0;
  for (int sec = 0; sec < 900; ++sec) {
    const int per_sec = sec < 600 ? 1 + sec * 9 / 599 : 10;
    char ts[64];
    const int minute = sec / 60, second = sec % 60;
    std::snprintf(ts, sizeof ts, "[01/May/2024:10:%02d:%02d +0000]", minute, second);
    for (int i = 0; i < per_sec; ++i) {
      log += "10.0.0.1 - - " + std::string(ts) + " \"GET /items/" + std::to_string(sec * 10 + i) + " HTTP/1.1\" 200 5\n";
      ++*lines;
    }
  }
  return log;
}

TEST(AccessLogImport, ReplayFollowsThePerSecondCurve) {
  int64_t lines = 0;
  const std::string log = CurveLog(&lines);
  Imported imported = MustImport(log);
  scenario::Scenario s = MustLoad(imported.yaml);
  ASSERT_EQ(s.phases.size(), 15u);  // one ramp per minute
  EXPECT_NEAR(ReplayedRequests(s), double(lines), 0.05 * 15);  // rates are written with 4 decimals
  for (size_t i = 0; i + 1 < 10; ++i) {
    EXPECT_EQ(s.phases[i].kind, scenario::PhaseKind::kRamp);
    EXPECT_LE(s.phases[i].from_per_sec, s.phases[i].to_per_sec) << i;  // rising (the first minute is flat)
    if (i > 0) {
      EXPECT_LT(s.phases[i].from_per_sec, s.phases[i].to_per_sec) << i;
    }
    EXPECT_LE(s.phases[i].to_per_sec, s.phases[i + 1].to_per_sec + 0.5) << i;
  }
  EXPECT_NEAR(s.phases[0].from_per_sec, 1.0, 0.3);
  for (size_t i = 10; i < 15; ++i) {
    EXPECT_NEAR(s.phases[i].from_per_sec, 10, 1e-9);  // the flat part stays flat
    EXPECT_NEAR(s.phases[i].to_per_sec, 10, 1e-9);
  }
  EXPECT_EQ(s.requests.size(), 1u);
  EXPECT_EQ(s.requests[0].path, "/items/{{ randint(0, 8999) }}");

  Options fast;
  fast.speed = 3;
  fast.step_s = 300;
  scenario::Scenario s3 = MustLoad(MustImport(log, fast).yaml);
  ASSERT_EQ(s3.phases.size(), 3u);
  EXPECT_NEAR(ReplayedRequests(s3), 3.0 * double(lines), 0.05 * 3);
  EXPECT_NEAR(s3.phases[2].to_per_sec, 30, 1e-9);
}

TEST(AccessLogImport, LongSpansWidenTheStep) {
  // Two requests a year apart: the replay stays within kMaxCurveBuckets phases.
  const std::string log =
      "h - - [01/May/2023:10:00:00 +0000] \"GET / HTTP/1.1\" 200 1\n"
      "h - - [01/May/2024:10:00:00 +0000] \"GET / HTTP/1.1\" 200 1\n";
  Imported imported = MustImport(log);
  scenario::Scenario s = MustLoad(imported.yaml);
  EXPECT_LE(s.phases.size(), kMaxCurveBuckets);
  EXPECT_NEAR(ReplayedRequests(s), 2.0, 0.01);
  EXPECT_NE(NotesText(imported).find("each replay phase covers"), std::string::npos);
}

TEST(AccessLogImport, SpeedParsing) {
  EXPECT_EQ(*ParseSpeed("3x"), 3);
  EXPECT_EQ(*ParseSpeed("0.5x"), 0.5);
  EXPECT_EQ(*ParseSpeed("2"), 2);
  for (const char* bad : {"", "x", "-1x", "0x", "3y", "nanx", "1e9x"}) EXPECT_FALSE(ParseSpeed(bad).has_value()) << bad;
}

TEST(ShapeTableBound, KeepsAtMostTheTrackedShapesAndTheFrequentOnes) {
  ShapeTable table(100);
  for (int i = 0; i < 100000; ++i) {
    table.Add("GET", "/frequent/a");
    if (i % 3 == 0) table.Add("GET", "/frequent/b");
    table.Add("GET", "/rare/x" + std::to_string(i));  // a new shape every time (not an id)
  }
  const auto ranked = table.Ranked();
  EXPECT_LE(ranked.size(), 100u);
  ASSERT_GE(ranked.size(), 2u);
  EXPECT_EQ(ranked[0]->literals[0], "/frequent/a");
  EXPECT_EQ(ranked[0]->count, 100000u);
  EXPECT_EQ(ranked[1]->literals[0], "/frequent/b");
  EXPECT_EQ(ranked[1]->count, 33334u);
  uint64_t counted = table.untracked();
  for (const Shape* s : ranked) counted += s->count;
  EXPECT_EQ(counted, 100000u + 33334u + 100000u);
}

long MaxRssKiB() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

TEST(AccessLogImport, StreamsALargeLogInBoundedMemory) {
  // 2 million lines (~190 MB) with 400,000 distinct shapes: the importer's peak memory stays a
  // small fraction of the file, and the mix holds the 50 most frequent shapes.
  const fs::path path = fs::temp_directory_path() / ("headroom-import-" + std::to_string(getpid()) + ".log");
  uintmax_t file_bytes = 0;
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    for (int i = 0; i < 2'000'000; ++i) {
      const int sec = i / 500;  // 500 requests per second for 4000 s
      std::fprintf(f,
                   "10.1.%d.%d - - [01/May/2024:%02d:%02d:%02d +0000] \"GET /%s/%d/page-%d?ref=%d HTTP/1.1\" 200 %d "
                   "\"-\" \"load-generator/1.0\"\n",
                   i % 200, i % 250, 10 + sec / 3600, sec / 60 % 60, sec % 60, i % 5 == 0 ? "hot" : "cold", i % 97,
                   i % 5 == 0 ? i % 40 : i % 400'000, i, 100 + i % 900);
    }
    std::fclose(f);
    file_bytes = fs::file_size(path);
  }
  const long before_kib = MaxRssKiB();
  std::ifstream in(path, std::ios::binary);
  auto imported = ImportAccessLog(in, Options{});
  const long grown_kib = MaxRssKiB() - before_kib;
  fs::remove(path);
  ASSERT_TRUE(imported.has_value()) << imported.error().message;
  scenario::Scenario s = MustLoad(imported->yaml);
  EXPECT_EQ(s.requests.size(), 50u);
  EXPECT_NEAR(ReplayedRequests(s), 2'000'000.0, 100.0);
  EXPECT_NE(NotesText(*imported).find("left out of the mix"), std::string::npos);
  // Every hot shape (/hot/{id}/page-N for 40 values of N... collapsed ids) outranks the cold ones.
  EXPECT_TRUE(s.requests[0].path.starts_with("/hot/")) << s.requests[0].path;
  EXPECT_LT(uintmax_t(grown_kib) * 1024, file_bytes / 8) << "grew " << grown_kib << " KiB for a " << file_bytes
                                                         << "-byte log";
}

}  // namespace
}  // namespace headroom::importer
