"""Runs tools/fake-stripe/ticketd-fake-stripe for a test and drives its test-only endpoints."""

from __future__ import annotations

import json
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

from api_support import REPO_ROOT

FAKE = REPO_ROOT / "tools" / "fake-stripe" / "ticketd-fake-stripe"
API_KEY = "sk_test_ticketd"
WEBHOOK_SECRET = "whsec_ticketd_tests"
START_TIMEOUT_S = 20.0


class FakeStripe:
    def __init__(self, webhook_url: str, log_path: Path) -> None:
        self.webhook_url = webhook_url
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None
        self.port = 0

    def start(self) -> None:
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", str(FAKE), "--port", "0", "--api-key", API_KEY, "--webhook-url", self.webhook_url,
             "--webhook-secret", WEBHOOK_SECRET],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log)
        deadline = time.monotonic() + START_TIMEOUT_S
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline().decode()
            if line.startswith("FAKE_STRIPE_PORT="):
                self.port = int(line.split("=", 1)[1])
                return
            if not line and self.proc.poll() is not None:
                break
        raise AssertionError(f"ticketd-fake-stripe did not start; see {self.log_path}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc = None

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.api_base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read() or b"{}")

    def faults(self, **settings: int) -> dict:
        return self._call("POST", "/_test/faults", settings)

    def reset(self) -> None:
        self._call("POST", "/_test/reset", {})

    def stats(self) -> dict:
        return self._call("GET", "/_test/stats")

    def charges(self) -> list[dict]:
        return self._call("GET", "/_test/charges")["charges"]

    def events(self) -> list[dict]:
        return self._call("GET", "/_test/events")["events"]

    def authenticate(self, payment_intent: str, outcome: str) -> dict:
        return self._call("POST", f"/_test/payment_intents/{payment_intent}/authenticate", {"outcome": outcome})

    def resend(self, event_id: str) -> dict:
        return self._call("POST", f"/_test/resend/{event_id}", {})
