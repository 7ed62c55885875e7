#include "target/request.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace headroom::target {
namespace {

std::string Unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 >= s.size()) {
      out.push_back(s[i]);
      continue;
    }
    char c = s[++i];
    if (c == 'r') out.push_back('\r');
    else if (c == 'n') out.push_back('\n');
    else if (c == 't') out.push_back('\t');
    else if (c == 'x') {
      out.push_back(static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else out.push_back(c);
  }
  return out;
}

struct Case {
  int line;
  std::string expect, method, target, keep_alive, raw;
};

std::vector<Case> LoadCases() {
  std::ifstream in(std::string(HEADROOM_SOURCE_DIR) + "/src/target/testdata/requests.txt");
  std::vector<Case> cases;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    Case c{n};
    fields >> c.expect >> c.method >> c.target >> c.keep_alive;
    std::getline(fields, c.raw);
    c.raw = Unescape(c.raw.substr(1));
    cases.push_back(c);
  }
  return cases;
}

TEST(RequestParser, TestdataCases) {
  std::vector<Case> cases = LoadCases();
  ASSERT_GE(cases.size(), 20u);
  for (const Case& c : cases) {
    SCOPED_TRACE("requests.txt line " + std::to_string(c.line));
    Request req;
    ParseState s = ParseRequest(c.raw, &req);
    if (c.expect == "complete") {
      ASSERT_EQ(s, ParseState::kComplete);
      EXPECT_EQ(req.method, c.method);
      EXPECT_EQ(req.target, c.target);
      EXPECT_EQ(req.keep_alive, c.keep_alive == "1");
      EXPECT_EQ(req.consumed_bytes, c.raw.size());
    } else if (c.expect == "incomplete") {
      EXPECT_EQ(s, ParseState::kIncomplete);
    } else {
      EXPECT_EQ(s, ParseState::kBad);
    }
  }
}

TEST(RequestParser, PipelinedRequestsConsumeOneAtATime) {
  std::string two = "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n";
  Request req;
  ASSERT_EQ(ParseRequest(two, &req), ParseState::kComplete);
  EXPECT_EQ(req.target, "/a");
  ASSERT_EQ(ParseRequest(std::string_view(two).substr(req.consumed_bytes), &req), ParseState::kComplete);
  EXPECT_EQ(req.target, "/b");
}

TEST(RequestParser, OversizedHeaderIsBad) {
  std::string big = "GET / HTTP/1.1\r\nX: " + std::string(kMaxHeaderBytes, 'a');
  Request req;
  EXPECT_EQ(ParseRequest(big, &req), ParseState::kBad);
}

TEST(Router, Routes) {
  EXPECT_EQ(RouteRequest("GET", "/").inline_body, "ok\n");
  Route bytes = RouteRequest("GET", "/bytes/123");
  EXPECT_EQ(bytes.body_kind, BodyKind::kStatic);
  EXPECT_EQ(bytes.body_bytes, 123);
  EXPECT_EQ(RouteRequest("GET", "/bytes/999999999999").status, 404);  // over the cap
  EXPECT_EQ(RouteRequest("GET", "/cpu/250").cpu_us, 250);
  EXPECT_EQ(RouteRequest("GET", "/sleep/7").sleep_ms, 7);
  EXPECT_EQ(RouteRequest("GET", "/status/503").status, 503);
  EXPECT_EQ(RouteRequest("GET", "/status/99").status, 404);
  EXPECT_EQ(RouteRequest("GET", "/chunked/10").body_kind, BodyKind::kChunked);
  EXPECT_EQ(RouteRequest("GET", "/bytes/12x").status, 404);
  EXPECT_EQ(RouteRequest("GET", "/elsewhere").status, 404);
  EXPECT_EQ(RouteRequest("GET", "/?q=1").status, 200);
}

TEST(Router, ChunkedBodyEncodesLength) {
  Route r = RouteRequest("GET", "/chunked/2500");
  std::string body;
  AppendBody(&body, r);
  EXPECT_EQ(body.substr(0, 5), "3e8\r\n");
  EXPECT_NE(body.find("\r\n1f4\r\n"), std::string::npos);  // 1000 + 1000 + 500
  EXPECT_TRUE(body.ends_with("\r\n0\r\n\r\n"));
  EXPECT_EQ(body.size(), 2500 + 3 * (3 + 2 + 2) + 5u);
}

}  // namespace
}  // namespace headroom::target
