// Compiled requests: exact bytes, well-formed HTTP, and the documented distributions of every
// template function (fixed seeds, generous statistical bounds: deterministic).
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "core/version.h"
#include "scenario/scenario.h"

namespace headroom::scenario {
namespace {

namespace fs = std::filesystem;

const std::string kDataDir = (fs::path(HEADROOM_SOURCE_DIR) / "src/scenario/testdata/good").string();

// A scenario with the given requests (YAML list items) and the test CSV files as data.
Scenario Load(const std::string& requests, const std::string& extra = "") {
  std::string text = "name: t\ntarget: http://127.0.0.1:8080\n" + extra +
                     "data:\n  users: { file: ../data/users.csv }\n"
                     "  shuffled: { file: ../data/users.csv, order: random }\n"
                     "requests:\n" + requests +
                     "phases: [ { baseline: { rate: 1/s, duration: 1s } } ]\n";
  auto s = LoadScenarioFromString(text, "t.yaml", kDataDir);
  EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().message);
  return s ? *s : Scenario{};
}

std::vector<CompiledRequest> Compile(const Scenario& s, std::string_view base_path = "") {
  auto c = CompileRequests(s, "127.0.0.1:8080", base_path);
  EXPECT_TRUE(c.has_value()) << (c ? "" : c.error().message);
  return c ? std::move(*c) : std::vector<CompiledRequest>{};
}

struct ParsedRequest {
  std::string method, target, version, body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string Header(const std::string& name) const {
    for (const auto& [n, v] : headers) {
      if (n == name) return v;
    }
    return "<none>";
  }
};

// Strict HTTP/1.1 request parse: request line, headers, CRLFs, Content-Length == body size.
ParsedRequest ParseHttp(const std::string& bytes) {
  ParsedRequest p;
  size_t end = bytes.find("\r\n\r\n");
  EXPECT_NE(end, std::string::npos) << bytes;
  if (end == std::string::npos) return p;
  std::string head = bytes.substr(0, end + 2);
  p.body = bytes.substr(end + 4);
  size_t line_end = head.find("\r\n");
  std::string line = head.substr(0, line_end);
  size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
  p.method = line.substr(0, sp1);
  p.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  p.version = line.substr(sp2 + 1);
  EXPECT_EQ(p.version, "HTTP/1.1");
  EXPECT_EQ(p.target.find(' '), std::string::npos);
  size_t pos = line_end + 2;
  while (pos < head.size()) {
    size_t e = head.find("\r\n", pos);
    std::string h = head.substr(pos, e - pos);
    size_t colon = h.find(": ");
    EXPECT_NE(colon, std::string::npos) << h;
    p.headers.emplace_back(h.substr(0, colon), h.substr(colon + 2));
    pos = e + 2;
  }
  std::string cl = p.Header("Content-Length");
  if (cl != "<none>") EXPECT_EQ(cl, std::to_string(p.body.size()));
  else EXPECT_TRUE(p.body.empty());
  return p;
}

// Pearson chi-square statistic of `counts` against a uniform expectation.
double ChiSquare(const std::map<std::string, int>& counts, size_t bins, int total) {
  const double expected = double(total) / double(bins);
  double chi = 0;
  for (const auto& [k, c] : counts) chi += (c - expected) * (c - expected) / expected;
  chi += double(bins - counts.size()) * expected;  // bins never seen
  return chi;
}

std::map<std::string, int> Histogram(const CompiledRequest& r, RenderContext& ctx, int n,
                                     const std::string& prefix) {
  std::map<std::string, int> counts;
  std::string out;
  for (int i = 0; i < n; ++i) {
    r.RenderInto(ctx, out);
    ParsedRequest p = ParseHttp(out);
    counts[p.target.substr(prefix.size())]++;
  }
  return counts;
}

TEST(Render, StaticRequestIsExactBytes) {
  Scenario s = Load("  - { name: home, path: /, headers: { Accept: application/json } }\n");
  auto reqs = Compile(s);
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_TRUE(reqs[0].IsStatic());
  const std::string expected =
      "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: headroom/" HEADROOM_VERSION
      "\r\nAccept: application/json\r\n\r\n";
  EXPECT_EQ(reqs[0].StaticBytes(), expected);
  RenderContext ctx = MakeRenderContext(reqs, 1, 0, 1);
  std::string out;
  reqs[0].RenderInto(ctx, out);
  EXPECT_EQ(out, expected);
}

TEST(Render, BasePathHostOverrideAndBodies) {
  Scenario s = Load(
      "  - { name: a, path: /x, headers: { Host: example.test, User-Agent: k6 } }\n"
      "  - { name: b, method: POST, path: /empty }\n"
      "  - { name: c, method: PUT, path: /c, body: 'hello' }\n");
  auto reqs = Compile(s, "/api/");
  ASSERT_EQ(reqs.size(), 3u);
  ParsedRequest a = ParseHttp(std::string(reqs[0].StaticBytes()));
  EXPECT_EQ(a.target, "/api/x");
  EXPECT_EQ(a.Header("Host"), "example.test");
  EXPECT_EQ(a.Header("User-Agent"), "k6");
  EXPECT_EQ(a.headers.size(), 2u);
  ParsedRequest b = ParseHttp(std::string(reqs[1].StaticBytes()));
  EXPECT_EQ(b.method, "POST");
  EXPECT_EQ(b.Header("Content-Length"), "0");  // servers may answer 411 without it
  ParsedRequest c = ParseHttp(std::string(reqs[2].StaticBytes()));
  EXPECT_EQ(c.body, "hello");
  EXPECT_EQ(c.Header("Content-Length"), "5");
}

TEST(Render, TemplatedBodyHasExactContentLength) {
  Scenario s = Load(
      "  - name: order\n    method: POST\n    path: /orders/{{ randint(1, 100000) }}\n"
      "    headers: { X-Id: \"{{ uuid() }}\" }\n"
      "    body: '{\"user\":\"{{ shuffled.name }}\",\"n\":{{ seq() }},\"r\":{{ randint(-5, 123456789) }}}'\n");
  auto reqs = Compile(s);
  ASSERT_FALSE(reqs[0].IsStatic());
  RenderContext ctx = MakeRenderContext(reqs, 7, 0, 1);
  std::string out;
  std::set<size_t> lengths;
  for (int i = 0; i < 2000; ++i) {
    reqs[0].RenderInto(ctx, out);
    ParsedRequest p = ParseHttp(out);  // checks Content-Length == body size
    EXPECT_EQ(p.method, "POST");
    EXPECT_LE(out.size(), reqs[0].RenderCapacityHint());
    lengths.insert(p.body.size());
  }
  EXPECT_GT(lengths.size(), 5u);  // the body length really varies
}

TEST(Render, RandIntIsUniformWithinBounds) {
  Scenario s = Load("  - { name: r, path: \"/r/{{ randint(1, 10) }}\" }\n");
  auto reqs = Compile(s);
  RenderContext ctx = MakeRenderContext(reqs, 12345, 0, 1);
  const int n = 100000;
  auto counts = Histogram(reqs[0], ctx, n, "/r/");
  ASSERT_EQ(counts.size(), 10u);
  for (const auto& [k, c] : counts) {
    int v = std::stoi(k);
    EXPECT_GE(v, 1);
    EXPECT_LE(v, 10);
  }
  // 9 degrees of freedom: P(chi2 > 27.88) = 0.001.
  EXPECT_LT(ChiSquare(counts, 10, n), 27.88);
}

TEST(Render, SeqIncrementsAndInterleavesAcrossWorkers) {
  Scenario s = Load("  - { name: s, path: \"/s/{{ seq() }}/{{ seq(100) }}\" }\n");
  auto reqs = Compile(s);
  RenderContext one = MakeRenderContext(reqs, 1, 0, 1);
  std::string out;
  for (int i = 0; i < 5; ++i) {
    reqs[0].RenderInto(one, out);
    EXPECT_EQ(ParseHttp(out).target, "/s/" + std::to_string(i) + "/" + std::to_string(100 + i));
  }
  std::set<std::string> seen;
  for (int w = 0; w < 3; ++w) {
    RenderContext ctx = MakeRenderContext(reqs, 1, w, 3);
    for (int i = 0; i < 4; ++i) {
      reqs[0].RenderInto(ctx, out);
      std::string target = ParseHttp(out).target;
      EXPECT_EQ(target, "/s/" + std::to_string(w + 3 * i) + "/" + std::to_string(100 + w + 3 * i));
      EXPECT_TRUE(seen.insert(target).second);
    }
  }
}

TEST(Render, UuidIsVersion4AndUnique) {
  Scenario s = Load("  - { name: u, path: \"/u/{{ uuid() }}\" }\n");
  auto reqs = Compile(s);
  RenderContext ctx = MakeRenderContext(reqs, 99, 0, 1);
  const std::regex v4("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  std::set<std::string> seen;
  std::string out;
  for (int i = 0; i < 10000; ++i) {
    reqs[0].RenderInto(ctx, out);
    std::string id = ParseHttp(out).target.substr(3);
    ASSERT_TRUE(std::regex_match(id, v4)) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 10000u);
}

TEST(Render, ChoiceIsUniform) {
  Scenario s = Load("  - { name: c, path: \"/c/{{ choice(a, b, \\\"c d\\\", e) }}\" }\n");
  auto reqs = Compile(s);
  RenderContext ctx = MakeRenderContext(reqs, 5, 0, 1);
  std::map<std::string, int> counts;
  std::string out;
  const int n = 40000;
  for (int i = 0; i < n; ++i) {
    reqs[0].RenderInto(ctx, out);
    counts[out.substr(7, out.find(" HTTP/1.1") - 7)]++;
  }
  ASSERT_EQ(counts.size(), 4u);
  EXPECT_TRUE(counts.contains("c d"));  // quoted argument keeps its space
  EXPECT_LT(ChiSquare(counts, 4, n), 16.27);  // 3 dof, p = 0.001
}

TEST(Render, CsvSequentialWalksRowsInOrderAndStaggersWorkers) {
  Scenario s = Load("  - { name: u, path: \"/u/{{ users.id }}\" }\n");
  auto reqs = Compile(s);
  RenderContext ctx = MakeRenderContext(reqs, 1, 0, 1);
  std::string out;
  std::string order;
  for (int i = 0; i < 9; ++i) {
    reqs[0].RenderInto(ctx, out);
    order += ParseHttp(out).target.substr(3);
  }
  EXPECT_EQ(order, "123412341");
  RenderContext second = MakeRenderContext(reqs, 1, 1, 2);  // worker 1 of 2 starts halfway
  reqs[0].RenderInto(second, out);
  EXPECT_EQ(ParseHttp(out).target, "/u/3");
}

TEST(Render, CsvRandomCoversEveryRowUniformly) {
  Scenario s = Load("  - { name: u, path: \"/u/{{ shuffled.id }}\" }\n");
  auto reqs = Compile(s);
  RenderContext ctx = MakeRenderContext(reqs, 3, 0, 1);
  const int n = 20000;
  auto counts = Histogram(reqs[0], ctx, n, "/u/");
  ASSERT_EQ(counts.size(), 4u);
  EXPECT_LT(ChiSquare(counts, 4, n), 16.27);
}

TEST(Render, OneRowPerSourcePerRequest) {
  Scenario s = Load(
      "  - { name: u, method: POST, path: \"/u/{{ shuffled.id }}\", body: '{{ shuffled.id }}:{{ shuffled.name }}' }\n");
  auto reqs = Compile(s);
  RenderContext ctx = MakeRenderContext(reqs, 11, 0, 1);
  const std::map<std::string, std::string> names = {{"1", "alice"}, {"2", "bob, jr"}, {"3", "carol"}, {"4", "dave"}};
  std::string out;
  for (int i = 0; i < 200; ++i) {
    reqs[0].RenderInto(ctx, out);
    ParsedRequest p = ParseHttp(out);
    std::string id = p.target.substr(3);
    EXPECT_EQ(p.body, id + ":" + names.at(id));
  }
}

TEST(Render, EnvIsResolvedAtCompileTime) {
  ::setenv("HEADROOM_TEST_REGION", "eu-west", 1);
  Scenario s = Load("  - { name: e, path: \"/{{ env(HEADROOM_TEST_REGION) }}/{{ env(HEADROOM_TEST_NOPE, x) }}\" }\n");
  auto reqs = Compile(s);
  ::unsetenv("HEADROOM_TEST_REGION");
  ASSERT_TRUE(reqs[0].IsStatic());
  EXPECT_EQ(ParseHttp(std::string(reqs[0].StaticBytes())).target, "/eu-west/x");
}

TEST(Render, SameSeedSameBytes) {
  Scenario s = Load("  - { name: r, path: \"/r/{{ randint(1, 1000000) }}/{{ uuid() }}\" }\n");
  auto reqs = Compile(s);
  RenderContext a = MakeRenderContext(reqs, 77, 2, 4);
  RenderContext b = MakeRenderContext(reqs, 77, 2, 4);
  RenderContext other = MakeRenderContext(reqs, 77, 3, 4);
  std::string x, y, z;
  int differ = 0;
  for (int i = 0; i < 100; ++i) {
    reqs[0].RenderInto(a, x);
    reqs[0].RenderInto(b, y);
    reqs[0].RenderInto(other, z);
    EXPECT_EQ(x, y);
    differ += x != z;
  }
  EXPECT_EQ(differ, 100);  // another worker has its own stream
}

}  // namespace
}  // namespace headroom::scenario
