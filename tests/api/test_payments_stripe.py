"""Checkout through the Stripe adapter against ticketd-fake-stripe, with faults switched on.

One fake Stripe and one ticketd (Stripe configured, reconciler every 200 ms for payments pending over
1 s) for the module. The fake counts charges, so every test can prove nothing was charged twice.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest

from api_support import (Client, Server, admin_client, assert_error, assert_verify_ok, checkout, compact_status,
                         create_event, create_venue, expect, free_port, grid, hold_seats, new_users, run_together)
from fake_stripe import API_KEY, WEBHOOK_SECRET, FakeStripe

PRICE = 2500  # minor units of the one tier used here
POLL_TIMEOUT_S = 15.0


@pytest.fixture(scope="module")
def stripe_env(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("stripe")
    port = free_port()
    fake = FakeStripe(f"http://127.0.0.1:{port}/v1/payments/stripe/webhook", tmp / "fake-stripe.log")
    fake.start()
    server = Server(tmp / "data", hold_ttl_s=600, log_path=tmp / "server.log", port=port, extra_env={
        "TICKETD_STRIPE_SECRET_KEY": API_KEY,
        "TICKETD_STRIPE_WEBHOOK_SECRET": f"whsec_old_rotated_out,{WEBHOOK_SECRET}",
        "TICKETD_STRIPE_API_BASE": fake.api_base,
        "TICKETD_STRIPE_TIMEOUT_MS": "1000",
        "TICKETD_STRIPE_ATTEMPTS": "4",
        "TICKETD_RECONCILE_INTERVAL_MS": "200",
        "TICKETD_PAYMENT_RECONCILE_AFTER_S": "1",
        # The soak has each of 12 buyers hold and check out 20 seats at once: past the default cap on
        # live holds per user (10), which test_holds.py tests on servers of its own.
        "TICKETD_HOLDS_PER_USER_MAX": "1000",
    })
    server.start()
    try:
        yield fake, server
    finally:
        server.stop()
        fake.stop()
        assert_verify_ok(server, "after the Stripe tests")


@pytest.fixture()
def fake(stripe_env) -> FakeStripe:
    fake, _ = stripe_env
    fake.reset()
    return fake


@pytest.fixture(scope="module")
def pay_server(stripe_env) -> Server:
    return stripe_env[1]


@pytest.fixture(scope="module")
def buyers(pay_server) -> list:
    return new_users(pay_server, 12)


def _event(server: Server, seats: int = 20) -> dict:
    admin = admin_client(server)
    venue = create_venue(admin, [grid("Hall", "std", 1, seats)])
    return create_event(admin, venue, prices={"std": PRICE}, max_tickets_per_user=50)


def _booking(client: Client, booking_id: int) -> dict:
    return expect(client.get(f"/v1/bookings/{booking_id}"), 200)


def _wait_for_status(client: Client, booking_id: int, status: str) -> dict:
    deadline = time.monotonic() + POLL_TIMEOUT_S
    booking = _booking(client, booking_id)
    while booking["status"] != status and time.monotonic() < deadline:
        time.sleep(0.1)
        booking = _booking(client, booking_id)
    assert booking["status"] == status, booking
    return booking


def _wait_until(predicate, what: str) -> None:
    deadline = time.monotonic() + POLL_TIMEOUT_S
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _charges_for(fake: FakeStripe, booking_id: int) -> list[dict]:
    return [c for c in fake.charges() if str(c.get("metadata", {}).get("booking_id")) == str(booking_id)]


def _charges_of_event(fake: FakeStripe, event_id: int) -> list[dict]:
    return [c for c in fake.charges() if str(c.get("metadata", {}).get("event_id")) == str(event_id)]


def test_card_payment_confirms_the_booking_with_one_charge(fake, pay_server, buyers) -> None:
    user = buyers[0]
    event = _event(pay_server)
    hold = expect(hold_seats(user.client, event["id"], [0, 1]), 201)
    booking = expect(checkout(user.client, hold["id"]), 201)
    assert booking["status"] == "CONFIRMED" and booking["total_amount"] == 2 * PRICE
    assert booking["payment_ref"].startswith("pi_")
    charges = _charges_for(fake, booking["id"])
    assert len(charges) == 1 and charges[0]["amount"] == 2 * PRICE
    assert compact_status(user.client, event["id"])[:2] == "SS"


def test_decline_fails_the_booking_and_frees_the_seats_at_once(fake, pay_server, buyers) -> None:
    user = buyers[1]
    event = _event(pay_server)
    hold = expect(hold_seats(user.client, event["id"], [3]), 201)
    error = assert_error(checkout(user.client, hold["id"], "pm_card_chargeDeclinedInsufficientFunds"), 402,
                         "payment_failed")
    assert error["decline_code"] == "insufficient_funds"
    assert compact_status(user.client, event["id"])[3] == "A"
    assert _charges_of_event(fake, event["id"]) == []


def test_server_errors_are_retried_and_charge_once(fake, pay_server, buyers) -> None:
    user = buyers[2]
    event = _event(pay_server)
    hold = expect(hold_seats(user.client, event["id"], [0]), 201)
    fake.faults(fail_next=2)
    booking = expect(checkout(user.client, hold["id"]), 201)
    assert booking["status"] == "CONFIRMED"
    assert len(_charges_for(fake, booking["id"])) == 1


def test_a_lost_reply_is_retried_with_the_same_key_and_charges_once(fake, pay_server, buyers) -> None:
    """drop_next: Stripe charges, then the reply is lost. The webhook may even arrive before the retry."""
    user = buyers[3]
    event = _event(pay_server)
    hold = expect(hold_seats(user.client, event["id"], [0]), 201)
    fake.faults(drop_next=1)
    booking = expect(checkout(user.client, hold["id"]), 201)
    assert booking["status"] == "CONFIRMED"
    assert len(_charges_for(fake, booking["id"])) == 1
    assert fake.stats()["idempotent_replays"] >= 1


def test_a_webhook_arriving_before_the_checkout_reply_settles_it_once(fake, pay_server, buyers) -> None:
    """The charge takes effect and its webhook is delivered while the reply is still on its way (below
    ticketd's 1 s timeout, so no retry): whichever settles first, the booking is confirmed once."""
    user = buyers[11]
    event = _event(pay_server)
    hold = expect(hold_seats(user.client, event["id"], [6]), 201)
    delivered_before = fake.stats()["webhooks_delivered"]
    fake.faults(reply_delay_ms=600)
    booking = expect(checkout(user.client, hold["id"]), 201)
    assert booking["status"] == "CONFIRMED"
    assert fake.stats()["webhooks_delivered"] > delivered_before
    assert len(_charges_for(fake, booking["id"])) == 1
    assert compact_status(user.client, event["id"])[6] == "S"
    assert _booking(user.client, booking["id"])["status"] == "CONFIRMED"


def test_client_timeouts_leave_the_booking_pending_and_a_retry_charges_once(fake, pay_server, buyers) -> None:
    user = buyers[4]
    event = _event(pay_server)
    hold = expect(hold_seats(user.client, event["id"], [0]), 201)
    fake.faults(latency_ms=1500)  # longer than ticketd's 1 s per-attempt timeout: every attempt times out
    key = uuid.uuid4().hex
    assert_error(checkout(user.client, hold["id"], idempotency_key=key), 503, "unavailable")
    # Pinned, not released. The slow fake did charge in the end, so its webhook may already have sold it.
    assert compact_status(user.client, event["id"])[0] in "HS"
    fake.reset()
    answer = checkout(user.client, hold["id"], idempotency_key=key)
    assert answer.status in (201,), answer
    booking = answer.body
    assert booking["status"] == "CONFIRMED"
    _wait_until(lambda: fake.stats()["requests_total"] > 0, "requests")
    assert len(_charges_for(fake, booking["id"])) == 1
    assert compact_status(user.client, event["id"])[0] == "S"


def test_three_d_secure_completes_by_webhook(fake, pay_server, buyers) -> None:
    user = buyers[5]
    event = _event(pay_server)
    hold = expect(hold_seats(user.client, event["id"], [5]), 201)
    pending = expect(checkout(user.client, hold["id"], "pm_card_authenticationRequired"), 202)
    assert pending["status"] == "PENDING_PAYMENT"
    assert compact_status(user.client, event["id"])[5] == "H"
    fake.authenticate(pending["payment_ref"], "succeed")
    booking = _wait_for_status(user.client, pending["id"], "CONFIRMED")
    assert compact_status(user.client, event["id"])[5] == "S"
    assert len(_charges_for(fake, booking["id"])) == 1


def _answer_challenge(url: str, outcome: str) -> tuple[int, str]:
    """What the buyer's browser does on the bank's page: one form POST, the redirect not followed."""
    request = urllib.request.Request(url, data=urllib.parse.urlencode({"outcome": outcome}).encode(), method="POST")

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=10) as reply:
            return reply.status, reply.headers.get("Location", "")
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Location", "")


