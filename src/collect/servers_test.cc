// The postgres, redis and prometheus sources against real servers started for the test (see
// test_servers.h): a known workload gives known deltas.
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>
#include <libpq-fe.h>

#include <cstdlib>
#include <functional>
#include <map>
#include <set>
#include <thread>

#include "collect/collect.h"
#include "collect/test_servers.h"
#include "core/clock.h"
#include "slo/slo.h"

namespace headroom::collect {
namespace {

using testing::StartNodeExporter;
using testing::StartPostgres;
using testing::StartRedis;

std::map<std::string, double> ByName(const Reading& r) {
  std::map<std::string, double> out;
  for (const Metric& m : r.metrics) out[m.name] = m.value;
  return out;
}

double CountOf(const Activity& a, std::string_view name) {
  for (const Count& c : a.counts) {
    if (c.name == name) return c.value;
  }
  return 0;
}

// Sums one count of one key over readings.
struct ActivityTotals {
  std::map<std::string, double> values;
  void Add(const Reading& r, std::string_view group, std::string_view count) {
    for (const Activity& a : r.activity) {
      if (a.group == group) values[a.key] += CountOf(a, count);
    }
  }
};

// Reads `source` until `done` holds for the latest reading (15 s at most): statistics reach
// PostgreSQL's views when a backend flushes them, not at once.
Result<Reading> ReadUntil(Source& source, const std::function<bool(const Reading&)>& done) {
  const int64_t deadline = MonoNowNs() + 15'000'000'000;
  for (;;) {
    auto r = source.Read(MonoNowNs());
    if (!r) return r;
    if (done(*r) || MonoNowNs() > deadline) return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// Every metric the SLO catalogue expects from `kind` appears in one of `readings` (`except`: those
// that only exist in setups the test does not have, like replicas).
void ExpectGateableMetrics(std::string_view kind, const std::vector<Reading>& readings,
                           const std::set<std::string>& except = {}) {
  std::set<std::string> names;
  for (const Reading& r : readings) {
    for (const Metric& m : r.metrics) names.insert(m.name);
  }
  for (const slo::TierMetricInfo& info : slo::TierMetrics()) {
    for (const slo::TierMetricSource& s : info.sources) {
      if (s.source_kind != kind || except.count(std::string(s.metric))) continue;
      EXPECT_EQ(names.count(std::string(s.metric)), 1u) << kind << " does not produce " << s.metric << " for " << info.name;
      if (!s.divisor.empty()) {
        EXPECT_EQ(names.count(std::string(s.divisor)), 1u) << s.divisor;
      }
    }
  }
}

PGconn* Connect(const std::string& conninfo) {
  PGconn* c = PQconnectdb(conninfo.c_str());
  EXPECT_EQ(PQstatus(c), CONNECTION_OK) << PQerrorMessage(c);
  return c;
}

void Exec(PGconn* c, const std::string& sql) {
  PGresult* r = PQexec(c, sql.c_str());
  const ExecStatusType status = PQresultStatus(r);
  EXPECT_TRUE(status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) << sql << ": " << PQresultErrorMessage(r);
  PQclear(r);
}

class PostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = StartPostgres();
    REQUIRE_SERVER(started);
    server_ = std::move(*started);
    conninfo_ = testing::PostgresConninfo(*server_);
    PGconn* c = Connect(conninfo_);
    Exec(c, "CREATE EXTENSION pg_stat_statements");
    Exec(c, "CREATE TABLE orders (id int, customer text)");  // no index: every lookup scans
    Exec(c, "INSERT INTO orders SELECT i, 'c' || i FROM generate_series(1, 1000) i");
    PQfinish(c);
  }
  std::unique_ptr<Source> MakePg(const std::string& conninfo) {
    auto spec = ParseWatchSpec("postgres:" + conninfo);
    EXPECT_TRUE(spec.has_value()) << spec.error().message;
    return MakeSource(*spec);
  }
  std::unique_ptr<testing::ServerProcess> server_;
  std::string conninfo_;
};

TEST_F(PostgresTest, SequentialScansAndStatementsAreCountedExactly) {
  constexpr int kScans = 7;
  auto source = MakePg(conninfo_);
  auto first = source->Read(MonoNowNs());
  ASSERT_TRUE(first.has_value()) << first.error().message;
  const auto gauges = ByName(*first);
  EXPECT_EQ(gauges.at("max_connections"), 20);
  PGconn* work = Connect(conninfo_);
  for (int i = 0; i < kScans; ++i) Exec(work, "SELECT count(*) FROM orders WHERE customer = 'c42'");
  PQfinish(work);  // a backend flushes its table statistics when it exits
  ActivityTotals scans, rows, calls;
  std::vector<Reading> readings{*first};
  auto last = ReadUntil(*source, [&](const Reading& r) {
    readings.push_back(r);
    scans.Add(r, "tables", "seq_scan");
    rows.Add(r, "tables", "seq_tup_read");
    calls.Add(r, "statements", "calls");
    return scans.values["public.orders"] >= kScans;
  });
  ASSERT_TRUE(last.has_value()) << last.error().message;
  auto after = source->Read(MonoNowNs());  // nothing more arrives
  ASSERT_TRUE(after.has_value());
  scans.Add(*after, "tables", "seq_scan");
  calls.Add(*after, "statements", "calls");
  EXPECT_EQ(scans.values["public.orders"], kScans);
  EXPECT_EQ(rows.values["public.orders"], kScans * 1000);
  EXPECT_EQ(calls.values["SELECT count(*) FROM orders WHERE customer = $1"], kScans);
  for (const auto& [statement, n] : calls.values) {
    EXPECT_EQ(statement.find("headroom-watch"), std::string::npos) << "the watcher's own statements are left out";
  }
  readings.push_back(*after);
  ExpectGateableMetrics("postgres", readings, {"replication_lag_s"});
  const auto m = ByName(*after);
  EXPECT_EQ(m.at("seq_scans_per_s"), 0);
  EXPECT_EQ(m.count("statement_mean_ms"), 0u) << "no statements in the last interval";
}

TEST_F(PostgresTest, AHeldLockShowsAWaitingConnection) {
  auto source = MakePg(conninfo_);
  PGconn* holder = Connect(conninfo_);
  PGconn* waiter = Connect(conninfo_);
  Exec(holder, "BEGIN");
  Exec(holder, "LOCK TABLE orders IN ACCESS EXCLUSIVE MODE");
  ASSERT_EQ(PQsendQuery(waiter, "SELECT count(*) FROM orders"), 1);
  auto r = ReadUntil(*source, [](const Reading& r) { return ByName(r)["waiting.lock"] >= 1; });
  ASSERT_TRUE(r.has_value()) << r.error().message;
  const auto m = ByName(*r);
  EXPECT_EQ(m.at("waiting.lock"), 1);
  EXPECT_EQ(m.at("lock_waits"), 1);
  EXPECT_EQ(m.at("connections"), 2);
  EXPECT_EQ(m.at("connections.active"), 1);
  EXPECT_EQ(m.at("connections.idle_in_transaction"), 1);
  EXPECT_DOUBLE_EQ(m.at("connections_ratio"), 2.0 / 20);
  Exec(holder, "COMMIT");
  while (PGresult* res = PQgetResult(waiter)) PQclear(res);
  PQfinish(holder);
  PQfinish(waiter);
}

TEST_F(PostgresTest, RollbacksAndCacheHits) {
  auto source = MakePg(conninfo_);
  ASSERT_TRUE(source->Read(MonoNowNs()).has_value());
  PGconn* work = Connect(conninfo_);
  for (int i = 0; i < 3; ++i) PQclear(PQexec(work, "SELECT 1/0"));  // each aborts its transaction
  PQfinish(work);
  double rollbacks = 0;
  auto r = ReadUntil(*source, [&](const Reading& r) {
    const auto m = ByName(r);
    // rollbacks_per_s x the interval is the number of rollbacks; sum them back up.
    if (m.count("rollbacks_per_s")) rollbacks += m.at("rollbacks_per_s");
    return m.count("rollbacks_per_s") && m.at("rollbacks_per_s") > 0;
  });
  ASSERT_TRUE(r.has_value());
  EXPECT_GT(rollbacks, 0);
  const auto m = ByName(*r);
  ASSERT_EQ(m.count("cache_hit_ratio"), 1u);
  EXPECT_GT(m.at("cache_hit_ratio"), 0.5);
  EXPECT_LE(m.at("cache_hit_ratio"), 1);
}

TEST_F(PostgresTest, ConnectionsOpenedAreCounted) {
  constexpr int kConnections = 4;
  auto source = MakePg(conninfo_);
  ASSERT_TRUE(source->Read(MonoNowNs()).has_value());
  for (int i = 0; i < kConnections; ++i) PQfinish(Connect(conninfo_));
  double opened = 0;
  auto r = ReadUntil(*source, [&](const Reading& r) {
    const auto m = ByName(r);
    if (m.count("sessions_per_s")) opened += m.at("sessions_per_s");
    return opened > 0;
  });
  ASSERT_TRUE(r.has_value());
  EXPECT_GT(opened, 0);
}

TEST_F(PostgresTest, WrongPasswordFailsWithoutShowingIt) {
  std::string conninfo = testing::PostgresConninfo(*server_, false) + " password=wrong-pw-123";
  auto source = MakePg(conninfo);
  EXPECT_EQ(source->label().find("wrong-pw-123"), std::string::npos);
  auto r = source->Read(MonoNowNs());
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("password authentication failed"), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().message.find("wrong-pw-123"), std::string::npos);
}

TEST_F(PostgresTest, PgpasswordFromTheEnvironmentWorks) {
  ::setenv("PGPASSWORD", testing::kPostgresPassword, 1);
  auto source = MakePg(testing::PostgresConninfo(*server_, false));
  auto r = source->Read(MonoNowNs());
  ::unsetenv("PGPASSWORD");
  ASSERT_TRUE(r.has_value()) << r.error().message;
}

TEST_F(PostgresTest, SaysSoWhenPgStatStatementsIsMissing) {
  PGconn* c = Connect(conninfo_);
  Exec(c, "CREATE DATABASE plain");
  PQfinish(c);
  auto source = MakePg("host=127.0.0.1 port=" + std::to_string(server_->port()) + " user=postgres dbname=plain password=" +
                       testing::kPostgresPassword);
  auto r = source->Read(MonoNowNs());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  std::string note;
  for (const auto& [k, v] : r->attributes) {
    if (k == "statements") note = v;
  }
  EXPECT_EQ(note,
            "unavailable: pg_stat_statements is not installed in this database (relation \"pg_stat_statements\" does "
            "not exist); add it to shared_preload_libraries and CREATE EXTENSION pg_stat_statements");
}

TEST_F(PostgresTest, ServerGoneIsAnErrorThenBackAfterRestartIsNotNeeded) {
  auto source = MakePg(conninfo_);
  ASSERT_TRUE(source->Read(MonoNowNs()).has_value());
  server_.reset();  // stops PostgreSQL
  auto r = source->Read(MonoNowNs());
  ASSERT_FALSE(r.has_value());
  EXPECT_FALSE(r.error().message.empty());
}

class RedisTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = StartRedis();
    REQUIRE_SERVER(started);
    server_ = std::move(*started);
    client_ = redisConnect("127.0.0.1", server_->port());
    ASSERT_TRUE(client_ != nullptr && client_->err == 0);
  }
  void TearDown() override {
    if (client_ != nullptr) redisFree(client_);
  }
  void Command(const std::string& command) { freeReplyObject(redisCommand(client_, command.c_str())); }
  std::unique_ptr<Source> MakeRedis() { return MakeSource(*ParseWatchSpec("redis:127.0.0.1:" + std::to_string(server_->port()))); }
  std::unique_ptr<testing::ServerProcess> server_;
  redisContext* client_ = nullptr;
};

