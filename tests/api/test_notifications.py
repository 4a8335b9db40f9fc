"""Notifications: confirmation, cancellation, payment failure and hold expiry, delivered at least once
from the transactional outbox to a real SMTP server (aiosmtpd) and a real webhook receiver.

Each test starts its own ticketd configured with its receivers (through the env vars of docs/notifications.md)
and looks only at notifications about its own users and bookings: on the distributed backend the outbox is
shared with every other server of the suite. Waits are bounded; timing is only ever checked from below (a
retry never comes earlier than its backoff allows), never for speed.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

import pytest

from api_support import (Server, admin_client, assert_error, assert_verify_ok, backend_is_embedded, checkout,
                         expect, hold_seats, make_event, metrics_text, new_user, section, with_query)
from notify_support import (WEBHOOK_SECRET, SmtpSink, WebhookReceiver, enable_verified_sms, notify_env, unique_phone,
                            verified_user, verify_email, wait_until)

SENDER = "ticketd tests <tickets@ticketd.test>"
PRICE = 12345  # minor units per seat: two seats are "246.90 EUR"


def start_server(tmp_path: Path, name: str, env: dict[str, str], hold_ttl_s: int = 600) -> Server:
    server = Server(tmp_path / name / "data", hold_ttl_s=hold_ttl_s, log_path=tmp_path / name / "server.log",
                    extra_env=env)
    (tmp_path / name).mkdir(parents=True, exist_ok=True)
    server.start()
    return server


def stop_server(server: Server) -> None:
    server.stop()
    if backend_is_embedded():
        assert_verify_ok(server, "after the notification test")


def floor_event(admin, **kw) -> dict:
    return make_event(admin, [section("Floor", "premium", [10, 10])], prices={"premium": PRICE}, **kw)


def metric(server: Server, name: str, labels: str) -> float:
    text = metrics_text(server.port)
    m = re.search(rf"^{re.escape(name)}\{{{re.escape(labels)}\}} (\S+)$", text, re.M)
    return float(m.group(1)) if m else 0.0


def admin_rows(admin, status: str) -> list[dict]:
    rows: list[dict] = []
    after = None
    for _ in range(1000):
        page = expect(admin.get(with_query("/v1/admin/notifications", status=status, limit=100, after=after)), 200)
        rows += page["notifications"]
        after = page["next"]
        if after is None:
            return rows
    raise AssertionError("dead-letter listing did not end")


# ---------------------------------------------------------------------------------------------------------
# Email over SMTP.


def test_confirmation_cancellation_and_decline_reach_a_real_smtp_server(tmp_path: Path) -> None:
    with SmtpSink() as sink:
        server = start_server(tmp_path, "smtp", notify_env(TICKETD_SMTP_URL=sink.url, TICKETD_MAIL_FROM=SENDER))
        try:
            admin = admin_client(server)
            event = floor_event(admin)
            user = verified_user(server, sink)
            hold = expect(hold_seats(user.client, event["id"], [0, 1]), 201)
            booking = expect(checkout(user.client, hold["id"]), 201)
            assert booking["status"] == "CONFIRMED"

            confirmed = wait_until(lambda: [m for m in sink.mails(user.email) if "confirmed" in m.message["Subject"]],
                                   what="the confirmation email")
            assert len(confirmed) == 1, "one booking, one confirmation"
            mail = confirmed[0]
            assert mail.rcpt_tos == [user.email]
            assert mail.mail_from == "tickets@ticketd.test"
            assert mail.message["To"] == user.email
            assert mail.message["From"] == SENDER
            assert mail.message["Subject"] == f"Booking #{booking['id']} confirmed: {event['name']}"
            assert re.fullmatch(r"<ticketd-notification-\d+@ticketd>", mail.message["Message-ID"])
            text = mail.part("text/plain")
            assert "Section Floor, row A, seat 1" in text
            assert "Section Floor, row A, seat 2" in text
            assert "246.90 EUR" in text
            html = mail.part("text/html")
            assert "<td>Floor</td><td>A</td><td>1</td>" in html and "<td>Floor</td><td>A</td><td>2</td>" in html
            assert "246.90 EUR" in html

            expect(user.client.post(f"/v1/bookings/{booking['id']}/cancel"), 200)
            cancelled = wait_until(lambda: [m for m in sink.mails(user.email) if "cancelled" in m.message["Subject"]],
                                   what="the cancellation email")
            assert cancelled[0].message["Subject"] == f"Booking #{booking['id']} cancelled: {event['name']}"
            assert "refunded" in cancelled[0].part("text/plain")

            hold2 = expect(hold_seats(user.client, event["id"], [12]), 201)
            assert_error(checkout(user.client, hold2["id"], "pm_card_chargeDeclined"), 402, "payment_failed")
            failed = wait_until(lambda: [m for m in sink.mails(user.email) if "Payment failed" in m.message["Subject"]],
                                what="the payment-failed email")
            text = failed[0].part("text/plain")
            assert "Your card was declined." in text and "Section Floor, row B, seat 3" in text and "123.45 EUR" in text
            # The sink has the mail a moment before the worker records the delivery: wait for the counter.
            wait_until(lambda: metric(server, "ticketd_notifications_total", 'result="sent"') >= 3,
                       what="three sent notifications in the metrics")
        finally:
            stop_server(server)


def test_an_organizers_refund_of_some_seats_mails_which_seats_and_how_much(tmp_path: Path) -> None:
    with SmtpSink() as sink:
        server = start_server(tmp_path, "smtp", notify_env(TICKETD_SMTP_URL=sink.url, TICKETD_MAIL_FROM=SENDER))
        try:
            admin = admin_client(server)
            event = floor_event(admin)
            user = verified_user(server, sink)
            booking = expect(checkout(user.client, expect(hold_seats(user.client, event["id"], [0, 1]), 201)["id"]), 201)
            expect(admin.post(f"/v1/bookings/{booking['id']}/refund", {"seat_ids": [1]}), 200)
            refunded = wait_until(lambda: [m for m in sink.mails(user.email) if "seats refunded" in m.message["Subject"]],
                                  what="the seats-refunded email")
            assert len(refunded) == 1
            assert refunded[0].message["Subject"] == f"Booking #{booking['id']}: seats refunded: {event['name']}"
            text = refunded[0].part("text/plain")
            assert "Section Floor, row A, seat 2" in text and "Section Floor, row A, seat 1" not in text
            assert "123.45 EUR goes back" in text
        finally:
            stop_server(server)


def test_a_postponement_mails_every_buyer_the_new_date_and_their_tickets(tmp_path: Path) -> None:
    with SmtpSink() as sink:
        server = start_server(tmp_path, "smtp", notify_env(TICKETD_SMTP_URL=sink.url, TICKETD_MAIL_FROM=SENDER))
        try:
            admin = admin_client(server)
            event = floor_event(admin)
            buyers = [verified_user(server, sink) for _ in range(2)]
            for i, user in enumerate(buyers):
                expect(checkout(user.client, expect(hold_seats(user.client, event["id"], [i]), 201)["id"]), 201)
            expect(admin.post(f"/v1/events/{event['id']}/postpone", {"starts_at": "2031-06-01T19:30:00Z"}), 200)
            for i, user in enumerate(buyers):
                moved = wait_until(lambda: [m for m in sink.mails(user.email) if "New date" in m.message["Subject"]],
                                   what="the postponement email")
                assert len(moved) == 1
                assert moved[0].message["Subject"] == f"New date: {event['name']} is now 2031-06-01 19:30 UTC"
                text = moved[0].part("text/plain")
                assert "to 2031-06-01 19:30 UTC" in text and f"Section Floor, row A, seat {i + 1}" in text
                assert any(p.get_content_type() == "application/pdf" for p in moved[0].message.walk())
        finally:
            stop_server(server)


def test_an_organizer_resends_a_confirmation_a_bounded_number_of_times(tmp_path: Path) -> None:
    with SmtpSink() as sink:
        server = start_server(tmp_path, "smtp", notify_env(TICKETD_SMTP_URL=sink.url, TICKETD_MAIL_FROM=SENDER))
        try:
            admin = admin_client(server)
            event = floor_event(admin)
            user = verified_user(server, sink)
            booking = expect(checkout(user.client, expect(hold_seats(user.client, event["id"], [3]), 201)["id"]), 201)
            path = f"/v1/bookings/{booking['id']}/resend-confirmation"
            assert_error(user.client.post(path, {}), 403, "forbidden")  # buyers do not resend to themselves
            for _ in range(4):  # the first confirmation and four more make five
                expect(admin.post(path, {}), 202)
            assert_error(admin.post(path, {}), 409, "limit_reached")
            mails = wait_until(lambda: (lambda m: m if len(m) >= 5 else None)(
                [m for m in sink.mails(user.email) if "confirmed" in m.message["Subject"]]), what="five confirmations")
            assert len(mails) == 5
            expect(user.client.post(f"/v1/bookings/{booking['id']}/cancel"), 200)
            assert_error(admin.post(path, {}), 409, "booking_not_confirmed")
        finally:
            stop_server(server)


def _decode_qr(tmp_path: Path, images: list[bytes]) -> list[list[str]]:
    """The texts of the QR codes in each image, read by the web scanner's own decoder (zxing-wasm)."""
    files = []
    for i, data in enumerate(images):
        f = tmp_path / f"qr-{i}.png"
        f.write_bytes(data)
        files.append(str(f))
    out = subprocess.run(["node", str(Path(__file__).parent / "qr_decode.mjs"), *files], capture_output=True,
                         text=True, timeout=60, check=True)
    return json.loads(out.stdout)


