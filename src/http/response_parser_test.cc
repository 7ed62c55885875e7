// Data-driven tests for ResponseParser. Each file in testdata/responses/ is one case:
//
//   # comment
//   head: yes                 (optional) every response answers a HEAD request
//   eof: yes                  (optional) the peer closes after the last byte
//   max_header_bytes: 64      (optional) parser limit
//   max_body_bytes: 8         (optional) parser limit
//   expect: status=200 body=5 keep_alive=yes [header_bytes=38]   one line per response, in order
//   expect: error=bad_chunk   a failing response (error names from ErrorName, or "incomplete")
//   ---
//   raw bytes; escapes \r \n \t \\ \xHH; literal newlines in the file are ignored
//
// Every case is fed whole, split in two at every byte boundary, and byte by byte; all feedings
// must give the same results as the expectations.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "http/http.h"

namespace headroom::http {
namespace {

struct Outcome {
  std::string error = "none";
  int status = 0;
  uint64_t body_bytes = 0;
  bool keep_alive = false;
  uint64_t header_bytes = 0;
};

struct Expectation {
  std::map<std::string, std::string> fields;
};

struct Case {
  std::string name;
  bool head = false;
  bool eof = false;
  size_t max_header_bytes = 64 * 1024;
  uint64_t max_body_bytes = UINT64_MAX;
  std::vector<Expectation> expect;
  std::string bytes;
};

std::string CasesDir() { return std::string(HEADROOM_SOURCE_DIR) + "/src/http/testdata/responses"; }

std::string Unescape(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') continue;
    if (c != '\\' || i + 1 == text.size()) {
      out += c;
      continue;
    }
    const char e = text[++i];
    if (e == 'r') {
      out += '\r';
    } else if (e == 'n') {
      out += '\n';
    } else if (e == 't') {
      out += '\t';
    } else if (e == 'x' && i + 2 < text.size()) {
      out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += e;
    }
  }
  return out;
}

Expectation ParseExpect(const std::string& text) {
  Expectation exp;
  std::istringstream in(text);
  std::string item;
  while (in >> item) {
    const size_t eq = item.find('=');
    exp.fields[item.substr(0, eq)] = eq == std::string::npos ? "" : item.substr(eq + 1);
  }
  return exp;
}

Case LoadCase(const std::string& name) {
  Case c;
  c.name = name;
  std::ifstream in(CasesDir() + "/" + name + ".txt", std::ios::binary);
  std::string line;
  std::string raw;
  bool in_bytes = false;
  while (std::getline(in, line)) {
    if (in_bytes) {
      raw += line + "\n";
    } else if (line == "---") {
      in_bytes = true;
    } else if (line.empty() || line[0] == '#') {
      continue;
    } else if (line.starts_with("head: ")) {
      c.head = line.substr(6) == "yes";
    } else if (line.starts_with("eof: ")) {
      c.eof = line.substr(5) == "yes";
    } else if (line.starts_with("max_header_bytes: ")) {
      c.max_header_bytes = std::stoul(line.substr(18));
    } else if (line.starts_with("max_body_bytes: ")) {
      c.max_body_bytes = std::stoull(line.substr(16));
    } else if (line.starts_with("expect: ")) {
      c.expect.push_back(ParseExpect(line.substr(8)));
    } else {
      ADD_FAILURE() << name << ": unknown line '" << line << "'";
    }
  }
  EXPECT_TRUE(in_bytes) << name << ": missing --- separator";
  c.bytes = Unescape(raw);
  return c;
}

std::vector<std::string> CaseNames() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(CasesDir())) {
    if (entry.path().extension() == ".txt") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

Outcome Snapshot(const ResponseParser& parser, ParseStatus status) {
  Outcome out;
  if (status == ParseStatus::kError) {
    out.error = ResponseParser::ErrorName(parser.error());
  } else if (status == ParseStatus::kNeedMore) {
    out.error = "incomplete";
  }
  out.status = parser.status_code();
  out.body_bytes = parser.body_bytes();
  out.keep_alive = parser.keep_alive();
  out.header_bytes = parser.header_bytes();
  return out;
}

// Feeds the bytes in pieces ending at the given offsets (ascending, last == size), the way a
// connection would: each piece is copied to its own exact-size buffer so ASan catches over-reads.
std::vector<Outcome> FeedCase(const Case& c, const std::vector<size_t>& cuts) {
  ResponseParser parser(c.max_header_bytes);
  parser.set_max_body_bytes(c.max_body_bytes);
  parser.Reset(c.head);
  std::vector<Outcome> outcomes;
  size_t begin = 0;
  for (size_t cut : cuts) {
    std::vector<char> piece(c.bytes.begin() + static_cast<ptrdiff_t>(begin),
                            c.bytes.begin() + static_cast<ptrdiff_t>(cut));
    begin = cut;
    size_t off = 0;
    while (off < piece.size()) {
      size_t used = 0;
      const ParseStatus st = parser.Feed(piece.data() + off, piece.size() - off, &used);
      EXPECT_LE(used, piece.size() - off);
      off += used;
      if (st == ParseStatus::kNeedMore) {
        EXPECT_EQ(off, piece.size()) << "kNeedMore must consume every byte";
        break;
      }
      outcomes.push_back(Snapshot(parser, st));
      if (st == ParseStatus::kError) return outcomes;
      parser.Reset(c.head);
    }
  }
  if (parser.wire_bytes() > 0 || outcomes.empty()) {
    const ParseStatus st = c.eof ? parser.OnEof() : ParseStatus::kNeedMore;
    outcomes.push_back(Snapshot(parser, st));
  }
  return outcomes;
}

std::string Describe(const std::vector<Outcome>& outcomes) {
  std::ostringstream out;
  for (const Outcome& o : outcomes) {
    out << "[error=" << o.error << " status=" << o.status << " body=" << o.body_bytes
        << " keep_alive=" << (o.keep_alive ? "yes" : "no") << " header_bytes=" << o.header_bytes
        << "] ";
  }
  return out.str();
}

void CheckExpectations(const Case& c, const std::vector<Outcome>& got) {
  ASSERT_EQ(got.size(), c.expect.size()) << Describe(got);
  for (size_t i = 0; i < got.size(); ++i) {
    const auto& f = c.expect[i].fields;
    const std::string error = f.contains("error") ? f.at("error") : "none";
    EXPECT_EQ(got[i].error, error) << "response " << i << ": " << Describe(got);
    if (f.contains("status")) {
      EXPECT_EQ(got[i].status, std::stoi(f.at("status"))) << "response " << i;
    }
    if (f.contains("body")) {
      EXPECT_EQ(got[i].body_bytes, std::stoull(f.at("body"))) << "response " << i;
    }
    if (f.contains("keep_alive")) {
      EXPECT_EQ(got[i].keep_alive, f.at("keep_alive") == "yes") << "response " << i;
    }
    if (f.contains("header_bytes")) {
      EXPECT_EQ(got[i].header_bytes, std::stoull(f.at("header_bytes"))) << "response " << i;
    }
  }
}

class ResponseCaseTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ResponseCaseTest, WholeBuffer) {
  const Case c = LoadCase(GetParam());
  ASSERT_FALSE(c.expect.empty()) << "no expect: line";
  CheckExpectations(c, FeedCase(c, {c.bytes.size()}));
}

