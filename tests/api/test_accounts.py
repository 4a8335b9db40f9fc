"""Accounts: registration, sessions, /v1/me. Each test registers its own user, since these tests are
about the account itself (a shared user would be logged out or locked out under the others)."""

from __future__ import annotations

from api_support import (USER_PASSWORD, Client, Server, assert_error, expect, login, new_user, now_utc,
                         parse_time, register, unique_email)

FAILED_LOGINS_MAX = 10  # docs/api.md: after 10 failed attempts for one email within 5 minutes -> 429


def test_register_returns_the_new_user(anon: Client, admin: Client) -> None:
    email = unique_email()
    body = expect(register(anon, email, name="Ada Lovelace"), 201)
    assert isinstance(body["id"], int) and body["id"] > 0
    assert body["email"] == email
    assert body["name"] == "Ada Lovelace"
    admin_role = expect(admin.get("/v1/me"), 200)["role"]
    assert isinstance(body["role"], str) and body["role"] != admin_role, "a self-registered user is no admin"


def test_registering_an_email_twice_is_refused_whatever_its_case(anon: Client) -> None:
    email = unique_email()
    expect(register(anon, email), 201)
    assert_error(register(anon, email), 409, "email_taken")
    assert_error(register(anon, email.upper()), 409, "email_taken")


def test_sign_up_takes_one_plain_mailbox_and_one_account_per_address(server: Server, anon: Client) -> None:
    """Sign-up once accepted lists, display names and invisible suffixes (mail to some was retried
    forever), and both "Ümlaut@" and "ümlaut@" as two accounts."""
    tag = unique_email().split("@")[0]
    for bad in [f"{tag}@evil.com>,<y@example.test", f"{tag},y@example.test", f"Ann <{tag}@example.test>",
                f"{tag}@example.test\u200b", f"{tag}@example.test\u2028", f"{tag}\u200d@example.test",
                f"\"{tag} x\"@example.test", f"{tag}@localhost", f"{tag}@[127.0.0.1]"]:
        error = assert_error(register(anon, bad), 400, "invalid_request")
        assert error["message"].startswith("email:"), error
    expect(register(anon, f"Ümlaut-{tag}@example.test"), 201)
    for same in [f"ümlaut-{tag}@example.test", f"ÜMLAUT-{tag}@EXAMPLE.TEST", f"U\u0308mlaut-{tag}@example.test",
                 f"Ümlaut-{tag}\uff20example.test"]:
        assert_error(register(anon, same), 409, "email_taken")
    # Any spelling logs in to the one account.
    token = expect(login(anon, f"ÜMLAUT-{tag}@example.test", USER_PASSWORD), 201)["token"]
    assert expect(server.client(token).get("/v1/me"), 200)["email"] == f"ümlaut-{tag}@example.test"


def test_passwords_of_8_and_128_bytes_are_accepted(anon: Client) -> None:
    for password in ("p" * 8, "p" * 128):
        email = unique_email()
        expect(register(anon, email, password), 201)
        expect(login(anon, email, password), 201)


def test_login_returns_a_token_for_the_user(server: Server, anon: Client) -> None:
    email = unique_email()
    user_id = expect(register(anon, email), 201)["id"]
    body = expect(login(anon, email, USER_PASSWORD), 201)
    assert isinstance(body["token"], str) and body["token"]
    assert body["user_id"] == user_id
    assert parse_time(body["expires_at"]) > now_utc(), "a new session must not be expired already"
    me = expect(server.client(body["token"]).get("/v1/me"), 200)
    assert me["id"] == user_id


def test_login_with_wrong_password_or_unknown_email_is_refused(anon: Client) -> None:
    email = unique_email()
    expect(register(anon, email), 201)
    assert_error(login(anon, email, USER_PASSWORD + "x"), 401, "invalid_credentials")
    assert_error(login(anon, unique_email(), USER_PASSWORD), 401, "invalid_credentials")


def test_me_returns_the_caller(server: Server) -> None:
    user = new_user(server)
    body = expect(user.client.get("/v1/me"), 200)
    assert body == {"id": user.id, "email": user.email, "name": "Test User", "role": body["role"], "organizations": [],
                    "email_verified": False}


def test_logout_makes_that_token_fail_but_not_other_sessions(server: Server, anon: Client) -> None:
    user = new_user(server)
    other_token = expect(login(anon, user.email, user.password), 201)["token"]
    assert other_token != user.token

    resp = user.client.delete("/v1/sessions/current")
    assert resp.status == 204, f"logout: {resp}"
    assert_error(user.client.get("/v1/me"), 401, "unauthenticated")
    assert_error(user.client.delete("/v1/sessions/current"), 401, "unauthenticated")
    expect(server.client(other_token).get("/v1/me"), 200)


def test_repeated_failed_logins_are_throttled(server: Server, anon: Client) -> None:
    user = new_user(server)
    for _ in range(FAILED_LOGINS_MAX):
        assert_error(login(anon, user.email, "wrong password"), 401, "invalid_credentials")
    resp = login(anon, user.email, "wrong password")
    assert_error(resp, 429, "too_many_requests")
    assert resp.headers.get("Retry-After"), "429 must say when to retry"
    expect(user.client.get("/v1/me"), 200)  # an existing session is not affected


def test_changing_the_password_ends_every_other_session(server: Server, anon: Client) -> None:
    user = new_user(server)
    other = server.client(expect(login(anon, user.email, USER_PASSWORD), 201)["token"])
    new_password = "a much longer new passphrase"
    wrong = user.client.post("/v1/users/me/password", {"current_password": "not it", "new_password": new_password})
    assert_error(wrong, 401, "invalid_credentials")
    assert expect(other.get("/v1/me"), 200)["id"] == user.id, "a wrong current password changes nothing"
    short = user.client.post("/v1/users/me/password", {"current_password": USER_PASSWORD, "new_password": "short"})
    assert_error(short, 400, "invalid_request")
    expect(user.client.post("/v1/users/me/password", {"current_password": USER_PASSWORD,
                                                       "new_password": new_password}), 204)
    assert expect(user.client.get("/v1/me"), 200)["id"] == user.id  # this session goes on
    assert_error(other.get("/v1/me"), 401)  # every other one ended
    assert_error(login(anon, user.email, USER_PASSWORD), 401, "invalid_credentials")
    expect(login(anon, user.email, new_password), 201)


def test_logging_out_everywhere_ends_every_session(server: Server, anon: Client) -> None:
    user = new_user(server)
    sessions = [user.client] + [server.client(expect(login(anon, user.email, USER_PASSWORD), 201)["token"])
                                for _ in range(2)]
    stranger = new_user(server)
    expect(sessions[1].request("DELETE", "/v1/sessions"), 204)
    for client in sessions:
        assert_error(client.get("/v1/me"), 401)
    assert expect(stranger.client.get("/v1/me"), 200)["id"] == stranger.id, "only that account's sessions"
    expect(login(anon, user.email, USER_PASSWORD), 201)  # and it can log in again
