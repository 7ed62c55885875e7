#include <string>

#include "core/version.h"
#include "http/http.h"
#include "http/tokens.h"

namespace headroom::http {
namespace {

bool HasHeader(const RequestSpec& spec, std::string_view lower_name) {
  for (const auto& [name, value] : spec.headers) {
    if (EqualsIgnoreCase(name, lower_name)) return true;
  }
  return false;
}

bool MethodNeedsLength(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH";
}

// Request-target: visible ASCII only (no space, control or non-ASCII byte).
bool IsValidTarget(std::string_view target) {
  if (target.empty()) return false;
  for (char c : target) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return false;
  }
  return true;
}

bool IsValidFieldValue(std::string_view value) {
  for (char c : value) {
    if (!IsFieldValueChar(c)) return false;
  }
  return true;
}

// Shortens user text for an error line and escapes control bytes so the line stays one line.
std::string Shown(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 40)) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (u < 0x20 || u == 0x7f) {
      out += '?';
    } else {
      out += c;
    }
  }
  if (text.size() > 40) out += "...";
  return "'" + out + "'";
}

Status ValidateHeaders(const RequestSpec& spec) {
  for (const auto& [name, value] : spec.headers) {
    if (!IsToken(name)) {
      return Fail("invalid request header name " + Shown(name) +
                  " (letters, digits and !#$%&'*+-.^_`|~ only, no spaces or colons)");
    }
    if (!IsValidFieldValue(value)) {
      return Fail("request header " + Shown(name) +
                  " has a value with CR, LF or another control character (header injection)");
    }
    if (EqualsIgnoreCase(name, "transfer-encoding")) {
      return Fail("request header Transfer-Encoding is not supported (bodies are sent with Content-Length)");
    }
    if (EqualsIgnoreCase(name, "content-length") &&
        TrimOws(value) != std::to_string(spec.body.size())) {
      return Fail("request header Content-Length " + Shown(value) + " does not match the body size (" +
                  std::to_string(spec.body.size()) + " bytes); leave it out and it is set for you");
    }
  }
  return Ok();
}

void AppendHeader(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append("\r\n");
}

}  // namespace

std::string EncodeRequest(const RequestSpec& spec) {
  std::string out;
  size_t size = spec.method.size() + spec.path_and_query.size() + spec.host.size() + spec.body.size() + 128;
  for (const auto& [name, value] : spec.headers) size += name.size() + value.size() + 4;
  out.reserve(size);
  out.append(spec.method).append(" ").append(spec.path_and_query).append(" HTTP/1.1\r\n");
  if (!HasHeader(spec, "host")) AppendHeader(out, "Host", spec.host);
  for (const auto& [name, value] : spec.headers) AppendHeader(out, name, value);
  if (!HasHeader(spec, "user-agent")) AppendHeader(out, "User-Agent", "headroom/" HEADROOM_VERSION);
  if (!spec.keep_alive && !HasHeader(spec, "connection")) AppendHeader(out, "Connection", "close");
  if ((!spec.body.empty() || MethodNeedsLength(spec.method)) && !HasHeader(spec, "content-length")) {
    AppendHeader(out, "Content-Length", std::to_string(spec.body.size()));
  }
  out.append("\r\n");
  out.append(spec.body);
  return out;
}

Result<std::string> EncodeRequestChecked(const RequestSpec& spec) {
  if (!IsToken(spec.method)) {
    return Fail("invalid HTTP method " + Shown(spec.method) + " (expected a token such as GET or POST)");
  }
  if (!IsValidTarget(spec.path_and_query)) {
    return Fail("invalid request path " + Shown(spec.path_and_query) +
                " (must be non-empty, without spaces or control characters; percent-encode them)");
  }
  if (!HasHeader(spec, "host")) {
    if (spec.host.empty()) return Fail("missing Host for the request");
    if (!IsValidTarget(spec.host)) {
      return Fail("invalid Host " + Shown(spec.host) + " (spaces or control characters)");
    }
  }
  if (Status st = ValidateHeaders(spec); !st) return std::unexpected(st.error());
  return EncodeRequest(spec);
}

}  // namespace headroom::http
