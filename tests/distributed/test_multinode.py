"""Three ticketd nodes on one PostgreSQL and one Redis: no seat is ever sold twice, and no acknowledged
booking is ever lost, whatever happens to Redis or to a node.

A sale: 64 clients spread over the nodes (client i uses node i mod 3) race for a 2,000-seat event until it
is sold out. Each looks at its node's seat map, holds 1-4 seats (random free seats, or best available a
quarter of the time) and checks out with Stripe's success test card through ticketd-fake-stripe. Then:
every seat is sold exactly once and the sold seats are exactly the seats of the CONFIRMED bookings (SQL,
through psql); every booking acknowledged to a client (201) exists CONFIRMED with its seats and buyer, in
SQL and over HTTP; every live node shows the event sold out; the nodes exit 0 on SIGTERM; and
`ticketd verify --store postgres` passes.

The same sale runs undisturbed, with Redis killed (SIGKILL: every key is lost) and restarted mid-sale,
and with one node killed -9 mid-sale (its clients move to the survivors and retry an unanswered checkout
there with the same Idempotency-Key). Redis down for good: holds still work through PostgreSQL (the
documented fallback), never twice for one seat, and once Redis is back a hold made on one node is HELD in
every node's seat map.

One waiting room across the nodes: a place reads the same on every node, an access token minted on one
node opens holds on another, kill -9 of a releasing node leaves a survivor releasing (per-node
ticketd_queue_releases_total), and every release tick admits exactly batch_size (no double release).

Every wait is bounded; nothing asserts how fast anything is. TICKETD_TEST_SEED replays the clients' choices.
"""

from __future__ import annotations

import concurrent.futures
import http.client
import os
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import services
from api_support import (Client, Response, User, admin_client, assert_verify_ok, checkout, compact_status,
                         create_event, create_venue, describe, event_counts, expect, grid, hold_best, hold_seats,
                         new_users, run_together, wait_for, with_backoff, metrics_text)
from cluster import Deployment

ROWS, SEATS_PER_ROW = 20, 100
SEATS_TOTAL = ROWS * SEATS_PER_ROW  # 2,000
CLIENTS = 64
SEATS_PER_HOLD_MAX = 4
MAX_TICKETS_PER_USER = 100  # the most an event allows; a fair share is ~31, so the limit rarely decides
HOLD_TTL_S = 15  # a hold orphaned by a killed node lapses this soon, so the survivors can sell its seats
LONG_HOLD_TTL_S = 600  # tests whose holds must not lapse while they look at them
SALE_TIMEOUT_S = 420.0  # the whole sale, on a busy 2-core box; a sale still running then has hung
DISTURB_AT_SEATS = SEATS_TOTAL // 3  # Redis or a node dies once this many seats are acknowledged sold
SOLD_DURING_OUTAGE = SEATS_TOTAL // 6  # Redis returns once this many more seats are sold without it...
REDIS_OUTAGE_TIMEOUT_S = 30.0  # ...or after this long (then the sale goes on with Redis back)
CHECKOUT_ATTEMPTS_MAX = 20  # one checkout: the first try plus retries after its node died / it was in flight
SOLD_OUT_VISIBLE_TIMEOUT_S = 60.0  # after the sale, until every live node's seat map shows it sold out
RECOVERY_TIMEOUT_S = 60.0  # after Redis returns, until holds and cross-node seat maps work again
SEAT_MAP_CATCH_UP_TIMEOUT_S = 10.0  # after Redis answers again, until seat maps show what PostgreSQL knows
BACKOFF_ATTEMPTS_MAX = 40  # 429/503 answers tolerated in a row (each waits Retry-After, at most 1 s)

HOLD_REFUSALS = ("seat_unavailable", "insufficient_seats", "ticket_limit_exceeded")


@dataclass(frozen=True)
class Ack:
    """A booking answered 201 to a client: it must exist, CONFIRMED, with these seats, forever."""
    booking_id: int
    user_index: int
    user_id: int
    seat_ids: tuple[int, ...]


