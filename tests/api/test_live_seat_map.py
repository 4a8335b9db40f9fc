"""The live seat map (GET /v1/events/{id}/seats/stream, Server-Sent Events), the cacheable venue layout
(strong ETag, If-None-Match -> 304) and the web app's static files, over real HTTP."""

from __future__ import annotations

import json
import re
import socket
import time

import pytest

from api_support import (HTTP_TIMEOUT_S, Client, assert_error, checkout, compact_status, expect, grid,
                         hold_seats, make_event, metrics_text, raw_exchange)

EVENT_WAIT_S = 5.0  # bound on waiting for one SSE event; a hang fails instead of blocking the suite


class SseStream:
    """A raw SSE connection: sends the request, checks the head, then yields parsed events."""

    def __init__(self, port: int, path: str, headers: dict[str, str] | None = None) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=HTTP_TIMEOUT_S)
        lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", "Accept: text/event-stream"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        self.head = head.decode()
        self.status = int(self.head.split(" ", 2)[1])

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("the server closed the stream")
        self.buffer += chunk

    def next_event(self, timeout_s: float = EVENT_WAIT_S) -> dict:
        """The next event block that carries data (comments and retry-only blocks are skipped)."""
        deadline = time.monotonic() + timeout_s
        while True:
            while b"\n\n" not in self.buffer:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no SSE event within {timeout_s} s")
                self.sock.settimeout(left)
                self._fill()
            block, self.buffer = self.buffer.split(b"\n\n", 1)
            event: dict = {"comments": []}
            for line in block.decode().split("\n"):
                if line.startswith(":"):
                    event["comments"].append(line[1:].strip())
                    continue
                field, _, value = line.partition(": ")
                event[field] = value
            if "data" in event:
                event["data"] = json.loads(event["data"])
                return event

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def small_event(admin: Client) -> dict:
    return make_event(admin, [grid("Floor", "floor", 2, 10)])


def test_stream_starts_with_a_snapshot_then_sends_each_change_in_version_order(anon, users, small_event):
    (ann,) = users.take(1)
    event_id = small_event["id"]
    stream = SseStream(anon.port, f"/v1/events/{event_id}/seats/stream")
    try:
        assert stream.status == 200
        assert "Content-Type: text/event-stream" in stream.head
        assert "Content-Length" not in stream.head
        snap = stream.next_event()
        assert snap["event"] == "snapshot"
        assert snap["data"]["status"] == compact_status(anon, event_id)
        version = snap["data"]["version"]
        assert snap["id"].endswith(f"-{version}")

        hold = expect(hold_seats(ann.client, event_id, [3, 4]), 201)
        held = stream.next_event()
        assert held["event"] == "seats"
        assert held["data"] == {"event_id": event_id, "version": version + 1, "status": "HELD", "seat_ids": [3, 4]}
        assert held["id"].endswith(f"-{version + 1}")

        expect(checkout(ann.client, hold["id"]), 201)
        sold = stream.next_event()
        assert sold["data"]["status"] == "SOLD" and sorted(sold["data"]["seat_ids"]) == [3, 4]
        assert sold["data"]["version"] == version + 2

        hold2 = expect(hold_seats(ann.client, event_id, [7]), 201)
        assert stream.next_event()["data"]["status"] == "HELD"
        assert ann.client.delete(f"/v1/holds/{hold2['id']}").status == 204
        freed = stream.next_event()
        assert freed["data"]["status"] == "AVAILABLE" and freed["data"]["seat_ids"] == [7]
        assert compact_status(anon, event_id)[3:5] == "SS"
    finally:
        stream.close()


def test_declined_checkout_frees_the_seats_on_the_stream(anon, users, small_event):
    (ann,) = users.take(1)
    event_id = small_event["id"]
    stream = SseStream(anon.port, f"/v1/events/{event_id}/seats/stream")
    try:
        stream.next_event()
        hold = expect(hold_seats(ann.client, event_id, [0]), 201)
        assert stream.next_event()["data"]["status"] == "HELD"
        assert_error(checkout(ann.client, hold["id"], "pm_card_chargeDeclined"), 402, "payment_failed")
        freed = stream.next_event()
        assert freed["data"]["status"] == "AVAILABLE" and freed["data"]["seat_ids"] == [0]
    finally:
        stream.close()


def test_reconnecting_with_last_event_id_gets_only_what_was_missed(anon, users, small_event):
    (ann,) = users.take(1)
    event_id = small_event["id"]
    path = f"/v1/events/{event_id}/seats/stream"
    first = SseStream(anon.port, path)
    try:
        first.next_event()
        expect(hold_seats(ann.client, event_id, [1]), 201)
        last_id = first.next_event()["id"]
    finally:
        first.close()
    expect(hold_seats(ann.client, event_id, [2]), 201)
    expect(hold_seats(ann.client, event_id, [5, 6]), 201)
    again = SseStream(anon.port, path, {"Last-Event-ID": last_id})
    try:
        a = again.next_event()
        b = again.next_event()
        assert (a["event"], a["data"]["seat_ids"]) == ("seats", [2])
        assert (b["event"], b["data"]["seat_ids"]) == ("seats", [5, 6])
    finally:
        again.close()
    # An id from another process (epoch) cannot be resumed: a fresh snapshot instead.
    other = SseStream(anon.port, path, {"Last-Event-ID": "1-1"})
    try:
        snap = other.next_event()
        assert snap["event"] == "snapshot" and snap["data"]["status"][1:3] == "HH"
    finally:
        other.close()


