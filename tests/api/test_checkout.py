"""Checkout, idempotency, payment declines, bookings and cancellation."""

from __future__ import annotations

import re
import time
import uuid

import pytest

from api_support import (Client, Server, UserPool, admin_client, all_bookings, assert_error, checkout,
                         compact_status, create_event, create_venue, describe, event_counts, expect, grid, hold_seats,
                         make_event, metrics_text, new_user, run_together, with_query)

CONCURRENT_CHECKOUTS = 8
IN_PROGRESS_RETRIES_MAX = 200  # 409 checkout_in_progress is retried, 50 ms apart: at most ~10 s


def _event(admin: Client, seats: int = 10, **kw) -> dict:
    return make_event(admin, [grid("Main", "standard", 1, seats)], **kw)


def _bookings_of_event(client: Client, event_id: int) -> list[dict]:
    return [b for b in all_bookings(client) if b["event_id"] == event_id]


def test_checkout_confirms_a_booking_and_sells_the_seats(admin: Client, anon: Client, users: UserPool) -> None:
    (user,) = users.take(1)
    venue = create_venue(admin, [grid("Stalls", "premium", 1, 3), grid("Balcony", "standard", 1, 3)])
    event = create_event(admin, venue, prices={"premium": 8_000, "standard": 3_500}, currency="USD")
    hold = expect(hold_seats(user.client, event["id"], [2, 3]), 201)

    booking = expect(checkout(user.client, hold["id"], "pm_card_visa"), 201)
    assert isinstance(booking["id"], int) and booking["id"] > 0
    assert booking["hold_id"] == hold["id"] and booking["event_id"] == event["id"]
    assert booking["status"] == "CONFIRMED"
    assert sorted(booking["seat_ids"]) == [2, 3]
    assert booking["total_amount"] == 8_000 + 3_500 and booking["currency"] == "USD"
    assert booking["payment_id"] and booking["created_at"]

    assert compact_status(anon, event["id"]) == "AASSAA"
    assert event_counts(anon, event["id"]) == {"available": 4, "held": 0, "sold": 2}
    converted = expect(user.client.get(f"/v1/holds/{hold['id']}"), 200)
    assert converted["status"] == "CONVERTED" and converted["booking_id"] == booking["id"]
    assert expect(user.client.get(f"/v1/bookings/{booking['id']}"), 200) == booking


def test_free_seats_confirm_without_a_card_and_cost_nothing_beside_paid_ones(admin: Client, anon: Client,
                                                                            users: UserPool) -> None:
    (user,) = users.take(1)
    venue = create_venue(admin, [grid("Floor", "free", 1, 2), grid("Seats", "paid", 1, 2)])
    event = create_event(admin, venue, prices={"free": 0, "paid": 1_500})
    hold = expect(hold_seats(user.client, event["id"], [0]), 201)
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    free = expect(user.client.post(f"/v1/holds/{hold['id']}/checkout", {}, headers=headers), 201)
    assert free["status"] == "CONFIRMED" and free["total_amount"] == 0
    mixed = expect(hold_seats(user.client, event["id"], [1, 2]), 201)
    assert mixed["total_amount"] == 1_500
    assert_error(user.client.post(f"/v1/holds/{mixed['id']}/checkout", {}, headers={"Idempotency-Key": "k1"}), 400,
                 "invalid_request")
    assert expect(checkout(user.client, mixed["id"]), 201)["total_amount"] == 1_500
    assert compact_status(anon, event["id"]) == "SSSA"
    assert expect(user.client.post(f"/v1/bookings/{free['id']}/cancel"), 200)["status"] == "CANCELLED"
    assert compact_status(anon, event["id"]) == "ASSA"


@pytest.mark.parametrize("payment_method", ["pm_card_mastercard", "pm_card_amex"])
def test_every_succeeding_test_card_confirms(admin: Client, users: UserPool, payment_method: str) -> None:
    (user,) = users.take(1)
    event = _event(admin)
    hold = expect(hold_seats(user.client, event["id"], [0]), 201)
    assert expect(checkout(user.client, hold["id"], payment_method), 201)["status"] == "CONFIRMED"


