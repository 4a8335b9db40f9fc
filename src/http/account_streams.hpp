// Open live streams per account. The transport caps streams per client address
// (--streams-per-ip-max); an account that sends its token from many addresses is capped here too, at
// --streams-per-account-max: each stream of a signed-in caller holds a slot until it closes.
// Anonymous streams hold none (the seat map is public; the address cap is theirs).
//
// Bounded: at most kAccountsMax accounts with open streams; past it a signed-in caller is refused as
// if at its cap. Thread safety: all methods may be called concurrently (mu_).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "core/types.hpp"

namespace ticketd::http {

class AccountStreams : public std::enable_shared_from_this<AccountStreams> {
 public:
  static constexpr size_t kAccountsMax = 100'000;
  // REQUIRES: per_account_max >= 1.
  explicit AccountStreams(uint32_t per_account_max);
  // A slot for one more stream of `user` (released when the returned handle is destroyed), or null
  // when the account has per_account_max streams open.
  std::shared_ptr<void> acquire(core::UserId user);
  uint32_t open(core::UserId user);

 private:
  void release(core::UserId user);
  const uint32_t per_account_max_;
  std::mutex mu_;
  std::unordered_map<core::UserId, uint32_t> open_;  // accounts with at least one stream open
};

}  // namespace ticketd::http
