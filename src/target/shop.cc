#include "target/shop.h"

#include <hiredis/hiredis.h>
#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <chrono>
#include <map>

#include "core/clock.h"

namespace headroom::target {

namespace {

constexpr const char* kFlawNames[] = {"missing-index", "small-cache", "tiny-pool", "one-thread"};
constexpr int64_t kSmallCacheBytes = 2 << 20;
constexpr int64_t kHealthyCacheBytes = 64 << 20;
constexpr int kLatestOrders = 20;
constexpr int64_t kRedisRetryNs = 1'000'000'000;

// The statements the handlers prepare on every pooled connection. The texts are what
// pg_stat_statements shows, so they read like an application's own.
constexpr const char* kProductSql =
    "SELECT p.id, p.name, p.price_cents, p.description, count(r.id) AS reviews, "
    "coalesce(round(avg(r.stars), 2), 0) AS stars FROM products p LEFT JOIN reviews r ON r.product_id = p.id "
    "WHERE p.id = $1 GROUP BY p.id";
constexpr const char* kOrdersSql =
    "SELECT id, product_id, quantity, total_cents, created_at FROM orders WHERE customer_id = $1 "
    "ORDER BY created_at DESC LIMIT 20";
constexpr const char* kReserveSql =
    "UPDATE products SET stock = stock - $2 WHERE id = $1 AND stock >= $2 RETURNING price_cents";
constexpr const char* kInsertOrderSql =
    "INSERT INTO orders (customer_id, product_id, quantity, total_cents) VALUES ($1, $2, $3, $4) RETURNING id";

std::string PgError(PGconn* c) {
  std::string m = c ? PQerrorMessage(c) : "out of memory";
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  if (auto nl = m.find('\n'); nl != std::string::npos) m.resize(nl);
  return m;
}

Status Exec(PGconn* c, const std::string& sql) {
  PGresult* r = PQexec(c, sql.c_str());
  const ExecStatusType st = PQresultStatus(r);
  std::string err = (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) ? "" : PgError(c);
  PQclear(r);
  if (!err.empty()) return Fail(err);
  return Ok();
}

Result<std::string> QueryOne(PGconn* c, const std::string& sql) {
  PGresult* r = PQexec(c, sql.c_str());
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    std::string err = PgError(c);
    PQclear(r);
    return Fail(err);
  }
  std::string v = PQntuples(r) > 0 && !PQgetisnull(r, 0, 0) ? PQgetvalue(r, 0, 0) : "";
  PQclear(r);
  return v;
}

Result<PGconn*> Connect(const std::string& conninfo) {
  PGconn* c = PQconnectdb(conninfo.c_str());
  if (c == nullptr || PQstatus(c) != CONNECTION_OK) {
    std::string err = "cannot connect to PostgreSQL: " + PgError(c);
    PQfinish(c);
    return Fail(err);
  }
  PQsetNoticeProcessor(c, [](void*, const char*) {}, nullptr);  // "table ... does not exist, skipping"
  return c;
}

struct RedisAddress {
  std::string host;
  int port = 0;
};

Result<RedisAddress> ParseRedis(const std::string& text) {
  const size_t colon = text.rfind(':');
  RedisAddress a;
  if (colon == std::string::npos || colon == 0) return Fail("--redis wants HOST:PORT, e.g. 127.0.0.1:6379");
  a.host = text.substr(0, colon);
  if (a.host.size() > 2 && a.host.front() == '[' && a.host.back() == ']') a.host = a.host.substr(1, a.host.size() - 2);
  const std::string port = text.substr(colon + 1);
  auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), a.port);
  if (ec != std::errc() || p != port.data() + port.size() || a.port < 1 || a.port > 65535) {
    return Fail("--redis: '" + port + "' is not a port (1..65535)");
  }
  return a;
}

redisContext* RedisConnect(const RedisAddress& a) {
  timeval tv{1, 0};
  redisContext* r = redisConnectWithTimeout(a.host.c_str(), a.port, tv);
  if (r != nullptr && r->err == 0) redisSetTimeout(r, tv);
  return r;
}

