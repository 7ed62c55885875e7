#include <gtest/gtest.h>

#include <string>

#include "http/http.h"

namespace headroom::http {
namespace {

struct GoodUrl {
  const char* text;
  const char* host;
  uint16_t port;
  const char* path_and_query;
  const char* authority;
};

const GoodUrl kGoodUrls[] = {
    {"http://example.com", "example.com", 80, "/", "example.com"},
    {"http://example.com/", "example.com", 80, "/", "example.com"},
    {"HTTP://Example.COM/Path", "example.com", 80, "/Path", "example.com"},
    {"http://localhost:8080/api/v1?x=1&y=2", "localhost", 8080, "/api/v1?x=1&y=2", "localhost:8080"},
    {"http://127.0.0.1:9000", "127.0.0.1", 9000, "/", "127.0.0.1:9000"},
    {"http://127.0.0.1:80/a", "127.0.0.1", 80, "/a", "127.0.0.1"},
    {"http://[::1]/", "::1", 80, "/", "[::1]"},
    {"http://[::1]:8443/x", "::1", 8443, "/x", "[::1]:8443"},
    {"http://[2001:db8::1]:65535", "2001:db8::1", 65535, "/", "[2001:db8::1]:65535"},
    {"http://host?q=1", "host", 80, "/?q=1", "host"},
    {"http://host/p#frag", "host", 80, "/p", "host"},
    {"http://my_host-1.internal:1/", "my_host-1.internal", 1, "/", "my_host-1.internal:1"},
    {"http://h/a%20b", "h", 80, "/a%20b", "h"},
};

TEST(ParseUrlTest, AcceptsHttpUrls) {
  for (const GoodUrl& c : kGoodUrls) {
    SCOPED_TRACE(c.text);
    const Result<Url> url = ParseUrl(c.text);
    ASSERT_TRUE(url.has_value()) << url.error().message;
    EXPECT_EQ(url->scheme, "http");
    EXPECT_EQ(url->host, c.host);
    EXPECT_EQ(url->port, c.port);
    EXPECT_EQ(url->path_and_query, c.path_and_query);
    EXPECT_EQ(url->authority, c.authority);
  }
}

// https defaults to port 443, which the Host header then leaves out (as 80 for http).
const GoodUrl kGoodHttpsUrls[] = {
    {"https://example.com", "example.com", 443, "/", "example.com"},
    {"HTTPS://Example.COM:443/p", "example.com", 443, "/p", "example.com"},
    {"https://127.0.0.1:8443/a?b", "127.0.0.1", 8443, "/a?b", "127.0.0.1:8443"},
    {"https://[::1]:80/", "::1", 80, "/", "[::1]:80"},
};

TEST(ParseUrlTest, AcceptsHttpsUrls) {
  for (const GoodUrl& c : kGoodHttpsUrls) {
    SCOPED_TRACE(c.text);
    const Result<Url> url = ParseUrl(c.text);
    ASSERT_TRUE(url.has_value()) << url.error().message;
    EXPECT_EQ(url->scheme, "https");
    EXPECT_EQ(url->host, c.host);
    EXPECT_EQ(url->port, c.port);
    EXPECT_EQ(url->path_and_query, c.path_and_query);
    EXPECT_EQ(url->authority, c.authority);
  }
}

struct BadUrl {
  const char* text;
  const char* error_contains;
};

const BadUrl kBadUrls[] = {
    {"https://", "missing host"},
    {"https://host:0/", "invalid port"},
    {"ftp://example.com/", "unsupported URL scheme 'ftp'"},
    {"example.com/path", "must start with http://"},
    {"", "must start with http://"},
    {"http://", "missing host"},
    {"http:///path", "missing host"},
    {"http://:8080/", "missing host"},
    {"http://host:/", "missing port"},
    {"http://host:0/", "invalid port '0'"},
    {"http://host:65536/", "invalid port '65536'"},
    {"http://host:99999999999999999999/", "invalid port"},
    {"http://host:80a/", "invalid port '80a'"},
    {"http://user:pw@host/", "user info"},
    {"http://[::1/", "missing ']'"},
    {"http://[::1]x/", "unexpected text after ']'"},
    {"http://[not-v6]/", "invalid IPv6 address"},
    {"http://[fe80::1%25eth0]/", "invalid IPv6 address"},
    {"http://256.1.1.1/", "invalid IPv4 address '256.1.1.1'"},
    {"http://1.2.3/", "invalid IPv4 address"},
    {"http://ho$t/", "invalid character in host"},
    {"http://host/a b", "contains a space"},
    {"http://host/a\r\nX-Injected: 1", "contains a space"},
    {"http://host/caf\xc3\xa9", "non-ASCII"},
};

TEST(ParseUrlTest, RejectsBadUrlsWithOneLineErrors) {
  for (const BadUrl& c : kBadUrls) {
    SCOPED_TRACE(c.text);
    const Result<Url> url = ParseUrl(c.text);
    ASSERT_FALSE(url.has_value());
    EXPECT_NE(url.error().message.find(c.error_contains), std::string::npos) << url.error().message;
    EXPECT_EQ(url.error().message.find('\n'), std::string::npos) << url.error().message;
    EXPECT_EQ(url.error().message.find('\r'), std::string::npos) << url.error().message;
  }
}

TEST(ParseUrlTest, HostNameTooLong) {
  const std::string url = "http://" + std::string(254, 'a') + "/";
  const Result<Url> parsed = ParseUrl(url);
  ASSERT_FALSE(parsed.has_value());
  EXPECT_NE(parsed.error().message.find("longer than 253"), std::string::npos);
  EXPECT_TRUE(ParseUrl("http://" + std::string(253, 'a') + "/").has_value());
}

}  // namespace
}  // namespace headroom::http
