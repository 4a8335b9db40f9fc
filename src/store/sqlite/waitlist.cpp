#include "store/sqlite/waitlist.hpp"

#include <sqlite3.h>

#include <tuple>

#include "core/limits.hpp"

namespace ticketd::store::sqlite {

using core::Code;
using core::make_error;

namespace {

// Literals: the statement cache is keyed by their addresses.
constexpr const char* kList =
    "SELECT open, enabled, offer_ttl_s, draw_window_s, opened_at, seed, commitment, waiting, offered, "
    "resale_open_sale FROM waitlists WHERE event_id = ?1";
constexpr const char* kEntryOf =
    "SELECT id, event_id, user_id, quantity, together, tier, score, joined_at, state, hold_id, offered_at, ended_at "
    "FROM waitlist_entries WHERE event_id = ?1 AND user_id = ?2 ORDER BY id DESC LIMIT 1";
constexpr const char* kWaiting =
    "SELECT id, event_id, user_id, quantity, together, tier, score, joined_at, state, hold_id, offered_at, ended_at "
    "FROM waitlist_entries WHERE event_id = ?1 AND state = 'WAITING' AND score > ?2 ORDER BY score LIMIT ?3";
constexpr const char* kOffered =
    "SELECT id, event_id, user_id, quantity, together, tier, score, joined_at, state, hold_id, offered_at, ended_at "
    "FROM waitlist_entries WHERE event_id = ?1 AND state = 'OFFERED' AND (offered_at, id) > (?2, ?3) "
    "AND offered_at <= ?4 ORDER BY offered_at, id LIMIT ?5";

core::WaitlistEntry entry_from(const Statement& st) {
  core::WaitlistEntry e;
  e.id = st.int64(0);
  e.event_id = st.int64(1);
  e.user_id = st.int64(2);
  e.quantity = static_cast<uint32_t>(st.int64(3));
  e.together = st.int64(4) != 0;
  e.tier = st.text(5);
  e.score = static_cast<uint64_t>(st.int64(6));
  e.joined_at = from_unix_ms(st.int64(7));
  // A state this code does not know is treated as ended: nothing more happens to the entry.
  e.state = core::waitlist_state_from(st.text(8)).value_or(core::WaitlistState::Left);
  e.hold_id = st.int64(9);
  e.offered_at = from_unix_ms(st.int64(10));
  e.ended_at = from_unix_ms(st.int64(11));
  return e;
}

std::vector<core::WaitlistEntry> entries(Statement& st) {
  std::vector<core::WaitlistEntry> out;
  while (st.step()) out.push_back(entry_from(st));
  st.reset();
  return out;
}

core::WaitlistRecord read_list(Connection& c, core::EventId event) {
  core::WaitlistRecord r;
  r.event_id = event;
  auto& st = c.prepare(kList);
  st.bind(1, event);
  if (st.step()) {
    r.settings.open = st.int64(0) != 0;
    r.settings.enabled = st.int64(1) != 0;
    r.settings.offer_ttl_s = static_cast<uint32_t>(st.int64(2));
    r.settings.draw_window_s = static_cast<uint32_t>(st.int64(3));
    r.opened = !st.is_null(4);
    if (r.opened) r.opened_at = from_unix_ms(st.int64(4));
    r.seed_hex = st.text(5);
    r.commitment = st.text(6);
    r.waiting = static_cast<uint64_t>(st.int64(7));
    r.settings.resale_open_sale = st.int64(9) != 0;
    r.offered = static_cast<uint64_t>(st.int64(8));
  }
  st.reset();
  return r;
}

std::optional<core::WaitlistEntry> read_entry_of(Connection& c, core::EventId event, core::UserId user) {
  auto& st = c.prepare(kEntryOf);
  st.bind(1, event).bind(2, user);
  std::optional<core::WaitlistEntry> out;
  if (st.step()) out = entry_from(st);
  st.reset();
  return out;
}

// Keeps the list's counts with an entry's change from `from` to `to` (either may be an ended state).
void recount(Connection& c, core::EventId event, std::optional<core::WaitlistState> from, core::WaitlistState to) {
  auto delta = [&](core::WaitlistState s) {
    return int64_t{to == s} - int64_t{from == s};
  };
  c.prepare("UPDATE waitlists SET waiting = waiting + ?2, offered = offered + ?3 WHERE event_id = ?1")
      .bind(1, event).bind(2, delta(core::WaitlistState::Waiting)).bind(3, delta(core::WaitlistState::Offered))
      .step_status();
}

}  // namespace

core::WaitlistRecord SqliteWaitlistStore::list(core::EventId event) {
  auto r = db_.readers().acquire();
  return read_list(*r, event);
}

core::Status SqliteWaitlistStore::set_settings(core::EventId event, const core::WaitlistSettings& s) {
  return db_.writer().run([&](Connection& c) -> core::Status {
    c.prepare("INSERT INTO waitlists(event_id, open, enabled, offer_ttl_s, draw_window_s, resale_open_sale) "
              "VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(event_id) DO UPDATE SET open = ?2, enabled = ?3, "
              "offer_ttl_s = ?4, draw_window_s = ?5, resale_open_sale = ?6")
        .bind(1, event).bind(2, int64_t{s.open}).bind(3, int64_t{s.enabled}).bind(4, int64_t{s.offer_ttl_s})
        .bind(5, int64_t{s.draw_window_s}).bind(6, int64_t{s.resale_open_sale}).step_status();
    return core::ok_status();
  });
}

core::Result<core::JoinedEntry> SqliteWaitlistStore::join(const core::WaitlistJoin& j, const std::string& fresh_seed_hex,
                                                          const std::string& fresh_commitment,
                                                          const std::function<uint64_t(const std::string&)>& early_score,
                                                          TimeMs now) {
  core::JoinedEntry out;
  auto job = [&](Connection& c) -> core::Status {
    if (auto mine = read_entry_of(c, j.event_id, j.user_id); mine && core::is_active(mine->state)) {
      out = core::JoinedEntry{*mine, false};
      return core::ok_status();
    }
    // The first join opens the list: its draw's seed is fixed (and committed to) now.
    c.prepare("INSERT INTO waitlists(event_id) VALUES(?1) ON CONFLICT(event_id) DO NOTHING").bind(1, j.event_id)
        .step_status();
    if (const core::WaitlistRecord now_list = read_list(c, j.event_id);
        now_list.waiting + now_list.offered >= core::limits::waitlist_entries_max)
      return make_error(Code::QueueFull, "this waiting list is full");
    c.prepare("UPDATE waitlists SET opened_at = ?2, seed = ?3, commitment = ?4 WHERE event_id = ?1 AND opened_at IS NULL")
        .bind(1, j.event_id).bind(2, to_unix_ms(now)).bind(3, fresh_seed_hex).bind(4, fresh_commitment).step_status();
    const core::WaitlistRecord list = read_list(c, j.event_id);
    uint64_t score = 0;
    if (now < list.draw_at()) {
      score = early_score(list.seed_hex);
    } else {
      auto& seq = c.prepare("UPDATE waitlists SET next_seq = next_seq + 1 WHERE event_id = ?1 RETURNING next_seq");
      seq.bind(1, j.event_id);
      const bool stepped = seq.step();
      TICKETD_ASSERT(stepped);  // the row was inserted above, in this transaction
      score = core::kLateScoreBase + static_cast<uint64_t>(seq.int64(0));
      seq.reset();
    }
    auto& ins = c.prepare(
        "INSERT INTO waitlist_entries(event_id, user_id, quantity, together, tier, score, joined_at, state) "
        "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, 'WAITING')");
    ins.bind(1, j.event_id).bind(2, j.user_id).bind(3, int64_t{j.want.quantity}).bind(4, int64_t{j.want.together})
        .bind(5, j.want.tier).bind(6, static_cast<int64_t>(score)).bind(7, to_unix_ms(now));
    if (ins.step_status() != SQLITE_DONE) return make_error(Code::Unavailable, "could not add the entry");
    recount(c, j.event_id, std::nullopt, core::WaitlistState::Waiting);
    out = core::JoinedEntry{core::WaitlistEntry{c.last_insert_rowid(), j.event_id, j.user_id, j.want.quantity,
                                                j.want.together, j.want.tier, score, now},
                            true};
    return core::ok_status();
  };
  if (auto s = db_.writer().run(job); !s) return s.error();
  return out;
}

std::optional<core::WaitlistEntry> SqliteWaitlistStore::entry_of(core::EventId event, core::UserId user) {
  auto r = db_.readers().acquire();
  return read_entry_of(*r, event, user);
}

std::vector<uint64_t> SqliteWaitlistStore::waiting_scores(core::EventId event) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare("SELECT score FROM waitlist_entries WHERE event_id = ?1 AND state = 'WAITING' ORDER BY score "
                        "LIMIT ?2");
  st.bind(1, event).bind(2, static_cast<int64_t>(core::limits::waitlist_entries_max));
  std::vector<uint64_t> out;
  while (st.step()) out.push_back(static_cast<uint64_t>(st.int64(0)));
  st.reset();
  return out;
}

