"""Black-box helpers for the ticketd API tests: a server process, an HTTP client, and builders.

This module knows only the HTTP contract in docs/api.md and the command line of the binary; it never
looks inside the server. conftest.py turns these helpers into fixtures. They live in their own module,
not in conftest.py, so test files can import them by name without importing a conftest.

Thread safety: a `Client` owns one keep-alive connection and must be used by one thread at a time;
give each thread its own (`User.new_client()`, `Server.client()`). `Server` is driven by one thread.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import hashlib
import http.client
import io
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, NamedTuple

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "tests" / "support"))
import services  # noqa: E402  (tests/support/services.py: PostgreSQL and Redis helpers)

# Every wait in the suite has a bound, so a hung server fails a test instead of hanging the run. The bounds
# are generous on purpose: the machines are noisy and no test asserts how fast anything is.
HEALTHZ_TIMEOUT_S = 20.0  # from spawn until GET /healthz answers 200
STOP_TIMEOUT_S = 10.0  # from SIGTERM until exit, before we SIGKILL and fail
HTTP_TIMEOUT_S = 30.0  # one request on one socket
VERIFY_TIMEOUT_S = 120.0  # `ticketd verify` over a data dir
SETUP_WORKERS_MAX = 8  # parallel registrations/logins; argon2 makes each one cost ~50-100 ms

ADMIN_EMAIL = "admin@ticketd.test"
ADMIN_PASSWORD = "admin-password-for-tests"
USER_PASSWORD = "correct horse battery staple"

METRICS_TOKEN = "metrics-token-of-the-test-servers"  # --metrics-token of every Server started here
BODY_BYTES_MAX = 1024 * 1024  # docs/api.md: a body over 1 MiB is refused with 413


# ---------------------------------------------------------------------------------------------------------
# Backend selection: the one place that knows how each backend is started and audited.


class Backend:
    """Where one Server's state lives: the extra `ticketd serve` arguments, and how `ticketd verify` audits it."""

    def serve_args(self) -> list[str]:
        raise NotImplementedError

    def verify_args(self, data_dir: Path) -> list[str]:
        raise NotImplementedError


class EmbeddedBackend(Backend):
    """SQLite in the server's data dir."""

    def serve_args(self) -> list[str]:
        return []

    def verify_args(self, data_dir: Path) -> list[str]:
        return ["--data-dir", str(data_dir)]


@dataclass(frozen=True)
class DistributedBackend(Backend):
    """PostgreSQL (the system of record) plus Redis; the data dir is not used. Several servers given the
    same URLs are nodes of one deployment."""

    postgres_url: str
    redis_url: str

    def serve_args(self) -> list[str]:
        return ["--store", "postgres", "--postgres-url", self.postgres_url, "--redis-url", self.redis_url]

    def verify_args(self, data_dir: Path) -> list[str]:
        return ["--store", "postgres", "--postgres-url", self.postgres_url]


REDIS_CLAIM_KEY = "ticketd-test:db-owner:{index}"  # in the base URL's database: which PG database owns index


def backend_for(data_dir: Path) -> Backend:
    """The backend named by TICKETD_TEST_BACKEND (`embedded`, the default, or `distributed`), provisioned for
    one data dir.

    Distributed: TICKETD_TEST_POSTGRES_URL and TICKETD_TEST_REDIS_URL name one PostgreSQL and one Redis
    (scripts/services starts private ones). Each data dir gets its own database, named from the data dir's
    path so that restarting the same Server (the crash test) finds its data again, and its own Redis db
    index, claimed in Redis itself so concurrent test runs on one Redis never share one. A database created
    here is new, so its Redis index is flushed: no cache or hold key of an earlier owner survives.
    """
    backend = os.environ.get("TICKETD_TEST_BACKEND", "embedded")
    if backend == "embedded":
        return EmbeddedBackend()
    if backend != "distributed":
        raise RuntimeError(f"unknown TICKETD_TEST_BACKEND={backend!r} (expected embedded or distributed)")
    postgres_url = os.environ.get("TICKETD_TEST_POSTGRES_URL")
    redis_url = os.environ.get("TICKETD_TEST_REDIS_URL")
    if not postgres_url or not redis_url:
        raise RuntimeError("TICKETD_TEST_BACKEND=distributed needs TICKETD_TEST_POSTGRES_URL and "
                           "TICKETD_TEST_REDIS_URL (scripts/services -- COMMAND sets both)")
    database = "ticketd_t_" + hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:20]
    created = services.create_database(services.with_database(postgres_url, "postgres"), database)
    host, port, base_index = services.parse_redis_url(redis_url)
    index = _claim_redis_index(host, port, base_index, database)
    if created:
        services.redis_command(host, port, index, "FLUSHDB")
    return DistributedBackend(services.with_database(postgres_url, database), f"redis://{host}:{port}/{index}")


