// Use cases of waiting lists (docs/resale.md): join, look, leave; the organizer's settings and figures;
// the gate that keeps returned seats off open sale while people wait; and the offer pass that turns
// every returned seat into a hold of the next entry it satisfies (core/waitlist.hpp decides which).
//
// An offer is an ordinary hold of the buyer's (the hold machinery decides it atomically, so no seat is
// offered twice), with the list's offer deadline as its lifetime; paying it is the normal checkout.
// Whether an offer was paid, declined or lapsed is read from its hold, so the entry follows the
// ledger and never the other way round.
//
// The gate: while an event's list is enabled and has WAITING entries, open-sale holds are refused
// (WaitlistFirst). Embedded, this process makes every change to the list, so its copy of the gate is
// exact; distributed, each node's copy is at most gate_stale_max old (the offer pass and every local
// change refresh it at once).
//
// Positions: counting the entries ahead of one is O(position) in a store, and every buyer in line polls.
// So each event's WAITING scores are read once (an index-only read) and kept sorted in memory; this
// process's own changes (a join, an offer, a leave) are applied to them as they happen, and a position
// is a binary search. Embedded that copy is exact; distributed it is read again when older than
// kRanksStaleMax (other nodes change the list too). 8 bytes per waiting entry of the events being
// looked at, at most kRankedScoresMax in all.
//
// Thread safety: all methods are safe to call concurrently; gate_mu_ guards the gate's copies, ranks_mu_
// the scores, and pass_mu_ the offer pass's per-event memory (one pass runs at a time).
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "app/catalog.hpp"
#include "base/metrics.hpp"
#include "core/ports/ledger.hpp"
#include "core/ports/waitlist.hpp"

