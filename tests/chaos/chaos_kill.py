"""kill: `kill -9` an embedded ticketd at random moments of a flash sale and restart it on the same data dir.

The kill moments are drawn as fractions of the event sold (uniform in [3 %, 95 %], plus 0-300 ms), so
every kill lands mid-sale with requests in flight, whatever the machine's speed. After each kill, while
the server is down, `ticketd verify` audits the data dir; after each restart every booking acknowledged
so far is looked up in the database (CONFIRMED, its seats sold to it) and no seat is in two live
bookings. At the end: the event is sold out, `ticketd verify` and `PRAGMA integrity_check` pass after a
clean SIGTERM, every acknowledged booking reads back through the API as its buyer, and the seat map
shows every seat sold.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import tempfile
import time
from pathlib import Path

import api_support
from chaos_support import (ChaosFailure, FlashSale, Target, api_ack_problems, check, compact_map, log, report,
                           sale_summary, setup_sale, sqlite_ack_problems, sqlite_integrity, verify_ok)

LONG = dict(seats=50_000, buyers=10_000, kills=20, workers=48, hold_ttl_s=10, deadline_s=1500)
SHORT = dict(seats=2_000, buyers=1_000, kills=3, workers=24, hold_ttl_s=3, deadline_s=90)


async def run(short: bool, seed: int) -> bool:
    p = SHORT if short else LONG
    started = time.monotonic()
    rng = random.Random(seed)
    work = Path(tempfile.mkdtemp(prefix="ticketd-chaos-kill."))
    data_dir = work / "data"
    server = api_support.Server(data_dir, hold_ttl_s=p["hold_ttl_s"], log_path=work / "server.log",
                                port=api_support.free_port(), backend=api_support.EmbeddedBackend(),
                                extra_env={"TICKETD_RECONCILE_INTERVAL_MS": "500",
                                           "TICKETD_PAYMENT_RECONCILE_AFTER_S": "1"})
    target = Target(port=server.fixed_port)
    log(f"seed={seed} seats={p['seats']} kills={p['kills']} work dir {work}")
    kills = verify_runs = ack_checks = 0
    sale = None
    ok = False
    try:
        server.start()
        event = setup_sale(server.port, p["seats"], p["buyers"], f"kill{seed}")
        up = asyncio.Event()
        up.set()
        sale = FlashSale(target, event, workers=p["workers"], seed=seed, up=up)
        thresholds = sorted(rng.uniform(0.03, 0.95) for _ in range(p["kills"]))

        async def killer() -> None:
            nonlocal kills, verify_runs, ack_checks
            for threshold in thresholds:
                while sale.sold_fraction < threshold:
                    await asyncio.sleep(0.02)
                await asyncio.sleep(rng.uniform(0.0, 0.3))
                up.clear()
                await asyncio.to_thread(server.kill)
                kills += 1
                await asyncio.to_thread(verify_ok, server, f"after kill {kills}")
                verify_runs += 1
                await asyncio.to_thread(server.start)
                acks = list(sale.acks)
                problems = await asyncio.to_thread(sqlite_ack_problems, data_dir, event.id, acks)
                check(not problems, f"after kill {kills}: " + "\n".join(problems[:20]))
                ack_checks += len(acks)
                log(f"kill {kills}/{p['kills']} at {sale.sold_fraction:.1%} sold: verify ok, "
                    f"{len(acks)} acknowledged bookings present")
                up.set()

        killing = asyncio.create_task(killer())
        killing.add_done_callback(lambda t: t.cancelled() or t.exception() is None or sale.done.set())
        sold_out = await sale.run(p["deadline_s"])
        if not killing.done():
            killing.cancel()
        try:
            await killing
        except asyncio.CancelledError:
            pass
        check(sold_out, f"the sale did not sell out within {p['deadline_s']} s "
                        f"(server counts {sale.server_counts}, {len(sale.acked_seats)} seats acknowledged)")
        check(kills == p["kills"], f"only {kills} of {p['kills']} kills happened")
        check(not sale.double_acked, f"seats in two acknowledged bookings: {sale.double_acked[:20]}")
        check(not sale.unexpected, f"{sale.unexpected_total} unexpected answers:\n" + "\n".join(sale.unexpected))
        # Final audit, offline and online.
        await asyncio.to_thread(server.stop)
        await asyncio.to_thread(verify_ok, server, "at the end")
        verify_runs += 1
        await asyncio.to_thread(server.start)
        integrity = await asyncio.to_thread(sqlite_integrity, data_dir)
        check(integrity == "ok", f"PRAGMA integrity_check: {integrity}")
        problems = await asyncio.to_thread(sqlite_ack_problems, data_dir, event.id, sale.acks)
        problems += await api_ack_problems(target, event, sale.acks)
        check(not problems, "at the end:\n" + "\n".join(problems[:20]))
        ack_checks += 2 * len(sale.acks)
        status = await compact_map(target, event.id)
        check(status == "S" * event.seats_total,
              f"seat map not sold out: {status.count('A')} A, {status.count('H')} H, {status.count('S')} S")
        unacknowledged = event.seats_total - len(sale.acked_seats)
        await asyncio.to_thread(server.stop)
        ok = True
        report("kill", True, started, seed=seed, seats=event.seats_total, kills_survived=kills,
               verify_runs=verify_runs, booking_checks=ack_checks, seats_sold=status.count("S"),
               seats_sold_unacknowledged=unacknowledged, **sale_summary(sale))
        return True
    except ChaosFailure as exc:
        print(f"FAILED: {exc}\n{server.log_tail()}", flush=True)
        report("kill", False, started, seed=seed, kills_survived=kills, verify_runs=verify_runs,
               **(sale_summary(sale) if sale else {}))
        return False
    finally:
        server.kill()
        if ok:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"  kept {work} for inspection", flush=True)
