// The postgres source (libpq): connections by state and wait event vs max_connections,
// transactions, cache hits, temp bytes, deadlocks, lock waits, per-table scans, top statements
// (pg_stat_statements), checkpoints and replication lag. The watcher's own statements carry a
// "headroom-watch" comment so that they are left out of the statement list.
#include <libpq-fe.h>

#include <cctype>

#include "collect/internal.h"

namespace headroom::collect {
namespace {

constexpr std::string_view kWaitTypes[] = {"Activity", "BufferPin", "Client", "Extension", "IO",
                                           "IPC",      "Lock",      "LWLock", "Timeout"};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = c == ' ' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A query result, cleared when it goes out of scope.
class Rows {
 public:
  explicit Rows(PGresult* r) : r_(r) {}
  ~Rows() { PQclear(r_); }
  Rows(const Rows&) = delete;
  Rows& operator=(const Rows&) = delete;
  bool ok() const { return PQresultStatus(r_) == PGRES_TUPLES_OK; }
  int size() const { return PQntuples(r_); }
  std::string_view Text(int row, int col) const { return PQgetvalue(r_, row, col); }
  double Number(int row, int col) const { return ToNumber(Text(row, col)).value_or(0); }
  // One line: the primary message without the query excerpt and caret PostgreSQL adds below it.
  std::string Error() const {
    const char* primary = PQresultErrorField(r_, PG_DIAG_MESSAGE_PRIMARY);
    std::string e = primary != nullptr ? primary : PQresultErrorMessage(r_);
    for (char& c : e) c = c == '\n' ? ' ' : c;
    while (!e.empty() && (e.back() == '\n' || e.back() == ' ')) e.pop_back();
    return e;
  }