def _claim_redis_index(host: str, port: int, base_index: int, owner: str) -> int:
    """The Redis db index `owner` claimed before, or the first free one, claimed now (SET NX: atomic)."""
    for index in range(services.REDIS_DATABASES):
        if index == base_index:
            continue  # the claims themselves live there
        key = REDIS_CLAIM_KEY.format(index=index)
        if services.redis_command(host, port, base_index, "SET", key, owner, "NX") == "OK":
            return index
        if services.redis_command(host, port, base_index, "GET", key) == owner:
            return index
    raise RuntimeError(f"every Redis db index of {host}:{port} is claimed by another test server "
                       f"(at most {services.REDIS_DATABASES - 1} per Redis)")


def backend_is_embedded() -> bool:
    """For a test that must skip on one backend (none does today: the suite speaks only HTTP and the CLI)."""
    return os.environ.get("TICKETD_TEST_BACKEND", "embedded") == "embedded"


def ticketd_bin() -> Path:
    configured = os.environ.get("TICKETD_BIN")
    path = Path(configured) if configured else REPO_ROOT / "build" / "ticketd"
    return path if path.is_absolute() else (REPO_ROOT / path)


# ---------------------------------------------------------------------------------------------------------
# HTTP client.


class Response(NamedTuple):
    status: int
    body: Any  # parsed JSON, text, or None for an empty body
    headers: http.client.HTTPMessage  # case-insensitive .get()

    @property
    def error_code(self) -> str | None:
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            return self.body["error"].get("code")
        return None


def describe(resp: Response) -> str:
    """A short, printable account of a response for assertion messages."""
    text = resp.body if isinstance(resp.body, str) else json.dumps(resp.body)
    if len(text) > 600:
        text = text[:600] + "..."
    return f"HTTP {resp.status}: {text}"


def _decode_body(content_type: str | None, raw: bytes) -> Any:
    if not raw:
        return None
    text = raw.decode("utf-8", errors="replace")
    if content_type and "json" in content_type.lower():
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


_UNSET: Any = object()


