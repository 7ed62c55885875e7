// The JSON-lines sink: one object per sample, flushed at once so a killed run keeps its samples.
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "collect/internal.h"

namespace headroom::collect {
namespace {

nlohmann::json ToJson(const SampleRecord& r) {
  nlohmann::json j;
  j["t"] = std::round(r.t_s * 1e6) / 1e6;
  j["tier"] = r.tier;
  j["source"] = r.source;
  if (r.reading == nullptr) {
    j["error"] = r.error;
    return j;
  }
  nlohmann::json metrics = nlohmann::json::object();
  for (const Metric& m : r.reading->metrics) metrics[m.name] = std::isfinite(m.value) ? nlohmann::json(m.value) : nlohmann::json();
  j["metrics"] = std::move(metrics);
  if (!r.reading->activity.empty()) {
    nlohmann::json activity = nlohmann::json::array();
    for (const Activity& a : r.reading->activity) {
      nlohmann::json item{{"group", a.group}, {"key", a.key}};
      for (const Count& c : a.counts) item[c.name] = c.value;
      activity.push_back(std::move(item));
    }
    j["activity"] = std::move(activity);
  }
  if (!r.reading->attributes.empty()) {
    nlohmann::json attributes = nlohmann::json::object();
    for (const auto& [k, v] : r.reading->attributes) attributes[k] = v;
    j["attributes"] = std::move(attributes);
  }
  return j;
}

}  // namespace

Result<Sink> JsonLinesSink(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return Fail("cannot write " + path + ": " + std::strerror(errno));
  std::shared_ptr<std::FILE> file(f, [](std::FILE* p) { std::fclose(p); });
  return Sink([file](const SampleRecord& r) {
    const std::string line = ToJson(r).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    std::fwrite(line.data(), 1, line.size(), file.get());
    std::fflush(file.get());
  });
}

}  // namespace headroom::collect
