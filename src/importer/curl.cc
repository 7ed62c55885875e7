// curl command lines -> requests, with curl's own rules for -d, -G, -u, --json and friends.
#include <fstream>
#include <sstream>

#include "importer/draft.h"

namespace headroom::importer {
namespace {

enum class Opt {
  kMethod, kHeader, kData, kDataRaw, kDataBinary, kDataUrlencode, kJson, kUser, kUserAgent,
  kReferer, kCookie, kGet, kHead, kUrl, kBearer, kRange, kCompressed, kIgnore, kIgnoreArg, kUnsupported,
  kUnsupportedArg,
};

struct OptSpec {
  std::string_view long_name;
  char short_name;  // 0: none
  Opt opt;
};

constexpr OptSpec kOptions[] = {
    {"request", 'X', Opt::kMethod}, {"header", 'H', Opt::kHeader}, {"data", 'd', Opt::kData},
    {"data-ascii", 0, Opt::kData}, {"data-raw", 0, Opt::kDataRaw}, {"data-binary", 0, Opt::kDataBinary},
    {"data-urlencode", 0, Opt::kDataUrlencode}, {"json", 0, Opt::kJson}, {"user", 'u', Opt::kUser},
    {"user-agent", 'A', Opt::kUserAgent}, {"referer", 'e', Opt::kReferer}, {"cookie", 'b', Opt::kCookie},
    {"get", 'G', Opt::kGet}, {"head", 'I', Opt::kHead}, {"url", 0, Opt::kUrl},
    {"oauth2-bearer", 0, Opt::kBearer}, {"range", 'r', Opt::kRange}, {"compressed", 0, Opt::kCompressed},
    // Options that do not change the request headroom sends: ignored, with a note.
    {"silent", 's', Opt::kIgnore}, {"show-error", 'S', Opt::kIgnore}, {"verbose", 'v', Opt::kIgnore},
    {"include", 'i', Opt::kIgnore}, {"insecure", 'k', Opt::kIgnore}, {"location", 'L', Opt::kIgnore},
    {"remote-name", 'O', Opt::kIgnore}, {"fail", 'f', Opt::kIgnore}, {"fail-with-body", 0, Opt::kIgnore},
    {"http1.1", 0, Opt::kIgnore}, {"http2", 0, Opt::kIgnore},
    {"http2-prior-knowledge", 0, Opt::kIgnore}, {"progress-bar", '#', Opt::kIgnore},
    {"no-buffer", 'N', Opt::kIgnore}, {"globoff", 'g', Opt::kIgnore}, {"path-as-is", 0, Opt::kIgnore},
    {"raw", 0, Opt::kIgnore}, {"tcp-nodelay", 0, Opt::kIgnore}, {"ipv4", '4', Opt::kIgnore},
    {"ipv6", '6', Opt::kIgnore}, {"no-keepalive", 0, Opt::kIgnore}, {"no-progress-meter", 0, Opt::kIgnore},
    {"disable", 'q', Opt::kIgnore}, {"location-trusted", 0, Opt::kIgnore}, {"no-sessionid", 0, Opt::kIgnore},
    {"remote-header-name", 'J', Opt::kIgnore}, {"remote-time", 'R', Opt::kIgnore},
    {"retry-connrefused", 0, Opt::kIgnore}, {"retry-all-errors", 0, Opt::kIgnore}, {"basic", 0, Opt::kIgnore},
    {"tlsv1.2", 0, Opt::kIgnore}, {"tlsv1.3", 0, Opt::kIgnore}, {"ssl-no-revoke", 0, Opt::kIgnore},
    {"create-dirs", 0, Opt::kIgnore}, {"styled-output", 0, Opt::kIgnore}, {"tcp-fastopen", 0, Opt::kIgnore},
    {"output", 'o', Opt::kIgnoreArg}, {"write-out", 'w', Opt::kIgnoreArg},
    {"connect-timeout", 0, Opt::kIgnoreArg}, {"max-time", 'm', Opt::kIgnoreArg}, {"retry", 0, Opt::kIgnoreArg},
    {"retry-delay", 0, Opt::kIgnoreArg}, {"retry-max-time", 0, Opt::kIgnoreArg},
    {"dump-header", 'D', Opt::kIgnoreArg}, {"cookie-jar", 'c', Opt::kIgnoreArg}, {"cacert", 0, Opt::kIgnoreArg},
    {"capath", 0, Opt::kIgnoreArg}, {"proxy", 'x', Opt::kIgnoreArg}, {"noproxy", 0, Opt::kIgnoreArg},
    {"proxy-user", 'U', Opt::kIgnoreArg}, {"limit-rate", 0, Opt::kIgnoreArg}, {"max-redirs", 0, Opt::kIgnoreArg},
    {"trace", 0, Opt::kIgnoreArg}, {"trace-ascii", 0, Opt::kIgnoreArg}, {"stderr", 0, Opt::kIgnoreArg},
    {"speed-time", 'y', Opt::kIgnoreArg}, {"speed-limit", 'Y', Opt::kIgnoreArg},
    {"keepalive-time", 0, Opt::kIgnoreArg}, {"expect100-timeout", 0, Opt::kIgnoreArg},
    {"interface", 0, Opt::kIgnoreArg}, {"resolve", 0, Opt::kIgnoreArg}, {"connect-to", 0, Opt::kIgnoreArg},
    {"ciphers", 0, Opt::kIgnoreArg}, {"tls-max", 0, Opt::kIgnoreArg},
    // Options that change the request in ways a scenario cannot say: an error.
    {"form", 'F', Opt::kUnsupportedArg}, {"form-string", 0, Opt::kUnsupportedArg},
    {"upload-file", 'T', Opt::kUnsupportedArg}, {"cert", 'E', Opt::kUnsupportedArg},
    {"key", 0, Opt::kUnsupportedArg}, {"config", 'K', Opt::kUnsupportedArg},
    {"unix-socket", 0, Opt::kUnsupportedArg}, {"abstract-unix-socket", 0, Opt::kUnsupportedArg},
    {"aws-sigv4", 0, Opt::kUnsupportedArg}, {"url-query", 0, Opt::kUnsupportedArg},
    {"continue-at", 'C', Opt::kUnsupportedArg}, {"time-cond", 'z', Opt::kUnsupportedArg},
    {"variable", 0, Opt::kUnsupportedArg}, {"digest", 0, Opt::kUnsupported}, {"ntlm", 0, Opt::kUnsupported},
    {"negotiate", 0, Opt::kUnsupported}, {"http3", 0, Opt::kUnsupported}, {"http1.0", '0', Opt::kUnsupported},
    {"netrc", 'n', Opt::kUnsupported},
};

bool TakesArg(Opt o) {
  return o != Opt::kGet && o != Opt::kHead && o != Opt::kCompressed && o != Opt::kIgnore && o != Opt::kUnsupported;
}

std::string Base64(std::string_view in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t v = uint32_t(static_cast<unsigned char>(in[i])) << 16;
    if (i + 1 < in.size()) v |= uint32_t(static_cast<unsigned char>(in[i + 1])) << 8;
    if (i + 2 < in.size()) v |= uint32_t(static_cast<unsigned char>(in[i + 2]));
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kAlphabet[v & 63] : '=';
  }
  return out;
}

std::string UrlEncode(std::string_view in) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : in) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

