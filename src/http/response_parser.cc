#include <algorithm>
#include <cstring>

#include "http/http.h"
#include "http/tokens.h"

namespace headroom::http {
namespace {

// Chunk data never needs more than 15 hex digits to exceed any real size; the check below
// rejects values whose next shift would overflow 64 bits.
constexpr uint64_t kMaxChunkSizeBeforeShift = UINT64_MAX >> 4;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Length of a line without its trailing CR (the LF is already excluded).
size_t TrimCr(const char* line, size_t len) {
  return (len > 0 && line[len - 1] == '\r') ? len - 1 : len;
}

// Parses 1*DIGIT with overflow detection.
bool ParseDecimal(std::string_view text, uint64_t* out) {
  if (text.empty()) return false;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return false;
    value = value * 10 + digit;
  }
  *out = value;
  return true;
}

}  // namespace

ResponseParser::ResponseParser(size_t max_header_bytes)
    : max_header_bytes_(max_header_bytes),
      header_buf_(std::make_unique_for_overwrite<char[]>(std::max<size_t>(max_header_bytes, 1))) {}

void ResponseParser::Reset(bool head_request, ResponseCapture* capture) {
  capture_ = capture;
  if (capture != nullptr) {
    const size_t names = capture->header_names ? capture->header_names->size() : 0;
    capture->header_values.resize(names);
    for (std::string& v : capture->header_values) v.clear();
    capture->header_seen.assign(names, 0);
    capture->body.clear();
    capture->body_truncated = false;
  }
  state_ = State::kHeaders;
  line_scan_ = LineScan::kMidLine;
  status_prefix_ = 0;
  error_ = ParseError::kNone;
  head_request_ = head_request;
  http10_ = conn_close_ = conn_keep_alive_ = false;
  chunked_ = has_transfer_encoding_ = has_content_length_ = close_delimited_ = false;
  status_code_ = 0;
  header_buf_len_ = block_bytes_ = chunk_line_bytes_ = chunk_digits_ = 0;
  content_length_ = remaining_ = body_bytes_ = header_bytes_ = wire_bytes_ = 0;
}

bool ResponseParser::keep_alive() const {
  if (state_ == State::kFailed || close_delimited_ || conn_close_) return false;
  return http10_ ? conn_keep_alive_ : true;
}

const char* ResponseParser::ErrorName(ParseError error) {
  switch (error) {
    case ParseError::kNone: return "none";
    case ParseError::kBadStatusLine: return "bad_status_line";
    case ParseError::kBadHeader: return "bad_header";
    case ParseError::kHeadersTooLarge: return "headers_too_large";
    case ParseError::kBadContentLength: return "bad_content_length";
    case ParseError::kBadChunk: return "bad_chunk";
    case ParseError::kBodyTooLarge: return "body_too_large";
    case ParseError::kUnexpectedEof: return "unexpected_eof";
  }
  return "unknown";
}

ParseStatus ResponseParser::Fail(ParseError error) {
  error_ = error;
  state_ = State::kFailed;
  return ParseStatus::kError;
}

ParseStatus ResponseParser::Feed(const char* data, size_t len, size_t* consumed) {
  size_t pos = 0;
  while (pos < len && state_ != State::kDone && state_ != State::kFailed) {
    const char* p = data + pos;
    const size_t avail = len - pos;
    size_t used = 0;
    switch (state_) {
      case State::kHeaders:
        used = FeedHeaders(p, avail);
        break;
      case State::kFixedBody:
        used = static_cast<size_t>(std::min<uint64_t>(remaining_, avail));
        remaining_ -= used;
        body_bytes_ += used;
        if (capture_ != nullptr) KeepBody(p, used);
        if (remaining_ == 0) state_ = State::kDone;
        break;
      case State::kCloseBody:
        // Count up to the limit, then fail, so body_bytes() does not depend on read sizes.
        used = static_cast<size_t>(std::min<uint64_t>(avail, max_body_bytes_ - body_bytes_));
        body_bytes_ += used;
        if (capture_ != nullptr) KeepBody(p, used);
        if (used < avail) Fail(ParseError::kBodyTooLarge);
        break;
      case State::kTrailers:
        used = FeedTrailers(p, avail);
        break;
      default:
        used = FeedChunked(p, avail);
        break;
    }
    pos += used;
  }
  wire_bytes_ += pos;
  *consumed = pos;
  if (state_ == State::kDone) return ParseStatus::kComplete;
  if (state_ == State::kFailed) return ParseStatus::kError;
  return ParseStatus::kNeedMore;
}

