#include "scenario/values.h"

#include <charconv>
#include <cmath>
#include <set>

#include "core/units.h"

namespace headroom::scenario {

SourcePos PosOf(const YAML::Node& node) {
  if (!node.IsDefined()) return {};
  YAML::Mark m = node.Mark();
  if (m.line < 0) return {};
  return {m.line + 1, m.column + 1};
}

std::string JoinPath(std::string_view base, std::string_view key) {
  if (base.empty()) return std::string(key);
  std::string out(base);
  out += '.';
  out += key;
  return out;
}

YAML::Node Get(const YAML::Node& map, std::string_view key) {
  if (!map.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == key) {
      if (it->second.IsNull()) return YAML::Node(YAML::NodeType::Undefined);
      return it->second;
    }
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

void Reader::Error(const YAML::Node& node, std::string_view path, std::string_view message) {
  diag_.Add(PosOf(node), path, message);
}

namespace {

std::string_view KindOf(const YAML::Node& node) {
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return "a list";
  if (node.IsNull()) return "nothing";
  return "a value";
}

}  // namespace

bool Reader::ExpectMap(const YAML::Node& node, std::string_view path, std::string_view example) {
  if (node.IsMap()) return true;
  std::string msg = "expected a map";
  if (!example.empty()) msg += " like " + std::string(example);
  msg += ", got " + std::string(KindOf(node));
  if (node.IsScalar()) msg += " '" + node.Scalar() + "'";
  Error(node, path, msg);
  return false;
}

void Reader::CheckKeys(const YAML::Node& map, std::string_view path, std::initializer_list<std::string_view> allowed,
                       KeyHint hint) {
  std::set<std::string> seen;
  for (auto it = map.begin(); it != map.end(); ++it) {
    const YAML::Node key = it->first;
    if (!key.IsScalar()) {
      Error(key, path, "keys must be plain names");
      continue;
    }
    const std::string& name = key.Scalar();
    if (!seen.insert(name).second) {
      Error(key, path, "key '" + name + "' is given twice");
      continue;
    }
    bool known = false;
    for (std::string_view a : allowed) known = known || a == name;
    if (known) continue;
    const std::string match = ClosestMatch(name, allowed);
    if (!match.empty()) suggested_.emplace_back(map, match);
    std::string msg = "unknown key '" + name + "'" + DidYouMean(name, allowed);
    if (hint != nullptr) msg += hint(name);
    Error(key, path, msg);
  }
}

bool Reader::Require(const YAML::Node& map, std::string_view path, std::string_view key, std::string_view example) {
  if (Get(map, key).IsDefined()) return true;
  for (const auto& [node, suggested] : suggested_) {
    if (node.is(map) && suggested == key) return false;  // already reported as a misspelling
  }
  std::string msg = "missing '" + std::string(key) + "'";
  if (!example.empty()) msg += " (" + std::string(example) + ")";
  Error(map, path, msg);
  return false;
}

std::optional<std::string> Reader::Scalar(const YAML::Node& node, std::string_view path, std::string_view what) {
  if (node.IsScalar()) return node.Scalar();
  Error(node, path, "expected " + std::string(what) + ", got " + std::string(KindOf(node)));
  return std::nullopt;
}

bool Reader::RejectNegative(const YAML::Node& node, std::string_view path, const std::string& text) {
  if (text.empty() || text[0] != '-') return false;
  Error(node, path, "'" + text + "' must not be negative");
  return true;
}

std::optional<std::string> Reader::String(const YAML::Node& node, std::string_view path) {
  return Scalar(node, path, "a string");
}

std::optional<int64_t> Reader::DurationNs(const YAML::Node& node, std::string_view path) {
  auto text = Scalar(node, path, "a duration like 30s");
  if (!text || RejectNegative(node, path, *text)) return std::nullopt;
  auto v = ParseDurationNs(*text);
  if (!v) {
    Error(node, path, v.error().message);
    return std::nullopt;
  }
  return *v;
}

std::optional<double> Reader::RatePerSec(const YAML::Node& node, std::string_view path) {
  auto text = Scalar(node, path, "a rate like 200/s");
  if (!text || RejectNegative(node, path, *text)) return std::nullopt;
  auto v = ParseRatePerSec(*text);
  if (!v) {
    Error(node, path, v.error().message);
    return std::nullopt;
  }
  return *v;
}

std::optional<double> Reader::Percent(const YAML::Node& node, std::string_view path) {
  auto text = Scalar(node, path, "a percentage like 5%");
  if (!text || RejectNegative(node, path, *text)) return std::nullopt;
  auto v = ParsePercent(*text);
  if (!v) {
    Error(node, path, v.error().message);
    return std::nullopt;
  }
  return *v;
}

std::optional<int64_t> Reader::Integer(const YAML::Node& node, std::string_view path, int64_t min_value) {
  auto text = Scalar(node, path, "a whole number");
  if (!text || RejectNegative(node, path, *text)) return std::nullopt;
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc() || ptr != text->data() + text->size()) {
    Error(node, path, "expected a whole number, got '" + *text + "'");
    return std::nullopt;
  }
  if (v < min_value) {
    Error(node, path, "must be at least " + std::to_string(min_value) + ", got " + *text);
    return std::nullopt;
  }
  return v;
}

std::optional<double> Reader::NonNegativeNumber(const YAML::Node& node, std::string_view path) {
  auto text = Scalar(node, path, "a number");
  if (!text || RejectNegative(node, path, *text)) return std::nullopt;
  double v = 0;
  auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc() || ptr != text->data() + text->size() || !std::isfinite(v)) {
    Error(node, path, "expected a number, got '" + *text + "'");
    return std::nullopt;
  }
  return v;
}

std::optional<bool> Reader::Bool(const YAML::Node& node, std::string_view path) {
  auto text = Scalar(node, path, "true or false");
  if (!text) return std::nullopt;
  if (*text == "true") return true;
  if (*text == "false") return false;
  Error(node, path, "expected true or false, got '" + *text + "'");
  return std::nullopt;
}

std::optional<size_t> Reader::Enum(const YAML::Node& node, std::string_view path,
                                   std::initializer_list<std::string_view> names) {
  std::string list;
  for (std::string_view n : names) list += (list.empty() ? "" : ", ") + std::string(n);
  auto text = Scalar(node, path, "one of " + list);
  if (!text) return std::nullopt;
  size_t i = 0;
  for (std::string_view n : names) {
    if (n == *text) return i;
    ++i;
  }
  Error(node, path, "'" + *text + "' is not one of " + list + DidYouMean(*text, names));
  return std::nullopt;
}

}  // namespace headroom::scenario
