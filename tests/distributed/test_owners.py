"""Event ownership across nodes (docs/architecture.md, "Event ownership").

Each event's seats are decided by the one node that owns it; the other nodes forward its seat calls there
(POST /internal/v1/ledger/{call}). These tests look at where calls went (each node's
ticketd_ledger_calls_total), at the event_owners row, and at what happens when the owner dies: the
next node to find its address refusing connections takes the event over at once, and nothing it had
acknowledged is lost.
"""

from __future__ import annotations

import concurrent.futures
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import services
from api_support import (admin_client, assert_verify_ok, checkout, compact_status, create_event, create_venue,
                         expect, grid, hold_seats, metrics_text, new_users, wait_for)
from cluster import Deployment

LONG_HOLD_TTL_S = 600  # holds must not lapse while the test looks at them
TAKEOVER_TIMEOUT_S = 5.0  # a killed owner's event is decided elsewhere well within this (no lease wait)


@pytest.fixture
def owners(tmp_path: Path, postgres: services.Postgres, redis: services.Redis) -> Iterator[Callable[[], Deployment]]:
    made: list[Deployment] = []

    def make() -> Deployment:
        dep = Deployment(tmp_path / f"deployment{len(made)}", postgres, redis, hold_ttl_s=LONG_HOLD_TTL_S)
        made.append(dep)
        dep.start()
        return dep

    try:
        yield make
    finally:
        for dep in made:
            dep.close()


def counts_by_result(node, family: str) -> dict[str, int]:
    """This node's ticketd_{family}_total by result."""
    out = {}
    prefix = f"ticketd_{family}_total{{result=\""
    for line in metrics_text(node.port).splitlines():
        if line.startswith(prefix):
            label, value = line[len(prefix):].split("\"} ")
            out[label] = int(float(value))
    return out


def ledger_calls(node) -> dict[str, int]:
    """Where this node's seat calls went: local, forwarded, forwarded_alone, taken_over, forward_failed."""
    return counts_by_result(node, "ledger_calls")


def owner_port(dep: Deployment, event_id: int) -> int:
    rows = dep.sql(f"SELECT address FROM event_owners WHERE event_id = {int(event_id)}")
    assert len(rows) == 1, rows
    return int(rows[0][0].rsplit(":", 1)[1])


def test_every_node_sells_an_event_its_owner_decides(owners) -> None:
    dep = owners()
    admin = admin_client(dep.nodes[0])
    event = create_event(admin, create_venue(admin, [grid("Hall", "std", 2, 10)]))
    buyers = new_users(dep.nodes[0], 3)
    # The first seat call makes node 1 the owner; nodes 0 and 2 then forward theirs to it.
    first = expect(hold_seats(dep.nodes[1].client(buyers[0].token), event["id"], [0]), 201)
    assert owner_port(dep, event["id"]) == dep.nodes[1].port
    before = {i: ledger_calls(dep.nodes[i]).get("forwarded", 0) for i in (0, 2)}
    held = [expect(hold_seats(dep.nodes[i].client(buyers[i].token), event["id"], [i + 1]), 201) for i in (0, 2)]
    taken = hold_seats(dep.nodes[2].client(buyers[2].token), event["id"], [0])
    assert taken.status == 409 and taken.error_code == "seat_unavailable", taken  # decided by the owner
    # Node 0 learnt which event buyer 0's hold is of from the owner's answer; it is still theirs alone.
    mine = f"/v1/holds/{held[0]['id']}"
    assert expect(dep.nodes[0].client(buyers[0].token).get(mine), 200)["seat_ids"] == held[0]["seat_ids"]
    expect(dep.nodes[0].client(buyers[2].token).get(mine), 404)
    assert checkout(dep.nodes[0].client(buyers[2].token), held[0]["id"]).status == 404
    # Stripe's webhooks reach node 0, and each settles through the owner too: counted among node 0's
    # forwards, they would land inside the window below whenever they come late. The checkouts' own
    # answers confirm them; the webhooks are not what this counts.
    dep.fake.faults(drop_webhooks=1000)
    for i, hold in zip((0, 2), held):
        forwarded_before = ledger_calls(dep.nodes[i]).get("forwarded", 0)
        booking = expect(checkout(dep.nodes[i].client(buyers[i].token), hold["id"]), 201)
        assert booking["status"] == "CONFIRMED", booking
        # The node prices the hold from the owner's answer it kept when the hold was taken (or looked
        # at) through it: the checkout asks the owner to begin it and to settle it, nothing more.
        assert ledger_calls(dep.nodes[i]).get("forwarded", 0) - forwarded_before == 2, (i, ledger_calls(dep.nodes[i]))
    dep.fake.faults(drop_webhooks=0)
    assert expect(checkout(dep.nodes[1].client(buyers[0].token), first["id"]), 201)["status"] == "CONFIRMED"
    for i in (0, 2):
        assert ledger_calls(dep.nodes[i]).get("forwarded", 0) > before[i], (i, ledger_calls(dep.nodes[i]))
    assert owner_port(dep, event["id"]) == dep.nodes[1].port  # nobody took it from a live owner
    # Every node's map shows the three sales, seats 0, 1 and 3 (non-owners ask the owner the first time).
    for node in dep.nodes:
        assert compact_status(node.client(), event["id"])[:5] == "SSASA", node.port
    dep.stop()
    assert_verify_ok(dep.nodes[0], "after a sale decided by one owner for three nodes")