// One command; the reply's string (or "" for status replies), or the error.
Result<std::string> RedisCommand(redisContext* r, const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const std::string& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* reply = static_cast<redisReply*>(redisCommandArgv(r, int(argv.size()), argv.data(), lens.data()));
  if (reply == nullptr) return Fail(r->errstr[0] ? r->errstr : "no reply");
  std::string out;
  bool error = reply->type == REDIS_REPLY_ERROR;
  if (reply->type == REDIS_REPLY_STRING || reply->type == REDIS_REPLY_STATUS || error) {
    out.assign(reply->str, reply->len);
  } else if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 && reply->element[1]->type == REDIS_REPLY_STRING) {
    out.assign(reply->element[1]->str, reply->element[1]->len);  // CONFIG GET name -> [name, value]
  }
  freeReplyObject(reply);
  if (error) return Fail(out);
  return out;
}

bool ParseId(std::string_view text, int64_t* out) {
  if (text.empty() || text.size() > 12) return false;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && p == text.data() + text.size() && *out > 0;
}

std::string QueryParam(std::string_view target, std::string_view name) {
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return "";
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) return eq == std::string_view::npos ? "" : std::string(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
  return "";
}

void JsonString(std::string* out, std::string_view s) {
  out->push_back('"');
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(ch);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out->append(buf);
    } else {
      out->push_back(ch);
    }
  }
  out->push_back('"');
}

ShopReply Error(int status, std::string_view message) {
  ShopReply r;
  r.status = status;
  r.body = "{\"error\":";
  JsonString(&r.body, message);
  r.body += "}\n";
  return r;
}

double Seconds(int64_t ns) { return double(ns) / 1e9; }

// Handler-time counters, summed over threads with relaxed atomics.
struct Summary {
  std::atomic<int64_t> count{0}, sum_ns{0};
  void Add(int64_t ns) {
    count.fetch_add(1, std::memory_order_relaxed);
    sum_ns.fetch_add(ns, std::memory_order_relaxed);
  }
};

enum RouteId { kProduct, kOrders, kPlaceOrder, kHealth, kOther, kRoutes };
constexpr const char* kRouteNames[kRoutes] = {"product", "customer_orders", "place_order", "health", "other"};

}  // namespace

Result<unsigned> ParseFlaws(std::string_view text) {
  unsigned flaws = 0;
  if (text == "none" || text.empty()) return 0u;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    std::string_view name = text.substr(0, comma);
    bool found = false;
    for (unsigned i = 0; i < 4; ++i) {
      if (name == kFlawNames[i]) {
        flaws |= 1u << i;
        found = true;
      }
    }
    if (!found) {
      return Fail("unknown flaw '" + std::string(name) +
                  "' (use missing-index, small-cache, tiny-pool, one-thread, or none)");
    }
    if (comma == std::string_view::npos) break;
    text = text.substr(comma + 1);
  }
  return flaws;
}

std::string FlawNames(unsigned flaws) {
  std::string out;
  for (unsigned i = 0; i < 4; ++i) {
    if (flaws & (1u << i)) out += (out.empty() ? "" : ",") + std::string(kFlawNames[i]);
  }
  return out.empty() ? "none" : out;
}

namespace {

// The index that fixes kFlawMissingIndex, found by what it covers (any name).
Result<std::vector<std::string>> CustomerIndexes(PGconn* c) {
  PGresult* r = PQexec(c,
                       "SELECT i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
                       "JOIN pg_class t ON t.oid = x.indrelid JOIN pg_attribute a ON a.attrelid = t.oid "
                       "AND a.attnum = x.indkey[0] WHERE t.relname = 'orders' AND a.attname = 'customer_id' "
                       "AND t.relnamespace = 'public'::regnamespace");
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    std::string err = PgError(c);
    PQclear(r);
    return Fail(err);
  }
  std::vector<std::string> out;
  for (int i = 0; i < PQntuples(r); ++i) out.push_back(PQgetvalue(r, i, 0));
  PQclear(r);
  return out;
}