TEST_P(ResponseCaseTest, SplitAtEveryByteBoundary) {
  const Case c = LoadCase(GetParam());
  const std::vector<Outcome> whole = FeedCase(c, {c.bytes.size()});
  for (size_t k = 1; k < c.bytes.size(); ++k) {
    const std::vector<Outcome> split = FeedCase(c, {k, c.bytes.size()});
    ASSERT_EQ(Describe(split), Describe(whole)) << "split at byte " << k;
  }
}

TEST_P(ResponseCaseTest, ByteByByte) {
  const Case c = LoadCase(GetParam());
  std::vector<size_t> cuts;
  for (size_t k = 1; k <= c.bytes.size(); ++k) cuts.push_back(k);
  EXPECT_EQ(Describe(FeedCase(c, cuts)), Describe(FeedCase(c, {c.bytes.size()})));
}

INSTANTIATE_TEST_SUITE_P(Responses, ResponseCaseTest, ::testing::ValuesIn(CaseNames()),
                         [](const auto& info) { return info.param; });

// --- Behaviour not expressed by single cases -----------------------------------------------

ParseStatus FeedAll(ResponseParser& parser, std::string_view bytes, size_t* used) {
  return parser.Feed(bytes.data(), bytes.size(), used);
}

TEST(ResponseParserTest, StopsAtEndOfResponseAndLeavesTheRest) {
  ResponseParser parser;
  parser.Reset();
  const std::string first = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  const std::string second = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
  size_t used = 0;
  ASSERT_EQ(FeedAll(parser, first + second, &used), ParseStatus::kComplete);
  EXPECT_EQ(used, first.size());
  EXPECT_EQ(parser.wire_bytes(), first.size());
  EXPECT_EQ(parser.status_code(), 200);
  // Feeding again without Reset consumes nothing.
  ASSERT_EQ(FeedAll(parser, second, &used), ParseStatus::kComplete);
  EXPECT_EQ(used, 0u);
  parser.Reset();
  ASSERT_EQ(FeedAll(parser, second, &used), ParseStatus::kComplete);
  EXPECT_EQ(used, second.size());
  EXPECT_EQ(parser.status_code(), 404);
  EXPECT_EQ(parser.body_bytes(), 0u);
}

