// Sessions read in batches on a thread of their own (session_reader.hpp).
#include "app/session_reader.hpp"

#include <utility>
#include <vector>

namespace ticketd::app {

SessionReader::SessionReader(core::AccountStore& store)
    : reader_("session-reader", kQueuedMax, kBatchMax,
              [&store](const std::vector<std::string>& hashes) { return store.find_sessions(hashes); }) {}

bool SessionReader::read(std::string token_hash, Done done) {
  return reader_.read(std::move(token_hash),
                      [done = std::move(done)](bool read, std::optional<core::SessionRecord> found) {
                        // Each caller then reads on a worker (app/accounts.hpp): that read answers 503 or logs what
                        // failed.
                        if (!read)
                          return done(core::make_error(core::Code::Unavailable, "sessions cannot be read now"));
                        done(std::move(found));
                      });
}

}  // namespace ticketd::app
