// Feeds arbitrary bytes to ResponseParser twice: in one piece and in pseudo-random pieces (each
// copied to an exact-size heap buffer so ASan sees any read past it). Both feedings must give
// identical results, and the Feed contract (consumed <= len, kNeedMore consumes everything)
// must hold; with option bit 8 the parser also keeps two headers and up to 16 body bytes for
// response checks, and what it keeps must be the same however the input was split.
// Input layout: byte 0 = options, byte 1 = split seed, rest = response bytes.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "http/http.h"

namespace {

using headroom::http::ParseStatus;
using headroom::http::ResponseParser;

struct Outcome {
  ParseStatus status;
  int code;
  uint64_t body_bytes;
  uint64_t header_bytes;
  uint64_t wire_bytes;
  bool keep_alive;
  int error;
  std::vector<std::string> kept_headers;
  std::vector<uint8_t> kept_seen;
  std::string kept_body;
  bool kept_truncated = false;
  bool operator==(const Outcome&) const = default;
};

const std::vector<std::string> kKeptNames = {"content-type", "x-a"};

void Check(bool ok) {
  if (!ok) std::abort();
}

Outcome Snapshot(const ResponseParser& p, ParseStatus st, const headroom::http::ResponseCapture* kept) {
  Check(p.body_bytes() + p.header_bytes() <= p.wire_bytes());
  Outcome o{st, p.status_code(), p.body_bytes(), p.header_bytes(), p.wire_bytes(), p.keep_alive(),
            static_cast<int>(p.error()), {}, {}, {}, false};
  if (kept != nullptr) {
    Check(kept->body.size() <= kept->max_body_bytes);
    Check(kept->body.size() <= p.body_bytes());
    if (st == ParseStatus::kComplete) Check(kept->body_truncated == (p.body_bytes() > kept->max_body_bytes));
    o.kept_headers = kept->header_values;
    o.kept_seen = kept->header_seen;
    o.kept_body = kept->body;
    o.kept_truncated = kept->body_truncated;
  }
  return o;
}

std::vector<Outcome> Run(const uint8_t* data, size_t size, uint8_t options, uint32_t seed) {
  const bool head = options & 1;
  const size_t max_header = (options & 2) ? 64 : 64 * 1024;
  ResponseParser parser(max_header);
  if (options & 4) parser.set_max_body_bytes(32);
  headroom::http::ResponseCapture capture;
  capture.header_names = &kKeptNames;
  capture.max_body_bytes = 16;
  headroom::http::ResponseCapture* kept = (options & 8) ? &capture : nullptr;
  parser.Reset(head, kept);
  std::vector<Outcome> out;
  size_t pos = 0;
  while (pos < size) {
    size_t piece = size - pos;
    if (seed != 0) {
      seed = seed * 1103515245u + 12345u;
      piece = std::min<size_t>(piece, 1 + (seed >> 16) % 17);
    }
    std::unique_ptr<char[]> buf(new char[piece]);
    std::memcpy(buf.get(), data + pos, piece);
    pos += piece;
    size_t off = 0;
    while (off < piece) {
      size_t used = 0;
      const ParseStatus st = parser.Feed(buf.get() + off, piece - off, &used);
      Check(used <= piece - off);
      off += used;
      if (st == ParseStatus::kNeedMore) {
        Check(off == piece);
        break;
      }
      out.push_back(Snapshot(parser, st, kept));
      if (st == ParseStatus::kError) return out;
      parser.Reset(head, kept);
    }
  }
  if (parser.wire_bytes() > 0) {
    const ParseStatus st = parser.OnEof();
    out.push_back(Snapshot(parser, st, kept));
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t options = data[0];
  const uint32_t seed = data[1] | 0x100u;  // never 0: 0 means "one piece"
  const std::vector<Outcome> whole = Run(data + 2, size - 2, options, 0);
  const std::vector<Outcome> split = Run(data + 2, size - 2, options, seed);
  Check(whole == split);
  return 0;
}
