// The HTTP/1.1 <-> HTTP/2 mapping of the engine's h2 path (http.h): request bytes split into the
// pseudo-headers and fields HTTP/2 sends, and a stream's header callbacks turned into the status,
// kept headers and body a response check reads.
#include <algorithm>

#include "http/http.h"
#include "http/tokens.h"

namespace headroom::http {
namespace {

// Fields that belong to one HTTP/1.1 connection; HTTP/2 forbids them (RFC 9113 8.2.2).
bool ConnectionSpecific(std::string_view lower_name, std::string_view value) {
  if (lower_name == "connection" || lower_name == "keep-alive" || lower_name == "proxy-connection" ||
      lower_name == "transfer-encoding" || lower_name == "upgrade") {
    return true;
  }
  return lower_name == "te" && !EqualsIgnoreCase(TrimOws(value), "trailers");
}

// The next line of `rest` without its CRLF (or bare LF); false when no line end is left.
bool NextLine(std::string_view* rest, std::string_view* line) {
  const size_t lf = rest->find('\n');
  if (lf == std::string_view::npos) return false;
  *line = rest->substr(0, lf);
  if (!line->empty() && line->back() == '\r') line->remove_suffix(1);
  rest->remove_prefix(lf + 1);
  return true;
}

}  // namespace

bool SplitRequestForH2(std::string_view bytes, H2Request* out) {
  out->headers.clear();
  out->names.clear();
  // Names are at most the request's size: reserving it keeps the views into `names` stable.
  if (out->names.capacity() < bytes.size()) out->names.reserve(bytes.size());
  out->authority = {};
  std::string_view rest = bytes;
  std::string_view line;
  if (!NextLine(&rest, &line)) return false;
  const size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0) return false;
  const size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp2 == sp1 + 1) return false;
  out->method = line.substr(0, sp1);
  out->path = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (!IsToken(out->method)) return false;
  for (;;) {
    if (!NextLine(&rest, &line)) return false;
    if (line.empty()) break;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return false;
    const std::string_view name = line.substr(0, colon);
    if (!IsToken(name)) return false;
    const std::string_view value = TrimOws(line.substr(colon + 1));
    const size_t at = out->names.size();
    for (char c : name) out->names.push_back(AsciiLower(c));
    const std::string_view lower(out->names.data() + at, name.size());
    if (lower == "host") {
      out->authority = value;
      out->names.resize(at);
      continue;
    }
    if (ConnectionSpecific(lower, value)) {
      out->names.resize(at);
      continue;
    }
    out->headers.push_back({lower, value});
  }
  out->body = rest;
  return true;
}

void H2ResponseBuilder::Reset(bool head_request, ResponseCapture* capture) {
  capture_ = capture;
  head_ = head_request;
  too_large_ = false;
  block_status_ = 0;
  final_status_ = 0;
  header_bytes_ = 0;
  block_bytes_ = 0;
  body_bytes_ = 0;
  if (capture != nullptr) {
    const size_t names = capture->header_names ? capture->header_names->size() : 0;
    capture->header_values.resize(names);
    for (std::string& v : capture->header_values) v.clear();
    capture->header_seen.assign(names, 0);
    capture->body.clear();
    capture->body_truncated = false;
  }
}

void H2ResponseBuilder::BeginHeaders() {
  block_status_ = 0;
  block_bytes_ = 0;
}

bool H2ResponseBuilder::OnHeader(std::string_view name, std::string_view value) {
  const uint64_t field = name.size() + value.size() + 32;
  header_bytes_ += field;
  block_bytes_ += field;
  if (block_bytes_ > max_header_bytes_) {
    too_large_ = true;
    return false;
  }
  if (name == ":status") {
    if (value.size() != 3 || final_status_ != 0) return false;
    int code = 0;
    for (char c : value) {
      if (c < '0' || c > '9') return false;
      code = code * 10 + (c - '0');
    }
    if (code < 100) return false;
    block_status_ = code;
    if (code >= 200) {
      final_status_ = code;
    } else if (capture_ != nullptr) {
      // An interim response: its fields are not the response's.
      for (std::string& v : capture_->header_values) v.clear();
      std::fill(capture_->header_seen.begin(), capture_->header_seen.end(), 0);
    }
    return true;
  }
  if (!name.empty() && name.front() == ':') return true;  // other pseudo-headers: not kept
  if (block_status_ != 0 && block_status_ < 200) return true;  // an interim block's fields
  if (capture_ == nullptr || capture_->header_names == nullptr) return true;
  const std::vector<std::string>& names = *capture_->header_names;
  for (size_t i = 0; i < names.size(); ++i) {
    if (!EqualsIgnoreCase(name, names[i])) continue;
    std::string& kept = capture_->header_values[i];
    if (capture_->header_seen[i]) kept += ", ";
    kept.append(value);
    capture_->header_seen[i] = 1;
  }
  return true;
}

void H2ResponseBuilder::OnData(const char* data, size_t len) {
  body_bytes_ += len;
  if (capture_ == nullptr || capture_->max_body_bytes == 0) return;
  std::string& body = capture_->body;
  const size_t room = capture_->max_body_bytes > body.size() ? capture_->max_body_bytes - body.size() : 0;
  if (len > room) capture_->body_truncated = true;
  body.append(data, std::min(len, room));
}

}  // namespace headroom::http
