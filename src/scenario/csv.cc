#include "scenario/csv.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

namespace headroom::scenario {
namespace {

// Splits one record starting at `pos`; advances `pos` past the line end. Quoted fields may span
// lines. Returns an error for an unterminated quote or text after a closing quote.
Result<std::vector<std::string>> ReadRecord(std::string_view text, size_t& pos, int& line) {
  std::vector<std::string> fields;
  std::string field;
  bool quoted = false;
  bool after_quote = false;
  const int start_line = line;
  while (pos < text.size()) {
    char c = text[pos++];
    if (quoted) {
      if (c == '"') {
        if (pos < text.size() && text[pos] == '"') {
          field += '"';
          ++pos;
        } else {
          quoted = false;
          after_quote = true;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == ',') {
      fields.push_back(std::move(field));
      field.clear();
      after_quote = false;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && pos < text.size() && text[pos] == '\n') ++pos;
      ++line;
      fields.push_back(std::move(field));
      return fields;
    } else if (c == '"' && field.empty() && !after_quote) {
      quoted = true;
    } else if (after_quote) {
      return Fail("line " + std::to_string(line) + ": unexpected text after a closing quote");
    } else {
      field += c;
    }
  }
  if (quoted) return Fail("line " + std::to_string(start_line) + ": quoted field is not closed");
  fields.push_back(std::move(field));
  return fields;
}

bool IsBlank(const std::vector<std::string>& fields) { return fields.size() == 1 && fields[0].empty(); }

}  // namespace

int CsvTable::ColumnIndex(std::string_view name) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i] == name) return int(i);
  }
  return -1;
}

Result<CsvTable> ParseCsv(std::string_view text) {
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 BOM
  CsvTable table;
  size_t pos = 0;
  int line = 1;
  while (pos < text.size()) {
    const int record_line = line;
    auto fields = ReadRecord(text, pos, line);
    if (!fields) return std::unexpected(fields.error());
    if (IsBlank(*fields)) continue;
    if (table.columns.empty()) {
      for (const std::string& f : *fields) {
        if (f.empty()) return Fail("line " + std::to_string(record_line) + ": empty column name in the header");
        for (const std::string& earlier : table.columns) {
          if (earlier == f) return Fail("line " + std::to_string(record_line) + ": column '" + f + "' appears twice");
        }
        table.columns.push_back(f);
      }
      continue;
    }
    if (fields->size() != table.columns.size()) {
      return Fail("line " + std::to_string(record_line) + ": " + std::to_string(fields->size()) +
                  " fields, but the header has " + std::to_string(table.columns.size()));
    }
    for (std::string& f : *fields) table.cells.push_back(std::move(f));
  }
  if (table.columns.empty()) return Fail("the file is empty (the first line must name the columns)");
  if (table.cells.empty()) return Fail("no data rows after the header");
  return table;
}

Result<CsvTable> LoadCsvFile(const std::string& path, const std::string& display_path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Fail("cannot read data file '" + display_path + "': " + std::strerror(errno));
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  auto table = ParseCsv(buf.str());
  if (!table) return Fail("data file '" + display_path + "' " + table.error().message);
  return table;
}

}  // namespace headroom::scenario