def test_stream_refuses_bad_input_with_json_errors(anon, small_event):
    event_id = small_event["id"]
    assert_error(anon.get(f"/v1/events/{event_id}/seats/stream", headers={"Last-Event-ID": "garbage"}), 400,
                 "invalid_request")
    assert_error(anon.get(f"/v1/events/{event_id}/seats/stream", headers={"Last-Event-ID": "1-" + "9" * 70}), 400,
                 "invalid_request")
    assert_error(anon.get("/v1/events/999999/seats/stream"), 404, "not_found")
    assert_error(anon.get("/v1/events/abc/seats/stream"), 404, "not_found")
    assert_error(anon.post(f"/v1/events/{event_id}/seats/stream", {}), 405, "method_not_allowed")


def test_idle_stream_gets_heartbeats_and_metrics_count_subscribers(server, anon, small_event):
    # The server's heartbeat interval is 15 s by default; here we only check the subscriber gauge.
    stream = SseStream(anon.port, f"/v1/events/{small_event['id']}/seats/stream")
    try:
        stream.next_event()
        metrics = metrics_text(anon.port)
        subscribers = [line for line in metrics.splitlines() if line.startswith("ticketd_seat_stream_subscribers ")]
        assert subscribers and int(subscribers[0].split()[1]) >= 1
        assert "ticketd_streams_open" in metrics
    finally:
        stream.close()


def test_venue_layout_has_a_strong_etag_and_long_cache_lifetime(anon, admin, small_event):
    path = f"/v1/venues/{small_event['venue_id']}"
    first = anon.get(path)
    assert first.status == 200
    etag = first.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"') and not etag.startswith("W/")
    assert "max-age=31536000" in first.headers["Cache-Control"]
    assert "immutable" in first.headers["Cache-Control"]
    assert anon.get(path).headers["ETag"] == etag, "the same layout must keep its tag"
    for header in (etag, f"W/{etag}", f'"nope", {etag}', "*"):
        cached = anon.get(path, headers={"If-None-Match": header})
        assert cached.status == 304, header
        assert cached.body in ("", b"", None)
        assert cached.headers["ETag"] == etag
    assert anon.get(path, headers={"If-None-Match": '"other"'}).status == 200
    other = make_event(admin, [grid("Floor", "floor", 2, 11)])
    assert anon.get(f"/v1/venues/{other['venue_id']}").headers["ETag"] != etag


def test_web_app_is_served_at_root_with_safe_headers(anon):
    index = anon.get("/")
    assert index.status == 200
    assert index.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "default-src 'self'" in index.headers["Content-Security-Policy"]
    assert index.headers["X-Content-Type-Options"] == "nosniff"
    assert index.headers["Cache-Control"] == "no-cache"
    found = re.search(r'<script type="module" src="/v/([0-9a-f]{12})/js/app\.js">', index.body)
    assert found, "the entry page loads the app under its version"
    version = found.group(1)
    assert f'href="/v/{version}/app.css"' in index.body
    script = anon.get(f"/v/{version}/js/app.js")
    assert script.status == 200 and script.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert script.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert anon.get(f"/v/{version}/app.css").headers["Content-Type"] == "text/css; charset=utf-8"
    # The same file unversioned, or under a version that is not the current one: served, never kept.
    plain = anon.get("/js/app.js")
    assert plain.body == script.body and plain.headers["Cache-Control"] == "no-cache"
    assert anon.get("/v/000000000000/js/app.js").headers["Cache-Control"] == "no-cache"
    etag = script.headers["ETag"]
    assert anon.get("/js/app.js", headers={"If-None-Match": etag}).status == 304
    assert re.search(r'src="/v/[0-9a-f]{12}/js/scan\.js"', anon.get("/scan").body)


@pytest.mark.parametrize("target", [
    "/../CMakeLists.txt", "/js/../../CMakeLists.txt", "/%2e%2e/CMakeLists.txt", "/js/%2e%2e/index.html",
    "/.gitignore", "/js/.hidden.js", "/index.html%00.js", "/nope.html", "/js", "/js/", "//etc/passwd",
    "/index.html/x", "/README.md", "/" + "a/" * 20 + "x.js",
])
def test_static_files_never_leave_the_web_root(server, target):
    resp = raw_exchange(server.port, f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    assert resp is not None and resp.status in (400, 404), (target, resp)
    assert resp.error_code in ("not_found", "bad_request"), (target, resp)
