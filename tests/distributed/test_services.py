"""tests/support/services.py, which every distributed test stands on: private servers that come up, come
back on the same port, and leave nothing behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest

import services

SERVICES_PY = Path(services.__file__).resolve()
RUN_TIMEOUT_S = 120.0


def test_redis_restarted_after_sigkill_is_empty_and_on_the_same_port() -> None:
    with services.Redis() as redis:
        assert redis.command("SET", "seat:{1}:7", "42", "PX", 60_000, db=3) == "OK"
        assert redis.command("GET", "seat:{1}:7", db=3) == "42"
        assert redis.command("GET", "seat:{1}:7", db=0) is None  # databases are separate
        port = redis.port
        redis.kill()
        with pytest.raises(OSError):
            redis.command("PING")
        redis.start()
        assert redis.port == port
        assert redis.command("GET", "seat:{1}:7", db=3) is None  # nothing was persisted
        folder = redis.folder
    assert not folder.exists()


def test_postgres_creates_each_database_once_answers_queries_and_restarts_with_its_data() -> None:
    with services.Postgres() as pg:
        assert pg.query("ticketd", "SHOW fsync") == [["off"]]
        assert pg.create_database("scratch_1") is True
        assert pg.create_database("scratch_1") is False
        assert pg.query("scratch_1", "SELECT 1, NULL, 'a b'") == [["1", "", "a b"]]
        with pytest.raises(RuntimeError, match="psql failed"):
            pg.query("scratch_1", "SELECT * FROM no_such_table")
        pg.query("scratch_1", "CREATE TABLE kept(x int); INSERT INTO kept VALUES (5)")
        port = pg.port
        pg.stop()
        with pytest.raises(RuntimeError):
            pg.query("scratch_1", "SELECT 1")
        pg.start()  # a restart: same port, same data
        assert pg.port == port
        assert pg.query("scratch_1", "SELECT x FROM kept") == [["5"]]
        folder = pg.folder
    assert not folder.exists()


def test_urls_are_rewritten_and_parsed() -> None:
    assert services.with_database("postgresql://u@127.0.0.1:5/a?sslmode=disable", "b") == \
        "postgresql://u@127.0.0.1:5/b?sslmode=disable"
    assert services.with_database("postgresql://u:p@h:5432", "b") == "postgresql://u:p@h:5432/b"
    assert services.parse_redis_url("redis://127.0.0.1:6380/9") == ("127.0.0.1", 6380, 9)
    assert services.parse_redis_url("redis://10.0.0.1:6379") == ("10.0.0.1", 6379, 0)


def _run(command: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SERVICES_PY), "run", "--", *command], capture_output=True, text=True,
                          timeout=RUN_TIMEOUT_S, check=False)


def test_run_exports_both_urls_passes_the_exit_status_and_stops_both() -> None:
    script = ('echo "$TICKETD_TEST_POSTGRES_URL $TICKETD_TEST_REDIS_URL"; '
              'psql "$TICKETD_TEST_POSTGRES_URL" -XAtc "SELECT 7" && redis-cli -u "$TICKETD_TEST_REDIS_URL" ping; exit 3')
    result = _run(["bash", "-c", script])
    assert result.returncode == 3, result.stderr
    lines = result.stdout.split()
    postgres_url, redis_url = lines[0], lines[1]
    assert postgres_url.startswith("postgresql://ticketd@127.0.0.1:") and postgres_url.endswith("/ticketd")
    assert redis_url.startswith("redis://127.0.0.1:") and redis_url.endswith("/0")
    assert lines[2:] == ["7", "PONG"], result.stdout
    pg_port = urllib.parse.urlsplit(postgres_url).port
    _, redis_port, _ = services.parse_redis_url(redis_url)
    for port in (pg_port, redis_port):  # both servers are gone: their ports refuse connections
        with pytest.raises(OSError):
            services.redis_command("127.0.0.1", port, 0, "PING", timeout_s=2.0)


def test_run_forwards_sigterm_to_the_command_and_still_tears_down() -> None:
    proc = subprocess.Popen([sys.executable, str(SERVICES_PY), "run", "--", "bash", "-c",
                             'trap "exit 42" TERM; echo "$TICKETD_TEST_REDIS_URL"; while :; do sleep 0.1; done'],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        redis_url = proc.stdout.readline().strip()  # the command runs: both servers are up
        assert redis_url.startswith("redis://"), redis_url
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=RUN_TIMEOUT_S)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
    assert code == 42, proc.stderr.read() if proc.stderr else ""
    _, port, _ = services.parse_redis_url(redis_url)
    with pytest.raises(OSError):
        services.redis_command("127.0.0.1", port, 0, "PING", timeout_s=2.0)