ParseStatus ResponseParser::OnEof() {
  switch (state_) {
    case State::kDone:
      return ParseStatus::kComplete;
    case State::kFailed:
      return ParseStatus::kError;
    case State::kCloseBody:
      state_ = State::kDone;
      return ParseStatus::kComplete;
    default:
      return Fail(ParseError::kUnexpectedEof);
  }
}

// Finds the blank line that ends a header block or trailer section, carrying the line-start
// state across calls so a CRLFCRLF split anywhere is still found. memchr skips whole lines.
size_t ResponseParser::ScanForBlankLine(const char* data, size_t len, bool* found) {
  *found = false;
  size_t i = 0;
  while (i < len) {
    if (line_scan_ == LineScan::kMidLine) {
      const void* lf = std::memchr(data + i, '\n', len - i);
      if (lf == nullptr) return len;
      i = static_cast<size_t>(static_cast<const char*>(lf) - data) + 1;
      line_scan_ = LineScan::kLineStart;
      continue;
    }
    const char c = data[i++];
    if (c == '\n') {
      *found = true;
      return i;
    }
    line_scan_ = (c == '\r' && line_scan_ == LineScan::kLineStart) ? LineScan::kLineStartCr
                                                                    : LineScan::kMidLine;
  }
  return len;
}

// Scans at most the bytes that still fit under max_header_bytes, so the limit trips at the same
// byte however the input is split, and a flood without a blank line is not scanned past it.
size_t ResponseParser::FeedHeaders(const char* data, size_t len) {
  // Fail at once on bytes that cannot begin a status line (a TLS record, binary noise) instead of
  // waiting for a blank line that may never come; a close would otherwise look like a reset.
  static constexpr char kPrefix[] = "HTTP/";
  for (size_t k = 0; status_prefix_ < 5 && k < len; ++k, ++status_prefix_) {
    if (data[k] != kPrefix[status_prefix_]) {
      Fail(ParseError::kBadStatusLine);
      return k;
    }
  }
  const size_t room = max_header_bytes_ - header_buf_len_;
  bool found = false;
  const size_t used = ScanForBlankLine(data, std::min(len, room), &found);
  const size_t block_len = header_buf_len_ + used;
  if (!found && used == room && len > room) {
    Fail(ParseError::kHeadersTooLarge);
    return used;
  }
  if (!found) {
    std::memcpy(header_buf_.get() + header_buf_len_, data, used);
    header_buf_len_ = block_len;
    return used;
  }
  header_bytes_ += block_len;
  if (header_buf_len_ == 0) {
    ParseHeaderBlock(data, used);  // common case: the whole block is in this read
  } else {
    std::memcpy(header_buf_.get() + header_buf_len_, data, used);
    header_buf_len_ = 0;
    ParseHeaderBlock(header_buf_.get(), block_len);
  }
  line_scan_ = LineScan::kMidLine;
  status_prefix_ = 0;  // an interim 1xx block may be followed by another status line
  return used;
}

// REQUIRES: block ends with the LF of its blank line.
void ResponseParser::ParseHeaderBlock(const char* block, size_t len) {
  http10_ = conn_close_ = conn_keep_alive_ = false;
  chunked_ = has_transfer_encoding_ = has_content_length_ = false;
  content_length_ = 0;
  if (capture_ != nullptr) {  // a new header block: an interim response's fields do not count
    for (std::string& v : capture_->header_values) v.clear();
    std::fill(capture_->header_seen.begin(), capture_->header_seen.end(), 0);
  }
  const char* p = block;
  const char* const end = block + len;
  const char* lf = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
  if (!ParseStatusLine(p, TrimCr(p, static_cast<size_t>(lf - p)))) {
    Fail(ParseError::kBadStatusLine);
    return;
  }
  for (p = lf + 1; p < end; p = lf + 1) {
    lf = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    const size_t line_len = TrimCr(p, static_cast<size_t>(lf - p));
    if (line_len == 0) break;  // the blank line
    if (!ParseHeaderField(p, line_len)) return;  // error already set
  }
  if (status_code_ >= 100 && status_code_ < 200 && status_code_ != 101) {
    return;  // interim response: the real one follows
  }
  StartBody();
}