class Client:
    """One keep-alive HTTP/1.1 connection speaking JSON. Not thread-safe: one per thread.

    A request that fails because the server had closed an idle keep-alive connection is retried once on
    a new connection (the server never saw it). Pass retry_stale=False where a retry could hide
    something, as in the crash test.
    """

    def __init__(self, port: int, token: str | None = None, *, host: str = "127.0.0.1",
                 timeout_s: float = HTTP_TIMEOUT_S, retry_stale: bool = True,
                 source_ip: str | None = None) -> None:
        self.host = host
        self.source_ip = source_ip  # another loopback address (127.0.0.2) plays another client machine
        self.port = port
        self.token = token
        self.timeout_s = timeout_s
        self.retry_stale = retry_stale
        self._conn: http.client.HTTPConnection | None = None
        self._conn_used = False

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn = None
        self._conn_used = False

    def request(self, method: str, path: str, body: Any = _UNSET, *, data: bytes | None = None,
                content_type: str | None = "application/json", headers: dict[str, str] | None = None,
                token: str | None = _UNSET) -> Response:
        """Sends `body` as JSON, or `data` as raw bytes, and returns (status, json_or_text, headers)."""
        assert body is _UNSET or data is None, "pass a JSON body or raw data, not both"
        send_headers: dict[str, str] = {}
        bearer = self.token if token is _UNSET else token
        if bearer:
            send_headers["Authorization"] = f"Bearer {bearer}"
        payload: bytes | None = None
        if body is not _UNSET:
            payload = json.dumps(body).encode()
        elif data is not None:
            payload = data
        if payload is not None and content_type is not None:
            send_headers["Content-Type"] = content_type
        send_headers.update(headers or {})

        for attempt in range(2):
            if self._conn is None:
                source = (self.source_ip, 0) if self.source_ip else None
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout_s,
                                                        source_address=source)
                self._conn_used = False
            reused = self._conn_used
            try:
                self._conn.request(method, path, body=payload, headers=send_headers)
                resp = self._conn.getresponse()
                raw = resp.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if attempt == 0 and reused and self.retry_stale:
                    continue
                raise
            except BaseException:
                self.close()
                raise
            self._conn_used = True
            if resp.will_close:
                self.close()
            return Response(resp.status, _decode_body(resp.getheader("Content-Type"), raw), resp.headers)
        raise AssertionError("unreachable")

    def get(self, path: str, **kw: Any) -> Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = _UNSET, **kw: Any) -> Response:
        return self.request("POST", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> Response:
        return self.request("DELETE", path, **kw)


def with_query(path: str, **params: Any) -> str:
    """`path?k=v&...`, dropping parameters that are None."""
    present = {k: v for k, v in params.items() if v is not None}
    return f"{path}?{urllib.parse.urlencode(present)}" if present else path


def expect(resp: Response, status: int) -> Any:
    """Asserts the status and returns the body."""
    assert resp.status == status, f"expected HTTP {status}, got {describe(resp)}"
    return resp.body


def assert_error(resp: Response, status: int, codes: str | tuple[str, ...] | None = None) -> dict:
    """Asserts an error response: the status, and a body {"error": {"code", "message", ...}}."""
    assert resp.status == status, f"expected HTTP {status}, got {describe(resp)}"
    assert isinstance(resp.body, dict), f"error body is not a JSON object: {describe(resp)}"
    error = resp.body.get("error")
    assert isinstance(error, dict), f"error body has no 'error' object: {describe(resp)}"
    assert isinstance(error.get("code"), str) and error["code"], f"error without a code: {describe(resp)}"
    assert isinstance(error.get("message"), str) and error["message"], f"error without a message: {describe(resp)}"
    if codes is not None:
        allowed = (codes,) if isinstance(codes, str) else codes
        assert error["code"] in allowed, f"expected error code in {allowed}, got {describe(resp)}"
    return error


# ---------------------------------------------------------------------------------------------------------
# Raw HTTP, for requests http.client will not send or whose answer may come before the body is sent.


def raw_exchange(port: int, head: bytes, body: bytes = b"", *, chunk_bytes: int = 64 * 1024,
                 timeout_s: float = HTTP_TIMEOUT_S) -> Response | None:
    """Writes `head` then `body` in chunks on a new connection, and reads one response.

    Stops writing as soon as the server answers or closes (a server may refuse a too-large request
    after reading only its headers). Returns None if the connection closed without any response.
    """
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout_s)
    try:
        data = head + body
        try:
            for offset in range(0, len(data), chunk_bytes):
                readable, _, _ = select.select([sock], [], [], 0)
                if readable:
                    break
                sock.sendall(data[offset:offset + chunk_bytes])
        except (BrokenPipeError, ConnectionResetError):
            pass
        received = _read_one_response(sock, timeout_s)
    finally:
        sock.close()
    return _parse_raw_response(received)


def _read_one_response(sock: socket.socket, timeout_s: float) -> bytes:
    deadline = time.monotonic() + timeout_s
    received = b""
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        except socket.timeout:
            break
        if not chunk:
            break
        received += chunk
        if _raw_response_complete(received):
            break
    return received