def _seed() -> int:
    seed = int(os.environ.get("TICKETD_TEST_SEED", "0")) or random.randrange(1, 2**31)
    print(f"seed={seed} (set TICKETD_TEST_SEED to replay the clients' choices)")
    return seed


@pytest.fixture()
def deploy(tmp_path: Path, postgres: services.Postgres,
           redis: services.Redis) -> Iterator[Callable[..., Deployment]]:
    """deploy(hold_ttl_s) starts a Deployment of three nodes; whatever is left of it is killed afterwards."""
    made: list[Deployment] = []

    def make(hold_ttl_s: int = HOLD_TTL_S) -> Deployment:
        dep = Deployment(tmp_path / f"deployment{len(made)}", postgres, redis, hold_ttl_s=hold_ttl_s)
        made.append(dep)
        dep.start()
        return dep

    try:
        yield make
    finally:
        redis.resume()  # a test that failed with Redis paused
        for dep in made:
            dep.close()
        if not redis.running():
            redis.start()  # a test that failed while Redis was down must not take the next one down too


def _sale_event(dep: Deployment) -> dict:
    admin = admin_client(dep.nodes[0])
    venue = create_venue(admin, [grid("Arena", "standard", ROWS, SEATS_PER_ROW)])
    return create_event(admin, venue, max_tickets_per_user=MAX_TICKETS_PER_USER)


class Sale:
    """CLIENTS threads buying until the event is sold out. Client i is user i and uses dep.node_for(i)."""

    def __init__(self, dep: Deployment, event_id: int, users: list[User], seed: int) -> None:
        assert len(users) == CLIENTS
        self.dep = dep
        self.event_id = event_id
        self.users = users
        self.seed = seed
        self.lock = threading.Lock()  # guards everything below
        self.acks: list[Ack] = []
        self.seats_acked = 0
        self.unexpected: list[str] = []
        self.finished = 0  # clients that saw the event sold out
        self.moved = 0  # requests that failed because their node died, and went to a survivor
        self.stop = threading.Event()

    def run(self, disturb: Callable[[Sale], None] | None = None) -> None:
        """Runs the sale to the end; calls disturb(self) once DISTURB_AT_SEATS seats are acknowledged."""
        deadline = time.monotonic() + SALE_TIMEOUT_S
        threads = [threading.Thread(target=self._client, args=(i, deadline), daemon=True) for i in range(CLIENTS)]
        for thread in threads:
            thread.start()
        if disturb is not None:
            while time.monotonic() < deadline and any(t.is_alive() for t in threads):
                with self.lock:
                    if self.seats_acked >= DISTURB_AT_SEATS or self.unexpected:
                        break
                time.sleep(0.05)
            with self.lock:
                acked = self.seats_acked
            assert acked < SEATS_TOTAL, "the sale ended before the disturbance"
            print(f"disturbing the sale with {acked} seats acknowledged")
            disturb(self)
        for thread in threads:
            thread.join(max(deadline - time.monotonic(), 0.1))
        hung = sum(t.is_alive() for t in threads)
        self.stop.set()
        for thread in threads:
            thread.join(10.0)
        with self.lock:
            summary = (f"seed={self.seed}: {len(self.acks)} bookings / {self.seats_acked} seats acknowledged, "
                       f"{self.finished} of {CLIENTS} clients saw the event sold out, "
                       f"{self.moved} requests moved to a survivor")
            unexpected = list(self.unexpected)
        print(summary)
        assert not unexpected, f"{summary}; {len(unexpected)} unexpected answers:\n" + "\n".join(unexpected[:15]) \
            + "\n" + self.dep.log_tails()
        assert not hung, f"{summary}; {hung} clients still buying after {SALE_TIMEOUT_S} s\n{self.dep.log_tails()}"

    # -- one client --

    def _client(self, index: int, deadline: float) -> None:
        buyer = _Buyer(self, index)
        try:
            while not self.stop.is_set() and time.monotonic() < deadline:
                try:
                    if buyer.step():
                        with self.lock:
                            self.finished += 1
                        return
                except (OSError, http.client.HTTPException) as exc:
                    buyer.drop_connection()
                    if self.dep.is_dead(buyer.node):
                        self.count_move()
                        continue  # its node was killed: the next step goes to a survivor
                    self.note(f"client {index}: request to live node {buyer.node} failed: {exc!r}")
                    return
        finally:
            buyer.close()

    def count_move(self) -> None:
        with self.lock:
            self.moved += 1

    def seats_acknowledged(self) -> int:
        with self.lock:
            return self.seats_acked

    def note(self, what: str) -> None:
        with self.lock:
            self.unexpected.append(what)

    def acknowledge(self, ack: Ack) -> None:
        with self.lock:
            self.acks.append(ack)
            self.seats_acked += len(ack.seat_ids)


