#include "plan/catalogue.h"

#include <algorithm>
#include <map>

#include "core/diag.h"
#include "plan/remedies_data.h"

namespace headroom::plan {
namespace {

const std::map<std::string, std::vector<std::string>>& EffectKeys() {
  static const auto* keys = new std::map<std::string, std::vector<std::string>>{
      {"query_optimization", {"read_factor"}},
      {"connection_pooling", {"server_connections_per_core"}},
      {"vertical_scaling", {"capacity_factor", "cost_factor", "max_steps"}},
      {"externalize_sessions", {}},
      {"caching", {"hit_ratio"}},
      {"cdn", {"edge_hit_ratio"}},
      {"read_replicas", {"max_replicas_per_primary"}},
      {"async_queue", {"batch_factor"}},
      {"partitioning", {"write_capacity_factor"}},
      {"functional_sharding", {}},
      {"horizontal_sharding", {"max_shards"}},
  };
  return *keys;
}

const std::vector<std::string> kRemedyFields = {
    "id",          "name",     "order",    "relieves",   "effect",  "effort_days",
    "monthly_cost", "requires", "guidance", "adds_tiers", "disabled", "not_before_month", "tiers",
    "phase"};

// Reads the fields present in `node` into `r` (overrides leave absent fields alone).
void ReadRemedyFields(const YAML::Node& node, const std::string& path, Remedy& r, Diagnostics& d) {
  if (auto v = ReadString(node["name"], path + ".name", d)) r.name = *v;
  if (auto v = ReadCount(node["order"], path + ".order", d, 0)) r.order = *v;
  if (auto v = ReadString(node["relieves"], path + ".relieves", d)) r.relieves = *v;
  if (auto v = ReadNumber(node["effort_days"], path + ".effort_days", d, 0, 1e6)) r.effort_days = *v;
  if (auto v = ReadNumber(node["monthly_cost"], path + ".monthly_cost", d, 0, 1e12))
    r.monthly_cost = *v;
  if (auto v = ReadString(node["guidance"], path + ".guidance", d)) r.guidance = *v;
  if (auto v = ReadBool(node["disabled"], path + ".disabled", d)) r.disabled = *v;
  if (auto v = ReadNumber(node["not_before_month"], path + ".not_before_month", d, 0, 1200))
    r.not_before_month = *v;
  if (auto v = ReadMultiple(node["phase"], path + ".phase", d)) r.phase = *v;
  if (const YAML::Node tiers = node["tiers"]) {
    if (!tiers.IsSequence() || r.id != "vertical_scaling") {
      d.Add(tiers, path + ".tiers", r.id != "vertical_scaling"
                                        ? "only vertical_scaling is restricted to tiers"
                                        : "expected a list of tier names");
    } else {
      r.tiers.clear();
      for (const YAML::Node& t : tiers)
        if (auto v = ReadString(t, path + ".tiers", d)) r.tiers.push_back(*v);
    }
  }
  if (const YAML::Node effect = node["effect"]) {
    if (!effect.IsMap()) {
      d.Add(effect, path + ".effect", "expected a map of parameters");
    } else {
      CheckKeys(effect, path + ".effect", KnownEffectKeys(r.id), d);
      for (auto it = effect.begin(); it != effect.end(); ++it) {
        std::string key = it->first.Scalar();
        if (auto v = ReadNumber(it->second, path + ".effect." + key, d, 0, 1e6)) r.effect[key] = *v;
      }
    }
  }
  if (const YAML::Node req = node["requires"]) {
    if (!req.IsSequence()) d.Add(req, path + ".requires", "expected a list of remedy ids");
  }
  if (const YAML::Node adds = node["adds_tiers"]) {
    if (!adds.IsSequence()) {
      d.Add(adds, path + ".adds_tiers", "expected a list of tiers");
    } else {
      r.adds_tiers.clear();
      for (size_t i = 0; i < adds.size(); ++i) {
        std::string tp = path + ".adds_tiers[" + std::to_string(i) + "]";
        auto tier = ReadTierWith(adds[i], tp, d, [&](const YAML::Node& cap, TierSpec& t) {
          if (auto v = ReadRate(cap, tp + ".capacity", d)) t.capacity_rps = *v;
        });
        if (tier) {
          tier->added_by_remedy = true;
          tier->capacity_source = "catalogue (" + r.id + ")";
          r.adds_tiers.push_back(*tier);
        }
      }
    }
  }
}

// `requires` lists are checked against the known ids (ReadChoice cannot take a runtime list).
void ReadRequires(const YAML::Node& node, const std::string& path, Remedy& r, Diagnostics& d) {
  const YAML::Node req = node["requires"];
  if (!req || !req.IsSequence()) return;
  r.requires_ids.clear();
  for (const YAML::Node& item : req) {
    if (!item.IsScalar()) continue;
    const auto& ids = KnownRemedyIds();
    if (std::find(ids.begin(), ids.end(), item.Scalar()) == ids.end()) {
      d.Add(item, path + ".requires", "unknown remedy '" + item.Scalar() + "'" + DidYouMean(item.Scalar(), ids));
      continue;
    }
    r.requires_ids.push_back(item.Scalar());
  }
}

}  // namespace

const std::vector<std::string>& KnownRemedyIds() {
  static const auto* ids = [] {
    auto* v = new std::vector<std::string>();
    for (const auto& [id, keys] : EffectKeys()) v->push_back(id);
    return v;
  }();
  return *ids;
}

std::vector<std::string> KnownEffectKeys(const std::string& remedy_id) {
  auto it = EffectKeys().find(remedy_id);
  return it == EffectKeys().end() ? std::vector<std::string>{} : it->second;
}

double EffectParam(const Remedy& remedy, const std::string& key, double fallback) {
  auto it = remedy.effect.find(key);
  return it == remedy.effect.end() ? fallback : it->second;
}

Result<std::vector<Remedy>> ParseCatalogue(const std::string& yaml_text, const std::string& source) {
  Diagnostics d(source);
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::ParserException& e) {
    d.Add(e.mark, "", "YAML syntax: " + e.msg);
    return Fail(d.Text());
  }
  const YAML::Node list = root["remedies"];
  if (!list || !list.IsSequence()) return Fail(source + ": expected a 'remedies' list");
  std::vector<Remedy> out;
  for (size_t i = 0; i < list.size(); ++i) {
    const YAML::Node node = list[i];
    std::string path = "remedies[" + std::to_string(i) + "]";
    CheckKeys(node, path, kRemedyFields, d);
    Remedy r;
    if (auto id = ReadString(node["id"], path + ".id", d)) r.id = *id;
    const auto& ids = KnownRemedyIds();
    if (std::find(ids.begin(), ids.end(), r.id) == ids.end()) {
      d.Add(node, path, "unknown remedy id '" + r.id + "'");
      continue;
    }
    ReadRemedyFields(node, path, r, d);
    ReadRequires(node, path, r, d);
    out.push_back(std::move(r));
  }
  if (!d.empty()) return Fail(d.Text());
  std::stable_sort(out.begin(), out.end(),
                   [](const Remedy& a, const Remedy& b) { return a.order < b.order; });
  return out;
}

