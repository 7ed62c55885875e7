// curl and HAR requests -> a scenario: identical requests merged (weight = count), one target.
#include <algorithm>
#include <map>

#include "importer/draft.h"

namespace headroom::importer {
namespace {

std::string RequestKey(const RawRequest& r) {
  std::string key = r.method + '\0' + r.path_and_query + '\0';
  for (const auto& [name, value] : r.headers) key += name + '\0' + value + '\0';
  key += r.body ? "B" + *r.body : "N";
  return key;
}

// "GET /users/42/orders?x=1" -> "get users id orders": digits-only segments read as "id".
std::string NameHint(std::string_view method, std::string_view path) {
  path = path.substr(0, path.find('?'));
  std::string hint(method);
  size_t pos = 0;
  while (pos < path.size()) {
    size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    std::string_view seg = path.substr(pos, end - pos);
    const bool digits = !seg.empty() && std::all_of(seg.begin(), seg.end(), [](char c) { return c >= '0' && c <= '9'; });
    hint += ' ';
    hint += digits ? std::string_view("id") : seg;
    pos = end + 1;
  }
  return hint;
}

std::string PickOrigin(const std::vector<RawRequest>& requests, std::string_view kind,
                       std::vector<std::string>& notes) {
  std::vector<std::pair<std::string, size_t>> counts;  // first-seen order breaks ties
  for (const RawRequest& r : requests) {
    auto it = std::find_if(counts.begin(), counts.end(), [&](const auto& c) { return c.first == r.origin; });
    if (it == counts.end()) {
      counts.emplace_back(r.origin, 1);
    } else {
      ++it->second;
    }
  }
  auto best = std::max_element(counts.begin(), counts.end(),
                               [](const auto& a, const auto& b) { return a.second < b.second; });
  std::string others;
  size_t left_out = 0;
  for (const auto& [origin, n] : counts) {
    if (origin == best->first) continue;
    left_out += n;
    if (others.size() < 200) others += (others.empty() ? "" : ", ") + origin + " (" + std::to_string(n) + ")";
  }
  if (left_out > 0) {
    notes.push_back(std::to_string(left_out) + " " + std::string(kind) + " request(s) to other origins left out: " +
                    others + "; the target is " + best->first);
  }
  return best->first;
}

}  // namespace

void KeepTargetRunnable(DraftScenario& draft, std::vector<std::string>& notes) {
  if (draft.target.rfind("https://", 0) != 0) return;
  // headroom speaks HTTP/1.1 over plain TCP for now: the file names the recorded origin in its
  // description and points at an http:// endpoint that TARGET_URL can set.
  notes.push_back("headroom cannot send https yet: the target is ${TARGET_URL:-http://127.0.0.1:8080}; set "
                  "TARGET_URL (or run --target) to an http:// endpoint of " + draft.target);
  draft.description += " Recorded against " + draft.target + ".";
  draft.target = "${TARGET_URL:-http://127.0.0.1:8080}";
}

Result<Imported> BuildExactScenario(const std::vector<RawRequest>& requests, std::string_view kind,
                                    const Options& options, std::vector<std::string> notes) {
  if (requests.empty()) return Fail("no request to import");
  const std::string origin = PickOrigin(requests, kind, notes);
  std::string host;
  DraftScenario draft;
  std::map<std::string, size_t> index;  // request key -> position in draft.requests
  for (const RawRequest& r : requests) {
    if (r.origin != origin) continue;
    host = r.host;
    auto [it, inserted] = index.emplace(RequestKey(r), draft.requests.size());
    if (!inserted) {
      draft.requests[it->second].weight += 1;
      continue;
    }
    DraftRequest d;
    d.name_hint = NameHint(r.method, r.path_and_query);
    d.method = r.method;
    d.path = EncodePathLiteral(r.path_and_query);
    for (const auto& [name, value] : r.headers) d.headers.emplace_back(name, EscapeTemplateText(value));
    if (r.body) d.body = EscapeTemplateText(*r.body);
    draft.requests.push_back(std::move(d));
  }
  if (draft.requests.size() < requests.size()) {
    size_t merged = 0;
    for (const RawRequest& r : requests) merged += r.origin == origin;
    merged -= draft.requests.size();
    if (merged > 0) notes.push_back(std::to_string(merged) + " repeated request(s) merged into weights");
  }
  draft.name = options.name.empty() ? std::string(kind) + " import of " + host : options.name;
  draft.description = "Imported by headroom import from " + std::to_string(requests.size()) + " " +
                      std::string(kind) + " request(s); edit the phase to the load you want.";
  draft.target = options.target.empty() ? origin : options.target;
  KeepTargetRunnable(draft, notes);
  DraftPhase phase;
  phase.name = "baseline";
  phase.kind = DraftPhaseKind::kBaseline;
  phase.rate_per_sec = 10;
  phase.duration_s = 30;
  draft.phases.push_back(phase);
  return Imported{WriteScenarioYaml(draft), std::move(notes)};
}

}  // namespace headroom::importer
