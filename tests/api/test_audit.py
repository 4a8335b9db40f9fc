"""The audit log (docs/console.md, "Audit log"): every administrator action that succeeded, with who,
when, the request and the state it produced; nothing a buyer does; readable by administrators only,
a page at a time; and append-only in the store itself."""

from __future__ import annotations

import sqlite3

import pytest

from api_support import Client, Server, UserPool, assert_error, backend_is_embedded, expect, grid, make_event


def _entries(admin: Client, after: int = 0) -> list[dict]:
    out, cursor = [], str(after)
    for _ in range(1000):
        page = expect(admin.get(f"/v1/admin/audit?after={cursor}&limit=500"), 200)
        out += page["entries"]
        if page["next"] is None:
            return out
        cursor = page["next"]
    raise AssertionError("the audit log did not end")


def test_administrator_actions_are_recorded_with_actor_request_and_result(admin: Client, users: UserPool) -> None:
    (buyer,) = users.take(1)
    start = max([e["id"] for e in _entries(admin)], default=0)
    event = make_event(admin, [grid("Floor", "standard", 1, 4)])
    expect(admin.post(f"/v1/events/{event['id']}/ticket-keys"), 201)
    expect(admin.post(f"/v1/events/{event['id']}/cancel", {"reason": "audit me"}), 202)
    assert_error(buyer.client.post(f"/v1/events/{event['id']}/cancel", {}), 403, "forbidden")  # not recorded
    assert_error(admin.post("/v1/events/999999999/cancel", {}), 404, "not_found")  # failed: not recorded

    mine = [e for e in _entries(admin, start) if f"/v1/events/{event['id']}" in e["target"] or
            (e["action"] == "POST /v1/events" and e["result"] and e["result"].get("id") == event["id"])]
    actions = [e["action"] for e in mine]
    assert actions == ["POST /v1/events", "POST /v1/events/{id}/ticket-keys", "POST /v1/events/{id}/cancel"], actions
    created, rotated, cancelled = mine
    assert created["actor"]["email"].startswith("admin@") and created["status"] == 201
    assert created["request"]["name"] == event["name"] and created["result"]["id"] == event["id"]
    assert rotated["result"]["signing_key_id"] == 2
    assert cancelled["request"] == {"reason": "audit me"} and cancelled["result"]["cancelled"] is True
    assert cancelled["target"] == f"/v1/events/{event['id']}/cancel"
    assert not [e for e in _entries(admin, start) if e["actor"]["id"] == buyer.id]


def test_only_administrators_read_it_and_pages_are_bounded(admin: Client, anon: Client, users: UserPool) -> None:
    (buyer,) = users.take(1)
    assert_error(anon.get("/v1/admin/audit"), 401, "unauthenticated")
    assert_error(buyer.client.get("/v1/admin/audit"), 403, "forbidden")
    for bad in ("limit=0", "limit=501", "limit=x", "after=x"):
        assert_error(admin.get(f"/v1/admin/audit?{bad}"), 400, "invalid_request")
    make_event(admin, [grid("Floor", "standard", 1, 2)])
    page = expect(admin.get("/v1/admin/audit?limit=1"), 200)
    assert len(page["entries"]) == 1 and page["next"] is not None


def test_the_store_refuses_to_change_or_delete_an_entry(admin: Client, server: Server) -> None:
    if not backend_is_embedded():
        pytest.skip("the embedded store's triggers; PostgreSQL's trigger is the same rule in migration 5")
    make_event(admin, [grid("Floor", "standard", 1, 2)])
    db = sqlite3.connect(server.data_dir / "ticketd.db", timeout=10)
    try:
        for sql in ("UPDATE audit_log SET actor_email = 'someone@else'", "DELETE FROM audit_log"):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                db.execute(sql)
    finally:
        db.close()
