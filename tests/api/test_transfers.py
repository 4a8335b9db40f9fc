"""Ticket transfers (docs/tickets.md, "Transfers"): a holder sends a ticket by email; the old code dies
at once; the receiver accepts a new ticket with new codes, or the sender cancels and gets a new one;
only the right person decides, once; a booking whose tickets were sent cannot be cancelled."""

from __future__ import annotations

from api_support import Client, UserPool, assert_error, expect, grid, make_event, run_together
from test_checkins import _door, _scan, _ticket

DECIDERS = 8


def _event(admin: Client) -> dict:
    return make_event(admin, [grid("Floor", "standard", 1, 8)])


def _send(client: Client, ticket_id: str, email: str) -> dict:
    return expect(client.post(f"/v1/tickets/{ticket_id}/transfers", {"email": email}), 201)


def test_a_sent_ticket_dies_at_once_and_the_receiver_gets_new_codes(admin: Client, users: UserPool) -> None:
    sender, receiver, staff = users.take(3)
    event = _event(admin)
    _door(admin, event["id"], staff)
    ticket = _ticket(sender.client, event["id"], 0)
    # The address is matched as the account key: case does not matter.
    sent = _send(sender.client, ticket["id"], receiver.email.upper())
    assert sent["status"] == "PENDING" and sent["direction"] == "sent" and sent["to_email"] == receiver.email
    assert "ticket_id" not in sent  # the new ticket is nobody's yet

    old = expect(sender.client.get(f"/v1/tickets/{ticket['id']}"), 200)
    assert old["status"] == "REVOKED" and old["revoked_reason"] == "transferred" and "code" not in old
    assert _scan(staff.client, event["id"], ticket["code"])["result"] == "revoked"

    (incoming,) = [t for t in expect(receiver.client.get("/v1/transfers"), 200)["transfers"] if t["id"] == sent["id"]]
    assert incoming["direction"] == "received" and incoming["status"] == "PENDING"
    assert incoming["event_name"] == event["name"]
    accepted = expect(receiver.client.post(f"/v1/transfers/{sent['id']}/accept"), 200)
    assert accepted["status"] == "ACCEPTED" and accepted["ticket_id"] != ticket["id"]

    mine = expect(receiver.client.get("/v1/tickets"), 200)["tickets"]
    (new,) = [t for t in mine if t["id"] == accepted["ticket_id"]]
    assert new["status"] == "VALID" and new["seat_id"] == ticket["seat_id"] and new["code"] != ticket["code"]
    assert new["booking_id"] == ticket["booking_id"]  # the booking and its payment are the sender's still
    assert_error(sender.client.get(f"/v1/tickets/{new['id']}"), 404, "not_found")
    assert _scan(staff.client, event["id"], new["code"])["result"] == "ok"

    # Decided once: neither a second accept nor a cancel changes it.
    assert_error(receiver.client.post(f"/v1/transfers/{sent['id']}/accept"), 409, "transfer_not_pending")
    assert_error(sender.client.post(f"/v1/transfers/{sent['id']}/cancel"), 409, "transfer_not_pending")
    # The buyer cannot take the ticket back by cancelling the booking (a refund of a ticket given away).
    assert_error(sender.client.post(f"/v1/bookings/{ticket['booking_id']}/cancel"), 409, "booking_transferred")


def test_a_cancelled_transfer_gives_the_sender_a_new_ticket_and_the_old_code_stays_dead(
        admin: Client, users: UserPool) -> None:
    sender, receiver, staff = users.take(3)
    event = _event(admin)
    _door(admin, event["id"], staff)
    ticket = _ticket(sender.client, event["id"], 1)
    sent = _send(sender.client, ticket["id"], receiver.email)
    cancelled = expect(sender.client.post(f"/v1/transfers/{sent['id']}/cancel"), 200)
    assert cancelled["status"] == "CANCELLED" and cancelled["ticket_id"] not in (None, ticket["id"])
    back = expect(sender.client.get(f"/v1/tickets/{cancelled['ticket_id']}"), 200)
    assert back["status"] == "VALID" and back["code"] != ticket["code"]
    assert _scan(staff.client, event["id"], ticket["code"])["result"] == "revoked"  # a screenshot sent ahead
    assert _scan(staff.client, event["id"], back["code"])["result"] == "ok"
    assert_error(receiver.client.post(f"/v1/transfers/{sent['id']}/accept"), 409, "transfer_not_pending")