Status ApplyIndexFlaw(PGconn* c, bool missing, std::FILE* log) {
  auto indexes = CustomerIndexes(c);
  if (!indexes) return std::unexpected(indexes.error());
  if (missing) {
    for (const std::string& name : *indexes) {
      char* quoted = PQescapeIdentifier(c, name.c_str(), name.size());
      std::string sql = std::string("DROP INDEX ") + (quoted ? quoted : name.c_str());
      PQfreemem(quoted);
      if (Status s = Exec(c, sql); !s) return s;
      if (log) std::fprintf(log, "flaw missing-index: dropped index %s on orders (customer_id)\n", name.c_str());
    }
  } else if (indexes->empty()) {
    if (log) std::fprintf(log, "creating the index on orders (customer_id)\n");
    if (Status s = Exec(c, "CREATE INDEX orders_customer_id_idx ON orders (customer_id)"); !s) return s;
    if (Status s = Exec(c, "ANALYZE orders"); !s) return s;
  }
  return Ok();
}

Status ApplyCacheFlaw(const RedisAddress& a, bool small, std::FILE* log) {
  redisContext* r = RedisConnect(a);
  if (r == nullptr || r->err != 0) {
    std::string err = r ? r->errstr : "out of memory";
    redisFree(r);
    return Fail("cannot connect to Redis at " + a.host + ":" + std::to_string(a.port) + ": " + err);
  }
  Status status = Ok();
  auto maxmemory = RedisCommand(r, {"CONFIG", "GET", "maxmemory"});
  if (!maxmemory) {
    status = Fail("Redis CONFIG GET maxmemory: " + maxmemory.error().message);
  } else if (small) {
    for (auto cmd : {std::vector<std::string>{"CONFIG", "SET", "maxmemory", std::to_string(kSmallCacheBytes)},
                     std::vector<std::string>{"CONFIG", "SET", "maxmemory-policy", "allkeys-random"}}) {
      if (auto x = RedisCommand(r, cmd); !x) status = Fail("Redis " + cmd[2] + ": " + x.error().message);
    }
    if (log && status) std::fprintf(log, "flaw small-cache: Redis maxmemory 2mb, maxmemory-policy allkeys-random\n");
  } else {
    int64_t bytes = 0;
    std::from_chars(maxmemory->data(), maxmemory->data() + maxmemory->size(), bytes);
    if (bytes > 0 && bytes < kHealthyCacheBytes) {
      for (auto cmd : {std::vector<std::string>{"CONFIG", "SET", "maxmemory", std::to_string(kHealthyCacheBytes)},
                       std::vector<std::string>{"CONFIG", "SET", "maxmemory-policy", "allkeys-lru"}}) {
        if (auto x = RedisCommand(r, cmd); !x) status = Fail("Redis " + cmd[2] + ": " + x.error().message);
      }
      if (log && status) std::fprintf(log, "Redis maxmemory raised to 64mb with allkeys-lru\n");
    }
  }
  redisFree(r);
  return status;
}

}  // namespace

