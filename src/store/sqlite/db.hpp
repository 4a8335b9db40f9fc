// A thin RAII layer over the SQLite C API: connections, cached prepared statements, and a pool
// of read connections. Internal to store/sqlite; nothing outside the adapter sees sqlite3.h.
//
// Errors: an unexpected SQLite error throws DbError (the HTTP layer turns a stray exception into a
// 500 and logs it); expected ones (a UNIQUE constraint) are returned by Statement::step_status().
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace ticketd::store::sqlite {

struct DbError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Statement {
 public:
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  Statement& bind(int index, int64_t value);
  Statement& bind(int index, std::string_view value);
  Statement& bind_null(int index);
  // True while there is a row; throws DbError on error.
  bool step();
  // Runs to completion; returns the SQLite result code (SQLITE_DONE or an error such as SQLITE_CONSTRAINT).
  int step_status();
  int64_t int64(int column) const;
  std::string text(int column) const;
  bool is_null(int column) const;
  void reset();  // REQUIRES: before reuse; also clears bindings

 private:
  sqlite3_stmt* stmt_;
};

class Connection {
 public:
  enum class Mode { ReadWrite, ReadOnly };
  Connection(const std::string& path, Mode mode);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  void exec(const char* sql);
  // A cached prepared statement, reset and ready to bind. Valid until the connection closes;
  // use one at a time per SQL text.
  Statement& prepare(const char* sql);
  int64_t last_insert_rowid() const;
  int changes() const;
  // Resets every cached statement, ending any read transaction a half-stepped one keeps open.
  void reset_all();

 private:
  sqlite3* db_ = nullptr;
  std::unordered_map<const char*, std::unique_ptr<Statement>> cache_;  // keyed by the literal's address
};

// A fixed set of read-only connections. WAL mode lets them read while the writer writes.
// Thread safety: acquire() may be called from any thread; a lease is used by one thread.
class ReadPool {
 public:
  ReadPool(const std::string& path, size_t connections);
  class Lease {
   public:
    Lease(ReadPool& pool, std::unique_ptr<Connection> c) : pool_(pool), c_(std::move(c)) {}
    Lease(const Lease&) = delete;
    ~Lease() { pool_.give_back(std::move(c_)); }
    Connection* operator->() { return c_.get(); }
    Connection& operator*() { return *c_; }

   private:
    ReadPool& pool_;
    std::unique_ptr<Connection> c_;
  };
  Lease acquire();  // blocks while all connections are leased (bounded by the worker threads)

 private:
  void give_back(std::unique_ptr<Connection> c);
  std::mutex mu_;  // guards free_
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> free_;
};

}  // namespace ticketd::store::sqlite
