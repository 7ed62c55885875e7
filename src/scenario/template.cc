#include "scenario/template.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <optional>

#include "scenario/diag.h"

namespace headroom::scenario {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Splits "a, "b, c", d" into arguments; quoted arguments keep inner commas and spaces.
Result<std::vector<std::string>> SplitArgs(std::string_view args) {
  std::vector<std::string> out;
  args = Trim(args);
  if (args.empty()) return out;
  size_t i = 0;
  while (true) {
    while (i < args.size() && (args[i] == ' ' || args[i] == '\t')) ++i;
    std::string arg;
    if (i < args.size() && args[i] == '"') {
      ++i;
      bool closed = false;
      while (i < args.size()) {
        char c = args[i++];
        if (c == '\\' && i < args.size()) {
          arg += args[i++];
        } else if (c == '"') {
          closed = true;
          break;
        } else {
          arg += c;
        }
      }
      if (!closed) return Fail("quoted argument is not closed");
      while (i < args.size() && (args[i] == ' ' || args[i] == '\t')) ++i;
      if (i < args.size() && args[i] != ',') return Fail("expected ',' after a quoted argument");
    } else {
      size_t end = args.find(',', i);
      if (end == std::string_view::npos) end = args.size();
      arg = std::string(Trim(args.substr(i, end - i)));
      if (arg.empty()) return Fail("empty argument");
      i = end;
    }
    out.push_back(std::move(arg));
    if (i >= args.size()) break;
    ++i;  // the comma
    if (Trim(args.substr(i)).empty()) return Fail("empty argument");
  }
  return out;
}

Result<int64_t> ParseInt(std::string_view fn, const std::string& s) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) {
    return Fail(std::string(fn) + "(): '" + s + "' is not a whole number");
  }
  return v;
}

Status ArgCount(std::string_view fn, const std::vector<std::string>& args, size_t lo, size_t hi,
                std::string_view usage) {
  if (args.size() >= lo && args.size() <= hi) return Ok();
  return Fail(std::string(fn) + "() takes " + std::string(usage) + ", got " + std::to_string(args.size()) +
              (args.size() == 1 ? " argument" : " arguments"));
}

Result<TemplatePart> CompileCall(std::string_view fn, std::string_view raw_args, uint32_t& next_seq_id) {
  auto args = SplitArgs(raw_args);
  if (!args) return Fail(std::string(fn) + "(): " + args.error().message);
  TemplatePart p;
  if (fn == "randint") {
    if (auto s = ArgCount(fn, *args, 2, 2, "2 arguments (low, high)"); !s) return std::unexpected(s.error());
    auto a = ParseInt(fn, (*args)[0]);
    if (!a) return std::unexpected(a.error());
    auto b = ParseInt(fn, (*args)[1]);
    if (!b) return std::unexpected(b.error());
    if (*a > *b) return Fail("randint(): low " + (*args)[0] + " is greater than high " + (*args)[1]);
    p.kind = TemplatePart::Kind::kRandInt;
    p.a = *a;
    p.b = *b;
  } else if (fn == "seq") {
    if (auto s = ArgCount(fn, *args, 0, 1, "0 or 1 argument (start)"); !s) return std::unexpected(s.error());
    p.kind = TemplatePart::Kind::kSeq;
    if (!args->empty()) {
      auto a = ParseInt(fn, (*args)[0]);
      if (!a) return std::unexpected(a.error());
      p.a = *a;
    }
    p.id = next_seq_id++;
  } else if (fn == "uuid") {
    if (auto s = ArgCount(fn, *args, 0, 0, "no arguments"); !s) return std::unexpected(s.error());
    p.kind = TemplatePart::Kind::kUuid;
  } else if (fn == "choice") {
    if (args->empty()) return Fail("choice() needs at least one argument");
    p.kind = TemplatePart::Kind::kChoice;
    p.choices = std::move(*args);
  } else if (fn == "env") {
    if (auto s = ArgCount(fn, *args, 1, 2, "1 or 2 arguments (NAME, fallback)"); !s) return std::unexpected(s.error());
    const char* value = std::getenv((*args)[0].c_str());
    if (value == nullptr && args->size() == 1) {
      return Fail("environment variable " + (*args)[0] + " is not set (write env(" + (*args)[0] +
                  ", fallback) to give a default)");
    }
    p.text = value != nullptr ? value : (*args)[1];
  } else {
    std::vector<std::string> names(std::begin(kTemplateFunctions), std::end(kTemplateFunctions));
    return Fail("unknown template function '" + std::string(fn) + "'" + DidYouMean(fn, names) +
                " (functions: randint, seq, uuid, choice, env)");
  }
  return p;
}

