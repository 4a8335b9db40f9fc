#!/usr/bin/env python3
"""Live seat map fan-out: N concurrent Server-Sent Events subscribers on one ticketd node.

    tools/bench/sse_fanout.py --port P --event E --server-pid PID [--subscribers 10000] [--changes 5]

Opens N streams of /v1/events/E/seats/stream (one TCP connection each, as browsers do), waits until
every one has its snapshot, then makes CHANGES seat changes through the API (a registered user holds
one seat, then releases it, ...) and waits until every subscriber has seen every change, in version
order. Prints JSON: connect time, fan-out latency per change (from the API's reply to the last
subscriber), the server's resident memory before and with the subscribers, per subscriber. Exit 1 if
any subscriber missed a change or got it out of order, or a stream ended. The server must allow N
connections (--connections-max) and not rate-limit one address opening N streams (TICKETD_RATE_LIMITS_OFF=1):
scripts/bench starts it so.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
import time
import urllib.request

READ_BYTES_MAX = 1 << 20  # one subscriber's buffered, unparsed bytes (a snapshot of 50,000 seats fits)


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def api(port: int, method: str, path: str, body: dict | None = None, token: str | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=30) as resp:
        text = resp.read()
        return json.loads(text) if text else {}


class Subscriber:
    def __init__(self) -> None:
        self.snapshot_version: int | None = None
        self.versions: list[int] = []
        self.got_snapshot = asyncio.Event()
        self.error: str | None = None

    async def run(self, port: int, event: int) -> None:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=READ_BYTES_MAX)
        except OSError as e:
            self.error = f"connect: {e}"
            self.got_snapshot.set()
            return
        writer.write(f"GET /v1/events/{event}/seats/stream HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(head.split(b"\r\n", 1)[0].decode(errors="replace"))
            while True:
                block = await reader.readuntil(b"\n\n")
                if len(block) > READ_BYTES_MAX:
                    raise RuntimeError("event too large")
                self.on_event(block.decode())
        except (asyncio.IncompleteReadError, ConnectionError, RuntimeError, asyncio.LimitOverrunError) as e:
            if self.error is None:
                self.error = f"stream ended: {e!r}"[:200]
        finally:
            self.got_snapshot.set()
            writer.close()

    def on_event(self, block: str) -> None:
        name, data = None, None
        for line in block.splitlines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
        if name == "snapshot":
            self.snapshot_version = data["version"]
            self.got_snapshot.set()
        elif name == "seats":
            self.versions.append(data["version"])


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--event", type=int, required=True)
    ap.add_argument("--server-pid", type=int, required=True)
    ap.add_argument("--subscribers", type=int, default=10_000)
    ap.add_argument("--changes", type=int, default=5)
    ap.add_argument("--seat", type=int, default=0, help="the seat held and released to make the changes")
    args = ap.parse_args()

    email = f"fanout-{secrets.token_hex(6)}@bench.ticketd.invalid"
    password = secrets.token_hex(12)
    api(args.port, "POST", "/v1/users", {"email": email, "password": password, "name": "Fan-out"})
    token = api(args.port, "POST", "/v1/sessions", {"email": email, "password": password})["token"]

    rss_before = rss_bytes(args.server_pid)
    subs = [Subscriber() for _ in range(args.subscribers)]
    started = time.monotonic()
    tasks = [asyncio.create_task(s.run(args.port, args.event)) for s in subs]
    await asyncio.gather(*(s.got_snapshot.wait() for s in subs))
    connect_s = time.monotonic() - started
    failed = [s.error for s in subs if s.error]
    if failed:
        print(json.dumps({"error": "subscribers failed before their snapshot", "count": len(failed),
                          "first": failed[0]}))
        return 1
    rss_with = rss_bytes(args.server_pid)

    fanout_ms: list[float] = []
    hold_id = None
    for i in range(args.changes):
        sent = time.monotonic()
        if hold_id is None:
            hold_id = (await asyncio.to_thread(api, args.port, "POST", f"/v1/events/{args.event}/holds",
                                               {"seat_ids": [args.seat]}, token))["id"]
        else:
            await asyncio.to_thread(api, args.port, "DELETE", f"/v1/holds/{hold_id}", None, token)
            hold_id = None
        # Polled: the figure includes this client parsing N events in Python, an upper bound on the server's part.
        while any(len(s.versions) < i + 1 and not s.error for s in subs) and time.monotonic() - sent < 60:
            await asyncio.sleep(0.002)
        fanout_ms.append((time.monotonic() - sent) * 1000)
    if hold_id is not None:
        api(args.port, "DELETE", f"/v1/holds/{hold_id}", None, token)

    bad = [s for s in subs if s.error or s.versions != [s.snapshot_version + k + 1 for k in range(args.changes)]]
    for t in tasks:
        t.cancel()
    result = {
        "subscribers": args.subscribers,
        "connect_s": round(connect_s, 2),
        "changes": args.changes,
        "fanout_ms_per_change": [round(x, 1) for x in fanout_ms],
        "rss_bytes_before": rss_before,
        "rss_bytes_with_subscribers": rss_with,
        "rss_bytes_per_subscriber": round((rss_with - rss_before) / args.subscribers, 1),
        "subscribers_missing_or_misordered": len(bad),
    }
    print(json.dumps(result))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