@pytest.mark.parametrize("payment_method, decline_code", [
    ("pm_card_chargeDeclined", "generic_decline"),
    ("pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds"),
    ("pm_card_chargeDeclinedExpiredCard", "expired_card"),
])
def test_declined_payment_fails_and_frees_the_seats_at_once(admin: Client, anon: Client, users: UserPool,
                                                            payment_method: str, decline_code: str) -> None:
    user, other = users.take(2)
    event = _event(admin, 4)
    hold = expect(hold_seats(user.client, event["id"], [1, 2]), 201)

    error = assert_error(checkout(user.client, hold["id"], payment_method), 402, "payment_failed")
    assert error["decline_code"] == decline_code
    assert compact_status(anon, event["id"]) == "AAAA"
    assert expect(user.client.get(f"/v1/holds/{hold['id']}"), 200)["status"] == "RELEASED"
    assert _bookings_of_event(user.client, event["id"]) == []
    expect(hold_seats(other.client, event["id"], [1, 2]), 201)


def test_retrying_a_declined_checkout_returns_the_same_decline(admin: Client, users: UserPool) -> None:
    (user,) = users.take(1)
    event = _event(admin)
    hold = expect(hold_seats(user.client, event["id"], [0]), 201)
    key = uuid.uuid4().hex
    first = assert_error(checkout(user.client, hold["id"], "pm_card_chargeDeclinedInsufficientFunds", key),
                         402, "payment_failed")
    again = assert_error(checkout(user.client, hold["id"], "pm_card_chargeDeclinedInsufficientFunds", key),
                         402, "payment_failed")
    assert again["decline_code"] == first["decline_code"] == "insufficient_funds"


def test_checkout_without_idempotency_key_is_refused(admin: Client, anon: Client, users: UserPool) -> None:
    (user,) = users.take(1)
    event = _event(admin)
    hold = expect(hold_seats(user.client, event["id"], [0]), 201)
    assert_error(checkout(user.client, hold["id"], idempotency_key=None), 400, "missing_idempotency_key")
    assert expect(user.client.get(f"/v1/holds/{hold['id']}"), 200)["status"] == "ACTIVE"
    assert compact_status(anon, event["id"])[0] == "H"


def test_retrying_checkout_with_the_same_key_returns_the_same_booking(admin: Client, users: UserPool) -> None:
    (user,) = users.take(1)
    event = _event(admin)
    hold = expect(hold_seats(user.client, event["id"], [3, 4]), 201)
    key = uuid.uuid4().hex
    first = expect(checkout(user.client, hold["id"], idempotency_key=key), 201)
    again = expect(checkout(user.client, hold["id"], idempotency_key=key), 201)
    assert again["id"] == first["id"]
    assert again == first
    assert [b["id"] for b in _bookings_of_event(user.client, event["id"])] == [first["id"]]


def test_same_idempotency_key_for_another_hold_is_refused(admin: Client, anon: Client, users: UserPool) -> None:
    (user,) = users.take(1)
    event = _event(admin)
    key = uuid.uuid4().hex
    first = expect(hold_seats(user.client, event["id"], [0]), 201)
    expect(checkout(user.client, first["id"], idempotency_key=key), 201)
    second = expect(hold_seats(user.client, event["id"], [1]), 201)

    assert_error(checkout(user.client, second["id"], idempotency_key=key), 409, "idempotency_key_reused")
    assert expect(user.client.get(f"/v1/holds/{second['id']}"), 200)["status"] == "ACTIVE"
    assert compact_status(anon, event["id"])[:2] == "SH"


def test_same_idempotency_key_with_another_payment_method_is_refused(admin: Client, users: UserPool) -> None:
    (user,) = users.take(1)
    event = _event(admin)
    hold = expect(hold_seats(user.client, event["id"], [5]), 201)
    key = uuid.uuid4().hex
    first = expect(checkout(user.client, hold["id"], idempotency_key=key), 201)

    assert_error(checkout(user.client, hold["id"], "pm_card_mastercard", idempotency_key=key), 409,
                 "idempotency_key_reused")
    assert expect(checkout(user.client, hold["id"], idempotency_key=key), 201) == first
    assert [b["id"] for b in _bookings_of_event(user.client, event["id"])] == [first["id"]]


