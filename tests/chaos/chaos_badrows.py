"""badrows: payments rows the reconciler cannot process, then a restart: the server stays up and says so.

A free hold checked out through the Stripe adapter once aborted the server on an assertion, and the
reconciler took the pending booking back into it two minutes after every restart. No stored row may reach
an assertion. ticketd runs embedded with the Stripe adapter against tools/fake-stripe and a reconciler
every 200 ms:
  1. buyers make checkouts that stay pending (3-D Secure never completed) and one that is paid;
  2. the server stops; each pending payment row is damaged in its own way, in SQLite directly: the free
     total of the old crash, a negative amount, no currency, a currency of digits, no idempotency key,
     a payment reference that is no Stripe id, one Stripe never issued, an amount past Stripe's limit;
  3. the server starts again and the reconciler passes over the rows many times: it must stay up, fail
     the bookings whose rows the gateway refuses (their holds lapse as usual; the log and
     ticketd_reconciled_total{result="refused_by_gateway"} say so), confirm the free one, keep asking
     about those whose outcome it cannot know, keep the paid booking, and leave the database passing
     `ticketd verify`.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

import api_support
from chaos_support import ChaosFailure, check, log, report, setup_sale, verify_ok
from fake_stripe import API_KEY, WEBHOOK_SECRET, FakeStripe

RECONCILE_WAIT_S = 6.0  # ~30 passes of the 200 ms reconciler

# (name, SQL applied to the payment row and its booking; ?1 is the booking id), what must become of it.
DAMAGE = [
    ("free total, no reference", "UPDATE payments SET amount = 0, payment_ref = '' WHERE booking_id = ?1; "
                                 "UPDATE bookings SET total_amount = 0 WHERE id = ?1", "CONFIRMED"),
    ("negative amount", "UPDATE payments SET amount = -5, payment_ref = '' WHERE booking_id = ?1; "
                        "UPDATE bookings SET total_amount = -5 WHERE id = ?1", "FAILED"),
    ("no currency", "UPDATE payments SET currency = '', payment_ref = '' WHERE booking_id = ?1", "FAILED"),
    ("currency of digits", "UPDATE payments SET currency = '123', payment_ref = '' WHERE booking_id = ?1", "FAILED"),
    ("no idempotency key", "UPDATE payments SET gateway_key = '', payment_ref = '' WHERE booking_id = ?1",
     "FAILED"),
    ("reference that is no Stripe id", "UPDATE payments SET payment_ref = '../../v1/refunds?x' "
                                       "WHERE booking_id = ?1", "PENDING_PAYMENT"),
    ("reference Stripe never issued", "UPDATE payments SET payment_ref = 'pi_never_issued' WHERE booking_id = ?1",
     "PENDING_PAYMENT"),
    ("amount past Stripe's limit", "UPDATE payments SET amount = 9223372036854775807, payment_ref = '', "
                                   "gateway_key = gateway_key || '-fresh' WHERE booking_id = ?1; "
                                   "UPDATE bookings SET total_amount = 9223372036854775807 WHERE id = ?1", "FAILED"),
    # Stripe answers idempotency_error: what happened under the key is unknown, so it is asked again.
    ("its key reused with another amount", "UPDATE payments SET amount = amount + 1, payment_ref = '' "
                                           "WHERE booking_id = ?1; UPDATE bookings SET total_amount = "
                                           "total_amount + 1 WHERE id = ?1", "PENDING_PAYMENT"),
]


def damage(data_dir: Path, booking_id: int, sql: str) -> None:
    db = sqlite3.connect(data_dir / "ticketd.db", timeout=30)
    try:
        for statement in sql.split("; "):
            db.execute(statement.replace("?1", str(int(booking_id))))
        db.commit()
    finally:
        db.close()


def metric(server: api_support.Server, line_prefix: str) -> float:
    text = api_support.metrics_text(server.port)
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(line_prefix))


async def run(short: bool, seed: int) -> bool:
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="ticketd-chaos-badrows."))
    port = api_support.free_port()
    fake = FakeStripe(f"http://127.0.0.1:{port}/v1/payments/stripe/webhook", work / "fake-stripe.log")
    server = api_support.Server(work / "data", hold_ttl_s=600, log_path=work / "server.log", port=port,
                                backend=api_support.EmbeddedBackend(), extra_env={
                                    "TICKETD_STRIPE_SECRET_KEY": API_KEY,
                                    "TICKETD_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
                                    "TICKETD_RECONCILE_INTERVAL_MS": "200",
                                    "TICKETD_PAYMENT_RECONCILE_AFTER_S": "1"})
    ok = False
    try:
        fake.start()
        server.extra_env["TICKETD_STRIPE_API_BASE"] = fake.api_base
        server.start()
        event = setup_sale(port, 100, len(DAMAGE) + 1, f"badrows{seed}")
        clients = [api_support.Client(port, token) for token in event.tokens]
        bookings = []
        for index, (name, _, _) in enumerate(DAMAGE):
            hold = api_support.expect(api_support.hold_seats(clients[index], event.id, [index]), 201)
            pending = api_support.expect(api_support.checkout(clients[index], hold["id"],
                                                              "pm_card_authenticationRequired"), 202)
            bookings.append(pending["id"])
        paid_hold = api_support.expect(api_support.hold_seats(clients[-1], event.id, [50]), 201)
        paid = api_support.expect(api_support.checkout(clients[-1], paid_hold["id"]), 201)
        await asyncio.to_thread(server.stop)
        for booking_id, (name, sql, _) in zip(bookings, DAMAGE):
            damage(work / "data", booking_id, sql)
        log(f"damaged {len(DAMAGE)} payments rows; restarting")
        await asyncio.to_thread(server.start)
        await asyncio.sleep(RECONCILE_WAIT_S)
        check(server.running(), f"the server died over damaged rows\n{server.log_tail()}")
        check(api_support.Client(port).get("/healthz").status == 200, "/healthz after the reconciler's passes")
        outcomes = {}
        for index, (booking_id, (name, _, expected)) in enumerate(zip(bookings, DAMAGE)):
            got = api_support.expect(clients[index].get(f"/v1/bookings/{booking_id}"), 200)["status"]
            outcomes[name] = got
            check(got == expected, f"{name}: booking {booking_id} is {got}, expected {expected}")
        status = api_support.compact_status(clients[0], event.id)
        for index, (_, _, expected) in enumerate(DAMAGE):
            # A refused row fails its booking like an unknown card: the hold stays until it lapses.
            want = {"FAILED": "H", "CONFIRMED": "S", "PENDING_PAYMENT": "H"}[expected]
            check(status[index] == want, f"seat {index} is {status[index]}, expected {want}")
        check(api_support.expect(clients[-1].get(f"/v1/bookings/{paid['id']}"), 200)["status"] == "CONFIRMED",
              "the paid booking changed")
        refused = metric(server, 'ticketd_reconciled_total{result="refused_by_gateway"}')
        check(refused >= 1, "no refusal counted in ticketd_reconciled_total")
        check("reconciler failed_bookings=" in server.log_tail(200_000), "the log does not report the refused rows")
        check(fake.stats()["charges"] == 1, f"{fake.stats()['charges']} charges at the gateway, expected 1")
        await asyncio.to_thread(server.stop)
        await asyncio.to_thread(verify_ok, server, "after the damaged rows")
        log("outcomes: " + ", ".join(f"{k}: {v}" for k, v in outcomes.items()))
        ok = True
        failed = sum(1 for v in outcomes.values() if v == "FAILED")
        report("badrows", True, started, seed=seed, damaged_rows=len(DAMAGE), bookings_failed=failed,
               bookings_left_pending=sum(1 for v in outcomes.values() if v == "PENDING_PAYMENT"),
               refused_by_gateway_counted=int(refused), restarts=1)
        return True
    except (ChaosFailure, AssertionError) as exc:
        print(f"FAILED: {exc}\n{server.log_tail()}", flush=True)
        report("badrows", False, started, seed=seed)
        return False
    finally:
        server.kill()
        fake.stop()
        if ok:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"  kept {work} for inspection", flush=True)