def _split_head(received: bytes) -> tuple[int, http.client.HTTPMessage, bytes] | None:
    """(status, headers, body bytes so far) once the head has arrived, else None."""
    end = received.find(b"\r\n\r\n")
    if end < 0:
        return None
    status_line, _, header_block = received[:end].partition(b"\r\n")
    headers = http.client.parse_headers(io.BytesIO(header_block + b"\r\n\r\n"))
    return int(status_line.split()[1]), headers, received[end + 4:]


def _is_chunked(headers: http.client.HTTPMessage) -> bool:
    return "chunked" in (headers.get("Transfer-Encoding") or "").lower()


def _raw_response_complete(received: bytes) -> bool:
    parts = _split_head(received)
    if parts is None:
        return False
    _, headers, rest = parts
    if headers.get("Content-Length") is not None:
        return len(rest) >= int(headers["Content-Length"])
    if _is_chunked(headers):
        return rest.endswith(b"0\r\n\r\n")
    return False  # no length: read until the server closes


def _dechunk(rest: bytes) -> bytes:
    out = b""
    while rest:
        line, _, rest = rest.partition(b"\r\n")
        size = int(line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += rest[:size]
        rest = rest[size + 2:]
    return out


def _parse_raw_response(received: bytes) -> Response | None:
    parts = _split_head(received)
    if parts is None:
        return None
    status, headers, rest = parts
    if _is_chunked(headers):
        rest = _dechunk(rest)
    elif headers.get("Content-Length") is not None:
        rest = rest[:int(headers["Content-Length"])]
    return Response(status, _decode_body(headers.get("Content-Type"), rest), headers)


# ---------------------------------------------------------------------------------------------------------
# The server process.


class RawReply(NamedTuple):
    status: int
    headers: http.client.HTTPMessage
    body: bytes  # as sent: not decompressed


def raw_get(port: int, path: str, headers: dict[str, str]) -> RawReply:
    """GET with exactly these headers (no Accept-Encoding of http.client's own) and the body as sent."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=HTTP_TIMEOUT_S)
    try:
        conn.putrequest("GET", path, skip_accept_encoding=True)
        for name, value in headers.items():
            conn.putheader(name, value)
        conn.endheaders()
        resp = conn.getresponse()
        return RawReply(resp.status, resp.headers, resp.read())
    finally:
        conn.close()


def metrics_text(port: int) -> str:
    """GET /metrics with the operators' token every test server is started with."""
    return expect(Client(port, METRICS_TOKEN).get("/metrics"), 200)


def wait_for(what: str, check: Callable[[], Any], timeout_s: float = 20.0) -> Any:
    """check()'s first truthy result, asked every 0.1 s; AssertionError naming `what` after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout_s} s: {what}")


def free_port() -> int:
    """A loopback port that was free a moment ago (the server binds it right after)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """One `ticketd serve` process over one data dir; it may be started, killed and restarted.

    Each start picks a new port, so a restart never waits for the old socket to leave TIME_WAIT.
    Output goes to `log_path` (appended across restarts) and its tail is quoted when something fails.
    """

    def __init__(self, data_dir: Path, *, hold_ttl_s: int, log_path: Path, threads: int | None = None,
                 port: int | None = None, extra_env: dict[str, str] | None = None,
                 backend: Backend | None = None, log_level: str = "warn") -> None:
        self.data_dir = data_dir
        self.log_level = log_level
        self.backend = backend  # None: backend_for(data_dir), provisioned at the first start
        self.hold_ttl_s = hold_ttl_s
        self.log_path = log_path
        self.threads = threads
        self.fixed_port = port  # when a peer (a payment gateway's webhooks) must know it in advance
        self.extra_env = extra_env or {}
        self.port = 0
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    # -- lifecycle --

    def start(self) -> None:
        assert self.proc is None, "server already running"
        binary = ticketd_bin()
        if not binary.is_file():
            raise FileNotFoundError(f"ticketd binary not found at {binary}: build it or set TICKETD_BIN")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.backend is None:
            self.backend = backend_for(self.data_dir)
        self.port = self.fixed_port or free_port()
        args = [str(binary), "serve", "--listen", f"127.0.0.1:{self.port}", "--data-dir", str(self.data_dir),
                "--hold-ttl", str(self.hold_ttl_s), "--log-level", self.log_level, *self.backend.serve_args()]
        if self.threads is not None:
            args += ["--threads", str(self.threads)]
        env = dict(os.environ, TICKETD_ADMIN_EMAIL=ADMIN_EMAIL, TICKETD_ADMIN_PASSWORD=ADMIN_PASSWORD,
                   TICKETD_METRICS_TOKEN=METRICS_TOKEN)
        env.update(self.extra_env)
        self.starts += 1
        with open(self.log_path, "ab") as log:
            log.write(f"\n===== start #{self.starts}: {' '.join(args)}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         env=env)
        self._wait_healthy()

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + HEALTHZ_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                code = self.proc.returncode
                self.proc = None
                raise AssertionError(f"ticketd exited with {code} during start-up\n{self.log_tail()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2.0)
                try:
                    conn.request("GET", "/healthz")
                    if conn.getresponse().status == 200:
                        return
                finally:
                    conn.close()
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.05)
        self.kill()
        raise AssertionError(f"ticketd not healthy within {HEALTHZ_TIMEOUT_S} s\n{self.log_tail()}")

    def stop(self) -> int:
        """SIGTERM, wait for a graceful exit; asserts exit code 0 (SIGKILL and fail after STOP_TIMEOUT_S)."""
        assert self.proc is not None, "server not running"
        proc = self.proc
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=STOP_TIMEOUT_S)
            self.proc = None
            raise AssertionError(f"ticketd did not exit within {STOP_TIMEOUT_S} s of SIGTERM\n{self.log_tail()}")
        self.proc = None
        assert code == 0, f"ticketd exited with {code} after SIGTERM (expected 0)\n{self.log_tail()}"
        return code

    def kill(self) -> None:
        """SIGKILL: the crash. Idempotent."""
        if self.proc is None:
            return
        self.proc.kill()
        self.proc.wait(timeout=STOP_TIMEOUT_S)
        self.proc = None

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def verify(self) -> subprocess.CompletedProcess:
        """Runs `ticketd verify` over the state of this (stopped) server: its data dir or its database."""
        assert self.proc is None, "verify audits a stopped server"
        backend = self.backend or backend_for(self.data_dir)
        args = [str(ticketd_bin()), "verify", *backend.verify_args(self.data_dir)]
        return subprocess.run(args, capture_output=True, text=True, timeout=VERIFY_TIMEOUT_S)

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no server log)"
        return "--- server log (tail) ---\n" + "\n".join(text.splitlines()[-lines:])

    # -- clients --

    def client(self, token: str | None = None, **kw: Any) -> Client:
        return Client(self.port, token, **kw)

    def healthy(self) -> bool:
        try:
            return self.client().get("/healthz").status == 200
        except (OSError, http.client.HTTPException):
            return False


