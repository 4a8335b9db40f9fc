#!/usr/bin/python3
"""Private PostgreSQL 15 and Redis 7 instances for ticketd's tests and benchmarks: no Docker, no system
service, nothing outside one temporary folder per instance.

    services.py run [--] COMMAND [ARGS...]

starts one PostgreSQL and one Redis on free loopback ports, runs COMMAND with
TICKETD_TEST_POSTGRES_URL (postgresql://ticketd@127.0.0.1:PORT/ticketd) and TICKETD_TEST_REDIS_URL
(redis://127.0.0.1:PORT/0) exported, then stops both and deletes their folders, whatever the command's
outcome: failure, SIGINT (Ctrl-C), SIGTERM or SIGHUP. It exits with the command's status. `scripts/services`
is the shell entry point.

From Python (tests that kill and restart a server mid-test start their own):

    with Postgres(root) as pg, Redis(root) as redis:
        pg.create_database("db")  # True if it did not exist
        pg.query("db", "SELECT 1")
        redis.kill(); redis.start()  # same port again

Every wait is bounded (the *_TIMEOUT_S constants below); a server that does not come up or go down in time
fails loudly with the tail of its log. Processes are started in their own session, so a Ctrl-C at the
terminal reaches the command, not the databases, and teardown stops them in order; a parent that dies
without tearing down (SIGKILL) still takes them along (PR_SET_PDEATHSIG).

PostgreSQL refuses to run as root: as root, initdb and postgres run as the `postgres` user (or `nobody`)
and the instance's folder is handed to that user. As any other user they run as that user.

Thread safety: an instance object is driven by one thread; `Postgres.query` and `Redis.command` open
their own connection per call and may be used from any thread.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PG_BIN = Path(os.environ.get("TICKETD_PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_USER = "ticketd"  # the database role the tests connect as (trust authentication, loopback only)
PG_DATABASE = "ticketd"  # created at start; TICKETD_TEST_POSTGRES_URL names it
# Room for the API suite's servers and three multi-node deployments' pools at once, plus psql audits.
PG_CONNECTIONS_MAX = 400
REDIS_DATABASES = 64  # Redis db indexes 0..63: one per ticketd deployment sharing this Redis

START_TIMEOUT_S = 60.0  # initdb + first accepted connection on a busy 2-core box
STOP_TIMEOUT_S = 20.0  # from the polite signal until exit, before the hard one
QUERY_TIMEOUT_S = 60.0  # one psql call or one Redis command
PORT_ATTEMPTS_MAX = 5  # a free port can be taken between probing it and the server binding it

_PR_SET_PDEATHSIG = 1


def free_port() -> int:
    """A loopback port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _log_tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return f"--- {path.name} (tail) ---\n" + "\n".join(text.splitlines()[-lines:])