TEST(ResponseParserTest, ErrorIsSticky) {
  ResponseParser parser;
  parser.Reset();
  size_t used = 0;
  ASSERT_EQ(FeedAll(parser, "NOPE\r\n\r\n", &used), ParseStatus::kError);
  EXPECT_EQ(parser.error(), ParseError::kBadStatusLine);
  EXPECT_FALSE(parser.keep_alive());
  EXPECT_EQ(FeedAll(parser, "HTTP/1.1 200 OK\r\n\r\n", &used), ParseStatus::kError);
  EXPECT_EQ(used, 0u);
  EXPECT_EQ(parser.OnEof(), ParseStatus::kError);
  parser.Reset();
  EXPECT_EQ(parser.error(), ParseError::kNone);
}

TEST(ResponseParserTest, LargeBodyIsCountedNotStored) {
  ResponseParser parser;
  parser.Reset();
  size_t used = 0;
  ASSERT_EQ(FeedAll(parser, "HTTP/1.1 200 OK\r\nContent-Length: 10000000000\r\n\r\n", &used),
            ParseStatus::kNeedMore);
  const std::string block(1 << 20, 'x');
  uint64_t fed = 0;
  ParseStatus st = ParseStatus::kNeedMore;
  while (st == ParseStatus::kNeedMore) {
    st = FeedAll(parser, block, &used);
    fed += used;
  }
  EXPECT_EQ(st, ParseStatus::kComplete);
  EXPECT_EQ(fed, 10000000000u);
  EXPECT_EQ(parser.body_bytes(), 10000000000u);
}

TEST(ResponseParserTest, EofAfterCompleteStaysComplete) {
  ResponseParser parser;
  parser.Reset();
  size_t used = 0;
  ASSERT_EQ(FeedAll(parser, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", &used),
            ParseStatus::kComplete);
  EXPECT_EQ(parser.OnEof(), ParseStatus::kComplete);
  EXPECT_EQ(parser.error(), ParseError::kNone);
}

TEST(ResponseParserTest, IdleCloseHasNoWireBytes) {
  ResponseParser parser;
  parser.Reset();
  EXPECT_EQ(parser.OnEof(), ParseStatus::kError);
  EXPECT_EQ(parser.error(), ParseError::kUnexpectedEof);
  EXPECT_EQ(parser.wire_bytes(), 0u);
}

TEST(ResponseParserTest, SplitHeadersReuseOneBufferAcrossResponses) {
  // Many responses with headers split mid-line; the parser must keep working after Reset.
  ResponseParser parser(128);
  const std::string response = "HTTP/1.1 200 OK\r\nServer: x\r\nContent-Length: 3\r\n\r\nabc";
  for (int round = 0; round < 100; ++round) {
    parser.Reset();
    size_t used = 0;
    const size_t cut = 1 + static_cast<size_t>(round) % (response.size() - 1);
    ASSERT_EQ(parser.Feed(response.data(), cut, &used), ParseStatus::kNeedMore);
    ASSERT_EQ(parser.Feed(response.data() + cut, response.size() - cut, &used),
              ParseStatus::kComplete);
    EXPECT_EQ(parser.body_bytes(), 3u);
  }
}

TEST(ResponseParserTest, HeaderFloodStopsAtTheLimit) {
  ResponseParser parser(1024);
  parser.Reset();
  const std::string flood = "HTTP/1.1 200 OK\r\nX-Flood: " + std::string(1 << 20, 'a');
  size_t used = 0;
  ASSERT_EQ(FeedAll(parser, flood, &used), ParseStatus::kError);
  EXPECT_EQ(parser.error(), ParseError::kHeadersTooLarge);
  EXPECT_EQ(used, 1024u);  // nothing scanned past the limit
}

TEST(ResponseParserTest, ErrorNames) {
  EXPECT_STREQ(ResponseParser::ErrorName(ParseError::kNone), "none");
  EXPECT_STREQ(ResponseParser::ErrorName(ParseError::kBadStatusLine), "bad_status_line");
  EXPECT_STREQ(ResponseParser::ErrorName(ParseError::kBadHeader), "bad_header");
  EXPECT_STREQ(ResponseParser::ErrorName(ParseError::kHeadersTooLarge), "headers_too_large");
  EXPECT_STREQ(ResponseParser::ErrorName(ParseError::kBadContentLength), "bad_content_length");
  EXPECT_STREQ(ResponseParser::ErrorName(ParseError::kBadChunk), "bad_chunk");
  EXPECT_STREQ(ResponseParser::ErrorName(ParseError::kBodyTooLarge), "body_too_large");
  EXPECT_STREQ(ResponseParser::ErrorName(ParseError::kUnexpectedEof), "unexpected_eof");
}

}  // namespace
}  // namespace headroom::http

