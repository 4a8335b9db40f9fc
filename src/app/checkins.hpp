// Use cases of the door (docs/tickets.md, "Check-in"): a scan of a code at a gate, and who may scan
// for an event (administrators, and the door staff an administrator names per event).
//
// A scan is decided in two steps: the code alone (app/ticket_codes: signature, event, validity,
// rotation), then the ticket's state in the store (core::decide_checkin, atomically with the record).
// Thread safety: every method may be called concurrently.
#pragma once

#include <optional>
#include <string>

#include "app/catalog.hpp"
#include "app/organizations.hpp"
#include "app/resale.hpp"
#include "app/ticket_codes.hpp"
#include "core/ports/account_store.hpp"
#include "core/ports/checkins.hpp"

namespace ticketd::app {

// Bounds of what a scanner sends (longer: 400 invalid_request, before anything is looked up).
inline constexpr size_t kScanIdBytesMax = 64;
inline constexpr size_t kGateBytesMax = 64;
inline constexpr size_t kDeviceIdBytesMax = 64;
inline constexpr uint32_t kStaffListMax = 1000;
// A scan uploaded after the network came back may be this old; a scanner's clock this far ahead.
inline constexpr std::chrono::hours kScanAgeMax{24};
inline constexpr std::chrono::minutes kScanAheadMax{5};

// Everything a scanner needs to decide offline (docs/tickets.md, "Scanner bundle"). It holds the
// event's rotation secrets: for that event's door staff only, never cached.
struct ScannerBundle {
  core::Event event;
  TimeMs generated_at{};
  std::vector<EventKey> keys;  // public keys and rotation secrets; secret signing keys are wiped
  core::TicketStates states;
};

struct ScanInput {
  std::string code;
  std::string gate;
  std::string device_id;
  std::string scan_id;
  std::optional<TimeMs> scanned_at;  // unset: now
  core::ScanDirection direction = core::ScanDirection::In;
  std::optional<core::CheckinResult> offline_result;  // a queued scan: what the scanner decided itself
};

inline constexpr uint32_t kConflictsListedMax = 500;
inline constexpr uint32_t kAttendeesPageMax = 1000;

// One line of the organizer's attendee list: a ticket, its holder, and where its seat is.
struct AttendeeRow {
  core::Attendee attendee;
  std::string section;
  std::string row;
  uint32_t seat_number = 0;
};

class Checkins {
 public:
  // `organizations` null: administrators and door staff only (no organizers).
  Checkins(core::CheckinStore& store, core::AccountStore& accounts, Catalog& catalog, TicketSecret secret,
           const Clock& clock, Organizations* organizations = nullptr);

  // Forbidden unless `staff` is an administrator, an organizer of the event or its door staff; NotFound for an unknown
  // event; InvalidRequest for a bad scan id, gate, device or time. Any code, however bad, is a result.
  core::Result<core::ScanOutcome> scan(const core::User& staff, core::EventId event, const ScanInput& input);

  // Forbidden unless `staff` may scan for the event (as scan()); NotFound for an unknown event.
  core::Status may_scan(const core::User& staff, core::EventId event);

  // Doors that disagreed (scans admitted offline of tickets already inside); same permission as scan().
  core::Result<std::vector<core::CheckinConflict>> conflicts(const core::User& staff, core::EventId event);

  // Administrators: the event's tickets and holders, a page (by ticket id after `after_id`) at a time.
  core::Result<std::vector<AttendeeRow>> attendees(core::EventId event, const std::string& after_id, uint32_t limit);

  // Same permission as scan().
  core::Result<ScannerBundle> bundle(const core::User& staff, core::EventId event);

  // Administrators: name (by email) or remove an event's door staff. NotFound: no such event or user.
  core::Result<core::User> grant_staff(core::EventId event, const std::string& email);
  core::Status revoke_staff(core::EventId event, core::UserId user);
  core::Result<std::vector<core::UserId>> staff_of(core::EventId event);
  // A ticket let in ends its resale listing (docs/resale.md): its holder came to use it.
  void set_resale(Resale* resale) { resale_ = resale; }

 private:
  core::Status validate(const ScanInput& input, TimeMs now) const;
  core::Result<core::Event> door_of(const core::User& staff, core::EventId event);

  core::CheckinStore& store_;
  core::AccountStore& accounts_;
  Catalog& catalog_;
  TicketSecret secret_;
  const Clock& clock_;
  Organizations* organizations_;
  Resale* resale_ = nullptr;
};

}  // namespace ticketd::app
