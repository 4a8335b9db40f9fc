// Versioned schema migrations of the distributed store. Each migration runs once, in its own
// transaction, in order; `ticketd migrate` and every `ticketd serve` apply the missing ones while
// holding an advisory lock, so nodes starting together never race.
//
// Never edit a migration that has shipped: add the next one. One exception, made once: migrations 1,
// 3 and 4 also created stored functions that decided seats (holds, checkout, settlement,
// cancellation, the sweep). Seats are decided by each event's owner now (store/engine, over
// PgSeatJournal), so those functions were taken out of them: a new database never has them, and
// migration 10 drops them from a database made before. No seat rule is written in SQL; the
// database keeps its constraints (one sale per seat, one claim per seat) as the last line of defence.
#include <spdlog/spdlog.h>

#include "store/postgres/postgres_store.hpp"

namespace ticketd::store::postgres {

namespace {

// Times are Unix milliseconds (bigint), as in the embedded store and the core.
constexpr const char* kV1Tables = R"sql(
CREATE TABLE users(
  id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, name text NOT NULL, password_hash text NOT NULL,
  role text NOT NULL, created_at bigint NOT NULL);
CREATE TABLE sessions(
  token_hash text PRIMARY KEY, user_id bigint NOT NULL REFERENCES users(id), expires_at bigint NOT NULL);
CREATE INDEX sessions_by_expiry ON sessions(expires_at);
CREATE TABLE venues(
  id bigserial PRIMARY KEY, name text NOT NULL, seats_total integer NOT NULL, created_at bigint NOT NULL);
CREATE TABLE venue_sections(
  venue_id bigint NOT NULL REFERENCES venues(id), idx integer NOT NULL, name text NOT NULL,
  price_tier text NOT NULL, PRIMARY KEY(venue_id, idx));
CREATE TABLE venue_rows(
  venue_id bigint NOT NULL REFERENCES venues(id), section_idx integer NOT NULL, idx integer NOT NULL,
  label text NOT NULL, seats integer NOT NULL, accessible text NOT NULL, companion text NOT NULL,
  restricted_view text NOT NULL, PRIMARY KEY(venue_id, section_idx, idx));
CREATE TABLE events(
  id bigserial PRIMARY KEY, name text NOT NULL, name_lower text NOT NULL, venue_id bigint NOT NULL REFERENCES venues(id),
  starts_at bigint NOT NULL, on_sale_at bigint NOT NULL, currency text NOT NULL,
  max_tickets_per_user integer NOT NULL, seats_total integer NOT NULL, created_at bigint NOT NULL);
CREATE INDEX events_by_start ON events(starts_at, id);
CREATE TABLE event_prices(
  event_id bigint NOT NULL REFERENCES events(id), tier text NOT NULL, price bigint NOT NULL,
  PRIMARY KEY(event_id, tier));
-- Hold ids are handed out in blocks of 64 (one nextval per block), so a node knows a hold's id
-- before it claims the seats in Redis under that id.
CREATE SEQUENCE hold_id_blocks INCREMENT BY 64 START WITH 1;
CREATE TABLE holds(
  id bigint PRIMARY KEY, event_id bigint NOT NULL REFERENCES events(id), user_id bigint NOT NULL,
  created_at bigint NOT NULL, expires_at bigint NOT NULL,
  -- When the seats lapse: expires_at, or later while a checkout pins the hold.
  deadline bigint NOT NULL,
  state text NOT NULL CHECK(state IN ('ACTIVE','PINNED','RELEASED','EXPIRED','CONVERTED')),
  booking_id bigint);
CREATE INDEX holds_live_by_deadline ON holds(deadline) WHERE state IN ('ACTIVE','PINNED');
CREATE TABLE hold_seats(
  hold_id bigint NOT NULL REFERENCES holds(id), seat integer NOT NULL, PRIMARY KEY(hold_id, seat));
-- The current claim on each seat that is not free: a hold (until its deadline) or a sale. One row
-- per seat, so two live claims on one seat cannot exist; a lapsed claim may be taken over.
CREATE TABLE seat_claims(
  event_id bigint NOT NULL, seat integer NOT NULL, hold_id bigint NOT NULL, user_id bigint NOT NULL,
  deadline bigint NOT NULL, booking_id bigint, PRIMARY KEY(event_id, seat));
CREATE INDEX seat_claims_by_user ON seat_claims(event_id, user_id);
CREATE INDEX seat_claims_by_hold ON seat_claims(hold_id);
CREATE INDEX seat_claims_lapsing ON seat_claims(deadline) WHERE booking_id IS NULL;
CREATE TABLE bookings(
  id bigserial PRIMARY KEY, hold_id bigint NOT NULL REFERENCES holds(id), event_id bigint NOT NULL,
  user_id bigint NOT NULL,
  status text NOT NULL CHECK(status IN ('PENDING_PAYMENT','CONFIRMED','FAILED','CANCELLED')),
  total_amount bigint NOT NULL, currency text NOT NULL, payment_id bigint NOT NULL,
  created_at bigint NOT NULL, cancelled_at bigint, decline_code text NOT NULL DEFAULT '',
  message text NOT NULL DEFAULT '');
CREATE INDEX bookings_by_user ON bookings(user_id, id);
-- A hold has at most one booking that is not FAILED (pending, confirmed or cancelled).
CREATE UNIQUE INDEX bookings_one_live_per_hold ON bookings(hold_id) WHERE status <> 'FAILED';
CREATE TABLE booking_seats(
  booking_id bigint NOT NULL REFERENCES bookings(id), seat integer NOT NULL, PRIMARY KEY(booking_id, seat));
-- The last line of defence against overselling, whatever Redis or any node believed: one row per
-- sold seat, unique per (event, seat).
CREATE TABLE sold_seats(
  event_id bigint NOT NULL, seat integer NOT NULL, booking_id bigint NOT NULL REFERENCES bookings(id),
  PRIMARY KEY(event_id, seat));
CREATE INDEX sold_seats_by_booking ON sold_seats(booking_id);
CREATE TABLE payments(
  id bigserial PRIMARY KEY, user_id bigint NOT NULL, hold_id bigint NOT NULL, booking_id bigint NOT NULL,
  idempotency_key text NOT NULL, gateway_key text NOT NULL, amount bigint NOT NULL, currency text NOT NULL,
  payment_method text NOT NULL, payment_ref text NOT NULL DEFAULT '',
  status text NOT NULL CHECK(status IN ('PENDING','REQUIRES_ACTION','SUCCEEDED','DECLINED','REFUNDED')),
  decline_code text NOT NULL DEFAULT '', message text NOT NULL DEFAULT '', refund_ref text,
  created_at bigint NOT NULL, updated_at bigint NOT NULL,
  -- A node asking the gateway about this payment leases it until then, so nodes do not all ask.
  reconcile_lease_until bigint NOT NULL DEFAULT 0,
  UNIQUE(user_id, idempotency_key));
CREATE INDEX payments_by_booking ON payments(booking_id);
CREATE INDEX payments_by_ref ON payments(payment_ref);
CREATE INDEX payments_open ON payments(created_at) WHERE status IN ('PENDING','REQUIRES_ACTION','SUCCEEDED');
CREATE TABLE payment_events(id text PRIMARY KEY, type text NOT NULL, received_at bigint NOT NULL);
)sql";

// Version 2: waiting rooms. The settings of an event's room (no row: none), and secrets the nodes
// share (the waiting room's token key, when none is configured). The queues themselves live in Redis.
constexpr const char* kV2WaitingRooms = R"sql(
CREATE TABLE event_waiting_rooms(
  event_id bigint PRIMARY KEY REFERENCES events(id), enabled boolean NOT NULL, batch_size integer NOT NULL,
  release_interval_ms bigint NOT NULL, active_window_ms bigint NOT NULL, opens_before_ms bigint NOT NULL);
CREATE TABLE shared_secrets(name text PRIMARY KEY, value text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
)sql";

// Migration 3: notifications through a transactional outbox (written in the transaction of the
// change they tell of). ticketd_enqueue_notice decides nothing about seats: it writes one row per
// channel the user chose.
constexpr const char* kV3Outbox = R"sql(
CREATE TABLE user_notify(
  user_id bigint PRIMARY KEY REFERENCES users(id), phone text NOT NULL DEFAULT '',
  email_on boolean NOT NULL DEFAULT true, sms_on boolean NOT NULL DEFAULT false,
  hold_expiry_on boolean NOT NULL DEFAULT false);
CREATE TABLE outbox(
  id bigserial PRIMARY KEY, kind text NOT NULL, channel text NOT NULL CHECK(channel IN ('email','webhook')),
  user_id bigint NOT NULL, event_id bigint NOT NULL, booking_id bigint NOT NULL DEFAULT 0,
  hold_id bigint NOT NULL DEFAULT 0,
  status text NOT NULL CHECK(status IN ('PENDING','SENT','DEAD','SKIPPED')),
  attempts integer NOT NULL DEFAULT 0, created_at bigint NOT NULL, due_at bigint NOT NULL,
  -- Claimed by lease_owner until lease_until (database clock, Unix ms); a lapsed lease is claimable.
  lease_until bigint NOT NULL DEFAULT 0, lease_owner text NOT NULL DEFAULT '',
  last_error text NOT NULL DEFAULT '', sent_at bigint);
CREATE INDEX outbox_due ON outbox(due_at, id) WHERE status = 'PENDING';
CREATE INDEX outbox_dead ON outbox(id) WHERE status = 'DEAD';
CREATE INDEX outbox_done ON outbox(created_at) WHERE status IN ('SENT','SKIPPED');

-- One row per channel the user chose (no user_notify row: email only); hold_expiring only if opted in.
CREATE FUNCTION ticketd_enqueue_notice(p_kind text, p_user bigint, p_event bigint, p_booking bigint, p_hold bigint,
                                       p_now bigint, p_due bigint) RETURNS void LANGUAGE sql AS $$
  INSERT INTO outbox(kind, channel, user_id, event_id, booking_id, hold_id, status, created_at, due_at)
  SELECT p_kind, ch.name, p_user, p_event, p_booking, p_hold, 'PENDING', p_now, p_due
  FROM (VALUES ('email'), ('webhook')) AS ch(name) LEFT JOIN user_notify n ON n.user_id = p_user
  WHERE ((ch.name = 'email' AND coalesce(n.email_on, true))
      OR (ch.name = 'webhook' AND coalesce(n.sms_on, false) AND coalesce(n.phone, '') <> ''))
    AND (p_kind <> 'hold_expiring' OR coalesce(n.hold_expiry_on, false));
$$;
)sql";

