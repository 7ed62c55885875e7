// Which tiers a run watches: those of the scenario file and those added on the command line.
#include <algorithm>

#include "exec/exec.h"

namespace headroom::exec {
namespace {

// The tier a bare `--watch KIND:ARG` joins.
std::string DefaultTierName(const collect::WatchSpec& w) {
  switch (w.kind) {
    case collect::SourceKind::kHost: return "host";
    case collect::SourceKind::kProcess: return w.arg.empty() ? "app" : w.arg;
    case collect::SourceKind::kPostgres: return "db";
    case collect::SourceKind::kRedis: return "cache";
    case collect::SourceKind::kPrometheus: return "metrics";
    case collect::SourceKind::kFake: return "fake";
  }
  return "tier";
}

std::string DefaultTierKind(collect::SourceKind kind) {
  switch (kind) {
    case collect::SourceKind::kHost: return "host";
    case collect::SourceKind::kPostgres: return "database";
    case collect::SourceKind::kRedis: return "cache";
    default: return "app";
  }
}

bool ValidTierName(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

}  // namespace

Result<std::vector<collect::TierSpec>> TierSpecs(const std::vector<scenario::Tier>& tiers,
                                                 const std::vector<std::string>& watch) {
  std::vector<collect::TierSpec> out;
  for (const scenario::Tier& t : tiers) {
    std::vector<std::string> specs;
    for (const scenario::TierSource& s : t.sources) specs.push_back(s.spec);
    auto spec = collect::ParseTierSpec(t.name, t.kind, specs, t.interval_ns);
    if (!spec) return Fail("tier " + t.name + ": " + spec.error().message);
    for (size_t i = 0; i < t.sources.size() && i < spec->sources.size(); ++i) {
      if (!t.sources[i].selectors.empty()) spec->sources[i].selectors = t.sources[i].selectors;
    }
    out.push_back(std::move(*spec));
  }
  for (const std::string& text : watch) {
    // NAME=KIND:ARG names the tier; a conninfo's own '=' comes after the kind's ':'.
    std::string name, spec_text = text;
    const size_t eq = text.find('='), colon = text.find(':');
    if (eq != std::string::npos && (colon == std::string::npos || eq < colon)) {
      name = text.substr(0, eq);
      spec_text = text.substr(eq + 1);
      if (!ValidTierName(name)) return Fail("--watch '" + text + "': tier name '" + name + "' must be letters, digits, _ or -");
    }
    auto spec = collect::ParseWatchSpec(spec_text);
    if (!spec) return Fail("--watch '" + collect::RedactConninfo(text) + "': " + spec.error().message);
    if (name.empty()) name = DefaultTierName(*spec);
    auto it = std::find_if(out.begin(), out.end(), [&](const collect::TierSpec& t) { return t.name == name; });
    if (it == out.end()) {
      out.push_back({name, DefaultTierKind(spec->kind), {}, 1'000'000'000});
      it = out.end() - 1;
    }
    it->sources.push_back(std::move(*spec));
  }
  return out;
}

}  // namespace headroom::exec