Result<std::string> ReadDataFile(const std::string& path, const Options& options) {
  if (path == "-") return Fail("'-d @-' reads standard input, which an import cannot replay; save it to a file");
  if (options.read_file) return options.read_file(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail("cannot read data file '" + path + "'");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

const OptSpec* FindLong(std::string_view name) {
  for (const OptSpec& s : kOptions) {
    if (s.long_name == name) return &s;
  }
  return nullptr;
}

const OptSpec* FindShort(char c) {
  for (const OptSpec& s : kOptions) {
    if (s.short_name == c) return &s;
  }
  return nullptr;
}

// What the options say, before curl's defaults are applied.
struct CurlState {
  std::optional<std::string> method;
  std::optional<std::string> url;
  HeaderList custom_headers;  // -H, in order
  HeaderList auto_headers;    // -A, -e, -b, -u, --oauth2-bearer, -r
  std::vector<std::string> data;
  bool json = false;
  bool get = false;
  bool head = false;
  std::vector<std::string> notes;
};

Status AddHeaderOption(std::string_view text, CurlState& st) {
  if (!text.empty() && text[0] == '@') return Fail("-H @FILE (headers from a file) is not supported");
  const size_t colon = text.find(':');
  const size_t semi = text.find(';');
  if (colon == std::string_view::npos) {
    if (semi != std::string_view::npos && semi + 1 == text.size()) {  // "Name;" sends an empty header
      st.custom_headers.emplace_back(std::string(text.substr(0, semi)), "");
      return Ok();
    }
    return Fail("header '" + Shown(text) + "' has no ':'");
  }
  std::string_view value = text.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty()) {  // "Name:" removes a header curl would add; nothing to send
    st.notes.push_back("-H '" + Shown(text) + "' removes a header curl adds; ignored");
    return Ok();
  }
  st.custom_headers.emplace_back(std::string(text.substr(0, colon)), std::string(value));
  return Ok();
}

Status AddData(Opt opt, const std::string& arg, const Options& options, CurlState& st) {
  std::string value = arg;
  if ((opt == Opt::kData || opt == Opt::kDataBinary || opt == Opt::kJson) && !arg.empty() && arg[0] == '@') {
    auto content = ReadDataFile(arg.substr(1), options);
    if (!content) return std::unexpected(content.error());
    value = std::move(*content);
    if (opt == Opt::kData) std::erase_if(value, [](char c) { return c == '\r' || c == '\n'; });
  }
  if (opt == Opt::kDataUrlencode) {
    const size_t eq = arg.find('='), at = arg.find('@');
    if (at != std::string::npos && (eq == std::string::npos || at < eq)) {
      auto content = ReadDataFile(arg.substr(at + 1), options);
      if (!content) return std::unexpected(content.error());
      value = (at == 0 ? "" : arg.substr(0, at) + "=") + UrlEncode(*content);
    } else if (eq != std::string::npos) {
      value = (eq == 0 ? "" : arg.substr(0, eq) + "=") + UrlEncode(arg.substr(eq + 1));
    } else {
      value = UrlEncode(arg);
    }
  }
  if (opt == Opt::kJson) st.json = true;
  st.data.push_back(std::move(value));
  return Ok();
}

Status ApplyOption(const OptSpec& spec, std::string_view shown, const std::string& arg, const Options& options,
                   CurlState& st) {
  switch (spec.opt) {
    case Opt::kMethod: st.method = ToUpper(arg); return Ok();
    case Opt::kHeader: return AddHeaderOption(arg, st);
    case Opt::kData: case Opt::kDataRaw: case Opt::kDataBinary: case Opt::kDataUrlencode: case Opt::kJson:
      return AddData(spec.opt, arg, options, st);
    case Opt::kUser:
      if (arg.find(':') == std::string::npos) return Fail("-u '" + Shown(arg) + "' has no password (curl would ask for it); write -u USER:PASSWORD");
      st.auto_headers.emplace_back("Authorization", "Basic " + Base64(arg));
      return Ok();
    case Opt::kUserAgent: st.auto_headers.emplace_back("User-Agent", arg); return Ok();
    case Opt::kReferer: st.auto_headers.emplace_back("Referer", arg); return Ok();
    case Opt::kCookie:
      if (arg.find('=') == std::string::npos) return Fail("-b '" + Shown(arg) + "' reads cookies from a file, which is not supported; write -b 'name=value'");
      st.auto_headers.emplace_back("Cookie", arg);
      return Ok();
    case Opt::kGet: st.get = true; return Ok();
    case Opt::kHead: st.head = true; return Ok();
    case Opt::kUrl:
      if (st.url) return Fail("more than one URL in one curl command; write one command per URL");
      st.url = arg;
      return Ok();
    case Opt::kBearer: st.auto_headers.emplace_back("Authorization", "Bearer " + arg); return Ok();
    case Opt::kRange: st.auto_headers.emplace_back("Range", "bytes=" + arg); return Ok();
    // curl asks for every encoding it can decode; the server then compresses as it would for it.
    case Opt::kCompressed: st.auto_headers.emplace_back("Accept-Encoding", "deflate, gzip, br, zstd"); return Ok();
    case Opt::kIgnore: case Opt::kIgnoreArg:
      st.notes.push_back("curl option " + Shown(shown) + " does not change the request; ignored");
      return Ok();
    case Opt::kUnsupported: case Opt::kUnsupportedArg:
      return Fail("curl option " + Shown(shown) + " changes the request in a way a scenario cannot express; remove it");
  }
  return Ok();
}

// Parses the options of one command into `st`.
Status ParseOptions(std::span<const std::string> words, const Options& options, CurlState& st) {
  for (size_t i = 1; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (w.size() > 2 && w.starts_with("--")) {
      const OptSpec* spec = FindLong(std::string_view(w).substr(2));
      if (spec == nullptr) return Fail("unknown curl option '" + Shown(w) + "'");
      std::string arg;
      if (TakesArg(spec->opt)) {
        if (++i >= words.size()) return Fail("curl option " + Shown(w) + " needs a value");
        arg = words[i];
      }
      if (Status s = ApplyOption(*spec, w, arg, options, st); !s) return s;
    } else if (w.size() > 1 && w[0] == '-') {
      for (size_t k = 1; k < w.size(); ++k) {  // "-sSL", "-XPOST", "-H'a: b'"
        const OptSpec* spec = FindShort(w[k]);
        const std::string shown = std::string("-") + w[k];
        if (spec == nullptr) return Fail("unknown curl option '" + Shown(shown) + "'");
        std::string arg;
        if (TakesArg(spec->opt)) {
          if (k + 1 < w.size()) {
            arg = w.substr(k + 1);
          } else if (++i < words.size()) {
            arg = words[i];
          } else {
            return Fail("curl option " + Shown(shown) + " needs a value");
          }
          k = w.size();
        }
        if (Status s = ApplyOption(*spec, shown, arg, options, st); !s) return s;
      }
    } else {
      if (st.url) return Fail("more than one URL in one curl command; write one command per URL");
      st.url = w;
    }
  }
  return Ok();
}

bool HasHeader(const HeaderList& headers, std::string_view name) {
  for (const auto& h : headers) {
    if (EqualsNoCase(h.first, name)) return true;
  }
  return false;
}

// curl's defaults: method from -G/-I/data, data joined by '&' (or appended to the query with -G),
// Content-Type for -d and --json.
CurlRequest Finish(CurlState& st) {
  CurlRequest r;
  r.url = *st.url;
  std::string joined;
  for (const std::string& d : st.data) joined += (joined.empty() || st.json ? "" : "&") + d;
  const bool has_data = !st.data.empty();
  if (has_data && st.get) {
    r.url += (r.url.find('?') == std::string::npos ? "?" : "&") + joined;
  } else if (has_data) {
    r.body = joined;
  }
  r.method = st.method ? *st.method : st.head ? "HEAD" : r.body ? "POST" : "GET";
  // A header given with -H replaces the one an option would add (curl does the same).
  for (const auto& h : st.auto_headers) {
    if (!HasHeader(st.custom_headers, h.first)) r.headers.push_back(h);
  }
  for (const auto& h : st.custom_headers) r.headers.push_back(h);
  if (r.body && st.json) {
    if (!HasHeader(r.headers, "Content-Type")) r.headers.emplace_back("Content-Type", "application/json");
    if (!HasHeader(r.headers, "Accept")) r.headers.emplace_back("Accept", "application/json");
  } else if (r.body && !HasHeader(r.headers, "Content-Type")) {
    r.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  }
  r.notes = std::move(st.notes);
  return r;
}

// A request as a scenario can hold it; anything it cannot hold exactly is an error.
Result<RawRequest> ToRaw(const CurlRequest& c, std::vector<std::string>& notes) {
  if (!IsSupportedMethod(c.method)) {
    return Fail("method '" + Shown(c.method) + "' is not supported (GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS)");
  }
  auto url = SplitUrl(c.url);
  if (!url) return Fail("URL '" + Shown(c.url) + "': " + url.error().message);
  RawRequest r{url->origin, url->host, c.method, url->path_and_query, {}, c.body};
  for (const auto& [name, value] : c.headers) {
    if (!IsHeaderToken(name)) return Fail("'" + Shown(name) + "' is not a valid header name");
    if (value.find_first_of("\r\n") != std::string::npos || !IsValidUtf8(value)) {
      return Fail("header " + name + " has a line break or bytes that are not UTF-8 text");
    }
    if (EqualsNoCase(name, "Content-Length") || EqualsNoCase(name, "Transfer-Encoding")) {
      notes.push_back("header " + name + " dropped: headroom sets the body's length itself");
      continue;
    }
    r.headers.emplace_back(name, value);
  }
  if (r.body && !IsValidUtf8(*r.body)) {
    return Fail("the request body is not UTF-8 text (binary bodies cannot be written in a scenario)");
  }
  return r;
}

}  // namespace