Status InitShopDatabase(const ShopOptions& shop, const ShopData& d, std::FILE* log) {
  if (d.products < 1 || d.customers < 1 || d.orders < 0 || d.reviews_per_product < 0) {
    return Fail("the shop's data sizes must be positive");
  }
  auto c = Connect(shop.postgres);
  if (!c) return std::unexpected(c.error());
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(*c, &PQfinish);
  auto step = [&](const char* what, const std::string& sql) -> Status {
    if (log) std::fprintf(log, "init-db: %s\n", what);
    if (log) std::fflush(log);
    if (Status s = Exec(conn.get(), sql); !s) return Fail(std::string("init-db (") + what + "): " + s.error().message);
    return Ok();
  };
  const std::string P = std::to_string(d.products), C = std::to_string(d.customers), O = std::to_string(d.orders);
  const std::string R = std::to_string(int64_t{d.products} * d.reviews_per_product);
  const std::vector<std::pair<const char*, std::string>> steps = {
      {"dropping earlier shop tables", "DROP TABLE IF EXISTS orders, reviews, products, customers"},
      {"creating tables",
       "CREATE TABLE products (id int PRIMARY KEY, name text NOT NULL, price_cents int NOT NULL, "
       "stock bigint NOT NULL, description text NOT NULL); "
       "CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, email text NOT NULL); "
       "CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id int NOT NULL, product_id int NOT NULL, "
       "quantity int NOT NULL, total_cents bigint NOT NULL, created_at timestamptz NOT NULL DEFAULT now()); "
       "CREATE TABLE reviews (id bigserial PRIMARY KEY, product_id int NOT NULL, stars int NOT NULL, body text NOT NULL)"},
      {"filling products",
       "INSERT INTO products SELECT g, 'product ' || g, 100 + (g::bigint * 7919) % 90000, 1000000000, "
       "repeat(md5(g::text), 25) FROM generate_series(1, " + P + ") g"},
      {"filling customers",
       "INSERT INTO customers SELECT g, 'customer ' || g, 'customer' || g || '@example.com' "
       "FROM generate_series(1, " + C + ") g"},
      {"filling orders",
       "INSERT INTO orders (customer_id, product_id, quantity, total_cents, created_at) "
       "SELECT 1 + (g::bigint * 7919) % " + C + ", 1 + (g::bigint * 104729) % " + P + ", 1 + g % 3, 100 + g % 9000, "
       "now() - make_interval(secs => g) FROM generate_series(1, " + O + ") g"},
      {"filling reviews",
       "INSERT INTO reviews (product_id, stars, body) SELECT 1 + (g::bigint * 7919) % " + P + ", 1 + g % 5, "
       "'review ' || g FROM generate_series(1, " + R + ") g"},
      {"indexing reviews (product_id)", "CREATE INDEX reviews_product_id_idx ON reviews (product_id)"},
      {"analyzing", "ANALYZE products, customers, orders, reviews"},
  };
  for (const auto& [what, sql] : steps) {
    if (Status s = step(what, sql); !s) return s;
  }
  // The statement statistics explain reads; only possible where the server preloads the module.
  if (Status s = Exec(conn.get(), "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"); !s && log) {
    std::fprintf(log, "init-db: no pg_stat_statements (%s): explain will not see statements\n", s.error().message.c_str());
  }
  if (Status s = ApplyIndexFlaw(conn.get(), shop.flaws & kFlawMissingIndex, log); !s) {
    return Fail("init-db (index): " + s.error().message);
  }
  if (log) std::fprintf(log, "init-db: %s products, %s customers, %s orders, %s reviews\n", P.c_str(), C.c_str(),
                        O.c_str(), R.c_str());
  return Ok();
}

struct Shop::Impl {
  ShopOptions options;
  RedisAddress redis;
  int handlers = 0, pool_size = 0;

  // The handlers' queue.
  struct Job {
    std::string method, target;
    int64_t queued_ns = 0;
    Done done;
  };
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Job> queue;
  bool stopping = false;
  std::vector<std::thread> threads;

  // The connection pool.
  std::mutex pool_mu;
  std::condition_variable pool_cv;
  std::vector<PGconn*> idle;
  std::vector<PGconn*> all;

  // Metrics.
  std::atomic<int64_t> active{0}, queued{0}, conns_active{0}, conns_pending{0}, timeouts{0};
  Summary run, wait, acquire, usage;
  std::atomic<int64_t> cache_hits{0}, cache_misses{0}, cache_errors{0}, db_errors{0};
  std::atomic<int64_t> requests[kRoutes][6] = {};  // by route and status class (1xx..5xx, index 1..5)

  ~Impl() {
    for (PGconn* c : all) PQfinish(c);
  }

  Status Prepare(PGconn* c) {
    for (auto [name, sql, n] : {std::tuple{"product", kProductSql, 1}, {"orders", kOrdersSql, 1},
                                {"reserve", kReserveSql, 2}, {"insert_order", kInsertOrderSql, 4}}) {
      PGresult* r = PQprepare(c, name, sql, n, nullptr);
      const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
      PQclear(r);
      if (!ok) return Fail(std::string("preparing ") + name + ": " + PgError(c));
    }
    return Ok();
  }

  PGconn* Acquire() {
    const int64_t t0 = MonoNowNs();
    conns_pending.fetch_add(1, std::memory_order_relaxed);
    std::unique_lock<std::mutex> lock(pool_mu);
    const bool got = pool_cv.wait_for(lock, std::chrono::milliseconds(options.pool_timeout_ms),
                                      [&] { return !idle.empty() || stopping; });
    PGconn* c = nullptr;
    if (got && !idle.empty()) {
      c = idle.back();
      idle.pop_back();
    }
    lock.unlock();
    conns_pending.fetch_sub(1, std::memory_order_relaxed);
    acquire.Add(MonoNowNs() - t0);
    if (c == nullptr) {
      timeouts.fetch_add(1, std::memory_order_relaxed);
      return nullptr;
    }
    conns_active.fetch_add(1, std::memory_order_relaxed);
    return c;
  }

