// A request's response checks (`expect:`): status codes, headers, body text and JSON fields.
#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "core/units.h"
#include "scenario/parser.h"
#include "scenario/text.h"

namespace headroom::scenario {
namespace {

constexpr int64_t kMaxBodyLimit = int64_t(64) << 20;

// One status entry: 200 or "2xx". Returns the inclusive range, or nullopt.
std::optional<std::pair<int, int>> StatusRange(const std::string& text) {
  if (text.size() == 3 && text[0] >= '1' && text[0] <= '5' && (text[1] == 'x' || text[1] == 'X') &&
      (text[2] == 'x' || text[2] == 'X')) {
    const int base = (text[0] - '0') * 100;
    return std::make_pair(base, base + 99);
  }
  if (text.size() != 3) return std::nullopt;
  int code = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    code = code * 10 + (c - '0');
  }
  if (code < 100 || code > 599) return std::nullopt;
  return std::make_pair(code, code);
}

// "items.0.id", "items[0].id", "$.items[0].id" or "/items/0/id" as a JSON pointer; nullopt when
// the path has an empty segment or an unclosed bracket.
std::optional<std::string> JsonPointerOf(std::string_view path) {
  if (!path.empty() && path[0] == '/') return std::string(path);
  if (path.substr(0, 1) == "$") {
    path.remove_prefix(1);
    if (path.empty()) return std::string();  // the whole document
    if (path[0] == '.') path.remove_prefix(1);
  }
  std::string out;
  std::string segment;
  bool have_segment = false;
  auto flush = [&]() -> bool {
    if (!have_segment) return false;
    out += '/';
    for (char c : segment) {
      if (c == '~') {
        out += "~0";
      } else if (c == '/') {
        out += "~1";
      } else {
        out += c;
      }
    }
    segment.clear();
    have_segment = false;
    return true;
  };
  size_t i = 0;
  while (i < path.size()) {
    const char c = path[i];
    if (c == '.') {
      if (!flush()) return std::nullopt;
      ++i;
    } else if (c == '[') {
      if (have_segment && !flush()) return std::nullopt;
      const size_t close = path.find(']', i);
      if (close == std::string_view::npos || close == i + 1) return std::nullopt;
      std::string_view inner = path.substr(i + 1, close - i - 1);
      if (inner.size() >= 2 && (inner.front() == '\'' || inner.front() == '"') && inner.back() == inner.front()) {
        inner = inner.substr(1, inner.size() - 2);
      }
      segment = std::string(inner);
      have_segment = true;
      if (!flush()) return std::nullopt;
      i = close + 1;
      if (i < path.size() && path[i] != '.' && path[i] != '[') return std::nullopt;
      if (i < path.size() && path[i] == '.') {
        ++i;
        if (i == path.size()) return std::nullopt;
      }
    } else {
      segment += c;
      have_segment = true;
      ++i;
    }
  }
  if (have_segment) flush();
  if (out.empty()) return std::nullopt;
  return out;
}

// `text` as a JSON string.
std::string JsonString(const std::string& text) {
  return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// A YAML scalar as JSON text: quoted -> string; null/~, true/false, numbers as themselves.
std::string JsonValueOf(const YAML::Node& n) {
  const std::string& text = n.Scalar();
  if (n.Tag() == "!") return JsonString(text);  // quoted in the file: always a string
  if (text == "null" || text == "~" || text.empty()) return "null";
  if (text == "true" || text == "false") return text;
  if (!text.empty() && (text[0] == '-' || (text[0] >= '0' && text[0] <= '9'))) {
    errno = 0;
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (end == text.c_str() + text.size() && errno == 0 && std::isfinite(v) && nlohmann::json::accept(text)) {
      return text;
    }
  }
  return JsonString(text);
}

std::string HeaderOpHint(std::string_view key) {
  if (key == "equal" || key == "is" || key == "value") return " (write 'equals')";
  if (key == "regex" || key == "match") return " (write 'matches')";
  return "";
}

}  // namespace

void ScenarioParser::ParseExpect(const YAML::Node& node, std::string_view path, RequestSpec& out) {
  if (!r_.ExpectMap(node, path, "{ status: 200, body_contains: '\"ok\"' }")) return;
  r_.CheckKeys(node, path, {"status", "headers", "body_contains", "body_matches", "json", "body_limit"},
               [](std::string_view key) -> std::string {
                 if (key == "header") return " (write 'headers', a map of name: value)";
                 if (key == "body") return " (write 'body_contains' or 'body_matches')";
                 if (key == "jsonpath" || key == "json_path") return " (write 'json', a map of path: value)";
                 return "";
               });
  Expect e;
  bool any = false;
  for (const char* key : {"status", "headers", "body_contains", "body_matches", "json"}) any = any || Get(node, key).IsDefined();
  if (!any) r_.Error(node, path, "give at least one check: status, headers, body_contains, body_matches or json");
  if (YAML::Node n = Get(node, "status"); n.IsDefined()) ParseExpectStatus(n, JoinPath(path, "status"), e);
  if (YAML::Node n = Get(node, "headers"); n.IsDefined()) ParseExpectHeaders(n, JoinPath(path, "headers"), e);
  if (YAML::Node n = Get(node, "body_contains"); n.IsDefined()) {
    ParseTextList(n, JoinPath(path, "body_contains"), false, e.body_contains);
  }
  if (YAML::Node n = Get(node, "body_matches"); n.IsDefined()) {
    ParseTextList(n, JoinPath(path, "body_matches"), true, e.body_matches);
  }
  if (YAML::Node n = Get(node, "json"); n.IsDefined()) ParseExpectJson(n, JoinPath(path, "json"), e);
  if (YAML::Node n = Get(node, "body_limit"); n.IsDefined()) {
    const std::string p = JoinPath(path, "body_limit");
    if (auto text = r_.Scalar(n, p, "a size like 64KiB")) {
      Result<int64_t> v = ParseSizeBytes(*text);
      if (!v) {
        r_.Error(n, p, v.error().message);
      } else if (*v < 1 || *v > kMaxBodyLimit) {
        r_.Error(n, p, "must be between 1B and 64MiB, got '" + *text + "'");
      } else {
        e.body_limit = *v;
      }
    }
  }
  if (out.method == "HEAD" && e.NeedsBody()) {
    r_.Error(node, path, "a HEAD request has no body to check; use 'status' or 'headers'");
  }
  out.expect = std::move(e);
}

void ScenarioParser::ParseExpectStatus(const YAML::Node& node, std::string_view path, Expect& out) {
  auto one = [&](const YAML::Node& n, std::string_view p) {
    auto text = r_.Scalar(n, p, "a status like 200 or \"2xx\"");
    if (!text) return;
    if (auto range = StatusRange(*text)) {
      out.statuses.push_back(*range);
    } else {
      r_.Error(n, p, "'" + *text + "' is not a status code (100 to 599) or a class like \"2xx\"");
    }
  };
  if (node.IsSequence()) {
    if (node.size() == 0) r_.Error(node, path, "list at least one status, e.g. [200, 201]");
    for (size_t i = 0; i < node.size(); ++i) one(node[i], std::string(path) + "[" + std::to_string(i) + "]");
  } else {
    one(node, path);
  }
}

void ScenarioParser::ParseExpectHeaders(const YAML::Node& node, std::string_view path, Expect& out) {
  if (!r_.ExpectMap(node, path, "{ Content-Type: application/json }")) return;
  if (node.size() == 0) r_.Error(node, path, "give at least one header, e.g. { Content-Type: application/json }");
  for (auto it = node.begin(); it != node.end(); ++it) {
    HeaderExpect h;
    h.name = it->first.Scalar();
    h.pos = PosOf(it->second);
    const std::string p = JoinPath(path, h.name);
    if (h.name.empty() || !std::all_of(h.name.begin(), h.name.end(), IsTokenChar)) {
      r_.Error(it->first, p, "'" + h.name + "' is not a header name");
      continue;
    }
    const YAML::Node v = it->second;  // a copy: the iterator hands out a temporary
    if (v.IsScalar()) {
      h.op = HeaderExpect::Op::kEquals;
      h.value = v.Scalar();
    } else if (v.IsMap()) {
      r_.CheckKeys(v, p, {"equals", "contains", "matches", "present"}, HeaderOpHint);
      if (v.size() != 1) {
        r_.Error(v, p, "give one of equals, contains, matches or present");
        continue;
      }
      const std::string key = v.begin()->first.Scalar();
      const YAML::Node arg = v.begin()->second;
      const std::string ap = JoinPath(p, key);
      if (key == "present") {
        auto b = r_.Bool(arg, ap);
        if (!b) continue;
        h.op = *b ? HeaderExpect::Op::kPresent : HeaderExpect::Op::kAbsent;
      } else if (key == "equals" || key == "contains" || key == "matches") {
        auto text = r_.Scalar(arg, ap, "a string");
        if (!text) continue;
        h.op = key == "equals" ? HeaderExpect::Op::kEquals
               : key == "contains" ? HeaderExpect::Op::kContains
                                   : HeaderExpect::Op::kMatches;
        h.value = *text;
        if (h.op == HeaderExpect::Op::kMatches) {
          RE2 re(h.value, RE2::Quiet);
          if (!re.ok()) {
            r_.Error(arg, ap, "not a valid regular expression: " + re.error());
            continue;
          }
        }
      } else {
        continue;  // reported by CheckKeys
      }
    } else {
      r_.Error(v, p, "expected a value, or one of { equals: ..., contains: ..., matches: ..., present: true }");
      continue;
    }
    out.headers.push_back(std::move(h));
  }
}

void ScenarioParser::ParseTextList(const YAML::Node& node, std::string_view path, bool regex,
                                   std::vector<std::string>& out) {
  auto one = [&](const YAML::Node& n, const std::string& p) {
    auto text = r_.Scalar(n, p, "a string");
    if (!text) return;
    if (text->empty()) {
      r_.Error(n, p, "must not be empty");
      return;
    }
    if (regex) {
      RE2 re(*text, RE2::Quiet);
      if (!re.ok()) {
        r_.Error(n, p, "not a valid regular expression: " + re.error());
        return;
      }
    }
    out.push_back(*text);
  };
  if (node.IsSequence()) {
    if (node.size() == 0) r_.Error(node, path, "list at least one text");
    for (size_t i = 0; i < node.size(); ++i) one(node[i], std::string(path) + "[" + std::to_string(i) + "]");
  } else {
    one(node, std::string(path));
  }
}

void ScenarioParser::ParseExpectJson(const YAML::Node& node, std::string_view path, Expect& out) {
  if (!r_.ExpectMap(node, path, "{ status: ok, items.0.id: 5 }")) return;
  if (node.size() == 0) r_.Error(node, path, "give at least one field, e.g. { status: ok }");
  for (auto it = node.begin(); it != node.end(); ++it) {
    JsonExpect j;
    j.path = it->first.Scalar();
    j.pos = PosOf(it->second);
    const std::string p = JoinPath(path, j.path);
    std::optional<std::string> pointer = JsonPointerOf(j.path);
    if (!pointer) {
      r_.Error(it->first, p, "'" + j.path + "' is not a field path; write items.0.id, items[0].id or /items/0/id");
      continue;
    }
    try {
      (void)nlohmann::json::json_pointer(*pointer);
    } catch (const nlohmann::json::exception&) {
      r_.Error(it->first, p, "'" + j.path + "' is not a valid JSON pointer ('~' must be followed by 0 or 1)");
      continue;
    }
    j.pointer = *pointer;
    if (!it->second.IsScalar() && !it->second.IsNull()) {
      r_.Error(it->second, p, "expected a value to compare with (string, number, true/false or null)");
      continue;
    }
    j.expected = it->second.IsNull() ? "null" : JsonValueOf(it->second);
    out.json.push_back(std::move(j));
  }
}

}  // namespace headroom::scenario
