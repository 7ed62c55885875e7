// The Watcher with sources written for the test: values that depend on the sample time, so that
// windows have exact expected aggregates whatever the scheduling; failures reported once; the
// sink; one sampling thread.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "collect/collect.h"
#include "core/clock.h"

namespace headroom::collect {
namespace {

// Reports gauge "phase" = 1 before `boundary_s` and 2 after, rate "ops_per_s" = 10, and one
// activity per read; remembers which threads read it.
class PhasedSource final : public Source {
 public:
  PhasedSource(int64_t origin_ns, double boundary_s) : origin_ns_(origin_ns), boundary_s_(boundary_s) {}
  SourceKind kind() const override { return SourceKind::kFake; }
  const std::string& label() const override { return label_; }
  Result<Reading> Read(int64_t now_ns) override {
    {
      std::lock_guard lock(mu);
      threads.insert(std::this_thread::get_id());
    }
    reads.fetch_add(1);
    last_t_s = static_cast<double>(now_ns - origin_ns_) / 1e9;
    const double phase = last_t_s.load() < boundary_s_ ? 1 : 2;
    Reading r;
    r.metrics = {{"phase", phase}, {"ops_per_s", 10, MetricType::kRate}};
    r.activity = {{"commands", phase == 1 ? "get" : "set", {{"time_ms", 1}, {"calls", 2}}}};
    r.attributes = {{"policy", "allkeys-lru"}};
    return r;
  }
  std::atomic<int> reads{0};
  std::atomic<double> last_t_s{0};
  std::mutex mu;
  std::set<std::thread::id> threads;

