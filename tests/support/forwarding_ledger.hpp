// A ledger that passes every call to another one: tests derive from it and change the one or two
// calls they are about (a lookup that comes too late, a release that races a background pass).
#pragma once

#include "core/ports/ledger.hpp"

namespace ticketd::test_support {

class ForwardingLedger : public core::Ledger {
 public:
  explicit ForwardingLedger(core::Ledger& inner) : inner_(inner) {}

  std::optional<core::CheckoutRecord> find_checkout(core::UserId user, const std::string& key) override {
    return inner_.find_checkout(user, key);
  }
  bool holds_without_blocking() const override { return inner_.holds_without_blocking(); }
  bool try_hold_seats_async(const core::Event& e, std::shared_ptr<const core::Layout> l, const core::HoldRequest& r,
                            TimeMs now, const HoldDone& done) override {
    return inner_.try_hold_seats_async(e, std::move(l), r, now, done);
  }
  std::vector<core::Result<core::Hold>> hold_seats_each(const core::Event& e, const core::Layout& l,
                                                        const std::vector<core::HoldRequest>& r, TimeMs now) override {
    return inner_.hold_seats_each(e, l, r, now);
  }
  bool try_release_hold_async(core::HoldId id, core::UserId u, TimeMs now, const HoldDone& done) override {
    return inner_.try_release_hold_async(id, u, now, done);
  }
  core::Result<core::SeatMap> seat_map_shown(const core::Event& e, TimeMs now) override {
    return inner_.seat_map_shown(e, now);
  }
  std::optional<uint64_t> seat_map_version(const core::Event& e, TimeMs now) override {
    return inner_.seat_map_version(e, now);
  }
  std::optional<core::SeatCounts> seat_counts_in_memory(const core::Event& e, TimeMs now) override {
    return inner_.seat_counts_in_memory(e, now);
  }
  core::Result<core::Hold> hold_seats(const core::Event& e, const core::Layout& l, const core::HoldRequest& r,
                                      TimeMs now) override { return inner_.hold_seats(e, l, r, now); }
  core::Result<core::Hold> find_hold(core::HoldId id, core::UserId u, TimeMs now) override {
    return inner_.find_hold(id, u, now);
  }
  core::Result<core::Hold> release_hold(core::HoldId id, core::UserId u, TimeMs now) override {
    return inner_.release_hold(id, u, now);
  }
  core::Result<core::CheckoutRecord> begin_checkout(core::HoldId id, core::UserId u, const core::CheckoutStart& s,
                                                    TimeMs now) override { return inner_.begin_checkout(id, u, s, now); }
  core::Result<core::Settlement> settle_payment(core::BookingId b, const core::PaymentOutcome& o, TimeMs now) override {
    return inner_.settle_payment(b, o, now);
  }
  core::Status record_refund(core::BookingId b, const std::string& ref) override { return inner_.record_refund(b, ref); }
  bool payment_event_seen(const std::string& id) override { return inner_.payment_event_seen(id); }
  core::Status record_payment_event(const std::string& id, const std::string& type, TimeMs now) override {
    return inner_.record_payment_event(id, type, now);
  }
  std::vector<core::CheckoutRecord> payments_to_reconcile(TimeMs older, core::PaymentId after, uint32_t n) override {
    return inner_.payments_to_reconcile(older, after, n);
  }
  core::Result<core::Booking> find_booking(core::BookingId id, core::UserId u) override { return inner_.find_booking(id, u); }
  std::optional<core::Booking> booking_by_id(core::BookingId id) override { return inner_.booking_by_id(id); }
  std::optional<core::BookingId> booking_by_payment_ref(const std::string& ref) override {
    return inner_.booking_by_payment_ref(ref);
  }
  std::vector<core::Booking> list_bookings(core::UserId u, uint32_t n, core::BookingId before, bool failed) override {
    return inner_.list_bookings(u, n, before, failed);
  }
  core::Result<core::Booking> cancel_booking(const core::Booking& b, const std::string& ref, TimeMs now) override {
    return inner_.cancel_booking(b, ref, now);
  }
  core::Result<core::Booking> refund_seats(const core::Booking& b, const core::SeatRefund& r, const std::string& ref,
                                           TimeMs now) override { return inner_.refund_seats(b, r, ref, now); }
  core::Status change_listing(const core::Booking& b, const core::ResaleChange& c, TimeMs now) override {
    return inner_.change_listing(b, c, now);
  }
  void resale_rule_changed(core::EventId e, bool on) override { inner_.resale_rule_changed(e, on); }
  std::optional<core::SeatRefundRecord> find_seat_refund(int64_t id) override { return inner_.find_seat_refund(id); }
  int64_t seat_refunds_total(core::BookingId b) override { return inner_.seat_refunds_total(b); }
  std::vector<core::Ticket> tickets_of_booking(core::BookingId b) override { return inner_.tickets_of_booking(b); }
  std::optional<core::Ticket> find_ticket(const std::string& id) override { return inner_.find_ticket(id); }
  core::Result<core::SeatMap> seat_map(const core::Event& e, TimeMs now) override { return inner_.seat_map(e, now); }
  core::Result<core::Stock> stock(const core::Event& e, TimeMs now, TimeMs before) override {
    return inner_.stock(e, now, before);
  }
  size_t sweep_expired(TimeMs now) override { return inner_.sweep_expired(now); }
  void event_dates_changed(const core::Event& e) override { inner_.event_dates_changed(e); }

 private:
  core::Ledger& inner_;
};

}  // namespace ticketd::test_support