def test_the_confirmation_carries_each_tickets_qr_code_and_a_pdf_to_print(tmp_path: Path) -> None:
    with SmtpSink() as sink:
        server = start_server(tmp_path, "tickets-mail", notify_env(TICKETD_SMTP_URL=sink.url, TICKETD_MAIL_FROM=SENDER))
        try:
            admin = admin_client(server)
            event = floor_event(admin)
            strict = floor_event(admin, static_codes_accepted=False)
            user = verified_user(server, sink)
            booking = expect(checkout(user.client, expect(hold_seats(user.client, event["id"], [3, 4]), 201)["id"]), 201)
            tickets = expect(user.client.get(f"/v1/bookings/{booking['id']}/tickets"), 200)["tickets"]
            mail = wait_until(lambda: [m for m in sink.mails(user.email) if f"#{booking['id']} confirmed" in m.message["Subject"]],
                              what="the confirmation email")[0]
            images = [p for p in mail.message.walk() if p.get_content_type() == "image/png"]
            assert len(images) == 2
            html = mail.part("text/html")
            for img in images:  # each image is shown in the HTML, by its Content-ID
                assert f"cid:{img['Content-ID'].strip('<>')}" in html
            decoded = _decode_qr(tmp_path, [img.get_content() for img in images])
            assert sorted(t for found in decoded for t in found) == sorted(t["code"] for t in tickets)
            (pdf,) = [p for p in mail.message.walk() if p.get_content_type() == "application/pdf"]
            assert pdf.get_filename() == f"tickets-{booking['id']}.pdf"
            body = pdf.get_content()
            assert body.startswith(b"%PDF-") and len(re.findall(rb"/Type /Page\b", body)) == 2

            # An event that admits only the ticket page's live code gets no codes by mail.
            other = expect(checkout(user.client, expect(hold_seats(user.client, strict["id"], [0]), 201)["id"]), 201)
            mail = wait_until(lambda: [m for m in sink.mails(user.email) if f"#{other['id']} confirmed" in m.message["Subject"]],
                              what="the second confirmation")[0]
            assert not [p for p in mail.message.walk() if p.get_content_type() in ("image/png", "application/pdf")]
            assert "only the live code of the ticket page" in mail.part("text/plain")
        finally:
            stop_server(server)


