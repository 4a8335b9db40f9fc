"""Holds: races for seats, all-or-nothing, best available, ticket limits, release and lazy expiry, and the
cap on live holds per user across events.

Every test makes its own event, so the pooled users never carry state from one test to another (the
shared servers lift the cap on live holds per user for them; the cap's tests use servers of their own
and fresh users).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import time
from typing import Any

from api_support import (Client, Server, UserPool, admin_client, assert_error, checkout, compact_status,
                         create_event, create_venue, describe, event_counts, expect, grid, hold_best, hold_seats,
                         make_event, metrics_text, new_user, now_utc, parse_time, run_together, seat_list, section, with_backoff)

EXPIRY_WAIT_S = 2.0  # twice the 1 s hold TTL of short_ttl_server


def _warm(client: Client) -> Client:
    """Opens the connection now, so the race starts with every request ready to go."""
    expect(client.get("/healthz"), 200)
    return client


def _seed() -> int:
    seed = int(os.environ.get("TICKETD_TEST_SEED", "0")) or random.randrange(1, 2**31)
    print(f"seed={seed} (set TICKETD_TEST_SEED to replay)")
    return seed


# --- races ---------------------------------------------------------------------------------------------


def test_only_one_of_forty_concurrent_holds_on_a_seat_wins(admin: Client, anon: Client, users: UserPool) -> None:
    racers = users.take(40)
    event = make_event(admin, [grid("Main", "standard", 1, 10)])
    seat = 5
    clients = [_warm(user.new_client()) for user in racers]
    try:
        answers = run_together([lambda c=c: with_backoff(lambda: hold_seats(c, event["id"], [seat])) for c in clients])
    finally:
        for client in clients:
            client.close()

    winners = [a for a in answers if a.status == 201]
    assert len(winners) == 1, f"{len(winners)} holds won seat {seat}: {[describe(w) for w in winners[:3]]}"
    assert winners[0].body["seat_ids"] == [seat]
    for answer in answers:
        if answer.status != 201:
            error = assert_error(answer, 409, "seat_unavailable")
            assert error["seat_ids"] == [seat]
    assert compact_status(anon, event["id"])[seat] == "H"
    assert event_counts(anon, event["id"])["held"] == 1


def test_concurrent_overlapping_holds_never_share_a_seat(admin: Client, anon: Client, users: UserPool) -> None:
    seats_total = 200
    attempts_per_user = 30  # at most 90 seats per user: under the limit of 100, so only seats can run out
    racers = users.take(20)
    event = make_event(admin, [grid("Main", "standard", 4, 50)], max_tickets_per_user=100)
    seed = _seed()

    def hammer(client: Client, rng: random.Random) -> list[tuple[int, frozenset[int]]]:
        won = []
        for _ in range(attempts_per_user):
            wanted = rng.sample(range(seats_total), rng.randint(1, 3))
            answer = with_backoff(lambda: hold_seats(client, event["id"], wanted))
            if answer.status == 201:
                assert sorted(answer.body["seat_ids"]) == sorted(wanted), describe(answer)
                won.append((answer.body["id"], frozenset(answer.body["seat_ids"])))
                continue
            error = assert_error(answer, 409, "seat_unavailable")
            taken = set(error["seat_ids"])
            assert taken and taken <= set(wanted), f"taken seats {taken} not among the wanted {wanted}"
        return won

    clients = [_warm(user.new_client()) for user in racers]
    try:
        results = run_together([lambda c=c, i=i: hammer(c, random.Random(seed + i)) for i, c in enumerate(clients)])
    finally:
        for client in clients:
            client.close()

    holds = [hold for won in results for hold in won]
    held: dict[int, int] = {}
    for hold_id, seats in holds:
        for seat in seats:
            assert seat not in held, f"seed={seed}: seat {seat} is in holds {held[seat]} and {hold_id}"
            held[seat] = hold_id
    status = compact_status(anon, event["id"])
    assert {i for i, c in enumerate(status) if c == "H"} == set(held), f"seed={seed}: seat map disagrees"
    assert set(status) <= {"A", "H"}
    assert event_counts(anon, event["id"]) == {"available": seats_total - len(held), "held": len(held), "sold": 0}


# --- explicit seats ------------------------------------------------------------------------------------


def test_hold_returns_the_seats_price_and_expiry(admin: Client, users: UserPool) -> None:
    (user,) = users.take(1)
    venue = create_venue(admin, [grid("Stalls", "premium", 1, 4), grid("Balcony", "standard", 1, 4)])
    event = create_event(admin, venue, prices={"premium": 7_000, "standard": 2_500}, currency="GBP")
    hold = expect(hold_seats(user.client, event["id"], [3, 4]), 201)
    assert isinstance(hold["id"], int) and hold["id"] > 0
    assert hold["event_id"] == event["id"]
    assert sorted(hold["seat_ids"]) == [3, 4]
    assert hold["status"] == "ACTIVE"
    assert hold["total_amount"] == 7_000 + 2_500 and hold["currency"] == "GBP"
    expires_in = parse_time(hold["expires_at"]) - now_utc()
    assert dt.timedelta(minutes=1) < expires_in < dt.timedelta(minutes=20), "hold TTL of the server is 600 s"
    assert expect(user.client.get(f"/v1/holds/{hold['id']}"), 200) == hold


def test_hold_is_all_or_nothing(admin: Client, anon: Client, users: UserPool) -> None:
    first, second = users.take(2)
    event = make_event(admin, [grid("Main", "standard", 1, 10)])
    a, b, c = 2, 3, 4
    expect(hold_seats(first.client, event["id"], [a, b]), 201)

    error = assert_error(hold_seats(second.client, event["id"], [b, c]), 409, "seat_unavailable")
    assert error["seat_ids"] == [b]
    status = compact_status(anon, event["id"])
    assert (status[a], status[b], status[c]) == ("H", "H", "A"), "a refused hold must take no seat"
    expect(hold_seats(second.client, event["id"], [c]), 201)


def test_holding_before_the_sale_opens_is_refused(admin: Client, users: UserPool) -> None:
    (user,) = users.take(1)
    venue = create_venue(admin, [grid("Main", "standard", 1, 5)])
    event = create_event(admin, venue, on_sale_at=now_utc() + dt.timedelta(days=1))
    assert_error(hold_seats(user.client, event["id"], [0]), 409, "sale_not_open")
    assert_error(hold_best(user.client, event["id"], 1), 409, "sale_not_open")


# --- best available ------------------------------------------------------------------------------------


def _seat_index(anon: Client, event_id: int) -> dict[int, dict]:
    return {s["id"]: s for s in seat_list(anon, event_id)}


def test_best_available_seats_a_group_together_in_the_front_centre_of_the_best_tier(
        admin: Client, anon: Client, users: UserPool) -> None:
    (user,) = users.take(1)
    # The cheaper section comes first in the layout, so "lowest seat ids first" would pick wrongly.
    venue = create_venue(admin, [grid("Balcony", "standard", 2, 10), grid("Stalls", "premium", 3, 10)])
    event = create_event(admin, venue, prices={"standard": 4_000, "premium": 9_000})
    hold = expect(hold_best(user.client, event["id"], 4), 201)
    seats = sorted((_seat_index(anon, event["id"])[i] for i in hold["seat_ids"]), key=lambda s: s["number"])
    assert len(seats) == 4
    assert {s["section"] for s in seats} == {"Stalls"}, "the most expensive tier is the best seat"
    assert {s["row"] for s in seats} == {"A"}, "front row first (rows are listed front to back)"
    assert [s["number"] for s in seats] == [4, 5, 6, 7], "the centre of a 10-seat row"
    assert hold["total_amount"] == 4 * 9_000


def _lone_seats(row_status: str) -> list[int]:
    """Seat numbers (1-based) of lone free seats in one row: a taken seat or the row's end on each side,
    and a taken seat on at least one."""
    lone = []
    for i, c in enumerate(row_status):
        if c != "A":
            continue
        left_closed = i == 0 or row_status[i - 1] != "A"
        right_closed = i == len(row_status) - 1 or row_status[i + 1] != "A"
        taken_beside = (i > 0 and row_status[i - 1] != "A") or (i < len(row_status) - 1 and row_status[i + 1] != "A")
        if left_closed and right_closed and taken_beside:
            lone.append(i + 1)
    return lone


def test_best_available_does_not_leave_a_lone_empty_seat(admin: Client, anon: Client, users: UserPool) -> None:
    other, user = users.take(2)
    # One row of 9; seats 1-2 taken. For 3 seats the most central block, 4-6, would strand seat 3 between
    # taken seats; 3-5 and 5-7 are as good and strand nobody.
    event = make_event(admin, [grid("Main", "standard", 1, 9)])
    expect(hold_seats(other.client, event["id"], [0, 1]), 201)
    assert _lone_seats(compact_status(anon, event["id"])) == []

    hold = expect(hold_best(user.client, event["id"], 3), 201)
    numbers = sorted(s + 1 for s in hold["seat_ids"])
    assert numbers == list(range(numbers[0], numbers[0] + 3)), f"seats {numbers} are not adjacent"
    status = compact_status(anon, event["id"])
    assert _lone_seats(status) == [], f"picking seats {numbers} left lone seats in row {status}"


def test_best_available_stays_in_the_requested_section(admin: Client, anon: Client, users: UserPool) -> None:
    (user,) = users.take(1)
    venue = create_venue(admin, [grid("Stalls", "premium", 2, 10), grid("Balcony", "standard", 2, 10)])
    event = create_event(admin, venue, prices={"premium": 9_000, "standard": 4_000})
    hold = expect(hold_best(user.client, event["id"], 2, "Balcony"), 201)
    index = _seat_index(anon, event["id"])
    assert {index[i]["section"] for i in hold["seat_ids"]} == {"Balcony"}
    assert hold["total_amount"] == 2 * 4_000


def test_best_available_splits_a_group_over_the_fewest_rows(admin: Client, anon: Client, users: UserPool) -> None:
    (user,) = users.take(1)
    event = make_event(admin, [grid("Main", "standard", 3, 4)])
    hold = expect(hold_best(user.client, event["id"], 6), 201)
    index = _seat_index(anon, event["id"])
    assert len(set(hold["seat_ids"])) == 6
    assert len({index[i]["row"] for i in hold["seat_ids"]}) == 2, "6 seats in rows of 4 need 2 rows"


def test_best_available_reports_insufficient_seats(admin: Client, anon: Client, users: UserPool) -> None:
    other, user = users.take(2)
    venue = create_venue(admin, [grid("Stalls", "premium", 1, 10), grid("Balcony", "standard", 1, 3)])
    event = create_event(admin, venue)
    expect(hold_seats(other.client, event["id"], list(range(8))), 201)  # 2 Stalls + 3 Balcony seats left

    assert_error(hold_best(user.client, event["id"], 6), 409, "insufficient_seats")
    assert_error(hold_best(user.client, event["id"], 3, "Stalls"), 409, "insufficient_seats")
    assert compact_status(anon, event["id"]).count("A") == 5, "a refused request must take no seat"
    hold = expect(hold_best(user.client, event["id"], 2, "Stalls"), 201)  # exactly what is left there
    assert sorted(hold["seat_ids"]) == [8, 9]


# --- ticket limit --------------------------------------------------------------------------------------


def test_ticket_limit_counts_active_holds(admin: Client, users: UserPool) -> None:
    (user,) = users.take(1)
    event = make_event(admin, [grid("Main", "standard", 2, 10)], max_tickets_per_user=4)
    eid = event["id"]
    first = expect(hold_seats(user.client, eid, [0, 1, 2]), 201)
    assert_error(hold_seats(user.client, eid, [3, 4]), 409, "ticket_limit_exceeded")
    assert_error(hold_best(user.client, eid, 2), 409, "ticket_limit_exceeded")
    expect(hold_seats(user.client, eid, [3]), 201)  # exactly at the limit
    assert_error(hold_seats(user.client, eid, [4]), 409, "ticket_limit_exceeded")

    assert user.client.delete(f"/v1/holds/{first['id']}").status == 204
    expect(hold_seats(user.client, eid, [4, 5, 6]), 201)


def test_ticket_limit_counts_sold_seats_until_the_booking_is_cancelled(admin: Client, users: UserPool) -> None:
    (user,) = users.take(1)
    event = make_event(admin, [grid("Main", "standard", 2, 10)], max_tickets_per_user=4)
    eid = event["id"]
    hold = expect(hold_seats(user.client, eid, [0, 1, 2]), 201)
    booking = expect(checkout(user.client, hold["id"]), 201)
    assert_error(hold_seats(user.client, eid, [3, 4]), 409, "ticket_limit_exceeded")

    expect(user.client.post(f"/v1/bookings/{booking['id']}/cancel"), 200)
    expect(hold_seats(user.client, eid, [3, 4]), 201)


def test_ticket_limit_is_per_user(admin: Client, users: UserPool) -> None:
    first, second = users.take(2)
    event = make_event(admin, [grid("Main", "standard", 1, 10)], max_tickets_per_user=2)
    expect(hold_seats(first.client, event["id"], [0, 1]), 201)
    expect(hold_seats(second.client, event["id"], [2, 3]), 201)


# --- release and ownership ------------------------------------------------------------------------------


def test_released_hold_frees_its_seats(admin: Client, anon: Client, users: UserPool) -> None:
    user, other = users.take(2)
    event = make_event(admin, [grid("Main", "standard", 1, 5)])
    hold = expect(hold_seats(user.client, event["id"], [1, 2]), 201)

    resp = user.client.delete(f"/v1/holds/{hold['id']}")
    assert resp.status == 204, describe(resp)
    assert compact_status(anon, event["id"]) == "AAAAA"
    assert expect(user.client.get(f"/v1/holds/{hold['id']}"), 200)["status"] == "RELEASED"
    assert user.client.delete(f"/v1/holds/{hold['id']}").status == 204, "releasing again is 204 too"
    expect(hold_seats(other.client, event["id"], [1, 2]), 201)


def test_holds_of_another_user_are_not_found(admin: Client, anon: Client, users: UserPool) -> None:
    owner, other = users.take(2)
    event = make_event(admin, [grid("Main", "standard", 1, 5)])
    hold = expect(hold_seats(owner.client, event["id"], [0]), 201)
    path = f"/v1/holds/{hold['id']}"

    assert_error(other.client.get(path), 404, "not_found")
    assert_error(other.client.delete(path), 404, "not_found")
    assert_error(checkout(other.client, hold["id"]), 404, "not_found")
    assert expect(owner.client.get(path), 200)["status"] == "ACTIVE", "others cannot touch the hold"
    assert compact_status(anon, event["id"])[0] == "H"


# --- lazy expiry (hold TTL 1 s) -------------------------------------------------------------------------


def _expired_hold(admin: Client, user_client: Client, seat_ids: list[int], **event_kw: Any) -> tuple[dict, dict]:
    """An event and a hold on it, returned once the hold is past its 1 s TTL. Nothing reads the hold or
    its event while it expires, so whatever reads it next must notice the expiry itself."""
    event = make_event(admin, [grid("Main", "standard", 1, 6)], **event_kw)
    hold = expect(hold_seats(user_client, event["id"], seat_ids), 201)
    time.sleep(EXPIRY_WAIT_S)
    return event, hold


def test_seats_of_an_expired_hold_show_available(short_ttl_admin: Client, short_ttl_users: UserPool) -> None:
    (user,) = short_ttl_users.take(1)
    event, hold = _expired_hold(short_ttl_admin, user.client, [1, 2])
    assert compact_status(user.client, event["id"]) == "AAAAAA"
    assert [s["status"] for s in seat_list(user.client, event["id"])] == ["AVAILABLE"] * 6
    assert event_counts(user.client, event["id"]) == {"available": 6, "held": 0, "sold": 0}
    assert expect(user.client.get(f"/v1/holds/{hold['id']}"), 200)["status"] == "EXPIRED"


def test_seats_of_an_expired_hold_can_be_held_again_at_once(short_ttl_admin: Client,
                                                             short_ttl_users: UserPool) -> None:
    user, other = short_ttl_users.take(2)
    event, hold = _expired_hold(short_ttl_admin, user.client, [1, 2], max_tickets_per_user=2)
    expect(hold_seats(other.client, event["id"], [1, 2]), 201)  # the first read after the deadline
    expect(hold_seats(user.client, event["id"], [3, 4]), 201)  # the expired hold no longer counts
    assert expect(user.client.get(f"/v1/holds/{hold['id']}"), 200)["status"] == "EXPIRED"


def test_checkout_of_an_expired_hold_is_gone(short_ttl_admin: Client, short_ttl_users: UserPool) -> None:
    (user,) = short_ttl_users.take(1)
    event, hold = _expired_hold(short_ttl_admin, user.client, [0])
    assert_error(checkout(user.client, hold["id"]), 410, "hold_expired")
    assert compact_status(user.client, event["id"]) == "AAAAAA", "nothing was sold"
    assert expect(user.client.get(f"/v1/holds/{hold['id']}"), 200)["status"] == "EXPIRED"
    resp = user.client.delete(f"/v1/holds/{hold['id']}")
    assert resp.status == 204, f"releasing an expired hold is 204: {describe(resp)}"


# --- live holds per user across events (anti-hoarding) -------------------------------------------------

DEFAULT_HOLDS_PER_USER_MAX = 10  # documented in docs/api.md and docs/deploy.md


def _events(admin: Client, count: int) -> list[dict]:
    """`count` on-sale events of 4 seats each, on one venue."""
    venue = create_venue(admin, [grid("Main", "standard", 1, 4)])
    return [create_event(admin, venue) for _ in range(count)]


def _assert_capped(resp, cap: int) -> None:
    error = assert_error(resp, 409, "active_holds_limit_exceeded")
    assert f"at most {cap} active holds" in error["message"] and "release" in error["message"], error


def _metric(server: Server, line_prefix: str) -> float:
    text = metrics_text(server.port)
    text = text.decode() if isinstance(text, bytes) else str(text)
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(line_prefix))


def test_one_hold_past_the_cap_across_events_is_refused_until_one_is_released(capped_server: Server) -> None:
    admin = admin_client(capped_server)
    events = _events(admin, DEFAULT_HOLDS_PER_USER_MAX + 1)
    ann, bob = new_user(capped_server), new_user(capped_server)
    held = [expect(hold_seats(ann.client, e["id"], [0]), 201) for e in events[:DEFAULT_HOLDS_PER_USER_MAX]]
    last = events[-1]["id"]
    _assert_capped(hold_seats(ann.client, last, [0]), DEFAULT_HOLDS_PER_USER_MAX)
    _assert_capped(hold_best(ann.client, last, 1), DEFAULT_HOLDS_PER_USER_MAX)
    # Another event's hold of one more seat counts as one more hold too.
    _assert_capped(hold_seats(ann.client, events[0]["id"], [1]), DEFAULT_HOLDS_PER_USER_MAX)
    assert compact_status(ann.client, last) == "AAAA", "a refused hold claims nothing"
    assert _metric(capped_server, 'ticketd_holds_total{result="active_holds_limit"}') >= 3
    # Another user is not affected.
    expect(hold_seats(bob.client, last, [0]), 201)
    # Releasing one hold makes room for exactly one more.
    assert ann.client.delete(f"/v1/holds/{held[3]['id']}").status == 204
    expect(hold_seats(ann.client, last, [1]), 201)
    _assert_capped(hold_seats(ann.client, events[3]["id"], [1]), DEFAULT_HOLDS_PER_USER_MAX)


def test_buying_a_held_set_makes_room_for_another_hold(capped_server: Server) -> None:
    admin = admin_client(capped_server)
    events = _events(admin, DEFAULT_HOLDS_PER_USER_MAX + 1)
    user = new_user(capped_server)
    held = [expect(hold_seats(user.client, e["id"], [2, 3]), 201) for e in events[:DEFAULT_HOLDS_PER_USER_MAX]]
    _assert_capped(hold_seats(user.client, events[-1]["id"], [2]), DEFAULT_HOLDS_PER_USER_MAX)
    booking = expect(checkout(user.client, held[0]["id"]), 201)
    assert booking["status"] == "CONFIRMED"
    expect(hold_seats(user.client, events[-1]["id"], [2]), 201)  # bought seats are not a hold
    _assert_capped(hold_seats(user.client, events[0]["id"], [0]), DEFAULT_HOLDS_PER_USER_MAX)


def test_expired_holds_no_longer_count_toward_the_cap(capped_short_ttl_server: Server) -> None:
    server = capped_short_ttl_server
    cap = int(server.extra_env["TICKETD_HOLDS_PER_USER_MAX"])  # set through the environment variable
    admin = admin_client(server)
    events = _events(admin, cap + 1)
    user = new_user(server)
    held = [expect(hold_seats(user.client, e["id"], [0]), 201) for e in events[:cap]]
    _assert_capped(hold_seats(user.client, events[-1]["id"], [0]), cap)
    time.sleep(server.hold_ttl_s + 1.0)  # nothing reads the holds or their events meanwhile
    expect(hold_seats(user.client, events[-1]["id"], [0]), 201)
    assert [expect(user.client.get(f"/v1/holds/{h['id']}"), 200)["status"] for h in held] == ["EXPIRED"] * cap