Result<std::vector<Remedy>> DefaultRemedies() {
  return ParseCatalogue(kRemediesYaml, "remedies.yaml (built in)");
}

void ApplyRemedyOverrides(const YAML::Node& overrides, std::vector<Remedy>& remedies,
                          Diagnostics& d) {
  if (!overrides.IsMap()) {
    d.Add(overrides, "remedies", "expected a map from remedy id to the fields to override");
    return;
  }
  for (auto it = overrides.begin(); it != overrides.end(); ++it) {
    std::string id = it->first.Scalar();
    auto found = std::find_if(remedies.begin(), remedies.end(),
                              [&](const Remedy& r) { return r.id == id; });
    if (found == remedies.end()) {
      d.Add(it->first, "remedies", "unknown remedy '" + id + "'" + DidYouMean(id, KnownRemedyIds()));
      continue;
    }
    const YAML::Node body = it->second;
    std::string path = "remedies." + id;
    if (!body.IsMap()) {
      d.Add(body, path, "expected a map of fields to override (or disabled: true)");
      continue;
    }
    std::vector<std::string> fields(kRemedyFields.begin() + 1, kRemedyFields.end());
    CheckKeys(body, path, fields, d);
    ReadRemedyFields(body, path, *found, d);
    ReadRequires(body, path, *found, d);
  }
  std::stable_sort(remedies.begin(), remedies.end(),
                   [](const Remedy& a, const Remedy& b) { return a.order < b.order; });
}

}  // namespace headroom::plan
