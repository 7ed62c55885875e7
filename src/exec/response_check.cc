#include "exec/response_check.h"

#include <algorithm>

#include <re2/re2.h>

#include <nlohmann/json.hpp>

#include "core/units.h"

namespace headroom::exec {
namespace {

using engine::ResponseCheck;
using Outcome = ResponseCheck::Outcome;
using Op = scenario::HeaderExpect::Op;

// Bodies nested deeper than this are not parsed as JSON (a hostile body must not exhaust the stack).
constexpr int kMaxJsonDepth = 512;
constexpr size_t kSnippetBytes = 80;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
  return out;
}

// `text` quoted, cut at `limit` bytes, control and non-ASCII bytes as \xNN.
std::string Quote(std::string_view text, size_t limit = kSnippetBytes) {
  static const char* kHex = "0123456789abcdef";
  std::string out = "\"";
  for (size_t i = 0; i < text.size() && i < limit; ++i) {
    const auto u = static_cast<unsigned char>(text[i]);
    if (text[i] == '"' || text[i] == '\\') {
      out += '\\';
      out += text[i];
    } else if (u < 0x20 || u >= 0x7f) {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += text[i];
    }
  }
  out += '"';
  if (text.size() > limit) out += "...";
  return out;
}

// True when an RE2 pattern can only match at the end of the text ("$" outside a class, "\\z"): on a
// body cut at body_limit it would match the cut instead of the real end.
bool EndAnchored(std::string_view pattern) {
  bool in_class = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\') {
      if (i + 1 < pattern.size() && pattern[i + 1] == 'z' && !in_class) return true;
      ++i;
    } else if (c == '[') {
      in_class = true;
    } else if (c == ']') {
      in_class = false;
    } else if (c == '$' && !in_class) {
      return true;
    }
  }
  return false;
}

// A JSON value as compact text, cut at kSnippetBytes.
std::string Dump(const nlohmann::json& v) {
  std::string text = v.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
  if (text.size() > kSnippetBytes) text = text.substr(0, kSnippetBytes) + "...";
  return text;
}

// Deepest nesting of arrays/objects, stopping once it exceeds `cap`.
int JsonDepth(std::string_view text, int cap) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > cap) return deepest;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

class ExpectCheck final : public ResponseCheck {
 public:
  explicit ExpectCheck(const scenario::Expect& e) : statuses_(e.statuses), body_contains_(e.body_contains) {
    for (const scenario::HeaderExpect& h : e.headers) {
      Header out{h.name, h.op, h.value, 0, nullptr};
      const std::string lower = Lower(h.name);
      auto it = std::find(names_.begin(), names_.end(), lower);
      out.slot = size_t(it - names_.begin());
      if (it == names_.end()) names_.push_back(lower);
      if (h.op == Op::kMatches) out.re = std::make_shared<RE2>(h.value, RE2::Quiet);
      headers_.push_back(std::move(out));
    }
    for (const std::string& p : e.body_matches) body_matches_.push_back(std::make_unique<RE2>(p, RE2::Quiet));
    for (const scenario::JsonExpect& j : e.json) {
      json_.push_back({j.path, nlohmann::json::json_pointer(j.pointer), nlohmann::json::parse(j.expected)});
    }
    max_body_ = e.NeedsBody() ? size_t(e.body_limit) : 0;
    for (size_t i = 0; i < statuses_.size(); ++i) {
      if (i > 0) expected_statuses_ += i + 1 == statuses_.size() ? " or " : ", ";
      const auto [lo, hi] = statuses_[i];
      expected_statuses_ += lo == hi ? std::to_string(lo) : std::to_string(lo / 100) + "xx";
    }
  }

  const std::vector<std::string>& header_names() const override { return names_; }
  size_t max_body_bytes() const override { return max_body_; }