TEST_F(RedisTest, HitRatioOpsAndCommandsFromAKnownWorkload) {
  constexpr int kGets = 20, kMisses = 5, kSets = 10;
  auto source = MakeRedis();
  ASSERT_TRUE(source->Read(1'000'000'000).has_value());
  for (int i = 0; i < kSets; ++i) Command("SET key:" + std::to_string(i) + " v");
  for (int i = 0; i < kGets; ++i) Command("GET key:" + std::to_string(i < kGets - kMisses ? i % kSets : 100 + i));
  auto r = source->Read(2'000'000'000);  // one second later on the source's clock
  ASSERT_TRUE(r.has_value()) << r.error().message;
  const auto m = ByName(*r);
  EXPECT_DOUBLE_EQ(m.at("hit_ratio"), double(kGets - kMisses) / kGets);
  EXPECT_DOUBLE_EQ(m.at("hits_per_s"), kGets - kMisses);
  EXPECT_DOUBLE_EQ(m.at("misses_per_s"), kMisses);
  EXPECT_DOUBLE_EQ(m.at("ops_per_s"), kGets + kSets) << "the source's own INFO and SLOWLOG are left out";
  EXPECT_DOUBLE_EQ(m.at("connected_clients"), 1);
  EXPECT_DOUBLE_EQ(m.at("connections_received_per_s"), 0) << "the workload's one connection opened before";
  EXPECT_DOUBLE_EQ(m.at("keys"), kSets);
  EXPECT_GE(m.at("main_thread_cpu_cores"), 0);
  EXPECT_GT(m.at("used_memory_bytes"), 0);
  std::map<std::string, double> calls;
  for (const Activity& a : r->activity) calls[a.key] = CountOf(a, "calls");
  EXPECT_EQ(calls, (std::map<std::string, double>{{"get", kGets}, {"set", kSets}}));
  std::map<std::string, std::string> attributes(r->attributes.begin(), r->attributes.end());
  EXPECT_EQ(attributes["maxmemory_policy"], "noeviction");
  EXPECT_EQ(attributes["cpu"], "main thread");
  ExpectGateableMetrics("redis", {*r}, {"memory_ratio"});  // memory_ratio needs a maxmemory
}

TEST_F(RedisTest, MaxmemoryEvictionsAndSlowlog) {
  Command("CONFIG SET maxmemory-policy allkeys-lru");
  Command("CONFIG SET maxmemory 2mb");
  auto source = MakeRedis();
  ASSERT_TRUE(source->Read(1'000'000'000).has_value());
  Command("CONFIG SET slowlog-log-slower-than 0");  // every command from here on is logged
  const std::string value(10000, 'x');
  for (int i = 0; i < 500; ++i) Command("SET big:" + std::to_string(i) + " " + value);  // 5 MB into 2 MB
  auto r = source->Read(2'000'000'000);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  const auto m = ByName(*r);
  EXPECT_GT(m.at("evictions_per_s"), 0);
  EXPECT_DOUBLE_EQ(m.at("maxmemory_bytes"), 2 * 1024 * 1024);
  EXPECT_GT(m.at("memory_ratio"), 0.5);
  EXPECT_GE(m.at("slowlog_added_per_s"), 500);
}

TEST_F(RedisTest, ServerGoneIsAnError) {
  auto source = MakeRedis();
  ASSERT_TRUE(source->Read(1).has_value());
  const uint16_t port = server_->port();
  redisFree(client_);
  client_ = nullptr;
  server_.reset();
  auto r = source->Read(2);
  ASSERT_FALSE(r.has_value());
  auto again = source->Read(3);
  ASSERT_FALSE(again.has_value());
  EXPECT_NE(again.error().message.find("cannot connect to 127.0.0.1:" + std::to_string(port)), std::string::npos)
      << again.error().message;
}

TEST(NodeExporter, RealScrapeParsesAndGivesCpuRates) {
  auto started = StartNodeExporter();
  REQUIRE_SERVER(started);
  const std::string url = "http://127.0.0.1:" + std::to_string((*started)->port()) + "/metrics";
  auto spec = ParseWatchSpec("prometheus:" + url);
  ASSERT_TRUE(spec.has_value());
  auto everything = MakeSource(*spec);
  auto all = everything->Read(MonoNowNs());
  ASSERT_TRUE(all.has_value()) << all.error().message;
  EXPECT_GT(all->metrics.size(), 100u);
  spec->selectors = {"node_cpu_seconds_total"};
  auto cpu = MakeSource(*spec);
  ASSERT_TRUE(cpu->Read(MonoNowNs()).has_value());
  std::this_thread::sleep_for(std::chrono::seconds(1));  // the interval the rates are measured over
  auto r = cpu->Read(MonoNowNs());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  double cpu0 = 0;
  for (const Metric& m : r->metrics) {
    EXPECT_TRUE(m.name.starts_with("node_cpu_seconds_total{")) << m.name;
    EXPECT_EQ(m.type, MetricType::kRate);
    if (m.name.find("cpu=\"0\"") != std::string::npos) cpu0 += m.value;
  }
  // Every mode of one CPU adds up to one second per second (clock ticks are 10 ms).
  EXPECT_GT(cpu0, 0.8);
  EXPECT_LT(cpu0, 1.2);
}

}  // namespace
}  // namespace headroom::collect