def test_a_ticket_sent_to_an_address_is_announced_there_even_without_an_account(tmp_path: Path) -> None:
    # The outbox is polled every 1.5 s here, so a transfer taken back at once is decided before its
    # row is delivered.
    with SmtpSink() as sink:
        server = start_server(tmp_path, "ticket-sent", notify_env(TICKETD_SMTP_URL=sink.url, TICKETD_MAIL_FROM=SENDER,
                                                                  TICKETD_NOTIFY_INTERVAL_MS="1500"))
        try:
            admin = admin_client(server)
            event = floor_event(admin)
            sender = verified_user(server, sink)
            booking = expect(checkout(sender.client, expect(hold_seats(sender.client, event["id"], [5, 6]), 201)["id"]), 201)
            first, second = expect(sender.client.get(f"/v1/bookings/{booking['id']}/tickets"), 200)["tickets"]
            stranger = f"friend-{booking['id']}@example.test"  # no account with this address
            expect(sender.client.post(f"/v1/tickets/{first['id']}/transfers", {"email": stranger}), 201)
            # Taken back at once, before the worker's next pass: that one is never announced.
            sent = expect(sender.client.post(f"/v1/tickets/{second['id']}/transfers", {"email": stranger}), 201)
            expect(sender.client.post(f"/v1/transfers/{sent['id']}/cancel"), 200)
            mail = wait_until(lambda: sink.mails(stranger), what="the email to the receiver")[0]
            assert mail.message["Subject"].endswith(f"sent you a ticket: {event['name']}")
            text = mail.part("text/plain")
            assert "open My tickets" in text and "Section Floor, row A, seat 6" in text and "Total" not in text
            wait_until(lambda: metric(server, "ticketd_notifications_total", 'result="skipped"') >= 1,
                       what="the cancelled transfer's notice skipped")
            assert len(sink.mails(stranger)) == 1
        finally:
            stop_server(server)