// Migration 4: a cap on the live holds of one user across all events (anti-hoarding): an index to
// count a user's live holds.
constexpr const char* kV4ActiveHoldsCap = R"sql(
-- The count reads only this user's live holds (a few), never the history.
CREATE INDEX holds_live_by_user ON holds(user_id, deadline) WHERE state IN ('ACTIVE','PINNED');
)sql";

// Migration 5: tickets (docs/tickets.md). Issued in the transaction that confirms a
// booking (ids from libsodium, drawn by the node), revoked in the one that cancels it; the partial
// unique index refuses a second live ticket for a seat whatever a node believed. Bookings confirmed
// before get theirs here (gen_random_uuid: 122 random bits from the server's strong generator).
constexpr const char* kV5Tickets = R"sql(
CREATE TABLE tickets(
  id text PRIMARY KEY, event_id bigint NOT NULL, booking_id bigint NOT NULL REFERENCES bookings(id),
  owner_id bigint NOT NULL, seat integer NOT NULL, key_id integer NOT NULL,
  status text NOT NULL CHECK(status IN ('VALID','CHECKED_IN','REVOKED')), issued_at bigint NOT NULL,
  revoked_at bigint, revoked_reason text NOT NULL DEFAULT '',
  changed_at bigint NOT NULL DEFAULT 0, gate text NOT NULL DEFAULT '');
