// Private to src/target: the three-tier reference shop behind the target's /shop/ routes.
//
// Requests are queued to a pool of handler threads (ShopOptions::handler_threads); a handler
// reads through the Redis cache (cache-aside) and takes a PostgreSQL connection from a fixed pool
// (ShopOptions::db_pool) when it needs the database. The pools are exposed in /metrics with the
// names Java services publish through Micrometer (executor_*, hikaricp_*), so that headroom's
// explain reads this shop exactly as it reads such a service.
//
// Routes:
//   GET  /shop/products/ID            a product with its review summary (cached in Redis), after
//                                     a simulated call to a recommendation service (downstream_ns)
//   GET  /shop/customers/ID/orders    the customer's 20 latest orders
//   POST /shop/orders?customer=ID&product=ID[&quantity=N]   places an order (one transaction)
//   GET  /shop/health                 "ok" once the shop is ready
//
// Thread-safety: Submit and Metrics may be called from any thread; Stop joins the handlers.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/status.h"
#include "target/target.h"

namespace headroom::target {

struct ShopReply {
  int status = 200;
  std::string body;  // JSON
};

class Shop {
 public:
  using Done = std::function<void(ShopReply)>;

  // Connects the database pool, checks the schema, brings the database and the cache to the state
  // the flaws ask for, and starts the handler threads.
  static Result<std::unique_ptr<Shop>> Start(const ShopOptions& options);
  ~Shop();
  Shop(const Shop&) = delete;
  Shop& operator=(const Shop&) = delete;

  static bool IsShopPath(std::string_view path) { return path.substr(0, 6) == "/shop/"; }
  // Queues a request; `done` runs on a handler thread with the reply.
  void Submit(std::string method, std::string target, Done done);
  // The Prometheus text exposition of the pools, the cache and the routes.
  std::string Metrics() const;
  // Stops taking requests, answers the queued ones with 503 and joins the handlers. Idempotent.
  void Stop();

  struct Impl;

 private:
  Shop() = default;
  std::unique_ptr<Impl> impl_;
};

}  // namespace headroom::target
