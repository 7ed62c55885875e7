// HTTP/1.1 client side for the load engine: URL parsing, request encoding and an incremental,
// zero-copy response parser.
//
// ParseUrl and the encoders run once per scenario (they allocate); ResponseParser runs per
// response on the hot path (no allocation after construction, no exceptions, never reads
// outside the buffer it is given, never keeps a pointer into it).
// Thread-safety: free functions are reentrant; a ResponseParser belongs to one connection
// and must not be used from two threads at once.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace headroom::http {

// ---------------------------------------------------------------------------------------------
// URL

struct Url {
  std::string scheme;          // "http" or "https" (lower case)
  std::string host;            // "example.com", "127.0.0.1", or "::1" (IPv6 without brackets)
  std::string path_and_query;  // request-target, never empty: "/", "/a/b?x=1" (no fragment)
  uint16_t port = 80;          // 1..65535; 80 (https: 443) when not given
  std::string authority;       // Host header value: host, "[::1]" for IPv6, ":port" unless the default
};

// Parses "http[s]://host[:port][/path][?query][#fragment]". The scheme is case-insensitive; the
// fragment is dropped. Rejects other schemes, user info, spaces and control characters, bad ports
// and malformed hosts with a one-line error.
Result<Url> ParseUrl(std::string_view text);

// ---------------------------------------------------------------------------------------------
// Request encoder

struct RequestSpec {
  std::string method = "GET";
  std::string path_and_query = "/";
  std::string host;  // Host header value (Url::authority); a "Host" entry in headers overrides it
  std::vector<std::pair<std::string, std::string>> headers;  // sent in order, names as given
  std::string body;
  bool keep_alive = true;  // false adds "Connection: close"
};

// Encodes a complete HTTP/1.1 request. Adds, unless the caller gave the header:
//   Host, User-Agent: headroom/<version>, Connection: close (when !keep_alive), and
//   Content-Length when the body is non-empty or the method is POST, PUT or PATCH.
// REQUIRES: spec passed EncodeRequestChecked (no validation here).
std::string EncodeRequest(const RequestSpec& spec);

// Validates, then encodes. Rejects: a method that is not a token, an empty request-target or one
// with spaces/control characters, header names that are not tokens, header values or hosts that
// contain CR, LF, NUL or other control characters (header injection), a Transfer-Encoding
// header, and a Content-Length header that disagrees with the body size. One-line errors.
Result<std::string> EncodeRequestChecked(const RequestSpec& spec);

// ---------------------------------------------------------------------------------------------
// Response parser

enum class ParseStatus { kNeedMore, kComplete, kError };

// What a response check needs kept from one response: the values of some headers and the first
// bytes of the decoded body (chunk framing removed). Owned by the caller (one per connection);
// given to ResponseParser::Reset for the responses that are checked. Its strings keep their
// capacity from one response to the next.
struct ResponseCapture {
  const std::vector<std::string>* header_names = nullptr;  // lower case; null: keep no header
  std::vector<std::string> header_values;  // one per name; repeated fields joined with ", "
  std::vector<uint8_t> header_seen;        // one per name: 1 when the final response had it
  size_t max_body_bytes = 0;               // body bytes to keep; 0: none
  std::string body;
  bool body_truncated = false;             // the body was longer than max_body_bytes
};

enum class ParseError {
  kNone,
  kBadStatusLine,
  kBadHeader,
  kHeadersTooLarge,
  kBadContentLength,
  kBadChunk,
  kBodyTooLarge,
  kUnexpectedEof,
};

// Incremental HTTP/1.1 response parser. It keeps a small state machine and counters; the body is
// counted, not stored. Header blocks that arrive whole in one Feed are parsed in place; a header
// block split across Feeds is copied into a buffer of max_header_bytes allocated once by the
// constructor. Interim 1xx responses (100 Continue, 103 Early Hints, ...) are skipped; their
// bytes count in header_bytes() and wire_bytes(). 101 Switching Protocols completes the
// response with keep_alive() == false (the connection no longer speaks HTTP/1.1).
//
// Framing (RFC 9112 section 6.3): HEAD, 1xx, 204 and 304 have no body; otherwise
// Transfer-Encoding ending in "chunked" wins over Content-Length; another Transfer-Encoding or
// no length at all means the body runs until the connection closes (keep_alive() is then false).
// A malformed Content-Length is an error even when Transfer-Encoding decides the framing.
// Line ends may be CRLF or a bare LF. Obsolete line folding is rejected (kBadHeader).
//
// Limits: max_header_bytes bounds each header block (kHeadersTooLarge), the trailer section
// (kHeadersTooLarge) and each chunk-size line with its extensions (kBadChunk); a limit trips at
// the same byte however the input is split. Memory: the one header buffer, nothing per response.
// A new parser is ready for a non-HEAD response (as after Reset()).
//
// Typical loop:
//   parser.Reset(is_head);
//   while (bytes left) { st = parser.Feed(p, n, &used); p += used; n -= used;
//                        if (st == kComplete) { record; parser.Reset(next_is_head); } ... }
class ResponseParser {
 public:
  explicit ResponseParser(size_t max_header_bytes = 64 * 1024);
  ResponseParser(const ResponseParser&) = delete;
  ResponseParser& operator=(const ResponseParser&) = delete;

