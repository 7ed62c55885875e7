// Parser for the Prometheus text exposition format (0.0.4) and OpenMetrics 1.0 text. It is fed
// whatever an exporter answers, so every byte is checked and every error names its line.
#include <cmath>
#include <limits>

#include "collect/internal.h"

namespace headroom::collect {
namespace {

bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':'; }
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }
bool IsLabelStart(char c) { return IsNameStart(c) && c != ':'; }
bool IsLabelChar(char c) { return IsNameChar(c) && c != ':'; }
bool IsBlank(char c) { return c == ' ' || c == '\t'; }

std::optional<PromType> TypeFromText(std::string_view t) {
  if (t == "counter") return PromType::kCounter;
  if (t == "gauge") return PromType::kGauge;
  if (t == "histogram") return PromType::kHistogram;
  if (t == "summary") return PromType::kSummary;
  if (t == "untyped" || t == "unknown") return PromType::kUntyped;
  if (t == "gaugehistogram") return PromType::kGaugeHistogram;
  if (t == "info") return PromType::kInfo;
  if (t == "stateset") return PromType::kStateSet;
  return std::nullopt;
}

// The family a sample name belongs to when the family is `family`: the name itself or the name
// plus one of the suffixes the format defines for the family's type.
bool BelongsTo(std::string_view sample, std::string_view family) {
  if (!sample.starts_with(family)) return false;
  std::string_view suffix = sample.substr(family.size());
  for (std::string_view s : {"", "_total", "_created", "_bucket", "_count", "_sum", "_gcount", "_gsum", "_info"}) {
    if (suffix == s) return true;
  }
  return false;
}

std::optional<double> ParseValue(std::string_view text) {
  if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (text == "+Inf" || text == "Inf" || text == "+inf" || text == "inf") return std::numeric_limits<double>::infinity();
  if (text == "-Inf" || text == "-inf") return -std::numeric_limits<double>::infinity();
  // Go's strconv accepts hex floats and underscores; exporters do not write them.
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-')) return std::nullopt;
  }
  return ToNumber(text);
}

class LineParser {
 public:
  explicit LineParser(std::string_view line) : s_(line) {}

  Result<PromSample> Sample() {
    PromSample sample;
    const size_t start = i_;
    if (i_ >= s_.size() || !IsNameStart(s_[i_])) return Fail("a sample must start with a metric name");
    while (i_ < s_.size() && IsNameChar(s_[i_])) ++i_;
    sample.name = std::string(s_.substr(start, i_ - start));
    SkipBlanks();
    if (i_ < s_.size() && s_[i_] == '{') {
      if (auto s = Labels(sample.labels); !s) return std::unexpected(s.error());
      SkipBlanks();
    } else if (i_ < s_.size() && i_ == start + sample.name.size()) {
      return Fail("unexpected '" + std::string(1, s_[i_]) + "' after the metric name " + sample.name);
    }
    std::string_view value_text = Word();
    if (value_text.empty()) return Fail("expected a value after " + sample.name);
    auto value = ParseValue(value_text);
    if (!value) return Fail("'" + std::string(value_text.substr(0, 40)) + "' is not a number");
    sample.value = *value;
    SkipBlanks();
    if (i_ < s_.size() && s_[i_] != '#') {
      std::string_view ts = Word();
      if (!ParseValue(ts)) return Fail("'" + std::string(ts.substr(0, 40)) + "' is not a timestamp");
      SkipBlanks();
    }
    // An OpenMetrics exemplar (" # {labels} value [ts]") is checked for shape and dropped.
    if (i_ < s_.size() && s_[i_] == '#') {
      ++i_;
      SkipBlanks();
      std::vector<std::pair<std::string, std::string>> ignored;
      if (i_ >= s_.size() || s_[i_] != '{') return Fail("an exemplar must start with '{'");
      if (auto s = Labels(ignored); !s) return std::unexpected(s.error());
      SkipBlanks();
      if (!ParseValue(Word())) return Fail("an exemplar needs a value");
      SkipBlanks();
      if (i_ < s_.size() && !ParseValue(Word())) return Fail("bad exemplar timestamp");
      SkipBlanks();
    }
    if (i_ != s_.size()) return Fail("unexpected text after the value: '" + std::string(s_.substr(i_, 40)) + "'");
    return sample;
  }

 private:
  void SkipBlanks() {
    while (i_ < s_.size() && IsBlank(s_[i_])) ++i_;
  }
  std::string_view Word() {
    const size_t start = i_;
    while (i_ < s_.size() && !IsBlank(s_[i_])) ++i_;
    return s_.substr(start, i_ - start);
  }