def _unprivileged_user() -> pwd.struct_passwd | None:
    """The account to run PostgreSQL as when we are root; None when we are not root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise RuntimeError("running as root, and neither a 'postgres' nor a 'nobody' account exists")


def _die_with_parent(sig: int):
    """A preexec_fn: the child gets `sig` when the process that started it dies, so a test runner killed
    with SIGKILL does not leave databases behind. Runs after the uid change (which would clear it)."""
    libc = ctypes.CDLL(None, use_errno=True)

    def set_death_signal() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0)

    return set_death_signal


class _Process:
    """One server process in its own session; stop() is polite then firm, kill() is SIGKILL."""

    def __init__(self, name: str, log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def spawn(self, args: list[str], *, cwd: Path, user: pwd.struct_passwd | None, death_signal: int) -> None:
        assert self.proc is None, f"{self.name} already running"
        extra: dict[str, Any] = {}
        if user is not None:
            extra = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
        with open(self.log_path, "ab") as log:
            log.write(f"\n===== {' '.join(args)}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(args, cwd=cwd, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True,
                                         preexec_fn=_die_with_parent(death_signal), **extra)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, polite: int) -> None:
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.send_signal(polite)
            try:
                proc.wait(timeout=STOP_TIMEOUT_S)
                return
            except subprocess.TimeoutExpired:
                pass
        self._kill_group(proc)

    def kill(self) -> None:
        """SIGKILL to the process and anything left in its session (PostgreSQL's backends)."""
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        self._kill_group(proc)

    @staticmethod
    def _kill_group(proc: subprocess.Popen) -> None:
        # The group id is the child's pid (start_new_session); only our own children are in it.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        proc.wait(timeout=STOP_TIMEOUT_S)


# ---------------------------------------------------------------------------------------------------------
# PostgreSQL


class Postgres:
    """A private PostgreSQL 15 cluster under `root/postgres-XXXX`, listening on 127.0.0.1 only.

    For tests only: fsync, synchronous_commit and full_page_writes are off. The tests kill ticketd, never
    the operating system, and PostgreSQL without fsync still survives the death of any process (its WAL
    is in the page cache); what it loses is the machine crashing, which no test does. On this disk it
    makes database creation and commits an order of magnitude cheaper.
    """

    def __init__(self, root: Path | None = None) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="postgres-", dir=root))
        self.data = self.folder / "data"
        self.sockets = self.folder / "sockets"
        self.log_path = self.folder / "postgres.log"
        self.user = _unprivileged_user()
        self.port = 0
        self._server = _Process("postgres", self.log_path)
        self._initialised = False

    def __enter__(self) -> "Postgres":
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def url(self, database: str = PG_DATABASE) -> str:
        return f"postgresql://{PG_USER}@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        """The first time: creates the cluster, starts it on a free port and creates the `ticketd` database.
        After stop(): starts it again on the same port, with its data."""
        if self._initialised:  # a restart: same cluster, same port, so clients' URLs stay valid
            if not self._start_on(self.port):
                raise RuntimeError(f"postgres did not restart on {self.port}\n{_log_tail(self.log_path)}")
            return
        self._initdb()
        for _ in range(PORT_ATTEMPTS_MAX):
            self.port = free_port()
            if self._start_on(self.port):
                break
        else:
            raise RuntimeError(f"postgres did not start in {PORT_ATTEMPTS_MAX} attempts\n{_log_tail(self.log_path)}")
        self.create_database(PG_DATABASE)

    def _initdb(self) -> None:
        self.sockets.mkdir()
        if self.user is not None:
            for path in (self.folder, self.sockets):
                os.chown(path, self.user.pw_uid, self.user.pw_gid)
        args = [str(PG_BIN / "initdb"), "-D", str(self.data), "-U", PG_USER, "--auth=trust", "--encoding=UTF8",
                "--locale=C", "--no-sync", "--no-instructions"]
        proc = _Process("initdb", self.log_path)
        proc.spawn(args, cwd=self.folder, user=self.user, death_signal=signal.SIGKILL)
        assert proc.proc is not None
        try:
            code = proc.proc.wait(timeout=START_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise RuntimeError(f"initdb did not finish within {START_TIMEOUT_S} s\n{_log_tail(self.log_path)}")
        if code != 0:
            raise RuntimeError(f"initdb exited with {code}\n{_log_tail(self.log_path)}")
        self._initialised = True

    def _start_on(self, port: int) -> bool:
        """True once it accepts connections; False if it exited (the port was taken). Raises on a hang."""
        args = [str(PG_BIN / "postgres"), "-D", str(self.data), "-p", str(port), "-k", str(self.sockets),
                "-c", "listen_addresses=127.0.0.1", "-c", f"max_connections={PG_CONNECTIONS_MAX}",
                # Test-only durability settings: see the class comment.
                "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                "-c", "shared_buffers=64MB", "-c", "log_min_messages=warning", "-c", "log_connections=off"]
        # SIGQUIT on the parent's death: the postmaster then takes its backends down with it.
        self._server.spawn(args, cwd=self.folder, user=self.user, death_signal=signal.SIGQUIT)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if not self._server.alive():
                self._server.proc = None
                return False
            probe = subprocess.run([str(PG_BIN / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port),
                                    "-U", PG_USER, "-d", "postgres", "-t", "2"], check=False)
            if probe.returncode == 0:
                return True
            time.sleep(0.1)
        self._server.kill()
        raise RuntimeError(f"postgres not ready within {START_TIMEOUT_S} s\n{_log_tail(self.log_path)}")

    def stop(self) -> None:
        """Fast shutdown (SIGINT: roll back open transactions, checkpoint); the cluster stays on disk."""
        self._server.stop(signal.SIGINT)

    def kill(self) -> None:
        self._server.kill()

    def running(self) -> bool:
        return self._server.alive()

    def close(self) -> None:
        """Stops the server and deletes the folder."""
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def query(self, database: str, sql: str) -> list[list[str]]:
        """Runs `sql` with psql (ON_ERROR_STOP) and returns its rows as lists of strings ('' for NULL)."""
        result = subprocess.run(
            ["psql", self.url(database), "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql],
            capture_output=True, text=True, timeout=QUERY_TIMEOUT_S, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"psql failed ({result.returncode}) on {sql!r}:\n{result.stderr.strip()}")
        return [line.split("\t") for line in result.stdout.splitlines() if line]

    def create_database(self, name: str) -> bool:
        """Creates `name` unless it exists; True if this call created it."""
        assert name.replace("_", "").isalnum() and name == name.lower(), f"unsafe database name {name!r}"
        return create_database(self.url("postgres"), name)


def create_database(maintenance_url: str, name: str) -> bool:
    """CREATE DATABASE `name` through the server of `maintenance_url`; True if created, False if it existed.

    Two creators racing are both fine: the loser sees 'already exists' and answers False."""
    assert name.replace("_", "").isalnum() and name == name.lower(), f"unsafe database name {name!r}"
    result = subprocess.run(
        ["psql", maintenance_url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", f"CREATE DATABASE {name}"],
        capture_output=True, text=True, timeout=QUERY_TIMEOUT_S, check=False)
    if result.returncode == 0:
        return True
    if "already exists" in result.stderr:
        return False
    raise RuntimeError(f"CREATE DATABASE {name} failed: {result.stderr.strip()}")


def with_database(url: str, name: str) -> str:
    """The libpq URI `url` with its database replaced by `name` (query parameters kept)."""
    head, _, query = url.partition("?")
    scheme, sep, rest = head.partition("://")
    assert sep, f"not a URI: {url!r}"
    authority = rest.split("/", 1)[0]
    return f"{scheme}://{authority}/{name}" + (f"?{query}" if query else "")


# ---------------------------------------------------------------------------------------------------------
# Redis


class RedisError(Exception):
    """An error reply (`-ERR ...`) from Redis."""


def _read_line(reader) -> bytes:
    line = reader.readline()
    if not line.endswith(b"\r\n"):
        raise ConnectionError("redis closed the connection mid-reply")
    return line[:-2]


def _read_reply(reader) -> Any:
    """One RESP2 reply. Bulk strings come back as str (utf-8, replacement on bad bytes)."""
    line = _read_line(reader)
    kind, rest = line[:1], line[1:]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        return RedisError(rest.decode(errors="replace"))
    if kind == b":":
        return int(rest)
    if kind == b"$":
        size = int(rest)
        if size < 0:
            return None
        data = reader.read(size + 2)
        if len(data) != size + 2:
            raise ConnectionError("redis closed the connection mid-reply")
        return data[:-2].decode(errors="replace")
    if kind == b"*":
        count = int(rest)
        return None if count < 0 else [_read_reply(reader) for _ in range(count)]
    raise ConnectionError(f"unexpected reply from redis: {line[:80]!r}")


def redis_command(host: str, port: int, db: int, *args: Any, timeout_s: float = QUERY_TIMEOUT_S) -> Any:
    """Runs one command on database `db` over a new connection (SELECT is pipelined in front).
    Raises RedisError on an error reply, OSError if Redis is not there."""
    commands = [("SELECT", db), args] if db else [args]
    payload = b""
    for command in commands:
        payload += f"*{len(command)}\r\n".encode()
        for arg in command:
            data = arg if isinstance(arg, bytes) else str(arg).encode()
            payload += f"${len(data)}\r\n".encode() + data + b"\r\n"
    with socket.create_connection((host, port), timeout=timeout_s) as sock:
        sock.sendall(payload)
        reader = sock.makefile("rb")
        replies = [_read_reply(reader) for _ in commands]
    for reply in replies:
        if isinstance(reply, RedisError):
            raise reply
    return replies[-1]


def parse_redis_url(url: str) -> tuple[str, int, int]:
    """redis://HOST:PORT/N -> (host, port, N); N defaults to 0."""
    rest = url.split("://", 1)[1] if "://" in url else url
    hostport, _, db = rest.partition("/")
    host, _, port = hostport.rpartition(":")
    return host or "127.0.0.1", int(port or 6379), int(db or 0)


