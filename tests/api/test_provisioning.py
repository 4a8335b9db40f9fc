"""Bulk provisioning (POST /v1/admin/users:bulk): administrators create many users with a session each,
all or nothing, within documented bounds. Used by ticket-bench; tested here over HTTP only."""

from __future__ import annotations

import uuid

import pytest

from api_support import (USER_PASSWORD, Client, Server, assert_error, compact_status, create_event, create_venue,
                         expect, grid, hold_seats, login, new_user, now_utc, parse_time)

BULK_PATH = "/v1/admin/users:bulk"
USERS_PER_REQUEST_MAX = 10_000  # docs/api.md


def prefix() -> str:
    return f"bulk-{uuid.uuid4().hex[:10]}-"


def test_provisioned_users_exist_and_their_tokens_work(server: Server, admin: Client) -> None:
    p = prefix()
    body = expect(admin.post(BULK_PATH, {"email_prefix": p, "count": 3, "first": 7, "name": "Bench Buyer"}), 201)
    users = body["users"]
    assert [u["email"] for u in users] == [f"{p}{i}@bulk.ticketd.invalid" for i in (7, 8, 9)]
    assert len({u["id"] for u in users}) == 3 and len({u["token"] for u in users}) == 3
    assert parse_time(body["expires_at"]) > now_utc()
    for u in users:
        me = expect(server.client(u["token"]).get("/v1/me"), 200)
        assert me == {"id": u["id"], "email": u["email"], "name": "Bench Buyer", "role": me["role"], "organizations": [],
                      "email_verified": False}
        assert me["role"] != expect(admin.get("/v1/me"), 200)["role"], "provisioned users are not administrators"


def test_provisioned_users_can_hold_seats(server: Server, admin: Client) -> None:
    event = create_event(admin, create_venue(admin, [grid("Floor", "ga", 1, 10)]))
    users = expect(admin.post(BULK_PATH, {"email_prefix": prefix(), "count": 2}), 201)["users"]
    for i, u in enumerate(users):
        expect(hold_seats(server.client(u["token"]), event["id"], [i]), 201)
    assert compact_status(admin, event["id"]).startswith("HH")


def test_provisioned_users_cannot_log_in_with_any_password_we_know(admin: Client, anon: Client) -> None:
    user = expect(admin.post(BULK_PATH, {"email_prefix": prefix(), "count": 1}), 201)["users"][0]
    assert_error(login(anon, user["email"], USER_PASSWORD), 401, "invalid_credentials")


def test_a_custom_domain_is_used(admin: Client) -> None:
    p = prefix()
    users = expect(admin.post(BULK_PATH, {"email_prefix": p, "count": 1, "email_domain": "load.example"}), 201)["users"]
    assert users[0]["email"] == f"{p}0@load.example"


def test_the_largest_batch_is_accepted_and_one_more_is_refused(admin: Client) -> None:
    body = expect(admin.post(BULK_PATH, {"email_prefix": prefix(), "count": USERS_PER_REQUEST_MAX}), 201)
    assert len(body["users"]) == USERS_PER_REQUEST_MAX
    assert_error(admin.post(BULK_PATH, {"email_prefix": prefix(), "count": USERS_PER_REQUEST_MAX + 1}), 400,
                 "invalid_request")


def test_a_taken_email_refuses_the_whole_batch(server: Server, admin: Client) -> None:
    p = prefix()
    expect(admin.post(BULK_PATH, {"email_prefix": p, "count": 1, "first": 5}), 201)
    assert_error(admin.post(BULK_PATH, {"email_prefix": p, "count": 10, "first": 0}), 409, "email_taken")
    # nothing of the refused batch was created: the same range minus the taken index now succeeds
    expect(admin.post(BULK_PATH, {"email_prefix": p, "count": 5, "first": 0}), 201)
    expect(admin.post(BULK_PATH, {"email_prefix": p, "count": 4, "first": 6}), 201)


def test_ordinary_users_and_anonymous_callers_are_refused(server: Server, admin: Client, anon: Client) -> None:
    user = new_user(server)
    assert_error(user.client.post(BULK_PATH, {"email_prefix": prefix(), "count": 1}), 403, "forbidden")
    assert_error(anon.post(BULK_PATH, {"email_prefix": prefix(), "count": 1}, token=None), 401, "unauthenticated")


@pytest.mark.parametrize("body", [
    {"count": 1},
    {"email_prefix": "x-"},
    {"email_prefix": "x-", "count": 0},
    {"email_prefix": "x-", "count": -1},
    {"email_prefix": "x-", "count": "10"},
    {"email_prefix": "x-", "count": 1.5},
    {"email_prefix": "x-", "count": 1, "first": -1},
    {"email_prefix": "x-", "count": 1, "first": 1_000_000_001},
    {"email_prefix": "", "count": 1},
    {"email_prefix": "a" * 65, "count": 1},
    {"email_prefix": "Upper-", "count": 1},
    {"email_prefix": "a@b", "count": 1},
    {"email_prefix": "sp ace", "count": 1},
    {"email_prefix": "x-", "count": 1, "email_domain": "nodot"},
    {"email_prefix": "x-", "count": 1, "email_domain": "bad_domain.test"},
    {"email_prefix": "x-", "count": 1, "email_domain": "d" * 98 + ".io"},
    {"email_prefix": "x-", "count": 1, "name": ""},
    {"email_prefix": "x-", "count": 1, "name": 5},
], ids=lambda b: ",".join(f"{k}={str(v)[:12]}" for k, v in b.items()))
def test_invalid_requests_are_400_naming_the_problem(admin: Client, body: dict) -> None:
    error = assert_error(admin.post(BULK_PATH, body), 400, "invalid_request")
    assert any(field in error["message"] for field in ("count", "first", "email_prefix", "email_domain", "name")), error


def test_a_body_that_is_not_an_object_is_refused(admin: Client) -> None:
    assert_error(admin.post(BULK_PATH, [1, 2]), 400, ("malformed_json", "invalid_request"))
    assert_error(admin.post(BULK_PATH, data=b"{", content_type="application/json"), 400, "malformed_json")
