// Defensive results.json reading: the file is produced by another stage and versioned, so a field
// of the wrong type or a missing field is treated as absent rather than as an error; only a file
// with none of the figures we use is rejected.
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "model/model.h"

namespace headroom::model {
namespace {

using nlohmann::json;

std::optional<double> NumberAt(const json& obj, std::initializer_list<const char*> keys) {
  const json* cur = &obj;
  for (const char* key : keys) {
    if (!cur->is_object()) return std::nullopt;
    auto it = cur->find(key);
    if (it == cur->end()) return std::nullopt;
    cur = &*it;
  }
  if (!cur->is_number()) return std::nullopt;
  return cur->get<double>();
}

bool BoolAt(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_boolean() && it->get<bool>();
}

// `interrupted` counts the points left out because a signal or an abort cut their step short: their
// figures cover part of a step and say nothing about the rate.
std::vector<CurvePoint> ReadCurve(const json& stress, int* interrupted) {
  std::vector<CurvePoint> curve;
  auto it = stress.find("curve");
  if (it == stress.end() || !it->is_array()) return curve;
  for (const json& item : *it) {
    if (!item.is_object()) continue;
    // A stress `confirm` step repeats an earlier rate; keep one point per rate.
    if (BoolAt(item, "confirmation")) continue;
    if (BoolAt(item, "interrupted")) {
      ++*interrupted;
      continue;
    }
    auto rate = NumberAt(item, {"rate_rps"});
    auto achieved = NumberAt(item, {"achieved_rps"});
    if (!rate || !achieved) continue;
    CurvePoint p;
    p.rate_rps = *rate;
    p.achieved_rps = *achieved;
    p.p95_us = NumberAt(item, {"p95_us"}).value_or(0);
    p.error_rate = NumberAt(item, {"error_rate"}).value_or(0);
    curve.push_back(p);
  }
  return curve;
}

}  // namespace

Result<ResultsSummary> ParseResultsSummary(std::string_view json_text, const std::string& source) {
  json doc = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object())
    return Fail(source + ": not a JSON object (expected a headroom results.json)");
  auto schema = doc.find("schema");
  if (schema != doc.end() &&
      (!schema->is_string() || schema->get<std::string>().rfind("headroom.results/", 0) != 0)) {
    return Fail(source + ": schema is not headroom.results/N (is this a headroom results.json?)");
  }
  ResultsSummary out;
  out.source = source;
  auto phases = doc.find("phases");
  if (phases != doc.end() && phases->is_array()) {
    for (size_t i = 0; i < phases->size(); ++i) {
      const json& phase = (*phases)[i];
      if (!phase.is_object()) continue;
      auto stress = phase.find("stress");
      if (stress == phase.end() || !stress->is_object()) continue;
      auto cap = NumberAt(*stress, {"capacity_rps"});
      int interrupted = 0;
      auto curve = ReadCurve(*stress, &interrupted);
      out.interrupted_points += interrupted;
      bool better = cap && (!out.capacity_rps || *cap > *out.capacity_rps);
      if (better) {
        out.capacity_rps = cap;
        out.capacity_field = "phases[" + std::to_string(i) + "].stress.capacity_rps";
      }
      if (better || (out.curve.empty() && !curve.empty())) {
        if (!curve.empty()) out.curve = std::move(curve);
      }
    }
  }
  out.achieved_rps = NumberAt(doc, {"throughput", "achieved_rps"});
  out.p95_us = NumberAt(doc, {"latency", "response_time_us", "p95"});
  if (!out.capacity_rps && out.achieved_rps) out.capacity_field = "throughput.achieved_rps";
  if (!out.capacity_rps && !out.achieved_rps && out.curve.empty()) {
    return Fail(source +
                ": no capacity figures (need phases[].stress.capacity_rps, phases[].stress.curve "
                "or throughput.achieved_rps)");
  }
  const bool run_interrupted = BoolAt(doc, "interrupted");
  auto complete = doc.find("complete");
  const bool checkpoint = complete != doc.end() && complete->is_boolean() && !complete->get<bool>();
  if (run_interrupted || checkpoint || out.interrupted_points > 0) {
    out.warning = source + ": " +
                  (checkpoint ? std::string("a checkpoint of a run still going or killed (complete: false)")
                              : run_interrupted ? std::string("the run was interrupted (interrupted: true)")
                                                : std::string("a stress step was cut short"));
    out.warning += "; its figures may stop short of the real capacity";
    if (out.interrupted_points > 0) {
      out.warning += "; " + std::to_string(out.interrupted_points) + " interrupted curve point" +
                     (out.interrupted_points == 1 ? "" : "s") + " left out";
    }
  }
  return out;
}

Result<ResultsSummary> ReadResultsSummary(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(path + ": cannot open results file (check the path)");
  std::ostringstream text;
  text << in.rdbuf();
  return ParseResultsSummary(text.str(), path);
}

std::vector<UslPoint> CurveToUslPoints(const std::vector<CurvePoint>& curve) {
  std::vector<UslPoint> points;
  for (const CurvePoint& p : curve) {
    if (p.rate_rps > 0 && p.achieved_rps >= 0) points.push_back({p.rate_rps, p.achieved_rps});
  }
  return points;
}

}  // namespace headroom::model
