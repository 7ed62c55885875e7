#include "explain/explain.h"

#include <cmath>
#include <map>

#include "core/units.h"

namespace headroom::explain {
namespace {

using json = nlohmann::json;

std::optional<double> Number(const json& j, const json::json_pointer& p) {
  if (!j.contains(p)) return std::nullopt;
  const json& v = j.at(p);
  if (!v.is_number()) return std::nullopt;
  return v.get<double>();
}

std::optional<double> Field(const json& j, const char* pointer) { return Number(j, json::json_pointer(pointer)); }

const json* PhaseNamed(const json& results, const std::string& name) {
  for (const json& p : results["phases"]) {
    if (p.is_object() && p.value("name", "") == name) return &p;
  }
  return nullptr;
}

// A tier source's metric mean, found by tier name and source kind.
std::optional<double> TierMetric(const json& phase, const std::string& tier, const std::string& kind,
                                 const std::string& metric) {
  if (!phase.contains("tiers") || !phase["tiers"].is_array()) return std::nullopt;
  for (const json& t : phase["tiers"]) {
    if (t.value("name", "") != tier || !t.contains("sources")) continue;
    for (const json& s : t["sources"]) {
      if (s.value("kind", "") != kind || !s.contains("metrics") || !s["metrics"].contains(metric)) continue;
      const json& m = s["metrics"][metric];
      if (m.contains("mean") && m["mean"].is_number()) return m["mean"].get<double>();
    }
  }
  return std::nullopt;
}

struct Headline {
  const char* kind;
  const char* metric;
  const char* unit;
  bool lower_is_better;
};
// The figures a performance review quotes for each kind of source.
constexpr Headline kHeadlines[] = {
    {"host", "cpu_ratio", "%", true},
    {"host", "psi.cpu.some_ratio", "%", true},
    {"process", "cpu_cores", "cores", true},
    {"postgres", "statement_mean_ms", "ms", true},
    {"postgres", "seq_scan_rows_per_s", "/s", true},
    {"postgres", "connections_ratio", "%", true},
    {"postgres", "cache_hit_ratio", "%", false},
    {"redis", "hit_ratio", "%", false},
    {"redis", "evictions_per_s", "/s", true},
    {"redis", "main_thread_cpu_cores", "cores", true},
};

std::vector<std::pair<std::string, std::string>> TiersOf(const json& phase) {
  std::vector<std::pair<std::string, std::string>> out;  // (tier, source kind)
  if (!phase.contains("tiers") || !phase["tiers"].is_array()) return out;
  for (const json& t : phase["tiers"]) {
    if (!t.contains("sources")) continue;
    for (const json& s : t["sources"]) out.emplace_back(t.value("name", ""), s.value("kind", ""));
  }
  return out;
}

void AddLatency(std::vector<Delta>& out, const std::string& where, const json& b, const json& a) {
  for (const char* q : {"p50", "p95", "p99"}) {
    const std::string ptr = std::string("/latency/response_time_us/") + q;
    out.push_back({std::string(q) + " " + where, Field(b, ptr.c_str()), Field(a, ptr.c_str()), "us", true});
  }
}

std::string Value(const std::optional<double>& v, const std::string& unit) {
  if (!v) return "-";
  if (unit == "us") return FormatDurationUs(*v);
  char buf[48];
  if (unit == "%") {
    std::snprintf(buf, sizeof buf, "%.2f%%", 100 * *v);
  } else if (unit == "req/s") {
    return FormatCount(std::round(*v)) + " req/s";
  } else if (unit == "/s") {
    return FormatCount(std::round(*v)) + "/s";
  } else {
    std::snprintf(buf, sizeof buf, "%.3g %s", *v, unit.c_str());
  }
  return buf;
}

std::string ChangeText(const Delta& d) {
  auto c = d.change();
  if (!c) return "";
  char buf[48];
  std::snprintf(buf, sizeof buf, "%+.1f%%", 100 * *c);
  std::string out = buf;
  if (std::fabs(*c) >= 0.005) out += (*c < 0) == d.lower_is_better ? " better" : " worse";
  return out;
}

std::string Verdict(const std::optional<bool>& v) { return !v ? "-" : *v ? "pass" : "FAIL"; }

}  // namespace

std::optional<double> Delta::change() const {
  if (!before || !after || *before == 0) return std::nullopt;
  return (*after - *before) / std::fabs(*before);
}

bool Delta::regressed(double tolerance) const {
  auto c = change();
  return c && (lower_is_better ? *c > tolerance : *c < -tolerance);
}

Result<Comparison> Compare(const json& before, const json& after, std::string before_name, std::string after_name) {
  for (const auto& [doc, name] : {std::pair{&before, &before_name}, std::pair{&after, &after_name}}) {
    if (!doc->is_object() || !doc->contains("schema") || !(*doc)["schema"].is_string() ||
        (*doc)["schema"].get<std::string>().rfind("headroom.results/", 0) != 0 || !doc->contains("phases") ||
        !(*doc)["phases"].is_array()) {
      return Fail(*name + " is not a headroom results.json");
    }
  }
  Comparison c{std::move(before_name), std::move(after_name), {}, {}};
  c.deltas.push_back({"error rate (whole run)", Field(before, "/error_rate"), Field(after, "/error_rate"), "%", true});
  for (const json& pb : before["phases"]) {
    const std::string name = pb.value("name", "");
    const json* pa = PhaseNamed(after, name);
    if (pa == nullptr) continue;
    const bool stress = pb.contains("stress") && pb["stress"].is_object() && pa->contains("stress");
    if (stress) {
      c.deltas.push_back({"capacity, stress phase " + name, Field(pb, "/stress/capacity_rps"),
                          Field(*pa, "/stress/capacity_rps"), "req/s", false});
      // Latency at the rates both runs tried.
      for (const json& sb : pb["stress"]["curve"]) {
        if (sb.value("confirmation", false) || sb.value("interrupted", false)) continue;
        const double rate = sb.value("rate_rps", 0.0);
        for (const json& sa : (*pa)["stress"]["curve"]) {
          if (sa.value("confirmation", false) || sa.value("interrupted", false)) continue;
          if (std::fabs(sa.value("rate_rps", 0.0) - rate) > 0.005 * rate) continue;
          const std::string at = "at " + FormatCount(std::round(rate)) + "/s";
          for (const char* q : {"p50_us", "p95_us", "p99_us"}) {
            const std::string label = std::string(q).substr(0, 3) + " " + at;
            c.deltas.push_back({label, Field(sb, (std::string("/") + q).c_str()), Field(sa, (std::string("/") + q).c_str()),
                                "us", true});
          }
          c.deltas.push_back({"error rate " + at, Field(sb, "/error_rate"), Field(sa, "/error_rate"), "%", true});
          break;
        }
      }
    } else {
      AddLatency(c.deltas, "in phase " + name, pb, *pa);
      c.deltas.push_back({"throughput in phase " + name, Field(pb, "/throughput/achieved_rps"),
                          Field(*pa, "/throughput/achieved_rps"), "req/s", false});
      c.deltas.push_back({"error rate in phase " + name, Field(pb, "/error_rate"), Field(*pa, "/error_rate"), "%", true});
    }
    // The watched tiers both runs have, their headline figures, and CPU per request.
    for (const auto& [tier, kind] : TiersOf(pb)) {
      for (const Headline& h : kHeadlines) {
        if (kind != h.kind) continue;
        auto vb = TierMetric(pb, tier, kind, h.metric);
        auto va = TierMetric(*pa, tier, kind, h.metric);
        if (!vb && !va) continue;
        c.deltas.push_back({tier + " " + h.metric + " in phase " + name, vb, va, h.unit, h.lower_is_better});
      }
      if (kind == "process") {
        auto per_request = [&](const json& p) -> std::optional<double> {
          auto cores = TierMetric(p, tier, kind, "cpu_cores");
          auto rps = Field(p, "/throughput/achieved_rps");
          if (!cores || !rps || *rps <= 0) return std::nullopt;
          return *cores * 1e6 / *rps;
        };
        c.deltas.push_back({tier + " CPU per request in phase " + name, per_request(pb), per_request(*pa), "us", true});
      }
    }
    // Every SLO of the phase, in either run.
    std::map<std::string, SloChange> slos;
    std::vector<std::string> order;
    for (int side = 0; side < 2; ++side) {
      const json& p = side == 0 ? pb : *pa;
      if (!p.contains("slo") || !p["slo"].is_array()) continue;
      for (const json& s : p["slo"]) {
        const std::string expr = s.value("expr", "");
        if (!slos.count(expr)) {
          slos[expr] = SloChange{name, expr, std::nullopt, std::nullopt};
          order.push_back(expr);
        }
        (side == 0 ? slos[expr].before : slos[expr].after) = s.value("pass", false);
      }
    }
    for (const std::string& e : order) c.slos.push_back(slos[e]);
  }
  return c;
}

std::string CompareText(const Comparison& c) {
  std::string out = "compare: " + c.before_name + " -> " + c.after_name + "\n";
  char line[512];
  std::snprintf(line, sizeof line, "  %-44s %14s %14s  %s\n", "", "before", "after", "change");
  out += line;
  for (const Delta& d : c.deltas) {
    if (!d.before && !d.after) continue;
    std::snprintf(line, sizeof line, "  %-44s %14s %14s  %s\n", d.what.c_str(), Value(d.before, d.unit).c_str(),
                  Value(d.after, d.unit).c_str(), ChangeText(d).c_str());
    out += line;
  }
  if (!c.slos.empty()) out += "  SLOs:\n";
  for (const SloChange& s : c.slos) {
    std::snprintf(line, sizeof line, "    %-42s %14s %14s\n", (s.phase + ": " + s.expr).c_str(), Verdict(s.before).c_str(),
                  Verdict(s.after).c_str());
    out += line;
  }
  return out;
}

std::string CompareMarkdown(const Comparison& c) {
  std::string out = "### Before and after\n\n`" + c.before_name + "` → `" + c.after_name + "`\n\n";
  out += "| figure | before | after | change |\n|---|---:|---:|---:|\n";
  for (const Delta& d : c.deltas) {
    if (!d.before && !d.after) continue;
    out += "| " + d.what + " | " + Value(d.before, d.unit) + " | " + Value(d.after, d.unit) + " | " + ChangeText(d) + " |\n";
  }
  if (!c.slos.empty()) {
    out += "\n| phase | SLO | before | after |\n|---|---|---|---|\n";
    for (const SloChange& s : c.slos) {
      out += "| " + s.phase + " | `" + s.expr + "` | " + Verdict(s.before) + " | " + Verdict(s.after) + " |\n";
    }
  }
  return out;
}

nlohmann::ordered_json CompareJson(const Comparison& c) {
  using oj = nlohmann::ordered_json;
  auto opt = [](const std::optional<double>& v) { return v ? oj(*v) : oj(nullptr); };
  oj j;
  j["schema"] = "headroom.compare/1";
  j["before"] = c.before_name;
  j["after"] = c.after_name;
  oj deltas = oj::array();
  for (const Delta& d : c.deltas) {
    deltas.push_back({{"what", d.what},
                      {"before", opt(d.before)},
                      {"after", opt(d.after)},
                      {"unit", d.unit},
                      {"change", opt(d.change())},
                      {"lower_is_better", d.lower_is_better}});
  }
  j["figures"] = deltas;
  oj slos = oj::array();
  for (const SloChange& s : c.slos) {
    auto b = [](const std::optional<bool>& v) { return v ? oj(*v) : oj(nullptr); };
    slos.push_back({{"phase", s.phase}, {"expr", s.expr}, {"before", b(s.before)}, {"after", b(s.after)}});
  }
  j["slos"] = slos;
  return j;
}

}  // namespace headroom::explain
