"""Verified contacts, message caps and password reset (issue "Security and account safety", finding 2).

An account's address and phone get no notification until their owner proves them (a link mailed at
sign-up; a code sent by the SMS webhook); every message counts against caps per account and per
destination; a forgotten password is reset by a single-use, expiring link that ends every session.
Each test starts its own ticketd with a real SMTP sink and webhook receiver (docs/notifications.md), and
uses its own users and phone numbers: on the distributed backend the outbox is shared by every server.
"""

from __future__ import annotations

import re
from pathlib import Path

from api_support import (USER_PASSWORD, Server, admin_client, assert_error, checkout, expect, hold_seats, login,
                         make_event, metrics_text, new_user, section, with_query)
from notify_support import (RESET_LINK, VERIFY_LINK, WEBHOOK_SECRET, SmtpSink, WebhookReceiver, link_token,
                            notify_env, phone_code, unique_phone, verify_email, wait_until)

SENDER = "ticketd tests <tickets@ticketd.test>"
PUBLIC_URL = "https://tickets.example.test"


def start(tmp_path: Path, name: str, sink: SmtpSink | None = None, receiver: WebhookReceiver | None = None,
          **env: str) -> Server:
    extra = notify_env(TICKETD_PUBLIC_URL=PUBLIC_URL, **env)
    if sink:
        extra.update(TICKETD_SMTP_URL=sink.url, TICKETD_MAIL_FROM=SENDER)
    if receiver:
        extra.update(TICKETD_NOTIFY_WEBHOOK_URL=receiver.url, TICKETD_NOTIFY_WEBHOOK_SECRET=WEBHOOK_SECRET)
    (tmp_path / name).mkdir(parents=True, exist_ok=True)
    server = Server(tmp_path / name / "data", hold_ttl_s=600, log_path=tmp_path / name / "server.log",
                    extra_env=extra)
    server.start()
    return server


def metric(server: Server, labels: str) -> float:
    m = re.search(rf"^ticketd_notifications_total\{{{re.escape(labels)}\}} (\S+)$", metrics_text(server.port), re.M)
    return float(m.group(1)) if m else 0.0


def skipped_rows(admin, user_id: int) -> list[dict]:
    rows, after = [], None
    for _ in range(1000):
        page = expect(admin.get(with_query("/v1/admin/notifications", status="SKIPPED", limit=100, after=after)), 200)
        rows += [r for r in page["notifications"] if r["user_id"] == user_id]
        after = page["next"]
        if after is None:
            return rows
    raise AssertionError("listing did not end")


def tamper(token: str) -> str:
    """The token with its last hex digit changed: a MAC one bit off."""
    return token[:-1] + ("0" if token[-1] != "0" else "1")


def decline(user, event_id: int, seat: int) -> None:
    hold = expect(hold_seats(user.client, event_id, [seat]), 201)
    assert_error(checkout(user.client, hold["id"], "pm_card_chargeDeclined"), 402, "payment_failed")


def test_an_unverified_address_gets_only_its_link_and_the_link_works_once(tmp_path: Path) -> None:
    with SmtpSink() as sink:
        server = start(tmp_path, "email", sink)
        try:
            admin = admin_client(server)
            event = make_event(admin, [section("Floor", "premium", [10])], prices={"premium": 500})
            user = new_user(server)
            assert expect(user.client.get("/v1/me"), 200)["email_verified"] is False
            mail = wait_until(lambda: sink.mails(user.email), what="the verification link")[0]
            assert mail.message["Subject"] == "Confirm your email address"
            assert f"{PUBLIC_URL}/#/verify-email/" in mail.part("text/plain")
            assert f'href="{PUBLIC_URL}/#/verify-email/' in mail.part("text/html")

            # Unverified: the booking stands, its confirmation is not mailed (anyone can type anyone's address).
            first = expect(checkout(user.client, expect(hold_seats(user.client, event["id"], [0]), 201)["id"]), 201)
            wait_until(lambda: [r for r in skipped_rows(admin, user.id) if r.get("booking_id") == first["id"]],
                       what="the unverified confirmation, skipped")
            row = [r for r in skipped_rows(admin, user.id) if r.get("booking_id") == first["id"]][0]
            assert "not verified" in row["last_error"]
            assert len(sink.mails(user.email)) == 1, "only the link went to the unverified address"

            token = link_token(sink, user.email, VERIFY_LINK)
            for bad in ("1.00000000000000000000000000000000", tamper(token),
                        "x" * 60, token + "0"):
                assert_error(server.client().post("/v1/email-verifications", {"token": bad}), 400,
                             ("invalid_token", "invalid_request"))
            assert_error(server.client().post("/v1/email-verifications", {}), 400, "invalid_request")
            expect(server.client().post("/v1/email-verifications", {"token": token}), 204)  # no session needed
            assert_error(server.client().post("/v1/email-verifications", {"token": token}), 400, "invalid_token")
            assert expect(user.client.get("/v1/me"), 200)["email_verified"] is True
            # Asking for a link once verified sends nothing more.
            assert expect(user.client.post("/v1/users/me/email/verification"), 202)["email_verified"] is True

            second = expect(checkout(user.client, expect(hold_seats(user.client, event["id"], [1]), 201)["id"]), 201)
            wait_until(lambda: [m for m in sink.mails(user.email) if f"#{second['id']} confirmed" in m.message["Subject"]],
                       what="the confirmation to the verified address")
        finally:
            server.stop()


