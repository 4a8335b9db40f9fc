"""Face-value resale over HTTP (docs/resale.md): a ticket's buyer lists it, the seat is on offer again (to
the waiting list first), and the buyer who pays it gets a new ticket while the seller's dies and the seller
is refunded its face value; a listing can be withdrawn until a buyer holds the seat; tickets that are
inside, sent or of a booking given away cannot be listed.

The seller's refund is paid after the sale commits (at once, or by the reconciler's pass): every wait for
it is bounded (20 s, `wait_for`). Exactly-once refunds against the gateway and a kill -9 during resale
settlements are in test_resale_crash.py, which runs its own server on fake Stripe."""

from __future__ import annotations

from api_support import (Client, UserPool, assert_error, checkout, compact_status, expect, grid, hold_best,
                         hold_seats, make_event, run_together, wait_for)
from test_checkins import _door, _scan, _ticket

PRICE = 5000  # create_event's default for every tier
RACERS = 50


def _list(client: Client, ticket_id: str, status: int = 200) -> dict:
    return expect(client.request("PUT", f"/v1/tickets/{ticket_id}/resale"), status)["listing"]


def _ticket_now(client: Client, ticket_id: str) -> dict:
    return expect(client.get(f"/v1/tickets/{ticket_id}"), 200)


def _refunded(admin: Client, event_id: int, booking_id: int) -> int:
    orders = expect(admin.get(f"/v1/events/{event_id}/orders?q={booking_id}"), 200)["orders"]
    (order,) = [o for o in orders if o["id"] == booking_id]
    return order["refunded_amount"]


def test_one_of_fifty_racing_buyers_gets_a_listed_seat_and_the_old_ticket_dies(admin: Client,
                                                                                 users: UserPool) -> None:
    seller, staff, *racers = users.take(2 + RACERS)
    event = make_event(admin, [grid("Floor", "standard", 1, 2)])
    ev = event["id"]
    _door(admin, ev, staff)
    ticket = _ticket(seller.client, ev, 0)
    _ticket(seller.client, ev, 1)  # sold out
    assert compact_status(admin, ev) == "SS"

    listing = _list(seller.client, ticket["id"])
    assert listing["state"] == "LISTED" and listing["amount"] == PRICE and listing["seat_id"] == 0, listing
    assert listing["ticket_id"] == ticket["id"] and listing["currency"] == "EUR"
    assert _list(seller.client, ticket["id"])["id"] == listing["id"]  # listing it again changes nothing
    assert compact_status(admin, ev) == "AS"  # on offer again
    assert _ticket_now(seller.client, ticket["id"])["status"] == "VALID"  # the seller's until it sells
    assert_error(hold_seats(seller.client, ev, [0]), 409, "seat_unavailable")  # not to its own seller

    answers = run_together([lambda c=r.client: hold_seats(c, ev, [0]) for r in racers])
    won = [(r, a.body) for r, a in zip(racers, answers) if a.status == 201]
    assert len(won) == 1, [a.status for a in answers]
    assert all(a.status == 409 and a.error_code == "seat_unavailable" for a in answers if a.status != 201)
    buyer, hold = won[0]
    # A buyer holds it: the listing can no longer be withdrawn.
    assert_error(seller.client.delete(f"/v1/tickets/{ticket['id']}/resale"), 409, "resale_in_progress")

    booking = expect(checkout(buyer.client, hold["id"]), 201)
    assert booking["status"] == "CONFIRMED" and booking["seat_ids"] == [0] and booking["total_amount"] == PRICE
    (new_ticket,) = expect(buyer.client.get(f"/v1/bookings/{booking['id']}/tickets"), 200)["tickets"]
    old = _ticket_now(seller.client, ticket["id"])
    assert old["status"] == "REVOKED" and old["revoked_reason"] == "resold" and "code" not in old, old
    assert _scan(staff.client, ev, ticket["code"])["result"] == "revoked"
    assert _scan(staff.client, ev, new_ticket["code"])["result"] == "ok"
    assert compact_status(admin, ev) == "SS"

    sold = wait_for("the seller's refund", lambda: _sold_listing(seller.client, listing["id"]))
    assert sold["state"] == "SOLD" and sold["refunded"] is True, sold
    assert _refunded(admin, ev, ticket["booking_id"]) == PRICE
    # Its one seat resold, the seller's booking is over (its money back by that refund).
    over = expect(seller.client.get(f"/v1/bookings/{ticket['booking_id']}"), 200)
    assert over["status"] == "CANCELLED" and over["seat_ids"] == [], over
    stats = expect(admin.get(f"/v1/events/{ev}/resale/stats"), 200)
    assert stats["sold"] == 1 and stats["listed"] == 0 and stats["sold_amount"] == PRICE, stats
    assert stats["refunds_pending"] == 0
    assert_error(buyer.client.get(f"/v1/events/{ev}/resale/stats"), 403, "forbidden")


