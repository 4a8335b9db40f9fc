// The embedded TransferStore (core/ports/transfers.hpp): each change is one writer job, so it is
// decided on rows no other writer can change meanwhile, and commits whole or not at all.
// Ownership: borrows the Database, which must outlive it. Thread safety: as the port.
#pragma once

#include "core/ports/transfers.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace ticketd::store::sqlite {

class SqliteTransferStore final : public core::TransferStore {
 public:
  explicit SqliteTransferStore(Database& db) : db_(db) {}
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
  Database& db_;
};

}  // namespace ticketd::store::sqlite
