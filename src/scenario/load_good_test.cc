// Valid scenario files -> model fields (units resolved, defaults applied, multiples resolved).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "scenario/scenario.h"

namespace headroom::scenario {
namespace {

namespace fs = std::filesystem;

const fs::path kGoodDir = fs::path(HEADROOM_SOURCE_DIR) / "src/scenario/testdata/good";
constexpr int64_t kSec = 1'000'000'000;

Scenario MustLoad(const std::string& name) {
  auto s = LoadScenario((kGoodDir / name).string());
  EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().message);
  return s ? *s : Scenario{};
}

TEST(LoadGood, TopLevelFields) {
  Scenario s = MustLoad("full.yaml");
  EXPECT_EQ(s.name, "checkout-gate");
  EXPECT_EQ(s.description, "the checkout flow under growth");
  EXPECT_EQ(s.target, "http://127.0.0.1:8080/api");  // ${VAR:-default} with VAR unset
  ASSERT_TRUE(s.seed.has_value());
  EXPECT_EQ(*s.seed, 42u);
  EXPECT_EQ(s.defaults.timeout_ns, 5 * kSec);
  EXPECT_EQ(s.defaults.connections, 200);
  EXPECT_EQ(s.defaults.arrival, Arrival::kPoisson);
  EXPECT_TRUE(s.abort_on_fail.enabled);
  EXPECT_EQ(s.abort_on_fail.grace_ns, 30 * kSec);
}

TEST(LoadGood, DataSources) {
  Scenario s = MustLoad("full.yaml");
  ASSERT_EQ(s.data.size(), 2u);
  EXPECT_EQ(s.data[0].name, "users");
  EXPECT_EQ(s.data[0].order, DataOrder::kRandom);
  ASSERT_NE(s.data[0].table, nullptr);
  EXPECT_EQ(s.data[0].table->columns, (std::vector<std::string>{"id", "name", "email"}));
  EXPECT_EQ(s.data[0].table->rows(), 4u);
  EXPECT_EQ(s.data[0].table->Cell(1, 1), "bob, jr");  // quoted field keeps its comma
  EXPECT_EQ(s.data[1].name, "skus");
  EXPECT_EQ(s.data[1].order, DataOrder::kSequential);
  EXPECT_EQ(s.data[1].table->rows(), 3u);
}

TEST(LoadGood, Requests) {
  Scenario s = MustLoad("full.yaml");
  ASSERT_EQ(s.requests.size(), 3u);
  const RequestSpec& home = s.requests[0];
  EXPECT_EQ(home.name, "home");
  EXPECT_EQ(home.weight, 70);
  EXPECT_EQ(home.method, "GET");
  EXPECT_EQ(home.path, "/");
  EXPECT_EQ(home.timeout_ns, 5 * kSec);
  EXPECT_FALSE(home.body.has_value());
  ASSERT_EQ(home.headers.size(), 2u);
  EXPECT_EQ(home.headers[0].name, "Accept");
  EXPECT_EQ(home.headers[0].value, "application/json");
  EXPECT_EQ(home.pos.line, 15);

  const RequestSpec& item = s.requests[1];
  EXPECT_EQ(item.path, "/items/{{ randint(1, 10000) }}");
  ASSERT_EQ(item.headers.size(), 2u);  // its own "accept" replaces the default, in place
  EXPECT_EQ(item.headers[0].name, "accept");
  EXPECT_EQ(item.headers[0].value, "text/html");

  const RequestSpec& order = s.requests[2];
  EXPECT_EQ(order.method, "POST");  // method is case-insensitive
  EXPECT_EQ(order.timeout_ns, 2 * kSec);
  ASSERT_TRUE(order.body.has_value());
  ASSERT_EQ(order.headers.size(), 3u);
  EXPECT_EQ(order.headers[2].name, "Content-Type");
  ASSERT_EQ(order.slos.size(), 1u);
  EXPECT_EQ(order.slos[0].text, "p95 < 200ms");
  EXPECT_EQ(order.slos[0].request, "order");
  EXPECT_EQ(order.slos[0].objective.request, "order");
  EXPECT_EQ(order.slos[0].objective.expr, "order.p95 < 200ms");
}

TEST(LoadGood, SlosAndRequestPrefix) {
  Scenario s = MustLoad("full.yaml");
  ASSERT_EQ(s.slos.size(), 4u);
  EXPECT_EQ(s.slos[0].text, "p95 < 300ms");
  EXPECT_EQ(s.slos[0].request, "");
  EXPECT_EQ(s.slos[2].text, "p99 < 1s");
  EXPECT_EQ(s.slos[2].objective.expr, "order.p99 < 1s");
  EXPECT_EQ(s.slos[2].request, "order");
  EXPECT_EQ(s.slos[2].objective.request, "order");
  EXPECT_EQ(s.slos[2].objective.metric, slo::Metric::kPercentile);
  EXPECT_EQ(s.slos[2].objective.percentile, 99);
  EXPECT_EQ(s.slos[2].objective.threshold, 1e6);  // microseconds
  EXPECT_EQ(s.slos[1].objective.metric, slo::Metric::kErrorRate);
  EXPECT_DOUBLE_EQ(s.slos[1].objective.threshold, 0.005);
  EXPECT_EQ(s.slos[3].text, "p99.9 < 2s");  // a percentile, not a request prefix
  EXPECT_EQ(s.slos[3].request, "");
  EXPECT_EQ(s.slos[0].pos.line, 30);
  EXPECT_EQ(s.slos[0].pos.column, 9);
}

TEST(LoadGood, Phases) {
  Scenario s = MustLoad("full.yaml");
  ASSERT_EQ(s.phases.size(), 8u);
  const Phase& warm = s.phases[0];
  EXPECT_EQ(warm.name, "warm");
  EXPECT_EQ(warm.kind, PhaseKind::kBaseline);
  EXPECT_EQ(warm.rate_per_sec, 200);
  EXPECT_EQ(warm.duration_ns, 30 * kSec);
  EXPECT_EQ(warm.connections, 200);  // from defaults
  EXPECT_EQ(warm.arrival, Arrival::kPoisson);

  const Phase& climb = s.phases[1];
  EXPECT_EQ(climb.kind, PhaseKind::kRamp);
  EXPECT_EQ(climb.from_per_sec, 200);  // previous phase's rate
  EXPECT_EQ(climb.to_per_sec, 600);    // 3x
  EXPECT_EQ(climb.duration_ns, 60 * kSec);
  EXPECT_EQ(climb.arrival, Arrival::kUniform);

  const Phase& hold = s.phases[2];
  EXPECT_EQ(hold.kind, PhaseKind::kSoak);
  EXPECT_EQ(hold.duration_ns, 1800 * kSec);
  EXPECT_EQ(hold.window_ns, 300 * kSec);
  ASSERT_EQ(hold.slos.size(), 1u);
  EXPECT_EQ(hold.slos[0].text, "p95_drift < 20%");
  EXPECT_EQ(hold.slos[0].objective.metric, slo::Metric::kPercentileDrift);

  const Phase& sale = s.phases[3];
  EXPECT_EQ(sale.kind, PhaseKind::kSpike);
  EXPECT_EQ(sale.from_per_sec, 600);
  EXPECT_EQ(sale.to_per_sec, 3600);  // 6x
  EXPECT_EQ(sale.hold_ns, 30 * kSec);
  EXPECT_EQ(sale.duration_ns, 120 * kSec);
  EXPECT_EQ(sale.connections, 5000);

  const Phase& limit = s.phases[4];
  EXPECT_EQ(limit.kind, PhaseKind::kStress);
  EXPECT_EQ(limit.from_per_sec, 100);
  EXPECT_EQ(limit.ceiling_per_sec, 5000);
  EXPECT_EQ(limit.step_duration_ns, 10 * kSec);
  EXPECT_EQ(limit.search, StressSearch::kExponential);
  EXPECT_DOUBLE_EQ(limit.resolution, 0.02);
  EXPECT_TRUE(limit.confirm);

  const Phase& steps = s.phases[5];
  EXPECT_EQ(steps.search, StressSearch::kSteps);
  EXPECT_EQ(steps.step_per_sec, 100);
  EXPECT_DOUBLE_EQ(steps.resolution, 0.05);  // default, unused by steps
  EXPECT_FALSE(steps.confirm);

  const Phase& users = s.phases[6];
  EXPECT_EQ(users.kind, PhaseKind::kClosed);
  EXPECT_EQ(users.connections, 50);
  EXPECT_EQ(users.think_ns, 100'000'000);
  EXPECT_EQ(users.duration_ns, 30 * kSec);
  EXPECT_FALSE(FinalRatePerSec(users).has_value());
  EXPECT_FALSE(IsOpenModel(users.kind));

  EXPECT_EQ(s.phases[7].name, "closed");  // default name: the kind
}

TEST(LoadGood, DefaultsWhenKeysAreOmitted) {
  Scenario s = MustLoad("minimal.yaml");
  EXPECT_EQ(s.defaults.timeout_ns, 10 * kSec);
  EXPECT_EQ(s.defaults.connections, 1000);
  EXPECT_FALSE(s.abort_on_fail.enabled);
  EXPECT_FALSE(s.seed.has_value());
  ASSERT_EQ(s.requests.size(), 1u);
  EXPECT_EQ(s.requests[0].weight, 1);
  EXPECT_EQ(s.requests[0].timeout_ns, 10 * kSec);
  ASSERT_EQ(s.phases.size(), 3u);
  EXPECT_EQ(s.phases[0].name, "baseline");
  EXPECT_EQ(s.phases[0].arrival, Arrival::kUniform);
  EXPECT_EQ(s.phases[1].rate_per_sec, 1500);  // 90000/min
  EXPECT_EQ(s.phases[1].window_ns, 120 * kSec);  // half of a 4m soak (shorter than 5m)
  EXPECT_EQ(s.phases[2].from_per_sec, 1500);
  EXPECT_EQ(s.phases[2].to_per_sec, 750);  // 0.5x
}

TEST(LoadGood, ExpandsTargetFromEnvironment) {
  ::setenv("HEADROOM_TEST_TARGET", "http://10.0.0.1:9000", 1);
  auto s = LoadScenarioFromString(
      "name: t\ntarget: ${HEADROOM_TEST_TARGET}/v1\nrequests: [ { name: a, path: / } ]\n"
      "phases: [ { baseline: { rate: 1/s, duration: 1s } } ]\n",
      "t.yaml");
  ::unsetenv("HEADROOM_TEST_TARGET");
  ASSERT_TRUE(s.has_value()) << s.error().message;
  EXPECT_EQ(s->target, "http://10.0.0.1:9000/v1");
}

TEST(LoadGood, HttpVersionAndStreams) {
  struct Case {
    const char* target;
    const char* defaults;
    Defaults::Http http;
    int max_streams;
  };
  for (const Case& c : {Case{"https://127.0.0.1:8443", "{ http: 2, max_streams: 64 }", Defaults::Http::kHttp2, 64},
                        Case{"https://127.0.0.1:8443", "{ max_streams: 8 }", Defaults::Http::kAuto, 8},
                        Case{"http://127.0.0.1:8080", "{ http: h2c, max_streams: 10000 }", Defaults::Http::kH2c, 10000},
                        Case{"http://127.0.0.1:8080", "{ http: '1.1' }", Defaults::Http::kHttp1, 0},
                        Case{"http://127.0.0.1:8080", "{ timeout: 1s }", Defaults::Http::kAuto, 0}}) {
    auto s = LoadScenarioFromString(std::string("name: t\ntarget: ") + c.target + "\ndefaults: " + c.defaults +
                                        "\nrequests: [ { name: a, path: / } ]\n"
                                        "phases: [ { baseline: { rate: 1/s, duration: 1s } } ]\n",
                                    "t.yaml");
    ASSERT_TRUE(s.has_value()) << c.defaults << ": " << s.error().message;
    EXPECT_EQ(s->defaults.http, c.http) << c.defaults;
    EXPECT_EQ(s->defaults.max_streams, c.max_streams) << c.defaults;
  }
}

TEST(LoadGood, PhaseKindNames) {
  EXPECT_EQ(PhaseKindName(PhaseKind::kBaseline), "baseline");
  EXPECT_EQ(PhaseKindName(PhaseKind::kStress), "stress");
  EXPECT_EQ(PhaseKindName(PhaseKind::kClosed), "closed");
}

}  // namespace
}  // namespace headroom::scenario

