"""Waiting lists over HTTP (docs/resale.md): a sell-out, then returned seats offered to the list in order;
offers declined or lapsed move on; "together" entries get adjacent seats; open sale stays shut while
people wait; the organizer's settings and figures.

Offers are made by a background pass every 250 ms; every wait below is bounded (20 s, `wait_for`) and no test
asserts how fast an offer comes, only who gets which seats and in which order.
"""

from __future__ import annotations

import time
from typing import Any

from api_support import (Client, UserPool, assert_error, checkout, expect, grid, hold_best, hold_seats, make_event,
                         seat_list, wait_for)


def _sold_out_event(admin: Client, buyer: Client, rows: int, seats_per_row: int, **settings: Any) -> tuple[dict, list[dict]]:
    """An event whose every seat `buyer` bought, one booking per seat; the list's draw window set to 0."""
    event = make_event(admin, [grid("Main", "std", rows, seats_per_row)], max_tickets_per_user=rows * seats_per_row)
    expect(admin.request("PUT", f"/v1/events/{event['id']}/waitlist/settings", {"draw_window_s": 0, **settings}), 200)
    bookings = []
    for seat in seat_list(buyer, event["id"]):
        hold = expect(hold_seats(buyer, event["id"], [seat["id"]]), 201)
        bookings.append(dict(expect(checkout(buyer, hold["id"]), 201), seat=seat))
    return event, bookings


def _join(client: Client, event_id: int, status: int = 201, **want: Any) -> dict:
    return expect(client.post(f"/v1/events/{event_id}/waitlist", {"quantity": 1, **want}), status)


def _entry(client: Client, event_id: int) -> dict:
    return expect(client.get(f"/v1/events/{event_id}/waitlist"), 200)["entry"]


def _offered(client: Client, event_id: int) -> dict:
    return wait_for("an offer", lambda: (e := _entry(client, event_id))["state"] == "OFFERED" and e)


def _cancel(buyer: Client, booking: dict) -> None:
    expect(buyer.post(f"/v1/bookings/{booking['id']}/cancel"), 200)


def test_returned_seats_are_offered_to_the_list_in_order_and_paid_by_the_normal_checkout(
        admin: Client, users: UserPool) -> None:
    seller, first, second, third, stranger = users.take(5)
    event, bookings = _sold_out_event(admin, seller.client, 1, 3)
    ev = event["id"]
    joined = [_join(u.client, ev) for u in (first, second, third)]
    assert [j["entry"]["position"] for j in joined] == [1, 2, 3], joined
    assert all(j["entry"]["state"] == "WAITING" and j["entry"]["draw_pending"] is False for j in joined)
    again = _join(first.client, ev, status=200, quantity=2)
    assert again["entry"]["id"] == joined[0]["entry"]["id"] and again["entry"]["quantity"] == 1, again
    assert joined[2]["waitlist"]["waiting"] == 3 and len(joined[0]["waitlist"]["commitment"]) == 64

    _cancel(seller.client, bookings[1])
    offer = _offered(first.client, ev)["offer"]
    assert offer["seats"] == [bookings[1]["seat"]["id"]], offer
    # The returned seat is the first entry's hold, not on open sale; the next one is now first in line.
    assert_error(hold_best(stranger.client, ev, 1), 409, ("waitlist_first", "insufficient_seats"))
    assert _entry(second.client, ev)["position"] == 1

    _cancel(seller.client, bookings[0])
    assert _offered(second.client, ev)["offer"]["seats"] == [bookings[0]["seat"]["id"]]
    assert_error(hold_best(stranger.client, ev, 1), 409, "waitlist_first")  # the third still waits

    booking = expect(checkout(first.client, offer["hold_id"]), 201)
    assert booking["status"] == "CONFIRMED" and booking["seat_ids"] == offer["seats"], booking
    assert _entry(first.client, ev)["state"] == "FULFILLED"
    stats = expect(admin.get(f"/v1/events/{ev}/waitlist/stats"), 200)
    assert stats["counts"]["fulfilled"] == 1 and stats["counts"]["offered"] == 1 and stats["counts"]["waiting"] == 1
    assert stats["offers_last_hour"] == 2, stats
    assert _entry(third.client, ev)["estimate_s"] is not None  # two offers in the last hour: an estimate


