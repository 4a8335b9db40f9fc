// Port: the storage of waiting lists (core/waitlist.hpp, docs/resale.md). The rules (who may join, the
// order, which seats an entry takes) are core's and app/waitlist.cpp's; an implementation stores,
// orders, and makes each change conditional on the state it was decided on, so two nodes (or a buyer
// leaving while an offer is made) cannot both change one entry.
//
// Durability: every change is durable before it returns; an offer's notice (outbox rows of kind
// waitlist_offer, one per channel the buyer chose) is written in the offer's own transaction.
//
// Bounds: at most limits::waitlist_entries_max active entries per event (join answers QueueFull).
//
// Thread safety: implementations are safe to call from any thread.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "core/waitlist.hpp"

namespace ticketd::core {

struct WaitlistJoin {
  EventId event_id = 0;
  UserId user_id = 0;
  WaitlistWant want;
};

struct JoinedEntry {
  WaitlistEntry entry;
  bool created = false;  // false: the user's active entry, unchanged
};

class WaitlistStore {
 public:
  virtual ~WaitlistStore() = default;

  // The list as stored, with its WAITING and OFFERED counts (defaults, opened = false and no entries
  // when nothing is). O(1).
  virtual WaitlistRecord list(EventId event) = 0;
  // Stores the settings; the list's draw (if opened) is kept.
  virtual Status set_settings(EventId event, const WaitlistSettings& settings) = 0;

  // Adds the user's entry, or answers their active one unchanged. The first join opens the list with
  // `fresh_seed_hex` and its commitment; a join before the list's draw_at scores early_score(stored seed),
  // a later one kLateScoreBase + the list's next arrival number. QueueFull beyond the bound.
  virtual Result<JoinedEntry> join(const WaitlistJoin& join, const std::string& fresh_seed_hex,
                                   const std::string& fresh_commitment,
                                   const std::function<uint64_t(const std::string& seed_hex)>& early_score,
                                   TimeMs now) = 0;
  // The user's newest entry for the event, active or not.
  virtual std::optional<WaitlistEntry> entry_of(EventId event, UserId user) = 0;
  // The scores of the WAITING entries, ascending (at most limits::waitlist_entries_max): what positions
  // are counted from. O(entries), an index-only read.
  virtual std::vector<uint64_t> waiting_scores(EventId event) = 0;
  // WAITING entries with score > after_score, in score order, at most `limit`.
  virtual std::vector<WaitlistEntry> waiting(EventId event, uint64_t after_score, uint32_t limit) = 0;
  // OFFERED entries after `after` in (offered_at, id) order, offered at or before `offered_before`, at
  // most `limit`. O(those returned): the pass finds the offers whose deadline passed without reading
  // the others.
  virtual std::vector<WaitlistEntry> offered(EventId event, OfferCursor after, TimeMs offered_before,
                                             uint32_t limit) = 0;
  // Events whose list has an active entry, at most `limit`, ids above `after`.
  virtual std::vector<EventId> active_events(EventId after, uint32_t limit) = 0;
  // Entries offered after `since` and their seats (the pace the estimate follows). O(those offers).
  virtual std::pair<uint64_t, uint64_t> offers_since(EventId event, TimeMs since) = 0;
  // Every state's count and the last hour's offers, for the organizer. O(entries).
  virtual WaitlistCounts counts(EventId event, TimeMs now) = 0;

  // WAITING -> OFFERED with the offer's hold, and the buyer's notice, in one transaction. False (nothing
  // written) when the entry is no longer WAITING.
  virtual bool mark_offered(const WaitlistEntry& entry, HoldId hold, TimeMs now) = 0;
  // from -> to (an ended state), if the entry is still `from`. False otherwise.
  virtual bool end(int64_t entry_id, WaitlistState from, WaitlistState to, TimeMs now) = 0;
};

}  // namespace ticketd::core
