// The HTTP/2 mapping: requests the encoder writes become HTTP/2's pseudo-headers and fields, and a
// stream's header callbacks become the status, kept headers and body that response checks read.
#include <gtest/gtest.h>

#include "http/http.h"

namespace headroom::http {
namespace {

TEST(SplitRequestForH2, EncodedRequestBecomesPseudoHeadersAndLowerCaseFields) {
  RequestSpec spec;
  spec.method = "POST";
  spec.path_and_query = "/items?x=1";
  spec.host = "example.com:8080";
  spec.headers = {{"X-Trace-ID", "  abc  "}, {"Content-Type", "application/json"}};
  spec.body = "{\"a\":1}";
  spec.keep_alive = false;  // adds Connection: close, which HTTP/2 must not send
  const std::string bytes = EncodeRequest(spec);
  H2Request r;
  ASSERT_TRUE(SplitRequestForH2(bytes, &r));
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.path, "/items?x=1");
  EXPECT_EQ(r.authority, "example.com:8080");
  EXPECT_EQ(r.body, "{\"a\":1}");
  std::vector<std::pair<std::string, std::string>> fields;
  for (const H2Request::Field& f : r.headers) fields.emplace_back(f.name, f.value);
  const std::vector<std::pair<std::string, std::string>> want = {
      {"x-trace-id", "abc"}, {"content-type", "application/json"}, {"user-agent", fields[2].second},
      {"content-length", "7"}};
  ASSERT_EQ(fields.size(), 4u);
  EXPECT_EQ(fields[0], want[0]);
  EXPECT_EQ(fields[1], want[1]);
  EXPECT_EQ(fields[2].first, "user-agent");
  EXPECT_TRUE(fields[2].second.starts_with("headroom/"));
  EXPECT_EQ(fields[3], want[3]);
}

TEST(SplitRequestForH2, ConnectionSpecificFieldsAreDropped) {
  const std::string bytes =
      "GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\nKeep-Alive: 5\r\nProxy-Connection: x\r\n"
      "Transfer-Encoding: chunked\r\nUpgrade: h2c\r\nTE: gzip\r\nte: trailers\r\nAccept: */*\r\n\r\n";
  H2Request r;
  ASSERT_TRUE(SplitRequestForH2(bytes, &r));
  ASSERT_EQ(r.headers.size(), 2u);
  EXPECT_EQ(r.headers[0].name, "te");
  EXPECT_EQ(r.headers[0].value, "trailers");
  EXPECT_EQ(r.headers[1].name, "accept");
  EXPECT_TRUE(r.body.empty());
}

TEST(SplitRequestForH2, ReuseKeepsCapacityAndGivesTheSameParts) {
  const std::string bytes = "GET /x HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nX-B: 2\r\n\r\n";
  H2Request r;
  ASSERT_TRUE(SplitRequestForH2(bytes, &r));
  const char* names = r.names.data();
  ASSERT_TRUE(SplitRequestForH2(bytes, &r));
  EXPECT_EQ(r.names.data(), names);  // no new allocation the second time
  ASSERT_EQ(r.headers.size(), 2u);
  EXPECT_EQ(r.headers[1].name, "x-b");
}

TEST(SplitRequestForH2, RefusesWhatIsNotARequest) {
  H2Request r;
  for (const char* bad : {"", "GET / HTTP/1.1", "GET /\r\n\r\n", "GET  HTTP/1.1\r\n\r\n",
                          "GET / HTTP/1.1\r\nNoColon\r\n\r\n", "GET / HTTP/1.1\r\nHost: a\r\n", "G(T / HTTP/1.1\r\n\r\n",
                          "GET / HTTP/1.1\r\n: v\r\n\r\n"}) {
    EXPECT_FALSE(SplitRequestForH2(bad, &r)) << bad;
  }
}

TEST(H2ResponseBuilder, KeepsFinalStatusHeadersAndBody) {
  const std::vector<std::string> names = {"content-type", "x-a"};
  ResponseCapture kept;
  kept.header_names = &names;
  kept.max_body_bytes = 4;
  H2ResponseBuilder b;
  b.Reset(false, &kept);
  // An interim 103 with its own x-a, then the final response.
  b.BeginHeaders();
  ASSERT_TRUE(b.OnHeader(":status", "103"));
  ASSERT_TRUE(b.OnHeader("x-a", "early"));
  EXPECT_EQ(b.status_code(), 0);
  b.BeginHeaders();
  ASSERT_TRUE(b.OnHeader(":status", "201"));
  ASSERT_TRUE(b.OnHeader("content-type", "text/plain"));
  ASSERT_TRUE(b.OnHeader("x-a", "1"));
  ASSERT_TRUE(b.OnHeader("x-a", "2"));
  b.OnData("hello", 5);
  b.OnData("!", 1);
  // Trailers count like headers.
  b.BeginHeaders();
  ASSERT_TRUE(b.OnHeader("x-a", "3"));
  EXPECT_EQ(b.status_code(), 201);
  EXPECT_EQ(b.body_bytes(), 6u);
  EXPECT_EQ(kept.body, "hell");
  EXPECT_TRUE(kept.body_truncated);
  EXPECT_EQ(kept.header_values[0], "text/plain");
  EXPECT_EQ(kept.header_values[1], "1, 2, 3");
  EXPECT_EQ(kept.header_seen[0], 1);
  // Reset clears what was kept.
  b.Reset(true, &kept);
  EXPECT_EQ(b.status_code(), 0);
  EXPECT_TRUE(b.head_request());
  EXPECT_TRUE(kept.body.empty());
  EXPECT_EQ(kept.header_seen[1], 0);
}

TEST(H2ResponseBuilder, RefusesBadStatusAndOversizedHeaderBlocks) {
  H2ResponseBuilder b(100);
  for (const char* bad : {"20", "2000", "abc", "099", "-10"}) {
    b.Reset(false, nullptr);
    b.BeginHeaders();
    EXPECT_FALSE(b.OnHeader(":status", bad)) << bad;
  }
  b.Reset(false, nullptr);
  b.BeginHeaders();
  ASSERT_TRUE(b.OnHeader(":status", "200"));
  EXPECT_FALSE(b.OnHeader(":status", "200"));  // a second final status
  b.Reset(false, nullptr);
  b.BeginHeaders();
  ASSERT_TRUE(b.OnHeader(":status", "200"));
  EXPECT_FALSE(b.OnHeader("x-big", std::string(80, 'v')));  // 5 + 80 + 32 + the status field > 100
  EXPECT_TRUE(b.too_large());
}

}  // namespace
}  // namespace headroom::http
