"""Shared parts of the chaos runs: setting up a sale, the fault-tolerant flash-sale driver, the audits, and
the result line.

The driver (`FlashSale`) is a closed loop of `workers` buyers on keep-alive connections. A buyer holds 1-4
seats (half pick a block in a random row and fall back to best available), a few abandon (half release,
half let the hold expire), a few pay with a declined card, the rest check out. What it does when the
server vanishes is the point of it:
  - a hold whose answer never came is forgotten (if it was made, it expires: the TTL is short);
  - a checkout whose answer never came is retried with the same Idempotency-Key, after the server is back,
    until it gets a definite answer (201, 402, 410) or RETRY_WINDOW_S passes;
  - every 201 booking is recorded as an `Ack`: the server promised it, so it must survive anything.
Load shedding (429, 503 `overloaded`/`unavailable`) is retried after Retry-After; any other 5xx, or an
answer the contract does not allow, is recorded as unexpected and fails the run.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import random
import sqlite3
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Coroutine

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "api"))

import api_support  # noqa: E402  (tests/api: Server, the sync Client, builders)
from aio_http import Conn, Reply, TransportError  # noqa: E402

SEATS_PER_ROW = 100
ROWS_PER_SECTION_MAX = 100  # 10,000 seats per section; the API allows 1,000 rows
RETRY_WINDOW_S = 120.0  # a checkout is retried (same key) this long across restarts before it counts as lost
SHED_DELAY_S_MAX = 1.0  # the longest Retry-After honoured
ACK_CHECK_CONNECTIONS = 16
MAX_TICKETS_PER_USER = 100  # buyers are reused; this keeps the per-user limit from refusing them
UNEXPECTED_KEPT_MAX = 50


# ---------------------------------------------------------------------------------------------------------
# Results.

RESULTS_FILE = Path(os.environ.get("CHAOS_RESULTS", api_support.REPO_ROOT / "build" / "chaos-results.jsonl"))


class ChaosFailure(AssertionError):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise ChaosFailure(message)


def report(name: str, ok: bool, started: float, **counts: Any) -> None:
    """One result line on stdout (`chaos NAME: PASS k=v ...`) and one JSON line in RESULTS_FILE."""
    duration_s = round(time.monotonic() - started, 1)
    words = " ".join(f"{k}={v}" for k, v in counts.items())
    print(f"chaos {name}: {'PASS' if ok else 'FAIL'} {words} duration_s={duration_s}", flush=True)
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    with open(RESULTS_FILE, "a") as out:
        out.write(json.dumps({"scenario": name, "ok": ok, "duration_s": duration_s,
                              "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), **counts}) + "\n")


def log(message: str) -> None:
    print(f"  [{time.strftime('%H:%M:%S')}] {message}", flush=True)


# ---------------------------------------------------------------------------------------------------------
# Setup over the sync client of tests/api.

@dataclass
class Event:
    id: int
    seats_total: int
    tokens: list[str]  # the buyers' bearer tokens
    user_ids: list[int]


def venue_sections(seats_total: int) -> list[dict]:
    check(seats_total % SEATS_PER_ROW == 0, f"seats_total must be a multiple of {SEATS_PER_ROW}")
    rows = seats_total // SEATS_PER_ROW
    sections = []
    for index, first in enumerate(range(0, rows, ROWS_PER_SECTION_MAX)):
        count = min(ROWS_PER_SECTION_MAX, rows - first)
        sections.append(api_support.grid(f"S{index + 1}", "front" if index == 0 else "back", count, SEATS_PER_ROW))
    return sections


def provision_buyers(admin: api_support.Client, count: int, prefix: str) -> tuple[list[str], list[int]]:
    tokens: list[str] = []
    ids: list[int] = []
    for first in range(0, count, 10_000):
        n = min(10_000, count - first)
        body = api_support.expect(admin.post("/v1/admin/users:bulk",
                                             {"email_prefix": prefix, "count": n, "first": first}), 201)
        tokens += [u["token"] for u in body["users"]]
        ids += [u["id"] for u in body["users"]]
    return tokens, ids


def setup_sale(port: int, seats_total: int, buyers: int, tag: str) -> Event:
    admin = api_support.Client(port, api_support.login_token(port, api_support.ADMIN_EMAIL, api_support.ADMIN_PASSWORD))
    try:
        venue = api_support.create_venue(admin, venue_sections(seats_total), name=f"chaos-{tag}")
        event = api_support.create_event(admin, venue, name=f"chaos-{tag}", max_tickets_per_user=MAX_TICKETS_PER_USER)
        tokens, ids = provision_buyers(admin, buyers, f"chaos-{tag}-")
    finally:
        admin.close()
    return Event(event["id"], seats_total, tokens, ids)


# ---------------------------------------------------------------------------------------------------------
# The driver.

@dataclass(frozen=True)
class Ack:
    """A booking answered 201: it must exist, CONFIRMED, with these seats, from now on."""
    booking_id: int
    buyer: int
    seats: tuple[int, ...]


@dataclass
class Target:
    host: str = "127.0.0.1"
    port: int = 0


@dataclass
class SaleCounts:
    holds_ok: int = 0
    holds_refused: int = 0  # 409 seat_unavailable / insufficient_seats: the expected race
    holds_unknown: int = 0  # the answer never came
    abandoned: int = 0
    declined: int = 0
    expired: int = 0  # 410 at checkout
    checkouts_unknown: int = 0  # no definite answer within RETRY_WINDOW_S: may or may not have happened
    checkout_retries: int = 0  # the same key sent again after a transport failure
    transport_errors: int = 0
    shed: int = 0  # 429 / 503 answers, retried
    requests: int = 0


class FlashSale:
    """Sells one event to completion with `workers` concurrent buyers. `up` is cleared by whoever kills the
    server and set once it answers again; buyers that hit a transport failure wait on it."""

    def __init__(self, target: Target, event: Event, *, workers: int, seed: int, up: asyncio.Event | None = None,
                 abandon_pct: int = 3, decline_pct: int = 3, explicit_pct: int = 50,
                 targets: list[Target] | None = None) -> None:
        self.target = target
        self.targets = targets or [target]  # several nodes: worker i buys through node i mod n
        self.event = event
        self.workers = workers
        self.seed = seed
        self.up = up or _set_event()
        self.abandon_pct = abandon_pct
        self.decline_pct = decline_pct
        self.explicit_pct = explicit_pct
        self.acks: list[Ack] = []
        self.acked_seats: set[int] = set()
        self.double_acked: list[int] = []  # seats in two acknowledged bookings: an oversell the buyers saw
        self.counts = SaleCounts()
        self.unexpected: list[str] = []
        self.unexpected_total = 0
        self.server_counts: dict[str, int] = {}
        self.done = asyncio.Event()
        self._next_buyer = 0

    # -- running --

    async def run(self, deadline_s: float) -> bool:
        """True once the event is sold out (the server's counts say every seat is sold) before the deadline."""
        tasks = [asyncio.create_task(self._worker(w)) for w in range(self.workers)]
        monitor = asyncio.create_task(self._monitor())
        try:
            await asyncio.wait_for(self.done.wait(), deadline_s)
            sold_out = True
        except asyncio.TimeoutError:
            sold_out = False
        self.done.set()
        for task in tasks:
            task.cancel()
        monitor.cancel()
        await asyncio.gather(*tasks, monitor, return_exceptions=True)
        return sold_out

    async def run_with(self, faults: Coroutine[Any, Any, None], deadline_s: float,
                       faults_after_s: float = 60.0) -> bool:
        """run(), with `faults` injecting faults alongside; a fault that raises ends the sale at once and
        is raised here once the buyers stopped. A fault still under way when the sale sells out (a pause
        lasts past the lease) runs to its end, for at most `faults_after_s`, rather than being cut off and
        left uncounted."""
        injecting = asyncio.create_task(faults)
        injecting.add_done_callback(lambda t: t.cancelled() or t.exception() is None or self.done.set())
        sold_out = await self.run(deadline_s)
        if sold_out and not injecting.done():
            await asyncio.wait({injecting}, timeout=faults_after_s)
        if not injecting.done():
            injecting.cancel()
        try:
            await injecting
        except asyncio.CancelledError:
            pass
        return sold_out

    @property
    def sold_fraction(self) -> float:
        return len(self.acked_seats) / self.event.seats_total

    async def _monitor(self) -> None:
        conn = Conn(self.target)
        try:
            while not self.done.is_set():
                await asyncio.sleep(0.5)
                if not self.up.is_set():
                    continue
                try:
                    r = await conn.get(f"/v1/events/{self.event.id}", timeout_s=5.0)
                except TransportError:
                    continue
                if r.status == 200:
                    self.server_counts = r.body["counts"]
                    if self.server_counts.get("sold") == self.event.seats_total:
                        self.done.set()
        finally:
            await conn.close()

    async def _worker(self, index: int) -> None:
        rng = random.Random(self.seed * 1_000_003 + index)
        conn = Conn(self.targets[index % len(self.targets)])
        try:
            while not self.done.is_set():
                buyer = self._next_buyer % len(self.event.tokens)
                self._next_buyer += 1
                await self._purchase(conn, rng, buyer)
        finally:
            await conn.close()

    # -- one buyer --

    async def _purchase(self, conn: Conn, rng: random.Random, buyer: int) -> None:
        token = self.event.tokens[buyer]
        quantity = rng.randint(1, 4)
        held = await self._hold(conn, rng, token, quantity)
        if held is None:
            return
        hold_id, seats = held
        roll = rng.randrange(100)
        if roll < self.abandon_pct:
            self.counts.abandoned += 1
            if roll % 2 == 0:
                await self._call(conn, "DELETE", f"/v1/holds/{hold_id}", token=token)
            return
        declined = rng.randrange(100) < self.decline_pct
        method = "pm_card_chargeDeclined" if declined else "pm_card_visa"
        key = f"chaos-{self.seed}-{buyer}-{hold_id}"
        r = await self._call(conn, "POST", f"/v1/holds/{hold_id}/checkout", {"payment_method": method}, token=token,
                             headers={"Idempotency-Key": key}, retry=True)
        if r is None:
            self.counts.checkouts_unknown += 1
            return
        if r.status == 201:
            self._acknowledge(r.body, buyer, seats)
        elif r.status == 402 and declined:
            self.counts.declined += 1
        elif r.status == 410 and r.error_code == "hold_expired":
            self.counts.expired += 1
        else:
            self._note(f"checkout of hold {hold_id} ({method}, key {key}): {r.describe()}")

    async def _hold(self, conn: Conn, rng: random.Random, token: str, quantity: int) -> tuple[int, list[int]] | None:
        path = f"/v1/events/{self.event.id}/holds"
        r = None
        if rng.randrange(100) < self.explicit_pct:
            rows = self.event.seats_total // SEATS_PER_ROW
            start = rng.randrange(rows) * SEATS_PER_ROW + rng.randrange(SEATS_PER_ROW - quantity + 1)
            r = await self._call(conn, "POST", path, {"seat_ids": list(range(start, start + quantity))}, token=token)
            if r is None:
                self.counts.holds_unknown += 1
                return None
        if r is None or (r.status == 409 and r.error_code == "seat_unavailable"):
            if r is not None:
                self.counts.holds_refused += 1
            r = await self._call(conn, "POST", path, {"quantity": quantity}, token=token)
            if r is not None and r.status == 409 and r.error_code == "insufficient_seats" and quantity > 1:
                self.counts.holds_refused += 1
                r = await self._call(conn, "POST", path, {"quantity": 1}, token=token)
        if r is None:
            self.counts.holds_unknown += 1
            return None
        if r.status == 201:
            self.counts.holds_ok += 1
            return r.body["id"], sorted(r.body["seat_ids"])
        if r.status == 409 and r.error_code in ("seat_unavailable", "insufficient_seats"):
            self.counts.holds_refused += 1
            await asyncio.sleep(0.2)  # nearly sold out: the rest is held, wait for checkouts or expiry
            return None
        self._note(f"hold: {r.describe()}")
        return None

    def _acknowledge(self, body: Any, buyer: int, held_seats: list[int]) -> None:
        seats = tuple(sorted(body.get("seat_ids") or ()))
        if body.get("status") != "CONFIRMED" or list(seats) != held_seats:
            self._note(f"201 booking not as held ({held_seats}): {body}")
        for seat in seats:
            if seat in self.acked_seats:
                self.double_acked.append(seat)
            self.acked_seats.add(seat)
        self.acks.append(Ack(int(body["id"]), buyer, seats))

    async def _call(self, conn: Conn, method: str, path: str, body: Any = None, *, token: str,
                    headers: dict[str, str] | None = None, retry: bool = False) -> Reply | None:
        """One request. Sheds (429/503) are retried; a transport failure is retried (retry=True, the same
        request again, which is safe for an idempotent checkout) after the server is back, or ends in None.
        Any other 5xx is recorded as unexpected and returned."""
        give_up_at = time.monotonic() + RETRY_WINDOW_S
        while time.monotonic() < give_up_at and not (self.done.is_set() and not retry):
            if not self.up.is_set():
                await self.up.wait()
            self.counts.requests += 1
            try:
                r = await conn.request(method, path, body, token=token, headers=headers)
            except TransportError:
                self.counts.transport_errors += 1
                await asyncio.sleep(0.05)
                if not retry:
                    return None
                self.counts.checkout_retries += 1
                continue
            if r.status == 429 or (r.status == 503 and r.error_code in ("overloaded", "unavailable")):
                self.counts.shed += 1
                await asyncio.sleep(_retry_after_s(r))
                continue
            if r.status >= 500:
                self._note(f"{method} {path}: {r.describe()}")
            return r
        return None

    def _note(self, what: str) -> None:
        self.unexpected_total += 1
        if len(self.unexpected) < UNEXPECTED_KEPT_MAX:
            self.unexpected.append(what)


def _set_event() -> asyncio.Event:
    e = asyncio.Event()
    e.set()
    return e


def _retry_after_s(r: Reply) -> float:
    try:
        return min(max(float(r.headers.get("retry-after", "0.1")), 0.05), SHED_DELAY_S_MAX)
    except ValueError:
        return 0.1


# ---------------------------------------------------------------------------------------------------------
# Audits.

def sqlite_ro(data_dir: Path) -> sqlite3.Connection:
    """A read-only connection to a running embedded server's database (WAL: it may read while ticketd writes)."""
    return sqlite3.connect(f"file:{data_dir / 'ticketd.db'}?mode=ro", uri=True, timeout=30)


def sqlite_ack_problems(data_dir: Path, event_id: int, acks: list[Ack]) -> list[str]:
    """Each acknowledged booking that is not in the database as CONFIRMED with exactly its seats sold to it,
    and each seat of the event in two live bookings. Reads the database directly, so it is cheap enough to
    run after every restart."""
    db = sqlite_ro(data_dir)
    try:
        seats_of: dict[int, set[int]] = {}
        for booking_id, seat in db.execute(
                "SELECT bs.booking_id, bs.seat FROM booking_seats bs JOIN bookings b ON b.id = bs.booking_id "
                "WHERE b.event_id = ? AND b.status = 'CONFIRMED'", (event_id,)):
            seats_of.setdefault(booking_id, set()).add(seat)
        sold_to = dict(db.execute("SELECT seat, booking_id FROM sold_seats WHERE event_id = ?", (event_id,)))
        doubled = db.execute(
            "SELECT bs.seat, COUNT(*) FROM booking_seats bs JOIN bookings b ON b.id = bs.booking_id "
            "WHERE b.event_id = ? AND b.status IN ('CONFIRMED', 'PENDING_PAYMENT') "
            "GROUP BY bs.seat HAVING COUNT(*) > 1", (event_id,)).fetchall()
    finally:
        db.close()
    problems = [f"seat {seat} is in {n} live bookings" for seat, n in doubled]
    for ack in acks:
        if seats_of.get(ack.booking_id) != set(ack.seats):
            problems.append(f"booking {ack.booking_id} acknowledged with seats {ack.seats}, "
                            f"database has {sorted(seats_of.get(ack.booking_id, ()))} CONFIRMED")
        elif any(sold_to.get(seat) != ack.booking_id for seat in ack.seats):
            problems.append(f"booking {ack.booking_id}: seats {ack.seats} not all sold to it")
    return problems


def sqlite_integrity(data_dir: Path) -> str:
    db = sqlite_ro(data_dir)
    try:
        return db.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        db.close()


async def api_ack_problems(target: Target, event: Event, acks: list[Ack]) -> list[str]:
    """GET /v1/bookings/{id} as its buyer for every acknowledged booking: CONFIRMED with its seats."""
    problems: list[str] = []
    pending = list(acks)

    async def checker() -> None:
        conn = Conn(target)
        try:
            while pending:
                ack = pending.pop()
                r = await conn.get(f"/v1/bookings/{ack.booking_id}", token=event.tokens[ack.buyer])
                body = r.body if isinstance(r.body, dict) else {}
                if (r.status != 200 or body.get("status") != "CONFIRMED" or body.get("event_id") != event.id
                        or tuple(sorted(body.get("seat_ids") or ())) != ack.seats):
                    problems.append(f"booking {ack.booking_id} acknowledged as {ack}, now {r.describe()}")
        finally:
            await conn.close()

    await asyncio.gather(*(checker() for _ in range(ACK_CHECK_CONNECTIONS)))
    return problems


async def compact_map(target: Target, event_id: int) -> str:
    conn = Conn(target)
    try:
        r = await conn.get(f"/v1/events/{event_id}/seats?format=compact")
        check(r.status == 200, f"seat map: {r.describe()}")
        return r.body["status"]
    finally:
        await conn.close()


def verify_ok(server: api_support.Server, context: str) -> None:
    result = server.verify()
    check(result.returncode == 0, f"`ticketd verify` {context} exited with {result.returncode}\n"
                                  f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}")


def sale_summary(sale: FlashSale) -> dict[str, Any]:
    c = sale.counts
    return {"bookings_acknowledged": len(sale.acks), "seats_acknowledged": len(sale.acked_seats),
            "holds": c.holds_ok, "declined": c.declined, "abandoned": c.abandoned, "expired_at_checkout": c.expired,
            "transport_errors": c.transport_errors, "checkout_retries": c.checkout_retries,
            "checkouts_unknown": c.checkouts_unknown, "shed": c.shed, "requests": c.requests}
