// Private to src/http: RFC 9110 character classes and list helpers shared by the parser and the
// encoder. All functions are pure and allocation-free.
#pragma once
#include <string_view>

namespace headroom::http {

// tchar: "!#$%&'*+-.^_`|~", DIGIT, ALPHA.
inline bool IsTokenChar(char c) {
  const unsigned char u = static_cast<unsigned char>(c);
  if ((u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z')) return true;
  switch (u) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

inline bool IsToken(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!IsTokenChar(c)) return false;
  }
  return true;
}

// field-value octets: HTAB, SP, VCHAR, obs-text. Rejects CR, LF, NUL, other controls and DEL.
inline bool IsFieldValueChar(char c) {
  const unsigned char u = static_cast<unsigned char>(c);
  return u == '\t' || (u >= 0x20 && u != 0x7f);
}

inline std::string_view TrimOws(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

inline char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

// REQUIRES: lower is already lower case.
inline bool EqualsIgnoreCase(std::string_view text, std::string_view lower) {
  if (text.size() != lower.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (AsciiLower(text[i]) != lower[i]) return false;
  }
  return true;
}

// True if the comma-separated list contains token (case-insensitive). REQUIRES: token lower case.
inline bool ListHasToken(std::string_view list, std::string_view token) {
  while (true) {
    const size_t comma = list.find(',');
    if (EqualsIgnoreCase(TrimOws(list.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) return false;
    list.remove_prefix(comma + 1);
  }
}

// True if the last element of the comma-separated list is token (case-insensitive).
inline bool LastListTokenIs(std::string_view list, std::string_view token) {
  const size_t comma = list.rfind(',');
  const std::string_view last = comma == std::string_view::npos ? list : list.substr(comma + 1);
  return EqualsIgnoreCase(TrimOws(last), token);
}

}  // namespace headroom::http