class Redis:
    """A private Redis under `root/redis-XXXX` on 127.0.0.1, nothing persisted (--save '', no AOF), with
    REDIS_DATABASES databases. kill() then start() brings it back empty on the same port, which is what a
    Redis restart without persistence looks like to ticketd."""

    def __init__(self, root: Path | None = None) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="redis-", dir=root))
        self.log_path = self.folder / "redis.log"
        self.port = 0
        self.paused = False
        self._server = _Process("redis", self.log_path)

    def __enter__(self) -> "Redis":
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def url(self, db: int = 0) -> str:
        assert 0 <= db < REDIS_DATABASES, db
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        """Starts on a free port the first time, on the same port afterwards (a restart)."""
        ports = [self.port] if self.port else [free_port() for _ in range(PORT_ATTEMPTS_MAX)]
        for port in ports:
            if self._start_on(port):
                self.port = port
                return
        raise RuntimeError(f"redis did not start on {ports}\n{_log_tail(self.log_path)}")

    def _start_on(self, port: int) -> bool:
        args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--databases", str(REDIS_DATABASES), "--dir", str(self.folder), "--daemonize", "no",
                "--loglevel", "warning"]
        self._server.spawn(args, cwd=self.folder, user=None, death_signal=signal.SIGKILL)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if not self._server.alive():
                self._server.proc = None
                return False
            with contextlib.suppress(OSError, RedisError):
                if redis_command("127.0.0.1", port, 0, "PING", timeout_s=2.0) == "PONG":
                    return True
            time.sleep(0.05)
        self._server.kill()
        raise RuntimeError(f"redis not ready within {START_TIMEOUT_S} s\n{_log_tail(self.log_path)}")

    def command(self, *args: Any, db: int = 0) -> Any:
        return redis_command("127.0.0.1", self.port, db, *args)

    def stop(self) -> None:
        self._server.stop(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL: every key is gone (nothing is persisted)."""
        self._server.kill()
        self.paused = False

    def running(self) -> bool:
        return self._server.alive()

    def pause(self) -> None:
        """SIGSTOP: connections stay open and keys stay, but nothing answers (a hung or partitioned Redis)."""
        assert self._server.proc is not None, "redis not running"
        self._server.proc.send_signal(signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        """SIGCONT: it answers again with the keys it had, and runs what it received meanwhile."""
        if self._server.proc is not None and self.paused:
            self._server.proc.send_signal(signal.SIGCONT)
        self.paused = False

    def close(self) -> None:
        self.resume()
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


# ---------------------------------------------------------------------------------------------------------
# `services.py run COMMAND...`

COMMAND_STOP_TIMEOUT_S = 30.0  # after forwarding a signal, how long the command gets before SIGKILL


def run(command: list[str]) -> int:
    received: list[int] = []  # signals to pass on; the handler only records them (see _wait_for_command)

    def on_signal(signum: int, _frame: Any) -> None:
        received.append(signum)

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    with Postgres() as pg, Redis() as redis:
        env = dict(os.environ, TICKETD_TEST_POSTGRES_URL=pg.url(), TICKETD_TEST_REDIS_URL=redis.url(0))
        print(f"services: postgres {pg.url()} (log {pg.log_path}), redis {redis.url(0)}", file=sys.stderr, flush=True)
        if received:
            return 128 + received[0]
        # Its own process group: a Ctrl-C at the terminal reaches only us, and we pass it on exactly once.
        child = subprocess.Popen(command, env=env, process_group=0, preexec_fn=_die_with_parent(signal.SIGTERM))
        code = _wait_for_command(child, received)
        print("services: stopping postgres and redis", file=sys.stderr, flush=True)
    if code < 0:  # killed by a signal: report it the way a shell does
        return 128 - code
    return code


def _wait_for_command(child: subprocess.Popen, received: list[int]) -> int:
    """Waits for the command, passing on the first signal we received (SIGHUP as SIGTERM), and from then
    on waits at most COMMAND_STOP_TIMEOUT_S more. The signal is passed on from here rather than from the
    handler because it may arrive while Popen is still starting the command, before `child` exists."""
    deadline: float | None = None
    while True:
        try:
            return child.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            pass
        if received and deadline is None:
            child.send_signal(signal.SIGTERM if received[0] == signal.SIGHUP else received[0])
            deadline = time.monotonic() + COMMAND_STOP_TIMEOUT_S
        if deadline is not None and time.monotonic() > deadline:
            child.kill()  # it ignored the signal
            return child.wait()


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] != "run":
        print("usage: services.py run [--] COMMAND [ARGS...]", file=sys.stderr)
        return 2
    command = argv[1:]
    if command[0] == "--":
        command = command[1:]
    if not command:
        print("usage: services.py run [--] COMMAND [ARGS...]", file=sys.stderr)
        return 2
    return run(command)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
