"""A small asyncio HTTP/1.1 client for the chaos runs: one keep-alive connection per `Conn`, JSON bodies.

Why not ticket-bench: a buyer of ticket-bench whose request fails at the transport level gives up and the
run's audit fails ("every request answered"), which is right for a benchmark and wrong for a run that
kills the server on purpose. These drivers must instead wait for the server to come back, retry a
checkout with the same Idempotency-Key until they get a definite answer, and remember every booking that
was acknowledged with 201. The standard library has no async HTTP client, so this is one (Debian's
python3 only; no packages).

A `Conn` is used by one coroutine at a time. It connects lazily to `target.host:target.port` (read at each
connect, so a restarted server on a new port is found) and reconnects after any failure. Every failure
to get a complete answer raises `TransportError`: the request may or may not have been executed.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any, Protocol

CONNECT_TIMEOUT_S = 5.0
REQUEST_TIMEOUT_S = 30.0  # one request, once connected; a SIGSTOPped server is answered by this
HEAD_BYTES_MAX = 64 * 1024
BODY_BYTES_MAX = 16 * 1024 * 1024  # the largest answer a chaos run reads: a 200,000-seat compact map


class Target(Protocol):
    host: str
    port: int


class TransportError(Exception):
    """No complete answer: refused, reset, closed early or timed out. The request may have happened."""


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: Any  # parsed JSON, or the raw text when it is not JSON, or None when empty
    raw: bytes = field(repr=False, default=b"")

    @property
    def error_code(self) -> str | None:
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            return self.body["error"].get("code")
        return None

    def describe(self) -> str:
        return f"{self.status} {self.raw[:300].decode(errors='replace')}"


class Conn:
    def __init__(self, target: Target) -> None:
        self.target = target
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.connects = 0

    async def close(self) -> None:
        writer, self.reader, self.writer = self.writer, None, None
        if writer is not None:
            writer.close()
            try:
                await asyncio.wait_for(writer.wait_closed(), 1.0)
            except (OSError, asyncio.TimeoutError):
                pass

    async def request(self, method: str, path: str, body: Any = None, *, token: str | None = None,
                      headers: dict[str, str] | None = None, timeout_s: float = REQUEST_TIMEOUT_S,
                      freeze_s: float = 0.0) -> Reply:
        """freeze_s > 0: send all but the last 10 bytes of the request, stop for freeze_s (a client frozen
        mid-request, as by SIGSTOP), then send the rest. The timeout starts after the freeze."""
        try:
            return await asyncio.wait_for(self._exchange(method, path, body, token, headers or {}, freeze_s),
                                          timeout_s + freeze_s)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError,
                ValueError) as exc:
            await self.close()
            raise TransportError(f"{method} {path}: {exc!r}") from exc

    async def get(self, path: str, **kw: Any) -> Reply:
        return await self.request("GET", path, **kw)

    async def post(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return await self.request("POST", path, {} if body is None else body, **kw)

    async def delete(self, path: str, **kw: Any) -> Reply:
        return await self.request("DELETE", path, **kw)

    async def _exchange(self, method: str, path: str, body: Any, token: str | None,
                        headers: dict[str, str], freeze_s: float) -> Reply:
        if self.writer is None:
            self.reader, self.writer = await asyncio.wait_for(
                asyncio.open_connection(self.target.host, self.target.port, limit=HEAD_BYTES_MAX),
                CONNECT_TIMEOUT_S)
            self.connects += 1
        assert self.reader is not None and self.writer is not None
        payload = b"" if body is None else json.dumps(body).encode()
        lines = [f"{method} {path} HTTP/1.1", "Host: ticketd", f"Content-Length: {len(payload)}"]
        if body is not None:
            lines.append("Content-Type: application/json")
        if token:
            lines.append(f"Authorization: Bearer {token}")
        lines += [f"{k}: {v}" for k, v in headers.items()]
        data = ("\r\n".join(lines) + "\r\n\r\n").encode() + payload
        if freeze_s > 0:
            self.writer.write(data[:-10])
            await self.writer.drain()
            await asyncio.sleep(freeze_s)
            data = data[-10:]
        self.writer.write(data)
        await self.writer.drain()
        status, reply_headers = await self._read_head()
        raw = await self._read_body(reply_headers, method)
        if reply_headers.get("connection", "").lower() == "close":
            await self.close()
        return Reply(status, reply_headers, _decode(raw), raw)

    async def _read_head(self) -> tuple[int, dict[str, str]]:
        assert self.reader is not None
        head = await self.reader.readuntil(b"\r\n\r\n")
        first, *rest = head[:-4].decode("latin-1").split("\r\n")
        parts = first.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
            raise ValueError(f"bad status line {first!r}")
        headers: dict[str, str] = {}
        for line in rest:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        return int(parts[1]), headers

    async def _read_body(self, headers: dict[str, str], method: str) -> bytes:
        assert self.reader is not None
        if method == "HEAD":
            return b""
        if headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            total = 0
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
                if size == 0:
                    await self.reader.readuntil(b"\r\n")
                    return b"".join(chunks)
                total += size
                if total > BODY_BYTES_MAX:
                    raise ValueError("chunked body too large")
                chunks.append(await self.reader.readexactly(size))
                await self.reader.readexactly(2)
        length = int(headers.get("content-length", "0"))
        if length > BODY_BYTES_MAX:
            raise ValueError(f"body of {length} bytes")
        return await self.reader.readexactly(length) if length else b""


def _decode(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")