CREATE INDEX tickets_by_booking ON tickets(booking_id);
CREATE INDEX tickets_by_event_change ON tickets(event_id, changed_at) WHERE changed_at > 0;
CREATE INDEX tickets_by_event_status ON tickets(event_id, status);
CREATE UNIQUE INDEX tickets_one_live_per_seat ON tickets(event_id, seat) WHERE status <> 'REVOKED';
CREATE TABLE checkins(
  event_id bigint NOT NULL, scan_id text NOT NULL, ticket_id text NOT NULL, gate text NOT NULL,
  device_id text NOT NULL, staff_id bigint NOT NULL, direction text NOT NULL CHECK(direction IN ('in','out')),
  scanned_at bigint NOT NULL, recorded_at bigint NOT NULL, result text NOT NULL,
  offline_result text NOT NULL DEFAULT '',
  PRIMARY KEY(event_id, scan_id));
CREATE INDEX checkins_conflicts ON checkins(event_id, recorded_at) WHERE offline_result = 'ok' AND result <> 'ok';
CREATE INDEX checkins_by_ticket ON checkins(ticket_id, recorded_at) WHERE result = 'ok';
CREATE TABLE ticket_transfers(
  id bigserial PRIMARY KEY, event_id bigint NOT NULL, from_ticket_id text NOT NULL UNIQUE, ticket_id text NOT NULL UNIQUE,
  from_user_id bigint NOT NULL, to_email text NOT NULL, to_user_id bigint,
  status text NOT NULL CHECK(status IN ('PENDING','ACCEPTED','CANCELLED')), created_at bigint NOT NULL,
  decided_at bigint);
