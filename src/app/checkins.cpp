#include "app/checkins.hpp"

#include <algorithm>

#include "app/email_address.hpp"
#include "core/limits.hpp"

namespace ticketd::app {

using core::Code;
using core::make_error;

namespace {

bool printable(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

bool scan_id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.' || c == ':';
}

std::optional<core::CheckinResult> refusal_of(CodeVerdict v) {
  switch (v) {
    case CodeVerdict::ok: return std::nullopt;
    case CodeVerdict::wrong_event: return core::CheckinResult::WrongEvent;
    case CodeVerdict::code_expired: return core::CheckinResult::CodeExpired;
    default: return core::CheckinResult::Invalid;
  }
}

}  // namespace

Checkins::Checkins(core::CheckinStore& store, core::AccountStore& accounts, Catalog& catalog, TicketSecret secret,
                   const Clock& clock, Organizations* organizations)
    : store_(store), accounts_(accounts), catalog_(catalog), secret_(secret), clock_(clock),
      organizations_(organizations) {}

core::Status Checkins::validate(const ScanInput& in, TimeMs now) const {
  if (in.scan_id.empty() || in.scan_id.size() > kScanIdBytesMax ||
      !std::all_of(in.scan_id.begin(), in.scan_id.end(), scan_id_char))
    return make_error(Code::InvalidRequest, "scan_id: 1-64 characters of A-Z a-z 0-9 - _ . : required");
  if (in.gate.empty() || in.gate.size() > kGateBytesMax || !printable(in.gate))
    return make_error(Code::InvalidRequest, "gate: 1-64 printable characters required");
  if (in.device_id.empty() || in.device_id.size() > kDeviceIdBytesMax || !printable(in.device_id))
    return make_error(Code::InvalidRequest, "device_id: 1-64 printable characters required");
  if (in.scanned_at && (*in.scanned_at < now - kScanAgeMax || *in.scanned_at > now + kScanAheadMax))
    return make_error(Code::InvalidRequest, "scanned_at: within the last 24 hours required");
  return core::ok_status();
}

core::Result<core::Event> Checkins::door_of(const core::User& staff, core::EventId event_id) {
  auto event = catalog_.event(event_id);
  if (!event) return event.error();
  if (staff.role == core::Role::Admin || store_.is_staff(event_id, staff.id)) return event;
  if (organizations_) {
    auto s = organizations_->manage(staff, event->organization_id);
    if (s) return event;
    if (s.error().code == Code::NotFound) return make_error(Code::NotFound, "no such event");  // another organizer's
  }
  return make_error(Code::Forbidden, "only this event's door staff may scan its tickets");
  return event;
}

core::Status Checkins::may_scan(const core::User& staff, core::EventId event_id) {
  auto event = door_of(staff, event_id);
  if (!event) return event.error();
  return core::ok_status();
}

core::Result<std::vector<core::CheckinConflict>> Checkins::conflicts(const core::User& staff,
                                                                    core::EventId event_id) {
  auto event = door_of(staff, event_id);
  if (!event) return event.error();
  return store_.conflicts(event_id, kConflictsListedMax);
}

core::Result<std::vector<AttendeeRow>> Checkins::attendees(core::EventId event_id, const std::string& after_id,
                                                           uint32_t limit) {
  auto event = catalog_.event(event_id);
  if (!event) return event.error();
  auto venue = catalog_.venue(event->venue_id);
  if (!venue) return venue.error();
  const core::Layout& layout = (*venue)->layout;
  std::vector<AttendeeRow> out;
  for (core::Attendee& a : store_.attendees(event_id, after_id, std::min(limit, kAttendeesPageMax))) {
    auto label = layout.label(a.ticket.seat).value_or(core::SeatLabel{});
    out.push_back(AttendeeRow{std::move(a), std::move(label.section), std::move(label.row), label.number});
  }
  return out;
}

core::Result<ScannerBundle> Checkins::bundle(const core::User& staff, core::EventId event_id) {
  auto event = door_of(staff, event_id);
  if (!event) return event.error();
  ScannerBundle b;
  b.event = *event;
  b.generated_at = clock_.now();
  for (uint32_t id = 1; id <= event->ticket_key_id; ++id) {
    EventKey key = secret_.event_key(event_id, id);
    key.secret_key.fill(0);  // a scanner verifies; it never signs
    b.keys.push_back(key);
  }
  b.states = store_.ticket_states(event_id, core::limits::seats_per_venue_max);
  return b;
}

core::Result<core::ScanOutcome> Checkins::scan(const core::User& staff, core::EventId event_id,
                                               const ScanInput& input) {
  auto event = door_of(staff, event_id);
  if (!event) return event.error();
  const TimeMs now = clock_.now();
  if (auto s = validate(input, now); !s) return s.error();
  core::Scan scan;
  scan.event_id = event_id;
  scan.scan_id = input.scan_id;
  scan.gate = input.gate;
  scan.device_id = input.device_id;
  scan.staff_id = staff.id;
  scan.direction = input.direction;
  scan.scanned_at = input.scanned_at.value_or(now);
  scan.recorded_at = now;
  scan.offline_result = input.offline_result;
  // The code is judged at the moment it was scanned: a scan uploaded late by an offline scanner was
  // checked then, with the rotating part of then.
  std::optional<EventKey> key;
  auto key_of = [&](uint32_t id) -> const EventKey* {
    if (id == 0 || id > event->ticket_key_id) return nullptr;
    if (!key || key->key_id != id) key = secret_.event_key(event_id, id);
    return &*key;
  };
  const CodeCheck check = check_code(input.code, event_id, key_of, scan.scanned_at, !event->static_codes_accepted);
  // A ticket id is trusted only from a signed code of this event (ok, or a rotating part too old).
  if (check.verdict == CodeVerdict::ok || check.verdict == CodeVerdict::code_expired)
    scan.ticket_id = ticket_id_hex(check.claims.ticket_id);
  std::optional<core::CheckinResult> refusal = refusal_of(check.verdict);
  // A ticket listed for resale and let in is its holder's to use: the listing ends first. While a buyer
  // holds its seat it cannot (the seat may be theirs in a moment): not admitted now.
  if (resale_ && !refusal && scan.direction == core::ScanDirection::In) {
    if (auto ended = resale_->end_at_door(scan.ticket_id); !ended && !scan.offline_result)
      refusal = core::CheckinResult::Revoked;
  }
  return store_.record_scan(scan, refusal);
}

core::Result<core::User> Checkins::grant_staff(core::EventId event, const std::string& email) {
  if (auto e = catalog_.event(event); !e) return e.error();
  auto key = normalize_email(email);
  if (!key) return key.error();
  auto user = accounts_.find_user_by_email(*key);
  if (!user) return make_error(Code::NotFound, "no user with this email");
  if (auto s = store_.grant_staff(event, user->user.id, clock_.now()); !s) return s.error();
  return user->user;
}

core::Status Checkins::revoke_staff(core::EventId event, core::UserId user) {
  if (auto e = catalog_.event(event); !e) return e.error();
  return store_.revoke_staff(event, user);
}

core::Result<std::vector<core::UserId>> Checkins::staff_of(core::EventId event) {
  if (auto e = catalog_.event(event); !e) return e.error();
  return store_.staff_of(event, kStaffListMax);
}

}  // namespace ticketd::app
