#include "store/sqlite/totp_store.hpp"

namespace ticketd::store::sqlite {

std::optional<core::TotpRecord> SqliteTotpStore::find(core::UserId user) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare("SELECT secret_hex, enabled, last_step FROM user_totp WHERE user_id = ?1");
  st.bind(1, user);
  std::optional<core::TotpRecord> out;
  if (st.step()) out = core::TotpRecord{st.text(0), st.int64(1) != 0, st.int64(2)};
  st.reset();
  return out;
}

bool SqliteTotpStore::begin_enrolment(core::UserId user, const std::string& secret_hex, TimeMs now) {
  bool done = false;
  auto s = db_.writer().run([&](Connection& c) -> core::Status {
    c.prepare("INSERT INTO user_totp(user_id, secret_hex, enabled, last_step, created_at) VALUES(?1, ?2, 0, 0, ?3) "
              "ON CONFLICT(user_id) DO UPDATE SET secret_hex = excluded.secret_hex, last_step = 0, "
              "created_at = excluded.created_at WHERE enabled = 0")
        .bind(1, user).bind(2, secret_hex).bind(3, to_unix_ms(now)).step_status();
    done = c.changes() == 1;
    return core::ok_status();
  });
  return s && done;
}

bool SqliteTotpStore::accept_step(core::UserId user, int64_t step, bool enable) {
  bool done = false;
  auto s = db_.writer().run([&](Connection& c) -> core::Status {
    c.prepare("UPDATE user_totp SET last_step = ?2, enabled = CASE WHEN ?3 THEN 1 ELSE enabled END "
              "WHERE user_id = ?1 AND last_step < ?2 AND (?3 OR enabled = 1)")
        .bind(1, user).bind(2, step).bind(3, int64_t{enable ? 1 : 0}).step_status();
    done = c.changes() == 1;
    return core::ok_status();
  });
  return s && done;
}

core::Status SqliteTotpStore::remove(core::UserId user) {
  return db_.writer().run([&](Connection& c) -> core::Status {
    c.prepare("DELETE FROM user_totp WHERE user_id = ?1").bind(1, user).step_status();
    return core::ok_status();
  });
}

}  // namespace ticketd::store::sqlite
