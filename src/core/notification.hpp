// Notifications as the domain sees them: what happened (the kind), whom to tell and through which
// channel, and the retry schedule of a delivery. Plain values and pure functions: no I/O, no clock,
// no randomness of its own (the jitter is passed in), so the schedule is unit-tested exactly.
//
// The outbox contract ("no change without its notification, no notification without its change"):
// a store writes the outbox rows of a state change in the same transaction as the change itself;
// a worker delivers them at least once, each carrying its outbox id as the idempotency key.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/layout.hpp"
#include "core/types.hpp"

namespace ticketd::core {

using OutboxId = int64_t;

enum class NoticeKind : uint8_t {
  BookingConfirmed,  // settlement sold the seats
  BookingCancelled,  // the buyer cancelled (refund made) or the gateway refunded in full
  PaymentFailed,     // declined, or paid after the hold lapsed and the seats were gone (refunded)
  HoldExpiring,      // opted in: the hold lapses soon; dropped at delivery if the hold is no longer live
  TicketSent,        // to the address a ticket was sent to (a transfer); dropped if decided by then
  SeatsRefunded,     // the organizer refunded some seats of a booking (the refund names which)
  EventPostponed,    // the event moved to a new date; the booking stands (email: its tickets again)
  WaitlistOffer,     // seats came back and are held for a waiting-list entry (dropped if the offer ended)
  // Account messages (core/account_token.hpp): about no event, sent to the token's destination.
  VerifyEmail,       // the link that verifies the account's address
  VerifyPhone,       // the code that verifies the account's phone (webhook channel)
  PasswordReset,     // the link that sets a new password
};
// booking_confirmed | booking_cancelled | payment_failed | hold_expiring | ticket_sent | seats_refunded |
// event_postponed | waitlist_offer | verify_email | verify_phone | password_reset
const char* to_string(NoticeKind k);
std::optional<NoticeKind> notice_kind_from(std::string_view s);

// Email goes to the account's address; webhook carries SMS-style notices (the user's phone number)
// to an SMS provider or the organiser's systems.
inline constexpr const char* kChannelEmail = "email";
inline constexpr const char* kChannelWebhook = "webhook";

// A user's choices. No row stored means the defaults below.
struct NotifyPrefs {
  std::string phone;         // E.164 ("+4915112345678"), empty if none
  bool email = true;         // confirmations etc. by email
  bool sms = false;          // by the webhook channel, to `phone` (requires a phone)
  bool hold_expiry = false;  // also "your hold is about to expire"
  bool phone_verified = false;  // the phone's owner entered the code sent to it; nothing else goes to it before
};

// Validates an E.164 number: '+', then 8-15 digits, the first not 0. Empty is valid (no phone).
bool valid_phone(std::string_view phone);

enum class OutboxStatus : uint8_t { Pending, Sent, Dead, Skipped };
const char* to_string(OutboxStatus s);  // PENDING | SENT | DEAD | SKIPPED
std::optional<OutboxStatus> outbox_status_from(std::string_view s);

// One message to one channel, as stored in the outbox.
struct OutboxRow {
  OutboxId id = 0;
  NoticeKind kind = NoticeKind::BookingConfirmed;
  std::string channel;
  UserId user_id = 0;
  EventId event_id = 0;
  BookingId booking_id = 0;  // 0 for HoldExpiring
  HoldId hold_id = 0;
  int64_t transfer_id = 0;   // TicketSent: the transfer (core/transfer.hpp); its user_id is the sender
  int64_t refund_id = 0;     // SeatsRefunded: the seat refund (core::SeatRefundRecord)
  int64_t token_id = 0;      // VerifyEmail, VerifyPhone, PasswordReset: the account token (core/account_token.hpp)
  OutboxStatus status = OutboxStatus::Pending;
  int32_t attempts = 0;  // deliveries tried so far
  TimeMs created_at{};
  TimeMs due_at{};
  std::string last_error;
  TimeMs sent_at{};
};

// Retries: exponential backoff with "equal jitter" (the n-th retry waits a uniformly random time in
// [d/2, d], d = min(cap, base * 2^(n-1))), so retries of one outage spread out yet a receiver that
// comes back is tried again within the cap; after attempts_max failed tries the row is dead-lettered.
struct RetryPolicy {
  Millis base{1'000};
  Millis cap{300'000};
  int32_t attempts_max = 8;
};
inline constexpr int32_t kNotifyAttemptsMaxLimit = 100;  // a bound on the configurable value

// The wait before the next try, after `failures` (>= 1) failed tries; `jitter` is any 64-bit random
// value (0 gives d/2, UINT64_MAX gives d).
Millis retry_delay(const RetryPolicy& policy, int32_t failures, uint64_t jitter);

// What to do after a failed try: retry at the returned time, or nullopt = dead-letter.
std::optional<TimeMs> next_try_at(const RetryPolicy& policy, int32_t failures, TimeMs now, uint64_t jitter);

// A seat as a person reads it.
// A ticket of a confirmed booking as the confirmation email shows it (docs/tickets.md, "Delivery").
struct NotifiedTicket {
  std::string id;
  SeatLabel seat;
  std::string code;  // the static code
};

// Everything a channel needs to tell the user, resolved at delivery time from the outbox row.
struct Notification {
  OutboxId outbox_id = 0;  // the idempotency key: a receiver drops a second delivery of the same id
  NoticeKind kind = NoticeKind::BookingConfirmed;
  std::string channel;
  std::string user_name;
  std::string email;
  std::string phone;
  std::string event_name;
  std::string venue_name;
  TimeMs event_starts_at{};
  TimeMs event_postponed_from{};  // EventPostponed: the date it moved from
  BookingId booking_id = 0;
  HoldId hold_id = 0;
  std::vector<SeatLabel> seats;
  int64_t amount = 0;  // minor units
  std::string currency;
  TimeMs hold_expires_at{};  // HoldExpiring
  std::string reason;        // PaymentFailed: the decline message
  TimeMs created_at{};       // when the change happened
  // BookingConfirmed by email: the booking's live tickets, and whether the door takes their static
  // codes (when it does not, the email sends the buyer to the ticket page instead of printing codes).
  std::vector<NotifiedTicket> tickets;
  bool static_codes_accepted = true;
  // Account messages: the link (absolute URL) or the 6-digit code, and when it stops working.
  std::string link;
  std::string code;
  TimeMs token_expires_at{};
  std::string sender_name;  // TicketSent: who sent the ticket (the email goes to the receiver's address)
};

// How many decimals a currency's minor unit has (ISO 4217): 0 for JPY or KRW, 3 for KWD or BHD, 4 for
// CLF, 2 for the rest (and for codes the table does not know).
int currency_minor_digits(std::string_view currency);
// "12.50 EUR", "5000 JPY", "1.250 KWD": an amount in minor units shown in major units.
std::string format_amount(int64_t minor, const std::string& currency);

}  // namespace ticketd::core