def test_amounts_in_mail_use_the_currencys_own_minor_unit(tmp_path: Path) -> None:
    """A yen has no minor unit: a 5000 JPY booking was once mailed as "You paid 50.00 JPY"."""
    with SmtpSink() as sink:
        server = start_server(tmp_path, "jpy", notify_env(TICKETD_SMTP_URL=sink.url, TICKETD_MAIL_FROM=SENDER))
        try:
            admin = admin_client(server)
            event = make_event(admin, [section("Floor", "premium", [4])], prices={"premium": 5000}, currency="JPY")
            user = verified_user(server, sink)
            hold = expect(hold_seats(user.client, event["id"], [0]), 201)
            assert expect(checkout(user.client, hold["id"]), 201)["total_amount"] == 5000
            confirmed = wait_until(lambda: [m for m in sink.mails(user.email) if "confirmed" in m.message["Subject"]],
                                   what="the confirmation email")
            text = confirmed[0].part("text/plain")
            assert "5000 JPY" in text and "50.00 JPY" not in text, text
            assert "5000 JPY" in confirmed[0].part("text/html")
        finally:
            stop_server(server)


def test_starttls_with_authentication_delivers_and_a_wrong_password_retries(tmp_path: Path) -> None:
    with SmtpSink(tls_dir=tmp_path, credentials=("ticketd-mailer", "s3cret-pass")) as sink:
        env = notify_env(TICKETD_SMTP_URL=sink.url, TICKETD_SMTP_CA_FILE=sink.ca_file, TICKETD_MAIL_FROM=SENDER,
                         TICKETD_SMTP_USER="ticketd-mailer", TICKETD_SMTP_PASSWORD="wrong-pass")
        assert sink.url.startswith("smtp+starttls://")
        server = start_server(tmp_path, "tls-wrong", env)
        try:
            user = new_user(server)  # its verification link is the first mail to go out
            wait_until(lambda: metric(server, "ticketd_notifications_total", 'result="retried"') >= 2,
                       what="retries after refused logins")
            assert ("ticketd-mailer", False) in sink.logins and sink.mails(user.email) == []
        finally:
            stop_server(server)
        # The operator fixes the password and restarts: the pending link goes out over TLS, and so does
        # the confirmation of a booking made once the address is verified.
        env["TICKETD_SMTP_PASSWORD"] = "s3cret-pass"
        server.extra_env = env
        server.start()
        try:
            user.client = server.client(user.token)  # the server listens on a new port
            verify_email(user, sink)
            assert ("ticketd-mailer", True) in sink.logins
            admin = admin_client(server)
            event = floor_event(admin)
            expect(checkout(user.client, expect(hold_seats(user.client, event["id"], [0]), 201)["id"]), 201)
            mail = wait_until(lambda: [m for m in sink.mails(user.email) if "confirmed" in m.message["Subject"]],
                              what="the confirmation over STARTTLS")[0]
            assert "Section Floor, row A, seat 1" in mail.part("text/plain")
        finally:
            stop_server(server)


