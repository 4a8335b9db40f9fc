"""idempotency: 50 identical checkouts in parallel with one Idempotency-Key charge once.

ticketd runs embedded with the Stripe adapter against tools/fake-stripe, which counts real charges; half
the rounds add 300 ms of gateway latency, so most of the 50 requests arrive while the first is still at
the gateway (the window where a second charge would slip in). Each round:
  1. buyer A holds a seat; 50 connections send the same checkout with key K at once: every answer is the
     same booking (201) or 409 `checkout_in_progress` / 503 (retry); exactly one charge for it at the
     gateway and one payments row for (A, K);
  2. A sends it again: the same booking comes back, still one charge;
  3. the same key with another body (another card) for the same hold, and the same key for another hold
     of A's: refused with 409 or 422, and nothing is charged;
  4. buyer B uses the same key K for a hold of B's, 25 times in parallel while A replays K 25 times: B gets
     B's own booking (B's seats, charged once), A keeps getting A's: a key is scoped to its user.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
import uuid
from pathlib import Path

import api_support
from aio_http import Conn, Reply
from chaos_support import (ChaosFailure, Target, check, log, report, setup_sale, sqlite_integrity, sqlite_ro,
                           verify_ok)
from fake_stripe import API_KEY, WEBHOOK_SECRET, FakeStripe

PARALLEL = 50
LONG_ROUNDS = 40
SHORT_ROUNDS = 4
LATENCY_MS = 300
REFUSED = (409, 422)
RETRY_ATTEMPTS_MAX = 50


async def checkout(conn: Conn, hold_id: int, key: str, token: str, method: str = "pm_card_visa") -> Reply:
    """One checkout; 503 (the outcome is not known yet) is retried with the same key, as the contract asks."""
    for _ in range(RETRY_ATTEMPTS_MAX):
        r = await conn.post(f"/v1/holds/{hold_id}/checkout", {"payment_method": method}, token=token,
                            headers={"Idempotency-Key": key})
        if r.status != 503:
            return r
        await asyncio.sleep(0.1)
    return r


async def hold(conn: Conn, event_id: int, seat: int, token: str) -> int:
    r = await conn.post(f"/v1/events/{event_id}/holds", {"seat_ids": [seat]}, token=token)
    check(r.status == 201, f"hold of seat {seat}: {r.describe()}")
    return r.body["id"]


def charges_for(fake: FakeStripe, booking_id: int) -> int:
    return sum(1 for c in fake.charges() if str(c.get("metadata", {}).get("booking_id")) == str(booking_id))


def payment_rows(data_dir: Path, user_id: int, key: str) -> int:
    db = sqlite_ro(data_dir)
    try:
        return db.execute("SELECT COUNT(*) FROM payments WHERE user_id = ? AND idempotency_key = ?",
                          (user_id, key)).fetchone()[0]
    finally:
        db.close()


class Round:
    def __init__(self, target: Target, fake: FakeStripe, data_dir: Path, event, conns: list[Conn], index: int):
        self.target, self.fake, self.data_dir, self.event, self.conns, self.index = \
            target, fake, data_dir, event, conns, index
        self.in_progress = 0  # 409 checkout_in_progress answers seen
        self.replays = 0  # 201 answers beyond the first

    def same_booking(self, replies: list[Reply], who: str) -> int:
        ids = set()
        for r in replies:
            if r.status == 201:
                ids.add(r.body["id"])
            elif r.status == 409 and r.error_code == "checkout_in_progress":
                self.in_progress += 1
            else:
                raise ChaosFailure(f"round {self.index}, {who}: unexpected answer {r.describe()}")
        check(len(ids) == 1, f"round {self.index}, {who}: {len(ids)} different bookings for one key: {ids}")
        self.replays += sum(1 for r in replies if r.status == 201) - 1
        return ids.pop()

    async def run(self) -> None:
        e = self.event
        a, b = 2 * self.index, 2 * self.index + 1  # buyers
        seat = 4 * self.index
        key = f"idem-{uuid.uuid4().hex}"
        conn = self.conns[0]
        hold_a = await hold(conn, e.id, seat, e.tokens[a])
        # 1. 50 identical checkouts at once.
        replies = await asyncio.gather(*(checkout(c, hold_a, key, e.tokens[a]) for c in self.conns))
        booking_a = self.same_booking(list(replies), "50 parallel checkouts")
        check(charges_for(self.fake, booking_a) == 1,
              f"round {self.index}: booking {booking_a} charged {charges_for(self.fake, booking_a)} times")
        check(payment_rows(self.data_dir, e.user_ids[a], key) == 1, f"round {self.index}: payments rows != 1")
        # 2. A replay later.
        again = await checkout(conn, hold_a, key, e.tokens[a])
        check(again.status == 201 and again.body["id"] == booking_a, f"round {self.index}: replay {again.describe()}")
        # 3. The same key with another body, and for another hold.
        other_card = await checkout(conn, hold_a, key, e.tokens[a], method="pm_card_mastercard")
        check(other_card.status in REFUSED, f"round {self.index}: same key, another card: {other_card.describe()}")
        hold_a2 = await hold(conn, e.id, seat + 1, e.tokens[a])
        other_hold = await checkout(conn, hold_a2, key, e.tokens[a])
        check(other_hold.status in REFUSED, f"round {self.index}: same key, another hold: {other_hold.describe()}")
        # 4. Another user, the same key, in parallel with A's replays.
        hold_b = await hold(conn, e.id, seat + 2, e.tokens[b])
        half = PARALLEL // 2
        replies = await asyncio.gather(*(checkout(c, hold_b, key, e.tokens[b]) for c in self.conns[:half]),
                                       *(checkout(c, hold_a, key, e.tokens[a]) for c in self.conns[half:]))
        booking_b = self.same_booking(list(replies[:half]), "user B with A's key")
        check(self.same_booking(list(replies[half:]), "user A replaying") == booking_a,
              f"round {self.index}: A's replay changed")
        check(booking_b != booking_a, f"round {self.index}: user B got user A's booking {booking_a}")
        got_b = await conn.get(f"/v1/bookings/{booking_b}", token=e.tokens[b])
        check(got_b.status == 200 and got_b.body["seat_ids"] == [seat + 2],
              f"round {self.index}: B's booking {got_b.describe()}")
        check(charges_for(self.fake, booking_b) == 1, f"round {self.index}: B's booking charged "
                                                      f"{charges_for(self.fake, booking_b)} times")
        check(charges_for(self.fake, booking_a) == 1, f"round {self.index}: A's booking charged again")
        # A's refused second hold is still A's, unpaid: nothing was charged for it.
        await conn.delete(f"/v1/holds/{hold_a2}", token=e.tokens[a])


async def run(short: bool, seed: int) -> bool:
    rounds = SHORT_ROUNDS if short else LONG_ROUNDS
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="ticketd-chaos-idem."))
    port = api_support.free_port()
    fake = FakeStripe(f"http://127.0.0.1:{port}/v1/payments/stripe/webhook", work / "fake-stripe.log")
    server = api_support.Server(work / "data", hold_ttl_s=600, log_path=work / "server.log", port=port,
                                backend=api_support.EmbeddedBackend(), extra_env={
                                    "TICKETD_STRIPE_SECRET_KEY": API_KEY,
                                    "TICKETD_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
                                    "TICKETD_STRIPE_TIMEOUT_MS": "5000"})
    target = Target(port=port)
    conns = [Conn(target) for _ in range(PARALLEL)]
    done = in_progress = replays = 0
    ok = False
    try:
        fake.start()
        server.extra_env["TICKETD_STRIPE_API_BASE"] = fake.api_base
        server.start()
        event = setup_sale(port, 100 * ((4 * rounds + 99) // 100), 2 * rounds, f"idem{seed}")
        await asyncio.gather(*(c.get("/healthz") for c in conns))  # every connection open before round 1
        for index in range(rounds):
            fake.faults(latency_ms=LATENCY_MS if index % 2 == 0 else 0)
            r = Round(target, fake, work / "data", event, conns, index)
            await r.run()
            done += 1
            in_progress += r.in_progress
            replays += r.replays
        fake.reset()
        charges = len(fake.charges())
        gateway_requests = fake.stats().get("requests_total", -1)
        check(charges == 2 * rounds, f"{charges} charges at the gateway for {2 * rounds} bookings")
        await asyncio.to_thread(server.stop)
        await asyncio.to_thread(verify_ok, server, "after the idempotency rounds")
        check(sqlite_integrity(work / "data") == "ok", "PRAGMA integrity_check failed")
        log(f"{rounds} rounds: {charges} charges for {2 * rounds} bookings")
        ok = True
        report("idempotency", True, started, seed=seed, rounds=done, parallel_checkouts=rounds * PARALLEL * 2,
               charges=charges, gateway_requests=gateway_requests, bookings=2 * rounds, replays_201=replays,
               in_progress_409=in_progress,
               refused_reuses=2 * rounds)
        return True
    except ChaosFailure as exc:
        print(f"FAILED: {exc}\n{server.log_tail()}", flush=True)
        report("idempotency", False, started, seed=seed, rounds=done)
        return False
    finally:
        for c in conns:
            await c.close()
        server.kill()
        fake.stop()
        if ok:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"  kept {work} for inspection", flush=True)
