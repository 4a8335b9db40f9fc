"""Fixtures of the multi-node tests: one private PostgreSQL and one private Redis for the whole run.

These tests start their own servers (tests/support/services.py) rather than use TICKETD_TEST_*_URL,
because they kill and restart Redis mid-test. Each test deploys its own nodes on its own database and
Redis db index (cluster.Deployment), so tests do not see each other's data.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

_TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(_TESTS / "api"))  # api_support, fake_stripe: the black-box helpers
sys.path.insert(0, str(_TESTS / "support"))  # services

import services  # noqa: E402


# Both live in folders of their own under the system temp dir, not under pytest's: as root, PostgreSQL runs
# as another account, which cannot enter pytest's private /tmp/pytest-of-root.
@pytest.fixture(scope="session")
def postgres() -> Iterator[services.Postgres]:
    with services.Postgres() as pg:
        yield pg


@pytest.fixture(scope="session")
def redis() -> Iterator[services.Redis]:
    with services.Redis() as server:
        yield server
