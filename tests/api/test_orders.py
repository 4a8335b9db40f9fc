"""An event's orders and sales for its organizer (docs/console.md, "Orders", "Sales report"): find a
booking by the buyer's email, name or the booking id; a report per tier and per day that follows sales
and refunds."""

from __future__ import annotations

import datetime as dt

from api_support import (Client, Server, assert_error, checkout, compact_status, create_event, create_venue, expect,
                         hold_seats, new_user, section, unique)


def test_orders_are_found_by_email_name_or_id_and_the_report_adds_up(server: Server) -> None:
    organizer = new_user(server)
    expect(organizer.client.post("/v1/organizations", {"name": unique("Orders Org")}), 201)
    venue = create_venue(organizer.client, [section("Front", "premium", [4]), section("Back", "standard", [6])])
    event = create_event(organizer.client, venue, prices={"premium": 9000, "standard": 4000})
    first, second = new_user(server), new_user(server)
    booking_1 = expect(checkout(first.client, expect(hold_seats(first.client, event["id"], [0, 1]), 201)["id"]), 201)
    booking_2 = expect(checkout(second.client, expect(hold_seats(second.client, event["id"], [4]), 201)["id"]), 201)
    orders_path = f"/v1/events/{event['id']}/orders"

    everyone = expect(organizer.client.get(orders_path), 200)
    assert [o["id"] for o in everyone["orders"]] == [booking_1["id"], booking_2["id"]] and everyone["next"] is None
    assert everyone["orders"][0]["buyer"] == {"id": first.id, "email": first.email, "name": "Test User"}
    assert everyone["orders"][0]["seats"] == [{"id": 0, "section": "Front", "row": "A", "number": 1},
                                              {"id": 1, "section": "Front", "row": "A", "number": 2}]
    assert everyone["orders"][0]["total_amount"] == 18000
    by_email = expect(organizer.client.get(f"{orders_path}?q={second.email.split('@')[0].upper()}"), 200)["orders"]
    assert [o["id"] for o in by_email] == [booking_2["id"]]
    by_id = expect(organizer.client.get(f"{orders_path}?q={booking_1['id']}"), 200)["orders"]
    assert booking_1["id"] in [o["id"] for o in by_id]
    assert expect(organizer.client.get(f"{orders_path}?q=nobody-matches-this"), 200)["orders"] == []
    page = expect(organizer.client.get(f"{orders_path}?limit=1"), 200)
    assert len(page["orders"]) == 1 and page["next"] == str(booking_1["id"])
    assert_error(organizer.client.get(f"{orders_path}?q={'x' * 201}"), 400, "invalid_request")
    assert_error(organizer.client.get(f"{orders_path}?limit=0"), 400, "invalid_request")
    assert_error(organizer.client.get(f"{orders_path}?after=x"), 400, "invalid_request")
    assert_error(organizer.client.get("/v1/organizations?after=-1"), 400, "invalid_request")

    report = expect(organizer.client.get(f"/v1/events/{event['id']}/sales-report"), 200)
    assert report["bookings"] == 2 and report["seats"] == 3 and report["revenue"] == 22000
    assert report["per_tier"] == [{"tier": "premium", "seats": 2, "amount": 18000},
                                  {"tier": "standard", "seats": 1, "amount": 4000}]
    today = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d")
    assert report["per_day"] == [{"day": today, "seats": 3, "amount": 22000}]
    assert len(report["seats_per_minute"]) == 60 and sum(report["seats_per_minute"]) == 3
    csv_text = expect(organizer.client.get(f"/v1/events/{event['id']}/sales-report.csv"), 200)
    assert csv_text.split("\r\n")[:5] == ["kind,key,seats,amount_minor,currency", "tier,premium,2,18000,EUR",
                                           "tier,standard,1,4000,EUR", f"day,{today},3,22000,EUR",
                                           "total,,3,22000,EUR"]

    # A refund takes the booking out of the report and shows it cancelled in the orders.
    expect(organizer.client.post(f"/v1/bookings/{booking_1['id']}/refund", {}), 200)
    report = expect(organizer.client.get(f"/v1/events/{event['id']}/sales-report"), 200)
    assert report["bookings"] == 1 and report["revenue"] == 4000
    statuses = {o["id"]: o["status"] for o in expect(organizer.client.get(orders_path), 200)["orders"]}
    assert statuses == {booking_1["id"]: "CANCELLED", booking_2["id"]: "CONFIRMED"}


def test_refunding_some_seats_frees_them_revokes_their_tickets_and_keeps_the_rest(server: Server, anon: Client) -> None:
    organizer = new_user(server)
    expect(organizer.client.post("/v1/organizations", {"name": unique("Partial")}), 201)
    venue = create_venue(organizer.client, [section("Front", "premium", [4]), section("Back", "standard", [6])])
    event = create_event(organizer.client, venue, prices={"premium": 9000, "standard": 4000})
    buyer = new_user(server)
    booking = expect(checkout(buyer.client, expect(hold_seats(buyer.client, event["id"], [0, 1, 4]), 201)["id"]), 201)
    assert booking["total_amount"] == 22000
    refund_path = f"/v1/bookings/{booking['id']}/refund"

    after = expect(organizer.client.post(refund_path, {"seat_ids": [1]}), 200)
    assert after["status"] == "CONFIRMED" and after["seat_ids"] == [0, 4] and after["total_amount"] == 22000
    status = compact_status(anon, event["id"])
    assert (status[0], status[1], status[4]) == ("S", "A", "S")
    tickets = {t["seat"]["id"] if isinstance(t.get("seat"), dict) else t.get("seat_id"): t["status"]
               for t in expect(buyer.client.get(f"/v1/bookings/{booking['id']}/tickets"), 200)["tickets"]}
    assert tickets == {0: "VALID", 1: "REVOKED", 4: "VALID"}  # the refunded seat's ticket admits no one
    order = expect(organizer.client.get(f"/v1/events/{event['id']}/orders?q={booking['id']}"), 200)["orders"][0]
    assert order["refunded_amount"] == 9000 and [s["id"] for s in order["seats"]] == [0, 4]
    report = expect(organizer.client.get(f"/v1/events/{event['id']}/sales-report"), 200)
    assert report["revenue"] == 13000 and report["seats"] == 2

    # The same seat again is not the booking's any more; a seat of another booking neither.
    assert_error(organizer.client.post(refund_path, {"seat_ids": [1]}), 400, "invalid_seat")
    assert_error(organizer.client.post(refund_path, {"seat_ids": [5]}), 400, "invalid_seat")
    assert_error(organizer.client.post(refund_path, {"seat_ids": []}), 400, "invalid_request")
    assert_error(organizer.client.post(refund_path, {"seat_ids": [0, 0]}), 400, "invalid_request")
    # The rest (every remaining seat) is the whole booking: cancelled, the remainder refunded.
    rest = expect(organizer.client.post(refund_path, {"seat_ids": [0, 4]}), 200)
    assert rest["status"] == "CANCELLED"
    report = expect(organizer.client.get(f"/v1/events/{event['id']}/sales-report"), 200)
    assert report["revenue"] == 0 and report["bookings"] == 0