@pytest.mark.parametrize("outcome, final", [("succeed", "CONFIRMED"), ("fail", "FAILED")])
def test_the_banks_challenge_page_is_named_and_returns_the_buyer_to_the_booking(outcome, final, fake, pay_server,
                                                                                buyers) -> None:
    user, other = buyers[9], buyers[10]
    event = _event(pay_server)
    hold = expect(hold_seats(user.client, event["id"], [9]), 201)
    pending = expect(checkout(user.client, hold["id"], "pm_card_authenticationRequired"), 202)
    action = expect(user.client.get(f"/v1/bookings/{pending['id']}/payment-action"), 200)
    assert action["type"] == "redirect_to_url"
    assert action["url"].startswith(fake.api_base + "/_3ds/" + pending["payment_ref"])
    assert_error(other.client.get(f"/v1/bookings/{pending['id']}/payment-action"), 404, "not_found")
    status, location = _answer_challenge(action["url"], outcome)
    assert status == 303
    assert location == f"http://127.0.0.1:{pay_server.port}/#/bookings/{pending['id']}"
    _wait_for_status(user.client, pending["id"], final)
    assert_error(user.client.get(f"/v1/bookings/{pending['id']}/payment-action"), 409, "no_payment_action")
    assert compact_status(user.client, event["id"])[9] == ("S" if final == "CONFIRMED" else "A")