// "HTTP/1.x NNN[ reason]". Minor versions above 1 are treated as 1.1 (RFC 9110 2.5).
bool ResponseParser::ParseStatusLine(const char* line, size_t len) {
  if (len < 12 || std::memcmp(line, "HTTP/1.", 7) != 0) return false;
  if (line[7] < '0' || line[7] > '9') return false;
  if (line[8] != ' ') return false;
  int code = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') return false;
    code = code * 10 + (line[i] - '0');
  }
  if (code < 100) return false;
  if (len > 12 && line[12] != ' ') return false;
  for (size_t i = 13; i < len; ++i) {
    if (!IsFieldValueChar(line[i])) return false;
  }
  http10_ = line[7] == '0';
  status_code_ = code;
  return true;
}

bool ResponseParser::ParseHeaderField(const char* line, size_t len) {
  const char* colon = static_cast<const char*>(std::memchr(line, ':', len));
  const std::string_view name(line, colon == nullptr ? 0 : static_cast<size_t>(colon - line));
  // An empty or non-token name also covers obs-fold (leading space) and "Name :".
  if (colon == nullptr || !IsToken(name)) {
    Fail(ParseError::kBadHeader);
    return false;
  }
  std::string_view value(colon + 1, static_cast<size_t>(line + len - colon - 1));
  for (char c : value) {
    if (!IsFieldValueChar(c)) {
      Fail(ParseError::kBadHeader);
      return false;
    }
  }
  value = TrimOws(value);
  if (EqualsIgnoreCase(name, "content-length")) {
    if (!ApplyContentLength(value.data(), value.size())) {
      Fail(ParseError::kBadContentLength);
      return false;
    }
  } else if (EqualsIgnoreCase(name, "transfer-encoding")) {
    has_transfer_encoding_ = true;
    chunked_ = LastListTokenIs(value, "chunked");
  } else if (EqualsIgnoreCase(name, "connection")) {
    if (ListHasToken(value, "close")) conn_close_ = true;
    if (ListHasToken(value, "keep-alive")) conn_keep_alive_ = true;
  }
  if (capture_ != nullptr) KeepHeader(name, value);
  return true;
}

void ResponseParser::KeepHeader(std::string_view name, std::string_view value) {
  if (capture_->header_names == nullptr) return;
  const std::vector<std::string>& names = *capture_->header_names;
  for (size_t i = 0; i < names.size(); ++i) {
    if (!EqualsIgnoreCase(name, names[i])) continue;
    std::string& kept = capture_->header_values[i];
    if (capture_->header_seen[i]) kept += ", ";
    kept.append(value);
    capture_->header_seen[i] = 1;
  }
}

void ResponseParser::KeepBody(const char* data, size_t len) {
  std::string& body = capture_->body;
  const size_t room = capture_->max_body_bytes > body.size() ? capture_->max_body_bytes - body.size() : 0;
  if (len > room) capture_->body_truncated = true;
  body.append(data, std::min(len, room));
}

// Accepts "N" and the list form "N, N" (identical values, RFC 9110 8.6); any disagreement with
// an earlier Content-Length is an error.
bool ResponseParser::ApplyContentLength(const char* value, size_t len) {
  std::string_view rest(value, len);
  do {
    const size_t comma = rest.find(',');
    uint64_t parsed = 0;
    if (!ParseDecimal(TrimOws(rest.substr(0, comma)), &parsed)) return false;
    if (has_content_length_ && parsed != content_length_) return false;
    has_content_length_ = true;
    content_length_ = parsed;
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (comma != std::string_view::npos && rest.empty()) return false;  // trailing comma
  } while (!rest.empty());
  return true;
}

void ResponseParser::StartBody() {
  if (status_code_ == 101) {  // protocol switch: no HTTP after this response
    conn_close_ = true;
    state_ = State::kDone;
    return;
  }
  if (head_request_ || status_code_ == 204 || status_code_ == 304) {
    state_ = State::kDone;
    return;
  }
  if (chunked_) {
    state_ = State::kChunkSize;
    return;
  }
  if (has_transfer_encoding_ || !has_content_length_) {
    close_delimited_ = true;
    state_ = State::kCloseBody;
    return;
  }
  if (content_length_ > max_body_bytes_) {
    Fail(ParseError::kBodyTooLarge);
    return;
  }
  remaining_ = content_length_;
  state_ = remaining_ == 0 ? State::kDone : State::kFixedBody;
}