 private:
  std::string label_ = "fake:phased";
  int64_t origin_ns_;
  double boundary_s_;
};

TierSpec FakeTier(std::string name, int n_sources = 1) {
  TierSpec t{std::move(name), "cache", {}, 20'000'000};
  for (int i = 0; i < n_sources; ++i) t.sources.push_back(WatchSpec{SourceKind::kFake, "", "fake:" + std::to_string(i), {}});
  return t;
}

// Polls until `done` holds (10 s at most): the watcher runs on its own clock.
template <class F>
bool Eventually(F done) {
  const int64_t deadline = MonoNowNs() + 10'000'000'000;
  while (!done()) {
    if (MonoNowNs() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

TEST(Watcher, WindowsBetweenMarksAggregateExactly) {
  const int64_t origin = MonoNowNs();
  PhasedSource* source = nullptr;
  std::mutex records_mu;
  int sink_calls = 0;
  std::vector<double> times;
  WatcherOptions options;
  options.origin_ns = origin;
  options.sink = [&](const SampleRecord& r) {
    std::lock_guard lock(records_mu);
    ++sink_calls;
    times.push_back(r.t_s);
    EXPECT_EQ(r.tier, "cache");
    EXPECT_NE(r.reading, nullptr);
  };
  options.make_source = [&](const TierSpec&, const WatchSpec&) {
    auto s = std::make_unique<PhasedSource>(origin, 0.2);
    source = s.get();
    return s;
  };
  auto watcher = Watcher::Start({FakeTier("cache")}, std::move(options));
  ASSERT_TRUE(watcher.has_value());
  (*watcher)->Mark(0.2);  // ahead of time: samples before it still land in the first window
  ASSERT_TRUE(Eventually([&] { return source->last_t_s.load() > 0.4; }));
  (*watcher)->Stop();
  EXPECT_EQ(source->threads.size(), 1u);
  EXPECT_EQ(source->threads.count(std::this_thread::get_id()), 0u) << "sampling must not run on the caller's thread";
  EXPECT_EQ(sink_calls, source->reads.load());

  const Summary first = (*watcher)->Summarize(0, 0.2);
  const SourceSummary* s1 = first.Find("cache", SourceKind::kFake);
  ASSERT_NE(s1, nullptr);
  EXPECT_EQ(first.to_s, 0.2);
  ASSERT_GT(s1->samples, 0);
  EXPECT_EQ(s1->metrics.at("phase").mean, 1);
  EXPECT_EQ(s1->metrics.at("phase").max, 1);
  ASSERT_EQ(s1->top.size(), 1u);
  EXPECT_EQ(s1->top[0].key, "get");
  EXPECT_EQ(s1->top[0].counts[1].value, 2.0 * static_cast<double>(s1->samples));
  EXPECT_EQ(s1->attributes.at("policy"), "allkeys-lru");

  const Summary second = (*watcher)->Summarize(0.2, 1e9);
  const SourceSummary* s2 = second.Find("cache", SourceKind::kFake);
  ASSERT_GT(s2->samples, 0);
  EXPECT_EQ(s2->metrics.at("phase").mean, 2);
  EXPECT_EQ(s2->top[0].key, "set");
  // A constant 10/s adds up to 10 x the time from the last sample before the window to the
  // last one in it (a sample's rate covers the interval that ends with it).
  double before = 0, last = 0;
  for (double t : times) (t < 0.2 ? before : last) = t;
  EXPECT_NEAR(s2->metrics.at("ops_per_s").total, 10 * (last - before), 1e-9);

  const Summary all = (*watcher)->Summarize(0, 1e9);
  const SourceSummary* s = all.Find("cache", SourceKind::kFake);
  EXPECT_EQ(s->samples, s1->samples + s2->samples);
  EXPECT_EQ(s->metrics.at("phase").max, 2);
  EXPECT_EQ(s->metrics.at("phase").last, 2);
  EXPECT_EQ(s->top.size(), 2u);
  EXPECT_EQ(all.Find("nope", SourceKind::kFake), nullptr);
}

TEST(Watcher, AFailingSourceIsReportedOnceAndTheOthersGoOn) {
  std::vector<std::string> messages;
  std::mutex mu;
  Reading ok;
  ok.metrics = {{"x", 1}};
  std::atomic<FakeSource*> flaky{nullptr}, steady{nullptr};
  WatcherOptions options;
  options.on_message = [&](const std::string& m) {
    std::lock_guard lock(mu);
    messages.push_back(m);
  };
  options.make_source = [&](const TierSpec&, const WatchSpec& spec) -> std::unique_ptr<Source> {
    if (spec.label == "fake:0") {
      auto s = std::make_unique<FakeSource>("fake:flaky", std::vector<Result<Reading>>{ok, Fail("connection refused"),
                                                                                       Fail("connection refused"), ok});
      flaky = s.get();
      return s;
    }
    auto s = std::make_unique<FakeSource>("fake:steady", std::vector<Result<Reading>>{ok});
    steady = s.get();
    return s;
  };
  auto watcher = Watcher::Start({FakeTier("db", 2)}, std::move(options));
  ASSERT_TRUE(watcher.has_value());
  ASSERT_TRUE(Eventually([&] { return flaky.load()->reads() >= 6; }));
  (*watcher)->Stop();
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0], "tier db: fake:flaky: connection refused; the run goes on without it");
  EXPECT_EQ(messages[1], "tier db: fake:flaky: answering again after 2 failed sample(s)");
  const Summary summary = (*watcher)->Summarize(-1, 1e9);
  const auto& sources = summary.tiers.at(0).sources;
  EXPECT_EQ(sources[0].failures, 2);
  EXPECT_EQ(sources[0].error, "connection refused");
  EXPECT_EQ(sources[0].samples, flaky.load()->reads() - 2);
  EXPECT_EQ(sources[1].failures, 0);
  EXPECT_EQ(sources[1].samples, steady.load()->reads());
}

TEST(Watcher, PasswordsNeverReachMessages) {
  std::vector<std::string> messages;
  WatcherOptions options;
  options.on_message = [&](const std::string& m) { messages.push_back(m); };
  options.source_options.timeout_ns = 1'000'000'000;
  // Port 1 on loopback: nothing listens there.
  auto tier = ParseTierSpec("db", "database", {"postgres:host=127.0.0.1 port=1 user=app password=hunter2 dbname=x"});
  ASSERT_TRUE(tier.has_value());
  auto watcher = Watcher::Start({*tier}, std::move(options));
  ASSERT_TRUE(watcher.has_value());
  (*watcher)->Stop();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_NE(messages[0].find("tier db: postgres:host=127.0.0.1 port=1 user=app password=*** dbname=x: cannot connect"),
            std::string::npos)
      << messages[0];
  EXPECT_EQ(messages[0].find("hunter2"), std::string::npos);
  EXPECT_EQ((*watcher)->Summarize(-1, 1e9).tiers[0].sources[0].label.find("hunter2"), std::string::npos);
}

TEST(JsonLinesSink, OneObjectPerSample) {
  const std::string path = std::filesystem::temp_directory_path() / ("headroom-sink-" + std::to_string(::getpid()));
  {
    auto sink = JsonLinesSink(path);
    ASSERT_TRUE(sink.has_value());
    Reading r;
    r.metrics = {{"hit_ratio", 0.9}, {"ops_per_s", 12, MetricType::kRate}};
    r.activity = {{"commands", "get", {{"time_ms", 1.5}, {"calls", 3}}}};
    (*sink)(SampleRecord{"cache", "redis:127.0.0.1:6379", 1.25, &r, ""});
    (*sink)(SampleRecord{"cache", "redis:127.0.0.1:6379", 2.5, nullptr, "connection refused"});
  }
  std::ifstream in(path);
  std::string line;
  std::vector<nlohmann::json> lines;
  while (std::getline(in, line)) lines.push_back(nlohmann::json::parse(line));
  std::filesystem::remove(path);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["t"], 1.25);
  EXPECT_EQ(lines[0]["tier"], "cache");
  EXPECT_EQ(lines[0]["metrics"]["hit_ratio"], 0.9);
  EXPECT_EQ(lines[0]["activity"][0]["key"], "get");
  EXPECT_EQ(lines[0]["activity"][0]["calls"], 3);
  EXPECT_EQ(lines[1]["error"], "connection refused");
  EXPECT_FALSE(lines[1].contains("metrics"));
  EXPECT_EQ(JsonLinesSink("/nonexistent-dir/x.jsonl").error().message,
            "cannot write /nonexistent-dir/x.jsonl: No such file or directory");
}

}  // namespace
}  // namespace headroom::collect
