// The redis source (hiredis): INFO all and SLOWLOG GET 1 once per sample. Each sample sends two
// commands, which are left out of ops/s and of the command list.
#include <hiredis/hiredis.h>

#include <cctype>
#include <charconv>

#include "collect/internal.h"

namespace headroom::collect {
namespace {

constexpr double kOwnCommands = 2;  // INFO and SLOWLOG per sample

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

// "key:value" lines of INFO.
std::map<std::string, std::string, std::less<>> ParseInfo(std::string_view text) {
  std::map<std::string, std::string, std::less<>> out;
  for (std::string_view line : SplitLines(text)) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    out.emplace(std::string(line.substr(0, colon)), std::string(line.substr(colon + 1)));
  }
  return out;
}

// "calls=10,usec=20,usec_per_call=2.00" -> the value of `key`.
std::optional<double> SubField(std::string_view text, std::string_view key) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(',', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view item = text.substr(pos, end - pos);
    if (item.starts_with(key) && item.size() > key.size() && item[key.size()] == '=') {
      return ToNumber(item.substr(key.size() + 1));
    }
    pos = end + 1;
  }
  return std::nullopt;
}

class RedisSource final : public Source {
 public:
  RedisSource(const WatchSpec& spec, const SourceOptions& options) : label_(spec.label), timeout_ns_(options.timeout_ns) {
    const size_t colon = spec.arg.rfind(':');
    host_ = spec.arg.substr(0, colon);
    if (colon != std::string::npos) {
      std::string_view p = std::string_view(spec.arg).substr(colon + 1);
      std::from_chars(p.data(), p.data() + p.size(), port_);
    }
  }
  ~RedisSource() override { Disconnect(); }
  SourceKind kind() const override { return SourceKind::kRedis; }
  const std::string& label() const override { return label_; }
  Result<Reading> Read(int64_t now_ns) override;

 private:
  Status Connect();
  void Disconnect();
  Result<Reply> Command(const char* command);
  void AddInfo(const std::map<std::string, std::string, std::less<>>& info, Reading& out);
  void AddCommands(const std::map<std::string, std::string, std::less<>>& info, Reading& out);

  std::string label_, host_;
  int port_ = 6379;
  int64_t timeout_ns_;
  redisContext* ctx_ = nullptr;
  RateTracker rates_;
};

void RedisSource::Disconnect() {
  if (ctx_ != nullptr) redisFree(ctx_);
  ctx_ = nullptr;
}

Status RedisSource::Connect() {
  timeval tv{static_cast<time_t>(timeout_ns_ / 1'000'000'000), static_cast<suseconds_t>(timeout_ns_ % 1'000'000'000 / 1000)};
  ctx_ = redisConnectWithTimeout(host_.c_str(), port_, tv);
  if (ctx_ == nullptr || ctx_->err != 0) {
    std::string e = ctx_ != nullptr ? ctx_->errstr : "out of memory";
    Disconnect();
    return Fail("cannot connect to " + host_ + ":" + std::to_string(port_) + ": " + e);
  }
  redisSetTimeout(ctx_, tv);
  return Ok();
}

Result<Reply> RedisSource::Command(const char* command) {
  Reply reply(static_cast<redisReply*>(redisCommand(ctx_, command)));
  if (!reply) return Fail(std::string(command) + " failed: " + (ctx_->errstr[0] != '\0' ? ctx_->errstr : "no answer"));
  if (reply->type == REDIS_REPLY_ERROR) return Fail(std::string(command) + " failed: " + std::string(reply->str, reply->len));
  return reply;
}