# ---------------------------------------------------------------------------------------------------------
# Profile.


def test_profile_shows_and_validates_notification_choices(server: Server) -> None:
    user = new_user(server)
    me = expect(user.client.get("/v1/users/me"), 200)
    assert me["email"] == user.email and me["phone"] is None
    assert me["notifications"] == {"email": True, "sms": False, "hold_expiry": False}
    patch = lambda body: user.client.request("PATCH", "/v1/users/me", body)  # noqa: E731
    assert_error(patch({"phone": "12"}), 400, "invalid_request")
    assert_error(patch({"phone": "+0123456789"}), 400, "invalid_request")
    assert_error(patch({"phone": 4915112345678}), 400, "invalid_request")
    assert_error(patch({"notifications": {"sms": True}}), 400, "invalid_request")  # no phone yet
    assert_error(patch({"notifications": {"email": "yes"}}), 400, "invalid_request")
    assert_error(patch({"notifications": {"fax": True}}), 400, "invalid_request")
    assert_error(patch({"notifications": []}), 400, "invalid_request")
    assert_error(patch({"email": "other@example.test"}), 400, "invalid_request")
    assert_error(user.client.request("PATCH", "/v1/users/me", data=b"{", content_type="application/json"), 400)
    assert_error(server.client().request("PATCH", "/v1/users/me", {"phone": "+4915112345678"}), 401)
    assert expect(user.client.get("/v1/users/me"), 200)["notifications"]["sms"] is False, "refused patches change nothing"
    me = expect(patch({"phone": "+4915112345678", "notifications": {"sms": True, "hold_expiry": True}}), 200)
    assert me["phone"] == "+4915112345678" and me["phone_verified"] is False  # nothing goes to it until then
    assert me["notifications"] == {"email": True, "sms": True, "hold_expiry": True}
    assert_error(patch({"phone": None}), 400, "invalid_request")  # sms still on: it needs the phone
    me = expect(patch({"phone": None, "notifications": {"sms": False}}), 200)
    assert me["phone"] is None and me["notifications"]["sms"] is False


