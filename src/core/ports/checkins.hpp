// Port: door scans and the door staff of events (docs/tickets.md, "Check-in").
// Thread safety: implementations are safe to call from any thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/checkin.hpp"
#include "core/result.hpp"
#include "core/types.hpp"

namespace ticketd::core {

struct Scan {
  EventId event_id = 0;
  std::string scan_id;    // the scanner's id for this scan: a retry carries the same one
  std::string ticket_id;  // empty when the code named no ticket (unreadable, another event's)
  std::string gate;
  std::string device_id;
  UserId staff_id = 0;
  ScanDirection direction = ScanDirection::In;
  TimeMs scanned_at{};   // on the scanner's clock (an upload after the network came back is late)
  TimeMs recorded_at{};  // when the server took it
  CheckinResult result = CheckinResult::Invalid;
  // What the scanner decided itself when it had no answer from the server (a queued scan uploaded
  // later); unset for a scan the server answered at once.
  std::optional<CheckinResult> offline_result;
};

// Two doors disagreed: `scan` was admitted by a scanner offline, but the ticket was inside already by
// `admitted_by` (the scan the server had let in first). The earlier by scanned_at is the rightful one.
struct CheckinConflict {
  Scan scan;
  std::optional<Scan> admitted_by;
};

struct ScanOutcome {
  Scan scan;                     // as recorded (a replay: as first recorded)
  std::optional<Ticket> ticket;  // the ticket after the scan, when the code named one of this event
  std::optional<Scan> previous;  // already_in: the scan that let it in
  bool replayed = false;         // this scan_id was seen before: nothing changed now
};

// What a scanner needs to decide offline beyond the keys: the tickets it must refuse and those inside.
struct TicketStates {
  uint32_t tickets = 0;  // tickets issued for the event, revoked ones included
  std::vector<std::string> revoked;
  std::vector<std::string> checked_in;
  bool truncated = false;  // more than the limit: the scanner must ask the server for the rest
};

// A ticket whose state changed at the door (a scan in or out, a revocation): what scanners of the
// event pass to each other (app/door_feed).
struct TicketChange {
  std::string ticket_id;
  TicketStatus status = TicketStatus::Valid;
  std::string gate;  // where it last went in or out; empty for a revocation
  TimeMs changed_at{};
};

struct GateCount {
  std::string gate;
  uint32_t inside = 0;  // tickets CHECKED_IN whose last scan in was at this gate
};

// A ticket of an event with its holder, for the organizer's attendee list.
struct Attendee {
  Ticket ticket;
  std::string email;  // the holder's; empty while a transfer is pending (no holder)
  std::string name;
  std::string gate;   // where it last went in or out
};

class CheckinStore {
 public:
  virtual ~CheckinStore() = default;
  // Records a scan once per (event, scan_id); a scan_id seen before returns its first outcome.
  // `code_refusal`: what the code itself was refused for (nothing changes but the record). Otherwise
  // the ticket's status moves by decide_checkin, atomically with the record: of any number of
  // concurrent scans of one ticket at any gates, exactly one is `ok`. A ticket that is not in this
  // event is `invalid`.
  virtual Result<ScanOutcome> record_scan(const Scan& scan, std::optional<CheckinResult> code_refusal) = 0;

  // The event's revoked and checked-in ticket ids, at most `limit` of each.
  virtual TicketStates ticket_states(EventId event, uint32_t limit) = 0;

  // Tickets of the event whose state changed at or after `since`: the newest `limit` of them, newest
  // first (a feed that falls behind keeps up with the present rather than replaying the past).
  virtual std::vector<TicketChange> ticket_changes(EventId event, TimeMs since, uint32_t limit) = 0;
  // Scans admitted offline that the server found already inside, newest first, at most `limit`.
  virtual std::vector<CheckinConflict> conflicts(EventId event, uint32_t limit) = 0;
  // The event's tickets (every status) with their holders, by ticket id after `after_id`, at most `limit`.
  virtual std::vector<Attendee> attendees(EventId event, const std::string& after_id, uint32_t limit) = 0;
  // People inside per gate, at most `limit` gates (the busiest first).
  virtual std::vector<GateCount> inside_by_gate(EventId event, uint32_t limit) = 0;

  virtual Status grant_staff(EventId event, UserId user, TimeMs now) = 0;
  virtual Status revoke_staff(EventId event, UserId user) = 0;
  virtual bool is_staff(EventId event, UserId user) = 0;
  virtual std::vector<UserId> staff_of(EventId event, uint32_t limit) = 0;
};

}  // namespace ticketd::core
