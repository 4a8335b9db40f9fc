"""Requests answered on the I/O thread (docs/architecture.md, "Request path"), seen from outside.

A hold whose event is in memory is decided on the connection's thread and answered when its commit
completes; a repeated compact seat map is the kept encoding. `ticketd_http_requests_inline_total`
counts them. What these tests hold them to: the same answers as the worker path (201, 409 with its
code, the same map bytes), and a hold acknowledged that way survives `kill -9`.

Embedded only: the distributed ledger decides its holds on workers (its holds and maps go there).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from api_support import (Server, admin_client, assert_error, backend_is_embedded, expect, grid, hold_seats, make_event,
                         metrics_text, new_user)

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


def test_a_hold_acknowledged_inline_survives_kill_9(tmp_path: Path) -> None:
    server = Server(tmp_path / "data", hold_ttl_s=600, log_path=tmp_path / "server.log")
    server.start()
    try:
        event = make_event(admin_client(server), [grid("Main", "standard", 1, 20)])
        user = new_user(server)
        expect(hold_seats(user.client, event["id"], [0]), 201)
        before = inline_total(server)
        acked = [expect(hold_seats(user.client, event["id"], [seat]), 201) for seat in range(1, 6)]
        assert inline_total(server) - before >= 5
        server.kill()
        server.start()
        client = server.client(user.token)
        for hold in acked:
            assert expect(client.get(f"/v1/holds/{hold['id']}"), 200)["status"] == "ACTIVE"
        assert_error(hold_seats(new_user(server).client, event["id"], [1]), 409, "seat_unavailable")
    finally:
        server.stop()