def test_dead_letter_endpoints_are_for_administrators_and_validate_input(server: Server, admin) -> None:
    user = new_user(server)
    assert_error(user.client.get("/v1/admin/notifications"), 403, "forbidden")
    assert_error(server.client().get("/v1/admin/notifications"), 401)
    assert_error(admin.get("/v1/admin/notifications?status=LOST"), 400, "invalid_request")
    assert_error(admin.get("/v1/admin/notifications?limit=0"), 400, "invalid_request")
    assert_error(admin.get("/v1/admin/notifications?limit=101"), 400, "invalid_request")
    assert_error(admin.get("/v1/admin/notifications?after=x"), 400, "invalid_request")
    assert_error(admin.post("/v1/admin/notifications/999999999/retry"), 404, "not_found")
    assert_error(user.client.post("/v1/admin/notifications/1/retry"), 403, "forbidden")


# ---------------------------------------------------------------------------------------------------------
# Webhook.


def test_webhook_down_for_a_while_is_delivered_once_it_returns(tmp_path: Path) -> None:
    receiver = WebhookReceiver()
    server = start_server(tmp_path, "down", notify_env(TICKETD_NOTIFY_WEBHOOK_URL=receiver.url,
                                                        TICKETD_NOTIFY_WEBHOOK_SECRET=WEBHOOK_SECRET))
    try:
        admin = admin_client(server)
        event = floor_event(admin)
        user = new_user(server)
        phone = unique_phone()
        receiver.start()  # up while the phone is verified, then down
        enable_verified_sms(user, receiver, phone)
        receiver.stop()
        booking = expect(checkout(user.client, expect(hold_seats(user.client, event["id"], [3, 4]), 201)["id"]), 201)
        wait_until(lambda: metric(server, "ticketd_notifications_total", 'result="retried"') >= 3,
                   what="three failed tries while the receiver is down")
        receiver.start()
        try:
            mine = lambda d: d.body.get("booking_id") == booking["id"]  # noqa: E731
            got = wait_until(lambda: receiver.accepted(mine), what="the delivery after the receiver came back")
            d = got[0]
            assert d.signature_ok
            assert d.key == f"ticketd-notification-{d.delivery_id}" and d.body["id"] == int(d.delivery_id)
            assert d.body["kind"] == "booking_confirmed"
            assert d.body["to"]["phone"] == phone and d.body["to"]["email"] == user.email
            assert d.body["seats"] == [{"section": "Floor", "row": "A", "number": 4},
                                       {"section": "Floor", "row": "A", "number": 5}]
            assert d.body["amount"] == 2 * PRICE and d.body["currency"] == "EUR"
            assert "246.90 EUR" in d.body["text"]
            assert len(receiver.deliveries(mine)) == 1, "nothing reached the receiver while it was down"
        finally:
            receiver.stop()
    finally:
        stop_server(server)


def test_webhook_retries_back_off_exponentially(tmp_path: Path) -> None:
    base_s = 0.2  # TICKETD_NOTIFY_BACKOFF_BASE_MS in notify_env
    failures = 5
    with WebhookReceiver() as receiver:
        tries: dict[str, int] = {}

        def respond(d) -> int:
            if d.body.get("kind") == "verify_phone":
                return 200  # the code gets through at once; the confirmation is what is refused
            tries[d.key] = tries.get(d.key, 0) + 1
            return 503 if tries[d.key] <= failures else 200

        receiver.respond = respond
        server = start_server(tmp_path, "backoff", notify_env(TICKETD_NOTIFY_WEBHOOK_URL=receiver.url,
                                                               TICKETD_NOTIFY_WEBHOOK_SECRET=WEBHOOK_SECRET,
                                                               TICKETD_NOTIFY_BACKOFF_CAP_MS="10000"))
        try:
            admin = admin_client(server)
            event = floor_event(admin)
            user = new_user(server)
            enable_verified_sms(user, receiver, unique_phone())
            booking = expect(checkout(user.client, expect(hold_seats(user.client, event["id"], [5]), 201)["id"]), 201)
            mine = lambda d: d.body.get("booking_id") == booking["id"]  # noqa: E731
            wait_until(lambda: receiver.accepted(mine), what="the delivery after five refusals")
            attempts = sorted(receiver.deliveries(mine), key=lambda d: d.started)
            assert len(attempts) == failures + 1
            assert len({d.key for d in attempts}) == 1, "every retry carries the same idempotency key"
            assert all(d.signature_ok for d in attempts)
            # The n-th retry waits at least half of base * 2^(n-1): the gaps grow exponentially. Checked from
            # below only (a slow machine can only make them longer); 50 ms of slack for the clocks.
            for n in range(1, failures + 1):
                gap = attempts[n].started - attempts[n - 1].finished
                floor_s = base_s * 2 ** (n - 1) / 2
                assert gap >= floor_s - 0.05, f"retry {n} came {gap:.3f} s after the failure, before {floor_s} s"
            assert metric(server, "ticketd_notifications_total", 'result="retried"') >= failures
        finally:
            stop_server(server)


