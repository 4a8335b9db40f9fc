"""cancel: an event with 5,000 paid bookings (--short: 300) is cancelled while the gateway misbehaves and
ticketd is killed -9 twice in the middle of its refunds.

ticketd runs embedded with the Stripe adapter against tools/fake-stripe, which counts charges and refunds.
Every buyer holds one seat and pays for it; the organizer cancels the event; the refund job (paced at 250 a
second, so it spans many passes) meets gateway faults (500s before anything happens, replies lost after
the refund happened, latency), and ticketd is killed -9 at about a third and two thirds of the refunds and
restarted on the same data dir. Then:
  - every booking is CANCELLED and its ticket REVOKED;
  - the gateway refunded each charge exactly once, in full (refund count = bookings, refunded amount =
    charged amount, every charge's amount_refunded = its amount);
  - each buyer has exactly one cancellation notice queued (outbox rows of kind booking_cancelled);
  - `ticketd verify` is clean and SQLite's integrity check passes.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
import uuid
from pathlib import Path

import api_support
from aio_http import Conn
from chaos_support import ChaosFailure, Target, check, log, report, setup_sale, sqlite_integrity, sqlite_ro, verify_ok
from fake_stripe import API_KEY, WEBHOOK_SECRET, FakeStripe

LONG = dict(bookings=5_000, workers=40, deadline_s=900)
SHORT = dict(bookings=300, workers=20, deadline_s=180)
REFUNDS_PER_S = 250
KILL_AT = (1 / 3, 2 / 3)  # of the bookings refunded


async def buy_all(target: Target, event, workers: int) -> int:
    """Buyer i holds seat i and pays; returns the number of bookings confirmed."""
    conns = [Conn(target) for _ in range(workers)]
    confirmed = 0

    async def worker(w: int) -> None:
        nonlocal confirmed
        conn = conns[w]
        for i in range(w, len(event.tokens), workers):
            token = event.tokens[i]
            r = await conn.post(f"/v1/events/{event.id}/holds", {"seat_ids": [i]}, token=token)
            check(r.status == 201, f"hold of seat {i}: {r.describe()}")
            key = f"cancel-{uuid.uuid4().hex}"
            for _ in range(50):
                b = await conn.post(f"/v1/holds/{r.body['id']}/checkout", {"payment_method": "pm_card_visa"},
                                    token=token, headers={"Idempotency-Key": key})
                if b.status != 503:
                    break
                await asyncio.sleep(0.1)
            check(b.status == 201 and b.body["status"] == "CONFIRMED", f"checkout of seat {i}: {b.describe()}")
            confirmed += 1

    try:
        await asyncio.gather(*(worker(w) for w in range(workers)))
    finally:
        for c in conns:
            await c.close()
    return confirmed


def progress(port: int, admin_token: str, event_id: int) -> dict:
    client = api_support.Client(port, admin_token)
    try:
        return api_support.expect(client.get(f"/v1/events/{event_id}/cancellation"), 200)
    finally:
        client.close()


def stored_outcome(data_dir: Path, event_id: int) -> dict:
    db = sqlite_ro(data_dir)
    try:
        q = lambda sql: db.execute(sql, (event_id,)).fetchone()[0]  # noqa: E731
        return {
            "confirmed": q("SELECT COUNT(*) FROM bookings WHERE event_id = ? AND status = 'CONFIRMED'"),
            "cancelled": q("SELECT COUNT(*) FROM bookings WHERE event_id = ? AND status = 'CANCELLED'"),
            "live_tickets": q("SELECT COUNT(*) FROM tickets WHERE event_id = ? AND status <> 'REVOKED'"),
            "notices": q("SELECT COUNT(*) FROM outbox WHERE event_id = ? AND kind = 'booking_cancelled' "
                         "AND channel = 'email'"),
            "bookings_notified_twice": q("SELECT COUNT(*) FROM (SELECT booking_id FROM outbox WHERE event_id = ? "
                                         "AND kind = 'booking_cancelled' AND channel = 'email' GROUP BY booking_id "
                                         "HAVING COUNT(*) > 1)"),
        }
    finally:
        db.close()


async def run(short: bool, seed: int) -> bool:
    p = SHORT if short else LONG
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="ticketd-chaos-cancel."))
    port = api_support.free_port()
    fake = FakeStripe(f"http://127.0.0.1:{port}/v1/payments/stripe/webhook", work / "fake-stripe.log")
    server = api_support.Server(work / "data", hold_ttl_s=600, log_path=work / "server.log", port=port,
                                backend=api_support.EmbeddedBackend(), extra_env={
                                    "TICKETD_STRIPE_SECRET_KEY": API_KEY,
                                    "TICKETD_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
                                    "TICKETD_STRIPE_TIMEOUT_MS": "2000",
                                    "TICKETD_HOLDS_PER_USER_MAX": "100000",
                                    "TICKETD_EVENT_REFUNDS_PER_S": str(REFUNDS_PER_S)})
    target = Target(port=port)
    kills = 0
    ok = False
    try:
        fake.start()
        server.extra_env["TICKETD_STRIPE_API_BASE"] = fake.api_base
        server.start()
        event = setup_sale(port, p["bookings"], p["bookings"], f"cancel{seed}")
        log(f"seed={seed} bookings={p['bookings']} work dir {work}")
        confirmed = await buy_all(target, event, p["workers"])
        check(confirmed == p["bookings"], f"{confirmed} bookings confirmed of {p['bookings']}")
        charged = fake.stats()
        log(f"{confirmed} bookings paid: {charged['charges']} charges, {charged['charged_amount_total']} charged")

        admin_token = api_support.login_token(port, api_support.ADMIN_EMAIL, api_support.ADMIN_PASSWORD)
        client = api_support.Client(port, admin_token)
        api_support.expect(client.post(f"/v1/events/{event.id}/cancel", {"reason": "chaos"}), 202)
        client.close()
        # Faults while the job runs: 500s before anything happens, replies lost after the refund happened.
        fake.faults(fail_next=40, drop_next=15, latency_ms=2)
        deadline = time.monotonic() + p["deadline_s"]
        for fraction in KILL_AT:
            while progress(port, admin_token, event.id)["bookings_cancelled"] < fraction * confirmed:
                check(time.monotonic() < deadline, "refunds did not progress")
                await asyncio.sleep(0.05)
            server.kill()
            kills += 1
            log(f"kill -9 #{kills} at {fraction:.0%} of the refunds")
            await asyncio.to_thread(verify_ok, server, f"after kill #{kills}")
            fake.faults(fail_next=20, drop_next=10)
            server.start()
            admin_token = api_support.login_token(port, api_support.ADMIN_EMAIL, api_support.ADMIN_PASSWORD)
        while (view := progress(port, admin_token, event.id))["status"] != "REFUNDED":
            check(time.monotonic() < deadline, f"refunds did not finish: {view}")
            await asyncio.sleep(0.2)
        fake.reset()
        stats = fake.stats()
        charges = fake.charges()
        await asyncio.to_thread(server.stop)
        await asyncio.to_thread(verify_ok, server, "after the refunds")
        check(sqlite_integrity(work / "data") == "ok", "PRAGMA integrity_check failed")
        stored = stored_outcome(work / "data", event.id)
        check(stored["confirmed"] == 0 and stored["cancelled"] == confirmed, f"bookings: {stored}")
        check(stored["live_tickets"] == 0, f"{stored['live_tickets']} tickets still live")
        check(stats["charges"] == confirmed, f"{stats['charges']} charges for {confirmed} bookings")
        check(stats["refunds"] == confirmed, f"{stats['refunds']} refunds for {confirmed} bookings")
        check(stats["refunded_amount_total"] == stats["charged_amount_total"],
              f"refunded {stats['refunded_amount_total']} of {stats['charged_amount_total']} charged")
        partial = [c for c in charges if c.get("amount_refunded") != c.get("amount")]
        check(not partial, f"{len(partial)} charges not refunded exactly once in full, e.g. {partial[:2]}")
        check(stored["notices"] == confirmed and stored["bookings_notified_twice"] == 0,
              f"cancellation notices: {stored}")
        log(f"{confirmed} bookings refunded once each through {kills} kills; "
            f"{stats.get('idempotent_replays', 0)} idempotent replays at the gateway")
        ok = True
        report("cancel", True, started, seed=seed, bookings=confirmed, kills_survived=kills,
               refunds=stats["refunds"], refunded_amount=stats["refunded_amount_total"],
               gateway_replays=stats.get("idempotent_replays", 0), notices=stored["notices"])
        return True
    except ChaosFailure as exc:
        print(f"FAILED: {exc}\n{server.log_tail()}", flush=True)
        report("cancel", False, started, seed=seed, kills_survived=kills)
        return False
    finally:
        server.kill()
        fake.stop()
        if ok:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"  kept {work} for inspection", flush=True)