def _checkout_until_final(client: Client, hold_id: int, key: str) -> tuple:
    """Checks out, retrying while the server says another request with this key is in progress."""
    for _ in range(IN_PROGRESS_RETRIES_MAX):
        resp = checkout(client, hold_id, idempotency_key=key)
        if resp.error_code != "checkout_in_progress":
            return resp
        time.sleep(0.05)
    raise AssertionError(f"checkout still in progress after {IN_PROGRESS_RETRIES_MAX} retries")


def test_concurrent_checkouts_with_the_same_key_make_one_booking(admin: Client, anon: Client,
                                                                 users: UserPool) -> None:
    # 409 checkout_in_progress is a documented answer to a duplicate that arrives while the first is
    # running; a client retries it. Every final answer must be the one booking.
    (user,) = users.take(1)
    event = _event(admin)
    hold = expect(hold_seats(user.client, event["id"], [5, 6]), 201)
    key = uuid.uuid4().hex
    clients = [user.new_client() for _ in range(CONCURRENT_CHECKOUTS)]
    try:
        answers = run_together([lambda c=c: _checkout_until_final(c, hold["id"], key) for c in clients])
    finally:
        for client in clients:
            client.close()

    for answer in answers:
        assert answer.status == 201, describe(answer)
    assert len({a.body["id"] for a in answers}) == 1, f"booking ids: {[a.body['id'] for a in answers]}"
    assert len(_bookings_of_event(user.client, event["id"])) == 1
    assert compact_status(anon, event["id"]).count("S") == 2


def test_concurrent_checkouts_with_different_keys_make_one_booking(admin: Client, anon: Client,
                                                                   users: UserPool) -> None:
    (user,) = users.take(1)
    event = _event(admin)
    hold = expect(hold_seats(user.client, event["id"], [7]), 201)
    clients = [user.new_client() for _ in range(CONCURRENT_CHECKOUTS)]
    try:
        answers = run_together([lambda c=c: checkout(c, hold["id"]) for c in clients])
    finally:
        for client in clients:
            client.close()

    winners = [a for a in answers if a.status == 201]
    assert len(winners) == 1, f"{len(winners)} checkouts of one hold succeeded"
    for answer in answers:
        if answer.status != 201:
            assert_error(answer, 409, ("hold_not_active", "checkout_in_progress"))
    assert [b["id"] for b in _bookings_of_event(user.client, event["id"])] == [winners[0].body["id"]]
    assert compact_status(anon, event["id"]).count("S") == 1


def test_converted_hold_cannot_be_released(admin: Client, anon: Client, users: UserPool) -> None:
    (user,) = users.take(1)
    event = _event(admin)
    hold = expect(hold_seats(user.client, event["id"], [0]), 201)
    expect(checkout(user.client, hold["id"]), 201)
    assert_error(user.client.delete(f"/v1/holds/{hold['id']}"), 409, "hold_not_active")
    assert compact_status(anon, event["id"])[0] == "S"


def test_cancelling_a_booking_makes_its_seats_available(admin: Client, anon: Client, users: UserPool) -> None:
    user, other = users.take(2)
    event = _event(admin, 5)
    hold = expect(hold_seats(user.client, event["id"], [1, 2]), 201)
    booking = expect(checkout(user.client, hold["id"]), 201)

    cancelled = expect(user.client.post(f"/v1/bookings/{booking['id']}/cancel"), 200)
    assert cancelled["id"] == booking["id"] and cancelled["status"] == "CANCELLED"
    assert sorted(cancelled["seat_ids"]) == [1, 2]
    assert compact_status(anon, event["id"]) == "AAAAA"
    assert event_counts(anon, event["id"]) == {"available": 5, "held": 0, "sold": 0}
    assert expect(user.client.get(f"/v1/bookings/{booking['id']}"), 200)["status"] == "CANCELLED"
    expect(hold_seats(other.client, event["id"], [1, 2]), 201)


