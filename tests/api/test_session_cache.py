"""Sessions cached in memory on every node (app/session_cache.hpp): an ended session ends on every node.

Two nodes share one database and one Redis. Each test first makes node B read the session (so B holds it
in its cache: its hit counter proves it), then ends the session on node A and asks B again at once. The
cache's TTL is set to 5 minutes, so a right answer from B within a second is the invalidation sent over
Redis, not the entry lapsing.

Skipped on the embedded backend (one process: tests/api/test_accounts.py covers logout there).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from api_support import (USER_PASSWORD, Server, assert_error, backend_for, backend_is_embedded, expect, login,
                         metrics_text, new_user)

pytestmark = pytest.mark.skipif(backend_is_embedded(), reason="cross-node invalidation needs two nodes")

CACHE_TTL_S = 300
SEEN_WITHIN_S = 1.0


def node(tmp_path: Path, name: str) -> Server:
    (tmp_path / name).mkdir(parents=True, exist_ok=True)
    server = Server(tmp_path / name / "data", hold_ttl_s=600, log_path=tmp_path / name / "server.log",
                    extra_env={"TICKETD_SESSION_CACHE_TTL_S": str(CACHE_TTL_S)}, backend=backend_for(tmp_path / "cluster"))
    server.start()
    return server


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory):
    tmp_path = tmp_path_factory.mktemp("session-cache")
    a, b = node(tmp_path, "a"), node(tmp_path, "b")
    yield a, b
    a.stop()
    b.stop()


def cache_hits(server: Server) -> int:
    found = re.search(r"^ticketd_session_cache_hits_total (\d+)$", metrics_text(server.port), re.M)
    assert found, "the session cache reports its hits"
    return int(found.group(1))


def cached_on(server: Server, token: str, user_id: int) -> None:
    """Reads the session on `server` twice: the second answer comes from its cache."""
    client = server.client(token)
    assert expect(client.get("/v1/me"), 200)["id"] == user_id
    hits = cache_hits(server)
    assert expect(client.get("/v1/me"), 200)["id"] == user_id
    assert cache_hits(server) > hits, "the second read was answered from the cache"


def refused_soon(server: Server, token: str) -> float:
    """Seconds until `server` refuses `token` (fails past SEEN_WITHIN_S)."""
    client = server.client(token)
    started = time.monotonic()
    while True:
        resp = client.get("/v1/me")
        if resp.status == 401:
            return time.monotonic() - started
        assert resp.status == 200, resp
        assert time.monotonic() - started < SEEN_WITHIN_S, "the other node still accepts the ended session"
        time.sleep(0.02)


def test_a_logout_on_one_node_ends_the_session_on_the_other(nodes) -> None:
    a, b = nodes
    user = new_user(a)
    other_token = expect(login(a.client(), user.email, USER_PASSWORD), 201)["token"]
    cached_on(b, user.token, user.id)
    cached_on(b, other_token, user.id)
    expect(a.client(user.token).delete("/v1/sessions/current"), 204)
    refused_soon(b, user.token)
    assert expect(b.client(other_token).get("/v1/me"), 200)["id"] == user.id, "only that session ended"


def test_logging_out_everywhere_on_one_node_ends_every_session_on_the_other(nodes) -> None:
    a, b = nodes
    user = new_user(a)
    tokens = [user.token] + [expect(login(a.client(), user.email, USER_PASSWORD), 201)["token"] for _ in range(2)]
    for token in tokens:
        cached_on(b, token, user.id)
    expect(a.client(tokens[1]).delete("/v1/sessions"), 204)
    for token in tokens:
        refused_soon(b, token)


def test_a_password_change_on_one_node_ends_the_other_sessions_there_too(nodes) -> None:
    a, b = nodes
    user = new_user(a)
    other_token = expect(login(a.client(), user.email, USER_PASSWORD), 201)["token"]
    cached_on(b, other_token, user.id)
    cached_on(b, user.token, user.id)
    expect(a.client(user.token).post("/v1/users/me/password", {"current_password": USER_PASSWORD,
                                                               "new_password": "another long passphrase"}), 204)
    refused_soon(b, other_token)
    assert expect(b.client(user.token).get("/v1/me"), 200)["id"] == user.id, "the changing session goes on"
    assert_error(login(b.client(), user.email, USER_PASSWORD), 401, "invalid_credentials")
