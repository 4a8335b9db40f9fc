// The door's rule: what a scan does to a ticket. Decided here once; the stores apply it under their
// own serialisation (the embedded writer, a PostgreSQL row lock) and record the scan in the same commit.
#pragma once

#include <optional>
#include <string>

#include "core/types.hpp"

namespace ticketd::core {

enum class ScanDirection : uint8_t { In, Out };

// ok: admitted (in) or let out (out). already_in: this ticket is inside (a second phone, a screenshot
// at another gate). not_in: an "out" scan of a ticket that is not inside. The other four come from the
// code itself (app/ticket_codes) or the ticket's state.
enum class CheckinResult : uint8_t { Ok, AlreadyIn, NotIn, Revoked, WrongEvent, Invalid, CodeExpired };

const char* to_string(CheckinResult r);
std::optional<CheckinResult> checkin_result_from(const std::string& s);
const char* to_string(ScanDirection d);
std::optional<ScanDirection> scan_direction_from(const std::string& s);

struct CheckinDecision {
  CheckinResult result = CheckinResult::Invalid;
  std::optional<TicketStatus> next;  // the ticket's new status, when the scan changes it
};

// In: VALID -> CHECKED_IN (ok); CHECKED_IN -> already_in. Out: CHECKED_IN -> VALID (ok, re-entry
// allowed later); VALID -> not_in. REVOKED -> revoked, whatever the direction.
CheckinDecision decide_checkin(TicketStatus status, ScanDirection direction);

}  // namespace ticketd::core