def test_a_free_checkout_through_any_node_runs_without_a_worker(owners) -> None:
    """A free hold's checkout calls no gateway, so it runs as completions (app/sales.hpp): on a node that
    does not own the event its begin and settlement travel to the owner without a worker on either side."""
    dep = owners()
    admin = admin_client(dep.nodes[0])
    event = create_event(admin, create_venue(admin, [grid("Hall", "std", 1, 6)]), prices={"std": 0})
    buyers = new_users(dep.nodes[0], 2)
    expect(hold_seats(dep.nodes[1].client(buyers[0].token), event["id"], [0]), 201)  # node 1 owns the event
    assert owner_port(dep, event["id"]) == dep.nodes[1].port
    held = expect(hold_seats(dep.nodes[0].client(buyers[1].token), event["id"], [1]), 201)
    paths_before = counts_by_result(dep.nodes[0], "checkout_paths")
    forwarded_before = ledger_calls(dep.nodes[0]).get("forwarded", 0)
    booking = expect(checkout(dep.nodes[0].client(buyers[1].token), held["id"]), 201)
    assert booking["status"] == "CONFIRMED" and booking["total_amount"] == 0 and booking["seat_ids"] == [1]
    paths = counts_by_result(dep.nodes[0], "checkout_paths")
    assert paths.get("no_worker", 0) - paths_before.get("no_worker", 0) == 1, paths
    assert paths.get("worker", 0) == paths_before.get("worker", 0), paths
    assert ledger_calls(dep.nodes[0]).get("forwarded", 0) - forwarded_before == 2  # begin, settle
    assert expect(dep.nodes[2].client(buyers[1].token).get(f"/v1/bookings/{booking['id']}"), 200) == booking
    for node in dep.nodes:  # a copy kept by the change feed on the nodes that do not own it
        wait_for(f"the sale on {node.port}'s map", lambda node=node: compact_status(node.client(), event["id"])[:3] == "HSA")
    dep.stop()
    assert_verify_ok(dep.nodes[0], "after a free checkout forwarded without a worker")


def inline_total(node) -> int:
    """Requests this node answered on an I/O thread (ticketd_http_requests_inline_total)."""
    found = re.search(r"^ticketd_http_requests_inline_total (\d+)$", metrics_text(node.port), re.M)
    assert found, "the transport reports its inline answers"
    return int(found.group(1))


def ledger_forwards(node) -> dict[str, int]:
    """This node's batches of holds and releases sent to owners (result "batch")."""
    return counts_by_result(node, "ledger_forwards")


