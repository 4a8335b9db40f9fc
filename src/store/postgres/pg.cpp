#include "store/postgres/pg.hpp"

#include <libpq-fe.h>

#include <cstdlib>

#include "base/assert.hpp"

namespace ticketd::store::postgres {

namespace {
PgError error_of(pg_conn* conn, const PGresult* r) {
  if (!r) return PgError("", conn ? PQerrorMessage(conn) : "no connection");
  const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
  const char* message = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
  const char* detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
  if (!state && PQstatus(conn) != CONNECTION_OK) return PgError("", PQerrorMessage(conn));
  return PgError(state ? state : "", message ? message : PQresultErrorMessage(r), detail ? detail : "");
}

}  // namespace

Rows::~Rows() {
  if (r_) PQclear(r_);
}
int Rows::size() const { return PQntuples(r_); }
bool Rows::is_null(int row, int col) const { return PQgetisnull(r_, row, col) != 0; }
int64_t Rows::int64(int row, int col) const {
  if (is_null(row, col)) return 0;
  return std::strtoll(PQgetvalue(r_, row, col), nullptr, 10);
}
std::string Rows::text(int row, int col) const {
  return std::string(PQgetvalue(r_, row, col), static_cast<size_t>(PQgetlength(r_, row, col)));
}
bool Rows::boolean(int row, int col) const { return !is_null(row, col) && PQgetvalue(r_, row, col)[0] == 't'; }
std::vector<int64_t> Rows::int_array(int row, int col) const {
  std::vector<int64_t> out;
  if (is_null(row, col)) return out;
  const char* s = PQgetvalue(r_, row, col);
  while (*s) {
    if (*s == '{' || *s == ',' || *s == '}') {
      ++s;
      continue;
    }
    char* end = nullptr;
    out.push_back(std::strtoll(s, &end, 10));
    if (end == s) break;
    s = end;
  }
  return out;
}

Connection::Connection(const std::string& url) : url_(url) { connect(); }
Connection::~Connection() {
  if (conn_) PQfinish(conn_);
}

void Connection::connect() {
  if (conn_) PQfinish(conn_);
  prepared_.clear();
  statements_named_ = 0;
  sent_.clear();
  conn_ = PQconnectdb(url_.c_str());
  if (PQstatus(conn_) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(conn_);
    PQfinish(conn_);
    conn_ = nullptr;
    throw PgError("", "cannot connect to PostgreSQL: " + msg);
  }
  // Quiet: NOTICEs (e.g. "relation already exists") would go to stderr otherwise.
  PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
}

bool Connection::healthy() const { return conn_ && PQstatus(conn_) == CONNECTION_OK; }
void Connection::reconnect() { connect(); }

Rows Connection::query(const char* sql, const std::vector<Param>& params) {
  TICKETD_ASSERT(sent_.empty());  // a pipeline is synced before anything else runs
  if (!healthy()) throw PgError("", "no connection to PostgreSQL");
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    std::string name = "s" + std::to_string(statements_named_++);
    PGresult* prep = PQprepare(conn_, name.c_str(), sql, static_cast<int>(params.size()), nullptr);
    if (!prep || PQresultStatus(prep) != PGRES_COMMAND_OK) {
      PgError e = error_of(conn_, prep);
      if (prep) PQclear(prep);
      throw e;
    }
    PQclear(prep);
    it = prepared_.emplace(sql, name).first;
  }
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const Param& v : params) values.push_back(v ? v->c_str() : nullptr);
  PGresult* r = PQexecPrepared(conn_, it->second.c_str(), static_cast<int>(values.size()), values.data(), nullptr,
                               nullptr, 0);
  const ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    PgError e = error_of(conn_, r);
    if (r) PQclear(r);
    if (e.sqlstate == "26000") prepared_.erase(sql);  // the server lost it: prepare again next time
    throw e;
  }
  return Rows(r);
}

void Connection::exec(const std::string& sql) {
  TICKETD_ASSERT(sent_.empty());
  if (!healthy()) throw PgError("", "no connection to PostgreSQL");
  PGresult* r = PQexec(conn_, sql.c_str());
  const ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    PgError e = error_of(conn_, r);
    if (r) PQclear(r);
    throw e;
  }
  PQclear(r);
}

