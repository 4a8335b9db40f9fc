"""Resale settlements through the Stripe adapter, with a kill -9 in the middle of them (docs/resale.md).

One fake Stripe and one ticketd. Eight sellers each buy a seat and list it; eight buyers each hold one of
the listed seats and pay at once, while the fake Stripe delays every reply by 400 ms: charges and the
sellers' refunds are done at Stripe but their answers are still on the way when the server is killed.
After the restart (the reconciler runs every 200 ms) every seat must be owned by exactly one valid ticket,
every buyer charged once, every seller refunded the face value exactly once (fake Stripe's own counters),
and `ticketd verify` clean.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from api_support import (Server, admin_client, all_bookings, assert_verify_ok, checkout, compact_status, create_event,
                         create_venue, expect, free_port, grid, hold_seats, new_users, wait_for)
from fake_stripe import API_KEY, WEBHOOK_SECRET, FakeStripe

PRICE = 2500
SEATS = 8
REPLY_DELAY_MS = 400
KILL_AFTER_S = 0.7  # past the first charge replies, while the refunds they start are still answered


@pytest.fixture()
def stripe_server(tmp_path: Path):
    port = free_port()
    fake = FakeStripe(f"http://127.0.0.1:{port}/v1/payments/stripe/webhook", tmp_path / "fake-stripe.log")
    fake.start()
    server = Server(tmp_path / "data", hold_ttl_s=600, log_path=tmp_path / "server.log", port=port, extra_env={
        "TICKETD_STRIPE_SECRET_KEY": API_KEY,
        "TICKETD_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "TICKETD_STRIPE_API_BASE": fake.api_base,
        "TICKETD_STRIPE_TIMEOUT_MS": "3000",
        "TICKETD_RECONCILE_INTERVAL_MS": "200",
        "TICKETD_PAYMENT_RECONCILE_AFTER_S": "1",
    })
    server.start()
    try:
        yield fake, server
    finally:
        if server.running():
            server.stop()
        fake.stop()


def _charges_by_booking(fake: FakeStripe) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {}
    for c in fake.charges():
        out.setdefault(int(c["metadata"]["booking_id"]), []).append(c)
    return out


def test_a_kill_during_resale_settlements_loses_nothing_and_refunds_each_seller_once(stripe_server) -> None:
    fake, server = stripe_server
    fake.reset()
    admin = admin_client(server)
    event = create_event(admin, create_venue(admin, [grid("Hall", "std", 1, SEATS)]), prices={"std": PRICE})
    ev = event["id"]
    users = new_users(server, 2 * SEATS)
    sellers, buyers = users[:SEATS], users[SEATS:]

    sold: list[dict] = []  # per seat: the seller's booking and ticket
    for seat, seller in enumerate(sellers):
        hold = expect(hold_seats(seller.client, ev, [seat]), 201)
        booking = expect(checkout(seller.client, hold["id"]), 201)
        (ticket,) = expect(seller.client.get(f"/v1/bookings/{booking['id']}/tickets"), 200)["tickets"]
        listing = expect(seller.client.request("PUT", f"/v1/tickets/{ticket['id']}/resale"), 200)["listing"]
        assert listing["amount"] == PRICE
        sold.append({"booking": booking, "ticket": ticket})
    holds = [expect(hold_seats(buyer.client, ev, [seat]), 201) for seat, buyer in enumerate(buyers)]

    fake.faults(reply_delay_ms=REPLY_DELAY_MS)

    def pay(buyer, hold) -> None:
        try:
            checkout(buyer.client, hold["id"])
        except Exception:  # the server died under it: the outcome is the reconciler's to find
            pass

    threads = [threading.Thread(target=pay, args=(b, h), daemon=True) for b, h in zip(buyers, holds)]
    for t in threads:
        t.start()
    time.sleep(KILL_AFTER_S)
    server.kill()
    for t in threads:
        t.join(30)
        assert not t.is_alive()
    fake.faults(reply_delay_ms=0)
    assert_verify_ok(server, "after kill -9 during resale settlements")
    refunds_at_kill = fake.stats()["refunds"]
    assert refunds_at_kill < SEATS, "the kill came after every resale was settled: it tested nothing"

    server.start()
    for seat, buyer in enumerate(buyers):
        wait_for(f"seat {seat}'s buyer's booking", lambda b=buyer: [x for x in all_bookings(b.client)
                                                                    if x["status"] == "CONFIRMED"], timeout_s=30)
    for seller in sellers:
        wait_for("the seller's refund", lambda s=seller: all(
            l["state"] == "SOLD" and l["refunded"] for l in expect(s.client.get("/v1/resale"), 200)["listings"]),
            timeout_s=30)

    assert compact_status(admin, ev) == "S" * SEATS
    charges = _charges_by_booking(fake)
    for seat, (buyer, seller) in enumerate(zip(buyers, sellers)):
        (booking,) = [b for b in all_bookings(buyer.client) if b["status"] == "CONFIRMED"]
        assert booking["seat_ids"] == [seat]
        (ticket,) = expect(buyer.client.get(f"/v1/bookings/{booking['id']}/tickets"), 200)["tickets"]
        assert ticket["status"] == "VALID"
        old = expect(seller.client.get(f"/v1/tickets/{sold[seat]['ticket']['id']}"), 200)
        assert old["status"] == "REVOKED" and old["revoked_reason"] == "resold", old
        # Charged once each; the seller's charge refunded its face value once, the buyer's not at all.
        (buyer_charge,) = charges[booking["id"]]
        assert buyer_charge["amount"] == PRICE and buyer_charge["amount_refunded"] == 0
        (seller_charge,) = charges[sold[seat]["booking"]["id"]]
        assert seller_charge["amount_refunded"] == PRICE, seller_charge
    stats = fake.stats()
    assert stats["refunds"] == SEATS, stats  # one refund per resale, whatever the kill interrupted
    assert stats["charges"] == 2 * SEATS, stats
    print(f"refunds done at Stripe before the kill: {refunds_at_kill} of {SEATS}")
    server.stop()
    assert_verify_ok(server, "after the resales settled")