  Outcome Evaluate(int status, const http::ResponseCapture& kept, uint64_t body_bytes,
                   std::string* reason) const override {
    if (!statuses_.empty()) {
      bool listed = false;
      for (const auto& [lo, hi] : statuses_) listed = listed || (status >= lo && status <= hi);
      if (!listed) {
        if (status >= 400) return Outcome::kHttpError;
        return Fail(reason, "status " + std::to_string(status) + ", expected " + expected_statuses_);
      }
    } else if (status >= 400) {
      return Outcome::kHttpError;
    }
    for (const Header& h : headers_) {
      const bool seen = h.slot < kept.header_seen.size() && kept.header_seen[h.slot];
      const std::string_view value = seen ? std::string_view(kept.header_values[h.slot]) : std::string_view();
      if (h.op == Op::kAbsent) {
        if (seen) return Fail(reason, "header " + h.name + " is " + Quote(value) + ", expected no such header");
        continue;
      }
      if (!seen) return Fail(reason, "header " + h.name + " is missing");
      switch (h.op) {
        case Op::kEquals:
          if (value != h.value) return Fail(reason, "header " + h.name + " is " + Quote(value) + ", expected " + Quote(h.value));
          break;
        case Op::kContains:
          if (value.find(h.value) == std::string_view::npos) {
            return Fail(reason, "header " + h.name + " is " + Quote(value) + ", expected it to contain " + Quote(h.value));
          }
          break;
        case Op::kMatches:
          if (!RE2::PartialMatch(value, *h.re)) {
            return Fail(reason, "header " + h.name + " is " + Quote(value) + ", expected it to match /" + h.value + "/");
          }
          break;
        default:
          break;
      }
    }
    if (max_body_ == 0) return Outcome::kPass;
    const std::string_view body = kept.body;
    for (const std::string& s : body_contains_) {
      if (body.find(s) == std::string_view::npos) {
        return Fail(reason, "body does not contain " + Quote(s) + BodyNote(kept, body_bytes));
      }
    }
    for (size_t i = 0; i < body_matches_.size(); ++i) {
      if (kept.body_truncated && EndAnchored(body_matches_[i]->pattern())) {
        return Fail(reason, "body of " + FormatBytes(double(body_bytes)) + " is over expect.body_limit (" +
                                FormatBytes(double(max_body_)) + "): /" + body_matches_[i]->pattern() +
                                "/ needs its end; raise expect.body_limit");
      }
      if (!RE2::PartialMatch(body, *body_matches_[i])) {
        return Fail(reason, "body does not match /" + body_matches_[i]->pattern() + "/" + BodyNote(kept, body_bytes));
      }
    }
    if (json_.empty()) return Outcome::kPass;
    if (kept.body_truncated) {
      return Fail(reason, "body of " + FormatBytes(double(body_bytes)) + " is over expect.body_limit (" +
                              FormatBytes(double(max_body_)) + "); its JSON fields were not checked");
    }
    if (JsonDepth(body, kMaxJsonDepth) > kMaxJsonDepth) {
      return Fail(reason, "body nests deeper than " + std::to_string(kMaxJsonDepth) + " levels; not parsed as JSON");
    }
    try {
      const nlohmann::json doc = nlohmann::json::parse(body, nullptr, false);
      if (doc.is_discarded()) return Fail(reason, "body is not JSON: " + Quote(body));
      for (const Json& j : json_) {
        if (!doc.contains(j.pointer)) return Fail(reason, "json " + j.path + " is missing, expected " + Dump(j.expected));
        const nlohmann::json& got = doc.at(j.pointer);
        if (got != j.expected) return Fail(reason, "json " + j.path + " is " + Dump(got) + ", expected " + Dump(j.expected));
      }
    } catch (const nlohmann::json::exception& e) {  // a pointer that does not fit the document's shape
      return Fail(reason, std::string("body's JSON could not be checked: ") + e.what());
    }
    return Outcome::kPass;
  }

 private:
  struct Header {
    std::string name;
    Op op;
    std::string value;
    size_t slot;
    std::shared_ptr<RE2> re;
  };
  struct Json {
    std::string path;
    nlohmann::json::json_pointer pointer;
    nlohmann::json expected;
  };

  static Outcome Fail(std::string* reason, std::string text) {
    if (reason != nullptr) *reason = std::move(text);
    return Outcome::kFail;
  }

  // What was searched, and the body's start.
  std::string BodyNote(const http::ResponseCapture& kept, uint64_t body_bytes) const {
    std::string note = " (body " + Quote(kept.body);
    if (kept.body_truncated) {
      note += ", only its first " + FormatBytes(double(max_body_)) + " of " + FormatBytes(double(body_bytes)) +
              " searched: raise expect.body_limit";
    }
    return note + ")";
  }

  std::vector<std::pair<int, int>> statuses_;
  std::string expected_statuses_;
  std::vector<std::string> names_;
  std::vector<Header> headers_;
  std::vector<std::string> body_contains_;
  std::vector<std::unique_ptr<RE2>> body_matches_;
  std::vector<Json> json_;
  size_t max_body_ = 0;
};

}  // namespace

std::unique_ptr<engine::ResponseCheck> MakeResponseCheck(const scenario::Expect& expect) {
  return std::make_unique<ExpectCheck>(expect);
}

}  // namespace headroom::exec