def _sold_listing(client: Client, listing_id: int) -> dict | None:
    (mine,) = [l for l in expect(client.get("/v1/resale"), 200)["listings"] if l["id"] == listing_id]
    return mine if mine["state"] == "SOLD" and mine["refunded"] else None


def test_a_listing_can_be_withdrawn_until_a_buyer_holds_the_seat(admin: Client, users: UserPool) -> None:
    seller, buyer = users.take(2)
    event = make_event(admin, [grid("Floor", "standard", 1, 1)])
    ev = event["id"]
    ticket = _ticket(seller.client, ev, 0)

    _list(seller.client, ticket["id"])
    withdrawn = expect(seller.client.delete(f"/v1/tickets/{ticket['id']}/resale"), 200)["listing"]
    assert withdrawn["state"] == "WITHDRAWN"
    assert_error(hold_seats(buyer.client, ev, [0]), 409, "seat_unavailable")
    assert_error(seller.client.get(f"/v1/tickets/{ticket['id']}/resale"), 404, "not_found")
    assert_error(seller.client.delete(f"/v1/tickets/{ticket['id']}/resale"), 404, "not_found")

    # Listed again, held and let go: the seat goes back to the listing, which can then be withdrawn.
    _list(seller.client, ticket["id"])
    hold = expect(hold_seats(buyer.client, ev, [0]), 201)
    assert_error(seller.client.delete(f"/v1/tickets/{ticket['id']}/resale"), 409, "resale_in_progress")
    expect(buyer.client.delete(f"/v1/holds/{hold['id']}"), 204)
    assert compact_status(admin, ev) == "A"
    expect(seller.client.delete(f"/v1/tickets/{ticket['id']}/resale"), 200)
    assert compact_status(admin, ev) == "S" and _ticket_now(seller.client, ticket["id"])["status"] == "VALID"

    # A seller who pays in the meantime keeps nothing from a buyer's payment: one outcome, no money lost.
    _list(seller.client, ticket["id"])
    hold = expect(hold_seats(buyer.client, ev, [0]), 201)
    answers = run_together([lambda: checkout(buyer.client, hold["id"]),
                            lambda: seller.client.delete(f"/v1/tickets/{ticket['id']}/resale")])
    # The withdrawal is refused either way: while the buyer holds or pays for the seat (409), or after
    # the sale, when the ticket is no longer listed (404). Which one comes first is the race's.
    withdrawal = (answers[1].status, answers[1].error_code)
    assert answers[0].status == 201 and withdrawal in {(409, "resale_in_progress"), (404, "not_found")}, \
        [(a.status, a.body) for a in answers]
    assert _ticket_now(seller.client, ticket["id"])["status"] == "REVOKED"
    wait_for("the seller's refund", lambda: _refunded(admin, ev, ticket["booking_id"]) == PRICE)


def test_which_tickets_may_be_listed(admin: Client, users: UserPool) -> None:
    seller, other, receiver, staff = users.take(4)
    event = make_event(admin, [grid("Floor", "standard", 1, 4)])
    ev = event["id"]
    _door(admin, ev, staff)
    inside = _ticket(seller.client, ev, 0)
    assert _scan(staff.client, ev, inside["code"])["result"] == "ok"
    assert_error(seller.client.request("PUT", f"/v1/tickets/{inside['id']}/resale"), 409, "ticket_not_listable")

    mine = _ticket(seller.client, ev, 1)
    assert_error(other.client.request("PUT", f"/v1/tickets/{mine['id']}/resale"), 404, "not_found")
    assert_error(seller.client.request("PUT", "/v1/tickets/" + "0" * 32 + "/resale"), 404, "not_found")

    # Listed, it is not sent to anyone; a ticket once sent (and its booking's others) are not listed.
    _list(seller.client, mine["id"])
    assert_error(seller.client.post(f"/v1/tickets/{mine['id']}/transfers", {"email": receiver.email}), 409,
                 "ticket_not_transferable")
    expect(seller.client.delete(f"/v1/tickets/{mine['id']}/resale"), 200)
    hold = expect(hold_seats(seller.client, ev, [2, 3]), 201)
    booking = expect(checkout(seller.client, hold["id"]), 201)
    sent, kept = expect(seller.client.get(f"/v1/bookings/{booking['id']}/tickets"), 200)["tickets"]
    expect(seller.client.post(f"/v1/tickets/{sent['id']}/transfers", {"email": receiver.email}), 201)
    assert_error(seller.client.request("PUT", f"/v1/tickets/{kept['id']}/resale"), 409, "ticket_not_listable")

    # Cancelling a booking ends its listings: the seat is simply free.
    _list(seller.client, mine["id"])
    expect(seller.client.post(f"/v1/bookings/{mine['booking_id']}/cancel"), 200)
    newest = [l for l in expect(seller.client.get("/v1/resale"), 200)["listings"] if l["ticket_id"] == mine["id"]][0]
    assert newest["state"] == "WITHDRAWN", newest
    assert compact_status(admin, ev)[1] == "A"
    assert_error(seller.client.request("PUT", f"/v1/tickets/{mine['id']}/resale"), 409, "ticket_not_listable")


