"""Tickets (docs/tickets.md): issued one per seat in the commit that confirms a booking, revoked when it
is cancelled, shown only to their owner, with codes that an independent implementation of the
documented format (this file: Python's hashlib/hmac and the cryptography package) verifies with the
event's published key."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import struct
import time

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from api_support import (Client, UserPool, assert_error, checkout, compact_status, expect, grid, hold_seats,
                         make_event, parse_time)

STEP_S = 15


def _event(admin: Client, seats: int = 6) -> dict:
    return make_event(admin, [grid("Stalls", "standard", 1, seats)])


def _buy(client: Client, event_id: int, seats: list[int]) -> dict:
    hold = expect(hold_seats(client, event_id, seats), 201)
    booking = expect(checkout(client, hold["id"]), 201)
    assert booking["status"] == "CONFIRMED"
    return booking


def _tickets(client: Client, booking_id: int) -> list[dict]:
    return expect(client.get(f"/v1/bookings/{booking_id}/tickets"), 200)["tickets"]


def _decode(code: str) -> tuple[bytes, bytes]:
    """The static part of a code: (41-byte payload, 64-byte Ed25519 signature)."""
    static = code.split(":")[0]
    assert len(static) == 168 and re.fullmatch(r"[A-Z2-7]+", static), static
    raw = base64.b32decode(static + "=" * (-len(static) % 8))
    assert len(raw) == 105
    return raw[:41], raw[41:]


def _totp(key: bytes, counter: int) -> str:
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha256).digest()
    offset = mac[-1] & 15
    return "%08d" % ((struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 10**8)


def test_a_confirmed_booking_has_one_valid_ticket_per_seat_with_verifiable_codes(admin: Client, anon: Client,
                                                                                  users: UserPool) -> None:
    (user,) = users.take(1)
    event = _event(admin)
    booking = _buy(user.client, event["id"], [1, 4])
    tickets = _tickets(user.client, booking["id"])
    assert [t["seat_id"] for t in tickets] == [1, 4]
    assert len({t["id"] for t in tickets}) == 2
    keys = expect(anon.get(f"/v1/events/{event['id']}/ticket-keys"), 200)
    assert keys["code_version"] == 1 and keys["keys"][0]["algorithm"] == "Ed25519"
    public = {k["key_id"]: Ed25519PublicKey.from_public_bytes(bytes.fromhex(k["public_key"])) for k in keys["keys"]}
    for t in tickets:
        assert re.fullmatch(r"[0-9a-f]{32}", t["id"]), t["id"]
        assert t["status"] == "VALID" and t["booking_id"] == booking["id"] and t["event_id"] == event["id"]
        assert t["section"] == "Stalls" and t["row"] == "A" and t["seat_number"] == t["seat_id"] + 1
        payload, signature = _decode(t["code"])
        public[t["key_id"]].verify(signature, payload)  # raises if the code is not the event's
        version, key_id, event_id, seat = struct.unpack(">BIQI", payload[:17])
        ticket_id = payload[17:33]
        valid_from, valid_until = struct.unpack(">II", payload[33:41])
        assert (version, key_id, event_id, seat) == (1, t["key_id"], event["id"], t["seat_id"])
        assert ticket_id.hex() == t["id"]
        assert valid_from == int(parse_time(t["valid_from"]).timestamp())
        assert valid_until == int(parse_time(t["valid_until"]).timestamp()) > time.time()
        # The rotating part: TOTP of the owner's rotation key at the current 15 s step.
        static, digits = t["rotating_code"].split(":")
        assert static == t["code"] and t["rotation"]["step_s"] == STEP_S and t["rotation"]["digits"] == 8
        key = bytes.fromhex(t["rotation"]["key"])
        now_step = int(time.time()) // STEP_S
        assert digits in {_totp(key, c) for c in (now_step - 1, now_step, now_step + 1)}
        # One flipped bit anywhere in the payload and the signature no longer holds.
        forged = bytes([payload[0]]) + payload[1:13] + bytes([payload[13] ^ 1]) + payload[14:]
        try:
            public[t["key_id"]].verify(signature, forged)
            raise AssertionError("an altered payload verified")
        except InvalidSignature:
            pass
    assert expect(user.client.get(f"/v1/tickets/{tickets[0]['id']}"), 200)["code"] == tickets[0]["code"]


def test_tickets_are_their_owners_alone(admin: Client, anon: Client, users: UserPool) -> None:
    owner, other = users.take(2)
    event = _event(admin)
    booking = _buy(owner.client, event["id"], [0])
    (ticket,) = _tickets(owner.client, booking["id"])
    assert_error(other.client.get(f"/v1/tickets/{ticket['id']}"), 404, "not_found")
    assert_error(other.client.get(f"/v1/bookings/{booking['id']}/tickets"), 404, "not_found")
    assert_error(anon.get(f"/v1/tickets/{ticket['id']}"), 401)
    assert_error(anon.get(f"/v1/bookings/{booking['id']}/tickets"), 401)
    for not_an_id in [ticket["id"].upper(), ticket["id"][:-1], ticket["id"] + "0", "0" * 32, "x" * 512, "%00"]:
        assert_error(owner.client.get(f"/v1/tickets/{not_an_id}"), 404, "not_found")


def test_cancelling_a_booking_revokes_its_tickets_and_their_codes(admin: Client, users: UserPool) -> None:
    (user,) = users.take(1)
    event = _event(admin)
    booking = _buy(user.client, event["id"], [2, 3])
    before = _tickets(user.client, booking["id"])
    expect(user.client.post(f"/v1/bookings/{booking['id']}/cancel"), 200)
    after = _tickets(user.client, booking["id"])
    assert [t["id"] for t in after] == [t["id"] for t in before]
    for t in after:
        assert t["status"] == "REVOKED" and t["revoked_reason"] == "booking_cancelled" and t["revoked_at"]
        assert "code" not in t and "rotating_code" not in t and "rotation" not in t
    # The seats sell again, to tickets of their own.
    again = _buy(user.client, event["id"], [2])
    (fresh,) = _tickets(user.client, again["id"])
    assert fresh["status"] == "VALID" and fresh["id"] not in {t["id"] for t in before}


def test_unpaid_bookings_have_no_tickets(admin: Client, anon: Client, users: UserPool) -> None:
    (user,) = users.take(1)
    event = _event(admin)
    hold = expect(hold_seats(user.client, event["id"], [5]), 201)
    declined = assert_error(checkout(user.client, hold["id"], "pm_card_chargeDeclined"), 402, "payment_failed")
    assert declined
    failed = [b for b in expect(user.client.get("/v1/bookings?include_failed=true"), 200)["bookings"]
              if b["event_id"] == event["id"]]
    assert failed and failed[0]["status"] == "FAILED"
    assert _tickets(user.client, failed[0]["id"]) == []
    assert compact_status(anon, event["id"])[5] == "A"


def test_an_events_ticket_keys_are_public_and_unknown_events_have_none(admin: Client, anon: Client) -> None:
    event = _event(admin)
    keys = expect(anon.get(f"/v1/events/{event['id']}/ticket-keys"), 200)
    assert keys["event_id"] == event["id"]
    (key,) = keys["keys"]
    assert key["key_id"] == 1 and re.fullmatch(r"[0-9a-f]{64}", key["public_key"])
    assert parse_time(key["valid_until"]) > parse_time(event["starts_at"])
    other = expect(anon.get(f"/v1/events/{_event(admin)['id']}/ticket-keys"), 200)["keys"][0]["public_key"]
    assert other != key["public_key"], "every event has a key of its own"
    assert_error(anon.get("/v1/events/999999999/ticket-keys"), 404, "not_found")


def test_rotating_an_events_key_signs_new_tickets_with_it_and_old_ones_still_get_in(admin, users) -> None:
    from test_checkins import _door, _scan, _ticket
    buyer, staff = users.take(2)
    event = make_event(admin, [grid("Floor", "standard", 1, 8)])
    _door(admin, event["id"], staff)
    before = _ticket(buyer.client, event["id"], 0)
    assert before["key_id"] == 1
    assert_error(buyer.client.post(f"/v1/events/{event['id']}/ticket-keys"), 403, "forbidden")
    rotated = expect(admin.post(f"/v1/events/{event['id']}/ticket-keys"), 201)
    assert rotated["signing_key_id"] == 2 and [k["key_id"] for k in rotated["keys"]] == [1, 2]
    assert rotated["keys"][0]["public_key"] != rotated["keys"][1]["public_key"]
    public = expect(buyer.client.get(f"/v1/events/{event['id']}/ticket-keys"), 200)
    assert public == rotated
    after = _ticket(buyer.client, event["id"], 1)
    assert after["key_id"] == 2
    # Each verifies with its own key (independently of ticketd), and both get in.
    keys = {k["key_id"]: k["public_key"] for k in public["keys"]}
    for t in (before, after):
        payload, signature = _decode(t["code"])
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(keys[t["key_id"]])).verify(signature, payload)
        assert _scan(staff.client, event["id"], t["code"])["result"] == "ok"
    bundle = expect(staff.client.get(f"/v1/events/{event['id']}/scanner-bundle"), 200)
    assert [k["key_id"] for k in bundle["keys"]] == [1, 2]
    assert_error(admin.post("/v1/events/999999999/ticket-keys"), 404, "not_found")
