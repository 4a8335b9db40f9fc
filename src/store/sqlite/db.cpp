#include "store/sqlite/db.hpp"

#include <sqlite3.h>

namespace ticketd::store::sqlite {

namespace {
[[noreturn]] void fail(sqlite3* db, const std::string& what) {
  throw DbError(what + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
}
}  // namespace

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::bind(int index, int64_t value) {
  if (sqlite3_bind_int64(stmt_, index, value) != SQLITE_OK) fail(sqlite3_db_handle(stmt_), "bind");
  return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
  if (sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT) != SQLITE_OK)
    fail(sqlite3_db_handle(stmt_), "bind");
  return *this;
}

Statement& Statement::bind_null(int index) {
  if (sqlite3_bind_null(stmt_, index) != SQLITE_OK) fail(sqlite3_db_handle(stmt_), "bind");
  return *this;
}

bool Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail(sqlite3_db_handle(stmt_), std::string("step ") + sqlite3_sql(stmt_));
}

int Statement::step_status() {
  int rc;
  while ((rc = sqlite3_step(stmt_)) == SQLITE_ROW) {
  }
  return rc == SQLITE_DONE ? SQLITE_DONE : sqlite3_extended_errcode(sqlite3_db_handle(stmt_)) & 0xff;
}

int64_t Statement::int64(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string Statement::text(int column) const {
  const auto* p = sqlite3_column_text(stmt_, column);
  return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(stmt_, column)) : std::string();
}

bool Statement::is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Connection::Connection(const std::string& path, Mode mode) {
  const int flags = mode == Mode::ReadOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (sqlite3_open_v2(path.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw DbError("open " + path + ": " + msg);
  }
  sqlite3_busy_timeout(db_, 5000);
  if (mode == Mode::ReadWrite) {
    // WAL: readers never block the writer. synchronous=FULL: a commit is on disk (fsync) before it
    // returns — that is what makes an acknowledged hold or booking survive kill -9 and power loss.
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=FULL");
  }
  exec("PRAGMA foreign_keys=ON");
}

Connection::~Connection() {
  cache_.clear();
  sqlite3_close(db_);
}

void Connection::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown";
    sqlite3_free(err);
    throw DbError(std::string("exec: ") + msg + " in: " + sql);
  }
}

Statement& Connection::prepare(const char* sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) {
    it->second->reset();
    return *it->second;
  }
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK)
    fail(db_, std::string("prepare ") + sql);
  auto& slot = cache_[sql];
  slot = std::make_unique<Statement>(stmt);
  return *slot;
}

int64_t Connection::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
int Connection::changes() const { return sqlite3_changes(db_); }

void Connection::reset_all() {
  for (auto& [sql, stmt] : cache_) stmt->reset();
}

ReadPool::ReadPool(const std::string& path, size_t connections) {
  for (size_t i = 0; i < connections; ++i)
    free_.push_back(std::make_unique<Connection>(path, Connection::Mode::ReadOnly));
}

ReadPool::Lease ReadPool::acquire() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return !free_.empty(); });
  auto c = std::move(free_.back());
  free_.pop_back();
  return Lease(*this, std::move(c));
}

void ReadPool::give_back(std::unique_ptr<Connection> c) {
  c->reset_all();
  {
    std::lock_guard lock(mu_);
    free_.push_back(std::move(c));
  }
  cv_.notify_one();
}

}  // namespace ticketd::store::sqlite