def test_links_are_asked_for_at_most_three_times_an_hour(tmp_path: Path) -> None:
    with SmtpSink() as sink:
        server = start(tmp_path, "resend", sink)
        try:
            user = new_user(server)  # sign-up sent the first
            expect(user.client.post("/v1/users/me/email/verification"), 202)
            expect(user.client.post("/v1/users/me/email/verification"), 202)
            assert_error(user.client.post("/v1/users/me/email/verification"), 409, "limit_reached")
            assert_error(server.client().post("/v1/users/me/email/verification"), 401)
            wait_until(lambda: len(sink.mails(user.email)) == 3, what="three links")
            # Every one of them works (once): the newest is not the only one a person may click.
            verify_email(user, sink)
        finally:
            server.stop()


def test_sms_never_reaches_an_unverified_number_and_caps_bound_a_verified_one(tmp_path: Path) -> None:
    """Finding 2: ten declined payments sent ten SMS to an arbitrary number. Now an unverified number gets
    nothing, and a verified one at most its hourly cap."""
    with WebhookReceiver() as receiver:
        server = start(tmp_path, "sms", receiver=receiver, TICKETD_MESSAGES_PER_DESTINATION_HOUR_MAX="3")
        try:
            admin = admin_client(server)
            event = make_event(admin, [section("Floor", "premium", [40])], prices={"premium": 500},
                               max_tickets_per_user=40)
            victim = unique_phone()
            attacker = new_user(server)
            expect(attacker.client.request("PATCH", "/v1/users/me", {"phone": victim, "notifications": {"sms": True}}),
                   200)
            for seat in range(10):
                decline(attacker, event["id"], seat)
            wait_until(lambda: len([r for r in skipped_rows(admin, attacker.id) if r["channel"] == "webhook"]) == 10,
                       what="ten SMS skipped")
            assert receiver.deliveries(lambda d: d.body.get("to", {}).get("phone") == victim) == []

            # Its owner verifies the number: the code is message 1 of the 3 this number may get in an hour.
            owner = new_user(server)
            mine = unique_phone()
            expect(owner.client.request("PATCH", "/v1/users/me", {"phone": mine, "notifications": {"sms": True}}), 200)
            expect(owner.client.post("/v1/users/me/phone/verification"), 202)
            expect(owner.client.post("/v1/users/me/phone/verification/confirm", {"code": phone_code(receiver, mine)}),
                   204)
            assert expect(owner.client.get("/v1/users/me"), 200)["phone_verified"] is True
            capped_before = metric(server, 'result="capped"')
            for seat in range(10, 16):
                decline(owner, event["id"], seat)
            wait_until(lambda: metric(server, 'result="capped"') >= capped_before + 4, what="four capped messages")
            to_mine = receiver.deliveries(lambda d: d.body.get("to", {}).get("phone") == mine)
            assert [d.body["kind"] for d in to_mine] == ["verify_phone", "payment_failed", "payment_failed"]
        finally:
            server.stop()


