"""Security review, black-box (docs/security.md): security headers and the CORS policy, object-level
authorisation and mass assignment, and no secret in the server's log of a full run at trace level."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
import uuid
from pathlib import Path

import pytest

from api_support import (ADMIN_PASSWORD, BODY_BYTES_MAX, USER_PASSWORD, Client, Server, UserPool, admin_client,
                         assert_error, checkout, create_event, create_venue, describe, expect, free_port, grid,
                         hold_best, hold_seats, login, make_event, metrics_text, new_user, raw_exchange, register,
                         unique_email)
from fake_stripe import API_KEY, WEBHOOK_SECRET, FakeStripe

WAIT_S = 20.0


def _assert_security_headers(resp, what: str) -> None:
    h = resp.headers
    assert h.get("X-Content-Type-Options") == "nosniff", f"{what}: {dict(h)}"
    assert h.get("X-Frame-Options") == "DENY", f"{what}: {dict(h)}"
    assert h.get("Referrer-Policy") == "no-referrer", f"{what}: {dict(h)}"
    csp = h.get("Content-Security-Policy") or ""
    assert "frame-ancestors 'none'" in csp, f"{what}: CSP {csp!r}"
    # 'wasm-unsafe-eval' (the scanner's QR decoder) compiles WebAssembly only; JavaScript eval stays off.
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp, f"{what}: CSP {csp!r}"


# --- headers and CORS ----------------------------------------------------------------------------------


def test_every_kind_of_response_carries_the_security_headers(anon: Client, users: UserPool) -> None:
    (user,) = users.take(1)
    _assert_security_headers(anon.get("/v1/events"), "an API read")
    _assert_security_headers(anon.get("/v1/no-such-route"), "a 404")
    _assert_security_headers(anon.post("/v1/sessions", data=b"{", content_type="application/json"), "a 400")
    _assert_security_headers(user.client.get("/v1/me"), "an authenticated read")
    _assert_security_headers(anon.request("PUT", "/v1/events"), "a 405")


def test_the_transports_own_refusals_carry_the_security_headers(server: Server) -> None:
    """400, 413, 414 and 431 are answered by the transport before any route runs; they once went out
    without the headers docs/security.md promises on every response."""
    port = server.port
    bad = raw_exchange(port, b"THIS IS NOT HTTP\r\n\r\n")
    big = json.dumps({"email": "x@example.com", "password": "p" * (BODY_BYTES_MAX + 1)}).encode()
    too_large = raw_exchange(port, (f"POST /v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                                    f"Content-Length: {len(big)}\r\nConnection: close\r\n\r\n").encode(), big)
    long_uri = raw_exchange(port, f"GET /v1/events?q={'x' * 65536} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                  "Connection: close\r\n\r\n".encode())
    long_headers = raw_exchange(port, f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: {'x' * 65536}\r\n"
                                      "Connection: close\r\n\r\n".encode())
    for resp, statuses, what in [(bad, (400,), "a malformed request"), (too_large, (413,), "a body over 1 MiB"),
                                 (long_uri, (414, 431), "a long target"), (long_headers, (431,), "long headers")]:
        assert resp is not None, f"{what}: no answer"
        assert resp.status in statuses, describe(resp)
        _assert_security_headers(resp, what)


def test_metrics_answer_only_to_the_operators_token(server: Server, users: UserPool, tmp_path: Path) -> None:
    """/metrics was public: failed-login counts, settlements and queue figures for anyone."""
    (user,) = users.take(1)
    assert_error(Client(server.port).get("/metrics"), 401, "unauthenticated")
    assert_error(Client(server.port, "not-the-token").get("/metrics"), 401, "unauthenticated")
    assert_error(user.client.get("/metrics"), 401, "unauthenticated")  # a user's session is not the token
    assert "ticketd_http_requests_total" in metrics_text(server.port)
    # No token: not on the public listener at all; --metrics-listen serves it on an address of its own.
    metrics_port = free_port()
    untokened = Server(tmp_path / "data", hold_ttl_s=600, log_path=tmp_path / "server.log",
                       extra_env={"TICKETD_METRICS_TOKEN": "", "TICKETD_METRICS_LISTEN": f"127.0.0.1:{metrics_port}"})
    untokened.start()
    try:
        assert_error(Client(untokened.port).get("/metrics"), 404, "not_found")
        assert expect(Client(untokened.port).get("/healthz"), 200)["status"] == "ok"
        private = Client(metrics_port)
        scraped = private.get("/metrics")
        assert scraped.status == 200 and "ticketd_http_requests_total" in scraped.body
        assert scraped.headers.get("X-Content-Type-Options") == "nosniff"
        assert_error(private.get("/v1/events"), 404, "not_found")  # that address serves metrics alone
        assert expect(private.get("/healthz"), 200)["status"] == "ok"
    finally:
        untokened.stop()  # asserts exit code 0: the second listener stops with the first


def test_the_web_app_is_served_under_a_strict_csp_it_can_live_with(anon: Client) -> None:
    page = anon.get("/")
    if page.status == 404:
        pytest.skip("no web app next to this binary")
    assert page.status == 200
    _assert_security_headers(page, "index.html")
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp, csp
    scanner = anon.get("/scan")
    assert scanner.status == 200 and scanner.headers["Content-Security-Policy"] == csp
    for name, html in (("index.html", page.body), ("scan.html", scanner.body)):
        # The CSP forbids inline code: the page must have none, or the browser would drop it.
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), f"inline <script> in {name}"
        assert "<style" not in html and " style=" not in html, f"inline style in {name}"
        assert not re.search(r"\son[a-z]+=", html), f"inline event handler in {name}"
    _assert_security_headers(anon.get("/js/app.js"), "a script file")
    wasm = anon.get("/vendor/zxing/reader/zxing_reader.wasm")
    assert wasm.status == 200 and wasm.headers["Content-Type"] == "application/wasm", wasm.headers


def test_cross_origin_calls_are_refused_by_default(anon: Client) -> None:
    preflight = anon.request("OPTIONS", "/v1/events/1/holds", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert_error(preflight, 403, "cors_origin_denied")
    assert "Access-Control-Allow-Origin" not in preflight.headers
    simple = anon.get("/v1/events", headers={"Origin": "https://evil.example"})
    assert simple.status == 200 and "Access-Control-Allow-Origin" not in simple.headers


def test_a_listed_origin_may_call_the_api_and_no_other(tmp_path: Path) -> None:
    server = Server(tmp_path / "data", hold_ttl_s=600, log_path=tmp_path / "server.log",
                    extra_env={"TICKETD_CORS_ORIGINS": "https://shop.example,https://m.shop.example"})
    server.start()
    try:
        client = server.client()
        ok = client.request("OPTIONS", "/v1/events/1/holds", headers={
            "Origin": "https://shop.example", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, idempotency-key"})
        assert ok.status == 204, ok
        assert ok.headers["Access-Control-Allow-Origin"] == "https://shop.example"
        assert "POST" in ok.headers["Access-Control-Allow-Methods"]
        allowed_headers = ok.headers["Access-Control-Allow-Headers"]
        for name in ("authorization", "content-type", "idempotency-key", "x-access-token"):
            assert name in allowed_headers, allowed_headers
        assert "Access-Control-Allow-Credentials" not in ok.headers  # bearer tokens, never cookies
        assert "origin" in ok.headers.get("Vary", "").lower()
        read = client.get("/v1/events", headers={"Origin": "https://m.shop.example"})
        assert read.headers["Access-Control-Allow-Origin"] == "https://m.shop.example"
        assert "retry-after" in read.headers["Access-Control-Expose-Headers"]
        denied = client.request("OPTIONS", "/v1/events", headers={
            "Origin": "https://shop.example.evil.example", "Access-Control-Request-Method": "GET"})
        assert_error(denied, 403, "cors_origin_denied")
        other = client.get("/v1/events", headers={"Origin": "http://shop.example"})  # scheme differs
        assert "Access-Control-Allow-Origin" not in other.headers
    finally:
        server.stop()


# --- object-level authorisation and mass assignment ----------------------------------------------------


def test_another_users_hold_booking_and_access_token_are_out_of_reach(admin: Client, users: UserPool) -> None:
    ann, bob = users.take(2)
    event = make_event(admin, [grid("Main", "standard", 1, 6)])
    hold = expect(hold_seats(ann.client, event["id"], [0]), 201)
    paid_hold = expect(hold_seats(ann.client, event["id"], [1]), 201)
    key = uuid.uuid4().hex
    booking = expect(checkout(ann.client, paid_hold["id"], idempotency_key=key), 201)
    # An Idempotency-Key is scoped to its user: Bob's checkout with Ann's key is his own, not a replay of hers.
    bobs_hold = expect(hold_seats(bob.client, event["id"], [2]), 201)
    bobs = expect(checkout(bob.client, bobs_hold["id"], idempotency_key=key), 201)
    assert bobs["id"] != booking["id"] and bobs["seat_ids"] == [2]
    for method, path in (("GET", f"/v1/holds/{hold['id']}"), ("DELETE", f"/v1/holds/{hold['id']}"),
                         ("GET", f"/v1/bookings/{booking['id']}"),
                         ("POST", f"/v1/bookings/{booking['id']}/cancel")):
        assert_error(bob.client.request(method, path), 404, "not_found")
    assert_error(checkout(bob.client, hold["id"]), 404, "not_found")
    assert_error(bob.client.get(f"/v1/holds/{hold['id']}", token=None), 401, "unauthenticated")
    assert expect(ann.client.get(f"/v1/holds/{hold['id']}"), 200)["status"] == "ACTIVE"
    assert expect(ann.client.get(f"/v1/bookings/{booking['id']}"), 200)["status"] == "CONFIRMED"


def test_ordinary_users_cannot_use_administrator_routes(admin: Client, users: UserPool) -> None:
    (user,) = users.take(1)
    event = make_event(admin, [grid("Main", "standard", 1, 2)])
    attempts = [
        ("POST", "/v1/venues", {"name": "Mine", "sections": [{"name": "A", "price_tier": "t",
                                                             "rows": [{"label": "A", "seats": 1}]}]}),
        ("POST", "/v1/events", {"name": "Mine", "venue_id": event["venue_id"], "currency": "USD",
                                "starts_at": "2030-01-01T00:00:00Z", "on_sale_at": "2020-01-01T00:00:00Z",
                                "prices": {"standard": 1}}),
        ("PUT", f"/v1/events/{event['id']}/waiting-room", {"enabled": True}),
        ("POST", "/v1/admin/users:bulk", {"count": 1, "email_prefix": "x"}),
        ("GET", "/v1/admin/notifications", None),
    ]
    for method, path, body in attempts:
        resp = user.client.request(method, path, body) if body is not None else user.client.request(method, path)
        assert_error(resp, 403, "forbidden")


def test_fields_a_client_may_not_set_are_ignored_or_refused(server: Server, admin: Client) -> None:
    anon = server.client()
    email = unique_email()
    created = expect(anon.post("/v1/users", {"email": email, "password": USER_PASSWORD, "name": "Mallory",
                                             "role": "admin", "id": 1}), 201)
    assert created["role"] == "user" and created["id"] != 1
    token = expect(login(anon, email, USER_PASSWORD), 201)["token"]
    mallory = server.client(token)
    assert expect(mallory.get("/v1/me"), 200)["role"] == "user"
    assert_error(mallory.request("PATCH", "/v1/users/me", {"role": "admin"}), 400, "invalid_request")
    assert_error(mallory.request("PATCH", "/v1/users/me", {"email": "admin@ticketd.test"}), 400, "invalid_request")
    assert expect(mallory.get("/v1/me"), 200)["email"] == email

    event = make_event(admin, [grid("Main", "standard", 1, 4)], prices={"standard": 5000})
    victim = new_user(server)
    hold = expect(mallory.post(f"/v1/events/{event['id']}/holds", {
        "seat_ids": [0], "price": 1, "total_amount": 1, "status": "SOLD", "user_id": victim.id,
        "expires_at": "2099-01-01T00:00:00Z"}), 201)
    assert hold["total_amount"] == 5000 and hold["status"] == "ACTIVE"
    assert expect(mallory.get(f"/v1/holds/{hold['id']}"), 200)["id"] == hold["id"]  # Mallory's, not the victim's
    assert_error(victim.client.get(f"/v1/holds/{hold['id']}"), 404, "not_found")
    assert dt.datetime.fromisoformat(hold["expires_at"].replace("Z", "+00:00")).year < 2099
    booking = expect(mallory.post(f"/v1/holds/{hold['id']}/checkout",
                                  {"payment_method": "pm_card_visa", "amount": 1, "status": "CONFIRMED"},
                                  headers={"Idempotency-Key": uuid.uuid4().hex}), 201)
    assert booking["total_amount"] == 5000


# --- no secret in the log ------------------------------------------------------------------------------


def test_a_full_run_at_trace_level_logs_no_secret(tmp_path: Path) -> None:
    port = free_port()
    fake = FakeStripe(f"http://127.0.0.1:{port}/v1/payments/stripe/webhook", tmp_path / "fake-stripe.log")
    fake.start()
    queue_secret = "queue-secret-" + uuid.uuid4().hex
    server = Server(tmp_path / "data", hold_ttl_s=600, log_path=tmp_path / "server.log", port=port,
                    log_level="trace", extra_env={
                        "TICKETD_STRIPE_SECRET_KEY": API_KEY,
                        "TICKETD_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
                        "TICKETD_STRIPE_API_BASE": fake.api_base,
                        "TICKETD_QUEUE_SECRET": queue_secret,
                        "TICKETD_QUEUE_TICK_MS": "100",
                    })
    secrets: dict[str, str] = {"admin password": ADMIN_PASSWORD, "stripe key": API_KEY,
                               "webhook secret": WEBHOOK_SECRET, "queue secret": queue_secret}
    server.start()
    try:
        admin = admin_client(server)
        secrets["admin token"] = admin.token
        password = "s3cret-" + uuid.uuid4().hex
        email = unique_email()
        anon = server.client()
        expect(register(anon, email, password), 201)
        assert_error(login(anon, email, "wrong-" + password), 401, "invalid_credentials")
        token = expect(login(anon, email, password), 201)["token"]
        secrets.update({"password": password, "wrong password": "wrong-" + password, "session token": token})
        buyer = server.client(token)
        # A plain sale through the Stripe adapter: hold, pay, webhook.
        event = make_event(admin, [grid("Main", "std", 1, 10)], prices={"std": 2500})
        hold = expect(hold_seats(buyer, event["id"], [0]), 201)
        booking = expect(checkout(buyer, hold["id"], "pm_card_visa"), 201)
        assert booking["status"] == "CONFIRMED"
        deadline = time.monotonic() + WAIT_S
        while fake.stats()["webhooks_pending"] and time.monotonic() < deadline:
            time.sleep(0.1)
        # A queued sale: queue token, access token, hold with it.
        venue = create_venue(admin, [grid("Q", "std", 1, 10)])
        queued = create_event(admin, venue, prices={"std": 2500},
                              on_sale_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=60))
        expect(admin.request("PUT", f"/v1/events/{queued['id']}/waiting-room",
                             {"enabled": True, "batch_size": 5, "release_interval_s": 1, "active_window_s": 60}), 200)
        place = expect(buyer.post(f"/v1/events/{queued['id']}/queue", {}), 201)
        secrets["queue token"] = place["queue_token"]
        access = None
        deadline = time.monotonic() + WAIT_S
        while access is None and time.monotonic() < deadline:
            status = expect(buyer.get(f"/v1/events/{queued['id']}/queue/{place['queue_token']}"), 200)
            access = status.get("access_token")
            time.sleep(0.2)
        assert access, "not admitted"
        secrets["access token"] = access
        expect(hold_best(buyer, queued["id"], 1, headers={"X-Access-Token": access}), 201)
        expect(buyer.delete("/v1/sessions/current"), 204)
        charges = fake.charges()
        for i, charge in enumerate(charges):
            for key in ("client_secret",):
                if charge.get(key):
                    secrets[f"charge {i} {key}"] = charge[key]
    finally:
        server.stop()
        fake.stop()
    log = server.log_path.read_text(errors="replace")
    assert "level=debug" in log or "level=trace" in log, "the server did not log at trace level"
    leaked = [name for name, value in secrets.items() if value and value in log]
    assert not leaked, f"secrets in the server log: {leaked}"
