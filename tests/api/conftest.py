"""Fixtures for the black-box API tests. The helpers they build on are in api_support.py.

Servers:
  server            session: hold TTL 600 s, so no hold expires during a test.
  short_ttl_server  module: hold TTL 1 s, for tests that wait ~2 s for a hold to expire.
  capped_server     module: hold TTL 600 s and the default cap on live holds per user across events.
  capped_short_ttl_server  module: hold TTL 2 s and a cap of 2 live holds per user.
The pooled users of `server` and `short_ttl_server` keep their holds from one test to the next (each
test has its own event), so those two lift the cap on live holds per user; the capped servers test it.
Both are stopped with SIGTERM at the end (exit code must be 0) and their state (the data dir, or the
PostgreSQL database on the distributed backend) must pass `ticketd verify`. The backend comes from
TICKETD_TEST_BACKEND (api_support.backend_for).

Clients: `admin` / `short_ttl_admin` are logged in as the administrator; `users` / `short_ttl_users` are
pools of reusable users (`users.take(n)`), cheap after first use because each test works on its own event.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from api_support import Client, Server, UserPool, admin_client, assert_verify_ok

LONG_HOLD_TTL_S = 600  # longer than any test: holds in these tests end only when the test ends them
SHORT_HOLD_TTL_S = 1  # the smallest TTL, so expiry tests wait ~2 s
# The pooled users hold in test after test and never release most holds: far past the default cap
# on live holds per user (10), which only the capped servers keep.
POOLED_HOLDS_PER_USER_MAX = {"TICKETD_HOLDS_PER_USER_MAX": "100000"}
CAPPED_SHORT_HOLD_TTL_S = 2  # holds outlive the few requests that reach the cap, then lapse soon
CAPPED_SHORT_HOLDS_PER_USER_MAX = 2  # given through TICKETD_HOLDS_PER_USER_MAX: the env var is tested too


def _serve(tmp_path_factory: pytest.TempPathFactory, name: str, hold_ttl_s: int,
           extra_env: dict[str, str] | None = None) -> Iterator[Server]:
    root = tmp_path_factory.mktemp(name)
    server = Server(root / "data", hold_ttl_s=hold_ttl_s, log_path=root / "server.log", extra_env=extra_env)
    server.start()
    try:
        yield server
    finally:
        if server.running():
            server.stop()  # asserts exit code 0
            assert_verify_ok(server, f"on the state of the {name} fixture")
        else:
            server.kill()
            pytest.fail(f"the {name} fixture's process died during the tests\n{server.log_tail()}")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from _serve(tmp_path_factory, "server", LONG_HOLD_TTL_S, POOLED_HOLDS_PER_USER_MAX)


@pytest.fixture(scope="session")
def admin(server: Server) -> Client:
    return admin_client(server)


@pytest.fixture(scope="session")
def users(server: Server) -> UserPool:
    return UserPool(server)


@pytest.fixture(scope="module")
def short_ttl_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from _serve(tmp_path_factory, "short-ttl-server", SHORT_HOLD_TTL_S, POOLED_HOLDS_PER_USER_MAX)


@pytest.fixture(scope="module")
def short_ttl_admin(short_ttl_server: Server) -> Client:
    return admin_client(short_ttl_server)


@pytest.fixture(scope="module")
def short_ttl_users(short_ttl_server: Server) -> UserPool:
    return UserPool(short_ttl_server)


@pytest.fixture(scope="module")
def capped_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from _serve(tmp_path_factory, "capped-server", LONG_HOLD_TTL_S)  # the default cap


@pytest.fixture(scope="module")
def capped_short_ttl_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from _serve(tmp_path_factory, "capped-short-ttl-server", CAPPED_SHORT_HOLD_TTL_S,
                      {"TICKETD_HOLDS_PER_USER_MAX": str(CAPPED_SHORT_HOLDS_PER_USER_MAX)})


@pytest.fixture
def anon(server: Server) -> Iterator[Client]:
    """An anonymous client of the session server."""
    client = server.client()
    yield client
    client.close()