def test_a_declined_or_lapsed_offer_moves_on_to_the_next_entry(admin: Client, users: UserPool) -> None:
    seller, first, second, third = users.take(4)
    event, bookings = _sold_out_event(admin, seller.client, 1, 2, offer_ttl_s=10)
    ev = event["id"]
    for u in (first, second, third):
        _join(u.client, ev)
    _cancel(seller.client, bookings[0])
    seat = bookings[0]["seat"]["id"]
    assert _offered(first.client, ev)["offer"]["seats"] == [seat]
    left = expect(first.client.delete(f"/v1/events/{ev}/waitlist"), 200)  # declining
    assert left["entry"]["state"] == "LEFT", left
    assert _offered(second.client, ev)["offer"]["seats"] == [seat]
    # The second lets the offer lapse (10 s): it goes to the third.
    assert _offered(third.client, ev)["offer"]["seats"] == [seat]
    assert _entry(second.client, ev)["state"] == "LAPSED"
    assert_error(first.client.delete(f"/v1/events/{ev}/waitlist"), 404, "not_found")
    rejoined = _join(first.client, ev)  # an ended entry may join again, at the end
    assert rejoined["entry"]["state"] == "WAITING" and rejoined["entry"]["id"] != left["entry"]["id"]


def test_together_entries_get_adjacent_seats_and_others_are_passed_over_not_skipped(
        admin: Client, users: UserPool) -> None:
    seller, pair, single, other_pair, stranger = users.take(5)
    event, bookings = _sold_out_event(admin, seller.client, 2, 3)
    ev = event["id"]
    by_seat = {(b["seat"]["row"], b["seat"]["number"]): b for b in bookings}
    _join(pair.client, ev, quantity=2, together=True)
    _join(single.client, ev, quantity=1)
    _join(other_pair.client, ev, quantity=2, together=False)

    _cancel(seller.client, by_seat[("A", 1)])
    _cancel(seller.client, by_seat[("B", 3)])
    # Two lone seats: the pair cannot sit together, the single takes the first, the other pair waits.
    single_offer = _offered(single.client, ev)["offer"]
    assert single_offer["seats"] == [by_seat[("A", 1)]["seat"]["id"]], single_offer
    assert _entry(pair.client, ev)["state"] == "WAITING" and _entry(other_pair.client, ev)["state"] == "WAITING"
    assert_error(hold_seats(stranger.client, ev, [by_seat[("B", 3)]["seat"]["id"]]), 409, "waitlist_first")

    _cancel(seller.client, by_seat[("B", 2)])
    pair_offer = _offered(pair.client, ev)["offer"]
    assert sorted(pair_offer["seats"]) == [by_seat[("B", 2)]["seat"]["id"], by_seat[("B", 3)]["seat"]["id"]]
    assert _entry(pair.client, ev)["position"] == 0


def test_joining_needs_a_sold_out_event_and_an_open_list(admin: Client, users: UserPool) -> None:
    seller, buyer, organizer_not = users.take(3)
    event = make_event(admin, [grid("Main", "std", 1, 2)], max_tickets_per_user=4)
    ev = event["id"]
    assert_error(_join_raw(buyer.client, ev, {"quantity": 1}), 409, "seats_available")
    hold = expect(hold_best(seller.client, ev, 2), 201)  # held counts as gone: those seats come back to the list
    assert_error(_join_raw(buyer.client, ev, {"quantity": 0}), 400, "invalid_request")
    assert_error(_join_raw(buyer.client, ev, {"quantity": 5}), 400, "invalid_request")
    assert_error(_join_raw(buyer.client, ev, {"quantity": 1, "tier": "nope"}), 400, "invalid_request")
    assert_error(_join_raw(buyer.client, ev, {"quantity": 1, "together": "yes"}), 400, "invalid_request")
    assert_error(_join_raw(buyer.client, 999_999_999, {"quantity": 1}), 404, "not_found")
    assert_error(organizer_not.client.request("PUT", f"/v1/events/{ev}/waitlist/settings", {"open": False}), 403)
    assert_error(admin.request("PUT", f"/v1/events/{ev}/waitlist/settings", {"offer_ttl_s": 5}), 400,
                 "invalid_request")
    expect(admin.request("PUT", f"/v1/events/{ev}/waitlist/settings", {"open": False}), 200)
    assert_error(_join_raw(buyer.client, ev, {"quantity": 1}), 409, "waitlist_closed")
    expect(admin.request("PUT", f"/v1/events/{ev}/waitlist/settings", {"open": True}), 200)
    body = expect(_join_raw(buyer.client, ev, {"quantity": 1}), 201)
    # Joined within the draw window (300 s by default): the order waits for the draw.
    assert body["entry"]["draw_pending"] is True and body["entry"]["position"] == 0, body
    assert body["waitlist"]["seed"] is None and body["waitlist"]["draw_at"] is not None
    expect(seller.client.delete(f"/v1/holds/{hold['id']}"), 204)
    time.sleep(1.0)  # a pass or more: no offer is made before the draw
    assert _entry(buyer.client, ev)["state"] == "WAITING"
    # Turned off: no gate, no offers; the seats are on open sale again.
    expect(admin.request("PUT", f"/v1/events/{ev}/waitlist/settings", {"enabled": False}), 200)
    expect(hold_best(seller.client, ev, 1), 201)


def _join_raw(client: Client, event_id: int, body: dict) -> Any:
    return client.post(f"/v1/events/{event_id}/waitlist", body)