ALTER TABLE outbox ADD COLUMN transfer_id bigint NOT NULL DEFAULT 0;
CREATE INDEX transfers_by_sender ON ticket_transfers(from_user_id, id);
CREATE INDEX transfers_by_receiver ON ticket_transfers(to_email, id);
CREATE INDEX tickets_by_owner ON tickets(owner_id, issued_at);
CREATE INDEX tickets_by_event_id ON tickets(event_id, id);
CREATE TABLE audit_log(
  id bigserial PRIMARY KEY, at bigint NOT NULL, actor_id bigint NOT NULL, actor_email text NOT NULL,
  action text NOT NULL, target text NOT NULL, status integer NOT NULL, request text NOT NULL, result text NOT NULL);
CREATE FUNCTION ticketd_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only';
END $$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION ticketd_audit_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION ticketd_audit_append_only();
CREATE TABLE user_totp(
  user_id bigint PRIMARY KEY REFERENCES users(id), secret_hex text NOT NULL, enabled boolean NOT NULL,
  last_step bigint NOT NULL, created_at bigint NOT NULL);
CREATE TABLE event_entry(
  event_id bigint PRIMARY KEY REFERENCES events(id), static_codes_accepted boolean NOT NULL DEFAULT true,
  ticket_key_id integer NOT NULL DEFAULT 1, cancelled_at bigint NOT NULL DEFAULT 0,
  cancel_reason text NOT NULL DEFAULT '');
CREATE INDEX event_entry_cancelled ON event_entry(event_id) WHERE cancelled_at > 0;
CREATE INDEX bookings_by_event_status ON bookings(event_id, status);
CREATE TABLE event_staff(
  event_id bigint NOT NULL REFERENCES events(id), user_id bigint NOT NULL REFERENCES users(id),
  created_at bigint NOT NULL, PRIMARY KEY(event_id, user_id));
INSERT INTO tickets(id, event_id, booking_id, owner_id, seat, key_id, status, issued_at)
  SELECT replace(gen_random_uuid()::text, '-', ''), s.event_id, s.booking_id, b.user_id, s.seat, 1, 'VALID',
         b.created_at
  FROM sold_seats s JOIN bookings b ON b.id = s.booking_id;
)sql";

// Migration 6: organizations (docs/console.md). A venue belongs to at most one organization (no row:
// the platform's own); its events are the organization's through it. And venue geometry
// (core::SectionGeometry, StageShape), in hundredths.
constexpr const char* kV6Organizations = R"sql(
CREATE TABLE organizations(
  id bigserial PRIMARY KEY, name text NOT NULL, require_totp boolean NOT NULL DEFAULT false,
  created_by bigint NOT NULL, created_at bigint NOT NULL);
