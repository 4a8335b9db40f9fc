"""Requests answered on the I/O thread (docs/architecture.md, "Request path"), seen from outside.

A hold or a release whose event is in memory is decided on the connection's thread and answered when
its commit completes; a repeated compact seat map or venue layout is the kept encoding; a queue poll is
answered from the room in memory, and a published event with its counts from the event in memory. `ticketd_http_requests_inline_total` counts them. What these tests
hold them to: the same answers as the worker path (201, 204, 409 with its code, the same bytes and
tags), and a hold or release acknowledged that way survives `kill -9`.

Embedded only: the distributed ledger decides its holds on workers (its holds and maps go there).
"""

from __future__ import annotations

import datetime as dt
import gzip
import re
from pathlib import Path

import pytest

from api_support import (Server, admin_client, assert_error, backend_is_embedded, create_event,
                         create_venue, expect, grid, hold_seats, make_event, metrics_text, new_user, raw_get)

pytestmark = pytest.mark.skipif(not backend_is_embedded(), reason="the distributed ledger decides holds on workers")


def inline_total(server: Server) -> int:
    found = re.search(r"^ticketd_http_requests_inline_total (\d+)$", metrics_text(server.port), re.M)
    assert found, "the transport reports its inline answers"
    return int(found.group(1))


def test_holds_of_an_event_in_memory_are_answered_inline_with_the_same_answers(server: Server) -> None:
    event = make_event(admin_client(server), [grid("Main", "standard", 1, 40)], max_tickets_per_user=20)
    ann, bob = new_user(server), new_user(server)
    expect(hold_seats(ann.client, event["id"], [0]), 201)  # loads the event's seats (on a worker)
    expect(bob.client.get("/v1/me"), 200)  # and bob's session into the cache
    before = inline_total(server)
    held = [expect(hold_seats(ann.client, event["id"], [seat]), 201) for seat in range(1, 11)]
    taken = hold_seats(bob.client, event["id"], [5])
    assert_error(taken, 409, "seat_unavailable")
    assert_error(hold_seats(bob.client, event["id"], [99]), 400)  # no such seat: refused inline too
    assert inline_total(server) - before >= 12, "holds of a loaded event did not run inline"
    for hold in held:
        shown = expect(ann.client.get(f"/v1/holds/{hold['id']}"), 200)
        assert shown["seat_ids"] == hold["seat_ids"] and shown["status"] == "ACTIVE"
        assert shown["total_amount"] == hold["total_amount"] > 0


def test_a_repeated_compact_map_is_answered_inline_with_the_same_bytes(server: Server) -> None:
    event = make_event(admin_client(server), [grid("Main", "standard", 2, 30)])
    path = f"/v1/events/{event['id']}/seats?format=compact"
    anon = server.client()
    first = expect(anon.get(path), 200)  # encoded on a worker
    before = inline_total(server)
    again = expect(anon.get(path), 200)
    assert inline_total(server) - before >= 1, "the kept encoding was not served inline"
    assert again == first
    user = new_user(server)
    expect(hold_seats(user.client, event["id"], [3]), 201)
    changed = expect(anon.get(path), 200)  # a new version: encoded again, never the kept old bytes
    assert changed["status"][3] == "H" and first["status"][3] == "A"


def test_releases_of_live_holds_are_answered_inline_with_the_same_answers(server: Server) -> None:
    event = make_event(admin_client(server), [grid("Main", "standard", 1, 20)], max_tickets_per_user=10)
    ann, bob = new_user(server), new_user(server)
    held = [expect(hold_seats(ann.client, event["id"], [seat]), 201) for seat in range(4)]
    expect(bob.client.get("/v1/me"), 200)
    before = inline_total(server)
    assert_error(bob.client.request("DELETE", f"/v1/holds/{held[0]['id']}"), 404)  # not bob's: the store says so
    for hold in held[:3]:
        expect(ann.client.request("DELETE", f"/v1/holds/{hold['id']}"), 204)
    assert inline_total(server) - before >= 3, "releases of live holds did not run inline"
    expect(ann.client.request("DELETE", f"/v1/holds/{held[0]['id']}"), 204)  # again: already released, no change
    assert expect(ann.client.get(f"/v1/holds/{held[0]['id']}"), 200)["status"] == "RELEASED"
    assert expect(ann.client.get(f"/v1/holds/{held[3]['id']}"), 200)["status"] == "ACTIVE"
    expect(hold_seats(bob.client, event["id"], [0, 1, 2]), 201)  # the released seats are on sale again


