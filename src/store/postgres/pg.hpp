// A thin RAII layer over libpq: connections with cached prepared statements, results, and a bounded
// pool. Internal to store/postgres; nothing outside the adapter sees libpq-fe.h.
//
// Errors: a failed statement throws PgError carrying the SQLSTATE. Stored functions signal domain
// outcomes with SQLSTATEs of class "TD" (see migrations.cpp), which the adapters map to core::Code;
// connection failures (class 08, or no connection at all) map to Unavailable (503, safe to retry).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/result.hpp"

struct pg_conn;
struct pg_result;

namespace ticketd::store::postgres {

struct PgError : std::runtime_error {
  PgError(std::string sqlstate, std::string message, std::string detail = {})
      : std::runtime_error(message), sqlstate(std::move(sqlstate)), detail(std::move(detail)) {}
  std::string sqlstate;  // "" when the connection itself failed
  std::string detail;
  bool connection_lost() const { return sqlstate.empty() || sqlstate.rfind("08", 0) == 0 || sqlstate == "57P01"; }
  // A deadlock or serialization failure: PostgreSQL rolled the whole transaction back.
  bool contention() const { return sqlstate == "40P01" || sqlstate == "40001"; }
};

class Rows {
 public:
  explicit Rows(pg_result* r) : r_(r) {}
  Rows(Rows&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
  Rows(const Rows&) = delete;
  Rows& operator=(const Rows&) = delete;
  ~Rows();
  int size() const;
  bool empty() const { return size() == 0; }
  bool is_null(int row, int col) const;
  int64_t int64(int row, int col) const;  // 0 for NULL
  std::string text(int row, int col) const;
  bool boolean(int row, int col) const;
  // A PostgreSQL int[]/bigint[] in text form ("{1,2,3}").
  std::vector<int64_t> int_array(int row, int col) const;

 private:
  pg_result* r_;
};

// Parameters in text form; std::nullopt is SQL NULL.
using Param = std::optional<std::string>;
inline Param p(int64_t v) { return std::to_string(v); }
inline Param p(std::string_view v) { return std::string(v); }
inline Param p(const char* v) { return std::string(v); }
inline Param p_null() { return std::nullopt; }
template <typename T>
Param p_array(const std::vector<T>& v) {
  std::string s = "{";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(v[i]);
  }
  return s + "}";
}

// A PostgreSQL text[] literal, every element quoted and escaped.
inline Param p_text_array(const std::vector<std::string>& v) {
  std::string s = "{";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += ',';
    s += '"';
    for (char c : v[i]) {
      if (c == '"' || c == '\\') s += '\\';
      s += c;
    }
    s += '"';
  }
  return s + "}";
}

class Connection {
 public:
  explicit Connection(const std::string& url);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // Runs one statement, prepared once per connection and cached by the address of `sql`: pass string
  // literals only. Throws PgError.
  Rows query(const char* sql, const std::vector<Param>& params = {});
  // Runs a script of statements without parameters (migrations). Throws PgError.
  void exec(const std::string& sql);

  // A pipeline (libpq's pipeline mode): statements sent one after another without waiting for their
  // answers, which sync() then reads together, so that a group commit's statements cost one round trip
  // to PostgreSQL rather than one each. Between send() and sync() nothing else may be run on this
  // connection. For a few statements whose answers are small (the writes of a batch): the connection
  // blocks, and libpq warns that a pipeline sending much while PostgreSQL answers much can fill both
  // sockets' buffers.
  // `sql`: a string literal, prepared once and cached as query()'s.
  void send(const char* sql, const std::vector<Param>& params = {});
  // The answers of the statements sent, in order. Throws the first failure's PgError; the statements
  // after it did not run (inside a transaction, the transaction is then aborted).
  std::vector<Rows> sync();

  bool healthy() const;
  // Drops the connection and its prepared statements and connects again. Throws PgError.
  void reconnect();

 private:
  void connect();
  // Closes a connection left in the middle of a pipeline (of no further use: healthy() is false, and
  // its owner connects again) and says why.
  PgError drop(const std::string& why);
  std::string url_;
  pg_conn* conn_ = nullptr;
  std::unordered_map<const char*, std::string> prepared_;  // SQL text address -> statement name
  // Names are never reused on a connection: a statement forgotten here (its preparation failed, or the
  // server lost it) must not take the name of one the server still has.
  uint64_t statements_named_ = 0;
  // The pipeline's answers to come, in order: a statement's, or its preparation's (`prepares`).
  struct Sent {
    const char* sql;
    bool prepares;
  };
  std::vector<Sent> sent_;
};

// A fixed-size pool. acquire() waits up to wait_max for a free connection, then throws PgError
// (reported as 503). A connection found broken is reconnected before it is handed out.
class Pool {
 public:
  Pool(std::string url, size_t size, std::chrono::milliseconds wait_max = std::chrono::milliseconds(2000));
  ~Pool();

  class Lease {
   public:
    Lease(Pool& pool, std::unique_ptr<Connection> c) : pool_(&pool), c_(std::move(c)) {}
    Lease(Lease&& o) noexcept = default;
    ~Lease();
    Connection* operator->() { return c_.get(); }
    Connection& operator*() { return *c_; }
    // The statement failed because the connection broke: do not return it as if healthy.
    void discard() { broken_ = true; }

   private:
    Pool* pool_;
    std::unique_ptr<Connection> c_;
    bool broken_ = false;
  };
  Lease acquire();
  const std::string& url() const { return url_; }

 private:
  void give_back(std::unique_ptr<Connection> c);
  std::string url_;
  size_t size_;
  std::chrono::milliseconds wait_max_;
  std::mutex mu_;  // guards idle_ and created_
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_;
  size_t created_ = 0;
};

// Runs f(connection) with a pooled connection. A lost connection is retried once on a fresh one when
// `idempotent` (statements safe to repeat: reads, and writes whose retry cannot apply twice);
// otherwise, or if the retry fails too, it becomes core::UnavailableError (503: nothing was decided
// that the client could not ask again). Other PgErrors propagate.
template <typename F>
auto with_connection(Pool& pool, F&& f, bool idempotent = true) {
  for (int attempt = 0;; ++attempt) {
    try {
      auto lease = pool.acquire();
      try {
        return f(*lease);
      } catch (const PgError& e) {
        if (e.connection_lost()) lease.discard();
        throw;
      }
    } catch (const PgError& e) {
      if (!e.connection_lost()) throw;
      if (!idempotent || attempt > 0) throw core::UnavailableError(std::string("database unavailable: ") + e.what());
    }
  }
}

// with_connection, run again when PostgreSQL rolled its transaction back for a deadlock or a
// serialization failure (two transactions took the same seats' rows in different orders: the sweeper's
// expiry and a hold, say), at most kContentionAttemptsMax times in all. Answering 503 "retry" made every
// client do what the server can do at once. REQUIRES: f is one statement, or one transaction it rolls
// back on error, with no effect outside the database (a rolled-back attempt left nothing behind).
inline constexpr int kContentionAttemptsMax = 4;
template <typename F>
auto with_connection_retrying(Pool& pool, F&& f, bool idempotent = true) {
  for (int attempt = 1;; ++attempt) {
    try {
      return with_connection(pool, f, idempotent);
    } catch (const PgError& e) {
      if (!e.contention() || attempt >= kContentionAttemptsMax) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(attempt));  // let the other transaction finish
    }
  }
}

}  // namespace ticketd::store::postgres
