"""Check-in at the door (docs/tickets.md): door staff named per event scan codes; every result a
scanner can get; scan ids make retries safe; of many scans of one ticket at many gates at once exactly
one admits; bad input is a 400 and a bad code is a result, never an error."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import struct
import time
import uuid

from api_support import (Client, UserPool, assert_error, checkout, expect, grid, hold_seats, make_event, now_utc,
                         parse_time, rfc3339, run_together)

CONCURRENT_SCANS = 8
GATES = 4


def _event(admin: Client) -> dict:
    return make_event(admin, [grid("Floor", "standard", 1, 8)])


def _ticket(client: Client, event_id: int, seat: int) -> dict:
    hold = expect(hold_seats(client, event_id, [seat]), 201)
    booking = expect(checkout(client, hold["id"]), 201)
    (ticket,) = expect(client.get(f"/v1/bookings/{booking['id']}/tickets"), 200)["tickets"]
    return ticket


def _door(admin: Client, event_id: int, staff) -> None:
    named = expect(admin.post(f"/v1/events/{event_id}/door-staff", {"email": staff.email}), 201)
    assert named["user_id"] == staff.id


def _scan(client: Client, event_id: int, code: str, *, scan_id: str | None = None, gate: str = "north",
          direction: str = "in", **extra) -> dict:
    body = {"code": code, "gate": gate, "device_id": "phone-1", "scan_id": scan_id or uuid.uuid4().hex,
            "direction": direction, **extra}
    return expect(client.post(f"/v1/events/{event_id}/checkins", body), 200)


def _digits(key_hex: str, step: int) -> str:
    mac = hmac.new(bytes.fromhex(key_hex), struct.pack(">Q", step), hashlib.sha256).digest()
    offset = mac[-1] & 15
    return "%08d" % ((struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 10**8)


def test_a_ticket_gets_in_once_out_and_in_again(admin: Client, users: UserPool) -> None:
    buyer, staff = users.take(2)
    event = _event(admin)
    _door(admin, event["id"], staff)
    ticket = _ticket(buyer.client, event["id"], 0)
    first = _scan(staff.client, event["id"], ticket["rotating_code"], gate="north")
    assert first["result"] == "ok" and first["ticket"]["id"] == ticket["id"]
    assert first["ticket"]["status"] == "CHECKED_IN" and first["replayed"] is False
    again = _scan(staff.client, event["id"], ticket["code"], gate="south")
    assert again["result"] == "already_in"
    assert again["previous"]["gate"] == "north" and again["previous"]["scan_id"] == first["scan_id"]
    assert expect(buyer.client.get(f"/v1/tickets/{ticket['id']}"), 200)["status"] == "CHECKED_IN"
    out = _scan(staff.client, event["id"], ticket["code"], direction="out")
    assert out["result"] == "ok" and out["ticket"]["status"] == "VALID"
    assert _scan(staff.client, event["id"], ticket["code"], direction="out")["result"] == "not_in"
    assert _scan(staff.client, event["id"], ticket["code"])["result"] == "ok"  # re-entry


def test_an_event_that_requires_rotating_codes_refuses_static_ones(admin: Client, users: UserPool) -> None:
    buyer, staff = users.take(2)
    strict = make_event(admin, [grid("Floor", "standard", 1, 8)], static_codes_accepted=False)
    assert strict["static_codes_accepted"] is False
    assert expect(admin.get(f"/v1/events/{strict['id']}"), 200)["static_codes_accepted"] is False
    _door(admin, strict["id"], staff)
    ticket = _ticket(buyer.client, strict["id"], 0)
    # A printed (static) code is refused as a screenshot would be; the ticket page's live code gets in.
    assert _scan(staff.client, strict["id"], ticket["code"])["result"] == "code_expired"
    live = f"{ticket['code']}:{_digits(ticket['rotation']['key'], int(time.time()) // 15)}"
    assert _scan(staff.client, strict["id"], live)["result"] == "ok"
    bundle = expect(staff.client.get(f"/v1/events/{strict['id']}/scanner-bundle"), 200)
    assert bundle["static_codes_accepted"] is False
    # The default accepts both; a setting that is not a boolean is a 400.
    assert _event(admin)["static_codes_accepted"] is True
    assert_error(admin.post("/v1/events", {"name": "x", "venue_id": strict["venue_id"], "currency": "EUR",
                                           "prices": {"standard": 100}, "starts_at": strict["starts_at"],
                                           "on_sale_at": strict["on_sale_at"], "static_codes_accepted": "no"}),
                 400, "invalid_request")


def test_a_retried_scan_id_answers_as_the_first_time_and_changes_nothing(admin: Client, users: UserPool) -> None:
    buyer, staff = users.take(2)
    event = _event(admin)
    _door(admin, event["id"], staff)
    ticket = _ticket(buyer.client, event["id"], 1)
    scan_id = "gate-3:device-7:000042"
    first = _scan(staff.client, event["id"], ticket["code"], scan_id=scan_id)
    retry = _scan(staff.client, event["id"], ticket["code"], scan_id=scan_id)
    assert first["result"] == retry["result"] == "ok"
    assert retry["replayed"] is True and retry["recorded_at"] == first["recorded_at"]
    # Had the retry been a second scan, it would have been already_in.
    assert retry["ticket"]["status"] == "CHECKED_IN"


def test_every_refusal_a_scanner_can_see(admin: Client, users: UserPool) -> None:
    buyer, staff = users.take(2)
    event, other = _event(admin), _event(admin)
    _door(admin, event["id"], staff)
    _door(admin, other["id"], staff)
    ticket = _ticket(buyer.client, event["id"], 2)
    elsewhere = _ticket(buyer.client, other["id"], 2)
    assert _scan(staff.client, event["id"], elsewhere["code"])["result"] == "wrong_event"
    for junk in ["", "hello", "A" * 168, ticket["code"][:-1], ticket["code"].lower(), ticket["code"] + "A",
                 ticket["code"][:100] + ("B" if ticket["code"][100] == "A" else "A") + ticket["code"][101:],
                 "x" * 300]:
        assert _scan(staff.client, event["id"], junk)["result"] == "invalid", junk
    # A screenshot of the rotating code from a minute ago.
    old = int(time.time()) // 15 - 4
    stale = f"{ticket['code']}:{_digits(ticket['rotation']['key'], old)}"
    assert _scan(staff.client, event["id"], stale)["result"] == "code_expired"
    # A cancelled booking's ticket.
    cancelled = _ticket(buyer.client, event["id"], 3)
    expect(buyer.client.post(f"/v1/bookings/{cancelled['booking_id']}/cancel"), 200)
    revoked = _scan(staff.client, event["id"], cancelled["code"])
    assert revoked["result"] == "revoked" and revoked["ticket"]["status"] == "REVOKED"
    # None of those let the valid ticket in, or changed it.
    assert expect(buyer.client.get(f"/v1/tickets/{ticket['id']}"), 200)["status"] == "VALID"


def test_one_ticket_at_four_gates_from_eight_threads_gets_in_exactly_once(admin: Client, users: UserPool) -> None:
    buyer, staff = users.take(2)
    event = _event(admin)
    _door(admin, event["id"], staff)
    ticket = _ticket(buyer.client, event["id"], 4)
    clients = [Client(staff.client.port, staff.token) for _ in range(CONCURRENT_SCANS)]
    jobs = [lambda c=c, i=i: _scan(c, event["id"], ticket["code"], gate=f"gate-{i % GATES}")
            for i, c in enumerate(clients)]
    results = [r["result"] for r in run_together(jobs)]
    assert results.count("ok") == 1, results
    assert results.count("already_in") == CONCURRENT_SCANS - 1, results


def test_only_this_events_door_staff_and_administrators_scan(admin: Client, anon: Client, users: UserPool) -> None:
    buyer, staff, stranger = users.take(3)
    event, other = _event(admin), _event(admin)
    _door(admin, other["id"], staff)
    ticket = _ticket(buyer.client, event["id"], 5)
    body = {"code": ticket["code"], "gate": "g", "device_id": "d", "scan_id": "s1"}
    assert_error(staff.client.post(f"/v1/events/{event['id']}/checkins", body), 403, "forbidden")
    assert_error(buyer.client.post(f"/v1/events/{event['id']}/checkins", body), 403, "forbidden")
    assert_error(anon.post(f"/v1/events/{event['id']}/checkins", body), 401)
    assert_error(admin.post("/v1/events/999999999/checkins", body), 404, "not_found")
    assert _scan(admin, event["id"], ticket["code"])["result"] == "ok"  # administrators may
    # Naming door staff is for administrators.
    assert_error(stranger.client.post(f"/v1/events/{event['id']}/door-staff", {"email": stranger.email}), 403)
    assert_error(admin.post(f"/v1/events/{event['id']}/door-staff", {"email": "nobody@example.test"}), 404)
    _door(admin, event["id"], staff)
    assert staff.id in expect(admin.get(f"/v1/events/{event['id']}/door-staff"), 200)["user_ids"]
    expect(admin.request("DELETE", f"/v1/events/{event['id']}/door-staff/{staff.id}"), 204)
    assert_error(staff.client.post(f"/v1/events/{event['id']}/checkins", body), 403, "forbidden")


def test_bad_scans_are_400_and_change_nothing(admin: Client, users: UserPool) -> None:
    buyer, staff = users.take(2)
    event = _event(admin)
    _door(admin, event["id"], staff)
    ticket = _ticket(buyer.client, event["id"], 6)
    good = {"code": ticket["code"], "gate": "north", "device_id": "phone-1", "scan_id": "ok-1"}
    two_days_ago = rfc3339(now_utc() - dt.timedelta(days=2))
    in_an_hour = rfc3339(now_utc() + dt.timedelta(hours=1))
    for change in [{"scan_id": None}, {"scan_id": ""}, {"scan_id": "x" * 65}, {"scan_id": "has space"},
                   {"gate": None}, {"gate": "g" * 65}, {"gate": "tab\there"}, {"device_id": None},
                   {"direction": "sideways"}, {"scanned_at": two_days_ago}, {"scanned_at": in_an_hour},
                   {"scanned_at": "yesterday"}, {"code": None}, {"code": "A" * 5000}, {"code": 12}]:
        body = {k: v for k, v in {**good, **change}.items() if v is not None}
        assert_error(staff.client.post(f"/v1/events/{event['id']}/checkins", body), 400, "invalid_request")
    assert expect(buyer.client.get(f"/v1/tickets/{ticket['id']}"), 200)["status"] == "VALID"
    # A scan is judged as of when it was made: before the ticket existed its code was not valid yet;
    # an upload from a scanner that was offline since the ticket's first second is fine.
    before = rfc3339(parse_time(ticket["valid_from"]) - dt.timedelta(seconds=1))
    assert _scan(staff.client, event["id"], ticket["code"], scanned_at=before)["result"] == "invalid"
    late = _scan(staff.client, event["id"], ticket["code"], scanned_at=ticket["valid_from"])
    assert late["result"] == "ok" and parse_time(late["scanned_at"]) == parse_time(ticket["valid_from"])


def test_the_scanner_bundle_lets_a_door_decide_offline(admin: Client, anon: Client, users: UserPool) -> None:
    buyer, staff = users.take(2)
    event = _event(admin)
    _door(admin, event["id"], staff)
    inside = _ticket(buyer.client, event["id"], 0)
    cancelled = _ticket(buyer.client, event["id"], 1)
    valid = _ticket(buyer.client, event["id"], 2)
    assert _scan(staff.client, event["id"], inside["code"])["result"] == "ok"
    expect(buyer.client.post(f"/v1/bookings/{cancelled['booking_id']}/cancel"), 200)
    resp = staff.client.get(f"/v1/events/{event['id']}/scanner-bundle")
    bundle = expect(resp, 200)
    assert resp.headers.get("Cache-Control") == "no-store"
    assert bundle["event_id"] == event["id"] and bundle["tickets"] == 3 and bundle["truncated"] is False
    assert bundle["revoked"] == [cancelled["id"]] and bundle["checked_in"] == [inside["id"]]
    assert bundle["rotation"] == {"algorithm": "TOTP-HMAC-SHA256", "step_s": 15, "digits": 8, "skew_steps": 1}
    (key,) = bundle["keys"]
    published = expect(anon.get(f"/v1/events/{event['id']}/ticket-keys"), 200)["keys"][0]
    assert key["public_key"] == published["public_key"] and set(key) == {"key_id", "algorithm", "public_key",
                                                                         "rotation_secret"}
    # With the rotation secret a scanner derives each ticket's rotating key itself (docs/tickets.md).
    derived = hmac.new(bytes.fromhex(key["rotation_secret"]), b"ticketd-rotation-v1" + bytes.fromhex(valid["id"]),
                       hashlib.sha256).hexdigest()
    assert derived == valid["rotation"]["key"]
    # Rotation secrets are the door's: nobody else gets the bundle.
    assert_error(buyer.client.get(f"/v1/events/{event['id']}/scanner-bundle"), 403, "forbidden")
    assert_error(anon.get(f"/v1/events/{event['id']}/scanner-bundle"), 401)


def test_scanners_see_each_others_scans_and_revocations_on_the_door_feed(admin: Client, anon: Client,
                                                                         users: UserPool) -> None:
    from test_live_seat_map import SseStream
    event = _event(admin)
    buyer, staff, outsider = users.take(3)
    _door(admin, event["id"], staff)
    first = _ticket(buyer.client, event["id"], 0)
    second = _ticket(buyer.client, event["id"], 1)
    path = f"/v1/events/{event['id']}/checkins/stream"

    assert_error(anon.get(path), 401, "unauthenticated")
    assert_error(outsider.client.get(path), 403, "forbidden")

    stream = SseStream(staff.client.port, path, {"Authorization": f"Bearer {staff.token}"})
    try:
        assert stream.status == 200
        assert "Content-Type: text/event-stream" in stream.head
        assert stream.next_event()["event"] == "gates"  # nobody inside yet
        started = time.monotonic()
        assert _scan(admin, event["id"], first["code"], gate="north")["result"] == "ok"
        seen = {}
        while "ticket" not in seen or seen.get("gates", {}).get("inside") != 1:
            item = stream.next_event()
            seen[item["event"]] = item["data"]
        assert time.monotonic() - started < 1.0, "a scan elsewhere reaches the other scanners within a second"
        assert seen["ticket"]["ticket_id"] == first["id"]
        assert seen["ticket"]["status"] == "CHECKED_IN"
        assert seen["ticket"]["gate"] == "north"
        assert seen["gates"]["gates"] == [{"gate": "north", "inside": 1}]

        # A cancelled booking's ticket is revoked: the scanners learn it without asking.
        expect(buyer.client.post(f"/v1/bookings/{second['booking_id']}/cancel"), 200)
        item = stream.next_event()
        while item["event"] != "ticket":
            item = stream.next_event()
        assert item["data"] == {"ticket_id": second["id"], "status": "REVOKED", "gate": "",
                                "changed_at": item["data"]["changed_at"]}

        # Out again: one fewer inside.
        assert _scan(admin, event["id"], first["code"], direction="out", gate="south")["result"] == "ok"
        while True:
            item = stream.next_event()
            if item["event"] == "gates":
                assert item["data"] == {"inside": 0, "gates": []}
                break
            assert item["data"]["status"] == "VALID"
    finally:
        stream.close()

    # A scanner that connects later still gets the recent changes (it fetches its bundle after).
    late = SseStream(staff.client.port, path, {"Authorization": f"Bearer {staff.token}"})
    try:
        kinds = []
        for _ in range(4):
            item = late.next_event()
            kinds.append((item["event"], item["data"].get("ticket_id")))
        assert ("ticket", first["id"]) in kinds and ("ticket", second["id"]) in kinds
    finally:
        late.close()


def test_a_scan_admitted_offline_of_a_ticket_already_inside_is_listed_as_a_conflict(admin: Client,
                                                                                    users: UserPool) -> None:
    buyer, staff = users.take(2)
    event = _event(admin)
    _door(admin, event["id"], staff)
    ticket = _ticket(buyer.client, event["id"], 6)
    path = f"/v1/events/{event['id']}/checkins/conflicts"
    assert expect(staff.client.get(path), 200)["conflicts"] == []
    # North lets the ticket in online; East, cut off, had admitted it a moment earlier and uploads now.
    earlier = rfc3339(parse_time(ticket["valid_from"]) + dt.timedelta(seconds=1))
    time.sleep(2.1)  # North's scan comes after East's
    north = _scan(staff.client, event["id"], ticket["code"], gate="north")
    assert north["result"] == "ok"
    east = _scan(staff.client, event["id"], ticket["code"], gate="east", scanned_at=earlier, offline_result="ok")
    assert east["result"] == "already_in" and east["offline_result"] == "ok"
    # A queued scan the scanner itself had refused is no conflict.
    _scan(staff.client, event["id"], ticket["code"], gate="west", scanned_at=earlier, offline_result="already_in")
    (conflict,) = expect(staff.client.get(path), 200)["conflicts"]
    assert conflict["ticket_id"] == ticket["id"]
    assert conflict["scan"]["gate"] == "east" and conflict["admitted_by"]["gate"] == "north"
    assert conflict["first"] == "scan", "East's scan came first by scanned_at"
    assert_error(buyer.client.get(path), 403, "forbidden")
    assert_error(staff.client.post(f"/v1/events/{event['id']}/checkins",
                                   {"code": ticket["code"], "gate": "g", "device_id": "d", "scan_id": "x1",
                                    "offline_result": "maybe"}), 400, "invalid_request")


def test_the_attendee_list_is_a_csv_of_every_ticket_with_its_holder_and_defused_cells(admin: Client, anon: Client,
                                                                                     users: UserPool) -> None:
    import csv
    import io
    from api_support import USER_PASSWORD, login, register, unique_email
    buyer, staff = users.take(2)
    event = _event(admin)
    _door(admin, event["id"], staff)
    email = unique_email()
    expect(register(anon, email, name='=HYPERLINK("x"),"Evil"'), 201)
    evil = Client(anon.port, expect(login(anon, email, USER_PASSWORD), 201)["token"])
    kept = _ticket(buyer.client, event["id"], 0)
    odd = _ticket(evil, event["id"], 1)
    gone = _ticket(buyer.client, event["id"], 2)
    expect(buyer.client.post(f"/v1/bookings/{gone['booking_id']}/cancel"), 200)
    assert _scan(staff.client, event["id"], kept["code"], gate="north")["result"] == "ok"

    path = f"/v1/events/{event['id']}/attendees.csv"
    assert_error(staff.client.get(path), 403, "forbidden")  # door staff see the door, not the list
    assert_error(admin.get("/v1/events/999999999/attendees.csv"), 404, "not_found")
    resp = admin.get(path)
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in resp.headers["Content-Disposition"]
    text = resp.body if isinstance(resp.body, str) else resp.body.decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    by_id = {r["ticket_id"]: r for r in rows}
    assert set(by_id) == {kept["id"], odd["id"], gone["id"]}
    assert by_id[kept["id"]]["status"] == "CHECKED_IN" and by_id[kept["id"]]["gate"] == "north"
    assert by_id[kept["id"]]["holder_email"] == buyer.email and by_id[kept["id"]]["seat"] == "1"
    assert by_id[gone["id"]]["status"] == "REVOKED" and by_id[gone["id"]]["revoked_reason"] == "booking_cancelled"
    # A name that a spreadsheet would run is a name again: quoted, commas and quotes kept, a ' in front.
    assert by_id[odd["id"]]["holder_name"] == '\'=HYPERLINK("x"),"Evil"'
