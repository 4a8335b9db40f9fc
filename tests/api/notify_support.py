"""Real receivers for notification tests: an SMTP server (aiosmtpd) and a webhook receiver (http.server)
on free loopback ports, started and stopped by the test, recording what ticketd delivered.

Thread safety: each receiver records under its own lock; read with `.messages()` / `.deliveries()`.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import json
import random
import re
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from api_support import free_port

WEBHOOK_SECRET = "ticketd-test-webhook-secret-0123456789"
DELIVERY_TIMEOUT_S = 60.0  # bound on every wait for a notification; generous, no test asserts speed
SIGNATURE_TOLERANCE_S = 300  # as a real receiver would: refuse signatures older than this


def wait_until(predicate: Callable[[], Any], timeout_s: float = DELIVERY_TIMEOUT_S, what: str = "condition") -> Any:
    """Polls predicate() until it returns something truthy (returned) or timeout_s passes (AssertionError)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.05)


# ---------------------------------------------------------------------------------------------------------
# SMTP.


@dataclass
class Mail:
    mail_from: str
    rcpt_tos: list[str]
    message: email.message.EmailMessage

    def part(self, content_type: str) -> str:
        for p in self.message.walk():
            if p.get_content_type() == content_type:
                return p.get_content()
        raise AssertionError(f"no {content_type} part in {self.message['Subject']!r}")


class SmtpSink:
    """An aiosmtpd server on 127.0.0.1:<free port> that keeps every message it accepts.

    With `tls_dir`, it requires STARTTLS (a self-signed certificate for 127.0.0.1 made there with openssl;
    `ca_file` is what the client must trust) and, with `credentials`, AUTH PLAIN/LOGIN before any mail.
    """

    def __init__(self, tls_dir: Path | None = None, credentials: tuple[str, str] | None = None) -> None:
        self.port = free_port()
        self._lock = threading.Lock()
        self._mails: list[Mail] = []
        self.logins: list[tuple[str, bool]] = []  # (user, accepted) per AUTH attempt
        self.ca_file: str | None = None
        sink = self
        kwargs: dict[str, Any] = {}
        if tls_dir is not None:
            cert, key = tls_dir / "smtp-cert.pem", tls_dir / "smtp-key.pem"
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
                            "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True, timeout=60)
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(cert, key)
            kwargs.update(tls_context=context, require_starttls=True)
            self.ca_file = str(cert)
        if credentials is not None:
            def authenticate(server, session, envelope, mechanism, auth_data):
                ok = isinstance(auth_data, LoginPassword) and \
                    (auth_data.login.decode(), auth_data.password.decode()) == credentials
                sink.logins.append((auth_data.login.decode() if isinstance(auth_data, LoginPassword) else "?", ok))
                return AuthResult(success=ok)
            kwargs.update(authenticator=authenticate, auth_required=True, auth_require_tls=tls_dir is not None)

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
                msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
                with sink._lock:
                    sink._mails.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), msg))
                return "250 OK"

        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, **kwargs)

    @property
    def url(self) -> str:
        scheme = "smtp+starttls" if self.ca_file else "smtp"
        return f"{scheme}://127.0.0.1:{self.port}"

    def __enter__(self) -> "SmtpSink":
        self._controller.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._controller.stop()

    def mails(self, to: str | None = None) -> list[Mail]:
        with self._lock:
            return [m for m in self._mails if to is None or to in m.rcpt_tos]


# ---------------------------------------------------------------------------------------------------------
# Webhook.


@dataclass
class Delivery:
    key: str            # Idempotency-Key
    delivery_id: str    # X-Ticketd-Delivery
    node: str           # X-Ticketd-Node
    body: dict
    signature_ok: bool
    started: float      # time.monotonic() when the request arrived
    finished: float     # when the answer was sent
    status: int


def verify_signature(secret: str, header: str, raw_body: bytes, now_s: float) -> bool:
    """The receiver's side of docs/notifications.md: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>."""
    try:
        fields = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(fields["t"])
        given = fields["v1"]
    except (ValueError, KeyError):
        return False
    if abs(now_s - timestamp) > SIGNATURE_TOLERANCE_S:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, given)