std::vector<core::WaitlistEntry> SqliteWaitlistStore::waiting(core::EventId event, uint64_t after_score, uint32_t limit) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare(kWaiting);
  // -1: the first page (scores start at 0).
  st.bind(1, event).bind(2, after_score == 0 ? int64_t{-1} : static_cast<int64_t>(after_score)).bind(3, int64_t{limit});
  return entries(st);
}

std::vector<core::WaitlistEntry> SqliteWaitlistStore::offered(core::EventId event, core::OfferCursor after,
                                                              TimeMs offered_before, uint32_t limit) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare(kOffered);
  st.bind(1, event).bind(2, to_unix_ms(after.offered_at)).bind(3, after.id).bind(4, to_unix_ms(offered_before))
      .bind(5, int64_t{limit});
  return entries(st);
}

std::vector<core::EventId> SqliteWaitlistStore::active_events(core::EventId after, uint32_t limit) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare("SELECT DISTINCT event_id FROM waitlist_entries WHERE state IN ('WAITING','OFFERED') "
                        "AND event_id > ?1 ORDER BY event_id LIMIT ?2");
  st.bind(1, after).bind(2, int64_t{limit});
  std::vector<core::EventId> out;
  while (st.step()) out.push_back(st.int64(0));
  st.reset();
  return out;
}