namespace headroom::scenario {
namespace {

TEST(LoadGood, ResponseChecks) {
  auto s = LoadScenarioFromString(R"(name: checks
target: http://127.0.0.1:8080
requests:
  - name: list
    path: /items
    expect:
      status: [200, "3xx"]
      headers:
        Content-Type: { contains: json }
        X-Id: "7"
        Set-Cookie: { present: false }
        ETag: { matches: '^"[0-9a-f]+"$' }
      body_contains: ok
      body_matches: ['"id":\s*\d+']
      json:
        ok: true
        items.0.id: 5
        $.items[1].name: widget
        /count: "5"
        missing: null
        big: 1.5e3
        hex: 0x10
      body_limit: 64KiB
  - name: plain
    path: /
phases:
  - { name: warm, baseline: { rate: 10/s, duration: 1s } }
)", "checks.yaml");
  ASSERT_TRUE(s.has_value()) << s.error().message;
  ASSERT_TRUE(s->requests[0].expect.has_value());
  EXPECT_FALSE(s->requests[1].expect.has_value());
  const Expect& e = *s->requests[0].expect;
  EXPECT_EQ(e.statuses, (std::vector<std::pair<int, int>>{{200, 200}, {300, 399}}));
  ASSERT_EQ(e.headers.size(), 4u);
  EXPECT_EQ(e.headers[0].op, HeaderExpect::Op::kContains);
  EXPECT_EQ(e.headers[1].op, HeaderExpect::Op::kEquals);
  EXPECT_EQ(e.headers[1].value, "7");
  EXPECT_EQ(e.headers[2].op, HeaderExpect::Op::kAbsent);
  EXPECT_EQ(e.headers[3].op, HeaderExpect::Op::kMatches);
  EXPECT_EQ(e.body_contains, std::vector<std::string>{"ok"});
  EXPECT_EQ(e.body_limit, 64 * 1024);
  ASSERT_EQ(e.json.size(), 7u);
  EXPECT_EQ(e.json[0].pointer, "/ok");
  EXPECT_EQ(e.json[0].expected, "true");
  EXPECT_EQ(e.json[1].pointer, "/items/0/id");
  EXPECT_EQ(e.json[1].expected, "5");
  EXPECT_EQ(e.json[2].pointer, "/items/1/name");
  EXPECT_EQ(e.json[2].expected, "\"widget\"");
  EXPECT_EQ(e.json[3].expected, "\"5\"") << "a quoted value is a string";
  EXPECT_EQ(e.json[4].expected, "null");
  EXPECT_EQ(e.json[5].expected, "1.5e3");
  EXPECT_EQ(e.json[6].expected, "\"0x10\"") << "not a JSON number: compared as text";
}

}  // namespace
}  // namespace headroom::scenario