  // Starts a new response. head_request: the request was HEAD, so there is no body whatever the
  // headers say. Keeps the limits and the header buffer. `capture`, when given, is cleared and
  // receives this response's headers and body as they are parsed (headers of interim 1xx
  // responses are dropped); it must outlive the response.
  void Reset(bool head_request = false, ResponseCapture* capture = nullptr);

  // Bodies larger than this fail with kBodyTooLarge (default: no limit). Survives Reset.
  void set_max_body_bytes(uint64_t max_body_bytes) { max_body_bytes_ = max_body_bytes; }

  // Consumes bytes of the current response and sets *consumed to the number used.
  //   kNeedMore: all len bytes were consumed; feed more.
  //   kComplete: the response ended at data + *consumed; later bytes belong to the next
  //              response (Reset, then feed them).
  //   kError:    see error(); the connection should be closed.
  // Once complete or failed, further Feeds consume nothing and repeat the status.
  // Never reads outside [data, data + len); keeps no pointer into data after returning.
  [[nodiscard]] ParseStatus Feed(const char* data, size_t len, size_t* consumed);

  // The peer closed the connection. Completes a close-delimited body; a response that was already
  // complete stays complete; anything else is kError / kUnexpectedEof (wire_bytes() == 0 then
  // tells "closed before any byte", e.g. an idle keep-alive connection, from "closed mid-way").
  [[nodiscard]] ParseStatus OnEof();

  int status_code() const { return status_code_; }     // final status; 0 until known
  bool keep_alive() const;                             // meaningful once complete
  uint64_t body_bytes() const { return body_bytes_; }  // payload bytes (chunk framing excluded)
  uint64_t header_bytes() const { return header_bytes_; }  // status lines + headers + trailers
  uint64_t wire_bytes() const { return wire_bytes_; }  // every byte consumed for this response
  ParseError error() const { return error_; }

  // "none", "bad_status_line", "bad_header", "headers_too_large", "bad_content_length",
  // "bad_chunk", "body_too_large", "unexpected_eof". Static strings.
  static const char* ErrorName(ParseError error);

 private:
  enum class State : uint8_t {
    kHeaders,        // status line + header fields, up to the blank line
    kFixedBody,      // Content-Length body
    kCloseBody,      // body until EOF
    kChunkSize,      // hex digits of a chunk-size line
    kChunkSizeEnd,   // after the digits: spaces, ';' extension or line end
    kChunkExt,       // chunk extension: skipped to LF
    kChunkSizeLf,    // saw CR after the chunk size, LF must follow
    kChunkData,      // chunk payload
    kChunkDataCr,    // CRLF after chunk payload
    kChunkDataLf,
    kTrailers,       // trailer section after the last chunk, up to the blank line
    kDone,
    kFailed,
  };
  enum class LineScan : uint8_t { kMidLine, kLineStart, kLineStartCr };

  ParseStatus Fail(ParseError error);
  size_t ScanForBlankLine(const char* data, size_t len, bool* found);
  size_t FeedHeaders(const char* data, size_t len);
  void ParseHeaderBlock(const char* block, size_t len);
  bool ParseStatusLine(const char* line, size_t len);
  bool ParseHeaderField(const char* line, size_t len);
  bool ApplyContentLength(const char* value, size_t len);
  void StartBody();
  size_t FeedChunked(const char* data, size_t len);
  size_t FeedChunkSize(const char* data, size_t len);
  void EndChunkSizeLine();
  size_t FeedTrailers(const char* data, size_t len);
  void KeepHeader(std::string_view name, std::string_view value);
  void KeepBody(const char* data, size_t len);

