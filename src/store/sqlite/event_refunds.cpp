#include "store/sqlite/event_refunds.hpp"

namespace ticketd::store::sqlite {

std::vector<core::BookingId> SqliteEventRefunds::to_refund(core::BookingId after, uint32_t limit) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare(kToRefundSql);
  st.bind(1, after).bind(2, limit);
  std::vector<core::BookingId> out;
  while (st.step()) out.push_back(st.int64(0));
  st.reset();
  return out;
}

std::vector<std::pair<core::HoldId, core::UserId>> SqliteEventRefunds::holds_to_release(TimeMs now, uint32_t limit) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare("SELECT h.id, h.user_id FROM event_entry x JOIN holds h ON h.event_id = x.event_id "
                        "WHERE x.cancelled_at > 0 AND h.state = 'ACTIVE' AND h.expires_at > ?1 ORDER BY h.id LIMIT ?2");
  st.bind(1, to_unix_ms(now)).bind(2, int64_t{limit});
  std::vector<std::pair<core::HoldId, core::UserId>> out;
  while (st.step()) out.emplace_back(st.int64(0), st.int64(1));
  st.reset();
  return out;
}

core::RefundProgress SqliteEventRefunds::progress(core::EventId event) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare("SELECT COALESCE(SUM(status = 'CONFIRMED'), 0), COALESCE(SUM(status = 'CANCELLED'), 0) "
                        "FROM bookings WHERE event_id = ?1");
  st.bind(1, event);
  core::RefundProgress out;
  if (st.step()) out = {static_cast<uint64_t>(st.int64(0)), static_cast<uint64_t>(st.int64(1))};
  st.reset();
  return out;
}

}  // namespace ticketd::store::sqlite