def assert_verify_ok(server: Server, context: str) -> None:
    result = server.verify()
    assert result.returncode == 0, (
        f"`ticketd verify` {context} exited with {result.returncode}\n"
        f"stdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-3000:]}"
    )


# ---------------------------------------------------------------------------------------------------------
# Accounts.


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def unique_email() -> str:
    return f"{unique('user')}@example.test"


@dataclass
class User:
    id: int
    email: str
    password: str
    token: str
    port: int
    client: Client = field(repr=False)

    def new_client(self, **kw: Any) -> Client:
        """A client on its own connection, for use from another thread."""
        return Client(self.port, self.token, **kw)


def register(client: Client, email: str, password: str = USER_PASSWORD, name: str = "Test User") -> Response:
    return client.post("/v1/users", {"email": email, "password": password, "name": name}, token=None)


def login(client: Client, email: str, password: str) -> Response:
    return client.post("/v1/sessions", {"email": email, "password": password}, token=None)


def login_token(port: int, email: str, password: str) -> str:
    body = expect(login(Client(port), email, password), 201)
    return body["token"]


def new_user(server: Server, password: str = USER_PASSWORD) -> User:
    """Registers a fresh user and logs in (two argon2 hashes: reuse users where a test allows)."""
    client = server.client()
    email = unique_email()
    created = expect(register(client, email, password), 201)
    token = expect(login(client, email, password), 201)["token"]
    client.token = token
    return User(created["id"], email, password, token, server.port, client)