def test_a_kept_venue_layout_is_answered_inline_with_the_same_bytes_and_tags(server: Server) -> None:
    admin = admin_client(server)
    venue = create_venue(admin, [grid(f"Block {n}", "standard", 20, 50) for n in range(4)])
    path = f"/v1/venues/{venue['id']}"
    status, first_headers, first = raw_get(server.port, path, {"Accept-Encoding": "identity"})  # encoded on a worker
    assert status == 200 and "Content-Encoding" not in first_headers
    tag = first_headers["ETag"]
    before = inline_total(server)
    status, headers, again = raw_get(server.port, path, {"Accept-Encoding": "identity"})
    assert status == 200 and again == first and headers["ETag"] == tag
    assert "immutable" in headers["Cache-Control"]
    status, headers, packed = raw_get(server.port, path, {"Accept-Encoding": "gzip"})
    assert status == 200 and headers["Content-Encoding"] == "gzip" and gzip.decompress(packed) == first
    assert headers["ETag"] == tag[:-1] + '-gzip"' and "accept-encoding" in headers["Vary"].lower()
    for sent in (tag, headers["ETag"]):
        status, headers, body = raw_get(server.port, path, {"Accept-Encoding": "gzip", "If-None-Match": sent})
        assert status == 304 and body == b"" and headers["ETag"] == tag
    assert inline_total(server) - before >= 4, "the kept layout was not served inline"
    assert_error(server.client().get("/v1/venues/999999"), 404)


def test_queue_polls_are_answered_inline_from_the_room_in_memory(server: Server) -> None:
    admin = admin_client(server)
    venue = create_venue(admin, [grid("Main", "std", 1, 10)])
    on_sale = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=60)
    event = create_event(admin, venue, on_sale_at=on_sale)
    room = {"enabled": True, "batch_size": 1, "release_interval_s": 3600, "active_window_s": 60}
    expect(admin.request("PUT", f"/v1/events/{event['id']}/waiting-room", room), 200)
    ann = new_user(server)
    joined = expect(ann.client.post(f"/v1/events/{event['id']}/queue", {}), 201)
    anon = server.client()
    before = inline_total(server)
    polls = [expect(anon.get(f"/v1/events/{event['id']}/queue/{joined['queue_token']}"), 200) for _ in range(3)]
    assert inline_total(server) - before >= 3, "queue polls did not run inline"
    for poll in polls:
        assert poll["event_id"] == event["id"] and poll["status"] in ("WAITING", "ADMITTED")
    forged = joined["queue_token"][:-2] + ("AA" if not joined["queue_token"].endswith("AA") else "BB")
    assert_error(anon.get(f"/v1/events/{event['id']}/queue/{forged}"), 403, "queue_token_invalid")


def test_a_published_event_in_memory_is_answered_inline_with_its_live_counts(server: Server) -> None:
    event = make_event(admin_client(server), [grid("Main", "standard", 1, 30)])
    anon, ann = server.client(), new_user(server)
    first = expect(anon.get(f"/v1/events/{event['id']}"), 200)  # seats not loaded yet: on a worker
    assert first["counts"] == {"available": 30, "held": 0, "sold": 0}
    hold = expect(hold_seats(ann.client, event["id"], [0, 1]), 201)
    before = inline_total(server)
    shown = expect(anon.get(f"/v1/events/{event['id']}"), 200)
    assert inline_total(server) - before >= 1, "the event in memory was not served inline"
    assert shown["counts"] == {"available": 28, "held": 2, "sold": 0}
    assert {k: v for k, v in shown.items() if k != "counts"} == {k: v for k, v in first.items() if k != "counts"}
    expect(ann.client.request("DELETE", f"/v1/holds/{hold['id']}"), 204)
    assert expect(anon.get(f"/v1/events/{event['id']}"), 200)["counts"]["available"] == 30


def test_holds_and_releases_acknowledged_inline_survive_kill_9(tmp_path: Path) -> None:
    server = Server(tmp_path / "data", hold_ttl_s=600, log_path=tmp_path / "server.log")
    server.start()
    try:
        event = make_event(admin_client(server), [grid("Main", "standard", 1, 20)], max_tickets_per_user=10)
        user = new_user(server)
        expect(hold_seats(user.client, event["id"], [0]), 201)
        before = inline_total(server)
        acked = [expect(hold_seats(user.client, event["id"], [seat]), 201) for seat in range(1, 6)]
        expect(user.client.request("DELETE", f"/v1/holds/{acked[0]['id']}"), 204)
        assert inline_total(server) - before >= 6
        server.kill()
        server.start()
        client = server.client(user.token)
        assert expect(client.get(f"/v1/holds/{acked[0]['id']}"), 200)["status"] == "RELEASED"
        for hold in acked[1:]:
            assert expect(client.get(f"/v1/holds/{hold['id']}"), 200)["status"] == "ACTIVE"
        assert_error(hold_seats(new_user(server).client, event["id"], [2]), 409, "seat_unavailable")
        expect(hold_seats(new_user(server).client, event["id"], [1]), 201)  # released before the kill
    finally:
        server.stop()