def test_a_phone_code_allows_five_guesses_and_a_new_number_must_be_verified_again(tmp_path: Path) -> None:
    with WebhookReceiver() as receiver:
        server = start(tmp_path, "code", receiver=receiver)
        try:
            user = new_user(server)
            confirm = lambda code: user.client.post("/v1/users/me/phone/verification/confirm", {"code": code})  # noqa: E731
            assert_error(user.client.post("/v1/users/me/phone/verification"), 400, "invalid_request")  # no phone
            first = unique_phone()
            expect(user.client.request("PATCH", "/v1/users/me", {"phone": first}), 200)
            assert_error(confirm("123456"), 400, "invalid_token")  # none was sent yet
            expect(user.client.post("/v1/users/me/phone/verification"), 202)
            code = phone_code(receiver, first)
            delivery = receiver.deliveries(lambda d: d.body.get("kind") == "verify_phone")[0]
            assert delivery.signature_ok and code in delivery.body["text"]
            for bad in ("12345", "abcdef", "1234567", ""):
                assert_error(confirm(bad), 400, "invalid_request")
            wrong = f"{(int(code) + 1) % 1_000_000:06d}"
            for _ in range(5):
                assert_error(confirm(wrong), 400, "invalid_token")
            assert_error(confirm(code), 400, "invalid_token")  # the right code, after five wrong ones: dead
            expect(user.client.post("/v1/users/me/phone/verification"), 202)
            expect(confirm(phone_code(receiver, first, already=1)), 204)
            assert expect(user.client.get("/v1/users/me"), 200)["phone_verified"] is True
            # The third code this hour; a fourth is refused.
            second = unique_phone()
            me = expect(user.client.request("PATCH", "/v1/users/me", {"phone": second}), 200)
            assert me["phone_verified"] is False
            expect(user.client.post("/v1/users/me/phone/verification"), 202)
            assert_error(user.client.post("/v1/users/me/phone/verification"), 409, "limit_reached")
            # A code sent to the new number does not verify the old one, and back: the number it was sent to.
            code2 = phone_code(receiver, second)
            expect(user.client.request("PATCH", "/v1/users/me", {"phone": first}), 200)
            assert_error(confirm(code2), 400, "invalid_token")
            assert expect(user.client.get("/v1/users/me"), 200)["phone_verified"] is False
        finally:
            server.stop()


def test_a_password_reset_link_sets_a_new_password_once_and_ends_every_session(tmp_path: Path) -> None:
    with SmtpSink() as sink:
        server = start(tmp_path, "reset", sink)
        try:
            user = new_user(server)
            other_session = server.client(expect(login(server.client(), user.email, USER_PASSWORD), 201)["token"])
            anon = server.client()
            # The same answer for an address without an account: it must not tell which addresses have one.
            nobody = f"nobody-{user.id}@example.test"
            assert expect(anon.post("/v1/password-resets", {"email": nobody}), 202) == \
                expect(anon.post("/v1/password-resets", {"email": user.email.upper()}), 202)
            assert_error(anon.post("/v1/password-resets", {"email": "not an address"}), 400, "invalid_request")
            mail = wait_until(lambda: [m for m in sink.mails(user.email) if m.message["Subject"] == "Set a new password"],
                              what="the reset link")[0]
            assert f"{PUBLIC_URL}/#/reset-password/" in mail.part("text/plain")
            token = link_token(sink, user.email, RESET_LINK)
            assert sink.mails(nobody) == []

            assert_error(anon.post("/v1/password-resets/confirm", {"token": token, "new_password": "short"}), 400,
                         "invalid_request")
            assert_error(anon.post("/v1/password-resets/confirm", {"token": tamper(token),
                                                                   "new_password": "a-new-password-1"}), 400,
                         "invalid_token")
            # A verification link is no reset link, even with the right MAC for its own purpose.
            verify_token = link_token(sink, user.email, VERIFY_LINK)
            assert_error(anon.post("/v1/password-resets/confirm", {"token": verify_token,
                                                                   "new_password": "a-new-password-1"}), 400,
                         "invalid_token")
            expect(anon.post("/v1/password-resets/confirm", {"token": token, "new_password": "a-new-password-1"}), 204)
            assert_error(anon.post("/v1/password-resets/confirm", {"token": token, "new_password": "another-one-22"}),
                         400, "invalid_token")
            assert_error(user.client.get("/v1/me"), 401)
            assert_error(other_session.get("/v1/me"), 401)
            assert_error(login(server.client(), user.email, USER_PASSWORD), 401, "invalid_credentials")
            fresh = expect(login(server.client(), user.email, "a-new-password-1"), 201)["token"]
            me = expect(server.client(fresh).get("/v1/me"), 200)
            assert me["email_verified"] is True, "the link reached the address: it is verified"
        finally:
            server.stop()