size_t ResponseParser::FeedChunked(const char* data, size_t len) {
  switch (state_) {
    case State::kChunkSize:
    case State::kChunkSizeEnd:
    case State::kChunkExt:
    case State::kChunkSizeLf:
      return FeedChunkSize(data, len);
    case State::kChunkData: {
      const size_t used = static_cast<size_t>(std::min<uint64_t>(remaining_, len));
      remaining_ -= used;
      body_bytes_ += used;
      if (capture_ != nullptr) KeepBody(data, used);
      if (remaining_ == 0) state_ = State::kChunkDataCr;
      return used;
    }
    case State::kChunkDataCr:
      if (data[0] == '\r') {
        state_ = State::kChunkDataLf;
      } else if (data[0] == '\n') {
        state_ = State::kChunkSize;
      } else {
        Fail(ParseError::kBadChunk);
      }
      return 1;
    case State::kChunkDataLf:
      if (data[0] == '\n') {
        state_ = State::kChunkSize;
      } else {
        Fail(ParseError::kBadChunk);
      }
      return 1;
    default:
      Fail(ParseError::kBadChunk);  // unreachable: Feed dispatches only chunk states here
      return 0;
  }
}

// chunk-size [ BWS ; chunk-ext ] CRLF. The extension is skipped; the whole line is bounded by
// max_header_bytes so an endless extension cannot stall the parser.
size_t ResponseParser::FeedChunkSize(const char* data, size_t len) {
  size_t i = 0;
  while (i < len && state_ != State::kChunkData && state_ != State::kTrailers &&
         state_ != State::kFailed) {
    if (state_ == State::kChunkExt) {
      // Like header scanning: look only as far as the line limit allows.
      const size_t window = std::min(len - i, max_header_bytes_ - chunk_line_bytes_);
      const void* lf = std::memchr(data + i, '\n', window);
      const size_t stop =
          lf == nullptr ? i + window : static_cast<size_t>(static_cast<const char*>(lf) - data) + 1;
      chunk_line_bytes_ += stop - i;
      i = stop;
      if (lf != nullptr) {
        EndChunkSizeLine();
      } else if (i < len) {
        Fail(ParseError::kBadChunk);
      }
      continue;
    }
    const char c = data[i++];
    if (++chunk_line_bytes_ > max_header_bytes_) {
      Fail(ParseError::kBadChunk);
    } else if (state_ == State::kChunkSize && HexValue(c) >= 0) {
      if (remaining_ > kMaxChunkSizeBeforeShift) {
        Fail(ParseError::kBadChunk);
      } else {
        remaining_ = remaining_ * 16 + static_cast<uint64_t>(HexValue(c));
        ++chunk_digits_;
      }
    } else if (state_ == State::kChunkSizeLf) {
      if (c == '\n') {
        EndChunkSizeLine();
      } else {
        Fail(ParseError::kBadChunk);
      }
    } else if (chunk_digits_ == 0) {
      Fail(ParseError::kBadChunk);
    } else if (c == ' ' || c == '\t') {
      state_ = State::kChunkSizeEnd;
    } else if (c == ';') {
      state_ = State::kChunkExt;
    } else if (c == '\r') {
      state_ = State::kChunkSizeLf;
    } else if (c == '\n') {
      EndChunkSizeLine();
    } else {
      Fail(ParseError::kBadChunk);
    }
  }
  return i;
}

void ResponseParser::EndChunkSizeLine() {
  chunk_line_bytes_ = 0;
  chunk_digits_ = 0;
  if (remaining_ == 0) {  // last-chunk: the trailer section follows
    state_ = State::kTrailers;
    line_scan_ = LineScan::kLineStart;
    block_bytes_ = 0;
    return;
  }
  if (remaining_ > max_body_bytes_ - body_bytes_) {
    Fail(ParseError::kBodyTooLarge);
    return;
  }
  state_ = State::kChunkData;
}

// Trailer fields are not used by the engine; they are counted and bounded, not parsed.
size_t ResponseParser::FeedTrailers(const char* data, size_t len) {
  const size_t room = max_header_bytes_ - block_bytes_;
  bool found = false;
  const size_t used = ScanForBlankLine(data, std::min(len, room), &found);
  block_bytes_ += used;
  if (!found && used == room && len > room) {
    Fail(ParseError::kHeadersTooLarge);
    return used;
  }
  if (found) {
    header_bytes_ += block_bytes_;
    state_ = State::kDone;
  }
  return used;
}

}  // namespace headroom::http
