"""disk: the embedded store's disk fills up during a sale, and empties again.

The data dir is a small tmpfs this run mounts (64 MiB; if mounting is not permitted, a loop-mounted ext4
image). A flash sale runs on it; at a random point a filler file grows (like a runaway log, 2 MiB every
5 ms) until the file system is full (ENOSPC). While it is full:
  - writes are refused with 503 JSON (`unavailable`, Retry-After): a hold, a login;
  - reads keep working: the event, its seat map, an acknowledged booking as its buyer;
  - the database passes `PRAGMA integrity_check` (read-only, while ticketd runs) and the process lives;
then the filler is deleted and, without a restart (same pid), writes succeed again and the sale goes
on. Several fill/free cycles; at the end the event is sold out, every acknowledged booking is there,
`ticketd verify` passes, and no answer was a 500.
"""

from __future__ import annotations

import asyncio
import errno
import random
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import api_support
from aio_http import Conn
from chaos_support import (ChaosFailure, FlashSale, Target, api_ack_problems, check, log, report, sale_summary,
                           setup_sale, sqlite_ack_problems, sqlite_integrity, verify_ok)

FS_MIB = 64
FULL_FOR_S = 3.0
RECOVERY_WAIT_S = 20.0  # after space returns, writes must work again within this
LONG = dict(seats=20_000, buyers=5_000, cycles=5, workers=12, deadline_s=600)
SHORT = dict(seats=4_000, buyers=1_000, cycles=1, workers=8, deadline_s=180)