def test_bad_signature_dead_letters_and_an_admin_retry_delivers(tmp_path: Path) -> None:
    with WebhookReceiver(secret="a-different-secret-than-ticketd-has") as receiver:
        server = start_server(tmp_path, "dead", notify_env(TICKETD_NOTIFY_WEBHOOK_URL=receiver.url,
                                                            TICKETD_NOTIFY_WEBHOOK_SECRET=WEBHOOK_SECRET,
                                                            TICKETD_NOTIFY_MAX_ATTEMPTS="3"))
        try:
            admin = admin_client(server)
            event = floor_event(admin)
            user = new_user(server)
            enable_verified_sms(user, receiver, unique_phone())
            booking = expect(checkout(user.client, expect(hold_seats(user.client, event["id"], [6]), 201)["id"]), 201)
            mine = lambda r: r.get("booking_id") == booking["id"] and r["channel"] == "webhook"  # noqa: E731
            dead = wait_until(lambda: [r for r in admin_rows(admin, "DEAD") if mine(r)], what="the dead letter")[0]
            assert dead["kind"] == "booking_confirmed" and dead["attempts"] == 3 and dead["status"] == "DEAD"
            assert "401" in dead["last_error"]
            assert len(receiver.deliveries(lambda d: d.body.get("booking_id") == booking["id"])) == 3
            assert not any(d.signature_ok for d in receiver.deliveries()), "the receiver's secret differs"
            wait_until(lambda: metric(server, "ticketd_notifications_total", 'result="dead_lettered"') >= 1,
                       what="the dead letter in the metrics")
            assert metric(server, "ticketd_notifications_outbox", 'status="dead"') >= 1

            receiver.secret = WEBHOOK_SECRET  # the receiver is fixed; the operator retries
            body = expect(admin.post(f"/v1/admin/notifications/{dead['id']}/retry"), 202)
            assert body == {"id": dead["id"], "status": "PENDING"}
            wait_until(lambda: receiver.accepted(lambda d: d.body.get("booking_id") == booking["id"]),
                       what="the delivery after the retry")
            assert_error(admin.post(f"/v1/admin/notifications/{dead['id']}/retry"), 404, "not_found")
            assert not [r for r in admin_rows(admin, "DEAD") if mine(r)]
            sent = wait_until(lambda: [r for r in admin_rows(admin, "SENT") if mine(r)], what="the SENT row")
            assert sent[0]["id"] == dead["id"]
        finally:
            stop_server(server)


