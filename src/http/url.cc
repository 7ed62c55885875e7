#include <arpa/inet.h>

#include <cstdio>

#include "http/http.h"
#include "http/tokens.h"

namespace headroom::http {
namespace {

constexpr size_t kMaxHostLength = 253;

// Renders user text inside an error message on one line: control bytes become \xNN.
std::string Quote(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  out += "'";
  return out;
}

bool IsHostNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

bool LooksLikeIpv4(std::string_view host) {
  for (char c : host) {
    if (!((c >= '0' && c <= '9') || c == '.')) return false;
  }
  return true;
}

// Splits "host[:port]" / "[v6][:port]" and validates both parts into url.
Status ParseAuthority(std::string_view authority, std::string_view text, Url& url) {
  const uint16_t default_port = url.scheme == "https" ? 443 : 80;
  std::string_view host = authority;
  std::string_view port;
  bool ipv6 = false;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return Fail("missing ']' after IPv6 address in URL " + Quote(text));
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty() && after.front() != ':') return Fail("unexpected text after ']' in URL " + Quote(text));
    if (!after.empty()) port = after.substr(1);
    ipv6 = true;
    if (after.size() == 1) return Fail("missing port number after ':' in URL " + Quote(text));
  } else if (const size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (port.empty()) return Fail("missing port number after ':' in URL " + Quote(text));
  }
  if (host.empty()) return Fail("missing host in URL " + Quote(text));
  std::string host_str(host);
  if (ipv6) {
    in6_addr addr6{};
    if (inet_pton(AF_INET6, host_str.c_str(), &addr6) != 1) {
      return Fail("invalid IPv6 address " + Quote(host) + " in URL " + Quote(text));
    }
  } else if (LooksLikeIpv4(host)) {
    in_addr addr4{};
    if (inet_pton(AF_INET, host_str.c_str(), &addr4) != 1) {
      return Fail("invalid IPv4 address " + Quote(host) + " in URL " + Quote(text));
    }
  } else {
    for (char c : host) {
      if (!IsHostNameChar(c)) return Fail("invalid character in host " + Quote(host) + " of URL " + Quote(text));
    }
    if (host.size() > kMaxHostLength) return Fail("host name longer than 253 characters in URL " + Quote(text));
    for (char& c : host_str) c = AsciiLower(c);
  }
  url.port = default_port;
  if (!port.empty()) {
    unsigned value = 0;
    for (char c : port) {
      if (c < '0' || c > '9' || value > 65535) {
        return Fail("invalid port " + Quote(port) + " in URL " + Quote(text) + " (expected 1-65535)");
      }
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value == 0 || value > 65535) {
      return Fail("invalid port " + Quote(port) + " in URL " + Quote(text) + " (expected 1-65535)");
    }
    url.port = static_cast<uint16_t>(value);
  }
  url.authority = ipv6 ? "[" + host_str + "]" : host_str;
  if (url.port != default_port) url.authority += ":" + std::to_string(url.port);
  url.host = std::move(host_str);
  return Ok();
}

}  // namespace

Result<Url> ParseUrl(std::string_view text) {
  for (char c : text) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) {
      return Fail("URL " + Quote(text) +
                  " contains a space, control or non-ASCII character; percent-encode it");
    }
  }
  const size_t sep = text.find("://");
  if (sep == std::string_view::npos) {
    return Fail("URL " + Quote(text) + " must start with http:// or https:// (e.g. http://127.0.0.1:8080/)");
  }
  const std::string_view scheme = text.substr(0, sep);
  const bool https = EqualsIgnoreCase(scheme, "https");
  if (!https && !EqualsIgnoreCase(scheme, "http")) {
    return Fail("unsupported URL scheme " + Quote(scheme) + " in " + Quote(text) + " (only http:// and https://)");
  }
  std::string_view rest = text.substr(sep + 3);
  if (const size_t hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  const size_t target_start = rest.find_first_of("/?");
  const std::string_view authority = rest.substr(0, target_start);
  if (authority.find('@') != std::string_view::npos) {
    return Fail("user info (user@host) in URL " + Quote(text) + " is not supported");
  }
  Url url;
  url.scheme = https ? "https" : "http";
  if (Status st = ParseAuthority(authority, text, url); !st) return std::unexpected(st.error());
  if (target_start == std::string_view::npos) {
    url.path_and_query = "/";
  } else {
    const std::string_view target = rest.substr(target_start);
    url.path_and_query = target.front() == '?' ? "/" + std::string(target) : std::string(target);
  }
  return url;
}

}  // namespace headroom::http