namespace headroom::http {
namespace {

// Feeds `wire` in pieces of `step` bytes; returns the final status.
ParseStatus FeedInSteps(ResponseParser& p, std::string_view wire, size_t step) {
  ParseStatus st = ParseStatus::kNeedMore;
  size_t pos = 0;
  while (pos < wire.size() && st == ParseStatus::kNeedMore) {
    size_t used = 0;
    st = p.Feed(wire.data() + pos, std::min(step, wire.size() - pos), &used);
    pos += used;
  }
  return st;
}

TEST(ResponseCaptureTest, KeepsNamedHeadersAndTheDecodedBodyHoweverSplit) {
  const std::vector<std::string> names = {"content-type", "x-id", "x-missing"};
  const std::string wire =
      "HTTP/1.1 103 Early Hints\r\nX-Id: interim\r\n\r\n"
      "HTTP/1.1 200 OK\r\ncontent-TYPE:  application/json \r\nX-Id: 1\r\nx-id: 2\r\n"
      "Transfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n";
  for (size_t step : {size_t(1), size_t(7), wire.size()}) {
    ResponseCapture kept;
    kept.header_names = &names;
    kept.max_body_bytes = 1024;
    ResponseParser p;
    p.Reset(false, &kept);
    ASSERT_EQ(FeedInSteps(p, wire, step), ParseStatus::kComplete) << step;
    EXPECT_EQ(kept.header_values[0], "application/json");
    EXPECT_EQ(kept.header_values[1], "1, 2") << "the interim response's X-Id is dropped";
    EXPECT_EQ(kept.header_seen, (std::vector<uint8_t>{1, 1, 0}));
    EXPECT_EQ(kept.body, "{\"a\":1}");
    EXPECT_FALSE(kept.body_truncated);
  }
}

TEST(ResponseCaptureTest, BodyIsCutAtTheLimitAndMarkedTruncated) {
  ResponseCapture kept;
  kept.max_body_bytes = 4;
  ResponseParser p;
  p.Reset(false, &kept);
  ASSERT_EQ(FeedInSteps(p, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789", 3), ParseStatus::kComplete);
  EXPECT_EQ(kept.body, "0123");
  EXPECT_TRUE(kept.body_truncated);
  EXPECT_EQ(p.body_bytes(), 10u) << "the whole body is still counted";
  // The next response on the connection starts from a clean capture, and one without capture keeps nothing.
  p.Reset(false, &kept);
  ASSERT_EQ(FeedInSteps(p, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nab", 100), ParseStatus::kComplete);
  EXPECT_EQ(kept.body, "ab");
  EXPECT_FALSE(kept.body_truncated);
  p.Reset(false);
  ASSERT_EQ(FeedInSteps(p, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\ncd", 100), ParseStatus::kComplete);
  EXPECT_EQ(kept.body, "ab");
}

TEST(ResponseCaptureTest, CloseDelimitedBodyIsKept) {
  ResponseCapture kept;
  kept.max_body_bytes = 100;
  ResponseParser p;
  p.Reset(false, &kept);
  ASSERT_EQ(FeedInSteps(p, "HTTP/1.0 200 OK\r\n\r\nhello", 2), ParseStatus::kNeedMore);
  ASSERT_EQ(p.OnEof(), ParseStatus::kComplete);
  EXPECT_EQ(kept.body, "hello");
}

}  // namespace
}  // namespace headroom::http