def test_holds_forwarded_at_once_travel_to_the_owner_in_batches(owners) -> None:
    """Holds and releases a node forwards to one owner travel together (cluster/forward_batches.hpp): each
    buyer gets the owner's own decision, and the owner answers a malformed batch 400 and a call it would
    have to block for null (the forwarding node sends that one alone)."""
    dep = owners()
    admin = admin_client(dep.nodes[0])
    event = create_event(admin, create_venue(admin, [grid("Hall", "std", 4, 20)]))
    buyers = new_users(dep.nodes[0], 51)
    expect(hold_seats(dep.nodes[1].client(buyers[40].token), event["id"], [79]), 201)  # node 1 owns it
    assert owner_port(dep, event["id"]) == dep.nodes[1].port
    # Node 0 remembers the owner after one blocking forward; then 40 buyers at once, two of them for seat 1.
    expect(hold_seats(dep.nodes[0].client(buyers[0].token), event["id"], [0]), 201)

    # Buyers node 0 has not seen: each hold's session is read by the session reader, not on a worker
    # (app/session_reader.hpp), and the hold is then forwarded the inline way, in a batch, and answered
    # on node 0's I/O thread (http/message.hpp, Preparer).
    before = ledger_forwards(dep.nodes[0]).get("batch", 0)
    on_worker_before = counts_by_result(dep.nodes[0], "inline_on_worker").get("answered", 0)
    inline_before = inline_total(dep.nodes[0])
    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(lambda i: hold_seats(dep.nodes[0].client(buyers[i].token), event["id"], [i]),
                                range(41, 51)))
    assert [r.status for r in answers] == [201] * 10, [(r.status, r.body) for r in answers]
    assert [r.body["seat_ids"] for r in answers] == [[i] for i in range(41, 51)]
    assert counts_by_result(dep.nodes[0], "inline_on_worker").get("answered", 0) == on_worker_before
    assert inline_total(dep.nodes[0]) - inline_before >= 10
    assert 1 <= ledger_forwards(dep.nodes[0]).get("batch", 0) - before <= 10

    before = ledger_forwards(dep.nodes[0]).get("batch", 0)
    forwarded_before = ledger_calls(dep.nodes[0]).get("forwarded", 0)
    seat_of = {i: (i if i < 40 else 1) for i in range(1, 41)}
    with concurrent.futures.ThreadPoolExecutor(40) as pool:
        # Node 0 keeps each buyer's session once it has seen it: their holds are then taken on its I/O
        # thread at once, which is where holds are forwarded without a worker.
        for me in pool.map(lambda i: dep.nodes[0].client(buyers[i].token).get("/v1/me"), range(1, 41)):
            expect(me, 200)
        answers = list(pool.map(lambda i: hold_seats(dep.nodes[0].client(buyers[i].token), event["id"], [seat_of[i]]),
                                range(1, 41)))
    assert sorted(r.status for r in answers) == [201] * 39 + [409], [(r.status, r.body) for r in answers]
    for i, r in zip(range(1, 41), answers):
        if r.status == 201:
            assert r.body["seat_ids"] == [seat_of[i]], r.body
        else:
            assert seat_of[i] == 1 and r.error_code == "seat_unavailable", r
    batches = ledger_forwards(dep.nodes[0]).get("batch", 0) - before
    forwarded = ledger_calls(dep.nodes[0]).get("forwarded", 0) - forwarded_before
    assert forwarded == 40, ledger_calls(dep.nodes[0])
    assert 1 <= batches <= forwarded, (batches, forwarded)
    print(f"40 holds forwarded at once travelled in {batches} batches")

    # The owner's side, asked directly as a node would.
    key = dep.sql("SELECT value FROM shared_secrets WHERE name = 'peer-key'")[0][0]
    peer = dep.nodes[1].client()
    path = "/internal/v1/ledger/batch"
    for body in ({}, {"calls": []}, {"calls": [{"call": "checkout", "args": {}}]}):
        resp = peer.request("POST", path, body, headers={"X-Ticketd-Peer-Key": key})
        assert resp.status == 400, (body, resp.status, resp.body)
    assert peer.request("POST", path, {"calls": []}).status == 404  # not a node: no such route
    # A release of a hold the owner does not list in memory would need a read: null, for the caller to
    # send it alone; a hold of the event it owns is decided in the batch.
    hold = {"user_id": buyers[40].id, "seats": [78], "ttl_ms": 60_000, "expiry_notice_lead_ms": 0,
            "active_holds_max": 100}
    ids = {"event_id": event["id"], "hold_id": 0, "booking_id": 0, "user_id": buyers[40].id}
    resp = peer.request("POST", path, {"calls": [{"call": "release", "args": {**ids, "hold_id": 999_999_999}},
                                                  {"call": "hold", "args": {**ids, "hold": hold}}]},
                        headers={"X-Ticketd-Peer-Key": key})
    assert resp.status == 200, (resp.status, resp.body)
    assert resp.body["answers"][0] is None, resp.body
    assert resp.body["answers"][1]["ok"]["seats"] == [78], resp.body
    dep.stop()
    assert_verify_ok(dep.nodes[0], "after holds forwarded in batches")


