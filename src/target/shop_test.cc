// The shop against a real PostgreSQL 15 and Redis 7 started on loopback (small data set): routes,
// cache-aside, the order transaction, pipelining, each flaw's effect on the database, the cache
// and the pools, and the errors a user sees.
#include <hiredis/hiredis.h>
#include <libpq-fe.h>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "collect/test_servers.h"
#include "target/target.h"
#include "target/test_client.h"

namespace headroom::target {
namespace {

using testing::Client;
using testing::Response;
using json = nlohmann::json;

constexpr ShopData kSmall{200, 100, 5000, 10};

class ShopTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto pg = StartPostgres();
    if (!pg) {
      error_ = "PostgreSQL: " + pg.error().message;
      return;
    }
    pg_ = pg->release();
    auto redis = StartRedis();
    if (!redis) {
      error_ = "Redis: " + redis.error().message;
      return;
    }
    redis_ = redis->release();
    ShopOptions shop = Shop();
    if (Status s = InitShopDatabase(shop, kSmall, nullptr); !s) error_ = "init-db: " + s.error().message;
  }
  static void TearDownTestSuite() {
    delete pg_;
    delete redis_;
    pg_ = nullptr;
    redis_ = nullptr;
  }
  void SetUp() override {
    Result<int> started = error_.empty() ? Result<int>(0) : Fail(error_);
    REQUIRE_SERVER(started);
  }

  static ShopOptions Shop(unsigned flaws = 0) {
    ShopOptions o;
    o.postgres = PostgresConninfo(*pg_);
    o.redis = "127.0.0.1:" + std::to_string(redis_->port());
    o.flaws = flaws;
    o.handler_threads = 4;
    o.db_pool = 3;
    return o;
  }
  static std::unique_ptr<Server> StartShop(unsigned flaws = 0) {
    Options o;
    o.shop = Shop(flaws);
    auto s = Server::Start(o);
    EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().message);
    return s ? std::move(*s) : nullptr;
  }
  static Response Call(Client& c, const std::string& request_line) {
    c.Send(request_line + " HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
    Response r;
    EXPECT_TRUE(c.Read(&r, request_line.rfind("HEAD", 0) == 0)) << request_line;
    return r;
  }
  static std::string Sql(const std::string& query) {
    PGconn* c = PQconnectdb(PostgresConninfo(*pg_).c_str());
    PGresult* r = PQexec(c, query.c_str());
    std::string v = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "";
    PQclear(r);
    PQfinish(c);
    return v;
  }
  static std::string RedisConfig(const std::string& name) {
    redisContext* r = redisConnect("127.0.0.1", redis_->port());
    auto* reply = static_cast<redisReply*>(redisCommand(r, "CONFIG GET %s", name.c_str()));
    std::string v = reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 ? reply->element[1]->str : "";
    freeReplyObject(reply);
    redisFree(r);
    return v;
  }
  // One sample's value from /metrics, e.g. Metric(text, "executor_pool_max_threads{name=\"shop\"}").
  static double Metric(const std::string& text, const std::string& series) {
    const size_t at = text.find("\n" + series + " ");
    if (at == std::string::npos) return -1;
    return std::stod(text.substr(at + series.size() + 2));
  }

  static LocalServer* pg_;
  static LocalServer* redis_;
  static std::string error_;
};

LocalServer* ShopTest::pg_ = nullptr;
LocalServer* ShopTest::redis_ = nullptr;
std::string ShopTest::error_;