def test_a_booking_paid_at_once_has_no_payment_action(fake, pay_server, buyers) -> None:
    user = buyers[9]
    event = _event(pay_server)
    hold = expect(hold_seats(user.client, event["id"], [3]), 201)
    booking = expect(checkout(user.client, hold["id"], "pm_card_visa"), 201)
    assert_error(user.client.get(f"/v1/bookings/{booking['id']}/payment-action"), 409, "no_payment_action")
    assert_error(user.client.get("/v1/bookings/999999999/payment-action"), 404, "not_found")


def test_failed_authentication_fails_the_booking_and_frees_the_seats(fake, pay_server, buyers) -> None:
    user = buyers[6]
    event = _event(pay_server)
    hold = expect(hold_seats(user.client, event["id"], [2]), 201)
    pending = expect(checkout(user.client, hold["id"], "pm_card_authenticationRequired"), 202)
    fake.authenticate(pending["payment_ref"], "fail")
    failed = _wait_for_status(user.client, pending["id"], "FAILED")
    assert failed["decline_code"]
    assert compact_status(user.client, event["id"])[2] == "A"
    assert _charges_of_event(fake, event["id"]) == []


def test_duplicate_and_replayed_webhooks_have_no_second_effect(fake, pay_server, buyers) -> None:
    user = buyers[7]
    event = _event(pay_server)
    hold = expect(hold_seats(user.client, event["id"], [7]), 201)
    pending = expect(checkout(user.client, hold["id"], "pm_card_authenticationRequired"), 202)
    fake.faults(duplicate_webhooks=5)
    fake.authenticate(pending["payment_ref"], "succeed")
    booking = _wait_for_status(user.client, pending["id"], "CONFIRMED")
    succeeded = [e for e in fake.events() if e["type"] == "payment_intent.succeeded"
                 and e["data"]["object"]["id"] == pending["payment_ref"]]
    assert len(succeeded) == 1
    fake.resend(succeeded[0]["id"])
    _wait_until(lambda: fake.stats()["webhooks_pending"] == 0, "webhooks delivered")
    after = _booking(user.client, booking["id"])
    assert after["status"] == "CONFIRMED" and after["seat_ids"] == booking["seat_ids"]
    assert len(_charges_for(fake, booking["id"])) == 1
    assert compact_status(user.client, event["id"]).count("S") == 1