std::pair<uint64_t, uint64_t> SqliteWaitlistStore::offers_since(core::EventId event, TimeMs since) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare("SELECT count(*), coalesce(sum(quantity), 0) FROM waitlist_entries "
                        "WHERE event_id = ?1 AND offered_at > ?2");
  st.bind(1, event).bind(2, to_unix_ms(since));
  std::pair<uint64_t, uint64_t> out;
  if (st.step()) out = {static_cast<uint64_t>(st.int64(0)), static_cast<uint64_t>(st.int64(1))};
  st.reset();
  return out;
}

core::WaitlistCounts SqliteWaitlistStore::counts(core::EventId event, TimeMs now) {
  core::WaitlistCounts out;
  {
    auto r = db_.readers().acquire();
    auto& st = r->prepare("SELECT state, count(*) FROM waitlist_entries WHERE event_id = ?1 GROUP BY state");
    st.bind(1, event);
    while (st.step())
      out.add(core::waitlist_state_from(st.text(0)).value_or(core::WaitlistState::Left),
              static_cast<uint64_t>(st.int64(1)));
    st.reset();
  }  // offers_since takes a reader of its own
  std::tie(out.offers_last_hour, out.seats_offered_last_hour) = offers_since(event, now - std::chrono::hours(1));
  return out;
}

bool SqliteWaitlistStore::mark_offered(const core::WaitlistEntry& entry, core::HoldId hold, TimeMs now) {
  bool marked = false;
  auto s = db_.writer().run([&](Connection& c) -> core::Status {
    c.prepare("UPDATE waitlist_entries SET state = 'OFFERED', hold_id = ?2, offered_at = ?3 "
              "WHERE id = ?1 AND state = 'WAITING'")
        .bind(1, entry.id).bind(2, hold).bind(3, to_unix_ms(now)).step_status();
    marked = c.changes() == 1;
    if (!marked) return core::ok_status();
    recount(c, entry.event_id, core::WaitlistState::Waiting, core::WaitlistState::Offered);
    // The buyer is told at least once: the notice commits with the offer.
    enqueue_notice(c, core::NoticeKind::WaitlistOffer, entry.user_id, entry.event_id, 0, hold, now, now);
    return core::ok_status();
  });
  return s.ok() && marked;
}

bool SqliteWaitlistStore::end(int64_t entry_id, core::WaitlistState from, core::WaitlistState to, TimeMs now) {
  bool ended = false;
  auto s = db_.writer().run([&](Connection& c) -> core::Status {
    auto& st = c.prepare("UPDATE waitlist_entries SET state = ?3, ended_at = ?4 WHERE id = ?1 AND state = ?2 "
                         "RETURNING event_id");
    st.bind(1, entry_id).bind(2, core::to_string(from)).bind(3, core::to_string(to)).bind(4, to_unix_ms(now));
    ended = st.step();
    const core::EventId event = ended ? st.int64(0) : 0;
    st.reset();
    if (ended) recount(c, event, from, to);
    return core::ok_status();
  });
  return s.ok() && ended;
}

}  // namespace ticketd::store::sqlite
