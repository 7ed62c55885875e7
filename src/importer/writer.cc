// The YAML writer and the text rules that keep hostile input from changing the written file.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "importer/draft.h"

namespace headroom::importer {
namespace {

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

// [a-z0-9_] words joined by '_', at most 48 characters; "request" when nothing is left.
std::string SanitizeName(std::string_view hint) {
  std::string out;
  bool gap = false;
  for (char c : hint) {
    c = Lower(c);
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      if (gap && !out.empty()) out += '_';
      out += c;
      gap = false;
    } else {
      gap = true;
    }
    if (out.size() >= 48) break;
  }
  if (out.empty()) return "request";
  if (out[0] >= '0' && out[0] <= '9') out.insert(0, "r_");
  return out;
}

std::vector<std::string> UniqueNames(const std::vector<DraftRequest>& requests) {
  std::vector<std::string> names;
  std::set<std::string> used;
  for (const DraftRequest& r : requests) {
    std::string base = SanitizeName(r.name_hint);
    std::string name = base;
    for (int n = 2; used.count(name) != 0; ++n) name = base + "_" + std::to_string(n);
    used.insert(name);
    names.push_back(name);
  }
  return names;
}

// Counts are written whole (2705198, not 2.7052e+06).
std::string FormatWeight(double w) {
  char buf[64];
  if (w == std::floor(w) && w < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", w);
  } else {
    std::snprintf(buf, sizeof buf, "%.6g", w);
  }
  return buf;
}

void EmitPhase(YAML::Emitter& y, const DraftPhase& p) {
  y << YAML::BeginMap << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << p.name;
  const std::string duration = std::to_string(p.duration_s) + "s";
  if (p.kind == DraftPhaseKind::kBaseline) {
    y << YAML::Key << "baseline" << YAML::Value << YAML::Flow << YAML::BeginMap;
    y << YAML::Key << "rate" << YAML::Value << FormatRate(p.rate_per_sec);
  } else {
    y << YAML::Key << "ramp" << YAML::Value << YAML::Flow << YAML::BeginMap;
    y << YAML::Key << "from" << YAML::Value << FormatRate(p.from_per_sec);
    y << YAML::Key << "to" << YAML::Value << FormatRate(p.to_per_sec);
  }
  y << YAML::Key << "duration" << YAML::Value << duration << YAML::EndMap << YAML::EndMap;
}

}  // namespace

std::string WriteScenarioYaml(const DraftScenario& draft) {
  YAML::Emitter y;
  y << YAML::BeginMap;
  y << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << draft.name;
  if (!draft.description.empty()) {
    y << YAML::Key << "description" << YAML::Value << YAML::DoubleQuoted << draft.description;
  }
  y << YAML::Key << "target" << YAML::Value << YAML::DoubleQuoted << draft.target;
  y << YAML::Key << "requests" << YAML::Value << YAML::BeginSeq;
  const std::vector<std::string> names = UniqueNames(draft.requests);
  for (size_t i = 0; i < draft.requests.size(); ++i) {
    const DraftRequest& r = draft.requests[i];
    y << YAML::BeginMap;
    y << YAML::Key << "name" << YAML::Value << names[i];
    y << YAML::Key << "weight" << YAML::Value << FormatWeight(r.weight);
    y << YAML::Key << "method" << YAML::Value << r.method;
    y << YAML::Key << "path" << YAML::Value << YAML::DoubleQuoted << r.path;
    if (!r.headers.empty()) {
      y << YAML::Key << "headers" << YAML::Value << YAML::BeginMap;
      for (const auto& [name, value] : r.headers) {
        y << YAML::Key << YAML::DoubleQuoted << name << YAML::Value << YAML::DoubleQuoted << value;
      }
      y << YAML::EndMap;
    }
    if (r.body) y << YAML::Key << "body" << YAML::Value << YAML::DoubleQuoted << *r.body;
    y << YAML::EndMap;
  }
  y << YAML::EndSeq;
  y << YAML::Key << "phases" << YAML::Value << YAML::BeginSeq;
  for (const DraftPhase& p : draft.phases) EmitPhase(y, p);
  y << YAML::EndSeq << YAML::EndMap;
  return std::string(y.c_str()) + "\n";
}

std::string EscapeTemplateText(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    // A '{' that starts "{{" is rendered by a template instead; the next '{' is then preceded
    // by "}}", so no "{{" is left in the literal text.
    if (text[i] == '{' && i + 1 < text.size() && text[i + 1] == '{') {
      out += "{{choice(\"{\")}}";
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string PercentEncodeUnsafe(std::string_view text, bool braces) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string encoded;
  encoded.reserve(text.size());
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7f || (braces && (c == '{' || c == '}'))) {
      encoded += '%';
      encoded += kHex[c >> 4];
      encoded += kHex[c & 15];
    } else {
      encoded += ch;
    }
  }
  return encoded;
}

std::string EncodePathLiteral(std::string_view text) { return EscapeTemplateText(PercentEncodeUnsafe(text, false)); }

std::string QuoteTemplateArg(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string Shown(std::string_view text, size_t max_bytes) {
  std::string out;
  for (size_t i = 0; i < text.size() && i < max_bytes; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += text[i];
    }
  }
  return text.size() > max_bytes ? out + "..." : out;
}

bool IsValidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > text.size()) return false;
    uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1f) : len == 3 ? (c & 0x0f) : (c & 0x07);
    for (size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc >> 6) != 2) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8.
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += len;
  }
  return true;
}

bool IsHeaderToken(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

bool IsSupportedMethod(std::string_view m) {
  for (std::string_view k : {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}) {
    if (m == k) return true;
  }
  return false;
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

std::string ToUpper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = (c >= 'a' && c <= 'z') ? char(c - 'a' + 'A') : c;
  return out;
}

Result<SplitUrlResult> SplitUrl(std::string_view url) {
  std::string scheme = "http";
  if (size_t p = url.find("://"); p != std::string_view::npos) {
    scheme.clear();
    for (char c : url.substr(0, p)) scheme += Lower(c);
    url.remove_prefix(p + 3);
  }
  if (scheme != "http" && scheme != "https") {
    return Fail("'" + Shown(scheme) + "://' URLs are not supported (only http:// and https://)");
  }
  const size_t end = url.find_first_of("/?#");
  std::string_view authority = url.substr(0, end);
  std::string_view rest = end == std::string_view::npos ? std::string_view() : url.substr(end);
  if (authority.find('@') != std::string_view::npos) {
    return Fail("user info in the URL is not supported; use -u USER:PASSWORD");
  }
  std::string host;
  for (char c : authority) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_';
    if (!ok) return Fail("the URL's host '" + Shown(authority) + "' is not a host name or address");
    host += Lower(c);
  }
  if (host.empty() || host[0] == ':') return Fail("the URL has no host");
  if (size_t hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  SplitUrlResult out;
  out.origin = scheme + "://" + host;
  out.host = host;
  out.path_and_query = rest.empty() || rest[0] == '?' ? "/" + std::string(rest) : std::string(rest);
  return out;
}

std::string FormatRate(double per_sec) {
  if (!(per_sec >= 1e-9)) return "0/s";
  // At least 4 decimals, and 6 significant digits for slow rates (one request an hour is 0.000278/s).
  const int decimals = std::clamp(5 - int(std::floor(std::log10(per_sec))), 4, 12);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, per_sec);
  std::string s = buf;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s + "/s";
}

}  // namespace headroom::importer
