"""Cancelling an event (docs/console.md, "Event cancellation"): sales stop at once, every booking is
refunded and cancelled (its tickets revoked) by a background job whose state is the bookings themselves,
so it finishes after a kill -9; a second cancel changes nothing; only administrators cancel."""

from __future__ import annotations

import time
from pathlib import Path

from api_support import (Client, Server, UserPool, admin_client, assert_error, assert_verify_ok, backend_is_embedded,
                         checkout, compact_status, expect, grid, hold_seats, make_event, new_user)

REFUND_WAIT_S = 30.0


def _event(admin: Client, seats: int = 40) -> dict:
    return make_event(admin, [grid("Floor", "standard", 1, seats)], max_tickets_per_user=100)


def _buy(client: Client, event_id: int, seat: int) -> dict:
    return expect(checkout(client, expect(hold_seats(client, event_id, [seat]), 201)["id"]), 201)


def _wait_refunded(admin: Client, event_id: int) -> dict:
    deadline = time.monotonic() + REFUND_WAIT_S
    while True:
        view = expect(admin.get(f"/v1/events/{event_id}/cancellation"), 200)
        if view["bookings_to_refund"] == 0:
            return view
        assert time.monotonic() < deadline, f"refunds did not finish: {view}"
        time.sleep(0.2)


def test_cancelling_an_event_stops_sales_and_refunds_every_booking(admin: Client, users: UserPool) -> None:
    ann, bo, cy = users.take(3)
    event = _event(admin)
    bookings = [_buy(ann.client, event["id"], s) for s in range(0, 6)] + [_buy(bo.client, event["id"], s) for s in (6, 7)]
    expect(bo.client.post(f"/v1/bookings/{bookings[-1]['id']}/cancel"), 200)  # Bo's own, before
    live_hold = expect(hold_seats(cy.client, event["id"], [20]), 201)
    assert_error(ann.client.post(f"/v1/events/{event['id']}/cancel", {"reason": "x"}), 403, "forbidden")

    first = expect(admin.post(f"/v1/events/{event['id']}/cancel", {"reason": "The band is ill."}), 202)
    assert first["cancelled"] is True and first["reason"] == "The band is ill."
    assert first["bookings_to_refund"] + first["bookings_cancelled"] == len(bookings)
    # Sales stop at once: no new hold, a live hold is let go (its seat is free now, not at its expiry),
    # and a hold taken before is not paid for.
    assert expect(cy.client.get(f"/v1/holds/{live_hold['id']}"), 200)["status"] == "RELEASED"
    assert compact_status(admin, event["id"])[20] == "A"
    assert_error(hold_seats(cy.client, event["id"], [21]), 409, "event_cancelled")
    assert_error(checkout(cy.client, live_hold["id"]), 409, "event_cancelled")
    shown = expect(admin.get(f"/v1/events/{event['id']}"), 200)
    assert shown["cancelled_at"] == first["cancelled_at"] and shown["cancel_reason"] == "The band is ill."

    done = _wait_refunded(admin, event["id"])
    assert done["status"] == "REFUNDED" and done["bookings_cancelled"] == len(bookings)
    for b in bookings:
        owner = ann if b in bookings[:6] else bo
        assert expect(owner.client.get(f"/v1/bookings/{b['id']}"), 200)["status"] == "CANCELLED"
        (ticket,) = expect(owner.client.get(f"/v1/bookings/{b['id']}/tickets"), 200)["tickets"]
        assert ticket["status"] == "REVOKED"
    # Cancelling again changes nothing: the first time and reason stay.
    again = expect(admin.post(f"/v1/events/{event['id']}/cancel", {"reason": "other"}), 202)
    assert again["cancelled_at"] == first["cancelled_at"] and again["reason"] == "The band is ill."
    assert_error(admin.post("/v1/events/999999999/cancel", {}), 404, "not_found")
    assert_error(admin.post(f"/v1/events/{event['id']}/cancel", {"reason": "x" * 501}), 400, "invalid_request")


def test_the_refunds_finish_after_a_kill_9_midway(tmp_path: Path) -> None:
    # One refund per second: the kill lands with most of the bookings still to refund.
    server = Server(tmp_path / "data", hold_ttl_s=600, log_path=tmp_path / "server.log",
                    extra_env={"TICKETD_EVENT_REFUNDS_PER_S": "1"})
    server.start()
    try:
        admin = admin_client(server)
        event = _event(admin, seats=10)
        buyer = new_user(server)
        bookings = [_buy(buyer.client, event["id"], s) for s in range(6)]
        expect(admin.post(f"/v1/events/{event['id']}/cancel", {"reason": "storm"}), 202)
        time.sleep(1.5)
        server.kill()
        server.start()
        admin = admin_client(server)
        midway = expect(admin.get(f"/v1/events/{event['id']}/cancellation"), 200)
        assert midway["bookings_to_refund"] > 0, "the kill came after the job had finished: no test"
        done = _wait_refunded(admin, event["id"])
        assert done["bookings_cancelled"] == len(bookings)
        buyer_client = Client(server.port, buyer.client.token)
        for b in bookings:
            assert expect(buyer_client.get(f"/v1/bookings/{b['id']}"), 200)["status"] == "CANCELLED"
    finally:
        server.stop()
        if backend_is_embedded():
            assert_verify_ok(server, "after the cancelled event's refunds")


def test_an_administrator_refunds_a_buyers_whole_booking_once(admin: Client, users: UserPool) -> None:
    (buyer,) = users.take(1)
    event = _event(admin)
    booking = _buy(buyer.client, event["id"], 30)
    assert_error(buyer.client.post(f"/v1/bookings/{booking['id']}/refund"), 403, "forbidden")
    refunded = expect(admin.post(f"/v1/bookings/{booking['id']}/refund"), 200)
    assert refunded["status"] == "CANCELLED"
    assert expect(buyer.client.get(f"/v1/bookings/{booking['id']}"), 200)["status"] == "CANCELLED"
    (ticket,) = expect(buyer.client.get(f"/v1/bookings/{booking['id']}/tickets"), 200)["tickets"]
    assert ticket["status"] == "REVOKED"
    # Again: as it is, nothing refunded twice; the seat is on sale again.
    assert expect(admin.post(f"/v1/bookings/{booking['id']}/refund"), 200)["status"] == "CANCELLED"
    expect(hold_seats(buyer.client, event["id"], [30]), 201)
    assert_error(admin.post("/v1/bookings/999999999/refund"), 404, "not_found")
