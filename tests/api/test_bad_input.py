"""Bad input: every refusal has the documented status and an error body, and nothing crashes the server.

The table runs against the shared server; the last test checks the server is still healthy after it all.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest

from api_support import (BODY_BYTES_MAX, USER_PASSWORD, Client, Server, UserPool, assert_error, compact_status,
                         create_event, create_venue, describe, expect, grid, hold_seats, now_utc, raw_exchange,
                         rfc3339, unique_email)

SEATS_TOTAL = 200  # the table's event: 2 rows of 100 seats
HELD_SEAT = SEATS_TOTAL - 1  # held by the table's user, for the checkout cases
NESTING_DEPTH = 10_000


@dataclass
class Context:
    server: Server
    user_token: str
    admin_token: str
    venue_id: int
    event_id: int
    hold_id: int


@pytest.fixture(scope="module")
def ctx(server: Server, admin: Client, users: UserPool) -> Context:
    (user,) = users.take(1)
    venue = create_venue(admin, [grid("Main", "standard", 2, SEATS_TOTAL // 2)])
    event = create_event(admin, venue, max_tickets_per_user=100)
    hold = expect(hold_seats(user.client, event["id"], [HELD_SEAT]), 201)
    assert admin.token
    return Context(server, user.token, admin.token, venue["id"], event["id"], hold["id"])


@dataclass
class Case:
    name: str
    method: str
    path: str  # may name {event_id}, {venue_id}, {hold_id}
    body: Any = None  # dict/list: JSON; bytes: sent as is; callable(ctx): JSON; None: no body
    status: int = 400
    codes: tuple[str, ...] | None = ("invalid_request",)  # None: any code
    auth: str | None = "user"  # "user", "admin" or None
    content_type: str | None = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def _user(**overrides: Any) -> dict:
    body = {"email": unique_email(), "password": USER_PASSWORD, "name": "Bad Input"}
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def _venue(**row: Any) -> dict:
    return {"name": "Bad Venue", "sections": [{"name": "Main", "price_tier": "standard",
                                                "rows": [dict({"label": "A", "seats": 10}, **row)]}]}


def _event(ctx: Context, **overrides: Any) -> dict:
    starts_at = now_utc() + dt.timedelta(days=30)
    body = {"name": "Bad Event", "venue_id": ctx.venue_id, "starts_at": rfc3339(starts_at),
            "on_sale_at": rfc3339(starts_at - dt.timedelta(days=10)), "currency": "EUR",
            "prices": {"standard": 5000}, "max_tickets_per_user": 8}
    body.update(overrides)
    return body


def _key() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


HOLDS = "/v1/events/{event_id}/holds"
CHECKOUT = "/v1/holds/{hold_id}/checkout"
MISSING_ID = 999_999_999
JSON_ERRORS = ("malformed_json", "invalid_request")  # where either reading of the contract is fair

CASES = [
    # Unparseable or mistyped JSON.
    Case("malformed JSON in a hold", "POST", HOLDS, b'{"seat_ids": [1,', codes=("malformed_json",)),
    Case("malformed JSON in a registration", "POST", "/v1/users", b'{"email": "a@b.c", "password": "x"',
         codes=("malformed_json",), auth=None),
    Case("trailing garbage after JSON", "POST", HOLDS, b'{"quantity": 1} x', codes=("malformed_json",)),
    Case("empty body where JSON is required", "POST", HOLDS, b"", codes=JSON_ERRORS),
    Case("JSON that is not an object", "POST", HOLDS, [1, 2]),
    Case(f"arrays nested {NESTING_DEPTH} deep", "POST", HOLDS,  # sign-up bodies are too small for it
         b"[" * NESTING_DEPTH + b"]" * NESTING_DEPTH, codes=JSON_ERRORS),
    Case(f"objects nested {NESTING_DEPTH} deep", "POST", HOLDS,
         b'{"a":' * NESTING_DEPTH + b"1" + b"}" * NESTING_DEPTH, codes=JSON_ERRORS),
    Case("deep nesting inside a field", "POST", HOLDS,
         b'{"seat_ids": ' + b"[" * NESTING_DEPTH + b"]" * NESTING_DEPTH + b"}", codes=JSON_ERRORS),
    Case("invalid UTF-8 in a string", "POST", "/v1/users",
         b'{"email": "\xff\xfe@example.test", "password": "password123", "name": "x"}',
         codes=JSON_ERRORS, auth=None),
    Case("overlong UTF-8 encoding", "POST", "/v1/users",
         b'{"email": "a\xc0\xafb@example.test", "password": "password123", "name": "x"}',
         codes=JSON_ERRORS, auth=None),

    # Holds: wrong types and ranges.
    Case("seat_ids as a string", "POST", HOLDS, {"seat_ids": "1"}),
    Case("seat_ids with a string element", "POST", HOLDS, {"seat_ids": ["1"]}),
    Case("quantity as a string", "POST", HOLDS, {"quantity": "2"}),
    Case("quantity 0", "POST", HOLDS, {"quantity": 0}),
    Case("quantity -1", "POST", HOLDS, {"quantity": -1}),
    Case("quantity 10**12", "POST", HOLDS, {"quantity": 10**12}),
    Case("quantity 1.5", "POST", HOLDS, {"quantity": 1.5}),
    Case("quantity true", "POST", HOLDS, {"quantity": True}),
    Case("quantity 101", "POST", HOLDS, {"quantity": 101}),
    Case("section that is not a string", "POST", HOLDS, {"quantity": 1, "section": 7}),
    Case("both seat_ids and quantity", "POST", HOLDS, {"seat_ids": [1], "quantity": 1}),
    Case("neither seat_ids nor quantity", "POST", HOLDS, {}),
    Case("empty seat_ids", "POST", HOLDS, {"seat_ids": []}),
    Case("101 seat ids", "POST", HOLDS, {"seat_ids": list(range(101))}),
    Case("duplicate seat ids", "POST", HOLDS, {"seat_ids": [1, 1]}, codes=("invalid_request", "invalid_seat")),
    Case("seat id 10**9", "POST", HOLDS, {"seat_ids": [10**9]}, codes=("invalid_seat",)),
    Case("seat id one past the last", "POST", HOLDS, {"seat_ids": [SEATS_TOTAL]}, codes=("invalid_seat",)),
    Case("seat id -1", "POST", HOLDS, {"seat_ids": [-1]}, codes=("invalid_seat", "invalid_request")),
    Case("seat id 2**64", "POST", HOLDS, {"seat_ids": [2**64]}, codes=("invalid_seat", "invalid_request")),

    # Unknown things.
    Case("unknown event", "GET", f"/v1/events/{MISSING_ID}", status=404, codes=("not_found",), auth=None),
    Case("seats of an unknown event", "GET", f"/v1/events/{MISSING_ID}/seats", status=404, codes=("not_found",)),
    Case("hold on an unknown event", "POST", f"/v1/events/{MISSING_ID}/holds", {"quantity": 1}, status=404,
         codes=("not_found",)),
    Case("unknown venue", "GET", f"/v1/venues/{MISSING_ID}", status=404, codes=("not_found",), auth=None),
    Case("unknown hold", "GET", f"/v1/holds/{MISSING_ID}", status=404, codes=("not_found",)),
    Case("unknown booking", "GET", f"/v1/bookings/{MISSING_ID}", status=404, codes=("not_found",)),
    Case("unknown route", "GET", "/v1/nothing-here", status=404, codes=("not_found",)),
    # "/" is the web app now (issue 6; tests/api/test_live_seat_map.py); other unknown paths are still 404 JSON.
    Case("unknown non-API path", "GET", "/nothing-here", status=404, codes=("not_found",), auth=None),

    # Methods.
    Case("PUT on the event list", "PUT", "/v1/events", {}, status=405, codes=("method_not_allowed",)),
    Case("DELETE on /v1/me", "DELETE", "/v1/me", status=405, codes=("method_not_allowed",)),
    Case("PATCH on a hold", "PATCH", "/v1/holds/{hold_id}", {}, status=405, codes=("method_not_allowed",)),

    # Content type.
    Case("text/plain body", "POST", "/v1/users", b'{"email": "x@y.z"}', status=415,
         codes=("unsupported_media_type",), auth=None, content_type="text/plain"),
    Case("form-encoded login", "POST", "/v1/sessions", b"email=a%40b.c&password=x", status=415,
         codes=("unsupported_media_type",), auth=None, content_type="application/x-www-form-urlencoded"),

    # Authentication and authorisation.
    Case("me without a token", "GET", "/v1/me", status=401, codes=("unauthenticated",), auth=None),
    Case("hold without a token", "POST", HOLDS, {"quantity": 1}, status=401, codes=("unauthenticated",),
         auth=None),
    Case("bookings without a token", "GET", "/v1/bookings", status=401, codes=("unauthenticated",), auth=None),
    Case("unknown token", "GET", "/v1/me", status=401, codes=("unauthenticated",), auth=None,
         headers={"Authorization": "Bearer not-a-real-token"}),
    Case("not a bearer token", "GET", "/v1/me", status=401, codes=("unauthenticated",), auth=None,
         headers={"Authorization": "Basic YTpi"}),
    Case("venue created by a user", "POST", "/v1/venues", _venue(), status=403, codes=("forbidden",)),
    Case("event created by a user", "POST", "/v1/events", _event, status=403, codes=("forbidden",)),
    Case("venue created anonymously", "POST", "/v1/venues", _venue(), status=401, codes=("unauthenticated",),
         auth=None),

    # Registration and login fields.
    Case("password of 7 bytes", "POST", "/v1/users", lambda _: _user(password="p" * 7), auth=None),
    Case("password of 129 bytes", "POST", "/v1/users", lambda _: _user(password="p" * 129), auth=None),
    Case("email without @", "POST", "/v1/users", lambda _: _user(email="nobody.example.test"), auth=None),
    Case("email with two @", "POST", "/v1/users", lambda _: _user(email="a@b@example.test"), auth=None),
    Case("email of 255 bytes", "POST", "/v1/users",
         lambda _: _user(email="e" * (255 - len("@example.test")) + "@example.test"), auth=None),
    Case("empty name", "POST", "/v1/users", lambda _: _user(name=""), auth=None),
    Case("name of 201 bytes", "POST", "/v1/users", lambda _: _user(name="n" * 201), auth=None),
    Case("missing name", "POST", "/v1/users", lambda _: _user(name=None), auth=None),
    Case("email as a number", "POST", "/v1/users", lambda _: _user(email=42), auth=None),
    Case("login without password", "POST", "/v1/sessions", {"email": "a@example.test"}, auth=None),

    # Event listing.
    Case("limit 0", "GET", "/v1/events?limit=0", auth=None),
    Case("limit 101", "GET", "/v1/events?limit=101", auth=None),
    Case("limit not a number", "GET", "/v1/events?limit=ten", auth=None),
    Case("from not a time", "GET", "/v1/events?from=yesterday", auth=None),
    Case("after not a cursor", "GET", "/v1/events?after=%00%01garbage", auth=None),

    # Venue limits (administrator).
    Case("venue without sections", "POST", "/v1/venues", {"name": "V", "sections": []}, auth="admin"),
    Case("row of 0 seats", "POST", "/v1/venues", _venue(seats=0), auth="admin"),
    Case("row of 1001 seats", "POST", "/v1/venues", _venue(seats=1001), auth="admin"),
    Case("empty row label", "POST", "/v1/venues", _venue(label=""), auth="admin"),
    Case("row label of 17 bytes", "POST", "/v1/venues", _venue(label="L" * 17), auth="admin"),
    Case("accessible seat outside the row", "POST", "/v1/venues", _venue(accessible=[11]), auth="admin"),
    Case("empty venue name", "POST", "/v1/venues", dict(_venue(), name=""), auth="admin"),
    Case("price tier of 33 bytes", "POST", "/v1/venues",
         {"name": "V", "sections": [{"name": "S", "price_tier": "t" * 33, "rows": [{"label": "A", "seats": 1}]}]},
         auth="admin"),
    Case("section of 1001 rows", "POST", "/v1/venues",
         {"name": "V", "sections": [{"name": "S", "price_tier": "t",
                                     "rows": [{"label": f"R{i}", "seats": 1} for i in range(1001)]}]},
         auth="admin"),
    Case("venue of 200,001 seats", "POST", "/v1/venues",
         {"name": "V", "sections": [{"name": "S", "price_tier": "t",
                                     "rows": [{"label": f"R{i}", "seats": 1000} for i in range(200)]},
                                    {"name": "T", "price_tier": "t", "rows": [{"label": "A", "seats": 1}]}]},
         auth="admin"),

    # Event fields (administrator).
    Case("event without a price for a tier", "POST", "/v1/events", lambda c: _event(c, prices={}), auth="admin"),
    Case("negative price", "POST", "/v1/events", lambda c: _event(c, prices={"standard": -1}), auth="admin"),
    Case("price over 100,000,000", "POST", "/v1/events",
         lambda c: _event(c, prices={"standard": 100_000_001}), auth="admin"),
    Case("on_sale_at equal to starts_at", "POST", "/v1/events",
         lambda c: _event(c, on_sale_at=_event(c)["starts_at"]), auth="admin"),
    Case("max_tickets_per_user 0", "POST", "/v1/events", lambda c: _event(c, max_tickets_per_user=0),
         auth="admin"),
    Case("max_tickets_per_user 101", "POST", "/v1/events", lambda c: _event(c, max_tickets_per_user=101),
         auth="admin"),
    Case("lower-case currency", "POST", "/v1/events", lambda c: _event(c, currency="eur"), auth="admin"),
    Case("four-letter currency", "POST", "/v1/events", lambda c: _event(c, currency="EURO"), auth="admin"),
    Case("starts_at not a time", "POST", "/v1/events", lambda c: _event(c, starts_at="next friday"),
         auth="admin"),

    # Checkout (the table's hold must stay ACTIVE through all of these).
    Case("unknown payment method", "POST", CHECKOUT, {"payment_method": "pm_card_bogus"},
         codes=("invalid_payment_method",), headers=_key()),
    Case("missing payment method", "POST", CHECKOUT, {}, codes=("invalid_request", "invalid_payment_method"),
         headers=_key()),
    Case("checkout without Idempotency-Key", "POST", CHECKOUT, {"payment_method": "pm_card_visa"},
         codes=("missing_idempotency_key",)),
    Case("empty Idempotency-Key", "POST", CHECKOUT, {"payment_method": "pm_card_visa"},
         codes=("missing_idempotency_key", "invalid_request"), headers={"Idempotency-Key": ""}),
    Case("Idempotency-Key of 256 bytes", "POST", CHECKOUT, {"payment_method": "pm_card_visa"},
         codes=("missing_idempotency_key", "invalid_request"), headers={"Idempotency-Key": "k" * 256}),
]


def _send(ctx: Context, case: Case) -> Any:
    client = ctx.server.client()
    try:
        token = {"user": ctx.user_token, "admin": ctx.admin_token, None: None}[case.auth]
        path = case.path.format(event_id=ctx.event_id, venue_id=ctx.venue_id, hold_id=ctx.hold_id)
        body = case.body(ctx) if callable(case.body) else case.body
        if isinstance(body, bytes):
            return client.request(case.method, path, data=body, content_type=case.content_type,
                                  headers=case.headers, token=token)
        if body is None:
            return client.request(case.method, path, headers=case.headers, token=token)
        return client.request(case.method, path, body, content_type=case.content_type, headers=case.headers,
                              token=token)
    finally:
        client.close()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_refused_with_an_error_body(ctx: Context, case: Case) -> None:
    resp = _send(ctx, case)
    assert_error(resp, case.status, case.codes)
    if case.status == 405:
        assert resp.headers.get("Allow"), "405 must carry an Allow header"
    assert ctx.server.running(), f"the server died on: {case.name}\n{ctx.server.log_tail()}"


def _post_users_raw(port: int, body: bytes, path: str = "/v1/users") -> Any:
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    return raw_exchange(port, head, body)


def _json_of_size(size: int) -> bytes:
    """A registration body of exactly `size` bytes, with an over-long password (so 400 if it is read)."""
    frame = json.dumps({"email": unique_email(), "password": "", "name": "x"}).encode()
    padding = size - len(frame)
    assert padding > 0
    return frame.replace(b'"password": ""', b'"password": "' + b"p" * padding + b'"')


def test_body_over_one_mebibyte_is_refused(ctx: Context) -> None:
    resp = _post_users_raw(ctx.server.port, _json_of_size(BODY_BYTES_MAX + 1))
    assert resp is not None, "the server closed the connection without answering"
    assert_error(resp, 413, "body_too_large")


def test_body_of_exactly_one_mebibyte_is_read(ctx: Context) -> None:
    # Venues are large (a stadium's layout): the route takes what the transport takes.
    resp = _post_users_raw(ctx.server.port, _json_of_size(BODY_BYTES_MAX), "/v1/venues")
    assert resp is not None, "the server closed the connection without answering"
    assert_error(resp, 401, "unauthenticated")  # read whole, then refused for who sent it


def test_account_forms_take_small_bodies(ctx: Context) -> None:
    # An email, a name and a password fit many times over in 8 KiB; a larger sign-up is refused before
    # any password is hashed.
    assert_error(_post_users_raw(ctx.server.port, _json_of_size(8 * 1024 + 1)), 413, "body_too_large")
    assert_error(_post_users_raw(ctx.server.port, _json_of_size(8 * 1024)), 400, "invalid_request")
    assert_error(_post_users_raw(ctx.server.port, _json_of_size(8 * 1024 + 1), "/v1/sessions"), 413, "body_too_large")


def test_very_long_uri_is_refused(ctx: Context) -> None:
    head = f"GET /v1/events?q={'x' * 65536} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
    resp = raw_exchange(ctx.server.port, head)
    assert resp is not None, "the server closed the connection without answering"
    # Some HTTP parsers bound the request line together with the headers; both answers are documented.
    assert resp.status in (414, 431), describe(resp)
    assert_error(resp, resp.status, ("uri_too_long", "headers_too_large"))


def test_very_large_headers_are_refused(ctx: Context) -> None:
    head = (f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: {'x' * 65536}\r\n"
            "Connection: close\r\n\r\n").encode()
    resp = raw_exchange(ctx.server.port, head)
    assert resp is not None, "the server closed the connection without answering"
    assert_error(resp, 431, "headers_too_large")


def test_unparseable_http_is_refused(ctx: Context) -> None:
    resp = raw_exchange(ctx.server.port, b"THIS IS NOT HTTP\r\n\r\n")
    assert resp is not None, "the server closed the connection without answering"
    assert_error(resp, 400, "bad_request")


def test_json_with_a_charset_parameter_is_accepted(ctx: Context) -> None:
    client = ctx.server.client()
    resp = client.post("/v1/users", _user(), content_type="application/json; charset=utf-8")
    assert resp.status == 201, describe(resp)


def test_refused_checkouts_leave_the_hold_active(ctx: Context) -> None:
    client = ctx.server.client(ctx.user_token)
    assert expect(client.get(f"/v1/holds/{ctx.hold_id}"), 200)["status"] == "ACTIVE"
    assert compact_status(client, ctx.event_id)[HELD_SEAT] == "H"
    assert compact_status(client, ctx.event_id).count("S") == 0


def test_server_is_healthy_after_all_the_bad_input(ctx: Context) -> None:
    assert ctx.server.running(), ctx.server.log_tail()
    resp = ctx.server.client().get("/healthz")
    assert resp.status == 200, describe(resp)
    assert resp.body == {"status": "ok"}