TEST_F(ShopTest, ProductReadsGoThroughTheCache) {
  auto server = StartShop();
  ASSERT_NE(server, nullptr);
  Client c(server->port());
  Response first = Call(c, "GET /shop/products/7");
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.headers["content-type"], "application/json");
  json p = json::parse(first.body);
  EXPECT_EQ(p["id"], 7);
  EXPECT_EQ(p["name"], "product 7");
  EXPECT_EQ(p["reviews"], 10);  // reviews_per_product
  Response second = Call(c, "GET /shop/products/7");
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.body, first.body);
  const std::string m = Call(c, "GET /metrics").body;
  EXPECT_EQ(Metric(m, "shop_cache_requests_total{result=\"hit\"}"), 1);
  EXPECT_EQ(Metric(m, "shop_cache_requests_total{result=\"miss\"}"), 1);
  EXPECT_EQ(Metric(m, "executor_pool_max_threads{name=\"shop\"}"), 4);
  EXPECT_EQ(Metric(m, "hikaricp_connections_max{pool=\"shop\"}"), 3);
  EXPECT_EQ(Metric(m, "shop_requests_total{route=\"product\",status=\"2xx\"}"), 2);
  Response head = Call(c, "HEAD /shop/products/7");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.headers["content-length"], std::to_string(first.body.size()));
}

TEST_F(ShopTest, PlacingAnOrderIsOneTransactionTheCustomerSees) {
  auto server = StartShop();
  ASSERT_NE(server, nullptr);
  Client c(server->port());
  const std::string stock_before = Sql("SELECT stock FROM products WHERE id = 5");
  Response placed = Call(c, "POST /shop/orders?customer=9&product=5&quantity=2");
  ASSERT_EQ(placed.status, 201) << placed.body;
  json order = json::parse(placed.body);
  EXPECT_EQ(order["customer"], 9);
  EXPECT_EQ(order["quantity"], 2);
  EXPECT_EQ(std::stoll(Sql("SELECT stock FROM products WHERE id = 5")), std::stoll(stock_before) - 2);
  EXPECT_EQ(order["total_cents"], 2 * std::stoll(Sql("SELECT price_cents FROM products WHERE id = 5")));
  Response orders = Call(c, "GET /shop/customers/9/orders");
  ASSERT_EQ(orders.status, 200) << orders.body;
  json list = json::parse(orders.body);
  ASSERT_EQ(list["orders"].size(), 20u);  // 50 orders per customer, the latest 20
  EXPECT_EQ(list["orders"][0]["id"], order["id"]);  // the newest first
}

TEST_F(ShopTest, BadRequestsGetClearAnswers) {
  auto server = StartShop();
  ASSERT_NE(server, nullptr);
  Client c(server->port());
  EXPECT_EQ(Call(c, "GET /shop/products/0").status, 404);
  EXPECT_EQ(Call(c, "GET /shop/products/999999").status, 404);
  EXPECT_EQ(Call(c, "GET /shop/products/abc").status, 404);
  EXPECT_EQ(Call(c, "POST /shop/orders").status, 400);
  EXPECT_EQ(Call(c, "POST /shop/orders?customer=1&product=1&quantity=0").status, 400);
  EXPECT_EQ(Call(c, "POST /shop/orders?customer=1&product=999999").status, 409);
  EXPECT_EQ(Call(c, "GET /shop/orders").status, 405);
  EXPECT_EQ(Call(c, "POST /shop/products/1").status, 405);
  EXPECT_EQ(Call(c, "GET /shop/nothing").status, 404);
  Response health = Call(c, "GET /shop/health");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(json::parse(health.body)["flaws"], "none");
  EXPECT_EQ(Call(c, "GET /").body, "ok\n");  // the plain routes stay
}

TEST_F(ShopTest, PipelinedRequestsAnswerInOrder) {
  auto server = StartShop();
  ASSERT_NE(server, nullptr);
  Client c(server->port());
  c.Send("GET /shop/customers/3/orders HTTP/1.1\r\nHost: t\r\n\r\nGET /shop/products/3 HTTP/1.1\r\nHost: t\r\n\r\n"
         "GET / HTTP/1.1\r\nHost: t\r\n\r\nGET /shop/health HTTP/1.1\r\nHost: t\r\n\r\n");
  Response r;
  ASSERT_TRUE(c.Read(&r));
  EXPECT_EQ(json::parse(r.body)["customer"], 3);
  ASSERT_TRUE(c.Read(&r));
  EXPECT_EQ(json::parse(r.body)["id"], 3);
  ASSERT_TRUE(c.Read(&r));
  EXPECT_EQ(r.body, "ok\n");
  ASSERT_TRUE(c.Read(&r));
  EXPECT_EQ(json::parse(r.body)["ok"], true);
}