def test_who_may_send_accept_and_cancel(admin: Client, users: UserPool) -> None:
    sender, receiver, outsider, staff = users.take(4)
    event = _event(admin)
    _door(admin, event["id"], staff)
    ticket = _ticket(sender.client, event["id"], 2)
    assert_error(outsider.client.post(f"/v1/tickets/{ticket['id']}/transfers", {"email": receiver.email}), 404, "not_found")
    assert_error(sender.client.post(f"/v1/tickets/{'0' * 32}/transfers", {"email": receiver.email}), 404, "not_found")
    assert_error(sender.client.post("/v1/tickets/not-a-ticket/transfers", {"email": receiver.email}), 404, "not_found")
    assert_error(sender.client.post(f"/v1/tickets/{ticket['id']}/transfers", {"email": sender.email}), 400, "invalid_request")
    assert_error(sender.client.post(f"/v1/tickets/{ticket['id']}/transfers", {"email": "not an address"}), 400, "invalid_request")
    assert_error(sender.client.post(f"/v1/tickets/{ticket['id']}/transfers", {}), 400, "invalid_request")
    assert_error(sender.client.post(f"/v1/tickets/{ticket['id']}/transfers", {"email": 7}), 400, "invalid_request")

    # A ticket inside the venue is in use: it cannot be sent until it is scanned out.
    assert _scan(staff.client, event["id"], ticket["code"])["result"] == "ok"
    assert_error(sender.client.post(f"/v1/tickets/{ticket['id']}/transfers", {"email": receiver.email}), 409,
                 "ticket_not_transferable")
    assert _scan(staff.client, event["id"], ticket["code"], direction="out")["result"] == "ok"
    sent = _send(sender.client, ticket["id"], receiver.email)
    # A revoked ticket cannot be sent again.
    assert_error(sender.client.post(f"/v1/tickets/{ticket['id']}/transfers", {"email": outsider.email}), 409,
                 "ticket_not_transferable")
    # Only the receiver accepts, only the sender cancels; others are told it does not exist.
    assert_error(outsider.client.post(f"/v1/transfers/{sent['id']}/accept"), 404, "not_found")
    assert_error(sender.client.post(f"/v1/transfers/{sent['id']}/accept"), 404, "not_found")
    assert_error(receiver.client.post(f"/v1/transfers/{sent['id']}/cancel"), 404, "not_found")
    assert_error(outsider.client.post("/v1/transfers/999999999/accept"), 404, "not_found")
    assert sent["id"] not in [t["id"] for t in expect(outsider.client.get("/v1/transfers"), 200)["transfers"]]


def test_of_many_accepts_and_cancels_at_once_exactly_one_decides(admin: Client, users: UserPool) -> None:
    sender, receiver = users.take(2)
    event = _event(admin)
    ticket = _ticket(sender.client, event["id"], 3)
    sent = _send(sender.client, ticket["id"], receiver.email)
    jobs = []
    for i in range(DECIDERS):
        who, verb = (receiver, "accept") if i % 2 == 0 else (sender, "cancel")
        client = who.new_client()
        jobs.append(lambda c=client, v=verb: c.post(f"/v1/transfers/{sent['id']}/{v}"))
    answers = run_together(jobs)
    assert sorted(a.status for a in answers) == [200] + [409] * (DECIDERS - 1), [a.status for a in answers]
    (winner,) = [a.body for a in answers if a.status == 200]
    holder = receiver if winner["status"] == "ACCEPTED" else sender
    held = expect(holder.client.get(f"/v1/tickets/{winner['ticket_id']}"), 200)
    assert held["status"] == "VALID"
    # One live ticket for the seat, whoever holds it.
    live = [t for u in (sender, receiver) for t in expect(u.client.get("/v1/tickets"), 200)["tickets"]
            if t["seat_id"] == ticket["seat_id"] and t["event_id"] == event["id"] and t["status"] != "REVOKED"]
    assert len(live) == 1, live


def test_sending_and_taking_back_cannot_pump_mail_to_an_address(admin: Client, users: UserPool) -> None:
    (sender,) = users.take(1)
    event = _event(admin)
    ticket_id = _ticket(sender.client, event["id"], 4)["id"]
    target = f"pumped-{ticket_id[:8]}@example.test"
    for _ in range(5):  # each transfer emails the address: five an hour to one address
        sent = _send(sender.client, ticket_id, target)
        ticket_id = expect(sender.client.post(f"/v1/transfers/{sent['id']}/cancel"), 200)["ticket_id"]
    refused = sender.client.post(f"/v1/tickets/{ticket_id}/transfers", {"email": target})
    assert_error(refused, 429, "too_many_requests")
    assert int(refused.headers["Retry-After"]) > 0
    # Another address is still fine, and the ticket was not touched by the refusal.
    assert expect(sender.client.get(f"/v1/tickets/{ticket_id}"), 200)["status"] == "VALID"
    _send(sender.client, ticket_id, f"other-{ticket_id[:8]}@example.test")