  // Limits and storage (kept across Reset).
  size_t max_header_bytes_;
  uint64_t max_body_bytes_ = UINT64_MAX;
  std::unique_ptr<char[]> header_buf_;
  ResponseCapture* capture_ = nullptr;

  // Per-response state.
  State state_ = State::kHeaders;
  LineScan line_scan_ = LineScan::kMidLine;
  uint8_t status_prefix_ = 0;  // bytes of "HTTP/" already matched in the current header block
  ParseError error_ = ParseError::kNone;
  bool head_request_ = false;
  bool http10_ = false;
  bool conn_close_ = false;
  bool conn_keep_alive_ = false;
  bool chunked_ = false;
  bool has_transfer_encoding_ = false;
  bool has_content_length_ = false;
  bool close_delimited_ = false;
  int status_code_ = 0;
  size_t header_buf_len_ = 0;  // bytes of a split header block held in header_buf_
  size_t block_bytes_ = 0;     // bytes of the current header block / trailer section so far
  size_t chunk_line_bytes_ = 0;  // bytes of the current chunk-size line (digits + extension)
  size_t chunk_digits_ = 0;
  uint64_t content_length_ = 0;
  uint64_t remaining_ = 0;  // bytes left in the fixed body or the current chunk
  uint64_t body_bytes_ = 0;
  uint64_t header_bytes_ = 0;
  uint64_t wire_bytes_ = 0;
};

// ---------------------------------------------------------------------------------------------
// HTTP/2 mapping (the engine's h2 path: frames, HPACK and flow control are nghttp2's job)

// The parts of one request as HTTP/2 sends them, taken from the HTTP/1.1 bytes the request
// templates produce. Views point into the request bytes, except header names, which are lower-case
// copies in `names`. Reused from one request to the next: after the first requests, no allocation.
struct H2Request {
  struct Field {
    std::string_view name;   // lower case
    std::string_view value;  // surrounding whitespace trimmed
  };
  std::string_view method;
  std::string_view path;       // :path, the request-target
  std::string_view authority;  // :authority, from the Host header ("" when there is none)
  std::vector<Field> headers;  // in order, without Host and the connection-specific fields
                               // (Connection, Keep-Alive, Proxy-Connection, Transfer-Encoding,
                               // Upgrade, TE other than "trailers")
  std::string_view body;       // the bytes after the header block
  std::string names;           // storage of the lower-case names
};

// Splits a complete HTTP/1.1 request (request line, header fields, blank line, body) into *out.
// Returns false for bytes that are not such a request (no request line, a field without a colon,
// no blank line). REQUIRES: `bytes` outlives the use of *out's views.
bool SplitRequestForH2(std::string_view bytes, H2Request* out);

// Builds the response facts a check needs from the header fields and DATA of one HTTP/2 stream,
// as nghttp2 hands them out: the :status, the kept header values (ResponseCapture) and the body.
// Interim (1xx) header blocks are dropped; trailers after the final block are kept like headers.
// Hot path: no allocation beyond the capture's strings, which keep their capacity.
class H2ResponseBuilder {
 public:
  explicit H2ResponseBuilder(size_t max_header_bytes = 64 * 1024) : max_header_bytes_(max_header_bytes) {}
  // Starts a stream's response; `capture` (may be null) is cleared and must outlive it.
  void Reset(bool head_request, ResponseCapture* capture);
  // A header block (HEADERS and its CONTINUATIONs) begins.
  void BeginHeaders();
  // One header field. Returns false when the response must be refused: a :status that is not
  // three digits (or a second final one), or a header section beyond max_header_bytes (the name
  // and value bytes plus 32 per field, as HTTP/2 counts a header list).
  [[nodiscard]] bool OnHeader(std::string_view name, std::string_view value);
  // Body bytes of a DATA frame.
  void OnData(const char* data, size_t len);

  int status_code() const { return final_status_; }  // 0 until a final (>= 200) status came
  bool head_request() const { return head_; }
  uint64_t body_bytes() const { return body_bytes_; }
  uint64_t header_bytes() const { return header_bytes_; }
  bool too_large() const { return too_large_; }

 private:
  size_t max_header_bytes_;
  ResponseCapture* capture_ = nullptr;
  bool head_ = false;
  bool too_large_ = false;
  int block_status_ = 0;   // :status of the current header block
  int final_status_ = 0;
  uint64_t header_bytes_ = 0;
  uint64_t block_bytes_ = 0;
  uint64_t body_bytes_ = 0;
};

}  // namespace headroom::http
