// Port: the ids of new tickets. They must be unguessable (a ticket id is part of what a code proves),
// so implementations draw them from a CSPRNG (app::RandomTicketIds, libsodium); the ledgers take the
// source at construction and never draw randomness themselves.
// Thread safety: next() may be called from any thread.
#pragma once

#include <string>

namespace ticketd::core {

class TicketIdSource {
 public:
  virtual ~TicketIdSource() = default;
  // 32 lower-case hex digits (16 random bytes).
  virtual std::string next() = 0;
};

}  // namespace ticketd::core
