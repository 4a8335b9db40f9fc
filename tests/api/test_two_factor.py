"""Two-factor login with TOTP (docs/security.md, "Two-factor login"): enrol, confirm with a code of the
authenticator app, then log in with the password and a current code; a wrong, missing or replayed code
is refused; turning it off needs a code too. Codes are computed here with RFC 6238 (HMAC-SHA1)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time
import urllib.parse

from api_support import USER_PASSWORD, Client, assert_error, expect, new_user


def _code(secret_b32: str, step: int) -> str:
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 10**6)


def _now_step() -> int:
    return int(time.time()) // 30


def _login(anon: Client, email: str, **extra):
    return anon.post("/v1/sessions", {"email": email, "password": USER_PASSWORD, **extra}, token=None)


def test_rfc_6238_sha1_vector_is_what_the_server_computes(server, anon: Client) -> None:
    # RFC 6238 Appendix B, SHA1, T = 59 s: 94287082 (8 digits); our 6 digits are its last six.
    assert _code(base64.b32encode(b"12345678901234567890").decode().rstrip("="), 59 // 30) == "287082"
    user = new_user(server)
    enrolled = expect(user.client.post("/v1/users/me/totp", {}), 201)
    secret = enrolled["secret"]
    uri = urllib.parse.urlparse(enrolled["otpauth_uri"])
    assert uri.scheme == "otpauth" and uri.netloc == "totp"
    assert urllib.parse.parse_qs(uri.query)["secret"] == [secret]
    # Not on until confirmed: login needs no code yet.
    assert expect(user.client.get("/v1/users/me/totp"), 200) == {"enabled": False}
    expect(_login(anon, user.email), 201)
    assert_error(user.client.post("/v1/users/me/totp/confirm", {"code": "000000" if _code(secret, _now_step()) != "000000" else "111111"}),
                 400, "invalid_request")
    expect(user.client.post("/v1/users/me/totp/confirm", {"code": _code(secret, _now_step())}), 200)
    assert expect(user.client.get("/v1/users/me/totp"), 200) == {"enabled": True}

    assert_error(_login(anon, user.email), 401, "totp_required")
    wrong = "%06d" % ((int(_code(secret, _now_step())) + 1) % 10**6)
    assert_error(_login(anon, user.email, totp_code=wrong), 401, "invalid_totp")
    # The confirmation used this step's code: a code works once, so the next login waits a step or
    # uses the next step's code (one step of clock skew is accepted).
    nxt = _code(secret, _now_step() + 1)
    expect(_login(anon, user.email, totp_code=nxt), 201)
    assert_error(_login(anon, user.email, totp_code=nxt), 401, "invalid_totp")  # replayed
    # A wrong password is still the same answer, code or not: it says nothing about the second factor.
    assert_error(anon.post("/v1/sessions", {"email": user.email, "password": "nope-nope-nope", "totp_code": nxt},
                           token=None), 401, "invalid_credentials")
    # On again cannot be enrolled over; off needs a current (unused) code.
    assert_error(user.client.post("/v1/users/me/totp", {}), 400, "invalid_request")
    assert_error(user.client.post("/v1/users/me/totp/disable", {"code": nxt}), 400, "invalid_request")
    assert_error(user.client.post("/v1/users/me/totp/disable", {}), 400, "invalid_request")


def test_totp_routes_need_a_session_and_bound_their_input(anon: Client, server) -> None:
    assert_error(anon.post("/v1/users/me/totp", {}), 401, "unauthenticated")
    user = new_user(server)
    assert_error(user.client.post("/v1/users/me/totp/confirm", {"code": "x" * 40}), 400, "invalid_request")
    assert_error(user.client.post("/v1/users/me/totp/confirm", {"code": "123456"}), 400, "invalid_request")
    assert_error(anon.post("/v1/sessions", {"email": user.email, "password": USER_PASSWORD, "totp_code": 7},
                           token=None), 400, "invalid_request")
