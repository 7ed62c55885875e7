#include <gtest/gtest.h>

#include <string>

#include "core/version.h"
#include "http/http.h"

// g++ 12 reports a false -Wrestrict inside std::string when it inlines string assembly here
// (GCC bug 105329); the code is plain std::string use.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wrestrict"
#endif

namespace headroom::http {
namespace {

const std::string kUserAgent = "User-Agent: headroom/" HEADROOM_VERSION "\r\n";

TEST(EncodeRequestTest, MinimalGet) {
  RequestSpec spec;
  spec.host = "127.0.0.1:8080";
  spec.path_and_query = "/health?full=1";
  EXPECT_EQ(EncodeRequest(spec),
            "GET /health?full=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n" + kUserAgent + "\r\n");
}

TEST(EncodeRequestTest, PostWithBodyAndHeadersInOrder) {
  RequestSpec spec;
  spec.method = "POST";
  spec.host = "api";
  spec.path_and_query = "/orders";
  spec.headers = {{"Content-Type", "application/json"}, {"X-Trace", "abc"}};
  spec.body = R"({"id":1})";
  EXPECT_EQ(EncodeRequest(spec),
            "POST /orders HTTP/1.1\r\nHost: api\r\nContent-Type: application/json\r\n"
            "X-Trace: abc\r\n" + kUserAgent + "Content-Length: 8\r\n\r\n{\"id\":1}");
}

TEST(EncodeRequestTest, EmptyBodyPutStillSendsContentLength) {
  for (const char* method : {"POST", "PUT", "PATCH"}) {
    RequestSpec spec;
    spec.method = method;
    spec.host = "h";
    EXPECT_NE(EncodeRequest(spec).find("\r\nContent-Length: 0\r\n"), std::string::npos) << method;
  }
  RequestSpec get;
  get.host = "h";
  EXPECT_EQ(EncodeRequest(get).find("Content-Length"), std::string::npos);
}

TEST(EncodeRequestTest, CallerHeadersOverrideDefaults) {
  RequestSpec spec;
  spec.host = "ignored";
  spec.keep_alive = false;
  spec.headers = {{"host", "virtual.example"}, {"user-agent", "custom/1"}, {"Connection", "close"}};
  EXPECT_EQ(EncodeRequest(spec),
            "GET / HTTP/1.1\r\nhost: virtual.example\r\nuser-agent: custom/1\r\nConnection: close\r\n\r\n");
}

TEST(EncodeRequestTest, NoKeepAliveAddsConnectionClose) {
  RequestSpec spec;
  spec.host = "h";
  spec.keep_alive = false;
  EXPECT_EQ(EncodeRequest(spec),
            "GET / HTTP/1.1\r\nHost: h\r\n" + kUserAgent + "Connection: close\r\n\r\n");
}

TEST(EncodeRequestCheckedTest, AcceptsValidSpec) {
  RequestSpec spec;
  spec.method = "DELETE";
  spec.host = "[::1]:8080";
  spec.path_and_query = "/items/7";
  spec.headers = {{"Authorization", "Bearer a.b.c"}, {"X-Tab", "a\tb"}, {"Content-Length", "0"}};
  const Result<std::string> encoded = EncodeRequestChecked(spec);
  ASSERT_TRUE(encoded.has_value()) << encoded.error().message;
  EXPECT_EQ(*encoded, EncodeRequest(spec));
}

struct BadSpec {
  const char* what;
  RequestSpec spec;
  const char* error_contains;
};

RequestSpec With(auto&& edit) {
  RequestSpec spec;
  spec.host = "h";
  edit(spec);
  return spec;
}

TEST(EncodeRequestCheckedTest, RejectsInjectionAndMalformedInput) {
  const BadSpec cases[] = {
      {"CRLF in value", With([](RequestSpec& s) { s.headers = {{"X-A", "1\r\nX-Evil: 2"}}; }),
       "header injection"},
      {"LF in value", With([](RequestSpec& s) { s.headers = {{"X-A", "1\nX"}}; }), "header injection"},
      {"NUL in value", With([](RequestSpec& s) { s.headers = {{"X-A", std::string("a\0b", 3)}}; }),
       "header injection"},
      {"CRLF in name", With([](RequestSpec& s) { s.headers = {{"X-A\r\nX-Evil", "1"}}; }),
       "invalid request header name"},
      {"colon in name", With([](RequestSpec& s) { s.headers = {{"X-A:", "1"}}; }),
       "invalid request header name"},
      {"empty name", With([](RequestSpec& s) { s.headers = {{"", "1"}}; }), "invalid request header name"},
      {"space in method", With([](RequestSpec& s) { s.method = "GET /x"; }), "invalid HTTP method"},
      {"empty method", With([](RequestSpec& s) { s.method = ""; }), "invalid HTTP method"},
      {"CRLF in path", With([](RequestSpec& s) { s.path_and_query = "/a\r\nX-Evil: 1"; }),
       "invalid request path"},
      {"space in path", With([](RequestSpec& s) { s.path_and_query = "/a b"; }), "invalid request path"},
      {"empty path", With([](RequestSpec& s) { s.path_and_query = ""; }), "invalid request path"},
      {"CRLF in host", With([](RequestSpec& s) { s.host = "h\r\nX-Evil: 1"; }), "invalid Host"},
      {"no host", With([](RequestSpec& s) { s.host = ""; }), "missing Host"},
      {"transfer-encoding",
       With([](RequestSpec& s) { s.headers = {{"Transfer-Encoding", "chunked"}}; }), "Transfer-Encoding"},
      {"content-length mismatch", With([](RequestSpec& s) {
         s.body = "abc";
         s.headers = {{"Content-Length", "4"}};
       }),
       "does not match the body size (3 bytes)"},
  };
  for (const BadSpec& c : cases) {
    SCOPED_TRACE(c.what);
    const Result<std::string> encoded = EncodeRequestChecked(c.spec);
    ASSERT_FALSE(encoded.has_value());
    EXPECT_NE(encoded.error().message.find(c.error_contains), std::string::npos)
        << encoded.error().message;
    EXPECT_EQ(encoded.error().message.find_first_of("\r\n"), std::string::npos)
        << encoded.error().message;
  }
}

// An encoded request must round-trip through a response-style reading of its framing: the
// Content-Length the encoder writes equals the body it appends.
TEST(EncodeRequestTest, ContentLengthMatchesBody) {
  RequestSpec spec;
  spec.method = "PUT";
  spec.host = "h";
  spec.body = std::string(1000, 'z');
  const std::string encoded = EncodeRequest(spec);
  const size_t end = encoded.find("\r\n\r\n");
  ASSERT_NE(end, std::string::npos);
  EXPECT_NE(encoded.find("Content-Length: 1000\r\n"), std::string::npos);
  EXPECT_EQ(encoded.size() - (end + 4), 1000u);
}

}  // namespace
}  // namespace headroom::http
