#include "app/notifications.hpp"

#include <algorithm>

namespace ticketd::app {

using core::Code;
using core::make_error;

namespace {
constexpr Millis kPruneEvery{60'000};

// What every message of an outbox row says about itself and whom it greets.
core::Notification addressed(const core::OutboxRow& row, const core::User& user) {
  core::Notification n;
  n.outbox_id = row.id;
  n.kind = row.kind;
  n.channel = row.channel;
  n.user_name = user.name;
  n.created_at = row.created_at;
  return n;
}

std::vector<core::SeatLabel> labels(const core::Layout& layout, const std::vector<core::SeatId>& seats) {
  std::vector<core::SeatLabel> out;
  out.reserve(seats.size());
  for (core::SeatId id : seats)
    if (auto label = layout.label(id)) out.push_back(std::move(*label));
  return out;
}
}  // namespace

Notifications::Notifications(core::OutboxStore& outbox, core::Ledger& ledger, Catalog& catalog,
                             core::AccountStore& accounts, std::vector<core::NotificationChannel*> channels,
                             const Clock& clock, NotifyConfig config, Metrics& metrics, Tickets* tickets,
                             core::TransferStore* transfers, AccountLinks* links)
    : outbox_(outbox),
      ledger_(ledger),
      catalog_(catalog),
      accounts_(accounts),
      tickets_(tickets),
      transfers_(transfers),
      links_(links),
      clock_(clock),
      config_(std::move(config)),
      metrics_(metrics),
      rng_(config_.seed) {
  TICKETD_ASSERT(config_.batch_max >= 1 && config_.batch_max <= kNotifyBatchMax);
  TICKETD_ASSERT(config_.retry.attempts_max >= 1 && config_.retry.attempts_max <= core::kNotifyAttemptsMaxLimit);
  TICKETD_ASSERT(!config_.owner.empty());
  for (core::NotificationChannel* c : channels) {
    TICKETD_ASSERT(c != nullptr);
    TICKETD_ASSERT(!channels_.contains(c->name()));  // one adapter per channel kind
    channels_[c->name()] = c;
    channel_names_.push_back(c->name());
  }
}

size_t Notifications::deliver_due() {
  TimeMs now = clock_.now();
  if (now - last_prune_ >= kPruneEvery) {
    last_prune_ = now;
    if (const size_t n = outbox_.prune(now - config_.retention, kPruneRowsPerPassMax))
      metrics_.count("notifications", "pruned");
  }
  const TimeMs claimed_at = now;
  const auto rows = outbox_.claim(config_.owner, channel_names_, now, config_.lease, config_.batch_max);
  size_t done = 0;
  for (const core::OutboxRow& row : rows) {
    now = clock_.now();
    // A delivery started in the first half of the lease ends (by the channel's timeout, at most half
    // the lease: serve() checks) before the lease lapses, so no other node can be delivering it too.
    // The rest stay leased and lapse back to the pool (or are freed at an embedded restart).
    if (stopping_ || now - claimed_at >= config_.lease / 2) break;
    Resolved r = resolve(row, now);
    if (!r.notification) {
      (void)outbox_.mark_skipped(row.id, r.skip_reason);
      metrics_.count("notifications", "skipped");
      ++done;
      continue;
    }
    const core::Notification& n = *r.notification;
    const std::string& destination = row.channel == core::kChannelWebhook ? n.phone : n.email;
    const core::RecentMessages recent = outbox_.sent_since(row.user_id, destination, now - core::kMessageCapWindow);
    if (!core::within_caps(config_.caps, recent)) {
      (void)outbox_.mark_skipped(row.id, "message cap reached (per account or per destination, per hour)");
      metrics_.count("notifications", "capped");
      ++done;
      continue;
    }
    const core::Status delivered = channels_.at(row.channel)->deliver(n);
    finish(row, n, delivered, clock_.now());
    ++done;
  }
  return done;
}

void Notifications::finish(const core::OutboxRow& row, const core::Notification& n, const core::Status& delivered,
                           TimeMs now) {
  if (delivered) {
    (void)outbox_.mark_sent(row.id, now, row.channel == core::kChannelWebhook ? n.phone : n.email);
    metrics_.count("notifications", "sent");
    // Latency from when the notice was due (its change, or the warning time of a hold) to acceptance.
    const TimeMs due = std::max(row.created_at, row.due_at);
    metrics_.observe_notification_latency(std::chrono::duration<double>(now - due).count());
    return;
  }
  const int32_t failures = row.attempts + 1;
  const auto next = core::next_try_at(config_.retry, failures, now, rng_());
  (void)outbox_.mark_failed(row.id, config_.owner, delivered.error().message, next);
  metrics_.count("notifications", next ? "retried" : "dead_lettered");
}

Notifications::Resolved Notifications::resolve(const core::OutboxRow& row, TimeMs now) {
  Resolved out;
  if (!channels_.contains(row.channel)) {
    out.skip_reason = "channel " + row.channel + " is not configured on this server";
    return out;
  }
  auto user = accounts_.find_user(row.user_id);
  if (!user) {
    out.skip_reason = "no such user";
    return out;
  }
  if (row.kind == core::NoticeKind::VerifyEmail || row.kind == core::NoticeKind::VerifyPhone ||
      row.kind == core::NoticeKind::PasswordReset)
    return resolve_account_message(row, *user, now);
  const core::NotifyPrefs prefs = accounts_.notify_prefs(row.user_id);
  // The row was written with the choices of its time; a user who opted out since is not told.
  // A ticket_sent row goes to the receiver's address: the sender's choices do not apply to it.
  const bool to_receiver = row.kind == core::NoticeKind::TicketSent;
  if (!to_receiver && ((row.channel == core::kChannelEmail && !prefs.email) ||
      (row.channel == core::kChannelWebhook && (!prefs.sms || prefs.phone.empty())) ||
      (row.kind == core::NoticeKind::HoldExpiring && !prefs.hold_expiry))) {
    out.skip_reason = "the user turned this channel off";
    return out;
  }
  // Nothing goes to an address or number its owner has not confirmed (anyone can type anyone's).
  if (!to_receiver && row.channel == core::kChannelEmail && !user->email_verified) {
    out.skip_reason = "the account's email address is not verified";
    return out;
  }
  if (!to_receiver && row.channel == core::kChannelWebhook && !prefs.phone_verified) {
    out.skip_reason = "the account's phone number is not verified";
    return out;
  }
  auto event = catalog_.event(row.event_id);
  if (!event) {
    out.skip_reason = "no such event";
    return out;
  }
  auto venue = catalog_.venue(event->venue_id);
  if (!venue) {
    out.skip_reason = "no such venue";
    return out;
  }
  core::Notification n = addressed(row, *user);
  n.email = user->email;
  n.phone = prefs.phone;
  n.event_name = event->name;
  n.venue_name = event->venue_name;
  n.event_starts_at = event->starts_at;
  n.event_postponed_from = event->postponed_from;
  n.currency = event->currency;
  n.hold_id = row.hold_id;
  if (row.kind == core::NoticeKind::HoldExpiring || row.kind == core::NoticeKind::WaitlistOffer) {
    auto hold = ledger_.find_hold(row.hold_id, row.user_id, now);
    // Checked out, released or lapsed already: the warning (or the offer) has nothing left to say.
    if (!hold || hold->state != core::HoldState::Active || hold->expires_at <= now) {
      out.skip_reason = "the hold is no longer live";
      return out;
    }
    n.hold_expires_at = hold->expires_at;
    n.seats = labels((*venue)->layout, hold->seats);
    for (core::SeatId s : hold->seats) {
      auto price = event->prices.find((*venue)->layout.price_tier_of(s));
      if (price != event->prices.end()) n.amount += price->second;
    }
  } else if (to_receiver) {
    auto transfer = transfers_ ? transfers_->find(row.transfer_id) : std::nullopt;
    if (!transfer) {
      out.skip_reason = "no such transfer";
      return out;
    }
    if (transfer->status != core::TransferStatus::Pending) {
      out.skip_reason = "the transfer was accepted or cancelled already";
      return out;
    }
    n.email = transfer->to_email;
    n.phone.clear();
    n.user_name.clear();  // the receiver may have no account: all there is, is the address
    n.sender_name = user->name.empty() ? user->email : user->name;
    if (auto ticket = ledger_.find_ticket(transfer->ticket_id))
      n.seats = labels((*venue)->layout, std::vector<core::SeatId>{ticket->seat});
  } else if (row.kind == core::NoticeKind::SeatsRefunded) {
    auto booking = ledger_.booking_by_id(row.booking_id);
    auto refund = ledger_.find_seat_refund(row.refund_id);
    if (!booking || !refund || refund->booking_id != booking->id) {
      out.skip_reason = "no such seat refund";
      return out;
    }
    n.booking_id = booking->id;
    n.seats = labels((*venue)->layout, refund->seats);
    n.amount = refund->amount;
    n.currency = booking->currency;
  } else {
    auto booking = ledger_.booking_by_id(row.booking_id);
    if (!booking) {
      out.skip_reason = "no such booking";
      return out;
    }
    n.booking_id = booking->id;
    n.seats = labels((*venue)->layout, booking->seats);
    n.amount = booking->total_amount;
    n.currency = booking->currency;
    n.reason = booking->message;
    // The confirmation carries the tickets; so does a postponement (their codes are good until the new
    // date, where the first email's printed codes stop at the old one).
    const bool with_tickets =
        row.kind == core::NoticeKind::BookingConfirmed || row.kind == core::NoticeKind::EventPostponed;
    if (with_tickets && row.channel == core::kChannelEmail && tickets_) {
      n.static_codes_accepted = event->static_codes_accepted;
      // The buyer's tickets as of now: one sent to someone since the purchase is not mailed again.
      auto views = tickets_->of_booking(row.user_id, booking->id);
      if (views)
        for (const TicketView& v : *views)
          if (!v.static_code.empty() && n.tickets.size() < core::limits::tickets_per_user_max)
            n.tickets.push_back(core::NotifiedTicket{v.ticket.id, core::SeatLabel{v.section, v.row, v.seat_number}, v.static_code});
    }
  }
  out.notification = std::move(n);
  return out;
}

Notifications::Resolved Notifications::resolve_account_message(const core::OutboxRow& row, const core::User& user,
                                                               TimeMs now) {
  Resolved out;
  auto m = links_ ? links_->message(row.token_id, now) : std::nullopt;
  if (!m) {
    out.skip_reason = "the link or code was used, has expired, or its address changed";
    return out;
  }
  core::Notification n = addressed(row, user);
  n.link = m->link;
  n.code = m->code;
  n.token_expires_at = m->expires_at;
  (row.channel == core::kChannelWebhook ? n.phone : n.email) = m->destination;
  out.notification = std::move(n);
  return out;
}

core::Status Notifications::resend_confirmation(const core::Booking& booking) {
  if (booking.status != core::BookingStatus::Confirmed)
    return make_error(Code::BookingNotConfirmed, "only a confirmed booking has a confirmation to send");
  auto s = outbox_.enqueue_again(core::NoticeKind::BookingConfirmed, booking.user_id, booking.event_id, booking.id,
                                 booking.hold_id, kConfirmationsPerBookingMax, clock_.now());
  metrics_.count("confirmation_resends", s ? "queued" : "refused");
  return s;
}

core::NotifyPrefs Notifications::prefs(core::UserId user) {
  return accounts_.notify_prefs(user);
}

core::Result<core::NotifyPrefs> Notifications::update_prefs(core::UserId user, const PrefsPatch& patch) {
  core::NotifyPrefs p = accounts_.notify_prefs(user);
  if (patch.phone) {
    if (!core::valid_phone(*patch.phone))
      return make_error(Code::InvalidRequest, "phone: an E.164 number (+ and 8-15 digits) or empty");
    if (*patch.phone != p.phone) p.phone_verified = false;  // a new number must be verified again
    p.phone = *patch.phone;
  }
  if (patch.email) p.email = *patch.email;
  if (patch.sms) p.sms = *patch.sms;
  if (patch.hold_expiry) p.hold_expiry = *patch.hold_expiry;
  if (p.sms && p.phone.empty()) return make_error(Code::InvalidRequest, "sms: needs a phone number");
  if (auto s = accounts_.set_notify_prefs(user, p); !s) return s.error();
  return p;
}

std::vector<core::OutboxRow> Notifications::list(core::OutboxStatus status, core::OutboxId after_id, uint32_t limit) {
  return outbox_.list(status, after_id, limit);
}

core::Status Notifications::retry_dead(core::OutboxId id) {
  auto s = outbox_.retry_dead(id, clock_.now());
  if (s) metrics_.count("notifications", "requeued");
  return s;
}

}  // namespace ticketd::app