  void Release(PGconn* c, int64_t since_ns) {
    usage.Add(MonoNowNs() - since_ns);
    conns_active.fetch_sub(1, std::memory_order_relaxed);
    if (PQstatus(c) != CONNECTION_OK) {
      PQreset(c);
      if (PQstatus(c) == CONNECTION_OK) Prepare(c);
    } else if (PQtransactionStatus(c) != PQTRANS_IDLE) {
      PQclear(PQexec(c, "ROLLBACK"));
    }
    {
      std::lock_guard<std::mutex> lock(pool_mu);
      idle.push_back(c);
    }
    pool_cv.notify_one();
  }

  // A pooled connection for one request's statements; released when it goes.
  class Lease {
   public:
    explicit Lease(Impl& shop) : shop_(shop), conn_(shop.Acquire()), since_(MonoNowNs()) {}
    ~Lease() {
      if (conn_) shop_.Release(conn_, since_);
    }
    PGconn* get() const { return conn_; }

   private:
    Impl& shop_;
    PGconn* conn_;
    int64_t since_;
  };

  // Handler-thread state.
  struct Local {
    redisContext* redis = nullptr;
    int64_t retry_at_ns = 0;
    ~Local() { redisFree(redis); }
  };

  redisContext* Cache(Local& local) {
    if (local.redis != nullptr && local.redis->err == 0) return local.redis;
    const int64_t now = MonoNowNs();
    if (now < local.retry_at_ns) return nullptr;
    redisFree(local.redis);
    local.redis = RedisConnect(redis);
    if (local.redis == nullptr || local.redis->err != 0) {
      redisFree(local.redis);
      local.redis = nullptr;
      local.retry_at_ns = now + kRedisRetryNs;
      return nullptr;
    }
    return local.redis;
  }

  using Rows = std::unique_ptr<PGresult, decltype(&PQclear)>;
  // A prepared statement with one parameter on a pooled connection, which goes back to the pool
  // before the rows are read. Null with *failed set when no connection came within the pool
  // timeout (503) or the statement failed (500).
  Rows Query(const char* statement, int64_t param, ShopReply* failed) {
    Lease db(*this);
    if (db.get() == nullptr) {
      *failed = Error(503, "no database connection within the pool timeout");
      return Rows(nullptr, &PQclear);
    }
    const std::string text = std::to_string(param);
    const char* values[] = {text.c_str()};
    Rows res(PQexecPrepared(db.get(), statement, 1, values, nullptr, nullptr, 0), &PQclear);
    if (PQresultStatus(res.get()) != PGRES_TUPLES_OK) {
      db_errors.fetch_add(1, std::memory_order_relaxed);
      *failed = Error(500, "database: " + PgError(db.get()));
      return Rows(nullptr, &PQclear);
    }
    return res;
  }

  ShopReply Product(Local& local, int64_t id) {
    if (options.downstream_ns > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(options.downstream_ns));
    const std::string key = "product:" + std::to_string(id);
    if (redisContext* r = Cache(local)) {
      auto hit = RedisCommand(r, {"GET", key});
      if (hit && !hit->empty()) {
        cache_hits.fetch_add(1, std::memory_order_relaxed);
        return ShopReply{200, std::move(*hit)};
      }
      (hit ? cache_misses : cache_errors).fetch_add(1, std::memory_order_relaxed);
    } else {
      cache_errors.fetch_add(1, std::memory_order_relaxed);
    }
    ShopReply reply;
    Rows rows = Query("product", id, &reply);
    if (!rows) return reply;
    const PGresult* res = rows.get();
    if (PQntuples(res) == 0) return Error(404, "no such product");
    std::string& b = reply.body;
    b = "{\"id\":" + std::string(PQgetvalue(res, 0, 0)) + ",\"name\":";
    JsonString(&b, PQgetvalue(res, 0, 1));
    b += ",\"price_cents\":" + std::string(PQgetvalue(res, 0, 2)) + ",\"description\":";
    JsonString(&b, PQgetvalue(res, 0, 3));
    b += ",\"reviews\":" + std::string(PQgetvalue(res, 0, 4)) + ",\"stars\":" + PQgetvalue(res, 0, 5) + "}\n";
    if (redisContext* r = Cache(local)) {
      if (!RedisCommand(r, {"SET", key, reply.body, "EX", std::to_string(options.cache_ttl_s)})) {
        cache_errors.fetch_add(1, std::memory_order_relaxed);
      }
    }
    return reply;
  }

