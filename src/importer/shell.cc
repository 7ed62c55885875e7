// Shell words as bash splits them, for the quoting that pasted curl commands use.
#include <cstdint>

#include "importer/draft.h"

namespace headroom::importer {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) cp = 0xfffd;
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xc0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += char(0xe0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3f));
    out += char(0x80 | (cp & 0x3f));
  } else {
    out += char(0xf0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3f));
    out += char(0x80 | ((cp >> 6) & 0x3f));
    out += char(0x80 | (cp & 0x3f));
  }
}

// Reads up to `max` hex digits at text[i]; returns how many were read.
size_t ReadHex(std::string_view text, size_t i, size_t max, uint32_t& value) {
  size_t n = 0;
  value = 0;
  while (n < max && i + n < text.size() && HexValue(text[i + n]) >= 0) value = value * 16 + uint32_t(HexValue(text[i + n++]));
  return n;
}

// One escape of $'...' at text[i] (just after the backslash); returns the index after it.
size_t AnsiCEscape(std::string_view text, size_t i, std::string& out) {
  const char c = text[i++];
  uint32_t v = 0;
  switch (c) {
    case 'n': out += '\n'; return i;
    case 't': out += '\t'; return i;
    case 'r': out += '\r'; return i;
    case 'a': out += '\a'; return i;
    case 'b': out += '\b'; return i;
    case 'e': case 'E': out += '\x1b'; return i;
    case 'f': out += '\f'; return i;
    case 'v': out += '\v'; return i;
    case 'x': {
      size_t n = ReadHex(text, i, 2, v);
      if (n == 0) { out += "\\x"; return i; }
      out += char(v);
      return i + n;
    }
    case 'u': case 'U': {
      size_t n = ReadHex(text, i, c == 'u' ? 4 : 8, v);
      if (n == 0) { out += '\\'; out += c; return i; }
      AppendUtf8(out, v);
      return i + n;
    }
    default:
      break;
  }
  if (c >= '0' && c <= '7') {
    v = uint32_t(c - '0');
    for (int k = 0; k < 2 && i < text.size() && text[i] >= '0' && text[i] <= '7'; ++k) v = v * 8 + uint32_t(text[i++] - '0');
    out += char(v & 0xff);
    return i;
  }
  if (c != '\\' && c != '\'' && c != '"' && c != '?') out += '\\';
  out += c;
  return i;
}

class Splitter {
 public:
  explicit Splitter(std::string_view text) : text_(text) {}

  Result<std::vector<std::vector<std::string>>> Run() {
    while (i_ < text_.size()) {
      if (Status s = Step(); !s) return std::unexpected(s.error());
    }
    EndCommand();
    return std::move(commands_);
  }

 private:
  Status Step() {
    const char c = text_[i_];
    if (c == '\\') return Backslash();
    if (c == '\'') return SingleQuoted();
    if (c == '"') return DoubleQuoted();
    if (c == '$' && i_ + 1 < text_.size() && text_[i_ + 1] == '\'') return AnsiC();
    if (c == ' ' || c == '\t' || c == '\r') {
      EndWord();
    } else if (c == '\n' || c == ';' || c == '&') {
      EndCommand();
      if (c == '&' && i_ + 1 < text_.size() && text_[i_ + 1] == '&') ++i_;
    } else if (c == '|') {
      if (i_ + 1 < text_.size() && text_[i_ + 1] == '|') {
        EndCommand();
        ++i_;
      } else {
        EndWord();
        skipping_ = true;  // `curl ... | jq .`: the rest goes to another program
      }
    } else if (c == '#' && !in_word_) {
      while (i_ + 1 < text_.size() && text_[i_ + 1] != '\n') ++i_;
    } else {
      Add(c);
    }
    ++i_;
    return Ok();
  }

  Status Backslash() {
    if (i_ + 1 >= text_.size()) {
      i_ = text_.size();
      return Ok();
    }
    const char next = text_[i_ + 1];
    if (next == '\n') {
      i_ += 2;
    } else if (next == '\r' && i_ + 2 < text_.size() && text_[i_ + 2] == '\n') {
      i_ += 3;
    } else {
      Add(next);
      i_ += 2;
    }
    return Ok();
  }

  Status SingleQuoted() {
    const size_t end = text_.find('\'', i_ + 1);
    if (end == std::string_view::npos) return Fail("a single quote (') is not closed");
    in_word_ = true;
    word_ += text_.substr(i_ + 1, end - i_ - 1);
    i_ = end + 1;
    return Ok();
  }

  Status DoubleQuoted() {
    in_word_ = true;
    for (++i_; i_ < text_.size(); ++i_) {
      const char c = text_[i_];
      if (c == '"') {
        ++i_;
        return Ok();
      }
      if (c == '\\' && i_ + 1 < text_.size()) {
        const char next = text_[i_ + 1];
        if (next == '\n') {
          ++i_;
          continue;
        }
        if (next == '"' || next == '\\' || next == '$' || next == '`') {
          word_ += next;
          ++i_;
          continue;
        }
      }
      word_ += c;
    }
    return Fail("a double quote (\") is not closed");
  }

  Status AnsiC() {
    in_word_ = true;
    i_ += 2;
    while (i_ < text_.size()) {
      const char c = text_[i_];
      if (c == '\'') {
        ++i_;
        return Ok();
      }
      if (c == '\\' && i_ + 1 < text_.size()) {
        i_ = AnsiCEscape(text_, i_ + 1, word_);
      } else {
        word_ += c;
        ++i_;
      }
    }
    return Fail("a $'...' quote is not closed");
  }

  void Add(char c) {
    in_word_ = true;
    word_ += c;
  }

  void EndWord() {
    if (in_word_ && !skipping_) words_.push_back(std::move(word_));
    word_.clear();
    in_word_ = false;
  }

  void EndCommand() {
    EndWord();
    if (!words_.empty()) commands_.push_back(std::move(words_));
    words_.clear();
    skipping_ = false;
  }

  std::string_view text_;
  size_t i_ = 0;
  std::string word_;
  bool in_word_ = false;
  bool skipping_ = false;
  std::vector<std::string> words_;
  std::vector<std::vector<std::string>> commands_;
};

}  // namespace

Result<std::vector<std::vector<std::string>>> SplitShellCommands(std::string_view text) {
  return Splitter(text).Run();
}

}  // namespace headroom::importer