def new_users(server: Server, count: int) -> list[User]:
    with concurrent.futures.ThreadPoolExecutor(SETUP_WORKERS_MAX) as pool:
        return list(pool.map(lambda _: new_user(server), range(count)))


def admin_client(server: Server) -> Client:
    return server.client(login_token(server.port, ADMIN_EMAIL, ADMIN_PASSWORD))


class UserPool:
    """Users shared by the tests on one server. Each test works on its own fresh event, so sharing users
    does not couple tests (ticket limits are per event); tests about accounts use `new_user` instead."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self._users: list[User] = []
        self._lock = threading.Lock()

    def take(self, count: int) -> list[User]:
        """`count` distinct users (the same first ones every call)."""
        with self._lock:
            missing = count - len(self._users)
            if missing > 0:
                self._users += new_users(self.server, missing)
            return self._users[:count]


# ---------------------------------------------------------------------------------------------------------
# Catalog builders.


def rfc3339(moment: dt.datetime) -> str:
    moment = moment.astimezone(dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def row_label(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA, ..."""
    label = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        label = chr(ord("A") + rem) + label
    return label


def section(name: str, price_tier: str, row_seats: list[int], **row_flags: dict[int, list[int]]) -> dict:
    """A section whose rows are labelled A, B, ... with row_seats[i] seats each.
    row_flags: e.g. accessible={0: [1, 2]} marks seats 1 and 2 of the first row accessible."""
    rows = []
    for index, seats in enumerate(row_seats):
        row: dict[str, Any] = {"label": row_label(index), "seats": seats}
        for flag, by_row in row_flags.items():
            if index in by_row:
                row[flag] = by_row[index]
        rows.append(row)
    return {"name": name, "price_tier": price_tier, "rows": rows}


def grid(name: str, price_tier: str, rows: int, seats_per_row: int) -> dict:
    return section(name, price_tier, [seats_per_row] * rows)


def create_venue(admin: Client, sections: list[dict], name: str | None = None) -> dict:
    """Creates a venue (asserting 201); returns the response plus the request's sections as 'layout'."""
    body = expect(admin.post("/v1/venues", {"name": name or unique("Venue"), "sections": sections}), 201)
    return dict(body, layout=sections)


def create_event(admin: Client, venue: dict, *, prices: dict[str, int] | None = None, name: str | None = None,
                 starts_at: dt.datetime | None = None, on_sale_at: dt.datetime | None = None,
                 max_tickets_per_user: int | None = None, currency: str = "EUR",
                 static_codes_accepted: bool | None = None) -> dict:
    """Creates an event on sale now (asserting 201). Default price: 5,000 for every tier of the venue."""
    tiers = {s["price_tier"] for s in venue["layout"]}
    request: dict[str, Any] = {
        "name": name or unique("Event"),
        "venue_id": venue["id"],
        "starts_at": rfc3339(starts_at or now_utc() + dt.timedelta(days=30)),
        "on_sale_at": rfc3339(on_sale_at or now_utc() - dt.timedelta(days=1)),
        "currency": currency,
        "prices": prices or {tier: 5000 for tier in tiers},
    }
    if max_tickets_per_user is not None:
        request["max_tickets_per_user"] = max_tickets_per_user
    if static_codes_accepted is not None:
        request["static_codes_accepted"] = static_codes_accepted
    return expect(admin.post("/v1/events", request), 201)


