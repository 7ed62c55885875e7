// ParseUrl on arbitrary text must not crash; an accepted URL must be self-consistent and
// re-parse to the same result from its authority and request-target, and must encode into a
// request that EncodeRequestChecked accepts.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/http.h"

namespace {
void Check(bool ok) {
  if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto url = headroom::http::ParseUrl(text);
  if (!url) {
    Check(url.error().message.find('\n') == std::string::npos);
    return 0;
  }
  Check((url->scheme == "http" || url->scheme == "https") && url->port != 0 && !url->host.empty());
  Check(!url->path_and_query.empty() && url->path_and_query.front() == '/');
  const auto again = headroom::http::ParseUrl(url->scheme + "://" + url->authority + url->path_and_query);
  Check(again.has_value());
  Check(again->scheme == url->scheme && again->host == url->host && again->port == url->port &&
        again->path_and_query == url->path_and_query && again->authority == url->authority);
  headroom::http::RequestSpec spec;
  spec.host = url->authority;
  spec.path_and_query = url->path_and_query;
  Check(headroom::http::EncodeRequestChecked(spec).has_value());
  return 0;
}
