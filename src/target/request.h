// Private to src/target: HTTP/1.1 request parsing and routing for the embedded target.
// Pure functions, no state, thread-safe.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace headroom::target {

inline constexpr size_t kMaxHeaderBytes = 16 * 1024;
inline constexpr int64_t kMaxRequestBodyBytes = 1 << 20;
inline constexpr int64_t kMaxBytesBody = int64_t{64} << 20;
inline constexpr int64_t kMaxChunkedBody = int64_t{16} << 20;
inline constexpr int64_t kMaxCpuUs = 10'000'000;
inline constexpr int64_t kMaxSleepMs = 3'600'000;

enum class ParseState { kComplete, kIncomplete, kBad };

struct Request {
  std::string_view method;  // views into the parsed buffer
  std::string_view target;
  bool head = false;        // HEAD: headers only
  bool keep_alive = true;   // HTTP/1.1 default; HTTP/1.0 needs "Connection: keep-alive"
  size_t consumed_bytes = 0;  // header block + body length
};

// Parses one request at the start of `buf`. kIncomplete: need more bytes (and buf is still
// under the limits). kBad: malformed, oversized, or uses request features the target refuses
// (Transfer-Encoding in a request).
ParseState ParseRequest(std::string_view buf, Request* out);

enum class BodyKind { kInline, kStatic, kChunked };

// What to answer. Computed from the request line alone.
struct Route {
  int status = 200;
  BodyKind body_kind = BodyKind::kInline;
  std::string_view inline_body;  // static storage
  std::string_view content_type = "text/plain";
  int64_t body_bytes = 0;        // length for kStatic and kChunked
  int64_t cpu_us = 0;            // burn before answering
  int64_t sleep_ms = 0;          // delay the answer
};

Route RouteRequest(std::string_view method, std::string_view target);

// Appends a full response head ("HTTP/1.1 ... \r\n\r\n") to `out`.
void AppendHead(std::string* out, int status, const Route& route, bool close);
// Appends the body of a kInline or kChunked route (not kStatic).
void AppendBody(std::string* out, const Route& route);
std::string_view ReasonPhrase(int status);
// A 64 KiB read-only buffer of printable bytes; /bytes/N bodies are cut from it.
std::string_view FillBuffer();

}  // namespace headroom::target