def make_event(admin: Client, sections: list[dict], **event_kw: Any) -> dict:
    """A new venue with these sections and an on-sale event on it."""
    return create_event(admin, create_venue(admin, sections), **event_kw)


# ---------------------------------------------------------------------------------------------------------
# Seats, holds, bookings.


def compact_status(client: Client, event_id: int) -> str:
    body = expect(client.get(f"/v1/events/{event_id}/seats?format=compact"), 200)
    return body["status"]


def seat_list(client: Client, event_id: int, section_name: str | None = None) -> list[dict]:
    """Every seat of the event (or of one section), following the pages (bounded: 500 pages)."""
    seats: list[dict] = []
    after = None
    for _ in range(500):
        page = expect(client.get(with_query(f"/v1/events/{event_id}/seats", section=section_name, after=after,
                                             limit=1000)), 200)
        seats += page["seats"]
        after = page["next"]
        if after is None:
            return seats
    raise AssertionError("the seat list did not end")


def event_counts(client: Client, event_id: int) -> dict:
    return expect(client.get(f"/v1/events/{event_id}"), 200)["counts"]


def hold_seats(client: Client, event_id: int, seat_ids: list[int], **kw: Any) -> Response:
    return client.post(f"/v1/events/{event_id}/holds", {"seat_ids": seat_ids}, **kw)


def hold_best(client: Client, event_id: int, quantity: int, section_name: str | None = None, **kw: Any) -> Response:
    body: dict[str, Any] = {"quantity": quantity}
    if section_name is not None:
        body["section"] = section_name
    return client.post(f"/v1/events/{event_id}/holds", body, **kw)


def checkout(client: Client, hold_id: int, payment_method: str = "pm_card_visa",
             idempotency_key: str | None = _UNSET, **kw: Any) -> Response:
    """POST /v1/holds/{id}/checkout; a fresh Idempotency-Key unless one is given (None: no header)."""
    key = uuid.uuid4().hex if idempotency_key is _UNSET else idempotency_key
    headers = {} if key is None else {"Idempotency-Key": key}
    return client.post(f"/v1/holds/{hold_id}/checkout", {"payment_method": payment_method}, headers=headers, **kw)


def all_bookings(client: Client) -> list[dict]:
    """Every booking of the caller, following `next` (bounded, so a cursor loop cannot hang the test)."""
    bookings: list[dict] = []
    after = None
    for _ in range(1000):
        body = expect(client.get(with_query("/v1/bookings", limit=100, after=after)), 200)
        bookings += body["bookings"]
        after = body.get("next")
        if after is None:
            return bookings
    raise AssertionError("GET /v1/bookings did not end within 1000 pages")


def run_together(jobs: list, timeout_s: float = 120.0) -> list:
    """Runs each job on its own thread, released at once by a barrier; returns their results in order.
    A job's exception is re-raised here; a thread still running after timeout_s fails the test."""
    barrier = threading.Barrier(len(jobs), timeout=timeout_s)
    results: list = [None] * len(jobs)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = jobs[index]()
        except BaseException as exc:  # reported by the calling thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout_s
    for thread in threads:
        thread.join(max(deadline - time.monotonic(), 0.1))
        assert not thread.is_alive(), f"a thread was still running after {timeout_s} s"
    if errors:
        raise errors[0]
    return results


def with_backoff(send, attempts_max: int = 20) -> Response:
    """Calls send() again after 429/503 (sleeping Retry-After, at most 1 s). Load tests use it so that
    shedding load, which the contract allows, is not mistaken for a wrong answer."""
    resp = send()
    for _ in range(attempts_max):
        if resp.status not in (429, 503):
            return resp
        retry_after = resp.headers.get("Retry-After") or "0.1"
        try:
            delay_s = min(max(float(retry_after), 0.05), 1.0)
        except ValueError:
            delay_s = 0.1
        time.sleep(delay_s)
        resp = send()
    return resp