class _Buyer:
    """The state of one client thread: its user, its random choices and one connection per node."""

    def __init__(self, sale: Sale, index: int) -> None:
        self.sale = sale
        self.index = index
        self.user = sale.users[index]
        self.rng = random.Random(sale.seed * 1000 + index)
        self.node = sale.dep.node_for(index)
        self.clients: dict[int, Client] = {}

    def client(self) -> Client:
        self.node = self.sale.dep.node_for(self.index)
        if self.node not in self.clients:
            self.clients[self.node] = Client(self.sale.dep.nodes[self.node].port, self.user.token)
        return self.clients[self.node]

    def drop_connection(self) -> None:
        client = self.clients.pop(self.node, None)
        if client is not None:
            client.close()

    def close(self) -> None:
        for client in self.clients.values():
            client.close()

    def step(self) -> bool:
        """Looks at the seat map and tries to buy once; True when the event is sold out."""
        event_id = self.sale.event_id
        seat_map = with_backoff(lambda: self.client().get(f"/v1/events/{event_id}/seats?format=compact"),
                                BACKOFF_ATTEMPTS_MAX)
        if seat_map.status != 200:
            self.sale.note(f"client {self.index}: seat map on node {self.node}: {describe(seat_map)}")
            time.sleep(0.5)
            return False
        status = seat_map.body["status"]
        free = [seat for seat, state in enumerate(status) if state == "A"]
        if not free:
            if "H" not in status:
                return True
            time.sleep(self.rng.uniform(0.05, 0.3))  # held seats may lapse or be released
            return False
        quantity = self.rng.randint(1, SEATS_PER_HOLD_MAX)
        if self.rng.random() < 0.25:
            held = with_backoff(lambda: hold_best(self.client(), event_id, quantity), BACKOFF_ATTEMPTS_MAX)
        else:
            wanted = self.rng.sample(free, min(quantity, len(free)))
            held = with_backoff(lambda: hold_seats(self.client(), event_id, wanted), BACKOFF_ATTEMPTS_MAX)
        if held.status != 201:
            if held.status != 409 or held.error_code not in HOLD_REFUSALS:
                self.sale.note(f"client {self.index}: hold on node {self.node}: {describe(held)}")
            return False
        self._check_out(held.body)
        return False

    def _check_out(self, hold: dict) -> None:
        """Checks the hold out, retrying with the same key on a survivor if its node dies meanwhile."""
        key = uuid.uuid4().hex
        for _ in range(CHECKOUT_ATTEMPTS_MAX):
            try:
                paid = with_backoff(lambda: checkout(self.client(), hold["id"], idempotency_key=key),
                                    BACKOFF_ATTEMPTS_MAX)
            except (OSError, http.client.HTTPException):
                self.drop_connection()
                if not self.sale.dep.is_dead(self.node):
                    raise
                self.sale.count_move()
                continue  # unanswered: ask a survivor, same key (never charged twice, never booked twice)
            if paid.status == 409 and paid.error_code == "checkout_in_progress":
                time.sleep(0.5)  # the attempt on the dead node is still settling (the reconciler finishes it)
                continue
            self._record(hold, paid)
            return
        self.sale.note(f"client {self.index}: checkout of hold {hold['id']} unanswered after "
                       f"{CHECKOUT_ATTEMPTS_MAX} attempts")

    def _record(self, hold: dict, paid: Response) -> None:
        if paid.status == 410 and paid.error_code == "hold_expired":
            return  # a slow client: allowed, nothing was sold
        if paid.status != 201 or paid.body.get("status") != "CONFIRMED" \
                or sorted(paid.body.get("seat_ids") or []) != sorted(hold["seat_ids"]):
            self.sale.note(f"client {self.index}: checkout of hold {hold} on node {self.node}: {describe(paid)}")
            return
        self.sale.acknowledge(Ack(paid.body["id"], self.index, self.user.id, tuple(sorted(paid.body["seat_ids"]))))