CREATE INDEX organizations_by_creator ON organizations(created_by);
CREATE TABLE organization_members(
  organization_id bigint NOT NULL REFERENCES organizations(id), user_id bigint NOT NULL REFERENCES users(id),
  created_at bigint NOT NULL, PRIMARY KEY(organization_id, user_id));
CREATE INDEX organization_members_by_user ON organization_members(user_id);
CREATE TABLE venue_owners(
  venue_id bigint PRIMARY KEY REFERENCES venues(id),
  organization_id bigint NOT NULL REFERENCES organizations(id));
CREATE INDEX venue_owners_by_organization ON venue_owners(organization_id, venue_id);
CREATE TABLE venue_section_shapes(
  venue_id bigint NOT NULL REFERENCES venues(id), section_idx integer NOT NULL, x_c integer NOT NULL,
  y_c integer NOT NULL, rotation_c integer NOT NULL, curve_c integer NOT NULL, seat_spacing_c integer NOT NULL,
  row_spacing_c integer NOT NULL, PRIMARY KEY(venue_id, section_idx));
CREATE TABLE venue_stages(
  venue_id bigint PRIMARY KEY REFERENCES venues(id), x_c integer NOT NULL, y_c integer NOT NULL,
  width_c integer NOT NULL, height_c integer NOT NULL, label text NOT NULL);
ALTER TABLE audit_log ADD COLUMN organization_id bigint NOT NULL DEFAULT 0;
ALTER TABLE audit_log ADD COLUMN before text NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN refund_id bigint NOT NULL DEFAULT 0;
CREATE TABLE booking_refunds(
  id bigserial PRIMARY KEY, booking_id bigint NOT NULL REFERENCES bookings(id), seats text NOT NULL,
  amount bigint NOT NULL, refund_ref text NOT NULL, created_at bigint NOT NULL);
CREATE INDEX booking_refunds_by_booking ON booking_refunds(booking_id);
CREATE TABLE venue_areas(
  venue_id bigint NOT NULL REFERENCES venues(id), section_idx integer NOT NULL, PRIMARY KEY(venue_id, section_idx));
CREATE TABLE event_details(
  event_id bigint PRIMARY KEY REFERENCES events(id), description text NOT NULL DEFAULT '',
  image_url text NOT NULL DEFAULT '', published boolean NOT NULL DEFAULT true,
  postponed_from bigint NOT NULL DEFAULT 0, postponed_at bigint NOT NULL DEFAULT 0);
)sql";

// Migration 7: account tokens (email and phone verification, password reset), whether an account's
// address and phone are verified, the token an account message is about, and where each message went
// (message caps count SENT rows by account and by destination).
constexpr const char* kV7Verification = R"sql(
CREATE TABLE account_tokens(
  id bigserial PRIMARY KEY, user_id bigint NOT NULL REFERENCES users(id), purpose text NOT NULL,
  destination text NOT NULL, created_at bigint NOT NULL, expires_at bigint NOT NULL,
  used_at bigint NOT NULL DEFAULT 0, attempts integer NOT NULL DEFAULT 0);
CREATE INDEX account_tokens_recent ON account_tokens(user_id, purpose, created_at);
ALTER TABLE users ADD COLUMN email_verified_at bigint NOT NULL DEFAULT 0;
ALTER TABLE user_notify ADD COLUMN phone_verified boolean NOT NULL DEFAULT false;
ALTER TABLE outbox ADD COLUMN token_id bigint NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN destination text NOT NULL DEFAULT '';
CREATE INDEX outbox_sent_by_user ON outbox(user_id, sent_at) WHERE status = 'SENT';
CREATE INDEX outbox_sent_to ON outbox(destination, sent_at) WHERE status = 'SENT';
)sql";

// Event ownership (store/postgres/event_owners.hpp): which node decides an event's seats, under which
// epoch, until when (PostgreSQL's clock). Rows are never deleted: a released or lapsed lease is taken
// over by the next claim, epoch + 1.
constexpr const char* kV8EventOwners = R"sql(
CREATE TABLE event_owners(
  event_id bigint PRIMARY KEY REFERENCES events(id),
  owner text NOT NULL,
  address text NOT NULL,
  epoch bigint NOT NULL CHECK(epoch >= 1),
  expires_at timestamptz NOT NULL);
)sql";