def test_a_listed_ticket_let_in_at_the_door_ends_its_listing(admin: Client, users: UserPool) -> None:
    seller, buyer, staff = users.take(3)
    event = make_event(admin, [grid("Floor", "standard", 1, 2)])
    ev = event["id"]
    _door(admin, ev, staff)
    ticket = _ticket(seller.client, ev, 0)
    _list(seller.client, ticket["id"])
    # A buyer holds the seat: the seller is not let in now (it may be the buyer's in a moment).
    hold = expect(hold_seats(buyer.client, ev, [0]), 201)
    assert _scan(staff.client, ev, ticket["code"])["result"] == "revoked"
    expect(buyer.client.delete(f"/v1/holds/{hold['id']}"), 204)
    # Let in: the listing ends, and the seat is nobody else's to buy.
    assert _scan(staff.client, ev, ticket["code"])["result"] == "ok"
    assert_error(seller.client.get(f"/v1/tickets/{ticket['id']}/resale"), 404, "not_found")
    assert compact_status(admin, ev)[0] == "S"
    assert_error(hold_seats(buyer.client, ev, [0]), 409, "seat_unavailable")


def test_an_organizer_may_keep_listed_seats_for_the_waiting_list(admin: Client, users: UserPool) -> None:
    seller, fan, stranger = users.take(3)
    event = make_event(admin, [grid("Floor", "standard", 1, 2)])
    ev = event["id"]
    settings = expect(admin.request("PUT", f"/v1/events/{ev}/waitlist/settings",
                                    {"draw_window_s": 0, "resale_open_sale": False}), 200)["waitlist"]
    assert settings["resale_open_sale"] is False
    ticket = _ticket(seller.client, ev, 0)
    _ticket(seller.client, ev, 1)
    _list(seller.client, ticket["id"])
    # Nobody waits, yet the listed seat is not on open sale: it shows sold, and the list takes joins.
    assert compact_status(admin, ev) == "SS"
    assert_error(hold_seats(stranger.client, ev, [0]), 409, "seat_unavailable")
    expect(fan.client.post(f"/v1/events/{ev}/waitlist", {"quantity": 1}), 201)
    entry = wait_for("an offer", lambda: (e := expect(fan.client.get(f"/v1/events/{ev}/waitlist"), 200)["entry"])
                     ["state"] == "OFFERED" and e)
    assert entry["offer"]["seats"] == [0]
    expect(fan.client.delete(f"/v1/events/{ev}/waitlist"), 200)  # declined: back to the listing
    assert compact_status(admin, ev) == "SS"
    # On open sale again: the seat shows available and anyone may buy it.
    expect(admin.request("PUT", f"/v1/events/{ev}/waitlist/settings", {"resale_open_sale": True}), 200)
    assert compact_status(admin, ev) == "AS"
    hold = expect(hold_seats(stranger.client, ev, [0]), 201)
    expect(checkout(stranger.client, hold["id"]), 201)
    assert _ticket_now(seller.client, ticket["id"])["status"] == "REVOKED"
    assert_error(admin.request("PUT", f"/v1/events/{ev}/waitlist/settings", {"resale_open_sale": "no"}), 400,
                 "invalid_request")


def test_a_listed_seat_is_offered_to_the_waiting_list_first(admin: Client, users: UserPool) -> None:
    seller, waiting, stranger = users.take(3)
    event = make_event(admin, [grid("Floor", "standard", 1, 2)])
    ev = event["id"]
    expect(admin.request("PUT", f"/v1/events/{ev}/waitlist/settings", {"draw_window_s": 0}), 200)
    ticket = _ticket(seller.client, ev, 0)
    _ticket(seller.client, ev, 1)
    expect(waiting.client.post(f"/v1/events/{ev}/waitlist", {"quantity": 1}), 201)

    _list(seller.client, ticket["id"])
    entry = wait_for("an offer", lambda: (e := expect(waiting.client.get(f"/v1/events/{ev}/waitlist"), 200)["entry"])
                     ["state"] == "OFFERED" and e)
    assert entry["offer"]["seats"] == [0], entry
    assert_error(hold_best(stranger.client, ev, 1), 409, ("waitlist_first", "insufficient_seats"))
    booking = expect(checkout(waiting.client, entry["offer"]["hold_id"]), 201)
    assert booking["seat_ids"] == [0]
    assert _ticket_now(seller.client, ticket["id"])["status"] == "REVOKED"
    wait_for("the seller's refund", lambda: _refunded(admin, ev, ticket["booking_id"]) == PRICE)
    wait_for("the entry fulfilled",  # the offer pass follows the paid hold
             lambda: expect(admin.get(f"/v1/events/{ev}/waitlist/stats"), 200)["counts"]["fulfilled"] == 1)