 private:
  PGresult* r_;
};

class PostgresSource final : public Source {
 public:
  PostgresSource(const WatchSpec& spec, const SourceOptions& options)
      : label_(spec.label), conninfo_(spec.arg), timeout_s_(std::max<int64_t>(1, options.timeout_ns / 1'000'000'000)) {}
  ~PostgresSource() override { Disconnect(); }
  SourceKind kind() const override { return SourceKind::kPostgres; }
  const std::string& label() const override { return label_; }
  Result<Reading> Read(int64_t now_ns) override;

 private:
  Status Connect();
  void Disconnect();
  Result<std::unique_ptr<Rows>> Query(const char* sql);
  Status ReadActivity(Reading& out);
  Status ReadDatabase(Reading& out);
  Status ReadTables(Reading& out);
  Status ReadServer(Reading& out);
  void ReadStatements(Reading& out);

  std::string label_, conninfo_;
  int64_t timeout_s_;
  PGconn* conn_ = nullptr;
  bool statements_available_ = false;
  std::string statements_note_;
  double max_connections_ = 0;
  int own_statements_ = 0;  // statements this source ran since the previous sample (one commit each)
  RateTracker rates_;
};

void PostgresSource::Disconnect() {
  if (conn_ != nullptr) PQfinish(conn_);
  conn_ = nullptr;
}

Status PostgresSource::Connect() {
  const std::string timeout = std::to_string(timeout_s_);
  // dbname is expanded as a full conninfo (or URI); values in it override the ones before it.
  const char* keys[] = {"connect_timeout", "application_name", "dbname", nullptr};
  const char* values[] = {timeout.c_str(), "headroom-watch", conninfo_.c_str(), nullptr};
  conn_ = PQconnectdbParams(keys, values, 1);
  if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
    std::string e = conn_ != nullptr ? PQerrorMessage(conn_) : "out of memory";
    Disconnect();
    while (!e.empty() && (e.back() == '\n' || e.back() == ' ')) e.pop_back();
    for (char& c : e) c = c == '\n' ? ' ' : c;
    return Fail("cannot connect: " + RedactConninfo(e));
  }
  const std::string set = "SET statement_timeout = " + std::to_string(timeout_s_ * 1000);
  PQclear(PQexec(conn_, set.c_str()));
  auto max = Query("SELECT /* headroom-watch */ current_setting('max_connections')::float8");
  if (!max) return std::unexpected(max.error());
  max_connections_ = (*max)->Number(0, 0);
  // pg_stat_statements needs both the library preloaded and the extension in this database.
  PGresult* probe = PQexec(conn_, "SELECT /* headroom-watch */ calls FROM pg_stat_statements LIMIT 1");
  Rows rows(probe);
  ++own_statements_;
  statements_available_ = rows.ok();
  statements_note_ = statements_available_ ? "from pg_stat_statements"
                                           : "unavailable: pg_stat_statements is not installed in this database (" +
                                                 rows.Error() +
                                                 "); add it to shared_preload_libraries and CREATE EXTENSION "
                                                 "pg_stat_statements";
  return Ok();
}

Result<std::unique_ptr<Rows>> PostgresSource::Query(const char* sql) {
  auto rows = std::make_unique<Rows>(PQexec(conn_, sql));
  ++own_statements_;
  if (!rows->ok()) {
    std::string e = rows->Error();
    if (e.empty()) e = PQerrorMessage(conn_);
    for (char& c : e) c = c == '\n' ? ' ' : c;
    return Fail("query failed: " + e);
  }
  return rows;
}

Status PostgresSource::ReadActivity(Reading& out) {
  auto rows = Query(
      "SELECT /* headroom-watch */ coalesce(state, 'unknown'), coalesce(wait_event_type, ''), count(*) "
      "FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() GROUP BY 1, 2");
  if (!rows) return std::unexpected(rows.error());
  std::map<std::string, double> by_state = {{"active", 0}, {"idle", 0}, {"idle_in_transaction", 0}};
  std::map<std::string, double> by_wait;
  for (std::string_view t : kWaitTypes) by_wait[Lower(t)] = 0;
  double total = 0;
  for (int i = 0; i < (*rows)->size(); ++i) {
    const double n = (*rows)->Number(i, 2);
    total += n;
    by_state[Lower((*rows)->Text(i, 0))] += n;
    // Idle sessions wait on Client by definition; only active ones waiting say something.
    if ((*rows)->Text(i, 0) == "active" && !(*rows)->Text(i, 1).empty()) by_wait[Lower((*rows)->Text(i, 1))] += n;
  }
  out.metrics.push_back(Metric{"connections", total});
  out.metrics.push_back(Metric{"max_connections", max_connections_});
  if (max_connections_ > 0) out.metrics.push_back(Metric{"connections_ratio", total / max_connections_});
  for (const auto& [state, n] : by_state) out.metrics.push_back(Metric{"connections." + state, n});
  for (const auto& [type, n] : by_wait) out.metrics.push_back(Metric{"waiting." + type, n});
  auto locks = Query("SELECT /* headroom-watch */ count(*) FROM pg_locks WHERE NOT granted");
  if (!locks) return std::unexpected(locks.error());
  out.metrics.push_back(Metric{"lock_waits", (*locks)->Number(0, 0)});
  return Ok();
}

Status PostgresSource::ReadDatabase(Reading& out) {
  // sessions (PostgreSQL 14+): connections established, for connections opened per request.
  const bool sessions = PQserverVersion(conn_) >= 140000;
  const std::string sql = std::string("SELECT /* headroom-watch */ sum(xact_commit), sum(xact_rollback), "
                                      "sum(blks_hit), sum(blks_read), sum(temp_bytes), sum(deadlocks)") +
                          (sessions ? ", sum(sessions)" : "") + " FROM pg_stat_database";
  auto rows = Query(sql.c_str());
  if (!rows) return std::unexpected(rows.error());
  const Rows& r = **rows;
  const double interval_s = rates_.interval_s();
  // Every statement of this source is a transaction of its own: leave them out of the commits.
  if (auto d = rates_.Delta("commits", r.Number(0, 0)); d && interval_s > 0) {
    out.metrics.push_back(Metric{"commits_per_s", std::max(0.0, *d - own_statements_) / interval_s, MetricType::kRate});
  }
  rates_.AddRate(out.metrics, "rollbacks_per_s", r.Number(0, 1));
  auto hits = rates_.Delta("blks_hit", r.Number(0, 2));
  auto reads = rates_.Delta("blks_read", r.Number(0, 3));
  if (hits && reads && *hits + *reads > 0) out.metrics.push_back(Metric{"cache_hit_ratio", *hits / (*hits + *reads)});
  if (reads && interval_s > 0) out.metrics.push_back(Metric{"blocks_read_per_s", *reads / interval_s, MetricType::kRate});
  rates_.AddRate(out.metrics, "temp_bytes_per_s", r.Number(0, 4));
  rates_.AddRate(out.metrics, "deadlocks_per_s", r.Number(0, 5));
  if (sessions) rates_.AddRate(out.metrics, "sessions_per_s", r.Number(0, 6));
  return Ok();
}

Status PostgresSource::ReadTables(Reading& out) {
  auto rows = Query(
      "SELECT /* headroom-watch */ schemaname || '.' || relname, seq_scan, coalesce(idx_scan, 0), seq_tup_read "
      "FROM pg_stat_user_tables");
  if (!rows) return std::unexpected(rows.error());
  const double interval_s = rates_.interval_s();
  double seq_scans = 0, idx_scans = 0, seq_rows = 0;
  bool any = interval_s > 0;
  for (int i = 0; i < (*rows)->size(); ++i) {
    const std::string table((*rows)->Text(i, 0));
    auto seq = rates_.DeltaFromZero("t/" + table + "/seq", (*rows)->Number(i, 1));
    auto idx = rates_.DeltaFromZero("t/" + table + "/idx", (*rows)->Number(i, 2));
    auto tup = rates_.DeltaFromZero("t/" + table + "/tup", (*rows)->Number(i, 3));
    if (!seq || !idx || !tup) continue;
    seq_scans += *seq;
    idx_scans += *idx;
    seq_rows += *tup;
    if (*seq + *idx + *tup > 0) {
      out.activity.push_back(Activity{"tables", table, {{"seq_tup_read", *tup}, {"seq_scan", *seq}, {"idx_scan", *idx}}});
    }
  }
  KeepTop(out.activity, 50);
  if (any) {
    out.metrics.push_back(Metric{"seq_scans_per_s", seq_scans / interval_s, MetricType::kRate});
    out.metrics.push_back(Metric{"idx_scans_per_s", idx_scans / interval_s, MetricType::kRate});
    out.metrics.push_back(Metric{"seq_scan_rows_per_s", seq_rows / interval_s, MetricType::kRate});
  }
  return Ok();
}

Status PostgresSource::ReadServer(Reading& out) {
  auto bg = Query("SELECT /* headroom-watch */ checkpoints_timed + checkpoints_req, buffers_checkpoint FROM pg_stat_bgwriter");
  if (!bg) return std::unexpected(bg.error());
  rates_.AddRate(out.metrics, "checkpoints_per_s", (*bg)->Number(0, 0));
  rates_.AddRate(out.metrics, "checkpoint_buffers_per_s", (*bg)->Number(0, 1));
  auto repl = Query(
      "SELECT /* headroom-watch */ pg_is_in_recovery(), (SELECT count(*) FROM pg_stat_replication), "
      "(SELECT coalesce(max(extract(epoch FROM replay_lag)), 0) FROM pg_stat_replication), "
      "CASE WHEN pg_is_in_recovery() THEN coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0) "
      "ELSE 0 END");
  if (!repl) return std::unexpected(repl.error());
  const bool standby = (*repl)->Text(0, 0) == "t";
  const double replicas = (*repl)->Number(0, 1);
  out.metrics.push_back(Metric{"replicas", replicas});
  if (standby) {
    out.metrics.push_back(Metric{"replication_lag_s", (*repl)->Number(0, 3)});
  } else if (replicas > 0) {
    out.metrics.push_back(Metric{"replication_lag_s", (*repl)->Number(0, 2)});
  }
  return Ok();
}

void PostgresSource::ReadStatements(Reading& out) {
  out.attributes.emplace_back("statements", statements_note_);
  if (!statements_available_) return;
  auto rows = Query(
      "SELECT /* headroom-watch */ userid::text || '/' || dbid || '/' || queryid, left(query, 200), calls, "
      "total_exec_time, rows, shared_blks_read FROM pg_stat_statements WHERE query NOT LIKE '%headroom-watch%'");
  if (!rows) {
    out.attributes.back().second = "unavailable: " + rows.error().message;
    return;
  }
  const double interval_s = rates_.interval_s();
  double calls = 0, time_ms = 0;
  std::vector<Activity> statements;
  for (int i = 0; i < (*rows)->size(); ++i) {
    const std::string id((*rows)->Text(i, 0));
    auto c = rates_.DeltaFromZero("s/" + id + "/calls", (*rows)->Number(i, 2));
    auto t = rates_.DeltaFromZero("s/" + id + "/time", (*rows)->Number(i, 3));
    auto r = rates_.DeltaFromZero("s/" + id + "/rows", (*rows)->Number(i, 4));
    auto b = rates_.DeltaFromZero("s/" + id + "/blks", (*rows)->Number(i, 5));
    if (!c || !t || !r || !b || *c <= 0) continue;
    calls += *c;
    time_ms += *t;
    statements.push_back(Activity{"statements", std::string((*rows)->Text(i, 1)),
                                  {{"time_ms", *t}, {"calls", *c}, {"rows", *r}, {"blocks_read", *b}}});
  }
  KeepTop(statements, 20);
  for (Activity& a : statements) out.activity.push_back(std::move(a));
  if (interval_s > 0) {
    out.metrics.push_back(Metric{"statement_calls_per_s", calls / interval_s, MetricType::kRate});
    out.metrics.push_back(Metric{"statement_time_ms_per_s", time_ms / interval_s, MetricType::kRate});
    if (calls > 0) out.metrics.push_back(Metric{"statement_mean_ms", time_ms / calls});
  }
}

Result<Reading> PostgresSource::Read(int64_t now_ns) {
  if (conn_ != nullptr && PQstatus(conn_) != CONNECTION_OK) Disconnect();
  if (conn_ == nullptr) {
    rates_.Reset();
    if (auto s = Connect(); !s) {
      Disconnect();
      return std::unexpected(s.error());
    }
  }
  rates_.Begin(now_ns);
  Reading out;
  Status s = ReadActivity(out);
  if (s) s = ReadDatabase(out);
  own_statements_ = 0;  // counted from here to the next sample's pg_stat_database read
  if (s) s = ReadTables(out);
  if (s) s = ReadServer(out);
  if (!s) {
    Disconnect();
    return std::unexpected(s.error());
  }
  ReadStatements(out);
  rates_.Prune();
  return out;
}

}  // namespace

std::unique_ptr<Source> MakePostgresSource(const WatchSpec& spec, const SourceOptions& options) {
  return std::make_unique<PostgresSource>(spec, options);
}

}  // namespace headroom::collect
