"""A distributed deployment for tests: N ticketd nodes on one PostgreSQL database and one Redis db index,
paying through one ticketd-fake-stripe, plus the SQL audits the multi-node tests assert.

Thread safety: a Deployment is driven by the test's main thread; `alive_ports()` and `port_for()` may be
called from client threads (the set of dead nodes is guarded by a lock).
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from pathlib import Path

import services
from api_support import DistributedBackend, Server, free_port, run_together
from fake_stripe import API_KEY, WEBHOOK_SECRET, FakeStripe

NODES = 3
START_TIMEOUT_S = 120.0  # three nodes starting at once, racing for the migration lock, on a busy box
# A sale's pending payments (checkouts whose node died) are settled by a surviving node's reconciler:
# look often, and ask Stripe about any payment pending for more than 2 s.
RECONCILE_INTERVAL_MS = 300
PAYMENT_RECONCILE_AFTER_S = 2

_deployments = itertools.count(1)  # names each deployment's database and Redis db index within a run


@dataclass(frozen=True)
class BookingRow:
    id: int
    user_id: int
    event_id: int
    status: str
    seat_ids: tuple[int, ...]


class Deployment:
    """NODES ticketd nodes sharing a fresh database and a fresh Redis db index. Node 0 receives the fake
    Stripe's webhooks; tests kill the others, never node 0."""

    def __init__(self, root: Path, pg: services.Postgres, redis: services.Redis, *, hold_ttl_s: int,
                 nodes: int = NODES, extra_env: dict[str, str] | None = None) -> None:
        number = next(_deployments)
        assert number < services.REDIS_DATABASES, "more deployments than Redis db indexes in one run"
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self.pg = pg
        self.redis = redis
        self.database = f"multinode_{number}"
        self.redis_db = number
        assert pg.create_database(self.database), f"database {self.database} existed already"
        redis.command("FLUSHDB", db=self.redis_db)
        self.backend = DistributedBackend(pg.url(self.database), redis.url(self.redis_db))
        webhook_port = free_port()
        self.fake = FakeStripe(f"http://127.0.0.1:{webhook_port}/v1/payments/stripe/webhook",
                               root / "fake-stripe.log")
        env = {
            "TICKETD_STRIPE_SECRET_KEY": API_KEY,
            "TICKETD_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "TICKETD_RECONCILE_INTERVAL_MS": str(RECONCILE_INTERVAL_MS),
            "TICKETD_PAYMENT_RECONCILE_AFTER_S": str(PAYMENT_RECONCILE_AFTER_S),
            **(extra_env or {}),
        }
        self.nodes = [Server(root / f"node{i}" / "data", hold_ttl_s=hold_ttl_s, log_path=root / f"node{i}.log",
                             port=webhook_port if i == 0 else None, extra_env=env, backend=self.backend)
                      for i in range(nodes)]
        self._dead: set[int] = set()
        self._lock = threading.Lock()  # guards _dead

    def start(self) -> None:
        """Starts the fake Stripe, then every node at once (they race for the schema migration lock)."""
        self.fake.start()
        for node in self.nodes:
            node.extra_env["TICKETD_STRIPE_API_BASE"] = self.fake.api_base
        run_together([node.start for node in self.nodes], timeout_s=START_TIMEOUT_S)

    def stop(self) -> None:
        """SIGTERM to every live node (each must exit 0), then the fake Stripe."""
        try:
            for node in self.nodes:
                if node.running():
                    node.stop()
        finally:
            self.close()

    def close(self) -> None:
        """Kills whatever still runs: for teardown after a failure. Idempotent."""
        for node in self.nodes:
            node.kill()
        self.fake.stop()

    # -- nodes --

    def kill_node(self, index: int) -> None:
        """SIGKILL one node; clients move to the survivors from now on."""
        assert index != 0, "node 0 receives the webhooks; kill another"
        with self._lock:
            self._dead.add(index)
        self.nodes[index].kill()

    def is_dead(self, index: int) -> bool:
        with self._lock:
            return index in self._dead

    def alive(self) -> list[int]:
        with self._lock:
            return [i for i in range(len(self.nodes)) if i not in self._dead]

    def node_for(self, client_index: int) -> int:
        """The node a client uses: its own (client_index mod N) while it lives, else a survivor."""
        own = client_index % len(self.nodes)
        alive = self.alive()
        return own if own in alive else alive[client_index % len(alive)]

    def log_tails(self) -> str:
        return "\n".join(f"node {i}: {node.log_tail(15)}" for i, node in enumerate(self.nodes))

    # -- the database, audited directly --

    def sql(self, query: str) -> list[list[str]]:
        return self.pg.query(self.database, query)

    def sql_int(self, query: str) -> int:
        rows = self.sql(query)
        assert len(rows) == 1 and len(rows[0]) == 1, f"{query!r} returned {rows!r}"
        return int(rows[0][0])

    def bookings(self, event_id: int) -> dict[int, BookingRow]:
        """Every booking of the event with its seats, as the database has them."""
        rows = self.sql(
            "SELECT b.id, b.user_id, b.event_id, b.status,"
            " coalesce(string_agg(bs.seat::text, ',' ORDER BY bs.seat), '')"
            " FROM bookings b LEFT JOIN booking_seats bs ON bs.booking_id = b.id"
            f" WHERE b.event_id = {int(event_id)} GROUP BY b.id, b.user_id, b.event_id, b.status")
        return {int(r[0]): BookingRow(int(r[0]), int(r[1]), int(r[2]), r[3],
                                      tuple(int(s) for s in r[4].split(",") if s)) for r in rows}

    def sales_problems(self, event_id: int, seats_total: int, sold_expected: int | None) -> list[str]:
        """How the event's sales disagree with: every sold seat is a seat of the venue and of exactly one
        CONFIRMED booking, every seat of a CONFIRMED booking is sold to it, and (unless None) exactly
        `sold_expected` seats are sold. Empty when they agree."""
        event = int(event_id)
        problems = []
        sold = self.sql_int(f"SELECT count(*) FROM sold_seats WHERE event_id = {event}")
        if sold_expected is not None and sold != sold_expected:
            problems.append(f"sold_seats has {sold} rows for event {event}, expected {sold_expected}")
        out_of_range = self.sql_int(
            f"SELECT count(*) FROM sold_seats WHERE event_id = {event} AND (seat < 0 OR seat >= {seats_total})")
        if out_of_range:
            problems.append(f"{out_of_range} sold seats of event {event} are not seats of its venue")
        confirmed_seats = self.sql_int(
            "SELECT count(*) FROM booking_seats bs JOIN bookings b ON b.id = bs.booking_id"
            f" WHERE b.event_id = {event} AND b.status = 'CONFIRMED'")
        distinct_confirmed = self.sql_int(
            "SELECT count(DISTINCT bs.seat) FROM booking_seats bs JOIN bookings b ON b.id = bs.booking_id"
            f" WHERE b.event_id = {event} AND b.status = 'CONFIRMED'")
        if confirmed_seats != distinct_confirmed:
            problems.append(f"{confirmed_seats - distinct_confirmed} seats are in two CONFIRMED bookings")
        if confirmed_seats != sold:
            problems.append(f"CONFIRMED bookings hold {confirmed_seats} seats but {sold} are sold")
        unbacked = self.sql(
            "SELECT s.seat, s.booking_id, b.status FROM sold_seats s"
            " LEFT JOIN bookings b ON b.id = s.booking_id"
            " LEFT JOIN booking_seats bs ON bs.booking_id = s.booking_id AND bs.seat = s.seat"
            f" WHERE s.event_id = {event} AND (b.status IS DISTINCT FROM 'CONFIRMED' OR b.event_id <> {event}"
            " OR bs.seat IS NULL) LIMIT 20")
        if unbacked:
            problems.append(f"sold seats without a CONFIRMED booking of them (seat, booking, status): {unbacked}")
        unsold = self.sql(
            "SELECT bs.seat, b.id FROM booking_seats bs JOIN bookings b ON b.id = bs.booking_id"
            " LEFT JOIN sold_seats s ON s.event_id = b.event_id AND s.seat = bs.seat AND s.booking_id = b.id"
            f" WHERE b.event_id = {event} AND b.status = 'CONFIRMED' AND s.seat IS NULL LIMIT 20")
        if unsold:
            problems.append(f"seats of CONFIRMED bookings not sold to them (seat, booking): {unsold}")
        return problems
