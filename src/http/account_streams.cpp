#include "http/account_streams.hpp"

#include "base/assert.hpp"

namespace ticketd::http {

AccountStreams::AccountStreams(uint32_t per_account_max) : per_account_max_(per_account_max) {
  TICKETD_ASSERT(per_account_max_ >= 1);
}

std::shared_ptr<void> AccountStreams::acquire(core::UserId user) {
  {
    std::lock_guard lock(mu_);
    auto it = open_.find(user);
    if (it == open_.end()) {
      if (open_.size() >= kAccountsMax) return nullptr;
      it = open_.emplace(user, 0).first;
    }
    if (it->second >= per_account_max_) return nullptr;
    ++it->second;
  }
  // The handle keeps this table alive: a stream may outlive the request that opened it.
  class Slot {
   public:
    Slot(std::shared_ptr<AccountStreams> table, core::UserId user) : table_(std::move(table)), user_(user) {}
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot() { table_->release(user_); }

   private:
    std::shared_ptr<AccountStreams> table_;
    core::UserId user_;
  };
  return std::make_shared<Slot>(shared_from_this(), user);
}

void AccountStreams::release(core::UserId user) {
  std::lock_guard lock(mu_);
  auto it = open_.find(user);
  TICKETD_ASSERT(it != open_.end() && it->second > 0);
  if (--it->second == 0) open_.erase(it);
}

uint32_t AccountStreams::open(core::UserId user) {
  std::lock_guard lock(mu_);
  auto it = open_.find(user);
  return it == open_.end() ? 0 : it->second;
}

}  // namespace ticketd::http