def test_cancelling_twice_returns_the_cancelled_booking(admin: Client, users: UserPool) -> None:
    (user,) = users.take(1)
    event = _event(admin)
    hold = expect(hold_seats(user.client, event["id"], [0]), 201)
    booking = expect(checkout(user.client, hold["id"]), 201)
    first = expect(user.client.post(f"/v1/bookings/{booking['id']}/cancel"), 200)
    again = expect(user.client.post(f"/v1/bookings/{booking['id']}/cancel"), 200)
    assert again["status"] == "CANCELLED"
    assert again == first


def test_bookings_of_another_user_are_not_found(admin: Client, anon: Client, users: UserPool) -> None:
    owner, other = users.take(2)
    event = _event(admin)
    hold = expect(hold_seats(owner.client, event["id"], [0]), 201)
    booking = expect(checkout(owner.client, hold["id"]), 201)

    assert_error(other.client.get(f"/v1/bookings/{booking['id']}"), 404, "not_found")
    assert_error(other.client.post(f"/v1/bookings/{booking['id']}/cancel"), 404, "not_found")
    assert booking["id"] not in [b["id"] for b in all_bookings(other.client)]
    assert expect(owner.client.get(f"/v1/bookings/{booking['id']}"), 200)["status"] == "CONFIRMED"
    assert compact_status(anon, event["id"])[0] == "S"


def test_bookings_are_listed_newest_first_a_page_at_a_time(server: Server, admin: Client) -> None:
    user = new_user(server)  # a user with no other bookings
    event = _event(admin)
    made = []
    for seat in range(3):
        hold = expect(hold_seats(user.client, event["id"], [seat]), 201)
        made.append(expect(checkout(user.client, hold["id"]), 201)["id"])

    first = expect(user.client.get(with_query("/v1/bookings", limit=2)), 200)
    assert [b["id"] for b in first["bookings"]] == [made[2], made[1]]
    assert first["next"] is not None
    second = expect(user.client.get(with_query("/v1/bookings", limit=2, after=first["next"])), 200)
    assert [b["id"] for b in second["bookings"]] == [made[0]]
    assert second["next"] is None


def _checkout_paths(server: Server) -> dict[str, int]:
    found = re.findall(r'^ticketd_checkout_paths_total\{result="(\w+)"\} (\d+)$', metrics_text(server.port), re.M)
    return {path: int(n) for path, n in found}


def test_checkouts_taken_without_a_worker_answer_as_the_workers_do(server: Server) -> None:
    """With the built-in gateway a checkout of a hold in memory runs without a worker (app/sales.hpp,
    try_checkout_async); a key used before, and anything else, is answered by the worker's checkout."""
    admin = admin_client(server)
    event = _event(admin, 6)
    user = new_user(server)
    holds = [expect(hold_seats(user.client, event["id"], [seat]), 201) for seat in range(3)]
    before = _checkout_paths(server)
    key = uuid.uuid4().hex
    booking = expect(checkout(user.client, holds[0]["id"], "pm_card_visa", key), 201)
    assert booking["status"] == "CONFIRMED" and booking["seat_ids"] == [0]
    assert expect(user.client.get(f"/v1/bookings/{booking['id']}"), 200) == booking
    error = assert_error(checkout(user.client, holds[1]["id"], "pm_card_chargeDeclined"), 402, "payment_failed")
    assert error["decline_code"] == "generic_decline"
    taken_without = _checkout_paths(server).get("no_worker", 0) - before.get("no_worker", 0)
    assert taken_without == 2, "the checkouts of holds in memory went to a worker"
    # The same key again: the worker continues the checkout it names, with the same answer.
    assert expect(checkout(user.client, holds[0]["id"], "pm_card_visa", key), 201) == booking
    assert_error(checkout(user.client, holds[2]["id"], "pm_card_visa", key), 409, "idempotency_key_reused")
    after = _checkout_paths(server)
    assert after.get("worker", 0) - before.get("worker", 0) == 2
    assert after.get("no_worker", 0) - before.get("no_worker", 0) == 2
    assert compact_status(server.client(), event["id"]) == "SAHAAA"