def test_a_node_shows_the_maps_of_events_owned_elsewhere_from_the_change_feed(owners) -> None:
    """Seat maps are read far more often than seats change: a node that does not own the event keeps a copy
    of its map from the change feed (cluster/seat_map_replicas.hpp) instead of asking the owner each time."""
    dep = owners()
    admin = admin_client(dep.nodes[0])
    event = create_event(admin, create_venue(admin, [grid("Hall", "std", 2, 10)]))
    event_id = event["id"]
    buyers = new_users(dep.nodes[0], 2)
    expect(hold_seats(dep.nodes[1].client(buyers[0].token), event_id, [0]), 201)
    assert owner_port(dep, event_id) == dep.nodes[1].port
    reader = dep.nodes[0].client()
    assert compact_status(reader, event_id)[:2] == "HA"  # asked of the owner once, then kept
    before = ledger_calls(dep.nodes[0])
    reads = 40
    started = time.monotonic()
    for _ in range(reads):
        assert compact_status(reader, event_id)[:2] == "HA"
        assert expect(reader.get(f"/v1/events/{event_id}"), 200)["counts"]["held"] == 1
    took_s = time.monotonic() - started
    after = ledger_calls(dep.nodes[0])
    asked = after.get("forwarded", 0) - before.get("forwarded", 0)
    # The copy is asked for again once it is a second old (a lost change with nothing after it shows no gap).
    assert asked <= 2 + int(took_s), f"{asked} of {2 * reads} reads in {took_s:.1f} s went to the owner: {after}"

    # A change decided by the owner, asked through the third node, reaches the copy through the feed.
    expect(hold_seats(dep.nodes[2].client(buyers[1].token), event_id, [5, 6]), 201)
    wait_for("node 0's map to show the hold decided on node 1",
             lambda: compact_status(reader, event_id)[:7] == "HAAAAHH", 5.0)
    assert expect(reader.get(f"/v1/events/{event_id}"), 200)["counts"]["held"] == 3
    assert ledger_calls(dep.nodes[0]).get("forwarded", 0) - after.get("forwarded", 0) <= 10
    dep.stop()
    assert_verify_ok(dep.nodes[0], "after maps were read from a node that does not own the event")


def test_a_killed_owners_event_is_decided_elsewhere_at_once_and_keeps_its_holds(owners) -> None:
    dep = owners()
    admin = admin_client(dep.nodes[0])
    event = create_event(admin, create_venue(admin, [grid("Hall", "std", 1, 10)]))
    buyers = new_users(dep.nodes[0], 2)
    kept = expect(hold_seats(dep.nodes[1].client(buyers[0].token), event["id"], [0, 1]), 201)
    assert owner_port(dep, event["id"]) == dep.nodes[1].port
    # Node 2 forwards a hold first, so it remembers the owner and sends the next one without blocking.
    expect(hold_seats(dep.nodes[2].client(buyers[1].token), event["id"], [9]), 201)
    dep.kill_node(1)
    started = time.monotonic()
    tries = 0
    while True:
        resp = hold_seats(dep.nodes[2].client(buyers[1].token), event["id"], [2])
        tries += 1
        if resp.status == 201 or time.monotonic() - started > TAKEOVER_TIMEOUT_S:
            break
        time.sleep(0.05)
    failover_s = time.monotonic() - started
    print(f"owner killed: the event was decided again after {failover_s:.2f} s and {tries} tries")
    assert resp.status == 201, (resp.status, resp.body, dep.log_tails())
    # A hold sent without blocking to the dead owner is refused at once (503) and forgets it; the next
    # try asks PostgreSQL and takes the event over, without waiting for the lease to lapse.
    assert tries <= 2, (tries, failover_s)
    assert owner_port(dep, event["id"]) in (dep.nodes[0].port, dep.nodes[2].port)
    # The dead owner's acknowledged hold is still there: its seats are not for sale, and it can be paid.
    refused = hold_seats(dep.nodes[0].client(buyers[1].token), event["id"], [1])
    assert refused.status == 409 and refused.error_code == "seat_unavailable", refused
    assert expect(checkout(dep.nodes[0].client(buyers[0].token), kept["id"]), 201)["status"] == "CONFIRMED"
    dep.stop()
    assert_verify_ok(dep.nodes[0], "after the owner of an event was killed")


def test_the_cap_on_live_holds_counts_a_users_holds_on_every_owner(tmp_path: Path, postgres: services.Postgres,
                                                                    redis: services.Redis) -> None:
    """Each owner decides its own events' holds; the cap on a user's live holds across events
    (--holds-per-user-max) counts those the other owners decided too (store/redis/user_holds.hpp)."""
    dep = Deployment(tmp_path / "cap", postgres, redis, hold_ttl_s=LONG_HOLD_TTL_S,
                     extra_env={"TICKETD_HOLDS_PER_USER_MAX": "2"})
    dep.start()
    try:
        admin = admin_client(dep.nodes[0])
        venue = create_venue(admin, [grid("Hall", "std", 1, 10)])
        events = [create_event(admin, venue) for _ in range(3)]
        buyer = new_users(dep.nodes[0], 1)[0]
        # Each event's first seat call makes the node it reached the event's owner: three owners.
        held = [expect(hold_seats(dep.nodes[i].client(buyer.token), events[i]["id"], [0]), 201) for i in (0, 1)]
        for i in (0, 1):
            assert owner_port(dep, events[i]["id"]) == dep.nodes[i].port
        refused = hold_seats(dep.nodes[2].client(buyer.token), events[2]["id"], [0])
        assert refused.status == 409 and refused.error_code == "active_holds_limit_exceeded", refused
        # A released hold stops counting at once, on every owner.
        expect(dep.nodes[0].client(buyer.token).delete(f"/v1/holds/{held[0]['id']}"), 204)
        expect(hold_seats(dep.nodes[2].client(buyer.token), events[2]["id"], [0]), 201)
        refused = hold_seats(dep.nodes[0].client(buyer.token), events[0]["id"], [1])
        assert refused.status == 409 and refused.error_code == "active_holds_limit_exceeded", refused
    finally:
        dep.close()


