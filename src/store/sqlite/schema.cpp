#include <sys/statvfs.h>

#include <filesystem>

#include "store/sqlite/sqlite_store.hpp"

namespace ticketd::store::sqlite {

namespace {
// Version 1. Per-event state is stored only for seats that are held or sold: a 50K-seat layout is
// stored once per venue (as rows), never once per event.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE IF NOT EXISTS users(
  id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT NOT NULL, password_hash TEXT NOT NULL,
  role TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sessions(
  token_hash TEXT PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id), expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS venues(
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, seats_total INTEGER NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS venue_sections(
  venue_id INTEGER NOT NULL REFERENCES venues(id), idx INTEGER NOT NULL, name TEXT NOT NULL,
  price_tier TEXT NOT NULL, PRIMARY KEY(venue_id, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS venue_rows(
  venue_id INTEGER NOT NULL, section_idx INTEGER NOT NULL, idx INTEGER NOT NULL, label TEXT NOT NULL,
  seats INTEGER NOT NULL, accessible TEXT NOT NULL, companion TEXT NOT NULL, restricted_view TEXT NOT NULL,
  PRIMARY KEY(venue_id, section_idx, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events(
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, name_lower TEXT NOT NULL, venue_id INTEGER NOT NULL REFERENCES venues(id),
  starts_at INTEGER NOT NULL, on_sale_at INTEGER NOT NULL, currency TEXT NOT NULL,
  max_tickets_per_user INTEGER NOT NULL, seats_total INTEGER NOT NULL, created_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS events_by_start ON events(starts_at, id);
CREATE TABLE IF NOT EXISTS event_prices(
  event_id INTEGER NOT NULL REFERENCES events(id), tier TEXT NOT NULL, price INTEGER NOT NULL,
  PRIMARY KEY(event_id, tier)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS holds(
  id INTEGER PRIMARY KEY, event_id INTEGER NOT NULL REFERENCES events(id), user_id INTEGER NOT NULL,
  created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
  state TEXT NOT NULL CHECK(state IN ('ACTIVE','RELEASED','EXPIRED','CONVERTED')), booking_id INTEGER);
CREATE INDEX IF NOT EXISTS holds_active ON holds(event_id) WHERE state = 'ACTIVE';
CREATE INDEX IF NOT EXISTS holds_active_expiry ON holds(expires_at) WHERE state = 'ACTIVE';
CREATE TABLE IF NOT EXISTS hold_seats(
  hold_id INTEGER NOT NULL REFERENCES holds(id), seat INTEGER NOT NULL, PRIMARY KEY(hold_id, seat)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS bookings(
  id INTEGER PRIMARY KEY, hold_id INTEGER NOT NULL REFERENCES holds(id), event_id INTEGER NOT NULL,
  user_id INTEGER NOT NULL,
  status TEXT NOT NULL CHECK(status IN ('PENDING_PAYMENT','CONFIRMED','FAILED','CANCELLED')),
  total_amount INTEGER NOT NULL, currency TEXT NOT NULL, payment_id INTEGER NOT NULL,
  created_at INTEGER NOT NULL, cancelled_at INTEGER, decline_code TEXT NOT NULL DEFAULT '',
  message TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS bookings_pending ON bookings(event_id) WHERE status = 'PENDING_PAYMENT';
CREATE INDEX IF NOT EXISTS bookings_by_user ON bookings(user_id, id);
-- A hold has at most one booking that is not FAILED (pending, confirmed or cancelled).
CREATE UNIQUE INDEX IF NOT EXISTS bookings_one_live_per_hold ON bookings(hold_id) WHERE status <> 'FAILED';
CREATE TABLE IF NOT EXISTS booking_seats(
  booking_id INTEGER NOT NULL REFERENCES bookings(id), seat INTEGER NOT NULL, PRIMARY KEY(booking_id, seat)) WITHOUT ROWID;
-- The last line of defence against overselling: one row per sold seat, unique per (event, seat).
CREATE TABLE IF NOT EXISTS sold_seats(
  event_id INTEGER NOT NULL, seat INTEGER NOT NULL, booking_id INTEGER NOT NULL REFERENCES bookings(id),
  PRIMARY KEY(event_id, seat)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sold_seats_by_booking ON sold_seats(booking_id);
-- One per checkout attempt, written before any money moves; gateway_key is the idempotency key of
-- every gateway call for it, so a retry after a crash or a timeout never charges twice.
CREATE TABLE IF NOT EXISTS payments(
  id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, hold_id INTEGER NOT NULL, booking_id INTEGER NOT NULL,
  idempotency_key TEXT NOT NULL, gateway_key TEXT NOT NULL, amount INTEGER NOT NULL, currency TEXT NOT NULL,
  payment_method TEXT NOT NULL, payment_ref TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL CHECK(status IN ('PENDING','REQUIRES_ACTION','SUCCEEDED','DECLINED','REFUNDED')),
  decline_code TEXT NOT NULL DEFAULT '', message TEXT NOT NULL DEFAULT '', refund_ref TEXT,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, UNIQUE(user_id, idempotency_key));
CREATE INDEX IF NOT EXISTS payments_by_booking ON payments(booking_id);
CREATE INDEX IF NOT EXISTS payments_by_ref ON payments(payment_ref);
-- Gateway events (webhooks) already applied: each is processed once.
CREATE TABLE IF NOT EXISTS payment_events(
  id TEXT PRIMARY KEY, type TEXT NOT NULL, received_at INTEGER NOT NULL) WITHOUT ROWID;
PRAGMA user_version = 1;
)sql";

// Version 2: waiting rooms. Settings per event (no row: no waiting room); per room its lottery seed
// (secret until drawn_at is set) and commitment; one row per queued user (early_key is the lottery key
// of those who joined before the draw, NULL for later ones, whose order is seq); one row per admission
// batch (ranks [first_rank, first_rank + count)). state: 0 waiting/admitted, 2 engaged, 3 expired.
constexpr const char* kSchemaV2 = R"sql(
CREATE TABLE IF NOT EXISTS event_waiting_rooms(
  event_id INTEGER PRIMARY KEY REFERENCES events(id), enabled INTEGER NOT NULL, batch_size INTEGER NOT NULL,
  release_interval_ms INTEGER NOT NULL, active_window_ms INTEGER NOT NULL, opens_before_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS queue_rooms(
  event_id INTEGER PRIMARY KEY REFERENCES events(id), seed TEXT NOT NULL, commitment TEXT NOT NULL,
  drawn_at INTEGER, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS queue_entries(
  event_id INTEGER NOT NULL, seq INTEGER NOT NULL, user_id INTEGER NOT NULL, early_key INTEGER,
  state INTEGER NOT NULL CHECK(state IN (0, 2, 3)), joined_at INTEGER NOT NULL,
  PRIMARY KEY(event_id, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS queue_admissions(
  event_id INTEGER NOT NULL, first_rank INTEGER NOT NULL, count INTEGER NOT NULL, admitted_at INTEGER NOT NULL,
  PRIMARY KEY(event_id, first_rank)) WITHOUT ROWID;
PRAGMA user_version = 2;
)sql";

// Version 3: notifications. The outbox gets its rows in the same writer job (one transaction) as
// the change they announce; user_notify holds each user's choices (no row: the defaults).
constexpr const char* kSchemaV3 = R"sql(
CREATE TABLE IF NOT EXISTS user_notify(
  user_id INTEGER PRIMARY KEY REFERENCES users(id), phone TEXT NOT NULL DEFAULT '',
  email_on INTEGER NOT NULL DEFAULT 1, sms_on INTEGER NOT NULL DEFAULT 0, hold_expiry_on INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS outbox(
  id INTEGER PRIMARY KEY, kind TEXT NOT NULL, channel TEXT NOT NULL CHECK(channel IN ('email','webhook')),
  user_id INTEGER NOT NULL, event_id INTEGER NOT NULL, booking_id INTEGER NOT NULL DEFAULT 0,
  hold_id INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL CHECK(status IN ('PENDING','SENT','DEAD','SKIPPED')),
  attempts INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL, due_at INTEGER NOT NULL,
  lease_until INTEGER NOT NULL DEFAULT 0, lease_owner TEXT NOT NULL DEFAULT '',
  last_error TEXT NOT NULL DEFAULT '', sent_at INTEGER);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox(due_at, id) WHERE status = 'PENDING';
CREATE INDEX IF NOT EXISTS outbox_dead ON outbox(id) WHERE status = 'DEAD';
CREATE INDEX IF NOT EXISTS outbox_done ON outbox(created_at) WHERE status IN ('SENT','SKIPPED');
PRAGMA user_version = 3;
)sql";

// Version 4: tickets (docs/tickets.md). One per seat of a confirmed booking, issued in the same writer
// job that confirms it; at most one that is not REVOKED per (event, seat), whatever the code believed.
constexpr const char* kSchemaV4 = R"sql(
CREATE TABLE IF NOT EXISTS tickets(
  id TEXT PRIMARY KEY, event_id INTEGER NOT NULL, booking_id INTEGER NOT NULL REFERENCES bookings(id),
  owner_id INTEGER NOT NULL, seat INTEGER NOT NULL, key_id INTEGER NOT NULL,
  status TEXT NOT NULL CHECK(status IN ('VALID','CHECKED_IN','REVOKED')), issued_at INTEGER NOT NULL,
  revoked_at INTEGER, revoked_reason TEXT NOT NULL DEFAULT '',
  changed_at INTEGER NOT NULL DEFAULT 0, gate TEXT NOT NULL DEFAULT '') WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tickets_by_booking ON tickets(booking_id);
-- The door feed (app/door_feed): what changed at the door since a time. changed_at is 0 until a
-- scan or a revocation changes the ticket; gate is where it last went in.
CREATE INDEX IF NOT EXISTS tickets_by_event_change ON tickets(event_id, changed_at) WHERE changed_at > 0;
CREATE INDEX IF NOT EXISTS tickets_by_event_status ON tickets(event_id, status);
CREATE UNIQUE INDEX IF NOT EXISTS tickets_one_live_per_seat ON tickets(event_id, seat) WHERE status <> 'REVOKED';
-- Door scans, once per (event, scan id): a scanner's retry finds its first answer.
CREATE TABLE IF NOT EXISTS checkins(
  event_id INTEGER NOT NULL, scan_id TEXT NOT NULL, ticket_id TEXT NOT NULL, gate TEXT NOT NULL,
  device_id TEXT NOT NULL, staff_id INTEGER NOT NULL, direction TEXT NOT NULL CHECK(direction IN ('in','out')),
  scanned_at INTEGER NOT NULL, recorded_at INTEGER NOT NULL, result TEXT NOT NULL,
  offline_result TEXT NOT NULL DEFAULT '',
  PRIMARY KEY(event_id, scan_id)) WITHOUT ROWID;
-- Doors that disagreed: a scanner admitted offline what the server found inside already.
CREATE INDEX IF NOT EXISTS checkins_conflicts ON checkins(event_id, recorded_at)
  WHERE offline_result = 'ok' AND result <> 'ok';
CREATE INDEX IF NOT EXISTS checkins_by_ticket ON checkins(ticket_id, recorded_at) WHERE result = 'ok';
-- Ticket transfers (core/transfer.hpp): the sender's ticket is revoked when one is made; ticket_id is
-- the new ticket, ownerless (owner_id 0) until the receiver accepts or the sender cancels.
CREATE TABLE IF NOT EXISTS ticket_transfers(
  id INTEGER PRIMARY KEY, event_id INTEGER NOT NULL, from_ticket_id TEXT NOT NULL UNIQUE, ticket_id TEXT NOT NULL UNIQUE,
  from_user_id INTEGER NOT NULL, to_email TEXT NOT NULL, to_user_id INTEGER,
  status TEXT NOT NULL CHECK(status IN ('PENDING','ACCEPTED','CANCELLED')), created_at INTEGER NOT NULL,
  decided_at INTEGER);
CREATE INDEX IF NOT EXISTS transfers_by_sender ON ticket_transfers(from_user_id, id);
CREATE INDEX IF NOT EXISTS transfers_by_receiver ON ticket_transfers(to_email, id);
CREATE INDEX IF NOT EXISTS tickets_by_owner ON tickets(owner_id, issued_at);
-- The attendee list, a page at a time in ticket id order.
CREATE INDEX IF NOT EXISTS tickets_by_event_id ON tickets(event_id, id);
-- What administrators did (docs/console.md, "Audit log"): append-only, the triggers refuse the rest.
CREATE TABLE IF NOT EXISTS audit_log(
  id INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor_id INTEGER NOT NULL, actor_email TEXT NOT NULL,
  action TEXT NOT NULL, target TEXT NOT NULL, status INTEGER NOT NULL, request TEXT NOT NULL, result TEXT NOT NULL);
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
-- Two-factor login (app/two_factor): one secret per account, being enrolled or on.
CREATE TABLE IF NOT EXISTS user_totp(
  user_id INTEGER PRIMARY KEY REFERENCES users(id), secret_hex TEXT NOT NULL, enabled INTEGER NOT NULL,
  last_step INTEGER NOT NULL, created_at INTEGER NOT NULL);
-- Entry rules per event; no row: the defaults (static codes accepted).
CREATE TABLE IF NOT EXISTS event_entry(
  event_id INTEGER PRIMARY KEY REFERENCES events(id), static_codes_accepted INTEGER NOT NULL DEFAULT 1,
  ticket_key_id INTEGER NOT NULL DEFAULT 1, cancelled_at INTEGER NOT NULL DEFAULT 0,
  cancel_reason TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS event_entry_cancelled ON event_entry(event_id) WHERE cancelled_at > 0;
CREATE INDEX IF NOT EXISTS bookings_by_event_status ON bookings(event_id, status);
CREATE TABLE IF NOT EXISTS event_staff(
  event_id INTEGER NOT NULL REFERENCES events(id), user_id INTEGER NOT NULL REFERENCES users(id),
  created_at INTEGER NOT NULL, PRIMARY KEY(event_id, user_id)) WITHOUT ROWID;
PRAGMA user_version = 4;
)sql";
// Version 5: organizations (docs/console.md). A venue belongs to at most one organization (no row: the
// platform's own); its events are the organization's through it.
constexpr const char* kSchemaV5 = R"sql(
CREATE TABLE IF NOT EXISTS organizations(
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, require_totp INTEGER NOT NULL DEFAULT 0,
  created_by INTEGER NOT NULL, created_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS organizations_by_creator ON organizations(created_by);
CREATE TABLE IF NOT EXISTS organization_members(
  organization_id INTEGER NOT NULL REFERENCES organizations(id), user_id INTEGER NOT NULL REFERENCES users(id),
  created_at INTEGER NOT NULL, PRIMARY KEY(organization_id, user_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS organization_members_by_user ON organization_members(user_id);
CREATE TABLE IF NOT EXISTS venue_owners(
  venue_id INTEGER PRIMARY KEY REFERENCES venues(id),
  organization_id INTEGER NOT NULL REFERENCES organizations(id));
CREATE INDEX IF NOT EXISTS venue_owners_by_organization ON venue_owners(organization_id, venue_id);
-- Venue geometry (core::SectionGeometry, StageShape), hundredths of a unit and of a degree.
CREATE TABLE IF NOT EXISTS venue_section_shapes(
  venue_id INTEGER NOT NULL REFERENCES venues(id), section_idx INTEGER NOT NULL, x_c INTEGER NOT NULL,
  y_c INTEGER NOT NULL, rotation_c INTEGER NOT NULL, curve_c INTEGER NOT NULL, seat_spacing_c INTEGER NOT NULL,
  row_spacing_c INTEGER NOT NULL, PRIMARY KEY(venue_id, section_idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS venue_stages(
  venue_id INTEGER PRIMARY KEY REFERENCES venues(id), x_c INTEGER NOT NULL, y_c INTEGER NOT NULL,
  width_c INTEGER NOT NULL, height_c INTEGER NOT NULL, label TEXT NOT NULL);
-- What an organizer says of an event beyond the sale's facts, and whether it is published; no row:
-- published, no description or image.
CREATE TABLE IF NOT EXISTS event_details(
  event_id INTEGER PRIMARY KEY REFERENCES events(id), description TEXT NOT NULL DEFAULT '',
  image_url TEXT NOT NULL DEFAULT '', published INTEGER NOT NULL DEFAULT 1,
  postponed_from INTEGER NOT NULL DEFAULT 0, postponed_at INTEGER NOT NULL DEFAULT 0);
-- Seats of bookings an organizer refunded (core::SeatRefundRecord): the booking keeps the rest.
CREATE TABLE IF NOT EXISTS booking_refunds(
  id INTEGER PRIMARY KEY, booking_id INTEGER NOT NULL REFERENCES bookings(id), seats TEXT NOT NULL,
  amount INTEGER NOT NULL, refund_ref TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS booking_refunds_by_booking ON booking_refunds(booking_id);
-- Sections that are general-admission areas (core::SectionSpec::general_admission); their places are
-- venue_rows like any seats.
CREATE TABLE IF NOT EXISTS venue_areas(
  venue_id INTEGER NOT NULL REFERENCES venues(id), section_idx INTEGER NOT NULL,
  PRIMARY KEY(venue_id, section_idx)) WITHOUT ROWID;
PRAGMA user_version = 5;
)sql";
// Version 6: account tokens (email and phone verification, password reset; core/account_token.hpp).
constexpr const char* kSchemaV6 = R"sql(
CREATE TABLE IF NOT EXISTS account_tokens(
  id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id), purpose TEXT NOT NULL,
  destination TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
  used_at INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS account_tokens_recent ON account_tokens(user_id, purpose, created_at);
PRAGMA user_version = 6;
)sql";
// Version 6 adds columns to tables of versions 1 and 3: whether an account's address and phone are
// verified, the token an account message is about, and where each message went (message caps count
// by account and by destination, so both are indexed among SENT rows).
constexpr const char* kVerificationColumns = R"sql(
ALTER TABLE users ADD COLUMN email_verified_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE user_notify ADD COLUMN phone_verified INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN token_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN destination TEXT NOT NULL DEFAULT '';
CREATE INDEX IF NOT EXISTS outbox_sent_by_user ON outbox(user_id, sent_at) WHERE status = 'SENT';
CREATE INDEX IF NOT EXISTS outbox_sent_to ON outbox(destination, sent_at) WHERE status = 'SENT';
)sql";
// Version 7: a user whose access to a waiting room ended may join its line again. The old entry stays
// (left_at: when it was left), and only the entry not left is unique per user. Before version 7 the
// index was on every entry (it was created with the tables of version 2).
constexpr const char* kQueueRejoinColumn = R"sql(
ALTER TABLE queue_entries ADD COLUMN left_at INTEGER NOT NULL DEFAULT 0;
DROP INDEX IF EXISTS queue_entries_one_per_user;
)sql";
constexpr const char* kSchemaV7 = R"sql(
CREATE UNIQUE INDEX IF NOT EXISTS queue_entries_one_place_per_user ON queue_entries(event_id, user_id)
  WHERE left_at = 0;
PRAGMA user_version = 7;
)sql";
// Version 8: waiting lists of sold-out events (core/waitlist.hpp). Scores are below 2^53: an INTEGER
// holds them exactly. A list's row keeps its WAITING and OFFERED counts, changed in the transaction of
// every entry's change, so a join or a look at the list never counts the entries. Only an active entry (WAITING or OFFERED) is unique per user; ended ones stay as
// history, for the organizer's figures and the estimate.
constexpr const char* kSchemaV8 = R"sql(
CREATE TABLE IF NOT EXISTS waitlists(
  event_id INTEGER PRIMARY KEY, open INTEGER NOT NULL DEFAULT 1, enabled INTEGER NOT NULL DEFAULT 1,
  offer_ttl_s INTEGER NOT NULL DEFAULT 1800, draw_window_s INTEGER NOT NULL DEFAULT 300,
  opened_at INTEGER, seed TEXT NOT NULL DEFAULT '', commitment TEXT NOT NULL DEFAULT '',
  next_seq INTEGER NOT NULL DEFAULT 0, waiting INTEGER NOT NULL DEFAULT 0, offered INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS waitlist_entries(
  id INTEGER PRIMARY KEY, event_id INTEGER NOT NULL, user_id INTEGER NOT NULL, quantity INTEGER NOT NULL,
  together INTEGER NOT NULL, tier TEXT NOT NULL DEFAULT '', score INTEGER NOT NULL, joined_at INTEGER NOT NULL,
  state TEXT NOT NULL, hold_id INTEGER NOT NULL DEFAULT 0, offered_at INTEGER NOT NULL DEFAULT 0,
  ended_at INTEGER NOT NULL DEFAULT 0);
CREATE UNIQUE INDEX IF NOT EXISTS waitlist_one_active_entry ON waitlist_entries(event_id, user_id)
  WHERE state IN ('WAITING','OFFERED');
CREATE INDEX IF NOT EXISTS waitlist_order ON waitlist_entries(event_id, score) WHERE state = 'WAITING';
CREATE INDEX IF NOT EXISTS waitlist_offers ON waitlist_entries(event_id, offered_at) WHERE offered_at > 0;
CREATE INDEX IF NOT EXISTS waitlist_open_offers ON waitlist_entries(event_id, offered_at, id) WHERE state = 'OFFERED';
CREATE INDEX IF NOT EXISTS waitlist_by_user ON waitlist_entries(event_id, user_id, id);
PRAGMA user_version = 8;
)sql";
// Version 9: face-value resale (docs/resale.md). One row per listed seat; only a LISTED one is unique
// per seat. A sale from a listing records the seller's refund (booking_refunds) in the same job, its
// gateway reference empty until paid: `refund_paid` tells the refunds still due.
constexpr const char* kSchemaV9 = R"sql(
CREATE TABLE IF NOT EXISTS resale_listings(
  id INTEGER PRIMARY KEY, event_id INTEGER NOT NULL, seat INTEGER NOT NULL, booking_id INTEGER NOT NULL,
  seller_id INTEGER NOT NULL, amount INTEGER NOT NULL, state TEXT NOT NULL, listed_at INTEGER NOT NULL,
  ended_at INTEGER NOT NULL DEFAULT 0, buyer_booking_id INTEGER NOT NULL DEFAULT 0,
  refund_id INTEGER NOT NULL DEFAULT 0, refund_paid INTEGER NOT NULL DEFAULT 0);
CREATE UNIQUE INDEX IF NOT EXISTS resale_one_listing ON resale_listings(event_id, seat) WHERE state = 'LISTED';
CREATE INDEX IF NOT EXISTS resale_by_seller ON resale_listings(seller_id, id);
CREATE INDEX IF NOT EXISTS resale_by_event ON resale_listings(event_id, state);
CREATE INDEX IF NOT EXISTS resale_refunds_due ON resale_listings(refund_id) WHERE state = 'SOLD' AND refund_paid = 0;
PRAGMA user_version = 9;
)sql";
// Version 9 adds a column to a table of version 8: whether an event's listed seats go on open sale.
constexpr const char* kResaleRuleColumn =
    "ALTER TABLE waitlists ADD COLUMN resale_open_sale INTEGER NOT NULL DEFAULT 1;";
// Version 5 adds the organization an audited action was about (0: none, or the platform's), and the
// seat refund a seats_refunded notice is about.
constexpr const char* kAuditOrganizationColumn =
    "ALTER TABLE audit_log ADD COLUMN organization_id INTEGER NOT NULL DEFAULT 0;";
constexpr const char* kOutboxRefundColumn = "ALTER TABLE outbox ADD COLUMN refund_id INTEGER NOT NULL DEFAULT 0;";
constexpr const char* kAuditBeforeColumn = "ALTER TABLE audit_log ADD COLUMN before TEXT NOT NULL DEFAULT '';";
// Version 4 adds a column to a table of version 1 (the scripts above run at every open; an ALTER does
// not repeat): a ticket_sent notice names its transfer (the receiver's address is there, not in users).
constexpr const char* kOutboxTransferColumn = "ALTER TABLE outbox ADD COLUMN transfer_id INTEGER NOT NULL DEFAULT 0;";
// Bookings confirmed before version 4 get their tickets once, on the upgrade (SQLite's randomblob is
// a CSPRNG seeded from the OS; new tickets take their ids from libsodium).
constexpr const char* kTicketsBackfill = R"sql(
INSERT INTO tickets(id, event_id, booking_id, owner_id, seat, key_id, status, issued_at)
  SELECT lower(hex(randomblob(16))), s.event_id, s.booking_id, b.user_id, s.seat, 1, 'VALID', b.created_at
  FROM sold_seats s JOIN bookings b ON b.id = s.booking_id;
)sql";

int user_version(Connection& conn) {
  auto& st = conn.prepare("PRAGMA user_version");
  const int v = st.step() ? static_cast<int>(st.int64(0)) : 0;
  st.reset();
  return v;
}
}  // namespace

void apply_schema(Connection& conn) {
  conn.exec("BEGIN IMMEDIATE");
  const int version = user_version(conn);
  conn.exec(kSchemaV1);
  conn.exec(kSchemaV2);
  conn.exec(kSchemaV3);
  conn.exec(kSchemaV4);
  conn.exec(kSchemaV5);
  conn.exec(kSchemaV6);
  if (version < 4) {
    conn.exec(kOutboxTransferColumn);
    conn.exec(kTicketsBackfill);
  }
  if (version < 5) {
    conn.exec(kAuditOrganizationColumn);
    conn.exec(kOutboxRefundColumn);
    conn.exec(kAuditBeforeColumn);
  }
  if (version < 6) conn.exec(kVerificationColumns);
  if (version < 7) conn.exec(kQueueRejoinColumn);
  conn.exec(kSchemaV7);
  conn.exec(kSchemaV8);
  if (version < 9) conn.exec(kResaleRuleColumn);
  conn.exec(kSchemaV9);
  // One process owns an embedded store: leases of a previous run (killed mid-delivery) are void, so
  // what it had claimed is delivered at once rather than when those leases would have lapsed.
  conn.exec("UPDATE outbox SET lease_until = 0, lease_owner = '' WHERE status = 'PENDING' AND lease_until <> 0");
  conn.exec("COMMIT");
}

std::string Database::prepare(const std::string& data_dir) {
  std::filesystem::create_directories(data_dir);
  const std::string path = (std::filesystem::path(data_dir) / kDatabaseFile).string();
  Connection conn(path, Connection::Mode::ReadWrite);
  apply_schema(conn);
  return path;
}

Database::Database(const std::string& data_dir, Metrics* metrics)
    : dir_(data_dir),
      path_(prepare(data_dir)),
      writer_(path_, [metrics](size_t jobs) {
        if (metrics) metrics->observe_commit_batch(jobs);
      }),
      readers_(path_, kReadConnections) {
  auto r = readers_.acquire();
  auto max_id = [&](Statement& st) {
    st.step();
    return st.int64(0);
  };
  hold_id_ = max_id(r->prepare("SELECT COALESCE(MAX(id),0) FROM holds"));
  booking_id_ = max_id(r->prepare("SELECT COALESCE(MAX(id),0) FROM bookings"));
  payment_id_ = max_id(r->prepare("SELECT COALESCE(MAX(id),0) FROM payments"));
}

bool Database::disk_low() const {
  struct statvfs st {};
  if (statvfs(dir_.c_str(), &st) != 0) return false;  // unmeasurable: the write tries, fail-stop backs it
  return static_cast<uint64_t>(st.f_bavail) * static_cast<uint64_t>(st.f_frsize) < kDiskFreeBytesMin;
}

}  // namespace ticketd::store::sqlite
