#include "exec/fake_runner.h"

#include <charconv>

#include "core/units.h"

namespace headroom::exec {
namespace {

bool Stop(const engine::Config& c) {
  return (c.stop != nullptr && c.stop->load()) || (c.abort != nullptr && c.abort->load());
}

Result<int64_t> Count(std::string_view text, std::string_view item) {
  int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n < 0) {
    return Fail("scripted second: '" + std::string(item) + "': expected a count before '@' or after '='");
  }
  return n;
}

}  // namespace

Result<FakeSecond> ParseFakeSecond(std::string_view text) {
  FakeSecond s;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view item = text.substr(pos, end - pos);
    pos = end + 1;
    if (item.empty() || item == "-") continue;
    if (size_t at = item.find('@'); at != std::string_view::npos) {
      auto n = Count(item.substr(0, at), item);
      if (!n) return std::unexpected(n.error());
      auto latency = ParseDurationNs(item.substr(at + 1));
      if (!latency) return Fail("scripted second: '" + std::string(item) + "': " + latency.error().message);
      s.response_time_us.RecordN(*latency / 1000, *n);
      s.counters.ok += *n;
      s.counters.completed += *n;
      s.counters.intended += *n;
      s.counters.sent += *n;
      s.counters.status_codes[200] += *n;
      continue;
    }
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) return Fail("scripted second: '" + std::string(item) + "': expected N@LATENCY or CLASS=N");
    auto n = Count(item.substr(eq + 1), item);
    if (!n) return std::unexpected(n.error());
    int cls = -1;
    for (int i = 0; i < engine::kErrorClassCount; ++i) {
      if (item.substr(0, eq) == engine::ErrorClassName(engine::ErrorClass(i))) cls = i;
    }
    if (cls < 0) return Fail("scripted second: '" + std::string(item) + "': unknown error class");
    s.counters.by_class[cls] += *n;
    s.counters.errors += *n;
    s.counters.intended += *n;
    if (cls == int(engine::ErrorClass::kHttp4xx) || cls == int(engine::ErrorClass::kHttp5xx)) {
      s.counters.completed += *n;
      s.counters.status_codes[cls == int(engine::ErrorClass::kHttp4xx) ? 400 : 500] += *n;
    }
  }
  return s;
}

Result<engine::RunStats> FakeRunner::Run(const engine::Config& config, const engine::SecondCallback& on_second) {
  const int run_index = int(configs_.size());
  configs_.push_back(config);
  std::vector<FakeSecond> seconds = script_(config, run_index);
  engine::RunStats stats;
  stats.model = config.model;
  stats.threads = config.threads;
  stats.connections = config.connections;
  if (config.model == engine::Model::kOpen) {
    double total = 0, duration_s = 0;
    for (const engine::RateSegment& s : config.rate_profile) {
      total += (s.start_rps + s.end_rps) * 0.5 * double(s.duration_ns) / 1e9;
      duration_s += double(s.duration_ns) / 1e9;
    }
    stats.requested_rps = duration_s > 0 ? total / duration_s : 0;
  }
  for (size_t i = 0; i < seconds.size(); ++i) {
    if (Stop(config)) {
      stats.interrupted = true;
      break;
    }
    engine::SecondStats s;
    s.second = int64_t(i);
    s.counters = seconds[i].counters;
    s.response_time_us = seconds[i].response_time_us;
    on_second(s);
    stats.counters.Add(s.counters);
    stats.response_time_us.Add(s.response_time_us);
    stats.service_time_us.Add(s.response_time_us);
    stats.elapsed_s += 1;
  }
  return stats;
}

}  // namespace headroom::exec
