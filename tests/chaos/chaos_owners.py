"""owners: PostgreSQL + Redis + 3 ticketd nodes deciding seats as event owners
(docs/architecture.md "Event ownership"), during one sale bought through all three nodes:

  - kill: KILLS times, the event's owner (its event_owners row) is SIGKILLed. The failover time is from
    the kill until a survivor answers a call only the owner can answer (the event's seat map); the
    killed node is then started again on its address. Bound: the lease (10 s) + 2 s, each time.
  - pause: the owner is SIGSTOPped for the lease + PAUSE_PAST_LEASE_S, so a survivor takes the event
    over when the lease lapses (failover time likewise), then SIGCONT. Whatever the paused node decided
    from the requests it had queued must be refused by the epoch fence: its
    ticketd_owner_commits_total{result="fenced"} counts them, and none of them sells a seat.
  - postgres: fast shutdown of PostgreSQL, started again DOWN_S later; redis: SIGKILL (it comes back
    empty), started again DOWN_S later.
Then: the sale sells out; zero oversold (SQL); every acknowledged booking is CONFIRMED with its seats in
PostgreSQL and reads back through the API; `ticketd verify --store postgres` passes; no 500.
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
import chaos_distributed
import services
from aio_http import Conn, TransportError
from chaos_support import (ChaosFailure, FlashSale, Target, api_ack_problems, check, log, report, sale_summary,
                           setup_sale, verify_ok)

LEASE_S = 10.0  # src/wiring/stores.cpp, kEventLease
FAILOVER_BOUND_S = LEASE_S + 2.0
PAUSE_PAST_LEASE_S = 2.0
DOWN_S = 2.0
HOLD_TTL_S = 5  # abandoned holds come back while the sale runs (a pause outlasts it: its checkouts may expire)
PROBE_TIMEOUT_S = 6.0  # one seat-map probe; a forward to a paused owner times out after 5 s
LONG = dict(seats=20_000, buyers=5_000, kills=10, workers=24, deadline_s=900)
SHORT = dict(seats=4_000, buyers=1_000, kills=3, workers=18, deadline_s=300)
DATABASE = "chaos"
REDIS_DB = 1


def owner_port(pg: services.Postgres, event_id: int) -> int | None:
    rows = pg.query(DATABASE, f"SELECT address FROM event_owners WHERE event_id = {int(event_id)} "
                              "AND expires_at > clock_timestamp()")
    return int(rows[0][0].rsplit(":", 1)[1]) if rows else None


async def served_by_a_survivor(nodes: list[api_support.Server], down: int, event_id: int, started: float) -> float:
    """Seconds from `started` until a node other than `down` answers the event's seat map."""
    survivors = [n for i, n in enumerate(nodes) if i != down]
    attempt = 0
    last = ""
    while time.monotonic() - started < FAILOVER_BOUND_S + 30:
        conn = Conn(Target(port=survivors[attempt % len(survivors)].port))
        attempt += 1
        try:
            r = await conn.get(f"/v1/events/{event_id}/seats?format=compact", timeout_s=PROBE_TIMEOUT_S)
            if r.status == 200:
                return time.monotonic() - started
            last = r.describe()
        except TransportError as e:
            last = f"transport: {e}"
        finally:
            await conn.close()
        await asyncio.sleep(0.02)
    raise ChaosFailure(f"event {event_id} not served by a survivor within {FAILOVER_BOUND_S + 30} s; last: {last}")


def fenced_total(node: api_support.Server) -> int:
    prefix = 'ticketd_owner_commits_total{result="fenced"} '
    for line in api_support.metrics_text(node.port).splitlines():
        if line.startswith(prefix):
            return int(float(line[len(prefix):]))
    return 0