  ShopReply Orders(int64_t customer) {
    ShopReply failed;
    Rows rows = Query("orders", customer, &failed);
    if (!rows) return failed;
    const PGresult* res = rows.get();
    std::string b = "{\"customer\":" + std::to_string(customer) + ",\"orders\":[";
    for (int i = 0; i < PQntuples(res); ++i) {
      if (i) b += ',';
      b += "{\"id\":" + std::string(PQgetvalue(res, i, 0)) + ",\"product\":" + PQgetvalue(res, i, 1) +
           ",\"quantity\":" + PQgetvalue(res, i, 2) + ",\"total_cents\":" + PQgetvalue(res, i, 3) + ",\"created_at\":";
      JsonString(&b, PQgetvalue(res, i, 4));
      b += '}';
    }
    b += "]}\n";
    return ShopReply{200, std::move(b)};
  }

  ShopReply PlaceOrder(const std::string& target) {
    int64_t customer = 0, product = 0, quantity = 1;
    const std::string q = QueryParam(target, "quantity");
    if (!ParseId(QueryParam(target, "customer"), &customer) || !ParseId(QueryParam(target, "product"), &product) ||
        (!q.empty() && (!ParseId(q, &quantity) || quantity > 100))) {
      return Error(400, "POST /shop/orders?customer=ID&product=ID[&quantity=1..100]");
    }
    Lease db(*this);
    if (db.get() == nullptr) return Error(503, "no database connection within the pool timeout");
    PGconn* c = db.get();
    auto fail = [&](PGresult* res) {
      std::string err = PgError(c);
      PQclear(res);
      PQclear(PQexec(c, "ROLLBACK"));
      db_errors.fetch_add(1, std::memory_order_relaxed);
      return Error(500, "database: " + err);
    };
    PGresult* res = PQexec(c, "BEGIN");
    if (PQresultStatus(res) != PGRES_COMMAND_OK) return fail(res);
    PQclear(res);
    const std::string p = std::to_string(product), n = std::to_string(quantity), cu = std::to_string(customer);
    const char* reserve[] = {p.c_str(), n.c_str()};
    res = PQexecPrepared(c, "reserve", 2, reserve, nullptr, nullptr, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) return fail(res);
    if (PQntuples(res) == 0) {
      PQclear(res);
      PQclear(PQexec(c, "ROLLBACK"));
      return Error(409, "no such product, or not enough stock");
    }
    const std::string total = std::to_string(std::atoll(PQgetvalue(res, 0, 0)) * quantity);
    PQclear(res);
    const char* insert[] = {cu.c_str(), p.c_str(), n.c_str(), total.c_str()};
    res = PQexecPrepared(c, "insert_order", 4, insert, nullptr, nullptr, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) return fail(res);
    std::string body = "{\"id\":" + std::string(PQgetvalue(res, 0, 0)) + ",\"customer\":" + cu + ",\"product\":" + p +
                       ",\"quantity\":" + n + ",\"total_cents\":" + total + "}\n";
    PQclear(res);
    res = PQexec(c, "COMMIT");
    if (PQresultStatus(res) != PGRES_COMMAND_OK) return fail(res);
    PQclear(res);
    return ShopReply{201, std::move(body)};
  }

  ShopReply Handle(Local& local, const std::string& method, const std::string& target, RouteId* route) {
    std::string_view path = std::string_view(target).substr(0, target.find('?'));
    int64_t id = 0;
    const bool get = method == "GET" || method == "HEAD";
    if (path.starts_with("/shop/products/")) {
      *route = kProduct;
      if (!get) return Error(405, "GET /shop/products/ID");
      if (!ParseId(path.substr(15), &id)) return Error(404, "no such product");
      return Product(local, id);
    }
    if (path.starts_with("/shop/customers/") && path.ends_with("/orders")) {
      *route = kOrders;
      if (!get) return Error(405, "GET /shop/customers/ID/orders");
      if (!ParseId(path.substr(16, path.size() - 16 - 7), &id)) return Error(404, "no such customer");
      return Orders(id);
    }
    if (path == "/shop/orders") {
      *route = kPlaceOrder;
      if (method != "POST") return Error(405, "POST /shop/orders?customer=ID&product=ID");
      return PlaceOrder(target);
    }
    if (path == "/shop/health") {
      *route = kHealth;
      return ShopReply{200, "{\"ok\":true,\"flaws\":\"" + FlawNames(options.flaws) + "\"}\n"};
    }
    *route = kOther;
    return Error(404, "not found");
  }

