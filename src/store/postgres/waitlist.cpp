#include "store/postgres/waitlist.hpp"

#include <tuple>

#include "core/limits.hpp"

namespace ticketd::store::postgres {

using core::Code;
using core::make_error;

namespace {

// Literals: the statement cache is keyed by their addresses.
constexpr const char* kList =
    "SELECT open, enabled, offer_ttl_s, draw_window_s, opened_at, seed, commitment, waiting, offered, "
    "resale_open_sale FROM waitlists WHERE event_id = $1";
constexpr const char* kListForUpdate =
    "SELECT open, enabled, offer_ttl_s, draw_window_s, opened_at, seed, commitment, waiting, offered, "
    "resale_open_sale FROM waitlists WHERE event_id = $1 FOR UPDATE";
constexpr const char* kEntryOf =
    "SELECT id, event_id, user_id, quantity, together, tier, score, joined_at, state, hold_id, offered_at, ended_at "
    "FROM waitlist_entries WHERE event_id = $1 AND user_id = $2 ORDER BY id DESC LIMIT 1";
constexpr const char* kWaiting =
    "SELECT id, event_id, user_id, quantity, together, tier, score, joined_at, state, hold_id, offered_at, ended_at "
    "FROM waitlist_entries WHERE event_id = $1 AND state = 'WAITING' AND score > $2 ORDER BY score LIMIT $3";
constexpr const char* kOffered =
    "SELECT id, event_id, user_id, quantity, together, tier, score, joined_at, state, hold_id, offered_at, ended_at "
    "FROM waitlist_entries WHERE event_id = $1 AND state = 'OFFERED' AND (offered_at, id) > ($2, $3) "
    "AND offered_at <= $4 ORDER BY offered_at, id LIMIT $5";

core::WaitlistEntry entry_from(const Rows& r, int i) {
  core::WaitlistEntry e;
  e.id = r.int64(i, 0);
  e.event_id = r.int64(i, 1);
  e.user_id = r.int64(i, 2);
  e.quantity = static_cast<uint32_t>(r.int64(i, 3));
  e.together = r.boolean(i, 4);
  e.tier = r.text(i, 5);
  e.score = static_cast<uint64_t>(r.int64(i, 6));
  e.joined_at = from_unix_ms(r.int64(i, 7));
  // A state this code does not know is treated as ended: nothing more happens to the entry.
  e.state = core::waitlist_state_from(r.text(i, 8)).value_or(core::WaitlistState::Left);
  e.hold_id = r.int64(i, 9);
  e.offered_at = from_unix_ms(r.int64(i, 10));
  e.ended_at = from_unix_ms(r.int64(i, 11));
  return e;
}

std::vector<core::WaitlistEntry> entries(const Rows& r) {
  std::vector<core::WaitlistEntry> out;
  out.reserve(static_cast<size_t>(r.size()));
  for (int i = 0; i < r.size(); ++i) out.push_back(entry_from(r, i));
  return out;
}

core::WaitlistRecord list_from(core::EventId event, const Rows& r) {
  core::WaitlistRecord l;
  l.event_id = event;
  if (r.empty()) return l;
  l.settings.open = r.boolean(0, 0);
  l.settings.enabled = r.boolean(0, 1);
  l.settings.offer_ttl_s = static_cast<uint32_t>(r.int64(0, 2));
  l.settings.draw_window_s = static_cast<uint32_t>(r.int64(0, 3));
  l.opened = !r.is_null(0, 4);
  if (l.opened) l.opened_at = from_unix_ms(r.int64(0, 4));
  l.seed_hex = r.text(0, 5);
  l.commitment = r.text(0, 6);
  l.waiting = static_cast<uint64_t>(r.int64(0, 7));
  l.offered = static_cast<uint64_t>(r.int64(0, 8));
  l.settings.resale_open_sale = r.boolean(0, 9);
  return l;
}

const char* bool_text(bool b) { return b ? "true" : "false"; }

}  // namespace

core::WaitlistRecord PgWaitlistStore::list(core::EventId event) {
  return with_connection(pool_, [&](Connection& c) { return list_from(event, c.query(kList, {p(event)})); });
}

core::Status PgWaitlistStore::set_settings(core::EventId event, const core::WaitlistSettings& s) {
  with_connection(pool_, [&](Connection& c) {
    c.query("INSERT INTO waitlists(event_id, open, enabled, offer_ttl_s, draw_window_s, resale_open_sale) "
            "VALUES($1, $2, $3, $4, $5, $6) ON CONFLICT(event_id) DO UPDATE SET open = $2, enabled = $3, "
            "offer_ttl_s = $4, draw_window_s = $5, resale_open_sale = $6",
            {p(event), p(bool_text(s.open)), p(bool_text(s.enabled)), p(int64_t{s.offer_ttl_s}),
             p(int64_t{s.draw_window_s}), p(bool_text(s.resale_open_sale))});
    return 0;
  });
  return core::ok_status();
}

core::Result<core::JoinedEntry> PgWaitlistStore::join(const core::WaitlistJoin& j, const std::string& fresh_seed_hex,
                                                      const std::string& fresh_commitment,
                                                      const std::function<uint64_t(const std::string&)>& early_score,
                                                      TimeMs now) {
  return with_connection(pool_, [&](Connection& c) -> core::Result<core::JoinedEntry> {
    c.exec("BEGIN");
    try {
      // The list's row is the lock every join of the event takes: arrival numbers are handed out in turn.
      c.query("INSERT INTO waitlists(event_id) VALUES($1) ON CONFLICT(event_id) DO NOTHING", {p(j.event_id)});
      core::WaitlistRecord list = list_from(j.event_id, c.query(kListForUpdate, {p(j.event_id)}));
      Rows mine = c.query(kEntryOf, {p(j.event_id), p(j.user_id)});
      if (!mine.empty()) {
        core::WaitlistEntry e = entry_from(mine, 0);
        if (core::is_active(e.state)) {
          c.exec("COMMIT");
          return core::JoinedEntry{e, false};
        }
      }
      if (list.waiting + list.offered >= core::limits::waitlist_entries_max) {
        c.exec("ROLLBACK");
        return make_error(Code::QueueFull, "this waiting list is full");
      }
      if (!list.opened) {  // the first join: the draw's seed is fixed (and committed to) now
        c.query("UPDATE waitlists SET opened_at = $2, seed = $3, commitment = $4 WHERE event_id = $1",
                {p(j.event_id), p(to_unix_ms(now)), p(fresh_seed_hex), p(fresh_commitment)});
        list.opened = true;
        list.opened_at = now;
        list.seed_hex = fresh_seed_hex;
      }
      uint64_t score = 0;
      if (now < list.draw_at()) {
        score = early_score(list.seed_hex);
      } else {
        Rows seq = c.query("UPDATE waitlists SET next_seq = next_seq + 1 WHERE event_id = $1 RETURNING next_seq",
                           {p(j.event_id)});
        score = core::kLateScoreBase + static_cast<uint64_t>(seq.int64(0, 0));
      }
      Rows id = c.query(
          "INSERT INTO waitlist_entries(event_id, user_id, quantity, together, tier, score, joined_at, state) "
          "VALUES($1, $2, $3, $4, $5, $6, $7, 'WAITING') RETURNING id",
          {p(j.event_id), p(j.user_id), p(int64_t{j.want.quantity}), p(bool_text(j.want.together)), p(j.want.tier),
           p(static_cast<int64_t>(score)), p(to_unix_ms(now))});
      c.query("UPDATE waitlists SET waiting = waiting + 1 WHERE event_id = $1", {p(j.event_id)});
      c.exec("COMMIT");
      return core::JoinedEntry{core::WaitlistEntry{id.int64(0, 0), j.event_id, j.user_id, j.want.quantity,
                                                   j.want.together, j.want.tier, score, now},
                               true};
    } catch (...) {
      if (c.healthy()) c.exec("ROLLBACK");
      throw;
    }
  }, /*idempotent=*/false);
}

std::optional<core::WaitlistEntry> PgWaitlistStore::entry_of(core::EventId event, core::UserId user) {
  return with_connection(pool_, [&](Connection& c) -> std::optional<core::WaitlistEntry> {
    Rows r = c.query(kEntryOf, {p(event), p(user)});
    if (r.empty()) return std::nullopt;
    return entry_from(r, 0);
  });
}

std::vector<uint64_t> PgWaitlistStore::waiting_scores(core::EventId event) {
  return with_connection(pool_, [&](Connection& c) {
    Rows r = c.query("SELECT score FROM waitlist_entries WHERE event_id = $1 AND state = 'WAITING' ORDER BY score "
                     "LIMIT $2",
                     {p(event), p(static_cast<int64_t>(core::limits::waitlist_entries_max))});
    std::vector<uint64_t> out;
    out.reserve(static_cast<size_t>(r.size()));
    for (int i = 0; i < r.size(); ++i) out.push_back(static_cast<uint64_t>(r.int64(i, 0)));
    return out;
  });
}

std::vector<core::WaitlistEntry> PgWaitlistStore::waiting(core::EventId event, uint64_t after_score, uint32_t limit) {
  return with_connection(pool_, [&](Connection& c) {
    // -1: the first page (scores start at 0).
    return entries(c.query(kWaiting, {p(event), p(after_score == 0 ? int64_t{-1} : static_cast<int64_t>(after_score)),
                                      p(int64_t{limit})}));
  });
}

std::vector<core::WaitlistEntry> PgWaitlistStore::offered(core::EventId event, core::OfferCursor after,
                                                          TimeMs offered_before, uint32_t limit) {
  return with_connection(pool_, [&](Connection& c) {
    return entries(c.query(kOffered, {p(event), p(to_unix_ms(after.offered_at)), p(after.id),
                                      p(to_unix_ms(offered_before)), p(int64_t{limit})}));
  });
}

std::vector<core::EventId> PgWaitlistStore::active_events(core::EventId after, uint32_t limit) {
  return with_connection(pool_, [&](Connection& c) {
    Rows r = c.query("SELECT DISTINCT event_id FROM waitlist_entries WHERE state IN ('WAITING','OFFERED') "
                     "AND event_id > $1 ORDER BY event_id LIMIT $2",
                     {p(after), p(int64_t{limit})});
    std::vector<core::EventId> out;
    for (int i = 0; i < r.size(); ++i) out.push_back(r.int64(i, 0));
    return out;
  });
}

std::pair<uint64_t, uint64_t> PgWaitlistStore::offers_since(core::EventId event, TimeMs since) {
  return with_connection(pool_, [&](Connection& c) {
    Rows r = c.query("SELECT count(*), coalesce(sum(quantity), 0) FROM waitlist_entries "
                     "WHERE event_id = $1 AND offered_at > $2",
                     {p(event), p(to_unix_ms(since))});
    return std::pair{static_cast<uint64_t>(r.int64(0, 0)), static_cast<uint64_t>(r.int64(0, 1))};
  });
}

core::WaitlistCounts PgWaitlistStore::counts(core::EventId event, TimeMs now) {
  core::WaitlistCounts out = with_connection(pool_, [&](Connection& c) {
    core::WaitlistCounts out;
    Rows r = c.query("SELECT state, count(*) FROM waitlist_entries WHERE event_id = $1 GROUP BY state", {p(event)});
    for (int i = 0; i < r.size(); ++i)
      out.add(core::waitlist_state_from(r.text(i, 0)).value_or(core::WaitlistState::Left),
              static_cast<uint64_t>(r.int64(i, 1)));
    return out;
  });
  std::tie(out.offers_last_hour, out.seats_offered_last_hour) = offers_since(event, now - std::chrono::hours(1));
  return out;
}

bool PgWaitlistStore::mark_offered(const core::WaitlistEntry& entry, core::HoldId hold, TimeMs now) {
  return with_connection(pool_, [&](Connection& c) {
    // One statement: the offer, the list's counts and the notice (one row per channel the buyer chose)
    // commit together.
    Rows r = c.query("WITH marked AS (UPDATE waitlist_entries SET state = 'OFFERED', hold_id = $2, offered_at = $3 "
                     "  WHERE id = $1 AND state = 'WAITING' RETURNING user_id, event_id), "
                     "counted AS (UPDATE waitlists w SET waiting = waiting - 1, offered = offered + 1 FROM marked m "
                     "  WHERE w.event_id = m.event_id) "
                     "SELECT ticketd_enqueue_notice('waitlist_offer', user_id, event_id, 0, $2, $3, $3) FROM marked",
                     {p(entry.id), p(hold), p(to_unix_ms(now))});
    return r.size() == 1;
  }, /*idempotent=*/false);
}

bool PgWaitlistStore::end(int64_t entry_id, core::WaitlistState from, core::WaitlistState to, TimeMs now) {
  return with_connection(pool_, [&](Connection& c) {
    // The entry and its list's counts in one statement. `to` is an ended state: it counts in neither.
    Rows r = c.query("WITH ended AS (UPDATE waitlist_entries SET state = $3, ended_at = $4 WHERE id = $1 AND state = $2 "
                     "  RETURNING event_id) "
                     "UPDATE waitlists w SET waiting = waiting - ($2 = 'WAITING')::int, "
                     "  offered = offered - ($2 = 'OFFERED')::int FROM ended e WHERE w.event_id = e.event_id "
                     "RETURNING 1",
                     {p(entry_id), p(core::to_string(from)), p(core::to_string(to)), p(to_unix_ms(now))});
    return r.size() == 1;
  }, /*idempotent=*/false);
}

}  // namespace ticketd::store::postgres