class WebhookReceiver:
    """A threaded HTTP server that verifies each delivery's signature and records it.

    `respond(delivery) -> int` decides the status (default: 200 if the signature verifies, else 401);
    `delay_s` holds each answer that long (a slow receiver). It can be stopped and started again on the
    same port, so a test can take it down and bring it back.
    """

    def __init__(self, secret: str = WEBHOOK_SECRET, port: int | None = None) -> None:
        self.secret = secret
        self.port = port or free_port()
        self.delay_s = 0.0
        self.respond: Callable[[Delivery], int] = lambda d: 200 if d.signature_ok else 401
        self.on_request: Callable[[Delivery], None] | None = None
        self._lock = threading.Lock()
        self._deliveries: list[Delivery] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/ticketd"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                started = time.monotonic()
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                ok = verify_signature(receiver.secret, self.headers.get("X-Ticketd-Signature", ""), raw, time.time())
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {}
                d = Delivery(self.headers.get("Idempotency-Key", ""), self.headers.get("X-Ticketd-Delivery", ""),
                             self.headers.get("X-Ticketd-Node", ""), body, ok, started, 0.0, 0)
                if receiver.on_request:
                    receiver.on_request(d)
                if receiver.delay_s:
                    time.sleep(receiver.delay_s)
                d.status = receiver.respond(d)
                d.finished = time.monotonic()
                with receiver._lock:
                    receiver._deliveries.append(d)
                self.send_response(d.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            assert self._thread is not None
            self._thread.join(timeout=10)
            self._server = None

    def __enter__(self) -> "WebhookReceiver":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def deliveries(self, predicate: Callable[[Delivery], bool] = lambda d: True) -> list[Delivery]:
        with self._lock:
            return [d for d in self._deliveries if predicate(d)]

    def accepted(self, predicate: Callable[[Delivery], bool] = lambda d: True) -> list[Delivery]:
        return self.deliveries(lambda d: 200 <= d.status < 300 and predicate(d))


def notify_env(**overrides: str) -> dict[str, str]:
    """Environment for a ticketd whose worker polls often and retries fast (so tests wait little)."""
    env = {
        "TICKETD_NOTIFY_INTERVAL_MS": "50",
        "TICKETD_NOTIFY_BACKOFF_BASE_MS": "200",
        "TICKETD_NOTIFY_BACKOFF_CAP_MS": "2000",
        "TICKETD_NOTIFY_MAX_ATTEMPTS": "30",
        "TICKETD_NOTIFY_WEBHOOK_TIMEOUT_MS": "2000",
        "TICKETD_SMTP_TIMEOUT_MS": "2000",
        "TICKETD_NOTIFY_LEASE_MS": "10000",
    }
    env.update(overrides)
    return env


# ---------------------------------------------------------------------------------------------------------
# Verified contacts: ticketd tells an account's address or phone nothing until its owner confirmed it.

VERIFY_LINK = re.compile(r"/#/verify-email/([0-9]+\.[0-9a-f]{32})")
RESET_LINK = re.compile(r"/#/reset-password/([0-9]+\.[0-9a-f]{32})")


def link_token(sink: SmtpSink, to: str, pattern: re.Pattern[str], already: int = 0) -> str:
    """The token of the (already+1)-th mail to `to` whose text holds a link matching `pattern`."""
    def found() -> list[str]:
        return [m.group(1) for mail in sink.mails(to) if (m := pattern.search(mail.part("text/plain")))]
    tokens = wait_until(lambda: (t := found()) and len(t) > already and t, what=f"a link mailed to {to}")
    return tokens[already]


def verify_email(user: Any, sink: SmtpSink) -> None:
    """Opens the verification link mailed at sign-up, as its owner would."""
    token = link_token(sink, user.email, VERIFY_LINK)
    response = user.client.post("/v1/email-verifications", {"token": token}, token=None)
    assert response.status == 204, response.text


def verified_user(server: Any, sink: SmtpSink) -> Any:
    from api_support import new_user
    user = new_user(server)
    verify_email(user, sink)
    return user


def phone_code(receiver: "WebhookReceiver", phone: str, already: int = 0) -> str:
    """The code of the (already+1)-th verification sent to `phone`, as the receiver saw it (answered or not)."""
    def codes() -> list[str]:
        return [d.body["code"] for d in receiver.deliveries(
            lambda d: d.body.get("kind") == "verify_phone" and d.body.get("to", {}).get("phone") == phone)]
    found = wait_until(lambda: (c := codes()) and len(c) > already and c, what=f"a code sent to {phone}")
    return found[already]


def enable_verified_sms(user: Any, receiver: "WebhookReceiver", phone: str) -> None:
    """Sets the phone, turns SMS on, and types in the code the webhook carried."""
    response = user.client.request("PATCH", "/v1/users/me", {"phone": phone, "notifications": {"sms": True}})
    assert response.status == 200, response.text
    response = user.client.post("/v1/users/me/phone/verification")
    assert response.status == 202, response.text
    response = user.client.post("/v1/users/me/phone/verification/confirm", {"code": phone_code(receiver, phone)})
    assert response.status == 204, response.text


def unique_phone() -> str:
    """A number no other test uses: message caps count per number, across every server of a shared store."""
    return "+49151" + "".join(random.choice("0123456789") for _ in range(8))
