// Every limit of the domain, in one place, each with the reason for its value.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace ticketd::core::limits {

// Layouts. The largest stadiums seat ~150K; 200K leaves room without letting one request
// allocate without bound.
inline constexpr uint32_t sections_per_venue_max = 1000;
inline constexpr uint32_t rows_per_section_max = 1000;
inline constexpr uint32_t seats_per_row_max = 1000;
inline constexpr uint32_t seats_per_venue_max = 200'000;
inline constexpr size_t name_bytes_max = 200;
inline constexpr size_t row_label_bytes_max = 16;
inline constexpr size_t price_tier_bytes_max = 32;
// Venue geometry, in hundredths of a unit (docs/console.md, "Venue geometry"): a plane 20,000 seat
// pitches across holds the largest stadium many times; spacings from half a pitch (a dense standing
// rail) to ten (a box); the stage from one pitch to the whole plane.
inline constexpr int32_t geometry_coordinate_max_c = 1'000'000;
inline constexpr int32_t geometry_spacing_min_c = 50;
inline constexpr int32_t geometry_spacing_max_c = 1'000;
inline constexpr int32_t geometry_rotation_max_c = 36'000;
inline constexpr int32_t geometry_curve_max_c = 18'000;
inline constexpr int32_t stage_size_min_c = 100;
inline constexpr int32_t stage_size_max_c = 2'000'000;

// Events.
inline constexpr uint32_t tickets_per_user_max = 100;
inline constexpr uint32_t tickets_per_user_default = 8;
inline constexpr int64_t price_minor_max = 100'000'000;  // one million in major units: no ticket costs more
inline constexpr size_t event_description_bytes_max = 2000;  // a few paragraphs; the page is not a blog
inline constexpr size_t url_bytes_max = 500;

// Holds: one request never names more seats than a user may ever own.
inline constexpr uint32_t seats_per_hold_max = tickets_per_user_max;
static_assert(seats_per_hold_max >= tickets_per_user_max, "a user must be able to hold their whole allowance");
// Live holds (active or pinned by a checkout, not lapsed) one user may have at once across all events
// (--holds-per-user-max): the per-event ticket limit alone lets one account hold seats in thousands of
// events and keep them off sale (anti-hoarding, docs/security.md API6). A real buyer juggles a few
// baskets at a time; 10 leaves room for that and for a retry racing its own earlier hold.
inline constexpr uint32_t active_holds_per_user_default = 10;
// The setting's bound: a cap far above any real buyer (load tests raise it), still a bound on what one
// account can keep live, and on the per-user bookkeeping of the embedded ledger.
inline constexpr uint32_t active_holds_per_user_max = 100'000;
static_assert(active_holds_per_user_default >= 1 && active_holds_per_user_default <= active_holds_per_user_max);
// Holds decided together by one Ledger::hold_seats_each call (a waiting list's round of offers): one
// group commit and, distributed, one call to the event's owner, whose body this bounds.
inline constexpr size_t holds_per_call_max = 256;

// Checkout: a pinned hold (card being charged) outlives its deadline by at most this much. A charge that
// takes longer is abandoned and the seats return; the payments issue reconciles late successes.
inline constexpr std::chrono::milliseconds checkout_pin_max{120'000};
// A payment awaiting the buyer's authentication (3-D Secure) keeps its seats this long at most.
inline constexpr std::chrono::milliseconds payment_action_pin_max{900'000};
static_assert(payment_action_pin_max >= checkout_pin_max, "authentication outlasts a plain charge");
// Payments still pending after this are settled by asking the gateway (missed webhooks); the default
// of --payment-reconcile-after.
inline constexpr std::chrono::milliseconds payment_reconcile_after_default{120'000};

// Accounts.
inline constexpr size_t email_bytes_max = 254;  // RFC 5321 path limit
inline constexpr size_t password_bytes_min = 8;
inline constexpr size_t password_bytes_max = 128;  // Argon2 cost must not scale with attacker input
inline constexpr size_t idempotency_key_bytes_max = 255;  // as Stripe
// Bulk provisioning (POST /v1/admin/users:bulk): one request is one transaction and one reply. 10,000
// users is ~2 MB of rows and ~1.2 MB of JSON, a few hundred ms of work: large enough that 500,000
// buyers take 50 requests, small enough that one request never stalls the writer for long.
inline constexpr uint32_t provisioned_users_per_request_max = 10'000;
inline constexpr size_t provision_email_prefix_bytes_max = 64;
inline constexpr size_t provision_email_domain_bytes_max = 100;
inline constexpr int64_t provision_first_index_max = 1'000'000'000;

// Tickets (docs/tickets.md). A code is good from its issue until this long after the event starts:
// events have no end time yet, and a day covers a late door and a festival's night.
inline constexpr std::chrono::seconds ticket_valid_after_start{24 * 3600};
// The rotating part of a ticket's code changes every step; a scanner accepts the current step and the
// one either side of it (clock skew, a scan that straddles a step), so a screenshot dies within
// 2-3 steps: 30-45 s.
inline constexpr std::chrono::seconds ticket_rotation_step{15};
inline constexpr uint32_t ticket_rotation_steps_skew_max = 1;
// An event's ticket keys are numbered 1..Event::ticket_key_id (docs/tickets.md): rotation adds one,
// and every key up to the current one keeps verifying until the codes' validity ends. Bounded: each
// is a key a scanner carries.
inline constexpr uint32_t ticket_key_ids_max = 32;
// A code as text is 168 base32 characters (+ 9 for the rotating part): anything longer is not one.
inline constexpr size_t ticket_code_bytes_max = 256;
static_assert(ticket_code_bytes_max >= 168 + 9, "a rotating code fits");

// Organizations (docs/console.md). A person organizes for a few promoters at most; an organization's
// staff of organizers is a team, not a crowd (door staff are named per event, not here). Starting an
// organization is open to any account, so the count one account may start is small: each is an owner
// of venues and events that show in the public catalogue.
inline constexpr uint32_t organizations_per_member_max = 20;
inline constexpr uint32_t organizations_started_per_account_max = 3;
inline constexpr uint32_t organization_members_max = 200;

// Waiting lists (docs/resale.md): a stadium's whole capacity, twice over, may wait for returns; the
// offer pass examines at most waitlist_scan_max waiting entries of an event per round (the returned
// seats are few; those further back wait for the next round).
inline constexpr uint64_t waitlist_entries_max = 200'000;
inline constexpr uint32_t waitlist_scan_max = 1'024;
inline constexpr uint32_t waitlist_offers_resolved_max = 4'096;  // offers whose deadline passed, per round
inline constexpr uint32_t waitlist_offers_checked_per_pass = 64;  // others asked about in turn, per round

// Listing.
inline constexpr uint32_t page_size_max = 100;
inline constexpr uint32_t page_size_default = 20;
inline constexpr size_t search_text_bytes_max = 200;

}  // namespace ticketd::core::limits