  void Loop() {
    Local local;
    for (;;) {
      Job job;
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return stopping || !queue.empty(); });
        if (queue.empty()) return;
        job = std::move(queue.front());
        queue.pop_front();
      }
      queued.fetch_sub(1, std::memory_order_relaxed);
      const int64_t start = MonoNowNs();
      wait.Add(start - job.queued_ns);
      active.fetch_add(1, std::memory_order_relaxed);
      RouteId route = kOther;
      ShopReply reply = Handle(local, job.method, job.target, &route);
      active.fetch_sub(1, std::memory_order_relaxed);
      run.Add(MonoNowNs() - start);
      requests[route][std::clamp(reply.status / 100, 1, 5)].fetch_add(1, std::memory_order_relaxed);
      job.done(std::move(reply));
    }
  }
};

Result<std::unique_ptr<Shop>> Shop::Start(const ShopOptions& options) {
  std::unique_ptr<Shop> shop(new Shop());
  shop->impl_ = std::make_unique<Impl>();
  Impl& s = *shop->impl_;
  s.options = options;
  if (options.redis.empty()) return Fail("the shop needs --redis HOST:PORT as well as --postgres");
  auto redis = ParseRedis(options.redis);
  if (!redis) return std::unexpected(redis.error());
  s.redis = *redis;
  if (options.handler_threads < 1 || options.handler_threads > kMaxThreads) {
    return Fail("--handler-threads must be between 1 and " + std::to_string(kMaxThreads));
  }
  if (options.downstream_ns < 0 || options.downstream_ns > 10'000'000'000) {
    return Fail("--downstream-latency must be within 0..10s");
  }
  if (options.db_pool < 1 || options.db_pool > kMaxThreads) {
    return Fail("--db-pool must be between 1 and " + std::to_string(kMaxThreads));
  }
  s.handlers = (options.flaws & kFlawOneThread) ? 1 : options.handler_threads;
  s.pool_size = (options.flaws & kFlawTinyPool) ? 1 : options.db_pool;
  for (int i = 0; i < s.pool_size; ++i) {
    auto c = Connect(options.postgres);
    if (!c) return std::unexpected(c.error());
    s.all.push_back(*c);
    if (i == 0) {
      auto tables = QueryOne(*c, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename IN "
                                 "('products', 'customers', 'orders', 'reviews')");
      if (!tables) return Fail("PostgreSQL: " + tables.error().message);
      if (*tables != "4") return Fail("the shop's tables are not in this database: run once with --init-db");
      if (Status st = ApplyIndexFlaw(*c, options.flaws & kFlawMissingIndex, stderr); !st) {
        return Fail("PostgreSQL: " + st.error().message);
      }
    }
    if (Status st = s.Prepare(*c); !st) return Fail("PostgreSQL: " + st.error().message);
    s.idle.push_back(*c);
  }
  if (Status st = ApplyCacheFlaw(s.redis, options.flaws & kFlawSmallCache, stderr); !st) {
    return std::unexpected(st.error());
  }
  for (int i = 0; i < s.handlers; ++i) s.threads.emplace_back([&s] { s.Loop(); });
  return shop;
}

Shop::~Shop() { Stop(); }

void Shop::Stop() {
  if (!impl_) return;
  std::deque<Impl::Job> left;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (impl_->stopping) return;
    impl_->stopping = true;
    left.swap(impl_->queue);
  }
  impl_->cv.notify_all();
  impl_->pool_cv.notify_all();
  for (auto& t : impl_->threads) t.join();
  for (auto& job : left) job.done(Error(503, "the shop is stopping"));
}