# ---------------------------------------------------------------------------------------------------------
# After the sale.


def _wait_sold_out_everywhere(dep: Deployment, event_id: int) -> None:
    deadline = time.monotonic() + SOLD_OUT_VISIBLE_TIMEOUT_S
    for index in dep.alive():
        client = dep.nodes[index].client()
        try:
            status = compact_status(client, event_id)
            while status != "S" * SEATS_TOTAL and time.monotonic() < deadline:
                time.sleep(0.2)
                status = compact_status(client, event_id)
            assert status == "S" * SEATS_TOTAL, (
                f"node {index} does not show event {event_id} sold out after the sale: "
                f"{status.count('A')} available, {status.count('H')} held, {status.count('S')} sold")
            counts = event_counts(client, event_id)
            assert counts == {"available": 0, "held": 0, "sold": SEATS_TOTAL}, f"node {index}: counts {counts}"
        finally:
            client.close()


def _acks_over_http(dep: Deployment, sale: Sale) -> list[str]:
    """GET /v1/bookings/{id} for each acknowledged booking, as its buyer, spread over the live nodes."""
    alive = dep.alive()

    def check(ack: Ack) -> str | None:
        node = alive[ack.booking_id % len(alive)]
        client = dep.nodes[node].client(sale.users[ack.user_index].token)
        try:
            resp = client.get(f"/v1/bookings/{ack.booking_id}")
        finally:
            client.close()
        body = resp.body if isinstance(resp.body, dict) else {}
        if resp.status != 200 or body.get("status") != "CONFIRMED" \
                or tuple(sorted(body.get("seat_ids") or ())) != ack.seat_ids:
            return f"booking {ack} read on node {node}: {describe(resp)}"
        return None

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        return [p for p in pool.map(check, sale.acks) if p]


def _check_sale(dep: Deployment, sale: Sale, event_id: int) -> None:
    seller: dict[int, int] = {}
    for ack in sale.acks:
        for seat in ack.seat_ids:
            assert seat not in seller, f"seat {seat} acknowledged in bookings {seller[seat]} and {ack.booking_id}"
            seller[seat] = ack.booking_id

    _wait_sold_out_everywhere(dep, event_id)
    problems = dep.sales_problems(event_id, SEATS_TOTAL, SEATS_TOTAL)
    assert not problems, f"seed={sale.seed}: the database disagrees:\n" + "\n".join(problems)

    rows = dep.bookings(event_id)
    lost = []
    for ack in sale.acks:
        row = rows.get(ack.booking_id)
        if row is None or row.status != "CONFIRMED" or row.seat_ids != ack.seat_ids or row.user_id != ack.user_id:
            lost.append(f"acknowledged {ack}, database has {row}")
    assert not lost, f"seed={sale.seed}: {len(lost)} of {len(sale.acks)} acknowledged bookings lost or changed:\n" \
        + "\n".join(lost[:10])
    over_http = _acks_over_http(dep, sale)
    assert not over_http, f"seed={sale.seed}: acknowledged bookings read back wrong:\n" + "\n".join(over_http[:10])


def _stop_and_verify(dep: Deployment) -> None:
    dep.stop()  # every live node must exit 0 on SIGTERM
    assert_verify_ok(dep.nodes[0], "on the deployment's database")