def metric(node, family: str, result: str) -> int:
    """ticketd_{family}_total{result=...} on this node (0 before the first)."""
    prefix = f"ticketd_{family}_total{{result=\"{result}\"}} "
    for line in metrics_text(node.port).splitlines():
        if line.startswith(prefix):
            return int(float(line[len(prefix):]))
    return 0


def test_a_waiting_lists_offers_are_placed_by_the_owner_in_one_call(tmp_path: Path, postgres: services.Postgres,
                                                                    redis: services.Redis) -> None:
    """The node running the offer pass sends a round of offers to the event's owner as one call
    (hold_each, Ledger::hold_seats_each), which decides them in the list's order. Node 0 passes every
    100 ms; node 1, the owner, first passes 10 s after it started, so node 0 makes these offers."""
    dep = Deployment(tmp_path / "offers", postgres, redis, hold_ttl_s=LONG_HOLD_TTL_S, nodes=2,
                     extra_env={"TICKETD_WAITLIST_INTERVAL_MS": "100"})
    dep.nodes[1].extra_env = dict(dep.nodes[1].extra_env, TICKETD_WAITLIST_INTERVAL_MS="10000")
    dep.start()
    try:
        admin = admin_client(dep.nodes[0])
        event = create_event(admin, create_venue(admin, [grid("Hall", "std", 1, 6)]), max_tickets_per_user=6)
        ev = event["id"]
        expect(admin.request("PUT", f"/v1/events/{ev}/waitlist/settings", {"draw_window_s": 0}), 200)
        seller, *waiting = new_users(dep.nodes[0], 5)
        owner_side = dep.nodes[1].client(seller.token)
        hold = expect(hold_seats(owner_side, ev, [0, 1, 2, 3]), 201)
        assert owner_port(dep, ev) == dep.nodes[1].port
        returned = expect(checkout(owner_side, hold["id"]), 201)
        kept = expect(checkout(owner_side, expect(hold_seats(owner_side, ev, [4, 5]), 201)["id"]), 201)
        assert returned["status"] == kept["status"] == "CONFIRMED"
        entries = [expect(dep.nodes[0].client(u.token).post(f"/v1/events/{ev}/waitlist", {"quantity": 1}), 201)
                   for u in waiting]
        assert [e["entry"]["position"] for e in entries] == [1, 2, 3, 4], entries

        expect(owner_side.post(f"/v1/bookings/{returned['id']}/cancel"), 200)
        offers = [wait_for(f"entry {i + 1}'s offer",
                           lambda u=u: (e := expect(dep.nodes[0].client(u.token).get(f"/v1/events/{ev}/waitlist"),
                                                    200)["entry"])["state"] == "OFFERED" and e["offer"], 5.0)
                  for i, u in enumerate(waiting)]
        # In the list's order, the free seats in order, one each; each offer a hold on the owner.
        assert [o["seats"] for o in offers] == [[0], [1], [2], [3]], offers
        assert metric(dep.nodes[0], "waitlist", "offered") == 4 and metric(dep.nodes[1], "waitlist", "offered") == 0
        for u, offer in zip(waiting, offers):
            found = expect(dep.nodes[1].client(u.token).get(f"/v1/holds/{offer['hold_id']}"), 200)
            assert found["seat_ids"] == offer["seats"], found
        assert compact_status(dep.nodes[1].client(), ev)[:6] == "HHHHSS"
        paid = expect(checkout(dep.nodes[0].client(waiting[0].token), offers[0]["hold_id"]), 201)
        assert paid["status"] == "CONFIRMED" and paid["seat_ids"] == [0], paid
        dep.stop()
        assert_verify_ok(dep.nodes[0], "after a waiting list's offers were placed on the owner in one call")
    finally:
        dep.close()
