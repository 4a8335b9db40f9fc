"""The route table (src/http/router.hpp): each route declares who may call it, and the server checks
that once, before the handler runs (docs/api.md, "Who may call a route").

`ticketd routes` prints the table the server serves. These tests probe every route of it over HTTP:
without a session every route not open to anyone answers 401; a buyer's session gets 403 from the
administrators' routes and 403 or 404 from the organizers' (404 where the thing is someone else's);
and the routes open to anyone are exactly the list below, so opening one is a deliberate change here.
"""

from __future__ import annotations

import subprocess

from api_support import Server, metrics_text, new_user, ticketd_bin

# Everything a visitor, a scanner's key fetch, a payment provider or a monitor needs without a session.
OPEN_TO_ANYONE = {
    ("GET", "/healthz"),
    ("GET", "/metrics"),  # its own bearer token (--metrics-token)
    ("POST", "/v1/users"),
    ("POST", "/v1/sessions"),
    ("POST", "/v1/email-verifications"),
    ("POST", "/v1/password-resets"),
    ("POST", "/v1/password-resets/confirm"),
    ("GET", "/v1/venues/{id}"),
    ("GET", "/v1/events"),
    ("GET", "/v1/events/{id}"),
    ("GET", "/v1/events/{id}/seats"),
    ("GET", "/v1/events/{id}/seats/stream"),
    ("GET", "/v1/events/{id}/queue"),
    ("GET", "/v1/events/{id}/queue/{token}"),
    ("GET", "/v1/events/{id}/ticket-keys"),
    ("POST", "/v1/payments/stripe/webhook"),  # signed by Stripe, checked by the handler
    ("POST", "/internal/v1/ledger/{token}"),  # other nodes only: the deployment's peer key, else 404
}
CALLERS = {"anyone", "signed_in", "admin", "manager", "event_manager", "organization_manager"}


def route_table() -> list[dict]:
    out = subprocess.run([str(ticketd_bin()), "routes"], check=True, capture_output=True, text=True, timeout=30)
    routes = []
    for line in out.stdout.splitlines():
        method, pattern, who, limit, body_max, thread = line.split("\t")
        routes.append({"method": method, "pattern": pattern, "who": who, "limit": limit,
                       "body_bytes_max": int(body_max), "thread": thread})
    return routes


def concrete(pattern: str) -> str:
    # An id far above anything the test creates, so a route about one finds nothing of anybody's.
    return pattern.replace("{id}", "999999").replace("{token}", "no-such-token")


def test_every_route_says_who_may_call_it_and_only_the_listed_ones_are_open() -> None:
    routes = route_table()
    assert len(routes) > 60
    assert {r["who"] for r in routes} <= CALLERS
    open_routes = {(r["method"], r["pattern"]) for r in routes if r["who"] == "anyone"}
    assert open_routes == OPEN_TO_ANYONE
    for r in routes:
        if r["pattern"].startswith("/v1/admin/"):
            assert r["who"] == "admin", r
        if r["thread"] == "inline":
            assert r["who"] in ("anyone", "signed_in", "admin"), f"{r}: its check would read the store"


def test_without_a_session_every_route_not_open_to_anyone_answers_401(server: Server) -> None:
    anon = server.client()
    for r in route_table():
        if r["who"] == "anyone":
            continue
        resp = anon.request(r["method"], concrete(r["pattern"]))
        assert resp.status == 401 and resp.error_code == "unauthenticated", (r, resp.status, resp.body)


def test_a_buyer_is_refused_every_administrators_and_organizers_route(server: Server) -> None:
    buyer = new_user(server).client
    for r in route_table():
        if r["who"] in ("anyone", "signed_in"):
            continue
        resp = buyer.request(r["method"], concrete(r["pattern"]))
        allowed = {403} if r["who"] in ("admin", "manager") else {403, 404}
        assert resp.status in allowed, (r, resp.status, resp.body)


def test_the_nodes_seat_calls_are_refused_without_the_peer_key(server: Server) -> None:
    """POST /internal/v1/ledger/{call} runs a seat call on this node's engine for another node
    (docs/architecture.md, "Event ownership"): without the deployment's peer key it is not there, on
    every backend, whatever the key tried."""
    anon = server.client()
    body = {"event_id": 1, "hold_id": 0, "booking_id": 0, "user_id": 1, "now": 0}
    for headers in ({}, {"X-Ticketd-Peer-Key": "guess"}, {"X-Ticketd-Peer-Key": ""}):
        resp = anon.request("POST", "/internal/v1/ledger/seat_map", body, headers=headers)
        assert resp.status == 404 and resp.error_code == "not_found", (headers, resp.status, resp.body)


def test_invented_methods_share_one_metrics_label(server: Server) -> None:
    """Each unrouted answer was counted under "<method> unmatched": a client sending random methods
    grew the metrics (and the scrape) without bound."""
    anon = server.client()
    for n in range(5):
        resp = anon.request(f"BREW{n}", "/v1/no-such-route")
        assert resp.status in (400, 404, 405), resp
    text = metrics_text(server.port)
    assert "BREW" not in text
    assert 'route="OTHER unmatched"' in text