def _sell_out(dep: Deployment, disturb: Callable[[Sale], None] | None = None) -> None:
    seed = _seed()
    event = _sale_event(dep)
    users = new_users(dep.nodes[0], CLIENTS)  # their sessions are valid on every node
    sale = Sale(dep, event["id"], users, seed)
    sale.run(disturb)
    _check_sale(dep, sale, event["id"])
    _stop_and_verify(dep)


# ---------------------------------------------------------------------------------------------------------
# The sales.


def test_three_nodes_sell_every_seat_exactly_once(deploy) -> None:
    _sell_out(deploy())


def test_redis_killed_and_restarted_mid_sale_loses_no_booking_and_sells_no_seat_twice(
        deploy, redis: services.Redis) -> None:
    def restart_redis(sale: Sale) -> None:
        before = sale.seats_acknowledged()
        redis.kill()  # SIGKILL, nothing persisted: every hold key and cache entry is gone
        # The sale goes on through PostgreSQL meanwhile; Redis returns while a good part is still unsold.
        deadline = time.monotonic() + REDIS_OUTAGE_TIMEOUT_S
        while sale.seats_acknowledged() < before + SOLD_DURING_OUTAGE and time.monotonic() < deadline:
            time.sleep(0.02)
        during = sale.seats_acknowledged() - before
        redis.start()
        print(f"{during} seats sold while Redis was down; restarted with {SEATS_TOTAL - before - during} unsold")

    _sell_out(deploy(), restart_redis)


def test_node_killed_mid_sale_loses_no_booking_and_the_survivors_sell_out(deploy) -> None:
    dep = deploy()
    _sell_out(dep, lambda sale: dep.kill_node(2))


# ---------------------------------------------------------------------------------------------------------
# Redis down for good, then back.


def _status_of(dep: Deployment, node: int, event_id: int) -> str:
    client = dep.nodes[node].client()
    try:
        return compact_status(client, event_id)
    finally:
        client.close()