  // `{name="value",...}` with an optional trailing comma. REQUIRES: s_[i_] == '{'.
  Status Labels(std::vector<std::pair<std::string, std::string>>& out) {
    ++i_;
    for (;;) {
      SkipBlanks();
      if (i_ >= s_.size()) return Fail("labels are not closed with '}'");
      if (s_[i_] == '}') {
        ++i_;
        return Ok();
      }
      const size_t start = i_;
      if (!IsLabelStart(s_[i_])) return Fail("bad label name at '" + std::string(s_.substr(i_, 20)) + "'");
      while (i_ < s_.size() && IsLabelChar(s_[i_])) ++i_;
      std::string name(s_.substr(start, i_ - start));
      SkipBlanks();
      if (i_ >= s_.size() || s_[i_] != '=') return Fail("expected '=' after the label name " + name);
      ++i_;
      SkipBlanks();
      if (i_ >= s_.size() || s_[i_] != '"') return Fail("the value of label " + name + " must be in double quotes");
      ++i_;
      auto value = QuotedRest();
      if (!value) return std::unexpected(value.error());
      for (const auto& [existing, unused] : out) {
        if (existing == name) return Fail("label " + name + " is given twice");
      }
      out.emplace_back(std::move(name), std::move(*value));
      SkipBlanks();
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
        continue;
      }
      if (i_ < s_.size() && s_[i_] == '}') continue;
      return Fail("expected ',' or '}' after a label value");
    }
  }

  // The rest of a double-quoted label value with \\, \" and \n escapes; consumes the quote.
  Result<std::string> QuotedRest() {
    std::string value;
    while (i_ < s_.size()) {
      const char c = s_[i_++];
      if (c == '"') return value;
      if (c != '\\') {
        value += c;
        continue;
      }
      if (i_ >= s_.size()) break;
      const char e = s_[i_++];
      if (e == 'n') {
        value += '\n';
      } else if (e == '\\' || e == '"') {
        value += e;
      } else {
        return Fail(std::string("unknown escape '\\") + e + "' in a label value (use \\\\, \\\" or \\n)");
      }
    }
    return Fail("a label value is not closed with '\"'");
  }

  std::string_view s_;
  size_t i_ = 0;
};

// Handles "# TYPE", "# HELP", "# UNIT" and "# EOF"; other comments are ignored.
struct Comment {
  std::string_view keyword, name, rest;
};

Comment SplitComment(std::string_view line) {
  line.remove_prefix(1);
  auto f = SplitFields(line);
  Comment c;
  if (!f.empty()) c.keyword = f[0];
  if (f.size() > 1) c.name = f[1];
  if (f.size() > 2) c.rest = f[2];
  return c;
}

}  // namespace

std::string PromSeriesName(std::string_view name, const std::vector<std::pair<std::string, std::string>>& labels,
                      std::string_view skip_label) {
  std::string key(name);
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (k == skip_label) continue;
    key += first ? "{" : ",";
    first = false;
    key += k + "=\"";
    for (char c : v) {
      if (c == '\\' || c == '"') key += '\\';
      if (c == '\n') {
        key += "\\n";
        continue;
      }
      key += c;
    }
    key += '"';
  }
  if (!first) key += '}';
  return key;
}

Result<std::vector<PromFamily>> ParsePrometheusText(std::string_view body, const PromParseOptions& options) {
  std::vector<PromFamily> families;
  size_t samples = 0;
  size_t line_no = 0;
  size_t pos = 0;
  bool eof_seen = false;
  auto error = [&](const std::string& message) { return Fail("line " + std::to_string(line_no) + ": " + message); };
  while (pos < body.size()) {
    size_t end = body.find('\n', pos);
    if (end == std::string_view::npos) end = body.size();
    std::string_view line = body.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (eof_seen) {
      if (line.empty() && pos >= body.size()) break;
      return error("text after '# EOF'");
    }
    size_t first = 0;
    while (first < line.size() && IsBlank(line[first])) ++first;
    line.remove_prefix(first);
    if (line.empty()) continue;
    if (line.front() == '#') {
      const Comment c = SplitComment(line);
      if (c.keyword == "EOF" && c.name.empty()) {
        eof_seen = true;
        continue;
      }
      if (c.keyword != "TYPE") continue;  // HELP, UNIT and free comments carry no samples
      if (c.name.empty() || !IsNameStart(c.name[0])) return error("# TYPE needs a metric name");
      for (char ch : c.name) {
        if (!IsNameChar(ch)) return error("bad metric name '" + std::string(c.name.substr(0, 60)) + "' in # TYPE");
      }
      auto type = TypeFromText(c.rest);
      if (!type) return error("unknown type '" + std::string(c.rest.substr(0, 30)) + "' in # TYPE");
      for (const PromFamily& f : families) {
        if (f.name == c.name && !f.samples.empty()) return error("# TYPE for " + std::string(c.name) + " comes after its samples");
      }
      families.push_back(PromFamily{std::string(c.name), *type, {}});
      continue;
    }
    auto sample = LineParser(line).Sample();
    if (!sample) return error(sample.error().message);
    if (++samples > options.max_samples) {
      return error("more than " + std::to_string(options.max_samples) + " samples; add selectors");
    }
    if (families.empty() || !BelongsTo(sample->name, families.back().name)) {
      families.push_back(PromFamily{sample->name, PromType::kUntyped, {}});
    }
    families.back().samples.push_back(std::move(*sample));
  }
  // Families declared by # TYPE without samples carry nothing.
  std::erase_if(families, [](const PromFamily& f) { return f.samples.empty(); });
  return families;
}

}  // namespace headroom::collect
