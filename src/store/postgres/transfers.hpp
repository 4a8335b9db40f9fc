// The distributed TransferStore (core/ports/transfers.hpp) on PostgreSQL: each change is one
// transaction that locks the rows it decides on (FOR UPDATE), so nodes deciding on one ticket or one
// transfer at once go one after the other, each seeing the one before.
// Ownership: borrows the pool. Thread safety: as the port.
#pragma once

#include "core/ports/transfers.hpp"
#include "store/postgres/pg.hpp"

namespace ticketd::store::postgres {

class PgTransferStore final : public core::TransferStore {
 public:
  explicit PgTransferStore(Pool& pool) : pool_(pool) {}
  core::Result<core::Transfer> send(const std::string& ticket_id, core::UserId from, const std::string& to_email,
                                    const std::string& new_ticket_id, TimeMs now) override;
  core::Result<core::Transfer> accept(core::TransferId id, core::UserId user, const std::string& email_key,
                                      TimeMs now) override;
  core::Result<core::Transfer> cancel(core::TransferId id, core::UserId user, TimeMs now) override;
  std::optional<core::Transfer> find(core::TransferId id) override;
  std::vector<core::Transfer> of_user(core::UserId user, const std::string& email_key, uint32_t limit) override;
  std::vector<core::Ticket> tickets_of_owner(core::UserId user, uint32_t limit) override;
  bool booking_has_transfers(core::BookingId booking) override;
  std::pair<uint32_t, uint32_t> sent_since(core::UserId from, const std::string& to_email, TimeMs since) override;

 private:
  core::Result<core::Transfer> decide(core::TransferId id, core::UserId user, const std::string* email_key, TimeMs now);
  Pool& pool_;
};

}  // namespace ticketd::store::postgres