PgError Connection::drop(const std::string& why) {
  PQfinish(conn_);
  conn_ = nullptr;
  sent_.clear();
  return PgError("", "PostgreSQL pipeline: " + why);
}

void Connection::send(const char* sql, const std::vector<Param>& params) {
  if (!healthy()) throw PgError("", "no connection to PostgreSQL");
  if (sent_.empty() && PQenterPipelineMode(conn_) != 1) throw drop(PQerrorMessage(conn_));
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    std::string name = "s" + std::to_string(statements_named_++);
    if (PQsendPrepare(conn_, name.c_str(), sql, static_cast<int>(params.size()), nullptr) != 1)
      throw drop(PQerrorMessage(conn_));
    sent_.push_back(Sent{sql, true});
    it = prepared_.emplace(sql, name).first;  // forgotten again by sync() if the preparation fails
  }
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const Param& v : params) values.push_back(v ? v->c_str() : nullptr);
  if (PQsendQueryPrepared(conn_, it->second.c_str(), static_cast<int>(values.size()), values.data(), nullptr, nullptr,
                          0) != 1)
    throw drop(PQerrorMessage(conn_));
  sent_.push_back(Sent{sql, false});
}

std::vector<Rows> Connection::sync() {
  std::vector<Rows> answers;
  if (sent_.empty()) return answers;
  if (PQpipelineSync(conn_) != 1) throw drop(PQerrorMessage(conn_));
  std::optional<PgError> failed;
  for (const Sent& s : sent_) {
    PGresult* r = PQgetResult(conn_);
    if (!r) throw drop(PQerrorMessage(conn_));
    const ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
      if (s.prepares) PQclear(r);
      else answers.emplace_back(r);
    } else {
      // Only the first failure ran; the statements after it answer PGRES_PIPELINE_ABORTED.
      if (st != PGRES_PIPELINE_ABORTED) {
        PgError e = error_of(conn_, r);
        if (s.prepares || e.sqlstate == "26000") prepared_.erase(s.sql);  // prepared again next time
        if (!failed) failed = std::move(e);
      } else if (s.prepares) {
        prepared_.erase(s.sql);
      }
      PQclear(r);
    }
    if (PGresult* extra = PQgetResult(conn_)) {  // each statement's answer ends with a null
      PQclear(extra);
      throw drop("a statement answered more than one result");
    }
  }
  PGresult* r = PQgetResult(conn_);
  const bool synced = r && PQresultStatus(r) == PGRES_PIPELINE_SYNC;
  if (r) PQclear(r);
  if (!synced || PQexitPipelineMode(conn_) != 1) throw drop("the pipeline did not end as it was sent");
  sent_.clear();
  if (failed) throw *failed;
  return answers;
}

Pool::Pool(std::string url, size_t size, std::chrono::milliseconds wait_max)
    : url_(std::move(url)), size_(size), wait_max_(wait_max) {
  TICKETD_ASSERT(size_ > 0);
}
Pool::~Pool() = default;

Pool::Lease::~Lease() {
  if (!c_) return;
  if (broken_ || !c_->healthy()) c_.reset();  // give_back(nullptr) frees the slot for a new connection
  pool_->give_back(std::move(c_));
}

Pool::Lease Pool::acquire() {
  std::unique_lock lock(mu_);
  if (!cv_.wait_for(lock, wait_max_, [&] { return !idle_.empty() || created_ < size_; }))
    throw PgError("", "no PostgreSQL connection free (pool exhausted)");
  if (!idle_.empty()) {
    auto c = std::move(idle_.back());
    idle_.pop_back();
    return Lease(*this, std::move(c));
  }
  ++created_;
  lock.unlock();
  try {
    return Lease(*this, std::make_unique<Connection>(url_));
  } catch (...) {
    std::lock_guard relock(mu_);
    --created_;
    cv_.notify_one();
    throw;
  }
}

void Pool::give_back(std::unique_ptr<Connection> c) {
  {
    std::lock_guard lock(mu_);
    if (c) idle_.push_back(std::move(c));
    else --created_;
  }
  cv_.notify_one();
}

}  // namespace ticketd::store::postgres