def _signed(body: bytes, secret: str, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


@pytest.mark.parametrize("case", ["forged", "wrong_secret", "stale", "malformed", "missing"])
def test_bad_webhook_signatures_are_refused_and_change_nothing(case, fake, pay_server, buyers) -> None:
    user = buyers[8]
    event = _event(pay_server)
    hold = expect(hold_seats(user.client, event["id"], [1]), 201)
    pending = expect(checkout(user.client, hold["id"], "pm_card_authenticationRequired"), 202)
    body = json.dumps({"id": f"evt_forged_{case}", "object": "event", "type": "payment_intent.succeeded",
                       "data": {"object": {"id": pending["payment_ref"], "object": "payment_intent",
                                           "status": "succeeded", "amount": PRICE,
                                           "metadata": {"booking_id": str(pending["id"])}}}}).encode()
    now = int(time.time())
    headers = {
        "forged": f"t={now},v1={'0' * 64}",
        "wrong_secret": _signed(body, "whsec_not_ours", now),
        "stale": _signed(body, WEBHOOK_SECRET, now - 301),
        "malformed": "v1=,t=abc",
        "missing": None,
    }[case]
    extra = {} if headers is None else {"Stripe-Signature": headers}
    resp = Client(pay_server.port).request("POST", "/v1/payments/stripe/webhook", data=body, headers=extra)
    assert_error(resp, 400)
    assert _booking(user.client, pending["id"])["status"] == "PENDING_PAYMENT"
    assert compact_status(user.client, event["id"])[1] == "H"


def _post_signed_event(server: Server, intent: dict, booking_id: int, event_id: str):
    body = json.dumps({"id": event_id, "object": "event", "type": "payment_intent.succeeded",
                       "data": {"object": {**intent, "object": "payment_intent", "status": "succeeded",
                                           "metadata": {"booking_id": str(booking_id)}}}}).encode()
    return Client(server.port).request("POST", "/v1/payments/stripe/webhook", data=body, headers={
        "Stripe-Signature": _signed(body, WEBHOOK_SECRET, int(time.time()))})


def test_a_webhook_carrying_another_bookings_payment_is_refused(fake, pay_server, buyers) -> None:
    """A signed event that names booking B in its metadata but carries A's PaymentIntent (another amount
    and currency) once confirmed B with A's money, and cancelling B then refunded A's payment."""
    user = buyers[8]
    event = _event(pay_server)
    paid = expect(checkout(user.client, expect(hold_seats(user.client, event["id"], [10, 11]), 201)["id"]), 201)
    hold_b = expect(hold_seats(user.client, event["id"], [12]), 201)
    pending = expect(checkout(user.client, hold_b["id"], "pm_card_authenticationRequired"), 202)
    cases = {
        "another booking's intent": {"id": paid["payment_ref"], "amount": 2 * PRICE, "currency": "usd"},
        "another booking's intent at this price": {"id": paid["payment_ref"], "amount": PRICE, "currency": "eur"},
        "this intent, another amount": {"id": pending["payment_ref"], "amount": 1, "currency": "eur"},
        "this intent, another currency": {"id": pending["payment_ref"], "amount": PRICE, "currency": "usd"},
        "an unknown intent": {"id": "pi_not_ours", "amount": PRICE, "currency": "eur"},
    }
    for i, (what, intent) in enumerate(cases.items()):
        resp = _post_signed_event(pay_server, intent, pending["id"], f"evt_mismatch_{uuid.uuid4().hex}_{i}")
        assert_error(resp, 400, "invalid_request")
        assert _booking(user.client, pending["id"])["status"] == "PENDING_PAYMENT", what
    assert compact_status(user.client, event["id"])[10:13] == "SSH"
    # The booking's own payment, for its own total, still settles it.
    fake.authenticate(pending["payment_ref"], "succeed")
    _wait_for_status(user.client, pending["id"], "CONFIRMED")


def test_a_correctly_signed_webhook_is_accepted(fake, pay_server) -> None:
    body = json.dumps({"id": "evt_unknown_type", "object": "event", "type": "customer.created",
                       "data": {"object": {"id": "cus_1", "object": "customer"}}}).encode()
    resp = Client(pay_server.port).request("POST", "/v1/payments/stripe/webhook", data=body, headers={
        "Stripe-Signature": _signed(body, WEBHOOK_SECRET, int(time.time()))})
    assert resp.status == 200, resp


def test_reconciler_settles_a_payment_whose_webhook_was_dropped(fake, pay_server, buyers) -> None:
    user = buyers[9]
    event = _event(pay_server)
    hold = expect(hold_seats(user.client, event["id"], [9]), 201)
    pending = expect(checkout(user.client, hold["id"], "pm_card_authenticationRequired"), 202)
    fake.faults(drop_webhooks=1)
    fake.authenticate(pending["payment_ref"], "succeed")
    assert fake.stats()["webhooks_dropped_fault"] == 1
    booking = _wait_for_status(user.client, pending["id"], "CONFIRMED")  # by GET /v1/payment_intents
    assert compact_status(user.client, event["id"])[9] == "S"
    assert len(_charges_for(fake, booking["id"])) == 1


def test_a_payment_never_authenticated_is_canceled_and_its_seats_freed(tmp_path) -> None:
    """3-D Secure checkouts the buyer never completes once stayed PENDING_PAYMENT for good (and 100 of
    them starved the reconciler). Past --payment-action-timeout the reconciler cancels the intent at
    Stripe and fails the booking; the seats are free again. A server and a Stripe of its own (one
    Stripe account per deployment: its idempotency keys would collide with the module server's)."""
    port = free_port()
    fake = FakeStripe(f"http://127.0.0.1:{port}/v1/payments/stripe/webhook", tmp_path / "fake-stripe.log")
    fake.start()
    server = Server(tmp_path / "data", hold_ttl_s=600, log_path=tmp_path / "server.log", port=port, extra_env={
        "TICKETD_STRIPE_SECRET_KEY": API_KEY, "TICKETD_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "TICKETD_STRIPE_API_BASE": fake.api_base, "TICKETD_RECONCILE_INTERVAL_MS": "200",
        "TICKETD_PAYMENT_RECONCILE_AFTER_S": "1", "TICKETD_PAYMENT_ACTION_TIMEOUT_S": "2"})
    try:
        server.start()
        (user,) = new_users(server, 1)
        event = _event(server, seats=4)
        hold = expect(hold_seats(user.client, event["id"], [0, 1]), 201)
        pending = expect(checkout(user.client, hold["id"], "pm_card_authenticationRequired"), 202)
        assert compact_status(user.client, event["id"]) == "HHAA"
        failed = _wait_for_status(user.client, pending["id"], "FAILED")
        assert failed["decline_code"] == "authentication_abandoned", failed
        assert compact_status(user.client, event["id"]) == "AAAA"
        assert fake.stats()["cancellations"] == 1 and _charges_for(fake, pending["id"]) == []
        # The seats sell again at once, and the canceled intent is never asked about again.
        again = expect(hold_seats(user.client, event["id"], [0, 1]), 201)
        assert expect(checkout(user.client, again["id"]), 201)["status"] == "CONFIRMED"
    finally:
        if server.running():
            server.stop()
        fake.stop()
    assert_verify_ok(server, "after the abandoned 3-D Secure payment")


def test_cancel_refunds_once(fake, pay_server, buyers) -> None:
    user = buyers[10]
    event = _event(pay_server)
    hold = expect(hold_seats(user.client, event["id"], [4, 5]), 201)
    booking = expect(checkout(user.client, hold["id"]), 201)
    expect(user.client.post(f"/v1/bookings/{booking['id']}/cancel"), 200)
    expect(user.client.post(f"/v1/bookings/{booking['id']}/cancel"), 200)
    _wait_until(lambda: fake.stats()["webhooks_pending"] == 0, "webhooks delivered")
    stats = fake.stats()
    assert stats["refunds"] == 1 and stats["refunded_amount_total"] == 2 * PRICE
    assert _booking(user.client, booking["id"])["status"] == "CANCELLED"
    assert compact_status(user.client, event["id"])[4:6] == "AA"


def test_free_tickets_confirm_without_a_charge_and_the_server_stays_up(fake, pay_server, buyers) -> None:
    """A hold whose seats cost 0 once aborted the server on an assertion in the Stripe adapter, and
    the reconciler took the pending booking back into it after every restart. Now a total of 0
    confirms at once without a gateway call, and its cancellation refunds nothing."""
    user = buyers[11]
    admin = admin_client(pay_server)
    venue = create_venue(admin, [grid("Lawn", "free", 1, 4)])
    event = create_event(admin, venue, prices={"free": 0}, max_tickets_per_user=50)
    hold = expect(hold_seats(user.client, event["id"], [0]), 201)
    assert hold["total_amount"] == 0
    booking = expect(checkout(user.client, hold["id"], "pm_card_visa"), 201)
    assert booking["status"] == "CONFIRMED" and booking["total_amount"] == 0
    assert _charges_of_event(fake, event["id"]) == []
    # No card at all is fine when there is nothing to pay.
    hold = expect(hold_seats(user.client, event["id"], [1]), 201)
    key = uuid.uuid4().hex
    free = expect(user.client.post(f"/v1/holds/{hold['id']}/checkout", {}, headers={"Idempotency-Key": key}), 201)
    assert free["status"] == "CONFIRMED"
    again = expect(user.client.post(f"/v1/holds/{hold['id']}/checkout", {}, headers={"Idempotency-Key": key}), 201)
    assert again["id"] == free["id"]
    # Past the reconciler's 1 s and a few of its passes: nothing pending is left to take it down.
    time.sleep(1.5)
    assert pay_server.running()
    # Nothing to refund: with a gateway call, the adapter would refuse a refund of no payment (400).
    assert expect(user.client.post(f"/v1/bookings/{booking['id']}/cancel"), 200)["status"] == "CANCELLED"
    assert _charges_of_event(fake, event["id"]) == []
    assert compact_status(user.client, event["id"]) == "ASAA"
    assert Client(pay_server.port).get("/healthz").status == 200


def test_a_paid_hold_needs_a_payment_method(fake, pay_server, buyers) -> None:
    user = buyers[11]
    event = _event(pay_server)
    hold = expect(hold_seats(user.client, event["id"], [0]), 201)
    resp = user.client.post(f"/v1/holds/{hold['id']}/checkout", {}, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert_error(resp, 400, "invalid_request")
    assert _charges_of_event(fake, event["id"]) == []
    assert expect(checkout(user.client, hold["id"]), 201)["status"] == "CONFIRMED"


SOAK_CHECKOUTS = 240
SOAK_RETRIES_MAX = 10


def test_soak_of_concurrent_checkouts_charges_exactly_the_confirmed_bookings(fake, pay_server, buyers) -> None:
    """Hundreds of concurrent checkouts with server errors and lost replies sprinkled in: afterwards the
    charges on the fake equal the CONFIRMED bookings, one each, at the event's price."""
    event = _event(pay_server, seats=SOAK_CHECKOUTS)
    fake.faults(fail_next=15, drop_next=15)
    jobs = []
    for i in range(SOAK_CHECKOUTS):
        user = buyers[i % len(buyers)]

        def job(user=user, seat=i):
            client = Client(pay_server.port, token=user.token)
            try:
                held = hold_seats(client, event["id"], [seat])
                if held.status != 201:
                    return ("hold", held.status)
                pm = "pm_card_chargeDeclined" if seat % 10 == 0 else "pm_card_visa"
                key = uuid.uuid4().hex
                answer = checkout(client, held.body["id"], pm, idempotency_key=key)
                for _ in range(SOAK_RETRIES_MAX):  # 503: outcome unknown; a client retries with its key
                    if answer.status != 503:
                        break
                    time.sleep(0.2)
                    answer = checkout(client, held.body["id"], pm, idempotency_key=key)
                return ("checkout", answer.status, answer.body)
            finally:
                client.close()

        jobs.append(job)
    answers = run_together(jobs, timeout_s=300)
    assert all(a[0] == "checkout" and a[1] in (201, 402) for a in answers), \
        [a for a in answers if a[0] != "checkout" or a[1] not in (201, 402)][:5]
    confirmed = {a[2]["id"] for a in answers if a[1] == 201}
    assert len(confirmed) == SOAK_CHECKOUTS - SOAK_CHECKOUTS // 10
    _wait_until(lambda: fake.stats()["webhooks_pending"] == 0, "webhooks delivered")
    charges = [c for c in fake.charges() if str(c.get("metadata", {}).get("event_id")) == str(event["id"])]
    assert sorted(int(c["metadata"]["booking_id"]) for c in charges) == sorted(confirmed)
    assert all(c["amount"] == PRICE for c in charges)
    assert compact_status(Client(pay_server.port), event["id"]).count("S") == len(confirmed)


def test_an_organizers_refund_of_some_seats_refunds_their_price_once(fake, pay_server, buyers) -> None:
    """A partial refund at the gateway, idempotent; its charge.refunded webhook (not the whole charge)
    leaves the rest of the booking confirmed; refunding the rest later gives back only what remains."""
    user = buyers[11]
    event = _event(pay_server)
    hold = expect(hold_seats(user.client, event["id"], [8, 9, 10]), 201)
    booking = expect(checkout(user.client, hold["id"]), 201)
    admin = admin_client(pay_server)
    refund_path = f"/v1/bookings/{booking['id']}/refund"
    before = fake.stats()  # the fake's counters run over the whole module
    fake.faults(drop_next=1)  # the gateway refunds but its answer is lost: the retry finds the same refund
    first = admin.post(refund_path, {"seat_ids": [9]})
    if first.status != 200:
        assert first.status == 503, first
        first = admin.post(refund_path, {"seat_ids": [9]})
    assert expect(first, 200)["seat_ids"] == [8, 10]
    _wait_until(lambda: fake.stats()["webhooks_pending"] == 0, "webhooks delivered")
    stats = fake.stats()
    assert stats["refunds"] - before["refunds"] == 1
    assert stats["refunded_amount_total"] - before["refunded_amount_total"] == PRICE
    assert _booking(user.client, booking["id"])["status"] == "CONFIRMED"  # the webhook did not cancel it
    assert compact_status(user.client, event["id"])[8:11] == "SAS"
    expect(admin.post(refund_path, {}), 200)
    _wait_until(lambda: fake.stats()["webhooks_pending"] == 0, "webhooks delivered")
    stats = fake.stats()
    assert stats["refunds"] - before["refunds"] == 2
    assert stats["refunded_amount_total"] - before["refunded_amount_total"] == 3 * PRICE
    (charge,) = _charges_for(fake, booking["id"])
    assert charge["amount_refunded"] == charge["amount"] == 3 * PRICE
    assert _booking(user.client, booking["id"])["status"] == "CANCELLED"