void RedisSource::AddInfo(const std::map<std::string, std::string, std::less<>>& info, Reading& out) {
  auto num = [&](std::string_view key) -> std::optional<double> {
    auto it = info.find(key);
    return it == info.end() ? std::nullopt : ToNumber(it->second);
  };
  const double interval_s = rates_.interval_s();
  if (auto v = num("total_commands_processed")) {
    if (auto d = rates_.Delta("ops", *v); d && interval_s > 0) {
      out.metrics.push_back(Metric{"ops_per_s", std::max(0.0, *d - kOwnCommands) / interval_s, MetricType::kRate});
    }
  }
  auto hits = rates_.Delta("hits", num("keyspace_hits").value_or(0));
  auto misses = rates_.Delta("misses", num("keyspace_misses").value_or(0));
  if (hits && misses && interval_s > 0) {
    out.metrics.push_back(Metric{"hits_per_s", *hits / interval_s, MetricType::kRate});
    out.metrics.push_back(Metric{"misses_per_s", *misses / interval_s, MetricType::kRate});
    out.metrics.push_back(Metric{"lookups_per_s", (*hits + *misses) / interval_s, MetricType::kRate});
    if (*hits + *misses > 0) out.metrics.push_back(Metric{"hit_ratio", *hits / (*hits + *misses)});
  }
  rates_.AddRate(out.metrics, "evictions_per_s", num("evicted_keys").value_or(0));
  rates_.AddRate(out.metrics, "expirations_per_s", num("expired_keys").value_or(0));
  rates_.AddRate(out.metrics, "rejected_connections_per_s", num("rejected_connections").value_or(0));
  rates_.AddRate(out.metrics, "connections_received_per_s", num("total_connections_received").value_or(0));
  const double used = num("used_memory").value_or(0), max = num("maxmemory").value_or(0);
  out.metrics.push_back(Metric{"used_memory_bytes", used});
  out.metrics.push_back(Metric{"maxmemory_bytes", max});
  if (max > 0) out.metrics.push_back(Metric{"memory_ratio", used / max});
  if (auto it = info.find("maxmemory_policy"); it != info.end()) out.attributes.emplace_back("maxmemory_policy", it->second);
  // This source's own connection is left out.
  out.metrics.push_back(Metric{"connected_clients", std::max(0.0, num("connected_clients").value_or(1) - 1)});
  out.metrics.push_back(Metric{"blocked_clients", num("blocked_clients").value_or(0)});
  double keys = 0;
  for (const auto& [k, v] : info) {
    if (k.starts_with("db") && k.size() > 2 && std::isdigit(static_cast<unsigned char>(k[2]))) keys += SubField(v, "keys").value_or(0);
  }
  out.metrics.push_back(Metric{"keys", keys});
  // Redis runs commands on its main thread: its CPU near 1.0 core is saturation. Versions before
  // 6.2 report only the whole process.
  auto main_sys = num("used_cpu_sys_main_thread"), main_user = num("used_cpu_user_main_thread");
  const bool per_thread = main_sys && main_user;
  const double cpu_s = per_thread ? *main_sys + *main_user
                                  : num("used_cpu_sys").value_or(0) + num("used_cpu_user").value_or(0);
  if (auto d = rates_.Delta("cpu", cpu_s); d && interval_s > 0) {
    out.metrics.push_back(Metric{"main_thread_cpu_cores", *d / interval_s});
  }
  out.attributes.emplace_back("cpu", per_thread ? "main thread" : "whole process (no per-thread CPU in this Redis)");
}

void RedisSource::AddCommands(const std::map<std::string, std::string, std::less<>>& info, Reading& out) {
  for (const auto& [key, value] : info) {
    if (!key.starts_with("cmdstat_")) continue;
    const std::string name = key.substr(8);
    auto calls = rates_.DeltaFromZero("c/" + name + "/calls", SubField(value, "calls").value_or(0));
    auto usec = rates_.DeltaFromZero("c/" + name + "/usec", SubField(value, "usec").value_or(0));
    if (!calls || !usec) continue;
    double own = (name == "info" || name == "slowlog|get" || name == "slowlog") ? 1 : 0;
    const double c = std::max(0.0, *calls - own);
    if (c > 0) out.activity.push_back(Activity{"commands", name, {{"time_ms", *usec / 1000}, {"calls", c}}});
  }
  KeepTop(out.activity, 20);
}

Result<Reading> RedisSource::Read(int64_t now_ns) {
  if (ctx_ != nullptr && ctx_->err != 0) Disconnect();
  if (ctx_ == nullptr) {
    rates_.Reset();
    if (auto s = Connect(); !s) return std::unexpected(s.error());
  }
  auto info_reply = Command("INFO all");
  auto slow = info_reply ? Command("SLOWLOG GET 1") : Result<Reply>(Fail(""));
  if (!info_reply || !slow) {
    Disconnect();
    return std::unexpected(!info_reply ? info_reply.error() : slow.error());
  }
  if ((*info_reply)->type != REDIS_REPLY_STRING && (*info_reply)->type != REDIS_REPLY_STATUS) {
    Disconnect();
    return Fail("INFO answered something other than text");
  }
  rates_.Begin(now_ns);
  Reading out;
  const auto info = ParseInfo(std::string_view((*info_reply)->str, (*info_reply)->len));
  AddInfo(info, out);
  AddCommands(info, out);
  // Slow-log ids count up from 0 and survive SLOWLOG RESET: the newest id + 1 is the number of
  // entries ever added.
  double slow_total = 0;
  const redisReply* r = slow->get();
  if (r->type == REDIS_REPLY_ARRAY && r->elements > 0 && r->element[0]->type == REDIS_REPLY_ARRAY &&
      r->element[0]->elements > 0 && r->element[0]->element[0]->type == REDIS_REPLY_INTEGER) {
    slow_total = static_cast<double>(r->element[0]->element[0]->integer) + 1;
  }
  rates_.AddRate(out.metrics, "slowlog_added_per_s", slow_total);
  rates_.Prune();
  return out;
}

}  // namespace

std::unique_ptr<Source> MakeRedisSource(const WatchSpec& spec, const SourceOptions& options) {
  return std::make_unique<RedisSource>(spec, options);
}

}  // namespace headroom::collect