// When a claim was made: the owner's journal writes a batch's hold claims in one INSERT … ON CONFLICT,
// whose condition (the old claim had lapsed when the new hold was made) can then compare two columns
// of the conflicting row, with no join. 0 for claims written before.
constexpr const char* kV9ClaimTimes = R"sql(
ALTER TABLE seat_claims ADD COLUMN claimed_at bigint NOT NULL DEFAULT 0;
)sql";

// The stored functions that decided seats, in a database made before they were taken out of
// migrations 1, 3 and 4 (with the versions they wrapped: ticketd_hold_v1, ticketd_settle_v1, ...).
constexpr const char* kV10NoSeatFunctions = R"sql(
DO $$
DECLARE f regprocedure;
BEGIN
  FOR f IN SELECT p.oid::regprocedure FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = current_schema()
             AND p.proname ~ '^ticketd_(hold|release|begin_checkout|settle|cancel|sweep)(_v[0-9]+)?$'
  LOOP
    EXECUTE 'DROP FUNCTION ' || f::text;
  END LOOP;
END $$;
)sql";

// Waiting lists of sold-out events (core/waitlist.hpp). Only an active entry (WAITING or OFFERED) is
// unique per user; ended ones stay as history, for the organizer's figures and the estimate. A list's
// row keeps its WAITING and OFFERED counts, changed with every entry's change (in its statement).
constexpr const char* kV11Waitlists = R"sql(
CREATE TABLE waitlists(
  event_id bigint PRIMARY KEY, open boolean NOT NULL DEFAULT true, enabled boolean NOT NULL DEFAULT true,
  offer_ttl_s integer NOT NULL DEFAULT 1800, draw_window_s integer NOT NULL DEFAULT 300,
  opened_at bigint, seed text NOT NULL DEFAULT '', commitment text NOT NULL DEFAULT '',
  next_seq bigint NOT NULL DEFAULT 0, waiting bigint NOT NULL DEFAULT 0, offered bigint NOT NULL DEFAULT 0);
CREATE TABLE waitlist_entries(
  id bigserial PRIMARY KEY, event_id bigint NOT NULL, user_id bigint NOT NULL,
  quantity integer NOT NULL CHECK(quantity > 0), together boolean NOT NULL, tier text NOT NULL DEFAULT '',
  score bigint NOT NULL, joined_at bigint NOT NULL,
  state text NOT NULL CHECK(state IN ('WAITING','OFFERED','FULFILLED','LAPSED','LEFT','SKIPPED')),
  hold_id bigint NOT NULL DEFAULT 0, offered_at bigint NOT NULL DEFAULT 0, ended_at bigint NOT NULL DEFAULT 0);
CREATE UNIQUE INDEX waitlist_one_active_entry ON waitlist_entries(event_id, user_id)
  WHERE state IN ('WAITING','OFFERED');
CREATE INDEX waitlist_order ON waitlist_entries(event_id, score) WHERE state = 'WAITING';
CREATE INDEX waitlist_offers ON waitlist_entries(event_id, offered_at) WHERE offered_at > 0;
CREATE INDEX waitlist_open_offers ON waitlist_entries(event_id, offered_at, id) WHERE state = 'OFFERED';
CREATE INDEX waitlist_by_user ON waitlist_entries(event_id, user_id, id);
)sql";

// Face-value resale (docs/resale.md). One row per listed seat; only a LISTED one is unique per seat. A
// sale from a listing records the seller's refund (booking_refunds) in the same commit, its gateway
// reference empty until paid: `refund_paid` tells the refunds still due.
constexpr const char* kV12Resale = R"sql(
CREATE TABLE resale_listings(
  id bigserial PRIMARY KEY, event_id bigint NOT NULL, seat integer NOT NULL, booking_id bigint NOT NULL,
  seller_id bigint NOT NULL, amount bigint NOT NULL CHECK(amount >= 0),
  state text NOT NULL CHECK(state IN ('LISTED','SOLD','WITHDRAWN')), listed_at bigint NOT NULL,
  ended_at bigint NOT NULL DEFAULT 0, buyer_booking_id bigint NOT NULL DEFAULT 0,
  refund_id bigint NOT NULL DEFAULT 0, refund_paid boolean NOT NULL DEFAULT false);
