#!/usr/bin/python3
"""Writes the seed corpora under fuzz/corpus/<target>/ (committed; rerun after changing a harness's
input layout). A handful of valid inputs and edge cases per target; the fuzzers grow the rest in a
temporary directory (scripts/fuzz), never here."""
import base64
import hashlib
import hmac
import json
import os
import pathlib
import struct

ROOT = pathlib.Path(__file__).resolve().parent / "corpus"


def write(target, name, data):
    d = ROOT / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def http(method, target, headers=(), body=b""):
    head = f"{method} {target} HTTP/1.1\r\nHost: fuzz\r\n"
    for h in headers:
        head += h + "\r\n"
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


# ---- http_request_fuzz: raw requests ("Bearer admin" / "Bearer buyer" stand for live sessions)
write("http_request_fuzz", "healthz", http("GET", "/healthz"))
write("http_request_fuzz", "events_query", http("GET", "/v1/events?limit=5&q=Sale&from=2020-01-01T00:00:00Z"))
write("http_request_fuzz", "register", http("POST", "/v1/users", body=b'{"email":"a@b.test","password":"longenough1","name":"A"}'))
write("http_request_fuzz", "venue_admin", http("POST", "/v1/venues", ["Authorization: Bearer admin"],
      json.dumps({"name": "V", "sections": [{"name": "S", "price_tier": "A", "rows": [{"label": "1", "seats": 4, "accessible": [1]}]}]}).encode()))
