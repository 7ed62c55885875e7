// headroom merge's rules on shard results built here: exactness (histograms, counters, seconds),
// SLOs judged once on the merged figures, and every refusal.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "exec/exec.h"

namespace headroom::exec {
namespace {

constexpr int64_t kStartUs = 1'777'636'800'000'000;

// Latencies (us) of one shard's requests, one vector per second.
using Seconds = std::vector<std::vector<int64_t>>;

Seconds RandomSeconds(uint64_t seed, int seconds, int per_second) {
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> latency(6.0, 1.2);  // a long tail around ~400 us
  Seconds out(static_cast<size_t>(seconds), std::vector<int64_t>());
  for (auto& s : out) {
    for (int i = 0; i < per_second; ++i) s.push_back(1 + int64_t(latency(rng)));
  }
  return out;
}

report::Section SectionOf(const std::string& name, const Seconds& seconds, double duration_s) {
  report::Section s;
  s.name = name;
  for (const auto& second : seconds) {
    for (int64_t v : second) s.response_time_us.Record(v);
  }
  s.service_time_us = s.response_time_us;
  s.requests_ok = s.requests_total = s.response_time_us.Count();
  s.achieved_rps = double(s.requests_total) / duration_s;
  s.requested_rps = s.achieved_rps;
  s.status_codes[200] = s.requests_ok;
  return s;
}

// One shard of a one-phase baseline test judged on `slos` (its own verdicts are on its share).
ShardOutput MakeShard(int index, int count, const Seconds& seconds, const std::vector<std::string>& slos,
                      const std::string& hash = "0123456789abcdef", int64_t started_late_us = 0) {
  ShardOutput out;
  out.dir = "shard-" + std::to_string(index);
  report::Results& r = out.results;
  r.shard = report::ShardInfo{index, count, kStartUs, kStartUs + 20'000 + started_late_us, hash};
  r.scenario = "checkout";
  r.model = report::LoadModel::kOpen;
  r.threads = 1;
  r.duration_s = double(seconds.size());
  report::PhaseResult phase;
  phase.name = "steady";
  phase.kind = "baseline";
  phase.duration_s = double(seconds.size());
  phase.section = SectionOf("steady", seconds, phase.duration_s);
  phase.requests = {SectionOf("home", seconds, phase.duration_s)};
  for (const std::string& e : slos) phase.section.slo.push_back({e, 0, "", true});
  for (size_t k = 0; k < seconds.size(); ++k) {
    Histogram h;
    for (int64_t v : seconds[k]) h.Record(v);
    report::SecondRow row;
    row.second = int64_t(k);
    row.completed = row.ok = row.intended = h.Count();
    phase.series.push_back(row);
    r.series.push_back(row);
    report::HlogInterval iv;
    iv.start_s = double(k) + 0.02;  // the engine's start lead after the phase's slot
    iv.length_s = 1;
    iv.histogram = h;
    out.seconds.push_back(std::move(iv));
  }
  r.overall = phase.section;
  r.overall.name.clear();
  r.requests = phase.requests;
  r.phases = {phase};
  return out;
}

TEST(Merge, HistogramOfSplitSamplesIsBitIdenticalToTheUnions) {
  const Seconds all = RandomSeconds(7, 1, 30'000);
  Histogram whole;
  for (int64_t v : all[0]) whole.Record(v);
  // Split every third sample to a shard (any split will do: addition is bucket by bucket).
  std::vector<report::Section> parts(3);
  for (size_t i = 0; i < all[0].size(); ++i) parts[i % 3].response_time_us.Record(all[0][i]);
  std::vector<const report::Section*> ptrs;
  for (report::Section& p : parts) {
    p.requests_total = p.requests_ok = p.response_time_us.Count();
    ptrs.push_back(&p);
  }
  const report::Section merged = MergeSections(ptrs);
  EXPECT_EQ(merged.response_time_us.EncodeCompressedBase64(), whole.EncodeCompressedBase64());
  EXPECT_EQ(merged.requests_total, 30'000);
  for (double q : {50.0, 90.0, 99.0, 99.9, 100.0}) {
    EXPECT_EQ(merged.response_time_us.ValueAtPercentile(q), whole.ValueAtPercentile(q)) << q;
  }
}

TEST(Merge, SumsCountersAlignsSecondsAndJudgesTheSlosOnce) {
  // Each shard does 100/s; the test's objective of 150/s holds only for the merged test.
  std::vector<ShardOutput> shards;
  Histogram whole;
  std::vector<int64_t> per_second(4, 0);
  for (int i = 0; i < 3; ++i) {
    const Seconds s = RandomSeconds(100 + uint64_t(i), 4, 100);
    for (size_t k = 0; k < s.size(); ++k) {
      for (int64_t v : s[k]) whole.Record(v);
      per_second[k] += int64_t(s[k].size());
    }
    shards.push_back(MakeShard(i, 3, s, {"rps >= 150", "p99 < 1h"}));
    shards.back().results.phases[0].section.slo[0].pass = false;  // each shard alone misses it
  }
  std::swap(shards[0], shards[2]);  // any order
  auto merged = MergeShards(shards, {});
  ASSERT_TRUE(merged.has_value()) << merged.error().message;
  const report::Results& r = merged->results;
  EXPECT_EQ(r.overall.requests_total, 1200);
  EXPECT_EQ(r.overall.response_time_us.EncodeCompressedBase64(), whole.EncodeCompressedBase64());
  EXPECT_EQ(r.overall.status_codes.at(200), 1200);
  EXPECT_DOUBLE_EQ(r.phases[0].section.achieved_rps, 300);
  ASSERT_EQ(r.phases[0].section.slo.size(), 2u);
  EXPECT_TRUE(r.phases[0].section.slo[0].pass) << r.phases[0].section.slo[0].observed_text;
  EXPECT_DOUBLE_EQ(r.phases[0].section.slo[0].observed, 300);
  EXPECT_EQ(r.verdict, report::Verdict::kPass);
  ASSERT_EQ(r.series.size(), 4u);
  ASSERT_EQ(merged->seconds.size(), 4u);
  Histogram again;
  for (size_t k = 0; k < 4; ++k) {
    EXPECT_EQ(r.series[k].completed, per_second[k]);
    EXPECT_EQ(merged->seconds[k].Count(), per_second[k]);
    EXPECT_EQ(r.series[k].p99_us, merged->seconds[k].ValueAtPercentile(99));
    again.Add(merged->seconds[k]);
  }
  EXPECT_EQ(again.EncodeCompressedBase64(), whole.EncodeCompressedBase64());
  ASSERT_TRUE(r.merged.has_value());
  EXPECT_EQ(r.merged->shards, 3);
  ASSERT_EQ(r.requests.size(), 1u);
  EXPECT_EQ(r.requests[0].requests_total, 1200);
}

// transport survives the trip through each shard's results.json, and merges: counts add up, the
// peak is the highest, the handshake histograms merge.
TEST(Merge, CarriesTheShardsTransport) {
  std::vector<ShardOutput> shards;
  Histogram handshakes;
  for (int i = 0; i < 2; ++i) {
    ShardOutput s = MakeShard(i, 2, RandomSeconds(40 + uint64_t(i), 2, 50), {});
    report::Transport& t = s.results.transport;
    t.scheme = "https";
    t.protocol = "h2";
    t.tls = true;
    t.tls_version = "TLSv1.3";
    t.tls_cipher = "TLS_AES_256_GCM_SHA384";
    t.tls_handshakes_new = 4;
    t.tls_handshakes_resumed = 10 * (i + 1);
    for (int k = 0; k < 4; ++k) {
      t.tls_handshake_time_us.Record(1000 + 100 * k + i);
      handshakes.Record(1000 + 100 * k + i);
    }
    t.h2 = true;
    t.h2_max_streams = 32;
    t.h2_peak_streams = 20 + i * 7;
    t.h2_goaways = 1;
    t.h2_resets = 2 + i;
    t.h2_retried = 3;
    if (i == 1) t.first_h2_error = "h2_protocol: flood";
    auto back = report::ResultsFromJson(nlohmann::json::parse(report::ToJson(s.results).dump()), "shard");
    ASSERT_TRUE(back.has_value()) << back.error().message;
    s.results = std::move(*back);
    shards.push_back(std::move(s));
  }
  auto merged = MergeShards(shards, {});
  ASSERT_TRUE(merged.has_value()) << merged.error().message;
  const report::Transport& t = merged->results.transport;
  EXPECT_EQ(t.scheme, "https");
  EXPECT_EQ(t.protocol, "h2");
  EXPECT_TRUE(t.tls);
  EXPECT_TRUE(t.tls_verify);
  EXPECT_EQ(t.tls_version, "TLSv1.3");
  EXPECT_EQ(t.tls_handshakes_new, 8);
  EXPECT_EQ(t.tls_handshakes_resumed, 30);
  EXPECT_EQ(t.tls_handshake_time_us.EncodeCompressedBase64(), handshakes.EncodeCompressedBase64());
  EXPECT_TRUE(t.h2);
  EXPECT_EQ(t.h2_max_streams, 32);
  EXPECT_EQ(t.h2_peak_streams, 27);
  EXPECT_EQ(t.h2_goaways, 2);
  EXPECT_EQ(t.h2_resets, 5);
  EXPECT_EQ(t.h2_retried, 6);
  EXPECT_EQ(t.first_h2_error, "h2_protocol: flood");
  // Shards that spoke different protocols say so.
  shards[1].results.transport.protocol = "http/1.1";
  shards[1].results.transport.h2 = false;
  auto mixed = MergeShards(shards, {});
  ASSERT_TRUE(mixed.has_value());
  const std::vector<std::string>& notes = mixed->results.notices;
  EXPECT_TRUE(std::any_of(notes.begin(), notes.end(), [](const std::string& n) {
    return n.find("shard 1 spoke https http/1.1") != std::string::npos;
  })) << ::testing::PrintToString(notes);
}

TEST(Merge, AFailingObjectiveFailsTheMergedTest) {
  std::vector<ShardOutput> shards;
  for (int i = 0; i < 2; ++i) shards.push_back(MakeShard(i, 2, RandomSeconds(uint64_t(i), 2, 50), {"p50 < 1us"}));
  auto merged = MergeShards(shards, {});
  ASSERT_TRUE(merged.has_value()) << merged.error().message;
  EXPECT_FALSE(merged->results.phases[0].section.slo[0].pass);
  EXPECT_EQ(merged->results.phases[0].status, report::PhaseStatus::kFailed);
  EXPECT_EQ(merged->results.verdict, report::Verdict::kFail);
}

void ExpectRefused(const std::vector<ShardOutput>& shards, const std::string& text, const MergeOptions& o = {}) {
  auto merged = MergeShards(shards, o);
  ASSERT_FALSE(merged.has_value()) << "expected a refusal containing: " << text;
  EXPECT_NE(merged.error().message.find(text), std::string::npos) << merged.error().message;
  EXPECT_EQ(merged.error().message.find('\n'), std::string::npos);
}

TEST(Merge, RefusesWhatIsNotOneWholeTest) {
  const Seconds s = RandomSeconds(1, 2, 10);
  ExpectRefused({MakeShard(0, 3, s, {}), MakeShard(2, 3, s, {})}, "shard 1 of 3 missing");
  ExpectRefused({MakeShard(0, 4, s, {})}, "shards 1, 2, 3 of 4 missing");
  ExpectRefused({MakeShard(0, 2, s, {}), MakeShard(1, 2, s, {}), MakeShard(1, 2, s, {})}, "are the same shard");
  ExpectRefused({MakeShard(0, 2, s, {}), MakeShard(1, 2, s, {}, "fedcba9876543210")}, "ran different scenarios");
  ExpectRefused({MakeShard(0, 2, s, {}), MakeShard(1, 3, s, {})}, "different counts");
  ExpectRefused({MakeShard(0, 2, s, {}), MakeShard(1, 2, s, {}, "0123456789abcdef", 3'000'000)},
                "started 3.000 s apart");
  MergeOptions lenient;
  lenient.max_start_spread_s = 5;
  EXPECT_TRUE(MergeShards({MakeShard(0, 2, s, {}), MakeShard(1, 2, s, {}, "0123456789abcdef", 3'000'000)}, lenient)
                  .has_value());
  ShardOutput unfinished = MakeShard(1, 2, s, {});
  unfinished.results.complete = false;
  ExpectRefused({MakeShard(0, 2, s, {}), unfinished}, "shard 1/2 (shard-1) did not finish");
  ShardOutput stopped = MakeShard(1, 2, s, {});
  stopped.results.interrupted = true;
  ExpectRefused({MakeShard(0, 2, s, {}), stopped}, "shard 1/2 (shard-1) was interrupted");
  ShardOutput plain = MakeShard(1, 2, s, {});
  plain.results.shard.reset();
  ExpectRefused({MakeShard(0, 2, s, {}), plain}, "not a shard's results");
  ExpectRefused({}, "no shard results");
}

}  // namespace
}  // namespace headroom::exec