CREATE UNIQUE INDEX resale_one_listing ON resale_listings(event_id, seat) WHERE state = 'LISTED';
CREATE INDEX resale_by_seller ON resale_listings(seller_id, id);
CREATE INDEX resale_by_event ON resale_listings(event_id, state);
CREATE INDEX resale_refunds_due ON resale_listings(refund_id) WHERE state = 'SOLD' AND NOT refund_paid;
ALTER TABLE waitlists ADD COLUMN resale_open_sale boolean NOT NULL DEFAULT true;
)sql";

// A cancel or a refund finds its booking's rows by booking: the sale's claims, its listings still open
// and the refund notice just queued. Without these each of them read its table whole, once per cancel
// or refund, on the owner's one writer. Each index holds only the rows such a statement looks for.
constexpr const char* kV13RowsByBooking = R"sql(
CREATE INDEX seat_claims_by_booking ON seat_claims(booking_id) WHERE booking_id IS NOT NULL;
CREATE INDEX resale_listed_by_booking ON resale_listings(booking_id) WHERE state = 'LISTED';
CREATE INDEX outbox_refund_notice_unlinked ON outbox(booking_id) WHERE kind = 'seats_refunded' AND refund_id = 0;
)sql";

// Migration 14: the channels a notice goes to are a set-returning SQL function that PostgreSQL inlines
// into the statement calling it, so a sale batch's notices are one planned INSERT. Called once per row,
// ticketd_enqueue_notice had its body planned again for every statement: 1.5 ms of the writer's time
// per sale batch, the largest of its statements. It keeps its signature and now applies the same rule.
constexpr const char* kV14NoticeChannels = R"sql(
-- One row per channel the user chose (no user_notify row: email only); hold_expiring only if opted in.
-- Not STRICT and not VOLATILE: either would keep PostgreSQL from inlining it.
CREATE FUNCTION ticketd_notice_channels(p_kind text, p_user bigint) RETURNS TABLE(channel text)
LANGUAGE sql STABLE AS $$
  SELECT ch.name FROM (VALUES ('email'), ('webhook')) AS ch(name) LEFT JOIN user_notify n ON n.user_id = p_user
  WHERE ((ch.name = 'email' AND coalesce(n.email_on, true))
      OR (ch.name = 'webhook' AND coalesce(n.sms_on, false) AND coalesce(n.phone, '') <> ''))
    AND (p_kind <> 'hold_expiring' OR coalesce(n.hold_expiry_on, false));
$$;
CREATE OR REPLACE FUNCTION ticketd_enqueue_notice(p_kind text, p_user bigint, p_event bigint, p_booking bigint,
                                                  p_hold bigint, p_now bigint, p_due bigint) RETURNS void
LANGUAGE sql AS $$
  INSERT INTO outbox(kind, channel, user_id, event_id, booking_id, hold_id, status, created_at, due_at)
  SELECT p_kind, c.channel, p_user, p_event, p_booking, p_hold, 'PENDING', p_now, p_due
  FROM ticketd_notice_channels(p_kind, p_user) AS c;
$$;
)sql";

// Migration 15: seat claims keep only the indexes their statements use. Every statement that finds
// claims by hold also asks for `booking_id IS NULL` (a hold's claims not yet sold), so that index holds
// only those rows. seat_claims_lapsing (deadline, where booking_id IS NULL) and seat_claims_by_user
// served the stored functions' sweep and hold cap, gone since migration 10; each claim still paid for
// them on every write, and PostgreSQL ANDed the lapsing index into the deletes of released holds:
// after a hot sale's claims were sold it is mostly dead entries (tens of thousands), all read each time
// (1-2 ms a delete on the owner's one writer, from an estimate of 144 rows made before the sale).
constexpr const char* kV15ClaimIndexes = R"sql(
CREATE INDEX seat_claims_held_by_hold ON seat_claims(hold_id) WHERE booking_id IS NULL;
DROP INDEX seat_claims_by_hold;
DROP INDEX seat_claims_lapsing;
DROP INDEX seat_claims_by_user;
)sql";

