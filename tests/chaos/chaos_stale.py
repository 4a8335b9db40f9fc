"""stale: a buyer frozen for 3-5 s must not get a seat that someone else bought meanwhile.

Embedded ticketd with a 2 s hold TTL and the Stripe adapter against tools/fake-stripe. A round runs PAIRS
seats at once; in each pair buyer A holds seat s and checks out, is frozen for 3-5 s, and buyer B holds s
2.3 s after A's hold was granted (it has expired by then) and buys it if the hold is granted. Three kinds
of round, in turn:
  - client: A's client freezes mid-request (all but the last bytes of the checkout sent, then nothing for
    3-5 s, as under SIGSTOP). B must get the seat (201) and A's late checkout must be refused: 410
    `hold_expired`;
  - gateway: A's checkout has begun and A's charge is held at the gateway for 3-5 s (the fake's latency,
    for A's calls only), as if A's node froze mid-payment. ticketd pins a hold whose payment is under way
    (core::limits::checkout_pin_max, 120 s), so B is refused and A is confirmed; were B to win instead,
    A's late charge must be refused (410) and refunded;
  - node: `kill -STOP` ticketd itself just before A's checkouts are sent, or 0-100 ms after (gateway
    latency 300 ms, so some are mid-payment and some not begun) for 3-5 s; B's requests queue
    meanwhile; `kill -CONT`. Either outcome per seat, never both.
Zero double sales: no seat in two 201 answers, none in two live bookings in the database, one kept charge
per seat sold at the gateway (a late charge of a rejected A is refunded).
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import signal
import tempfile
import time
from pathlib import Path

import api_support
from aio_http import Conn, Reply
from chaos_support import ChaosFailure, Target, check, log, report, setup_sale, sqlite_integrity, sqlite_ro, verify_ok
from fake_stripe import API_KEY, WEBHOOK_SECRET, FakeStripe

HOLD_TTL_S = 2
EXPIRED_AFTER_S = 2.3  # after A's hold was granted, B may take the seat
STALL_MS_MIN, STALL_MS_MAX = 3000, 5000
PAIRS = 50
KINDS = ("client", "gateway", "node")
LONG_ROUNDS = 21  # 1,050 stale holders, 350 of each kind
SHORT_ROUNDS = 3
WORKERS = 128  # ticketd worker threads: PAIRS of them wait at the gateway while B buys
A_RETRY_WINDOW_S = 10.0


class Pair:
    def __init__(self, seat: int, a: int, b: int) -> None:
        self.seat, self.a, self.b = seat, a, b
        self.a_hold = 0
        self.a_granted_at = 0.0
        self.a_reply: Reply | None = None
        self.b_reply: Reply | None = None
        self.a_cut = False  # A's first checkout answered 503: the node stopped in the middle of committing it


async def run_round(kind: str, server: api_support.Server, fake: FakeStripe, event, pairs: list[Pair],
                    conns: list[Conn], rng: random.Random, totals: dict) -> None:
    """One round of `kind` (client | gateway | node) over `pairs`, each seat in parallel; checks each pair."""
    tokens = event.tokens
    stall_s = rng.randint(STALL_MS_MIN, STALL_MS_MAX) / 1000

    async def a_hold(p: Pair, c: Conn) -> None:
        r = await c.post(f"/v1/events/{event.id}/holds", {"seat_ids": [p.seat]}, token=tokens[p.a])
        check(r.status == 201, f"A's hold of seat {p.seat}: {r.describe()}")
        p.a_hold, p.a_granted_at = r.body["id"], time.monotonic()

    async def definite(c: Conn, path: str, body: dict, token: str, key: str | None = None) -> Reply:
        """POST until an answer other than 503 `unavailable` (or A_RETRY_WINDOW_S), as a client does: a
        node stopped while committing (distributed: PostgreSQL ends the owner's transaction, so that its
        events can be taken over) answers 503 once it runs again, and so does what it decides under
        that ownership until it reloads the event. The same key again for a checkout."""
        headers = {"Idempotency-Key": key} if key else None
        r = await c.post(path, body, token=token, headers=headers)
        give_up_at = time.monotonic() + A_RETRY_WINDOW_S
        while r.status == 503 and r.error_code == "unavailable" and time.monotonic() < give_up_at:
            await asyncio.sleep(0.2)
            r = await c.post(path, body, token=token, headers=headers)
        return r

    async def a_checkout(p: Pair, c: Conn) -> None:
        p.a_reply = await c.post(f"/v1/holds/{p.a_hold}/checkout", {"payment_method": "pm_card_visa"},
                                 token=tokens[p.a], headers={"Idempotency-Key": f"stale-a-{p.seat}"},
                                 freeze_s=stall_s if kind == "client" else 0.0)
        if p.a_reply.status == 503 and p.a_reply.error_code == "unavailable":
            p.a_cut = True
            p.a_reply = await definite(c, f"/v1/holds/{p.a_hold}/checkout", {"payment_method": "pm_card_visa"},
                                       tokens[p.a], f"stale-a-{p.seat}")

    async def b_buys(p: Pair, c: Conn) -> None:
        await asyncio.sleep(max(0.0, p.a_granted_at + EXPIRED_AFTER_S - time.monotonic()))
        r = await definite(c, f"/v1/events/{event.id}/holds", {"seat_ids": [p.seat]}, tokens[p.b])
        if r.status != 201:
            p.b_reply = r
            return
        p.b_reply = await definite(c, f"/v1/holds/{r.body['id']}/checkout", {"payment_method": "pm_card_visa"},
                                   tokens[p.b], f"stale-b-{p.seat}")

    a_conns, b_conns = conns[:len(pairs)], conns[len(pairs):]
    await asyncio.gather(*(a_hold(p, c) for p, c in zip(pairs, a_conns)))
    before = fake.stats()["requests_total"]
    if kind == "gateway":
        fake.faults(latency_ms=int(stall_s * 1000))
    elif kind == "node":
        fake.faults(latency_ms=300)  # so the stop finds some checkouts mid-payment, others not yet begun
    stopped = None
    stop_first = kind == "node" and rng.random() < 0.5  # A's checkouts then arrive at a frozen node
    if stop_first:
        stopped = time.monotonic()
        os.kill(server.proc.pid, signal.SIGSTOP)
        totals["sigstops"] += 1
    a_tasks = [asyncio.create_task(a_checkout(p, c)) for p, c in zip(pairs, a_conns)]
    if kind == "gateway":  # every A at the gateway, then B's charges go through at once
        deadline = time.monotonic() + 10
        while fake.stats()["requests_total"] < before + len(pairs) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        fake.faults(latency_ms=0)
    if kind == "node" and not stop_first:
        await asyncio.sleep(rng.uniform(0.0, 0.1))  # A's checkouts sent; some read and begun, some not
        stopped = time.monotonic()
        os.kill(server.proc.pid, signal.SIGSTOP)
        totals["sigstops"] += 1
    try:
        b_tasks = [asyncio.create_task(b_buys(p, c)) for p, c in zip(pairs, b_conns)]
        if stopped is not None:
            await asyncio.sleep(max(0.0, stopped + stall_s - time.monotonic()))
    finally:
        if stopped is not None:
            os.kill(server.proc.pid, signal.SIGCONT)
            fake.faults(latency_ms=0)
    await asyncio.gather(*b_tasks, *a_tasks)
    for p in pairs:
        a, b = p.a_reply, p.b_reply
        assert a is not None and b is not None
        a_sold, b_sold = a.status == 201, b.status == 201
        check(not (a_sold and b_sold), f"{kind}: seat {p.seat} sold twice: A {a.describe()} / B {b.describe()}")
        if b_sold:
            check(a.status == 410 and a.error_code == "hold_expired",
                  f"{kind}: seat {p.seat}: B bought it, A's late confirmation got {a.describe()}")
            totals[f"{kind}_stale_rejected"] += 1
        elif a_sold:
            check(kind != "client", f"client: seat {p.seat}: A's hold had expired before its checkout arrived, "
                                    f"yet A got {a.describe()} and B {b.describe()}")
            check(b.status == 409, f"{kind}: seat {p.seat}: A kept it, B got {b.describe()}")
            totals[f"{kind}_a_kept_seat"] += 1
        elif kind == "node" and p.a_cut and b.status == 409:
            # A's checkout was cut mid-commit (never acknowledged, nothing sold) after its pin had refused
            # B; by the time A asked again its hold had lapsed. Nobody was sold the seat in this round,
            # which is not an oversell, and a later buyer gets it.
            totals[f"{kind}_a_commit_cut"] += 1
        else:
            raise ChaosFailure(f"{kind}: seat {p.seat} sold to nobody: A {a.describe()} / B {b.describe()}")


def db_double_sales(data_dir: Path, event_id: int) -> int:
    db = sqlite_ro(data_dir)
    try:
        return db.execute(
            "SELECT COUNT(*) FROM (SELECT bs.seat FROM booking_seats bs JOIN bookings b ON b.id = bs.booking_id "
            "WHERE b.event_id = ? AND b.status IN ('CONFIRMED', 'PENDING_PAYMENT') GROUP BY bs.seat "
            "HAVING COUNT(*) > 1)", (event_id,)).fetchone()[0]
    finally:
        db.close()


async def run(short: bool, seed: int) -> bool:
    rounds = SHORT_ROUNDS if short else LONG_ROUNDS
    started = time.monotonic()
    rng = random.Random(seed)
    work = Path(tempfile.mkdtemp(prefix="ticketd-chaos-stale."))
    port = api_support.free_port()
    fake = FakeStripe(f"http://127.0.0.1:{port}/v1/payments/stripe/webhook", work / "fake-stripe.log")
    server = api_support.Server(work / "data", hold_ttl_s=HOLD_TTL_S, log_path=work / "server.log", port=port,
                                backend=api_support.EmbeddedBackend(), extra_env={
                                    "TICKETD_STRIPE_SECRET_KEY": API_KEY,
                                    "TICKETD_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
                                    "TICKETD_STRIPE_TIMEOUT_MS": "15000", "TICKETD_STRIPE_ATTEMPTS": "1",
                                    "TICKETD_WORKERS": str(WORKERS)})
    target = Target(port=port)
    conns = [Conn(target) for _ in range(2 * PAIRS)]
    totals = dict(rounds=0, pairs=0, sigstops=0, **{f"{k}_{o}": 0 for k in KINDS
                                                     for o in ("stale_rejected", "a_kept_seat", "a_commit_cut")})
    stale_rejected = 0
    ok = False
    try:
        fake.start()
        server.extra_env["TICKETD_STRIPE_API_BASE"] = fake.api_base
        server.start()
        event = setup_sale(port, 100 * ((rounds * PAIRS + 99) // 100), 2 * PAIRS, f"stale{seed}")
        for index in range(rounds):
            pairs = [Pair(index * PAIRS + i, 2 * i, 2 * i + 1) for i in range(PAIRS)]
            await run_round(KINDS[index % len(KINDS)], server, fake, event, pairs, conns, rng, totals)
            totals["rounds"] += 1
            totals["pairs"] += len(pairs)
            if (index + 1) % 5 == 0 or index + 1 == rounds:
                log(f"round {index + 1}/{rounds}: {totals}")
        doubled = db_double_sales(work / "data", event.id)
        check(doubled == 0, f"{doubled} seats in two live bookings in the database")
        # Money: one kept charge per seat sold. A rejected A whose charge had gone through was refunded;
        # one rejected before its charge began was never charged.
        charges = fake.charges()
        refunded = sum(1 for c in charges if c.get("amount_refunded") == c.get("amount"))
        stale_rejected = sum(totals[f"{k}_stale_rejected"] for k in KINDS)
        check(len(charges) - refunded == totals["pairs"],
              f"{len(charges) - refunded} kept charges for {totals['pairs']} seats sold")
        check(refunded <= stale_rejected, f"{refunded} refunds for {stale_rejected} rejected stale holders")
        await asyncio.to_thread(server.stop)
        await asyncio.to_thread(verify_ok, server, "after the stale-holder rounds")
        check(sqlite_integrity(work / "data") == "ok", "PRAGMA integrity_check failed")
        ok = True
        report("stale", True, started, seed=seed, double_sales=0, stale_rejected=stale_rejected, charges=len(charges),
               refunds=refunded, **totals)
        return True
    except ChaosFailure as exc:
        print(f"FAILED: {exc}\n{server.log_tail()}", flush=True)
        report("stale", False, started, seed=seed, **totals)
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