void Shop::Submit(std::string method, std::string target, Done done) {
  Impl& s = *impl_;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    if (!s.stopping) {
      s.queued.fetch_add(1, std::memory_order_relaxed);
      s.queue.push_back(Impl::Job{std::move(method), std::move(target), MonoNowNs(), std::move(done)});
      s.cv.notify_one();
      return;
    }
  }
  done(Error(503, "the shop is stopping"));
}

std::string Shop::Metrics() const {
  const Impl& s = *impl_;
  std::string out;
  char line[1024];
  auto gauge = [&](const char* name, const char* help, const char* labels, double v) {
    std::snprintf(line, sizeof line, "# HELP %s %s\n# TYPE %s gauge\n%s{%s} %.17g\n", name, help, name, name, labels, v);
    out += line;
  };
  auto summary = [&](const char* name, const char* help, const char* labels, const Summary& x) {
    std::snprintf(line, sizeof line, "# HELP %s %s\n# TYPE %s summary\n%s_count{%s} %lld\n%s_sum{%s} %.9f\n", name,
                  help, name, name, labels, static_cast<long long>(x.count.load(std::memory_order_relaxed)), name,
                  labels, Seconds(x.sum_ns.load(std::memory_order_relaxed)));
    out += line;
  };
  auto load = [](const std::atomic<int64_t>& a) { return double(a.load(std::memory_order_relaxed)); };
  const char* ex = "name=\"shop\"";
  const char* pool = "pool=\"shop\"";
  gauge("executor_pool_max_threads", "Handler threads.", ex, s.handlers);
  gauge("executor_active_threads", "Handler threads running a request.", ex, load(s.active));
  gauge("executor_queued_tasks", "Requests waiting for a handler thread.", ex, load(s.queued));
  summary("executor_seconds", "Time handler threads spent on requests.", ex, s.run);
  summary("executor_idle_seconds", "Time requests waited for a handler thread.", ex, s.wait);
  gauge("hikaricp_connections_max", "PostgreSQL connections in the pool.", pool, s.pool_size);
  gauge("hikaricp_connections_active", "Connections lent to handlers.", pool, load(s.conns_active));
  gauge("hikaricp_connections_idle", "Connections waiting in the pool.", pool, s.pool_size - load(s.conns_active));
  gauge("hikaricp_connections_pending", "Handlers waiting for a connection.", pool, load(s.conns_pending));
  summary("hikaricp_connections_acquire_seconds", "Time handlers waited for a connection.", pool, s.acquire);
  summary("hikaricp_connections_usage_seconds", "Time connections were lent out.", pool, s.usage);
  std::snprintf(line, sizeof line,
                "# HELP hikaricp_connections_timeout_total Handlers that gave up waiting for a connection.\n"
                "# TYPE hikaricp_connections_timeout_total counter\nhikaricp_connections_timeout_total{%s} %lld\n",
                pool, static_cast<long long>(s.timeouts.load()));
  out += line;
  out += "# HELP shop_cache_requests_total Product lookups in the cache by result.\n"
         "# TYPE shop_cache_requests_total counter\n";
  for (auto [name, v] : {std::pair{"hit", &s.cache_hits}, {"miss", &s.cache_misses}, {"error", &s.cache_errors}}) {
    std::snprintf(line, sizeof line, "shop_cache_requests_total{result=\"%s\"} %lld\n", name,
                  static_cast<long long>(v->load()));
    out += line;
  }
  out += "# HELP shop_requests_total Requests answered, by route and status class.\n"
         "# TYPE shop_requests_total counter\n";
  for (int r = 0; r < kRoutes; ++r) {
    for (int c = 1; c <= 5; ++c) {
      const long long n = s.requests[r][c].load(std::memory_order_relaxed);
      if (n == 0) continue;
      std::snprintf(line, sizeof line, "shop_requests_total{route=\"%s\",status=\"%dxx\"} %lld\n", kRouteNames[r], c, n);
      out += line;
    }
  }
  std::snprintf(line, sizeof line,
                "# HELP shop_database_errors_total Statements that failed.\n# TYPE shop_database_errors_total "
                "counter\nshop_database_errors_total %lld\n",
                static_cast<long long>(s.db_errors.load()));
  out += line;
  return out;
}

}  // namespace headroom::target
