#include "target/request.h"

#include <cstdio>
#include <cstring>

namespace headroom::target {
namespace {

bool IsTokenChar(unsigned char c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  return c != 0 && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if ((a[i] | 0x20) != (b[i] | 0x20)) return false;
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Parses a non-negative decimal; false on anything else or above `max`.
bool ParseDecimal(std::string_view s, int64_t max, int64_t* out) {
  if (s.empty() || s.size() > 12) return false;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  if (v > max) return false;
  *out = v;
  return true;
}

// Garbage is recognised before the header terminator arrives, so a client sending binary
// noise gets its 400 at once instead of waiting for a "\r\n\r\n" that never comes.
bool PrefixLooksLikeRequest(std::string_view buf) {
  size_t i = 0;
  while (i < buf.size() && IsTokenChar(static_cast<unsigned char>(buf[i]))) ++i;
  if (i == buf.size()) return i <= 32;
  return i > 0 && buf[i] == ' ';
}

bool ParseRequestLine(std::string_view line, Request* out) {
  size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0) return false;
  size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return false;
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  for (char c : method) {
    if (!IsTokenChar(static_cast<unsigned char>(c))) return false;
  }
  if (target.empty() || target.front() != '/') return false;
  for (char c : target) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  if (version == "HTTP/1.1") {
    out->keep_alive = true;
  } else if (version == "HTTP/1.0") {
    out->keep_alive = false;
  } else {
    return false;
  }
  out->method = method;
  out->target = target;
  out->head = method == "HEAD";
  return true;
}

void ApplyConnectionTokens(std::string_view value, Request* out) {
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view token = Trim(value.substr(0, comma));
    if (EqualsNoCase(token, "close")) out->keep_alive = false;
    if (EqualsNoCase(token, "keep-alive")) out->keep_alive = true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
}

// Parses the header lines (between the request line and the blank line).
bool ParseHeaders(std::string_view block, Request* out, int64_t* content_length) {
  bool close_seen = false;
  *content_length = -1;
  while (!block.empty()) {
    size_t eol = block.find("\r\n");
    std::string_view line = block.substr(0, eol);
    block.remove_prefix(eol == std::string_view::npos ? block.size() : eol + 2);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return false;
    std::string_view name = line.substr(0, colon);
    for (char c : name) {
      if (!IsTokenChar(static_cast<unsigned char>(c))) return false;
    }
    std::string_view value = Trim(line.substr(colon + 1));
    for (char c : value) {
      if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
    }
    if (EqualsNoCase(name, "content-length")) {
      int64_t v = 0;
      if (!ParseDecimal(value, kMaxRequestBodyBytes, &v)) return false;
      if (*content_length >= 0 && *content_length != v) return false;
      *content_length = v;
    } else if (EqualsNoCase(name, "transfer-encoding")) {
      return false;
    } else if (EqualsNoCase(name, "connection")) {
      bool before = out->keep_alive;
      ApplyConnectionTokens(value, out);
      close_seen = close_seen || (before && !out->keep_alive);
    }
  }
  if (close_seen) out->keep_alive = false;  // "close" wins over a later "keep-alive"
  return true;
}

}  // namespace

ParseState ParseRequest(std::string_view buf, Request* out) {
  *out = Request{};
  const char* end = static_cast<const char*>(memmem(buf.data(), buf.size(), "\r\n\r\n", 4));
  if (end == nullptr) {
    if (buf.size() >= kMaxHeaderBytes || !PrefixLooksLikeRequest(buf)) return ParseState::kBad;
    return ParseState::kIncomplete;
  }
  size_t head_bytes = static_cast<size_t>(end - buf.data()) + 4;
  if (head_bytes > kMaxHeaderBytes) return ParseState::kBad;
  std::string_view head = buf.substr(0, head_bytes - 4);
  size_t eol = head.find("\r\n");
  if (!ParseRequestLine(head.substr(0, eol), out)) return ParseState::kBad;
  int64_t content_length = -1;
  std::string_view headers = eol == std::string_view::npos ? std::string_view{} : head.substr(eol + 2);
  if (!ParseHeaders(headers, out, &content_length)) return ParseState::kBad;
  size_t total = head_bytes + static_cast<size_t>(content_length < 0 ? 0 : content_length);
  if (buf.size() < total) return ParseState::kIncomplete;
  out->consumed_bytes = total;
  return ParseState::kComplete;
}

namespace {

// "/name/123" -> true and 123 when target starts with prefix and the rest is a number <= max.
bool NumericRoute(std::string_view target, std::string_view prefix, int64_t max, int64_t* value) {
  if (!target.starts_with(prefix)) return false;
  std::string_view rest = target.substr(prefix.size());
  size_t q = rest.find('?');
  return ParseDecimal(rest.substr(0, q), max, value);
}

}  // namespace

Route RouteRequest(std::string_view method, std::string_view target) {
  Route r;
  int64_t n = 0;
  std::string_view path = target.substr(0, target.find('?'));
  if (path == "/") {
    r.inline_body = "ok\n";
  } else if (NumericRoute(target, "/bytes/", kMaxBytesBody, &n)) {
    r.body_kind = BodyKind::kStatic;
    r.body_bytes = n;
  } else if (NumericRoute(target, "/cpu/", kMaxCpuUs, &n)) {
    r.cpu_us = n;
    r.inline_body = "ok\n";
  } else if (NumericRoute(target, "/sleep/", kMaxSleepMs, &n)) {
    r.sleep_ms = n;
    r.inline_body = "ok\n";
  } else if (NumericRoute(target, "/status/", 599, &n) && n >= 200) {
    r.status = static_cast<int>(n);
    r.inline_body = (n == 204 || n == 304) ? "" : "status\n";
  } else if (NumericRoute(target, "/chunked/", kMaxChunkedBody, &n)) {
    r.body_kind = BodyKind::kChunked;
    r.body_bytes = n;
  } else if (path == "/json") {
    r.content_type = "application/json";
    r.inline_body = R"({"ok":true,"items":[{"id":1,"name":"widget"},{"id":2,"name":"gadget"}]})" "\n";
  } else {
    r.status = 404;
    r.inline_body = "not found\n";
  }
  return r;
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 408: return "Request Timeout";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Status";
  }
}