struct Migration {
  int version;
  const char* name;
  std::vector<const char*> scripts;
};

const std::vector<Migration>& migrations() {
  static const std::vector<Migration> kAll = {
      {1, "tables, holds, checkout", {kV1Tables}},
      {2, "waiting rooms", {kV2WaitingRooms}},
      {3, "notifications outbox", {kV3Outbox}},
      {4, "active holds per user", {kV4ActiveHoldsCap}},
      {5, "tickets and check-in", {kV5Tickets}},
      {6, "organizations and venue geometry", {kV6Organizations}},
      {7, "account verification and message caps", {kV7Verification}},
      {8, "event ownership", {kV8EventOwners}},
      {9, "seat claim times", {kV9ClaimTimes}},
      {10, "no seat decisions in SQL", {kV10NoSeatFunctions}},
      {11, "waiting lists", {kV11Waitlists}},
      {12, "face-value resale", {kV12Resale}},
      {13, "rows found by booking", {kV13RowsByBooking}},
      {14, "notice channels inlined", {kV14NoticeChannels}},
      {15, "seat claim indexes", {kV15ClaimIndexes}},
  };
  return kAll;
}

// Any constant will do; it only has to be the same on every node.
constexpr int64_t kMigrationLockKey = 0x7469636b65746431;  // "ticketd1"

}  // namespace

int latest_schema_version() { return migrations().back().version; }

bool run_exclusively(Pool& pool, int64_t key, const std::function<void()>& work) {
  auto lease = pool.acquire();
  Connection& c = *lease;
  c.exec("BEGIN");
  try {
    if (!c.query("SELECT pg_try_advisory_xact_lock($1)", {p(key)}).boolean(0, 0)) {
      c.exec("ROLLBACK");
      return false;
    }
    work();
    c.exec("COMMIT");  // releases the lock
    return true;
  } catch (...) {
    if (c.healthy()) c.exec("ROLLBACK");
    else lease.discard();
    throw;
  }
}

std::string shared_secret(Connection& c, const std::string& name, const std::string& candidate) {
  // The first node to ask stores its candidate; every node gets the stored one.
  c.query("INSERT INTO shared_secrets(name, value) VALUES($1, $2) ON CONFLICT (name) DO NOTHING",
          {p(name), p(candidate)});
  return c.query("SELECT value FROM shared_secrets WHERE name = $1", {p(name)}).text(0, 0);
}

int migrate(Connection& c) {
  c.exec("SELECT pg_advisory_lock(" + std::to_string(kMigrationLockKey) + ")");
  int applied = 0;
  try {
    c.exec("CREATE TABLE IF NOT EXISTS schema_migrations(version integer PRIMARY KEY, name text NOT NULL, "
           "applied_at timestamptz NOT NULL DEFAULT now())");
    Rows r = c.query("SELECT coalesce(max(version), 0) FROM schema_migrations");
    const int64_t current = r.int64(0, 0);
    for (const Migration& m : migrations()) {
      if (m.version <= current) continue;
      c.exec("BEGIN");
      try {
        for (const char* script : m.scripts) c.exec(script);
        c.exec("INSERT INTO schema_migrations(version, name) VALUES(" + std::to_string(m.version) + ", '" +
               m.name + "')");
        c.exec("COMMIT");
      } catch (...) {
        c.exec("ROLLBACK");
        throw;
      }
      spdlog::info("migrated postgres schema_version={} name=\"{}\"", m.version, m.name);
      ++applied;
    }
  } catch (...) {
    c.exec("SELECT pg_advisory_unlock(" + std::to_string(kMigrationLockKey) + ")");
    throw;
  }
  c.exec("SELECT pg_advisory_unlock(" + std::to_string(kMigrationLockKey) + ")");
  return applied;
}

}  // namespace ticketd::store::postgres