def test_kill_9_during_delivery_delivers_everything_after_restart(tmp_path: Path) -> None:
    bookings_total = 8
    with WebhookReceiver() as receiver:
        receiver.delay_s = 0.3  # slow, so the kill lands while deliveries are in flight
        env = notify_env(TICKETD_NOTIFY_WEBHOOK_URL=receiver.url, TICKETD_NOTIFY_WEBHOOK_SECRET=WEBHOOK_SECRET,
                         TICKETD_NOTIFY_WEBHOOK_TIMEOUT_MS="1000", TICKETD_NOTIFY_LEASE_MS="3000",
                         TICKETD_NOTIFY_BATCH="4")
        server = start_server(tmp_path, "kill", env)
        try:
            admin = admin_client(server)
            event = floor_event(admin, max_tickets_per_user=20)
            user = new_user(server)
            enable_verified_sms(user, receiver, unique_phone())
            booking_ids = set()
            for seat in range(bookings_total):
                hold = expect(hold_seats(user.client, event["id"], [seat]), 201)
                booking_ids.add(expect(checkout(user.client, hold["id"]), 201)["id"])
            mine = lambda d: d.body.get("booking_id") in booking_ids  # noqa: E731
            wait_until(lambda: len(receiver.deliveries(mine)) >= 2, what="deliveries under way")
            server.kill()
            server.start()
            wait_until(lambda: {d.body["booking_id"] for d in receiver.accepted(mine)} == booking_ids,
                       what="every confirmation after the restart")
            seen = receiver.deliveries(mine)
            keys_by_booking: dict[int, set[str]] = {}
            for d in seen:
                assert d.signature_ok
                assert d.key == f"ticketd-notification-{d.delivery_id}"
                keys_by_booking.setdefault(d.body["booking_id"], set()).add(d.key)
            assert all(len(keys) == 1 for keys in keys_by_booking.values()), \
                f"duplicates must carry the same idempotency key: {keys_by_booking}"
            assert len({k for keys in keys_by_booking.values() for k in keys}) == bookings_total
        finally:
            stop_server(server)


# ---------------------------------------------------------------------------------------------------------
# Hold about to expire.


def test_hold_expiry_notice_only_for_live_holds_of_users_who_opted_in(tmp_path: Path) -> None:
    with SmtpSink() as sink:
        # Holds last 4 s; the notice is due 3 s before the end, i.e. 1 s after the hold.
        server = start_server(tmp_path, "expiry", notify_env(TICKETD_SMTP_URL=sink.url,
                                                              TICKETD_HOLD_EXPIRY_NOTICE_S="3"), hold_ttl_s=4)
        try:
            admin = admin_client(server)
            event = floor_event(admin)
            opted, released, silent = verified_user(server, sink), verified_user(server, sink), verified_user(server, sink)
            for u in (opted, released):
                expect(u.client.request("PATCH", "/v1/users/me", {"notifications": {"hold_expiry": True}}), 200)
            silent_hold = expect(hold_seats(silent.client, event["id"], [0]), 201)
            released_hold = expect(hold_seats(released.client, event["id"], [1]), 201)
            expect(released.client.delete(f"/v1/holds/{released_hold['id']}"), 204)
            hold = expect(hold_seats(opted.client, event["id"], [2, 3]), 201)
            mail = wait_until(lambda: [m for m in sink.mails(opted.email) if "held until" in m.message["Subject"]],
                              what="the hold-expiry notice")[0]
            assert mail.message["Subject"].startswith(f"Your seats for {event['name']} are held until ")
            text = mail.part("text/plain")
            assert "Section Floor, row A, seat 3" in text and "246.90 EUR" in text
            # The released hold's notice came due before the opted-in one's and was dropped, not sent.
            skipped = [r for r in admin_rows(admin, "SKIPPED") if r.get("hold_id") == released_hold["id"]]
            assert len(skipped) == 1 and skipped[0]["kind"] == "hold_expiring"
            assert "no longer live" in skipped[0]["last_error"]
            notices = lambda to: [m for m in sink.mails(to) if "/#/verify-email/" not in m.part("text/plain")]  # noqa: E731
            assert notices(released.email) == [] and notices(silent.email) == []
            for status in ("PENDING", "SENT", "SKIPPED", "DEAD"):
                assert not [r for r in admin_rows(admin, status) if r.get("hold_id") == silent_hold["id"]], \
                    "no notice is written for a user who did not opt in"
            assert hold["id"] != released_hold["id"]
        finally:
            stop_server(server)
