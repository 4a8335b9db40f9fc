"""Waiting room over HTTP: join, lottery before the on-sale time, batch admission, access tokens on the
hold endpoint (each refusal with its own 403 code), expiry of idle admitted users, sold out and resume,
settings validation, and a restart that keeps every place.

Release intervals are 1 s (the smallest); every wait is bounded and generous, and no test asserts how
fast anything happens, only what happens and in which order.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from api_support import (Client, Response, Server, UserPool, admin_client, assert_error, assert_verify_ok,
                         create_event, create_venue, describe, expect, grid, hold_best, metrics_text, new_users,
                         now_utc, wait_for)


def _room(batch_size: int = 2, release_interval_s: int = 1, active_window_s: int = 60, **more: Any) -> dict:
    return {"batch_size": batch_size, "release_interval_s": release_interval_s,
            "active_window_s": active_window_s, **more}


def _queued_event(admin: Client, seats: int = 20, on_sale_in_s: float = -60, max_tickets: int = 4,
                  **room: Any) -> dict:
    """A new venue and an event behind a waiting room, on sale `on_sale_in_s` from now."""
    venue = create_venue(admin, [grid("Main", "std", 1, seats)])
    on_sale = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=on_sale_in_s)
    event = create_event(admin, venue, on_sale_at=on_sale, max_tickets_per_user=max_tickets)
    body = expect(admin.request("PUT", f"/v1/events/{event['id']}/waiting-room", {"enabled": True, **_room(**room)}),
                  200)
    assert body["enabled"] is True
    return dict(event, on_sale_dt=on_sale)


def _join(client: Client, event_id: int) -> dict:
    return expect(client.post(f"/v1/events/{event_id}/queue", {}), 201)


def _status(client: Client, event_id: int, queue_token: str) -> Response:
    return client.get(f"/v1/events/{event_id}/queue/{queue_token}")


def _hold(client: Client, event_id: int, access_token: str | None, quantity: int = 1) -> Response:
    headers = {} if access_token is None else {"X-Access-Token": access_token}
    return hold_best(client, event_id, quantity, headers=headers)


def test_early_joiners_wait_for_the_draw_then_are_admitted_in_batches(admin: Client, users: UserPool) -> None:
    buyers = users.take(4)
    # 3 s between releases, so polling every 0.1 s sees each batch on its own.
    event = _queued_event(admin, on_sale_in_s=5, batch_size=2, release_interval_s=3)
    info = expect(admin.get(f"/v1/events/{event['id']}/queue"), 200)
    assert info["seed"] is None and len(info["seed_commitment"]) == 64, info

    joined = [_join(b.client, event["id"]) for b in buyers]
    for body in joined:
        assert body["status"] == "WAITING" and body["early"] is True and body["draw_pending"] is True, body
        assert body["position"] is None
    again = _join(buyers[0].client, event["id"])
    assert again["queue_token"] == joined[0]["queue_token"], "joining twice must return the same place"
    first_poll = _status(buyers[0].client, event["id"], joined[0]["queue_token"])
    assert first_poll.status == 200 and first_poll.headers.get("Retry-After"), describe(first_poll)

    # Before the on-sale time nobody may hold, with or without a token.
    assert_error(_hold(buyers[0].client, event["id"], None), 403, "access_token_missing")

    # After the draw: positions are a permutation, the seed is public and matches its commitment.
    def all_drawn() -> list[dict] | None:
        bodies = [expect(_status(b.client, event["id"], j["queue_token"]), 200) for b, j in zip(buyers, joined)]
        return bodies if all(not b["draw_pending"] for b in bodies) else None
    wait_for("the draw", all_drawn)
    info = expect(admin.get(f"/v1/events/{event['id']}/queue"), 200)
    assert info["drawn"] is True and info["seed"], info
    assert hashlib.sha256(bytes.fromhex(info["seed"])).hexdigest() == info["seed_commitment"]

    # Batches of 2: the admitted count goes 2, 4, never jumping by more than a batch.
    seen_admitted: list[int] = []

    def everyone_admitted() -> bool:
        n = expect(admin.get(f"/v1/events/{event['id']}/queue"), 200)["admitted"]
        if not seen_admitted or seen_admitted[-1] != n:
            seen_admitted.append(n)
        return n == 4
    wait_for("all four admitted", everyone_admitted)
    steps = [b - a for a, b in zip([0] + seen_admitted, seen_admitted)]
    assert all(step <= 2 for step in steps), f"admitted counts {seen_admitted}: a release exceeded the batch size"
    assert seen_admitted[-2:] == [2, 4], f"admitted counts {seen_admitted}: expected batches of exactly 2"

    statuses = [expect(_status(b.client, event["id"], j["queue_token"]), 200) for b, j in zip(buyers, joined)]
    for s in statuses:
        assert s["status"] == "ADMITTED" and s["access_token"], s
    held = expect(_hold(buyers[0].client, event["id"], statuses[0]["access_token"], 2), 201)
    assert len(held["seat_ids"]) == 2


def test_each_bad_access_token_is_refused_with_its_own_code(admin: Client, users: UserPool) -> None:
    ann, bob = users.take(2)
    event = _queued_event(admin, batch_size=10)
    other = _queued_event(admin, batch_size=10)
    ann_q = _join(ann.client, event["id"])
    _join(bob.client, event["id"])
    ann_other_q = _join(ann.client, other["id"])

    def admitted(client: Client, event_id: int, token: str) -> dict | None:
        body = expect(_status(client, event_id, token), 200)
        return body if body["status"] == "ADMITTED" else None
    ann_access = wait_for("ann admitted", lambda: admitted(ann.client, event["id"], ann_q["queue_token"]))["access_token"]
    ann_other_access = wait_for("ann admitted to the other event",
                                 lambda: admitted(ann.client, other["id"], ann_other_q["queue_token"]))["access_token"]

    assert_error(_hold(ann.client, event["id"], None), 403, "access_token_missing")
    forged = ann_access[:-3] + ("AAA" if not ann_access.endswith("AAA") else "BBB")
    assert_error(_hold(ann.client, event["id"], forged), 403, "access_token_invalid")
    assert_error(_hold(ann.client, event["id"], "not-a-token"), 403, "access_token_invalid")
    assert_error(_hold(ann.client, event["id"], ann_other_access), 403, "access_token_wrong_event")
    assert_error(_hold(bob.client, event["id"], ann_access), 403, "access_token_wrong_user")
    expect(_hold(ann.client, event["id"], ann_access), 201)

    # A queue token is not an access token, and a forged queue token reads nobody's place.
    assert_error(_hold(ann.client, event["id"], ann_q["queue_token"]), 403, "access_token_invalid")
    assert_error(_status(ann.client, event["id"], ann_q["queue_token"][:-2] + "xx"), 403, "queue_token_invalid")
    assert_error(_status(ann.client, other["id"], ann_q["queue_token"]), 403, "queue_token_invalid")


def test_an_idle_admitted_user_expires_and_the_slot_goes_to_the_next(admin: Client, users: UserPool) -> None:
    ann, bob = users.take(2)
    # 4 seats, 4 per person: the stock serves one person at a time, whatever the batch size.
    event = _queued_event(admin, seats=4, batch_size=10, active_window_s=1)
    tokens = {u.id: _join(u.client, event["id"])["queue_token"] for u in (ann, bob)}

    def status_of(user) -> dict:
        return expect(_status(user.client, event["id"], tokens[user.id]), 200)
    first = wait_for("someone admitted", lambda: next(
        (u for u in (ann, bob) if status_of(u)["status"] == "ADMITTED"), None))
    second = bob if first is ann else ann
    first_access = status_of(first)["access_token"]
    assert status_of(second)["status"] == "WAITING", "the stock serves one person: the other must wait"
    # The first does nothing: after the 1 s window the slot lapses and the other is admitted.
    wait_for("the second admitted", lambda: status_of(second)["status"] == "ADMITTED")
    expired = status_of(first)
    assert expired["status"] == "EXPIRED" and expired["access_expires_at"], expired
    assert_error(_hold(first.client, event["id"], first_access), 403, "access_token_expired")
    # Joining again puts the first at the end of the line; their next turn comes after the second's.
    again = _join(first.client, event["id"])
    assert again["status"] == "WAITING" and again["early"] is False, again
    wait_for("the first admitted again", lambda: status_of(first)["status"] == "ADMITTED")
    assert status_of(second)["status"] == "EXPIRED", "the second's turn came and went before"
    expect(_hold(first.client, event["id"], status_of(first)["access_token"]), 201)


def test_waiting_users_are_told_sold_out_and_admission_resumes(admin: Client, users: UserPool) -> None:
    buyers = users.take(3)
    event = _queued_event(admin, seats=4, batch_size=10, active_window_s=60)
    tokens = [_join(b.client, event["id"])["queue_token"] for b in buyers]

    def statuses() -> list[dict]:
        return [expect(_status(b.client, event["id"], t), 200) for b, t in zip(buyers, tokens)]
    wait_for("one admitted", lambda: any(s["status"] == "ADMITTED" for s in statuses()))
    current = statuses()
    winner = next(i for i, s in enumerate(current) if s["status"] == "ADMITTED")
    hold = expect(_hold(buyers[winner].client, event["id"], current[winner]["access_token"], 4), 201)
    wait_for("the others told SOLD_OUT",
              lambda: all(s["status"] == "SOLD_OUT" for i, s in enumerate(statuses()) if i != winner))
    loser = next(i for i in range(len(buyers)) if i != winner)
    answer = _status(buyers[loser].client, event["id"], tokens[loser])
    sold_out = expect(answer, 200)
    assert sold_out["estimated_wait_s"] is None
    assert sold_out["position"] in (1, 2), "sold out for now keeps the place"
    assert 1 <= int(answer.headers["Retry-After"]) <= 60, "and tells the pace to poll at"
    # The seats come back: admission resumes.
    assert buyers[winner].client.delete(f"/v1/holds/{hold['id']}").status == 204
    wait_for("admission resumed", lambda: any(
        s["status"] == "ADMITTED" for i, s in enumerate(statuses()) if i != winner))


def test_queue_input_errors_are_clear_4xx(admin: Client, anon: Client, users: UserPool) -> None:
    (ann,) = users.take(1)
    venue = create_venue(admin, [grid("Main", "std", 1, 5)])
    plain = create_event(admin, venue)
    assert_error(ann.client.post(f"/v1/events/{plain['id']}/queue", {}), 409, "waiting_room_off")
    assert_error(anon.post(f"/v1/events/{plain['id']}/queue", {}), 401, "unauthenticated")
    assert_error(ann.client.post("/v1/events/999999999/queue", {}), 404, "not_found")
    assert_error(anon.get(f"/v1/events/{plain['id']}/queue/{'x' * 600}"), 404)
    assert_error(anon.get(f"/v1/events/{plain['id']}/queue/garbage"), 403, "queue_token_invalid")
    path = f"/v1/events/{plain['id']}/waiting-room"
    assert_error(ann.client.request("PUT", path, {"enabled": True}), 403, "forbidden")
    for bad in ({"batch_size": 0}, {"batch_size": 100001}, {"release_interval_s": 0}, {"active_window_s": "1"},
                {"opens_before_s": -1}, {"enabled": "yes"}, {"surprise": 1}):
        assert_error(admin.request("PUT", path, bad), 400, "invalid_request")
    assert_error(admin.request("PUT", path, []), 400)
    # At creation too, with the defaults for what is not given.
    on_sale = now_utc() + dt.timedelta(days=1)
    request = {"name": "Queued", "venue_id": venue["id"], "currency": "EUR", "prices": {"std": 100},
               "starts_at": (on_sale + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
               "on_sale_at": on_sale.strftime("%Y-%m-%dT%H:%M:%SZ")}
    assert_error(admin.post("/v1/events", dict(request, waiting_room={"batch_size": -5})), 400, "invalid_request")
    created = expect(admin.post("/v1/events", dict(request, waiting_room={"batch_size": 50})), 201)
    assert created["waiting_room"] == {"enabled": True, "batch_size": 50, "release_interval_s": 30,
                                       "active_window_s": 600, "opens_before_s": 3600}
    # The room opens an hour before the sale: joining now is too early.
    assert_error(ann.client.post(f"/v1/events/{created['id']}/queue", {}), 409, "queue_not_open")


def test_a_restart_keeps_every_place(tmp_path) -> None:
    server = Server(tmp_path / "data", hold_ttl_s=600, log_path=tmp_path / "server.log")
    server.start()
    try:
        admin = admin_client(server)
        event = _queued_event(admin, on_sale_in_s=3600, batch_size=1)
        buyers = new_users(server, 3)
        tokens = [_join(b.client, event["id"])["queue_token"] for b in buyers]
        info = expect(admin.get(f"/v1/events/{event['id']}/queue"), 200)
        server.stop()
        server.start()
        after = expect(server.client().get(f"/v1/events/{event['id']}/queue"), 200)
        assert after["seed_commitment"] == info["seed_commitment"]
        assert after["length"] == 3 and after["early_joiners"] == 3
        for buyer, token in zip(buyers, tokens):
            body = expect(_status(server.client(), event["id"], token), 200)  # tokens survive the restart
            assert body["status"] == "WAITING" and body["draw_pending"], body
            rejoined = expect(server.client(buyer.token).post(f"/v1/events/{event['id']}/queue", {}), 201)
            assert rejoined["queue_token"] == token
        assert expect(server.client().get(f"/v1/events/{event['id']}/queue"), 200)["length"] == 3
    finally:
        if server.running():
            server.stop()
    assert_verify_ok(server, "after the waiting-room restart test")


def test_metrics_show_each_rooms_queue(admin: Client, anon: Client, users: UserPool) -> None:
    (ann,) = users.take(1)
    event = _queued_event(admin, batch_size=1)
    _join(ann.client, event["id"])
    text = metrics_text(anon.port)
    for family in ("ticketd_queue_waiting", "ticketd_queue_admitted_total", "ticketd_queue_expired_total",
                   "ticketd_queue_release_rate_per_second"):
        assert f'{family}{{event="{event["id"]}"}}' in text, f"{family} missing for the event"