def mount_small_fs(mnt: Path, image: Path) -> str:
    """Mounts a FS_MIB file system at mnt: tmpfs, or a loop-mounted ext4 image. Returns which."""
    mnt.mkdir(parents=True)
    tmpfs = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={FS_MIB}m,mode=0755", "tmpfs", str(mnt)],
                           capture_output=True, text=True)
    if tmpfs.returncode == 0:
        return "tmpfs"
    subprocess.run(["truncate", "-s", f"{FS_MIB}M", str(image)], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-m", "0", str(image)], check=True)
    loop = subprocess.run(["mount", "-o", "loop", str(image), str(mnt)], capture_output=True, text=True)
    check(loop.returncode == 0, f"cannot mount a small file system here: tmpfs: {tmpfs.stderr.strip()}; "
                                f"loop ext4: {loop.stderr.strip()}")
    return "ext4 (loop)"


def fill(path: Path) -> int:
    """Grows `path` 2 MiB at a time (5 ms apart) until the file system is full; returns bytes written."""
    chunk = b"\0" * (2 << 20)
    written = 0
    with open(path, "wb", buffering=0) as out:
        while True:
            try:
                written += out.write(chunk)
            except OSError as exc:
                check(exc.errno == errno.ENOSPC, f"filler: {exc!r}")
                break
            time.sleep(0.005)
        # The last bytes: fill to the very end, not just to the last whole MiB.
        for size in (64 << 10, 4 << 10, 512):
            while True:
                try:
                    written += out.write(b"\0" * size)
                except OSError:
                    break
    return written


async def while_full(target: Target, server: api_support.Server, event, sale: FlashSale, data_dir: Path) -> dict:
    """The checks while the disk is full; returns counts."""
    conn = Conn(target)
    counts = dict(writes_refused=0, reads_ok=0)
    try:
        end = time.monotonic() + FULL_FOR_S
        while time.monotonic() < end:
            login = await conn.post("/v1/sessions", {"email": api_support.ADMIN_EMAIL,
                                                     "password": api_support.ADMIN_PASSWORD})
            check(login.status == 503 and login.error_code == "unavailable" and "retry-after" in login.headers,
                  f"a login (it writes a session) on a full disk: {login.describe()}")
            hold = await conn.post(f"/v1/events/{event.id}/holds", {"quantity": 1}, token=event.tokens[0])
            ev = await conn.get(f"/v1/events/{event.id}")
            sold_out = ev.status == 200 and ev.body["counts"]["available"] == 0
            check((hold.status == 503 and hold.error_code == "unavailable") or (sold_out and hold.status == 409),
                  f"a hold on a full disk: {hold.describe()}")
            counts["writes_refused"] += 1 + (hold.status == 503)
            for path in (f"/v1/events/{event.id}", f"/v1/events/{event.id}/seats?format=compact"):
                r = await conn.get(path)
                check(r.status == 200, f"GET {path} on a full disk: {r.describe()}")
                counts["reads_ok"] += 1
            if sale.acks:
                ack = sale.acks[-1]
                r = await conn.get(f"/v1/bookings/{ack.booking_id}", token=event.tokens[ack.buyer])
                check(r.status == 200 and r.body["status"] == "CONFIRMED", f"a booking on a full disk: {r.describe()}")
                counts["reads_ok"] += 1
            check(server.running(), f"ticketd died on a full disk\n{server.log_tail()}")
            await asyncio.sleep(0.2)
        integrity = await asyncio.to_thread(sqlite_integrity, data_dir)
        check(integrity == "ok", f"PRAGMA integrity_check on a full disk: {integrity}")
    finally:
        await conn.close()
    return counts


async def until_writable(target: Target, event) -> float:
    """Seconds until a hold is granted again (released at once)."""
    conn = Conn(target)
    started = time.monotonic()
    try:
        while time.monotonic() - started < RECOVERY_WAIT_S:
            r = await conn.post(f"/v1/events/{event.id}/holds", {"quantity": 1}, token=event.tokens[1])
            if r.status == 201:
                await conn.delete(f"/v1/holds/{r.body['id']}", token=event.tokens[1])
                return time.monotonic() - started
            check(r.status in (503, 409), f"a hold after space returned: {r.describe()}")
            await asyncio.sleep(0.2)
    finally:
        await conn.close()
    raise ChaosFailure(f"writes did not resume within {RECOVERY_WAIT_S} s of space returning")


async def run(short: bool, seed: int) -> bool:
    p = SHORT if short else LONG
    started = time.monotonic()
    rng = random.Random(seed)
    work = Path(tempfile.mkdtemp(prefix="ticketd-chaos-disk."))
    mnt = work / "mnt"
    fs = mount_small_fs(mnt, work / "fs.img")
    data_dir = mnt / "data"
    filler = mnt / "filler"
    server = api_support.Server(data_dir, hold_ttl_s=5, log_path=work / "server.log", port=api_support.free_port(),
                                backend=api_support.EmbeddedBackend())
    target = Target(port=server.fixed_port)
    totals = dict(fs=fs, fs_mib=FS_MIB, disk_full_cycles=0, writes_refused=0, reads_ok=0, filler_mib_max=0,
                  recovery_s_max=0.0)
    sale = None
    ok = False
    try:
        server.start()
        pid = server.proc.pid
        event = setup_sale(server.port, p["seats"], p["buyers"], f"disk{seed}")
        sale = FlashSale(target, event, workers=p["workers"], seed=seed)
        thresholds = sorted(rng.uniform(0.05, 0.75) for _ in range(p["cycles"]))

        async def filler_loop() -> None:
            for threshold in thresholds:
                while sale.sold_fraction < threshold:
                    await asyncio.sleep(0.05)
                written = await asyncio.to_thread(fill, filler)
                log(f"disk full at {sale.sold_fraction:.1%} sold ({written >> 20} MiB of filler)")
                counts = await while_full(target, server, event, sale, data_dir)
                filler.unlink()
                recovery_s = await until_writable(target, event)
                check(server.proc is not None and server.proc.pid == pid, "ticketd was restarted")
                totals["disk_full_cycles"] += 1
                totals["writes_refused"] += counts["writes_refused"]
                totals["reads_ok"] += counts["reads_ok"]
                totals["filler_mib_max"] = max(totals["filler_mib_max"], written >> 20)
                totals["recovery_s_max"] = round(max(totals["recovery_s_max"], recovery_s), 2)
                log(f"space back: writes work again after {recovery_s:.2f} s, same pid")

        filling = asyncio.create_task(filler_loop())
        filling.add_done_callback(lambda t: t.cancelled() or t.exception() is None or sale.done.set())
        sold_out = await sale.run(p["deadline_s"])
        if not filling.done():
            filling.cancel()
        try:
            await filling  # re-raises a ChaosFailure of the filler
        except asyncio.CancelledError:
            pass
        check(sold_out, f"the sale did not sell out within {p['deadline_s']} s (server counts {sale.server_counts})")
        check(totals["disk_full_cycles"] == p["cycles"], f"{totals['disk_full_cycles']} of {p['cycles']} cycles ran")
        check(not sale.double_acked, f"seats in two acknowledged bookings: {sale.double_acked[:20]}")
        check(not sale.unexpected, f"{sale.unexpected_total} unexpected answers:\n" + "\n".join(sale.unexpected))
        problems = await asyncio.to_thread(sqlite_ack_problems, data_dir, event.id, sale.acks)
        problems += await api_ack_problems(target, event, sale.acks)
        check(not problems, "\n".join(problems[:20]))
        await asyncio.to_thread(server.stop)
        await asyncio.to_thread(verify_ok, server, "after the disk-full cycles")
        check(sqlite_integrity(data_dir) == "ok", "PRAGMA integrity_check failed at the end")
        ok = True
        report("disk", True, started, seed=seed, seats=event.seats_total, bookings_checked=len(sale.acks), **totals,
               **sale_summary(sale))
        return True
    except ChaosFailure as exc:
        print(f"FAILED: {exc}\n{server.log_tail()}", flush=True)
        report("disk", False, started, seed=seed, **totals, **(sale_summary(sale) if sale else {}))
        return False
    finally:
        server.kill()
        log_copy = work / "server.log"
        subprocess.run(["umount", str(mnt)], capture_output=True)
        if ok:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"  kept {work} for inspection (server log {log_copy})", flush=True)