async def run(short: bool, seed: int) -> bool:
    p = SHORT if short else LONG
    started = time.monotonic()
    rng = random.Random(seed)
    work = Path(tempfile.mkdtemp(prefix="ticketd-chaos-owners."))
    work.chmod(0o755)  # PostgreSQL runs as an unprivileged user under it
    pg = services.Postgres(work)
    redis = services.Redis(work)
    nodes: list[api_support.Server] = []
    totals: dict = dict(nodes=3, kills=0, pauses=0, postgres_restarts=0, redis_kills=0, fenced=0)
    failovers: list[float] = []  # every failover, in order
    kill_failovers: list[float] = []
    sale = None
    ok = False
    try:
        await asyncio.to_thread(pg.start)
        await asyncio.to_thread(redis.start)
        pg.create_database(DATABASE)
        redis.command("FLUSHDB", db=REDIS_DB)
        backend = api_support.DistributedBackend(f"postgresql://{services.PG_USER}@127.0.0.1:{pg.port}/{DATABASE}",
                                                 f"redis://127.0.0.1:{redis.port}/{REDIS_DB}")
        env = {"TICKETD_RECONCILE_INTERVAL_MS": "500", "TICKETD_PAYMENT_RECONCILE_AFTER_S": "2"}
        nodes = [api_support.Server(work / f"node{i}", hold_ttl_s=HOLD_TTL_S, log_path=work / f"node{i}.log",
                                    port=api_support.free_port(), backend=backend, extra_env=env) for i in range(3)]
        for node in nodes:  # one at a time: the first migrates the schema
            await asyncio.to_thread(node.start)
        event = await asyncio.to_thread(setup_sale, nodes[0].port, p["seats"], p["buyers"], f"owners{seed}")
        targets = [Target(port=n.port) for n in nodes]
        sale = FlashSale(targets[0], event, workers=p["workers"], seed=seed, targets=targets)
        schedule = ["kill"] * p["kills"] + ["pause", "postgres", "redis"]
        rng.shuffle(schedule)
        thresholds = sorted(rng.uniform(0.03, 0.9) for _ in schedule)

        async def owner_index() -> int:
            for _ in range(200):
                port = await asyncio.to_thread(owner_port, pg, event.id)
                for i, node in enumerate(nodes):
                    if node.port == port and node.running():
                        return i
                await asyncio.sleep(0.05)
            raise ChaosFailure(f"event {event.id} has no live owner among the running nodes")

        async def inject() -> None:
            for fault, threshold in zip(schedule, thresholds):
                while sale.sold_fraction < threshold:
                    await asyncio.sleep(0.05)
                if fault in ("kill", "pause"):
                    victim = await owner_index()
                    log(f"{fault} the owner, node {victim}, at {sale.sold_fraction:.1%} sold")
                    if fault == "kill":
                        t0 = time.monotonic()
                        await asyncio.to_thread(nodes[victim].kill)
                        failovers.append(await served_by_a_survivor(nodes, victim, event.id, t0))
                        kill_failovers.append(failovers[-1])
                        await asyncio.to_thread(nodes[victim].start)  # the same address: the same owner name
                        totals["kills"] += 1
                    else:
                        pid = nodes[victim].proc.pid
                        t0 = time.monotonic()
                        os.kill(pid, signal.SIGSTOP)
                        try:
                            failovers.append(await served_by_a_survivor(nodes, victim, event.id, t0))
                            await asyncio.sleep(max(0.0, LEASE_S + PAUSE_PAST_LEASE_S - (time.monotonic() - t0)))
                        finally:
                            os.kill(pid, signal.SIGCONT)
                        await asyncio.sleep(2.0)  # what it had queued meets the fence
                        totals["fenced"] += await asyncio.to_thread(fenced_total, nodes[victim])
                        totals["pauses"] += 1
                    log(f"  failover {failovers[-1]:.2f} s")
                elif fault == "postgres":
                    log(f"postgres restart at {sale.sold_fraction:.1%} sold")
                    await asyncio.to_thread(pg.stop)
                    await asyncio.sleep(DOWN_S)
                    await asyncio.to_thread(pg.start)
                    totals["postgres_restarts"] += 1
                else:
                    log(f"redis kill at {sale.sold_fraction:.1%} sold")
                    await asyncio.to_thread(redis.kill)
                    await asyncio.sleep(DOWN_S)
                    await asyncio.to_thread(redis.start)
                    totals["redis_kills"] += 1
                for i, node in enumerate(nodes):
                    check(node.running(), f"node {i} died after the {fault} fault\n{node.log_tail()}")

        sold_out = await sale.run_with(inject(), p["deadline_s"])
        check(sold_out, f"the sale did not sell out within {p['deadline_s']} s (server counts {sale.server_counts})")
        check(totals["kills"] == p["kills"] and totals["pauses"] == 1, f"not every fault was injected: {totals}")
        slow = [round(f, 2) for f in failovers if f > FAILOVER_BOUND_S]
        check(not slow, f"failovers over {FAILOVER_BOUND_S} s: {slow}")
        check(not sale.double_acked, f"seats in two acknowledged bookings: {sale.double_acked[:20]}")
        check(not sale.unexpected, f"{sale.unexpected_total} unexpected answers:\n" + "\n".join(sale.unexpected))
        problems = await asyncio.to_thread(chaos_distributed.sql_problems, pg, event, sale)
        problems += await api_ack_problems(targets[1], event, sale.acks)
        check(not problems, "\n".join(problems[:20]))
        for node in nodes:
            await asyncio.to_thread(node.stop)
        await asyncio.to_thread(verify_ok, nodes[0], "after the owners' faults")
        ok = True
        report("owners", True, started, seed=seed, seats=event.seats_total, oversold=0,
               bookings_checked=len(sale.acks), **totals,
               failover_s=",".join(f"{f:.2f}" for f in failovers),
               failover_max_s=round(max(failovers), 2) if failovers else 0,
               kill_failover_max_s=round(max(kill_failovers), 2) if kill_failovers else 0, **sale_summary(sale))
        return True
    except (ChaosFailure, RuntimeError, AssertionError) as exc:
        tails = "\n".join(n.log_tail(15) for n in nodes)
        print(f"FAILED: {exc}\n{tails}", flush=True)
        report("owners", False, started, seed=seed, **totals, failover_s=",".join(f"{f:.2f}" for f in failovers),
               **(sale_summary(sale) if sale else {}))
        return False
    finally:
        for node in nodes:
            if node.proc is not None:
                try:
                    os.kill(node.proc.pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass
            node.kill()
        redis.close()
        pg.close()
        if ok:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"  kept {work} for inspection", flush=True)