write("http_request_fuzz", "hold_buyer", http("POST", "/v1/events/1/holds", ["Authorization: Bearer buyer"], b'{"quantity":2}'))
write("http_request_fuzz", "seats_compact", http("GET", "/v1/events/1/seats?format=compact&section=0", ["Authorization: Bearer buyer"]))
write("http_request_fuzz", "queue_join", http("POST", "/v1/events/2/queue", ["Authorization: Bearer buyer"]))
write("http_request_fuzz", "head_event", http("HEAD", "/v1/events/1"))
write("http_request_fuzz", "chunked", b"POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      b"Transfer-Encoding: chunked\r\n\r\n5\r\n{\"ema\r\n0\r\n\r\n")
write("http_request_fuzz", "pipelined", http("GET", "/v1/events/1") + http("GET", "/v1/me", ["Authorization: Bearer buyer"]) + http("GET", "/metrics"))
write("http_request_fuzz", "expect_continue", http("PATCH", "/v1/users/me", ["Authorization: Bearer buyer", "Expect: 100-continue"], b'{"phone":"+4912345"}'))
write("http_request_fuzz", "http10", b"GET /v1/events/1/seats HTTP/1.0\r\n\r\n")
write("http_request_fuzz", "bad_target", b"GET /%zz/../?a=%GG HTTP/1.1\r\nHost: x\r\n\r\n")
write("http_request_fuzz", "huge_length", b"POST /v1/users HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n")
write("http_request_fuzz", "wrong_method", http("DELETE", "/v1/events"))

# ---- api_json_fuzz: byte 0 = endpoint index (see kEndpoints), byte 1 = flags (1 admin, 2 access token)
ENDPOINTS = ["users", "sessions", "bulk", "venues", "events", "room_queued", "room_open", "hold_open",
             "hold_queued", "checkout", "patch_me", "webhook_signed", "webhook_unsigned", "queue_join",
             "q_events", "q_seats", "q_bookings", "q_notifications"]
bodies = {
    "users": (0, {"email": "new@fuzz.test", "password": "password-123", "name": "New"}),
    "sessions": (0, {"email": "buyer@fuzz.test", "password": "buyer-password-1"}),
    "bulk": (1, {"email_prefix": "u", "email_domain": "fuzz.test", "first": 0, "count": 3, "name": "Bulk"}),
    "venues": (1, {"name": "Hall", "sections": [{"name": "S", "price_tier": "A", "rows": [
        {"label": "A", "seats": 3, "accessible": [1], "companion": [2], "restricted_view": [3]}]}]}),
    "events": (1, {"name": "E", "venue_id": 1, "starts_at": "2030-01-01T20:00:00Z", "on_sale_at": "2020-01-01T00:00:00Z",
                   "currency": "EUR", "prices": {"A": 100, "B": 50}, "max_tickets_per_user": 4,
                   "waiting_room": {"enabled": True, "batch_size": 10}}),
    "room_queued": (1, {"enabled": True, "batch_size": 5, "release_interval_s": 1}),
    "room_open": (1, {"enabled": False}),
    "hold_open": (0, {"seat_ids": [0, 1, 2]}),
    "hold_queued": (2, {"quantity": 2, "section": "Floor"}),
    "checkout": (0, {"payment_method": "pm_card_visa"}),
    "patch_me": (0, {"phone": "+15550100", "notify": {"email": True}}),
    "webhook_signed": (0, {"id": "evt_1", "type": "payment_intent.succeeded", "data": {"object": {
        "id": "pi_1", "object": "payment_intent", "amount": 5000, "status": "succeeded", "metadata": {"booking_id": "1"}}}}),
    "webhook_unsigned": (0, {"id": "evt_2", "type": "charge.refunded"}),
    "queue_join": (0, {}),
}
for i, name in enumerate(ENDPOINTS):
    if name.startswith("q_"):
        query = {"q_events": "limit=2&after=abc&from=2020-01-01T00:00:00Z", "q_seats": "format=compact&section=1",
                 "q_bookings": "limit=1&include_failed=true&after=5", "q_notifications": "status=dead&limit=3&after=1"}[name]
        write("api_json_fuzz", name, bytes([i, 1]) + query.encode())
        continue
    flags, body = bodies[name]
    write("api_json_fuzz", name, bytes([i, flags]) + json.dumps(body).encode())
write("api_json_fuzz", "deep_nesting", bytes([3, 1]) + b"[" * 40 + b"]" * 40)
write("api_json_fuzz", "not_object", bytes([7, 0]) + b'["seat_ids"]')
write("api_json_fuzz", "big_numbers", bytes([7, 0]) + b'{"quantity":1e308,"seat_ids":[-1,9223372036854775807]}')
write("api_json_fuzz", "checkout_card_declined", bytes([9, 0]) + b'{"payment_method":"pm_card_chargeDeclined"}')

# ---- stripe_webhook_fuzz: byte 0 odd = body signed by the harness; even = "<header>\n<body>" at t=NOW
NOW = 1_800_000_000
SECRET = b"whsec_fuzzing_fixture_secret"
events = {
    "succeeded": {"id": "evt_1", "type": "payment_intent.succeeded", "data": {"object": {
        "id": "pi_1", "object": "payment_intent", "amount": 5000, "status": "succeeded", "metadata": {"booking_id": "42"}}}},
    "failed": {"id": "evt_2", "type": "payment_intent.payment_failed", "data": {"object": {
        "id": "pi_2", "status": "requires_payment_method", "amount": 100,
        "last_payment_error": {"code": "card_declined", "decline_code": "insufficient_funds", "message": "no"},
        "metadata": {"booking_id": "7"}}}},
    "refunded": {"id": "evt_3", "type": "charge.refunded", "data": {"object": {
        "id": "ch_1", "payment_intent": "pi_1", "amount": 5000, "amount_refunded": 5000, "status": "succeeded",
        "failure_code": None, "metadata": {}}}},
    "other": {"id": "evt_4", "type": "customer.created", "data": {"object": {"id": "cus_1"}}},
}
for name, ev in events.items():
    body = json.dumps(ev).encode()
    write("stripe_webhook_fuzz", "signed_" + name, b"\x01" + body)
    mac = hmac.new(SECRET, str(NOW).encode() + b"." + body, hashlib.sha256).hexdigest()
    write("stripe_webhook_fuzz", "header_" + name, b"\x00" + f"t={NOW},v0=abc,v1={'0' * 64},v1={mac}".encode() + b"\n" + body)
write("stripe_webhook_fuzz", "header_stale", b"\x00t=1,v1=" + b"a" * 64 + b"\n{}")
write("stripe_webhook_fuzz", "header_two_t", b"\x00t=1,t=2,v1=zz\n{}")
write("stripe_webhook_fuzz", "signed_bad_booking", b"\x01" + json.dumps({"id": "e", "type": "payment_intent.succeeded", "data": {
    "object": {"id": "pi", "amount": -1, "metadata": {"booking_id": "-5"}}}}).encode())


# ---- tokens_fuzz: byte 0 % 3 = mode (0 decode bytes, 1 claims round trip, 2 over HTTP)
def token(secret, kind, event, user, expires_ms):
    key = hashlib.sha256(secret).digest()
    key_id = hashlib.sha256(key).digest()[:4]
    payload = bytes([1, ord(kind)]) + key_id + struct.pack(">qqq", event, user, expires_ms)
    mac = hmac.new(key, payload, hashlib.sha256).digest()
    b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=")
    return b64(payload) + b"." + b64(mac)


first = b"fuzz-token-secret-0123456789abcdef"
older = b"fuzz-older-secret-0123456789abcdef"
write("tokens_fuzz", "access_valid", b"\x00" + token(first, "A", 1, 1, 1_900_000_000_000))
write("tokens_fuzz", "access_older_key", b"\x00" + token(older, "A", 1, 1, 1_900_000_000_000))
write("tokens_fuzz", "queue_token", b"\x00" + token(first, "Q", 1, 2, 1_700_000_000_000))
write("tokens_fuzz", "unknown_kind", b"\x00" + token(first, "Z", 1, 1, 1_900_000_000_000))
write("tokens_fuzz", "no_dot", b"\x00AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
write("tokens_fuzz", "claims_a", b"\x01" + bytes(range(48)))
write("tokens_fuzz", "claims_b", b"\x04" + b"\xff" * 48)
write("tokens_fuzz", "session_guess", b"\x02" + b"0123456789abcdef0123456789abcdef")
write("tokens_fuzz", "session_odd", b"\x02" + b"..%2F\x00\r\nx")
write("tokens_fuzz", "http_access_other_key", b"\x02" + token(first, "A", 2, 1, 1_900_000_000_000))

# ---- layout_fuzz: FuzzedDataProvider bytes; a few shapes and sizes to start from
for i, n in enumerate([8, 64, 256, 1024]):
    write("layout_fuzz", f"bytes_{n}", bytes((j * 37 + i) % 256 for j in range(n)))
write("layout_fuzz", "zeros", bytes(128))
write("layout_fuzz", "ones", b"\x01" * 512)