Result<TemplatePart> CompileDataRef(std::string_view source, std::string_view column,
                                    std::span<const DataSource> data) {
  std::vector<std::string> names;
  for (size_t i = 0; i < data.size(); ++i) {
    if (data[i].name != source) {
      names.push_back(data[i].name);
      continue;
    }
    const CsvTable& t = *data[i].table;
    int col = t.ColumnIndex(column);
    if (col < 0) {
      std::string cols;
      for (const std::string& c : t.columns) cols += (cols.empty() ? "" : ", ") + c;
      return Fail("data source '" + std::string(source) + "' has no column '" + std::string(column) + "'" +
                  DidYouMean(column, t.columns) + " (columns: " + cols + ")");
    }
    TemplatePart p;
    p.kind = TemplatePart::Kind::kData;
    p.id = uint32_t(i);
    p.column = uint32_t(col);
    return p;
  }
  if (data.empty()) {
    return Fail("unknown data source '" + std::string(source) + "' (no data sources are defined under 'data')");
  }
  return Fail("unknown data source '" + std::string(source) + "'" + DidYouMean(source, names));
}

Result<TemplatePart> CompileExpression(std::string_view expr, std::span<const DataSource> data,
                                       uint32_t& next_seq_id) {
  expr = Trim(expr);
  if (expr.empty()) return Fail("empty template '{{ }}'");
  size_t paren = expr.find('(');
  if (paren != std::string_view::npos) {
    std::string_view fn = Trim(expr.substr(0, paren));
    if (expr.back() != ')') return Fail("template '{{ " + std::string(expr) + " }}' is missing ')'");
    if (!IsIdentifier(fn)) return Fail("'" + std::string(fn) + "' is not a function name");
    return CompileCall(fn, expr.substr(paren + 1, expr.size() - paren - 2), next_seq_id);
  }
  size_t dot = expr.find('.');
  if (dot != std::string_view::npos) {
    std::string_view source = Trim(expr.substr(0, dot));
    std::string_view column = Trim(expr.substr(dot + 1));
    if (IsIdentifier(source) && !column.empty()) return CompileDataRef(source, column, data);
  }
  std::string msg = "cannot read template '{{ " + std::string(expr) + " }}': expected a call like randint(1, 10)";
  msg += " or a data reference like source.column";
  for (std::string_view fn : kTemplateFunctions) {
    if (fn == expr) msg = "'" + std::string(expr) + "' needs parentheses: write {{ " + std::string(expr) + "() }}";
  }
  return Fail(msg);
}

}  // namespace

void AppendLiteral(std::vector<TemplatePart>& out, std::string_view text) {
  if (text.empty()) return;
  if (!out.empty() && out.back().kind == TemplatePart::Kind::kLiteral) {
    out.back().text += text;
    return;
  }
  TemplatePart p;
  p.text = std::string(text);
  out.push_back(std::move(p));
}

Status CompileTemplate(std::string_view text, std::span<const DataSource> data, uint32_t& next_seq_id,
                       std::vector<TemplatePart>& out) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) {
      AppendLiteral(out, text.substr(pos));
      break;
    }
    AppendLiteral(out, text.substr(pos, open - pos));
    size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      return Fail("'{{' at offset " + std::to_string(open) + " is not closed with '}}'");
    }
    auto part = CompileExpression(text.substr(open + 2, close - open - 2), data, next_seq_id);
    if (!part) return std::unexpected(part.error());
    if (part->kind == TemplatePart::Kind::kLiteral) {
      AppendLiteral(out, part->text);  // env()
    } else {
      out.push_back(std::move(*part));
    }
    pos = close + 2;
  }
  return Ok();
}

size_t MaxRenderedBytes(const TemplatePart& part, std::span<const DataSource> data) {
  switch (part.kind) {
    case TemplatePart::Kind::kLiteral:
      return part.text.size();
    case TemplatePart::Kind::kRandInt:
    case TemplatePart::Kind::kSeq:
      return 20;
    case TemplatePart::Kind::kUuid:
      return 36;
    case TemplatePart::Kind::kChoice: {
      size_t m = 0;
      for (const std::string& c : part.choices) m = std::max(m, c.size());
      return m;
    }
    case TemplatePart::Kind::kData: {
      const CsvTable& t = *data[part.id].table;
      size_t m = 0;
      for (size_t r = 0; r < t.rows(); ++r) m = std::max(m, t.Cell(r, part.column).size());
      return m;
    }
  }
  return 0;
}

}  // namespace headroom::scenario

