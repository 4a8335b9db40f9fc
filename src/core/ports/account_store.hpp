// Port: users and sessions. Implemented by store/sqlite (embedded) and later store/postgres.
// Thread safety: implementations are safe to call from any thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/notification.hpp"
#include "core/result.hpp"
#include "core/types.hpp"

namespace ticketd::core {

struct StoredUser {
  User user;
  std::string password_hash;  // libsodium crypto_pwhash_str output (Argon2id)
};

// One user of a bulk provision: its email (lower-cased) and the hash of the session token issued to it.
struct ProvisionedUser {
  std::string email;
  std::string token_hash;  // SHA-256 of the bearer token, hex
};

// A session and its account, read together: authenticating a token the session cache does not hold
// costs one read of the store, not two.
struct SessionRecord {
  User user;
  TimeMs expires_at{};
};

class AccountStore {
 public:
  virtual ~AccountStore() = default;
  // EmailTaken if the (lower-cased) email exists. Durable before it returns.
  virtual Result<User> create_user(const std::string& email, const std::string& name,
                                   const std::string& password_hash, Role role, TimeMs now) = 0;
  // Creates every user (role User, the same name and password hash) with one session each, all or
  // nothing: EmailTaken, and nothing created, if any email exists. Durable before it returns. Returns
  // the ids in the order of `users`. REQUIRES: users.size() <= limits::provisioned_users_per_request_max.
  virtual Result<std::vector<UserId>> create_users_bulk(const std::vector<ProvisionedUser>& users,
                                                        const std::string& name, const std::string& password_hash,
                                                        TimeMs now, TimeMs session_expires_at) = 0;
  virtual std::optional<StoredUser> find_user_by_email(const std::string& email) = 0;
  virtual std::optional<User> find_user(UserId id) = 0;
  // token_hash: SHA-256 of the bearer token, hex. The token itself is never stored.
  virtual Status create_session(const std::string& token_hash, UserId user, TimeMs expires_at) = 0;
  // nullopt: no such session, or its user is gone.
  virtual std::optional<SessionRecord> find_session(const std::string& token_hash) = 0;
  // The same for many, answered in their order (app/session_reader.hpp reads in batches). A store that
  // reads them in one statement overrides it; this reads them one at a time.
  virtual std::vector<std::optional<SessionRecord>> find_sessions(const std::vector<std::string>& token_hashes) {
    std::vector<std::optional<SessionRecord>> out;
    out.reserve(token_hashes.size());
    for (const std::string& hash : token_hashes) out.push_back(find_session(hash));
    return out;
  }
  virtual Status delete_session(const std::string& token_hash) = 0;
  // Ends every session of `user` but the one whose hash is `keep_token_hash` ("" keeps none).
  // Durable before it returns.
  virtual Status delete_sessions_of(UserId user, const std::string& keep_token_hash) = 0;
  // Replaces the user's password hash and ends every session but `keep_token_hash`, in one commit.
  virtual Status set_password_hash(UserId user, const std::string& password_hash,
                                   const std::string& keep_token_hash) = 0;
  // Notification choices (defaults when none were stored). Durable before set_ returns. set_ never
  // verifies a phone (only redeeming a code does: AccountTokenStore), and a changed phone is no longer
  // verified, decided in the same statement so a concurrent verification of the old number cannot
  // survive the change.
  virtual NotifyPrefs notify_prefs(UserId user) = 0;
  virtual Status set_notify_prefs(UserId user, const NotifyPrefs& prefs) = 0;
};

}  // namespace ticketd::core
