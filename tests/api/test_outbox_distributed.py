"""Distributed outbox: several ticketd nodes drain one PostgreSQL outbox.

- Three nodes, one slow receiver: every notification is delivered, none is lost, none is delivered by
  two nodes (leases are long here, so no lease lapses).
- A node that stalls (SIGSTOP) while delivering keeps its lease until it lapses; then another node
  claims the row and delivers it again with the same idempotency key.

Skipped on the embedded backend (one process owns its outbox there).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from api_support import (Server, admin_client, backend_for, backend_is_embedded, checkout, expect, hold_seats, make_event,
                         new_user, section)
from notify_support import WEBHOOK_SECRET, WebhookReceiver, enable_verified_sms, notify_env, unique_phone, wait_until

pytestmark = pytest.mark.skipif(backend_is_embedded(), reason="the shared outbox exists on the distributed backend")

NODES = 3
BOOKINGS = 24


def node(tmp_path: Path, name: str, env: dict[str, str]) -> Server:
    """A node of the cluster of this test: every node of one test shares one database and one Redis index."""
    (tmp_path / name).mkdir(parents=True, exist_ok=True)
    server = Server(tmp_path / name / "data", hold_ttl_s=600, log_path=tmp_path / name / "server.log", extra_env=env,
                    backend=backend_for(tmp_path / "cluster"))
    server.start()
    return server


def book(server: Server, count: int, receiver: WebhookReceiver) -> set[int]:
    admin = admin_client(server)
    event = make_event(admin, [section("Floor", "premium", [count])], prices={"premium": 1000},
                       max_tickets_per_user=count)
    user = new_user(server)
    enable_verified_sms(user, receiver, unique_phone())
    ids = set()
    for seat in range(count):
        hold = expect(hold_seats(user.client, event["id"], [seat]), 201)
        ids.add(expect(checkout(user.client, hold["id"]), 201)["id"])
    return ids


def test_three_nodes_drain_one_outbox_without_loss_or_double_delivery(tmp_path: Path) -> None:
    with WebhookReceiver() as receiver:
        receiver.delay_s = 0.1  # slow enough that every node gets a share
        env = notify_env(TICKETD_NOTIFY_WEBHOOK_URL=receiver.url, TICKETD_NOTIFY_WEBHOOK_SECRET=WEBHOOK_SECRET,
                         TICKETD_NOTIFY_BATCH="2", TICKETD_NOTIFY_LEASE_MS="60000",
                         TICKETD_MESSAGES_PER_DESTINATION_HOUR_MAX="100")  # 24 confirmations to one phone
        nodes = [node(tmp_path, f"node{i}", env) for i in range(NODES)]
        try:
            booking_ids = book(nodes[0], BOOKINGS, receiver)
            mine = lambda d: d.body.get("booking_id") in booking_ids  # noqa: E731
            wait_until(lambda: {d.body["booking_id"] for d in receiver.accepted(mine)} == booking_ids,
                       what="every confirmation")
            deliveries = receiver.deliveries(mine)
            by_key: dict[str, list] = {}
            for d in deliveries:
                assert d.signature_ok
                by_key.setdefault(d.key, []).append(d)
            doubled = {k: [x.node for x in v] for k, v in by_key.items() if len(v) > 1}
            assert not doubled, f"delivered more than once although no lease lapsed: {doubled}"
            assert len(by_key) == BOOKINGS
            senders = {d.node for d in deliveries}
            assert len(senders) >= 2, f"one node delivered everything: {senders}"
        finally:
            for n in nodes:
                n.stop()


def test_a_stalled_nodes_lease_lapses_and_another_node_delivers(tmp_path: Path) -> None:
    lease_s = 3.0
    env = notify_env(TICKETD_NOTIFY_WEBHOOK_TIMEOUT_MS="1000", TICKETD_NOTIFY_LEASE_MS=str(int(lease_s * 1000)),
                     TICKETD_NOTIFY_WEBHOOK_SECRET=WEBHOOK_SECRET)
    with WebhookReceiver() as receiver:
        env["TICKETD_NOTIFY_WEBHOOK_URL"] = receiver.url
        first = node(tmp_path, "stalls", env)
        stalled = threading.Event()
        booking_ids: set[int] = set()

        def freeze_first_sender(d) -> None:
            # The first delivery of our booking comes from `first` (the only node yet): freeze it mid-request,
            # holding its lease.
            if d.body.get("booking_id") in booking_ids and not stalled.is_set():
                os.kill(first.proc.pid, signal.SIGSTOP)
                # A stop takes effect when each thread next enters the kernel: answered at once, the
                # node's delivery thread could still read the answer and send its "sent" to PostgreSQL
                # before it stops. Held back a moment, the answer reaches a node that is stopped.
                time.sleep(0.5)
                stalled.set()

        receiver.on_request = freeze_first_sender
        second = None
        try:
            booking_ids |= book(first, 1, receiver)
            wait_until(stalled.is_set, what="the first node's delivery")
            second = node(tmp_path, "takes-over", env)
            mine = lambda d: d.body.get("booking_id") in booking_ids  # noqa: E731
            wait_until(lambda: len(receiver.deliveries(mine)) >= 2, what="the second node's delivery")
            a, b = sorted(receiver.deliveries(mine), key=lambda d: d.started)[:2]
            assert a.key == b.key, "a redelivery carries the same idempotency key"
            assert a.node != b.node
            assert b.started - a.started >= lease_s - 0.1, "the row was claimed again before its lease lapsed"
        finally:
            if stalled.is_set():
                os.kill(first.proc.pid, signal.SIGCONT)
            first.stop()
            if second is not None:
                second.stop()