TEST_F(ShopTest, AClientLeavingBeforeItsReplyHarmsNothing) {
  auto server = StartShop();
  ASSERT_NE(server, nullptr);
  for (int i = 0; i < 20; ++i) {
    Client gone(server->port());
    gone.Send("GET /shop/customers/" + std::to_string(i + 1) + "/orders HTTP/1.1\r\nHost: t\r\n\r\n");
  }
  Client c(server->port());
  EXPECT_EQ(Call(c, "GET /shop/products/2").status, 200);
}

TEST_F(ShopTest, FlawsChangeTheDatabaseTheCacheAndThePools) {
  const std::string indexes =
      "SELECT count(*) FROM pg_indexes WHERE tablename = 'orders' AND indexdef LIKE '%(customer_id)%'";
  {
    auto server = StartShop(kFlawMissingIndex | kFlawSmallCache | kFlawTinyPool | kFlawOneThread);
    ASSERT_NE(server, nullptr);
    EXPECT_EQ(Sql(indexes), "0");
    EXPECT_EQ(RedisConfig("maxmemory"), "2097152");
    EXPECT_EQ(RedisConfig("maxmemory-policy"), "allkeys-random");
    Client c(server->port());
    const std::string m = Call(c, "GET /metrics").body;
    EXPECT_EQ(Metric(m, "executor_pool_max_threads{name=\"shop\"}"), 1);
    EXPECT_EQ(Metric(m, "hikaricp_connections_max{pool=\"shop\"}"), 1);
    EXPECT_EQ(json::parse(Call(c, "GET /shop/health").body)["flaws"],
              "missing-index,small-cache,tiny-pool,one-thread");
    EXPECT_EQ(Call(c, "GET /shop/customers/4/orders").status, 200);  // slow, not broken
  }
  {
    auto server = StartShop();  // no flaw: the index comes back, the cache grows
    ASSERT_NE(server, nullptr);
    EXPECT_EQ(Sql(indexes), "1");
    EXPECT_EQ(RedisConfig("maxmemory"), std::to_string(64 << 20));
    EXPECT_EQ(RedisConfig("maxmemory-policy"), "allkeys-lru");
  }
}

TEST_F(ShopTest, StartFailsWithOneLineReasons) {
  Options o;
  o.shop = Shop();
  o.shop.postgres = "host=127.0.0.1 port=1 user=postgres dbname=postgres connect_timeout=2";
  auto s = Server::Start(o);
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().message.find("cannot connect to PostgreSQL"), std::string::npos) << s.error().message;
  EXPECT_EQ(s.error().message.find('\n'), std::string::npos);

  Sql("SELECT 1");  // a database without the shop's tables:
  PGconn* admin = PQconnectdb(PostgresConninfo(*pg_).c_str());
  PQclear(PQexec(admin, "DROP DATABASE IF EXISTS empty_shop"));
  PQclear(PQexec(admin, "CREATE DATABASE empty_shop"));
  PQfinish(admin);
  o.shop = Shop();
  o.shop.postgres = "host=127.0.0.1 port=" + std::to_string(pg_->port()) + " user=postgres dbname=empty_shop password=" +
                    kLocalPostgresPassword;
  s = Server::Start(o);
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().message.find("--init-db"), std::string::npos) << s.error().message;

  o.shop = Shop();
  o.shop.redis = "127.0.0.1:1";
  s = Server::Start(o);
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().message.find("cannot connect to Redis"), std::string::npos) << s.error().message;

  o.shop = Shop();
  o.shop.redis = "no-port";
  EXPECT_FALSE(Server::Start(o).has_value());
  EXPECT_FALSE(ParseFlaws("missing-index,fast").has_value());
  EXPECT_EQ(*ParseFlaws("one-thread,tiny-pool"), unsigned(kFlawOneThread | kFlawTinyPool));
  EXPECT_EQ(FlawNames(*ParseFlaws("none")), "none");
}

}  // namespace
}  // namespace headroom::target
