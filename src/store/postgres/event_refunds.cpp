#include "store/postgres/event_refunds.hpp"

namespace ticketd::store::postgres {

std::vector<core::BookingId> PgEventRefunds::to_refund(core::BookingId after, uint32_t limit) {
  return with_connection(pool_, [&](Connection& c) {
    Rows r = c.query(kToRefundSql, {p(after), p(static_cast<int64_t>(limit))});
    std::vector<core::BookingId> out;
    for (int i = 0; i < r.size(); ++i) out.push_back(r.int64(i, 0));
    return out;
  });
}

std::vector<std::pair<core::HoldId, core::UserId>> PgEventRefunds::holds_to_release(TimeMs now, uint32_t limit) {
  return with_connection(pool_, [&](Connection& c) {
    Rows r = c.query("SELECT h.id, h.user_id FROM event_entry x JOIN holds h ON h.event_id = x.event_id "
                     "WHERE x.cancelled_at > 0 AND h.state = 'ACTIVE' AND h.deadline > $1 ORDER BY h.id LIMIT $2",
                     {p(to_unix_ms(now)), p(static_cast<int64_t>(limit))});
    std::vector<std::pair<core::HoldId, core::UserId>> out;
    for (int i = 0; i < r.size(); ++i) out.emplace_back(r.int64(i, 0), r.int64(i, 1));
    return out;
  });
}

core::RefundProgress PgEventRefunds::progress(core::EventId event) {
  return with_connection(pool_, [&](Connection& c) {
    Rows r = c.query("SELECT count(*) FILTER (WHERE status = 'CONFIRMED'), count(*) FILTER (WHERE status = 'CANCELLED') "
                     "FROM bookings WHERE event_id = $1",
                     {p(event)});
    return core::RefundProgress{static_cast<uint64_t>(r.int64(0, 0)), static_cast<uint64_t>(r.int64(0, 1))};
  });
}

}  // namespace ticketd::store::postgres
