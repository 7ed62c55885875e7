// Stress phases across shards: after each step every shard writes its figures to a folder they all
// share (SYNC/<scenario hash>-<start>/phase-P/step-K/shard-I.json, written atomically) and waits
// for the others'. Each shard then merges the same N files the same way, so all of them reach the
// same verdict, and the breakpoint searches stay in step without any coordinating service.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/clock.h"
#include "exec/executor.h"

namespace headroom::exec {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// SectionJson builds an ordered_json; the exchange files are plain json.
json Plain(const nlohmann::ordered_json& j) { return json::parse(j.dump()); }

constexpr int64_t kPollUs = 20'000;

Result<json> ReadJson(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail("cannot read " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  json j = json::parse(text.str(), nullptr, false);
  if (j.is_discarded()) return Fail(path.string() + ": not valid JSON");
  return j;
}

}  // namespace

Result<StepExchange> Executor::ExchangeStep(size_t phase_index, int step, const report::Section& mine,
                                            const std::vector<report::Section>& mine_by_name, bool interrupted) {
  const ShardPlan& shard = *plan_.shard;
  const fs::path dir = fs::path(shard.sync_dir) /
                       (shard.scenario_hash.substr(0, 16) + "-" + std::to_string(shard.start_at_us)) /
                       ("phase-" + std::to_string(phase_index + 1)) / ("step-" + std::to_string(step + 1));
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Fail("--sync-dir: cannot create " + dir.string() + ": " + ec.message());
  json out = {{"index", shard.spec.index},
              {"interrupted", interrupted},
              {"end_us", WallNowUs()},
              {"section", Plain(report::SectionJson(mine))}};
  json requests = json::array();
  for (const report::Section& s : mine_by_name) requests.push_back(Plain(report::SectionJson(s)));
  out["requests"] = requests;
  const fs::path own = dir / ("shard-" + std::to_string(shard.spec.index) + ".json");
  if (auto s = report::WriteFileAtomic(own.string(), out.dump()); !s) return std::unexpected(s.error());
  if (interrupted || Interrupted()) {
    // Stopped: the others see this file's mark and stop their searches too.
    StepExchange ex;
    ex.section = mine;
    ex.requests = mine_by_name;
    ex.interrupted = true;
    ex.last_end_us = WallNowUs();
    return ex;
  }

  const int64_t deadline_us = WallNowUs() + shard.sync_timeout_ns / 1000;
  std::vector<json> all(size_t(shard.spec.count));
  std::vector<bool> have(all.size(), false);
  size_t got = 0;
  while (got < all.size()) {
    for (size_t i = 0; i < all.size(); ++i) {
      if (have[i]) continue;
      const fs::path path = dir / ("shard-" + std::to_string(i) + ".json");
      if (!fs::exists(path, ec)) continue;
      auto j = ReadJson(path);
      if (!j) return std::unexpected(j.error());
      all[i] = std::move(*j);
      have[i] = true;
      ++got;
    }
    if (got == all.size()) break;
    if (Interrupted()) return Fail("interrupted while waiting for the other shards");
    if (WallNowUs() > deadline_us) {
      std::string missing;
      for (size_t i = 0; i < all.size(); ++i) {
        if (!have[i]) missing += (missing.empty() ? "" : ", ") + std::to_string(i);
      }
      return Fail("stress step " + std::to_string(step + 1) + ": shard(s) " + missing + " of " +
                  std::to_string(all.size()) + " did not report to " + dir.string() + " within " +
                  std::to_string(shard.sync_timeout_ns / 1'000'000'000) + " s (is --sync-dir shared by every shard?)");
    }
    std::this_thread::sleep_for(std::chrono::microseconds(kPollUs));
  }

  StepExchange ex;
  std::vector<report::Section> sections;
  std::vector<std::vector<report::Section>> by_name(all.size());
  sections.reserve(all.size());
  for (size_t i = 0; i < all.size(); ++i) {
    const std::string source = (dir / ("shard-" + std::to_string(i) + ".json")).string();
    auto s = report::SectionFromJson(all[i].value("section", json::object()), source);
    if (!s) return std::unexpected(s.error());
    sections.push_back(std::move(*s));
    for (const json& r : all[i].value("requests", json::array())) {
      auto rs = report::SectionFromJson(r, source);
      if (!rs) return std::unexpected(rs.error());
      by_name[i].push_back(std::move(*rs));
    }
    ex.interrupted = ex.interrupted || all[i].value("interrupted", false);
    ex.last_end_us = std::max<int64_t>(ex.last_end_us, all[i].value("end_us", int64_t(0)));
  }
  std::vector<const report::Section*> parts;
  for (const report::Section& s : sections) parts.push_back(&s);
  ex.section = MergeSections(parts);
  // Per request name, in the order of the first shard's list (every shard has the same requests).
  for (size_t k = 0; k < by_name[0].size(); ++k) {
    std::vector<const report::Section*> same;
    for (const auto& list : by_name) {
      if (k < list.size()) same.push_back(&list[k]);
    }
    ex.requests.push_back(MergeSections(same));
  }
  return ex;
}

}  // namespace headroom::exec