Result<CurlRequest> ParseCurlWords(std::span<const std::string> words, const Options& options) {
  if (words.empty()) return Fail("empty command");
  const std::string& prog = words[0];
  if (prog != "curl" && !prog.ends_with("/curl") && prog != "curl.exe") {
    return Fail("not a curl command (it starts with '" + Shown(prog, 40) + "')");
  }
  CurlState st;
  if (Status s = ParseOptions(words, options, st); !s) return std::unexpected(s.error());
  if (!st.url) return Fail("the curl command has no URL");
  return Finish(st);
}

Result<Imported> ImportCurl(std::span<const std::string> command_lines, const Options& options) {
  std::vector<RawRequest> requests;
  std::vector<std::string> notes;
  int n = 0;
  for (const std::string& line : command_lines) {
    auto commands = SplitShellCommands(line);
    if (!commands) return Fail("curl command " + std::to_string(n + 1) + ": " + commands.error().message);
    for (const std::vector<std::string>& words : *commands) {
      ++n;
      auto req = ParseCurlWords(words, options);
      const std::string where = "curl command " + std::to_string(n) + ": ";
      if (!req) return Fail(where + req.error().message);
      for (const std::string& note : req->notes) notes.push_back(where + note);
      auto raw = ToRaw(*req, notes);
      if (!raw) return Fail(where + raw.error().message);
      requests.push_back(std::move(*raw));
    }
  }
  if (requests.empty()) return Fail("no curl command given");
  return BuildExactScenario(requests, "curl", options, std::move(notes));
}

}  // namespace headroom::importer
