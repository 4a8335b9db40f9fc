"""clock: the wall clock of the ticketd process jumps forwards and backwards by minutes during live holds.

The machine's clock is shared and never touched: ticketd runs under libfaketime (Debian's libfaketime,
LD_PRELOAD), which reads the offset of the process's wall clock from a control file at every call, with
CLOCK_MONOTONIC left alone (FAKETIME_DONT_FAKE_MONOTONIC=1), as a real clock step (an operator, a bad
NTP server, a resumed VM) leaves it. Each cycle, with a hold TTL of HOLD_TTL_S:
  1. HOLDS buyers each hold one seat;
  2. the wall clock jumps forward by JUMP_S: every hold must still be ACTIVE and its seat HELD, and a
     checkout of one of them succeeds (no early expiry);
  3. the wall clock jumps back by JUMP_S (now JUMP_S behind the real time): still ACTIVE, and a second
     checkout succeeds;
  4. once HOLD_TTL_S of real time has passed since the holds were granted (plus the sweep), every hold
     not checked out must be EXPIRED and its seat AVAILABLE again (no hold lives on), although the
     process's clock says that far less time has passed.
A `date` under the same settings proves that the control file really moves the process's wall clock.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import api_support
from aio_http import Conn
from chaos_support import ChaosFailure, Target, check, log, report, setup_sale, verify_ok

LIBFAKETIME = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1")
HOLD_TTL_S = 8
HOLDS = 20
JUMP_S = 300  # five minutes
SETTLE_S = 3.0  # after the TTL: the sweeper's interval and a margin
LONG_CYCLES = 6
SHORT_CYCLES = 1


def set_offset(control: Path, offset_s: int) -> None:
    tmp = control.with_suffix(".tmp")
    tmp.write_text(f"{offset_s:+d}\n")
    tmp.replace(control)  # atomic: the process never reads a half-written file


def fake_env(control: Path) -> dict[str, str]:
    return {"LD_PRELOAD": str(LIBFAKETIME), "FAKETIME_TIMESTAMP_FILE": str(control), "FAKETIME_NO_CACHE": "1",
            "FAKETIME_DONT_FAKE_MONOTONIC": "1"}


def faked_date_offset_s(control: Path) -> float:
    """How far `date` under the same libfaketime settings is from the real clock."""
    out = subprocess.run(["date", "+%s"], env=dict(os.environ, **fake_env(control)), capture_output=True,
                         text=True, check=True)
    return int(out.stdout.strip()) - time.time()


async def statuses(conn: Conn, event, holds: list[tuple[int, int, int]]) -> tuple[list[str], str]:
    """Each hold's status (as its buyer) and the event's compact seat map."""
    out = []
    for hold_id, buyer, _seat in holds:
        r = await conn.get(f"/v1/holds/{hold_id}", token=event.tokens[buyer])
        check(r.status == 200, f"GET hold {hold_id}: {r.describe()}")
        out.append(r.body["status"])
    r = await conn.get(f"/v1/events/{event.id}/seats?format=compact")
    check(r.status == 200, f"seat map: {r.describe()}")
    return out, r.body["status"]


async def checkout(conn: Conn, event, hold: tuple[int, int, int], what: str) -> None:
    hold_id, buyer, _ = hold
    r = await conn.post(f"/v1/holds/{hold_id}/checkout", {"payment_method": "pm_card_visa"}, token=event.tokens[buyer],
                        headers={"Idempotency-Key": f"clock-{hold_id}"})
    check(r.status == 201, f"checkout {what}: {r.describe()}")


async def cycle(conn: Conn, event, control: Path, index: int, counts: dict) -> None:
    first_seat = index * HOLDS
    holds = []
    for i in range(HOLDS):
        buyer = index * HOLDS + i
        r = await conn.post(f"/v1/events/{event.id}/holds", {"seat_ids": [first_seat + i]}, token=event.tokens[buyer])
        check(r.status == 201, f"hold: {r.describe()}")
        holds.append((r.body["id"], buyer, first_seat + i))
    granted = time.monotonic()
    counts["holds"] += HOLDS
    for offset, what in ((+JUMP_S, "forward"), (-JUMP_S, "backward")):
        set_offset(control, offset)
        seen = faked_date_offset_s(control)
        check(abs(seen - offset) < 5, f"libfaketime did not move the wall clock: offset {seen:.0f} s, wanted {offset}")
        counts["jumps"] += 1
        await asyncio.sleep(0.5)
        status, seat_map = await statuses(conn, event, holds)
        early = [h[0] for h, s in zip(holds, status) if s not in ("ACTIVE", "CONVERTED")]
        check(not early, f"after a {JUMP_S} s jump {what}, holds {early} are no longer ACTIVE: {status}")
        check(all(seat_map[h[2]] in "HS" for h in holds), f"after the jump {what}: seats no longer held")
        await checkout(conn, event, holds[0 if what == "forward" else 1], f"after the jump {what}")
        counts["checkouts_after_jump"] += 1
        counts["hold_checks"] += HOLDS
    # The clock stays JUMP_S behind: the holds must still expire after HOLD_TTL_S of real time.
    await asyncio.sleep(max(0.0, granted + HOLD_TTL_S + SETTLE_S - time.monotonic()))
    status, seat_map = await statuses(conn, event, holds)
    lingering = [h[0] for h, s in zip(holds[2:], status[2:]) if s != "EXPIRED"]
    check(not lingering, f"{HOLD_TTL_S + SETTLE_S:.0f} s after they were granted, with the clock {JUMP_S} s behind, "
                         f"holds {lingering} live on: {status}")
    check(all(seat_map[h[2]] == "A" for h in holds[2:]), "seats of expired holds are not AVAILABLE")
    check(seat_map[holds[0][2]] == "S" and seat_map[holds[1][2]] == "S", "the two checked-out seats are not SOLD")
    counts["expiries_checked"] += HOLDS - 2
    set_offset(control, 0)


async def run(short: bool, seed: int) -> bool:
    cycles = SHORT_CYCLES if short else LONG_CYCLES
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="ticketd-chaos-clock."))
    control = work / "faketime"
    counts = dict(cycles=0, holds=0, jumps=0, hold_checks=0, checkouts_after_jump=0, expiries_checked=0)
    if not LIBFAKETIME.is_file():
        print(f"FAILED: {LIBFAKETIME} is missing (scripts/setup installs libfaketime)", flush=True)
        report("clock", False, started, seed=seed, **counts)
        return False
    set_offset(control, 0)
    server = api_support.Server(work / "data", hold_ttl_s=HOLD_TTL_S, log_path=work / "server.log",
                                port=api_support.free_port(), backend=api_support.EmbeddedBackend(),
                                extra_env=fake_env(control))
    target = Target(port=server.fixed_port)
    conn = Conn(target)
    ok = False
    try:
        server.start()
        event = setup_sale(server.port, 100 * ((cycles * HOLDS + 99) // 100), cycles * HOLDS, f"clock{seed}")
        for index in range(cycles):
            await cycle(conn, event, control, index, counts)
            counts["cycles"] += 1
            log(f"cycle {index + 1}/{cycles}: jumps of +-{JUMP_S} s, no hold expired early or lived on")
        await conn.close()
        await asyncio.to_thread(server.stop)
        await asyncio.to_thread(verify_ok, server, "after the clock jumps")
        ok = True
        report("clock", True, started, seed=seed, jump_s=JUMP_S, hold_ttl_s=HOLD_TTL_S, **counts)
        return True
    except ChaosFailure as exc:
        print(f"FAILED: {exc}\n{server.log_tail()}", flush=True)
        report("clock", False, started, seed=seed, **counts)
        return False
    finally:
        await conn.close()
        server.kill()
        if ok:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"  kept {work} for inspection", flush=True)