def test_with_redis_down_holds_fall_back_to_postgres_and_recover_when_it_returns(
        deploy, redis: services.Redis) -> None:
    dep = deploy(hold_ttl_s=LONG_HOLD_TTL_S)
    admin = admin_client(dep.nodes[0])
    event = create_event(admin, create_venue(admin, [grid("Hall", "std", 4, 10)]), max_tickets_per_user=40)
    event_id = event["id"]
    users = new_users(dep.nodes[0], 30)
    redis.kill()

    # One seat, thirty buyers on three nodes at once: exactly one wins.
    contested = 7
    jobs = [(lambda u=u, n=i % 3: with_backoff(
        lambda: hold_seats(dep.nodes[n].client(u.token), event_id, [contested]), BACKOFF_ATTEMPTS_MAX))
        for i, u in enumerate(users)]
    answers = run_together(jobs)
    winners = [a for a in answers if a.status == 201]
    refused = [a for a in answers if a.status == 409 and a.error_code == "seat_unavailable"]
    assert len(winners) == 1 and len(refused) == len(users) - 1, \
        "with Redis down, 30 holds of one seat: " + "; ".join(sorted({describe(a) for a in answers}))
    winner_index = answers.index(winners[0])

    # Overlapping holds on three nodes never share a seat.
    rng = random.Random(_seed())
    wanted = [rng.sample([s for s in range(20, 40)], 3) for _ in users]
    jobs = [(lambda u=u, n=i % 3, w=w: with_backoff(
        lambda: hold_seats(dep.nodes[n].client(u.token), event_id, w), BACKOFF_ATTEMPTS_MAX))
        for i, (u, w) in enumerate(zip(users, wanted))]
    overlapping = run_together(jobs)
    owner: dict[int, int] = {}
    for answer in overlapping:
        if answer.status == 201:
            for seat in answer.body["seat_ids"]:
                assert seat not in owner, f"seat {seat} held twice with Redis down: holds {owner[seat]}, {answer.body}"
                owner[seat] = answer.body["id"]
        else:
            assert answer.status == 409 and answer.error_code == "seat_unavailable", describe(answer)
    assert owner, "no overlapping hold succeeded with Redis down"

    # The winner buys on its own node, still without Redis.
    winner = users[winner_index]
    paid = with_backoff(lambda: checkout(dep.nodes[winner_index % 3].client(winner.token), winners[0].body["id"]),
                        BACKOFF_ATTEMPTS_MAX)
    booking = expect(paid, 201)
    assert booking["status"] == "CONFIRMED" and booking["seat_ids"] == [contested], booking

    # Seat maps are read from PostgreSQL meanwhile: every node shows the sale and the holds.
    for node in range(3):
        status = _status_of(dep, node, event_id)
        assert status[contested] == "S" and all(status[s] == "H" for s in owner), \
            f"node {node}'s seat map with Redis down: {status}"

    redis.start()  # empty: it knows nothing of the holds and the sale made meanwhile

    # Holds work again, and seats PostgreSQL says are taken stay taken although Redis has no key for them.
    buyer = users[0]

    def retry_taken_seat() -> bool:
        answer = hold_seats(dep.nodes[1].client(buyer.token), event_id, [contested])
        if answer.status in (429, 503):
            return False
        assert answer.status == 409 and answer.error_code == "seat_unavailable", \
            f"the seat sold while Redis was down, held again after it returned: {describe(answer)}"
        return True

    wait_for("a node answering holds after Redis returned", retry_taken_seat, RECOVERY_TIMEOUT_S)
    held_before = sorted(owner)
    for node in range(3):
        again = with_backoff(lambda: hold_seats(dep.nodes[node].client(buyer.token), event_id, [held_before[0]]),
                             BACKOFF_ATTEMPTS_MAX)
        assert again.status == 409 and again.error_code == "seat_unavailable", \
            f"node {node}: seat {held_before[0]}, held while Redis was down, held again: {describe(again)}"

    # A hold made on one node is HELD in every node's seat map (the cross-node path through Redis works).
    fresh = expect(with_backoff(lambda: hold_seats(dep.nodes[0].client(buyer.token), event_id, [0, 1]),
                                BACKOFF_ATTEMPTS_MAX), 201)
    for node in range(3):
        wait_for(f"node {node} to show the hold made on node 0",
                 lambda node=node: _status_of(dep, node, event_id)[:2] == "HH", RECOVERY_TIMEOUT_S)
        status = _status_of(dep, node, event_id)
        assert status[contested] == "S", f"node {node}: the seat sold while Redis was down shows {status[contested]}"
        assert all(status[s] == "H" for s in owner), f"node {node}: holds made while Redis was down: {status}"
    assert fresh["seat_ids"] == [0, 1]

    problems = dep.sales_problems(event_id, 40, 1)
    assert not problems, "the database disagrees:\n" + "\n".join(problems)
    _stop_and_verify(dep)


def test_postgres_down_answers_503_then_recovers(deploy, postgres: services.Postgres) -> None:
    """Nothing is decided without the system of record: with PostgreSQL stopped, a hold is refused with 503 and
    Retry-After (never a 500, never a 201); once it is back, the same nodes serve again."""
    dep = deploy(hold_ttl_s=LONG_HOLD_TTL_S)
    admin = admin_client(dep.nodes[0])
    event_id = create_event(admin, create_venue(admin, [grid("Hall", "std", 1, 10)]))["id"]
    buyer = new_users(dep.nodes[0], 1)[0]
    postgres.stop()
    try:
        for node in range(3):
            refused = hold_seats(dep.nodes[node].client(buyer.token), event_id, [node])
            assert refused.status == 503 and refused.headers.get("Retry-After"), \
                f"node {node}, hold with PostgreSQL down: {describe(refused)}"
    finally:
        postgres.start()

    def hold_works() -> bool:
        answer = hold_seats(dep.nodes[1].client(buyer.token), event_id, [7])
        if answer.status == 503:
            return False
        expect(answer, 201)
        return True

    wait_for("a hold after PostgreSQL returned", hold_works, RECOVERY_TIMEOUT_S)
    for node in range(3):
        wait_for(f"node {node} to show the hold", lambda node=node: _status_of(dep, node, event_id)[7] == "H",
                 RECOVERY_TIMEOUT_S)
    # The refused holds may have claimed their seats in Redis before PostgreSQL failed them: no matter.
    again = with_backoff(lambda: hold_seats(dep.nodes[2].client(buyer.token), event_id, [0, 1, 2]),
                         BACKOFF_ATTEMPTS_MAX)
    assert again.status == 201, f"the seats of holds refused while PostgreSQL was down: {describe(again)}"
    assert dep.sql_int(f"SELECT count(*) FROM seat_claims WHERE event_id = {int(event_id)}") == 4
    _stop_and_verify(dep)