namespace {

void AppendNumber(std::string* out, int64_t v) {
  char buf[24];
  int n = 0;
  do {
    buf[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v > 0);
  while (n > 0) out->push_back(buf[--n]);
}

constexpr std::string_view kFill =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyz\n";

}  // namespace

void AppendHead(std::string* out, int status, const Route& route, bool close) {
  out->append("HTTP/1.1 ");
  AppendNumber(out, status);
  out->push_back(' ');
  out->append(ReasonPhrase(status));
  out->append("\r\nServer: headroom-target\r\n");
  if (status != 204 && status != 304) {
    out->append("Content-Type: ");
    out->append(route.content_type);
    out->append("\r\n");
  }
  if (route.body_kind == BodyKind::kChunked) {
    out->append("Transfer-Encoding: chunked\r\n");
  } else if (status != 204 && status != 304) {
    out->append("Content-Length: ");
    AppendNumber(out, route.body_kind == BodyKind::kStatic
                          ? route.body_bytes
                          : static_cast<int64_t>(route.inline_body.size()));
    out->append("\r\n");
  }
  if (close) out->append("Connection: close\r\n");
  out->append("\r\n");
}

void AppendBody(std::string* out, const Route& route) {
  if (route.body_kind == BodyKind::kInline) {
    out->append(route.inline_body);
    return;
  }
  if (route.body_kind != BodyKind::kChunked) return;
  constexpr int64_t kChunkBytes = 1000;
  for (int64_t left = route.body_bytes; left > 0;) {
    int64_t n = left < kChunkBytes ? left : kChunkBytes;
    char size_hex[20];
    int len = std::snprintf(size_hex, sizeof size_hex, "%llx\r\n", static_cast<long long>(n));
    out->append(size_hex, static_cast<size_t>(len));
    for (int64_t i = 0; i < n; ++i) out->push_back(kFill[static_cast<size_t>(i) % kFill.size()]);
    out->append("\r\n");
    left -= n;
  }
  out->append("0\r\n\r\n");
}

std::string_view FillBuffer() {
  static const std::string kBuffer = [] {
    std::string b(64 * 1024, ' ');
    for (size_t i = 0; i < b.size(); ++i) b[i] = kFill[i % kFill.size()];
    return b;
  }();
  return kBuffer;
}

}  // namespace headroom::target
