// Response checks (`expect:`) judged on arbitrary responses: a hostile body (deep JSON, invalid
// UTF-8, huge numbers, patterns that would backtrack) must never crash or hang the check, and the
// outcome must not depend on whether a reason is asked for.
// Input layout: byte 0 = status low bits, byte 1 = flags, then "header value\0body".
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "exec/response_check.h"

namespace {

using headroom::engine::ResponseCheck;

const ResponseCheck& Check() {
  static const auto check = [] {
    headroom::scenario::Expect e;
    e.statuses = {{200, 299}, {404, 404}};
    e.headers.push_back({"Content-Type", headroom::scenario::HeaderExpect::Op::kMatches, "^application/(\\w+\\+)?json", {}});
    e.headers.push_back({"X-A", headroom::scenario::HeaderExpect::Op::kContains, "ok", {}});
    e.body_contains = {"\"id\""};
    e.body_matches = {"(a|aa)+$", "\"id\":\\s*\\d+"};
    e.json.push_back({"items.0.id", "/items/0/id", "5", {}});
    e.json.push_back({"ok", "/ok", "true", {}});
    e.body_limit = 4096;
    return headroom::exec::MakeResponseCheck(e);
  }();
  return *check;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const int status = 100 + data[0] % 500;
  const uint8_t flags = data[1];
  std::string_view rest(reinterpret_cast<const char*>(data + 2), size - 2);
  const size_t nul = rest.find('\0');
  const std::string_view header = nul == std::string_view::npos ? rest : rest.substr(0, nul);
  const std::string_view body = nul == std::string_view::npos ? std::string_view() : rest.substr(nul + 1);
  const ResponseCheck& check = Check();
  headroom::http::ResponseCapture kept;
  kept.header_names = &check.header_names();
  kept.header_values.assign(check.header_names().size(), std::string(header));
  kept.header_seen.assign(check.header_names().size(), (flags & 1) ? 1 : 0);
  kept.max_body_bytes = check.max_body_bytes();
  kept.body = std::string(body.substr(0, kept.max_body_bytes));
  kept.body_truncated = body.size() > kept.max_body_bytes || (flags & 2);
  std::string reason;
  const auto with = check.Evaluate(status, kept, body.size(), &reason);
  const auto without = check.Evaluate(status, kept, body.size(), nullptr);
  if (with != without) std::abort();
  if ((with == ResponseCheck::Outcome::kFail) == reason.empty()) std::abort();
  if (reason.find('\n') != std::string::npos) std::abort();  // one line
  return 0;
}