def test_seat_maps_catch_up_with_changes_made_while_redis_was_unreachable(deploy, redis: services.Redis) -> None:
    """Redis hangs (SIGSTOP) rather than restarts: it keeps its keys, including a cached seat map, while the
    nodes decide without it. Once it answers again, every node's seat map must show what PostgreSQL knows."""
    dep = deploy(hold_ttl_s=LONG_HOLD_TTL_S)
    admin = admin_client(dep.nodes[0])
    event_id = create_event(admin, create_venue(admin, [grid("Hall", "std", 1, 10)]))["id"]
    buyer = new_users(dep.nodes[0], 1)[0]
    client = dep.nodes[0].client(buyer.token)
    to_sell = expect(hold_seats(client, event_id, [5]), 201)
    to_release = expect(hold_seats(client, event_id, [1]), 201)
    for node in range(3):  # cached in Redis now
        assert _status_of(dep, node, event_id) == "AHAAAHAAAA"

    redis.pause()
    assert with_backoff(lambda: client.delete(f"/v1/holds/{to_release['id']}"), BACKOFF_ATTEMPTS_MAX).status == 204
    sold = expect(with_backoff(lambda: checkout(client, to_sell["id"]), BACKOFF_ATTEMPTS_MAX), 201)
    assert sold["status"] == "CONFIRMED"
    redis.resume()

    expected = "AAAAASAAAA"
    for node in range(3):
        deadline = time.monotonic() + SEAT_MAP_CATCH_UP_TIMEOUT_S
        status = _status_of(dep, node, event_id)
        while status != expected and time.monotonic() < deadline:
            time.sleep(0.2)
            status = _status_of(dep, node, event_id)
        assert status == expected, f"node {node}'s seat map {SEAT_MAP_CATCH_UP_TIMEOUT_S} s after Redis answered again"
    _stop_and_verify(dep)


def test_ticket_limit_holds_across_nodes(deploy) -> None:
    dep = deploy(hold_ttl_s=LONG_HOLD_TTL_S)
    admin = admin_client(dep.nodes[0])
    limit = 4
    event = create_event(admin, create_venue(admin, [grid("Hall", "std", 2, 20)]), max_tickets_per_user=limit)
    buyer = new_users(dep.nodes[0], 1)[0]
    jobs = [(lambda seat=seat: with_backoff(
        lambda: hold_seats(dep.nodes[seat % 3].client(buyer.token), event["id"], [seat]), BACKOFF_ATTEMPTS_MAX))
        for seat in range(3 * limit)]
    answers = run_together(jobs)
    won = [a for a in answers if a.status == 201]
    assert len(won) == limit, f"one user, limit {limit}, {len(jobs)} one-seat holds on three nodes: " \
        + "; ".join(describe(a) for a in answers)
    assert all(a.status == 409 and a.error_code == "ticket_limit_exceeded" for a in answers if a.status != 201), \
        "; ".join(describe(a) for a in answers)
    _stop_and_verify(dep)


# -- waiting room across nodes --

QUEUE_WAIT_S = 30.0  # bound of any wait for a releaser tick (every 250 ms, a batch every 1 s) or a takeover


def _node_releases(node, event_id: int) -> int:
    """This node's ticketd_queue_releases_total for the event: release ticks its own releaser ran."""
    prefix = f'ticketd_queue_releases_total{{event="{event_id}"}} '
    for line in metrics_text(node.port).splitlines():
        if line.startswith(prefix):
            return int(float(line[len(prefix):]))
    return 0


