#include "core/checkin.hpp"

namespace ticketd::core {

const char* to_string(CheckinResult r) {
  switch (r) {
    case CheckinResult::Ok: return "ok";
    case CheckinResult::AlreadyIn: return "already_in";
    case CheckinResult::NotIn: return "not_in";
    case CheckinResult::Revoked: return "revoked";
    case CheckinResult::WrongEvent: return "wrong_event";
    case CheckinResult::Invalid: return "invalid";
    case CheckinResult::CodeExpired: return "code_expired";
  }
  return "invalid";
}

std::optional<CheckinResult> checkin_result_from(const std::string& s) {
  for (auto r : {CheckinResult::Ok, CheckinResult::AlreadyIn, CheckinResult::NotIn, CheckinResult::Revoked,
                 CheckinResult::WrongEvent, CheckinResult::Invalid, CheckinResult::CodeExpired})
    if (s == to_string(r)) return r;
  return std::nullopt;
}

const char* to_string(ScanDirection d) { return d == ScanDirection::In ? "in" : "out"; }

std::optional<ScanDirection> scan_direction_from(const std::string& s) {
  if (s == "in") return ScanDirection::In;
  if (s == "out") return ScanDirection::Out;
  return std::nullopt;
}

CheckinDecision decide_checkin(TicketStatus status, ScanDirection direction) {
  if (status == TicketStatus::Revoked) return {CheckinResult::Revoked, std::nullopt};
  if (direction == ScanDirection::In) {
    if (status == TicketStatus::Valid) return {CheckinResult::Ok, TicketStatus::CheckedIn};
    return {CheckinResult::AlreadyIn, std::nullopt};
  }
  if (status == TicketStatus::CheckedIn) return {CheckinResult::Ok, TicketStatus::Valid};
  return {CheckinResult::NotIn, std::nullopt};
}

}  // namespace ticketd::core
