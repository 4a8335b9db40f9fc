// Event ownership leases and the fence every owner's commit goes through (event_owners.hpp).
// Times are PostgreSQL's (clock_timestamp(), not now(): a long transaction must not see a stale time).
#include "store/postgres/event_owners.hpp"

#include <algorithm>

#include "base/assert.hpp"

namespace ticketd::store::postgres {

namespace {

// Literals: prepared statements are cached by the address of their text.
constexpr const char* kClaim =
    "INSERT INTO event_owners(event_id, owner, address, epoch, expires_at) "
    "VALUES($1, $2, $3, 1, clock_timestamp() + $4 * interval '1 millisecond') "
    "ON CONFLICT (event_id) DO UPDATE SET owner = EXCLUDED.owner, address = EXCLUDED.address, "
    "epoch = CASE WHEN event_owners.owner = EXCLUDED.owner THEN event_owners.epoch ELSE event_owners.epoch + 1 END, "
    "expires_at = EXCLUDED.expires_at "
    "WHERE event_owners.owner = EXCLUDED.owner OR event_owners.expires_at <= clock_timestamp() "
    "RETURNING owner, address, epoch";
// As kClaim, but the epoch moves on even when the event was this node's already: the caller is about to
// load the event afresh, and whatever it decided under the old epoch must never commit.
constexpr const char* kTake =
    "INSERT INTO event_owners(event_id, owner, address, epoch, expires_at) "
    "VALUES($1, $2, $3, 1, clock_timestamp() + $4 * interval '1 millisecond') "
    "ON CONFLICT (event_id) DO UPDATE SET owner = EXCLUDED.owner, address = EXCLUDED.address, "
    "epoch = event_owners.epoch + 1, expires_at = EXCLUDED.expires_at "
    "WHERE event_owners.owner = EXCLUDED.owner OR event_owners.expires_at <= clock_timestamp() "
    "RETURNING owner, address, epoch";
constexpr const char* kOwnerOf =
    "SELECT owner, address, epoch, expires_at > clock_timestamp(), "
    "greatest(0, floor(extract(epoch FROM expires_at - clock_timestamp()) * 1000))::bigint "
    "FROM event_owners WHERE event_id = $1";
constexpr const char* kTakeFrom =
    "UPDATE event_owners SET owner = $4, address = $5, epoch = epoch + 1, "
    "expires_at = clock_timestamp() + $6 * interval '1 millisecond' "
    "WHERE event_id = $1 AND owner = $2 AND epoch = $3 RETURNING epoch";
// Locks the rows in event order first, as an owner's batch fences them (owner_commit.cpp), so the two
// never deadlock.
constexpr const char* kRenew =
    "WITH mine AS (SELECT o.event_id FROM event_owners o "
    "JOIN unnest($3::bigint[], $4::bigint[]) AS held(event_id, epoch) "
    "ON o.event_id = held.event_id AND o.epoch = held.epoch WHERE o.owner = $1 ORDER BY o.event_id FOR UPDATE OF o) "
    "UPDATE event_owners SET expires_at = clock_timestamp() + $2 * interval '1 millisecond' FROM mine "
    "WHERE event_owners.event_id = mine.event_id RETURNING event_owners.event_id";
// A released lease has lapsed: the next claim, by any node, takes it with a new epoch.
constexpr const char* kRelease =
    "UPDATE event_owners SET expires_at = clock_timestamp() - interval '1 millisecond', owner = owner || ' (released)' "
    "WHERE event_id = $1 AND owner = $2 AND epoch = $3";
constexpr const char* kTakeoverLockTimeout = "SET LOCAL lock_timeout = 3000";
constexpr const char* kFence =
    "SELECT 1 FROM event_owners WHERE event_id = $1 AND owner = $2 AND epoch = $3 "
    "AND expires_at > clock_timestamp() FOR SHARE";

Ownership ownership_from(const Rows& r, core::EventId event) {
  return Ownership{event, r.text(0, 0), r.text(0, 1), r.int64(0, 2)};
}

}  // namespace

EventOwners::EventOwners(Pool& pool, std::string node, std::string address, std::chrono::milliseconds lease)
    : pool_(pool), node_(std::move(node)), address_(std::move(address)), lease_(lease) {
  TICKETD_ASSERT(lease_ >= kLeaseMin);
  TICKETD_ASSERT(!node_.empty());
}

Ownership EventOwners::claim(core::EventId event) { return acquire(event, kClaim); }

Ownership EventOwners::take(core::EventId event) { return acquire(event, kTake); }

Ownership EventOwners::acquire(core::EventId event, const char* sql) {
  return with_connection(pool_, [&](Connection& c) {
    // A takeover waits for the old owner's commit in flight (the fence's row lock); bounded, so a
    // request never hangs on an owner that stopped mid-commit (its session is ended by PostgreSQL
    // soon after: OwnerCommit::kIdleInBatchMax). Past the bound the caller answers 503, to be retried.
    c.exec("BEGIN");
    try {
      c.exec(kTakeoverLockTimeout);
      Rows mine = c.query(sql, {p(event), p(node_), p(address_), p(lease_.count())});
      c.exec("COMMIT");
      if (!mine.empty()) return ownership_from(mine, event);
    } catch (...) {
      if (c.healthy()) c.exec("ROLLBACK");
      throw;
    }
    // Another node's live lease. It can lapse between the two statements: the caller asks again later.
    Rows theirs = c.query(kOwnerOf, {p(event)});
    if (theirs.empty()) throw PgError("", "event_owners has no row for an event it just refused");
    return ownership_from(theirs, event);
  });
}

std::vector<core::EventId> EventOwners::renew(const std::vector<Ownership>& held) {
  if (held.empty()) return {};
  std::vector<int64_t> events, epochs;
  for (const Ownership& o : held) {
    TICKETD_ASSERT(o.owner == node_);
    events.push_back(o.event_id);
    epochs.push_back(o.epoch);
  }
  const std::vector<int64_t> renewed = with_connection(pool_, [&](Connection& c) {
    Rows r = c.query(kRenew, {p(node_), p(lease_.count()), p_array(events), p_array(epochs)});
    std::vector<int64_t> out;
    for (int i = 0; i < r.size(); ++i) out.push_back(r.int64(i, 0));
    return out;
  });
  std::vector<core::EventId> lost;
  for (const Ownership& o : held)
    if (std::find(renewed.begin(), renewed.end(), o.event_id) == renewed.end()) lost.push_back(o.event_id);
  return lost;
}

void EventOwners::release(const Ownership& held) {
  with_connection(pool_, [&](Connection& c) { c.query(kRelease, {p(held.event_id), p(held.owner), p(held.epoch)}); });
}

std::optional<Ownership> EventOwners::owner_of(core::EventId event) {
  return with_connection(pool_, [&](Connection& c) -> std::optional<Ownership> {
    Rows r = c.query(kOwnerOf, {p(event)});
    if (r.empty()) return std::nullopt;
    Ownership o = ownership_from(r, event);
    o.live = r.boolean(0, 3);
    o.lease_left = std::chrono::milliseconds(r.int64(0, 4));
    return o;
  });
}

bool EventOwners::take_from(const Ownership& dead) {
  return with_connection(pool_, [&](Connection& c) {
    c.exec("BEGIN");
    try {
      c.exec(kTakeoverLockTimeout);  // as in acquire()
      const bool taken = !c.query(kTakeFrom, {p(dead.event_id), p(dead.owner), p(dead.epoch), p(node_), p(address_),
                                              p(static_cast<int64_t>(lease_.count()))})
                              .empty();
      c.exec("COMMIT");
      return taken;
    } catch (...) {
      if (c.healthy()) c.exec("ROLLBACK");
      throw;
    }
  });
}

bool fenced_commit(Connection& c, const Ownership& held, const std::function<void(Connection&)>& work) {
  c.exec("BEGIN");
  try {
    if (c.query(kFence, {p(held.event_id), p(held.owner), p(held.epoch)}).empty()) {
      c.exec("ROLLBACK");
      return false;
    }
    work(c);
    c.exec("COMMIT");
    return true;
  } catch (...) {
    if (c.healthy()) c.exec("ROLLBACK");
    throw;
  }
}

}  // namespace ticketd::store::postgres