def test_one_queue_across_nodes_one_releaser_and_a_survivor_takes_over(deploy) -> None:
    dep = deploy()
    admin = admin_client(dep.nodes[0])
    batch = 3
    event = create_event(admin, create_venue(admin, [grid("Hall", "std", 2, 50)]), max_tickets_per_user=1)
    eid = event["id"]
    expect(admin.request("PUT", f"/v1/events/{eid}/waiting-room",
                         {"enabled": True, "batch_size": batch, "release_interval_s": 1, "active_window_s": 600}), 200)
    users = new_users(dep.nodes[0], 8 * batch)
    tokens = {}
    for i, user in enumerate(users):  # joins spread over the nodes
        tokens[i] = expect(dep.nodes[i % 3].client(user.token).post(f"/v1/events/{eid}/queue", {}), 201)["queue_token"]

    # A place read on one node is the same on another (read A, B, A: equal when no release came between).
    def same_place_everywhere() -> bool:
        user, token = users[-1], tokens[len(users) - 1]
        seen = [expect(dep.nodes[n].client(user.token).get(f"/v1/events/{eid}/queue/{token}"), 200)
                for n in (0, 1, 0)]
        if seen[0]["status"] != seen[2]["status"] or seen[0].get("position") != seen[2].get("position"):
            return False
        assert (seen[1]["status"], seen[1].get("position")) == (seen[0]["status"], seen[0].get("position")), seen
        return True
    wait_for("a stable read of one place on two nodes", same_place_everywhere, QUEUE_WAIT_S)

    releasers = wait_for("some node releases", lambda: [n for n in range(3) if _node_releases(dep.nodes[n], eid) > 0],
                         QUEUE_WAIT_S)
    releaser = releasers[0]  # the lock is taken per tick: several may have released, one at a time
    others = [n for n in range(3) if n != releaser]

    # An access token minted on one node opens the hold endpoint on another (shared queue secret).
    first = users[0]
    admitted = wait_for("the first user is admitted", lambda: (lambda s: s if s["status"] == "ADMITTED" else None)(
        expect(dep.nodes[others[0]].client(first.token).get(f"/v1/events/{eid}/queue/{tokens[0]}"), 200)), QUEUE_WAIT_S)
    held = hold_best(dep.nodes[others[1]].client(first.token), eid, 1,
                     headers={"X-Access-Token": admitted["access_token"]})
    assert held.status == 201, describe(held)

    # kill -9 the releaser (node 0 too: this test needs no Stripe webhooks); a survivor takes over.
    before = {n: _node_releases(dep.nodes[n], eid) for n in others}
    dep.nodes[releaser].kill()
    wait_for("a survivor releases after the releaser died",
             lambda: any(_node_releases(dep.nodes[n], eid) > before[n] for n in others), QUEUE_WAIT_S)

    # Exactly batch-size per release tick across nodes: group admitted users by admission time.
    survivor = dep.nodes[others[0]]

    def all_admitted() -> list[dict] | None:
        statuses = [expect(survivor.client(u.token).get(f"/v1/events/{eid}/queue/{tokens[i]}"), 200)
                    for i, u in enumerate(users)]
        return statuses if all(s["status"] in ("ADMITTED", "EXPIRED") for s in statuses) else None
    statuses = wait_for("everyone is admitted", all_admitted, QUEUE_WAIT_S)
    per_batch: dict[str, int] = {}
    for s in statuses:
        per_batch[s["access_expires_at"]] = per_batch.get(s["access_expires_at"], 0) + 1
    # Never more than a batch in one tick, whichever node ran it (one releaser at a time). A tick admits
    # fewer only when fewer were waiting: the first, if it came while the joins were still arriving
    # (seen on a slow machine: 1, then 3s, then the remaining 2), and the last.
    sizes = sorted(per_batch.values())
    assert max(sizes) == batch and sum(sizes) == len(users), per_batch
    assert sum(1 for n in sizes if n < batch) <= 2, per_batch
