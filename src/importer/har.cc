// HAR (HTTP Archive 1.2) -> requests: method, path and query, headers a client chooses (not the
// ones a connection or the protocol adds), body from postData.text.
#include <nlohmann/json.hpp>

#include "importer/draft.h"

namespace headroom::importer {
namespace {

using nlohmann::json;

// Headers that belong to one connection or that headroom writes itself.
bool IsDroppedHeader(std::string_view name) {
  if (!name.empty() && name[0] == ':') return true;  // HTTP/2 pseudo-headers
  for (std::string_view h : {"Connection", "Keep-Alive", "Proxy-Connection", "TE", "Trailer", "Transfer-Encoding",
                             "Upgrade", "Proxy-Authorization", "Host", "Content-Length"}) {
    if (EqualsNoCase(name, h)) return true;
  }
  return false;
}

std::string StringField(const json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

struct Counters {
  size_t bad_entries = 0;
  size_t unsupported_methods = 0;
  size_t cookies_dropped = 0;
  size_t headers_unusable = 0;
  std::string first_problem;
};

void Problem(Counters& c, size_t index, const std::string& what) {
  ++c.bad_entries;
  if (c.first_problem.empty()) c.first_problem = "entry " + std::to_string(index) + ": " + what;
}

void AddHeaders(const json& request, const Options& options, RawRequest& out, Counters& c) {
  auto it = request.find("headers");
  if (it == request.end() || !it->is_array()) return;
  for (const json& h : *it) {
    const std::string name = StringField(h, "name");
    const std::string value = StringField(h, "value");
    if (IsDroppedHeader(name)) continue;
    if (EqualsNoCase(name, "Cookie") && !options.keep_cookies) {
      ++c.cookies_dropped;
      continue;
    }
    if (!IsHeaderToken(name) || value.find_first_of("\r\n") != std::string::npos) {
      ++c.headers_unusable;
      continue;
    }
    out.headers.emplace_back(name, value);
  }
}

std::optional<RawRequest> ReadEntry(const json& entry, size_t index, const Options& options, Counters& c) {
  auto req_it = entry.is_object() ? entry.find("request") : entry.end();
  if (!entry.is_object() || req_it == entry.end() || !req_it->is_object()) {
    Problem(c, index, "no request object");
    return std::nullopt;
  }
  const json& request = *req_it;
  const std::string method = ToUpper(StringField(request, "method"));
  if (!IsSupportedMethod(method)) {
    ++c.unsupported_methods;
    return std::nullopt;
  }
  auto url = SplitUrl(StringField(request, "url"));
  if (!url) {
    Problem(c, index, url.error().message);
    return std::nullopt;
  }
  RawRequest out{url->origin, url->host, method, url->path_and_query, {}, std::nullopt};
  AddHeaders(request, options, out, c);
  if (auto pd = request.find("postData"); pd != request.end() && pd->is_object()) {
    if (auto text = pd->find("text"); text != pd->end() && text->is_string()) out.body = text->get<std::string>();
  }
  return out;
}

}  // namespace

Result<Imported> ImportHar(std::string_view har_json, const Options& options) {
  const json doc = json::parse(har_json.begin(), har_json.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Fail("not a HAR file: the text is not JSON");
  auto log = doc.is_object() ? doc.find("log") : doc.end();
  if (!doc.is_object() || log == doc.end() || !log->is_object() || !log->contains("entries") ||
      !(*log)["entries"].is_array()) {
    return Fail("not a HAR file: no log.entries list");
  }
  const json& entries = (*log)["entries"];
  std::vector<RawRequest> requests;
  Counters c;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (auto r = ReadEntry(entries[i], i, options, c)) requests.push_back(std::move(*r));
  }
  std::vector<std::string> notes;
  if (c.bad_entries > 0) {
    notes.push_back(std::to_string(c.bad_entries) + " HAR entr" + (c.bad_entries == 1 ? "y" : "ies") +
                    " left out; first: " + c.first_problem);
  }
  if (c.unsupported_methods > 0) {
    notes.push_back(std::to_string(c.unsupported_methods) +
                    " request(s) with a method other than GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS left out");
  }
  if (c.cookies_dropped > 0) {
    notes.push_back(std::to_string(c.cookies_dropped) + " Cookie header(s) dropped (pass --cookies to keep them)");
  }
  if (c.headers_unusable > 0) {
    notes.push_back(std::to_string(c.headers_unusable) + " header(s) with an invalid name or a line break dropped");
  }
  if (requests.empty()) return Fail("the HAR file has no request that can be imported" +
                                    (c.first_problem.empty() ? std::string() : " (" + c.first_problem + ")"));
  return BuildExactScenario(requests, "HAR", options, std::move(notes));
}

}  // namespace headroom::importer
