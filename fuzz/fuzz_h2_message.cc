// What headroom itself parses on the HTTP/2 path, fed arbitrary bytes:
//  1. SplitRequestForH2 on arbitrary request bytes: every view must lie inside the request bytes
//     (values, method, path, authority, body) or inside `names` (lower-case names), and no
//     connection-specific field may survive.
//  2. A client nghttp2 session whose header and data callbacks feed H2ResponseBuilder exactly as the
//     engine's h2 worker does, given arbitrary server bytes (frames are nghttp2's job; what reaches
//     headroom is the header fields and DATA it hands out). The builder's facts must stay coherent:
//     a final status is 0 or 200..999, the kept body never exceeds its limit or the body seen.
// Input layout: byte 0 = options (bit 0: keep headers and 16 body bytes), byte 1 = length n of the
// request part, then n request bytes, then the server's bytes (after a valid server preface).
#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "http/http.h"

namespace {

using headroom::http::H2Request;
using headroom::http::H2ResponseBuilder;
using headroom::http::ResponseCapture;

void Check(bool ok) {
  if (!ok) std::abort();
}

bool Inside(std::string_view part, std::string_view whole) {
  return part.empty() || (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

void FuzzSplit(std::string_view bytes) {
  H2Request r;
  if (!headroom::http::SplitRequestForH2(bytes, &r)) return;
  Check(!r.method.empty() && Inside(r.method, bytes));
  Check(Inside(r.path, bytes) && Inside(r.authority, bytes) && Inside(r.body, bytes));
  for (const H2Request::Field& f : r.headers) {
    Check(!f.name.empty() && Inside(f.name, r.names) && Inside(f.value, bytes));
    for (char c : f.name) Check(!(c >= 'A' && c <= 'Z'));
    Check(f.name != "host" && f.name != "connection" && f.name != "transfer-encoding" && f.name != "upgrade" &&
          f.name != "keep-alive" && f.name != "proxy-connection");
  }
  // Splitting again into the same (reused) object gives the same parts.
  const size_t fields = r.headers.size();
  const std::string_view body = r.body;
  Check(headroom::http::SplitRequestForH2(bytes, &r));
  Check(r.headers.size() == fields && r.body == body);
}

struct Session {
  H2ResponseBuilder builder{4096};
  ResponseCapture kept;
  std::vector<std::string> names = {"content-type", "x-a"};
  int32_t stream = -1;
  bool closed = false;
};

int OnBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user) {
  auto* s = static_cast<Session*>(user);
  if (frame->hd.type == NGHTTP2_HEADERS && frame->hd.stream_id == s->stream) s->builder.BeginHeaders();
  return 0;
}

int OnHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t namelen, const uint8_t* value,
             size_t valuelen, uint8_t, void* user) {
  auto* s = static_cast<Session*>(user);
  if (frame->hd.type != NGHTTP2_HEADERS || frame->hd.stream_id != s->stream) return 0;
  if (!s->builder.OnHeader(std::string_view(reinterpret_cast<const char*>(name), namelen),
                           std::string_view(reinterpret_cast<const char*>(value), valuelen))) {
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  }
  return 0;
}

int OnData(nghttp2_session*, uint8_t, int32_t stream, const uint8_t* data, size_t len, void* user) {
  auto* s = static_cast<Session*>(user);
  if (stream == s->stream) s->builder.OnData(reinterpret_cast<const char*>(data), len);
  return 0;
}

int OnClose(nghttp2_session*, int32_t stream, uint32_t, void* user) {
  auto* s = static_cast<Session*>(user);
  if (stream == s->stream) s->closed = true;
  return 0;
}

void FuzzSession(bool keep, const uint8_t* data, size_t size) {
  Session s;
  if (keep) {
    s.kept.header_names = &s.names;
    s.kept.max_body_bytes = 16;
  }
  s.builder.Reset(false, keep ? &s.kept : nullptr);
  nghttp2_session_callbacks* cb = nullptr;
  nghttp2_session_callbacks_new(&cb);
  nghttp2_session_callbacks_set_on_begin_headers_callback(cb, OnBeginHeaders);
  nghttp2_session_callbacks_set_on_header_callback(cb, OnHeader);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, OnData);
  nghttp2_session_callbacks_set_on_stream_close_callback(cb, OnClose);
  nghttp2_session* session = nullptr;
  nghttp2_session_client_new(&session, cb, &s);
  nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, nullptr, 0);
  const nghttp2_nv nv[] = {
      {(uint8_t*)":method", (uint8_t*)"GET", 7, 3, NGHTTP2_NV_FLAG_NONE},
      {(uint8_t*)":scheme", (uint8_t*)"http", 7, 4, NGHTTP2_NV_FLAG_NONE},
      {(uint8_t*)":authority", (uint8_t*)"a", 10, 1, NGHTTP2_NV_FLAG_NONE},
      {(uint8_t*)":path", (uint8_t*)"/", 5, 1, NGHTTP2_NV_FLAG_NONE},
  };
  s.stream = nghttp2_submit_request(session, nullptr, nv, 4, nullptr, nullptr);
  const uint8_t* out = nullptr;
  while (nghttp2_session_mem_send(session, &out) > 0) {}
  // The server's preface (an empty SETTINGS), then the fuzzer's bytes in a few pieces.
  static const uint8_t kSettings[] = {0, 0, 0, 4, 0, 0, 0, 0, 0};
  if (nghttp2_session_mem_recv(session, kSettings, sizeof kSettings) >= 0) {
    size_t off = 0;
    while (off < size) {
      const size_t piece = std::min<size_t>(size - off, 1 + (data[off] % 64));
      if (nghttp2_session_mem_recv(session, data + off, piece) < 0) break;
      off += piece;
      while (nghttp2_session_mem_send(session, &out) > 0) {}
    }
  }
  const int status = s.builder.status_code();
  Check(status == 0 || (status >= 200 && status <= 999));
  if (keep) {
    Check(s.kept.body.size() <= s.kept.max_body_bytes);
    Check(s.kept.body.size() <= s.builder.body_bytes());
    Check(s.kept.header_values.size() == s.names.size() && s.kept.header_seen.size() == s.names.size());
  }
  nghttp2_session_del(session);
  nghttp2_session_callbacks_del(cb);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const bool keep = (data[0] & 1) != 0;
  const size_t n = std::min<size_t>(data[1], size - 2);
  // An exact-size copy, so that ASan sees any read past the request.
  std::vector<char> request(data + 2, data + 2 + n);
  FuzzSplit(std::string_view(request.data(), request.size()));
  FuzzSession(keep, data + 2 + n, size - 2 - n);
  return 0;
}
