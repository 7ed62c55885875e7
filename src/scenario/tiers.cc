// The `tiers` section: tiers watched beside the run and their sources, and the check of SLOs on
// tier metrics against them.
#include "collect/collect.h"
#include "scenario/parser.h"

namespace headroom::scenario {
namespace {

constexpr std::string_view kTierKinds[] = {"app", "database", "cache", "queue", "host", "proxy", "storage", "other"};
constexpr std::string_view kSourceExample =
    "a list like [ host, process:postgres, \"postgres:host=127.0.0.1 dbname=app\", redis:127.0.0.1:6379 ]";

std::string TierKeyHint(std::string_view key) {
  if (key == "source" || key == "watch") return " (sources go in the list under 'sources')";
  if (key == "every" || key == "period") return " (the sampling period is 'interval')";
  return "";
}

}  // namespace

void ScenarioParser::ParseTiers(const YAML::Node& node, std::vector<Tier>& out) {
  if (!node.IsSequence()) {
    r_.Error(node, "tiers", "expected a list of tiers like - { name: db, kind: database, sources: [ process:postgres ] }");
    tiers_failed_ = true;
    return;
  }
  for (size_t i = 0; i < node.size(); ++i) {
    const YAML::Node item = node[i];
    std::string path = "tiers[" + std::to_string(i) + "]";
    if (item.IsMap()) {
      if (YAML::Node n = Get(item, "name"); n.IsScalar() && IsIdentifier(n.Scalar(), true)) path = "tiers." + n.Scalar();
    }
    Tier tier;
    if (!ParseTier(item, path, tier)) tiers_failed_ = true;
    for (const Tier& earlier : out) {
      if (!tier.name.empty() && earlier.name == tier.name) {
        r_.Error(Get(item, "name"), path, "tier name '" + tier.name + "' is used twice");
      }
    }
    out.push_back(std::move(tier));
  }
}

bool ScenarioParser::ParseTier(const YAML::Node& node, std::string_view path, Tier& out) {
  if (!r_.ExpectMap(node, path, "{ name: db, kind: database, sources: [ process:postgres ] }")) return false;
  r_.CheckKeys(node, path, {"name", "kind", "sources", "interval", "selectors"}, TierKeyHint);
  out.pos = PosOf(node);
  const size_t errors_before = r_.diag().size();
  if (r_.Require(node, path, "name", "name: db")) {
    YAML::Node n = Get(node, "name");
    if (auto v = r_.String(n, JoinPath(path, "name"))) {
      // Names are written before the dot of an SLO ("db.cpu < 70%").
      if (!IsIdentifier(*v, true)) r_.Error(n, JoinPath(path, "name"), "tier name '" + *v + "' must be letters, digits, '_' and '-'");
      out.name = *v;
    }
  }
  if (r_.Require(node, path, "kind", "kind: database")) {
    YAML::Node n = Get(node, "kind");
    const auto& k = kTierKinds;
    if (auto v = r_.Enum(n, JoinPath(path, "kind"), {k[0], k[1], k[2], k[3], k[4], k[5], k[6], k[7]})) {
      out.kind = std::string(k[*v]);
    }
  }
  if (YAML::Node n = Get(node, "interval"); n.IsDefined()) {
    if (auto v = r_.DurationNs(n, JoinPath(path, "interval"))) {
      if (*v < 100'000'000) r_.Error(n, JoinPath(path, "interval"), "must be at least 100ms");
      out.interval_ns = *v;
    }
  }
  std::vector<std::string> selectors;
  if (YAML::Node n = Get(node, "selectors"); n.IsDefined()) {
    if (auto v = ParseSelectors(n, JoinPath(path, "selectors"))) selectors = std::move(*v);
  }
  if (r_.Require(node, path, "sources", kSourceExample)) {
    const YAML::Node list = Get(node, "sources");
    const std::string list_path = JoinPath(path, "sources");
    if (!list.IsSequence() || list.size() == 0) {
      r_.Error(list, list_path, "expected " + std::string(kSourceExample));
    } else {
      for (size_t i = 0; i < list.size(); ++i) {
        ParseTierSource(list[i], list_path + "[" + std::to_string(i) + "]", selectors, out);
      }
    }
  }
  return r_.diag().size() == errors_before;
}

// A source is a spec string ("process:postgres") or a map with one kind key and optional
// selectors ({ prometheus: "http://...", selectors: [...] }).
void ScenarioParser::ParseTierSource(const YAML::Node& node, std::string_view path,
                                     const std::vector<std::string>& selectors, Tier& out) {
  TierSource source;
  source.pos = PosOf(node);
  source.selectors = selectors;
  YAML::Node spec_node = node;
  if (node.IsMap()) {
    r_.CheckKeys(node, path, {"host", "process", "prometheus", "postgres", "redis", "selectors"});
    std::string kind;
    for (auto it = node.begin(); it != node.end(); ++it) {
      const std::string key = it->first.IsScalar() ? it->first.Scalar() : "";
      if (key == "selectors" || key.empty()) continue;
      if (!kind.empty()) {
        r_.Error(it->first, path, "one source per item: '" + kind + "' and '" + key + "' are both given");
        return;
      }
      kind = key;
      spec_node.reset(it->second);  // rebinds; operator= would write into the map
    }
    if (kind.empty()) {
      r_.Error(node, path, "a source map needs a kind key, like { prometheus: http://127.0.0.1:9100/metrics }");
      return;
    }
    auto arg = kind == "host" && (spec_node.IsNull() || !spec_node.IsDefined())
                   ? std::optional<std::string>("")
                   : r_.Scalar(spec_node, JoinPath(path, kind), "the " + kind + " source's argument");
    if (!arg) return;
    source.spec = arg->empty() ? kind : kind + ":" + *arg;
    if (YAML::Node n = Get(node, "selectors"); n.IsDefined()) {
      if (kind != "prometheus") r_.Error(n, JoinPath(path, "selectors"), "selectors apply to prometheus sources only");
      if (auto v = ParseSelectors(n, JoinPath(path, "selectors"))) source.selectors = std::move(*v);
    }
  } else {
    auto text = r_.Scalar(node, path, "a source like process:postgres");
    if (!text) return;
    source.spec = *text;
  }
  auto expanded = ExpandEnv(source.spec, "value");
  if (!expanded) {
    r_.Error(spec_node, path, expanded.error().message);
    return;
  }
  auto parsed = collect::ParseWatchSpec(*expanded);
  if (!parsed) {
    r_.Error(spec_node, path, parsed.error().message);
    return;
  }
  if (parsed->kind != collect::SourceKind::kPrometheus) source.selectors.clear();
  source.spec = *expanded;
  source.label = parsed->label;
  out.sources.push_back(std::move(source));
}

std::optional<std::vector<std::string>> ScenarioParser::ParseSelectors(const YAML::Node& node, std::string_view path) {
  if (!node.IsSequence()) {
    r_.Error(node, path, "expected a list of metric names like [ http_requests_total, \"http_request_duration_*\" ]");
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < node.size(); ++i) {
    auto v = r_.Scalar(node[i], path, "a metric name");
    if (!v) return std::nullopt;
    out.push_back(*v);
  }
  return out;
}

void ScenarioParser::CheckTierSlo(const YAML::Node& item, std::string_view path, const std::string& text,
                                  const slo::Objective& o) {
  if (tiers_failed_) return;  // the tiers' own errors come first
  std::vector<slo::WatchedTier> watched;
  if (tiers_ != nullptr) {
    for (const Tier& t : *tiers_) {
      slo::WatchedTier w{t.name, {}};
      for (const TierSource& s : t.sources) w.source_kinds.push_back(s.label.substr(0, s.label.find(':')));
      watched.push_back(std::move(w));
    }
  }
  if (Status s = slo::ValidateTierObjective(o, watched); !s) r_.Error(item, path, "SLO '" + text + "': " + s.error().message);
}

}  // namespace headroom::scenario