namespace ticketd::app {

struct WaitlistEntryView {
  core::WaitlistEntry entry;
  uint64_t position = 0;  // WAITING: 1 = next; 0 while the draw is pending
  bool draw_pending = false;
  std::optional<int64_t> estimate_s;
  std::optional<core::Hold> offer;  // OFFERED: the hold
};

struct WaitlistView {
  core::WaitlistRecord list;
  bool drawn = false;
  // waiting and offered always; the rest only from stats() (the last hour's offers also with a WAITING
  // entry, for its estimate).
  core::WaitlistCounts counts;
  std::optional<WaitlistEntryView> entry;
};

// The organizer's change: fields left unset keep their value.
struct WaitlistSettingsPatch {
  std::optional<bool> open, enabled, resale_open_sale;
  std::optional<uint32_t> offer_ttl_s, draw_window_s;
};

struct OfferPassReport {
  uint64_t events = 0;
  uint64_t offers = 0;
  uint64_t resolved = 0;  // offers found paid, declined or lapsed
};

class Waitlist {
 public:
  static constexpr Millis kGateStaleMax{1'000};
  static constexpr Millis kGateRefreshAfter{750};
  static constexpr size_t kGatesCachedMax = 100'000;
  static constexpr Millis kFullPassEvery{2'000};
  static constexpr Millis kRanksStaleMax{1'000};
  // How long one round may spend following its open offers' holds (follow_offers).
  static constexpr Millis kOfferChecksTimeMax{20};
  static constexpr size_t kRankedScoresMax = 4'000'000;  // 32 MB

  // exact_gate: this process makes every change to the lists (embedded).
  Waitlist(core::WaitlistStore& store, core::Ledger& ledger, Catalog& catalog, const Clock& clock, Metrics& metrics,
           bool exact_gate);

  // created = false: the account's active entry, unchanged. Errors: NotFound, EventCancelled,
  // EventStarted, SaleNotOpen, WaitlistClosed, SeatsAvailable, InvalidRequest, QueueFull.
  core::Result<std::pair<WaitlistView, bool>> join(core::UserId user, core::EventId event, const core::WaitlistWant& want);
  core::Result<WaitlistView> view(core::UserId user, core::EventId event);
  // Leaves the list; an offer is declined (its hold released). NotFound without an active entry;
  // CheckoutInProgress while the offer is being paid.
  core::Result<WaitlistView> leave(core::UserId user, core::EventId event);
  core::Result<WaitlistView> stats(core::EventId event);
  core::Result<WaitlistView> configure(core::EventId event, const WaitlistSettingsPatch& patch);

  static core::Error open_sale_refused();
  // WaitlistFirst while the event's returned seats belong to its list; may read the store.
  core::Status admit_open_sale(core::EventId event);
  // The same from memory only (the I/O thread): nullopt when this node's copy is missing or stale, and
  // for the one caller sent to refresh a copy past kGateRefreshAfter (base/refresh_ahead.hpp).
  std::optional<bool> gated_in_memory(core::EventId event);

  // One round of offers over every event with an active list. Run by one caller at a time (embedded:
  // the background job; distributed: under an advisory lock).
  OfferPassReport offer_pass();

 private:
  struct Gate {
    bool gated = false;
    TimeMs checked_at{};
    bool refresh_sent = false;  // gated_in_memory() sent a caller to read it again
  };
  struct Ranks {
    std::vector<uint64_t> scores;  // ascending
    TimeMs read_at{};
    bool loaded = false;
    uint64_t changes = 0;  // local changes applied: a read that overlapped one is not trusted
  };
  struct PassMemory {
    uint64_t seat_version = 0;
    TimeMs full_at{};
    core::OfferCursor offers_checked;  // where the turn of the open offers stands
  };
  core::Result<WaitlistView> view_of(core::EventId event, std::optional<core::WaitlistEntry> entry, TimeMs now);
  // Follows an OFFERED entry's hold: paid -> FULFILLED, released or lapsed -> LAPSED. Returns the entry now.
  core::WaitlistEntry resolve(core::WaitlistEntry entry, TimeMs now);
  bool refresh_gate(core::EventId event, TimeMs now);
  uint64_t position_of(const core::WaitlistEntry& entry, TimeMs now);
  // The last hour's offers (entries, seats), read at most once a second per event: every poll's
  // estimate follows it, and the read is O(those offers).
  std::pair<uint64_t, uint64_t> pace(core::EventId event, TimeMs now);
  // A WAITING entry of the event with this score came (joined) or went (offered, left, skipped).
  void note_waiting(core::EventId event, uint64_t score, bool came);
  void pass_event(core::EventId event, TimeMs now, OfferPassReport& report);
  void follow_offers(core::EventId event, const core::WaitlistRecord& list, PassMemory& memory, TimeMs now,
                     OfferPassReport& report);
  void check_offers_in_turn(core::EventId event, PassMemory& memory, TimeMs now, TimeMs until,
                            OfferPassReport& report);
  void offer(const core::Event& event, const core::Layout& layout, const core::WaitlistRecord& list,
             std::vector<core::SeatId>& free, TimeMs now, OfferPassReport& report);
  void offer_page(const core::Event& event, const core::Layout& layout, const core::WaitlistRecord& list,
                  const std::vector<core::WaitlistEntry>& page, std::vector<core::SeatId>& free, TimeMs now,
                  OfferPassReport& report);
  void offer_one(const core::Event& event, const core::Layout& layout, const core::WaitlistRecord& list,
                 const core::WaitlistEntry& entry, std::vector<core::SeatId>& free, TimeMs now,
                 OfferPassReport& report);
  // What follows an entry's hold, placed or refused: the offer recorded, or the entry skipped or kept.
  void settle_offer(core::EventId event, const core::WaitlistEntry& entry, const core::Result<core::Hold>& hold,
                    std::vector<core::SeatId>& free, TimeMs now, OfferPassReport& report);

  core::WaitlistStore& store_;
  core::Ledger& ledger_;
  Catalog& catalog_;
  const Clock& clock_;
  Metrics& metrics_;
  const bool exact_gate_;
  std::mutex gate_mu_;
  std::unordered_map<core::EventId, Gate> gates_;
  std::mutex ranks_mu_;
  std::unordered_map<core::EventId, Ranks> ranks_;
  size_t ranked_scores_ = 0;
  struct Pace {
    std::pair<uint64_t, uint64_t> offers;
    TimeMs read_at{};
  };
  std::unordered_map<core::EventId, Pace> paces_;  // under ranks_mu_; cleared with ranks_
  std::mutex pass_mu_;
  std::unordered_map<core::EventId, PassMemory> pass_;
  std::atomic<bool> dirty_{false};  // a local join since the last pass: look at every event again
};

}  // namespace ticketd::app
