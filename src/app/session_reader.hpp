// SessionReader: reads sessions from the store for callers that must not block (app/accounts.hpp,
// authenticate_async).
//
// Why: in a flash sale nearly every request is a buyer this node has not seen, whose session must be
// read before anything else can be decided. Read on a worker, each such request woke a worker, parked
// it on the read (and on the hold's commit after it) and woke it again: a fifth of the machine in a
// distributed sale went to those workers, most of it in the kernel switching threads. Here one thread
// reads whatever is queued, up to kBatchMax sessions in one store call (the store's find_sessions),
// and hands each caller its answer; the caller (the I/O thread's request) goes on from there.
//
// Bounds: at most kQueuedMax reads wait; read() refuses past that (the caller reads on a worker, as
// before). Destruction answers what is still queued (the store must still be there).
// Thread safety: read() from any thread; answers come on the reader's thread.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "base/batch_reader.hpp"
#include "core/ports/account_store.hpp"

namespace ticketd::app {

class SessionReader {
 public:
  static constexpr size_t kQueuedMax = 4'096;
  static constexpr size_t kBatchMax = 64;

  // The session (nullopt: no such session), or Unavailable when the store could not answer.
  using Done = std::function<void(core::Result<std::optional<core::SessionRecord>>)>;

  // REQUIRES: `store` outlives the reader.
  explicit SessionReader(core::AccountStore& store);

  // False (and `done` unused) when the queue is full.
  bool read(std::string token_hash, Done done);

 private:
  BatchReader<std::string, core::SessionRecord> reader_;
};

}  // namespace ticketd::app
