"""Editing, publishing and duplicating events (docs/console.md, "Editing events"): words any time,
a tier's price only while none of its seats is held or sold, no dates or venue by an edit; an
unpublished event is out of the catalogue and sells nothing; a duplicate is an unpublished draft."""

from __future__ import annotations

from api_support import (Client, Server, assert_error, checkout, create_event, create_venue, expect, hold_seats,
                         new_user, rfc3339, now_utc, section, unique)

import datetime as dt


def _organized_event(server: Server):
    organizer = new_user(server)
    expect(organizer.client.post("/v1/organizations", {"name": unique("Edits")}), 201)
    venue = create_venue(organizer.client, [section("Front", "premium", [4]), section("Back", "standard", [4])])
    return organizer, create_event(organizer.client, venue, prices={"premium": 9000, "standard": 4000})


def test_words_change_freely_and_a_price_only_while_its_tier_is_untouched(server: Server, anon: Client) -> None:
    organizer, event = _organized_event(server)
    path = f"/v1/events/{event['id']}"
    edited = expect(organizer.client.request("PATCH", path, body={
        "name": "Renamed", "description": "Doors at 7.", "image_url": "https://img.example/poster.jpg"}), 200)
    assert (edited["name"], edited["description"], edited["image_url"]) == ("Renamed", "Doors at 7.",
                                                                              "https://img.example/poster.jpg")
    assert expect(anon.get(path), 200)["name"] == "Renamed"
    # Nothing held yet: both tiers reprice.
    expect(organizer.client.request("PATCH", path, body={"prices": {"premium": 9500, "standard": 4500}}), 200)
    buyer = new_user(server)
    hold = expect(hold_seats(buyer.client, event["id"], [0]), 201)  # a premium seat
    assert hold["total_amount"] == 9500
    assert_error(organizer.client.request("PATCH", path, body={"prices": {"premium": 1}}), 409, "price_locked")
    expect(organizer.client.request("PATCH", path, body={"prices": {"standard": 5000}}), 200)
    expect(organizer.client.request("PATCH", path, body={"prices": {"premium": 9500}}), 200)  # unchanged: fine
    booking = expect(checkout(buyer.client, hold["id"]), 201)
    assert booking["total_amount"] == 9500

    for body, words in [({"starts_at": rfc3339(now_utc())}, "postponement"), ({"venue_id": 1}, "cannot be edited"),
                        ({"image_url": "http://img.example/x.jpg"}, "https://"), ({"description": "x" * 2001}, "2000"),
                        ({"name": ""}, "name"), ({"prices": {"balcony": 10}}, "no such tier"),
                        ({"prices": {"standard": -1}}, "0-100000000"), ({"published": "yes"}, "true or false")]:
        error = assert_error(organizer.client.request("PATCH", path, body=body), 400, "invalid_request")
        assert words in error["message"], (body, error)


def test_an_unpublished_event_is_out_of_sight_and_off_sale(server: Server, anon: Client) -> None:
    organizer, event = _organized_event(server)
    path = f"/v1/events/{event['id']}"
    buyer = new_user(server)
    expect(organizer.client.request("PATCH", path, body={"published": False}), 200)
    assert_error(anon.get(path), 404, "not_found")
    assert_error(buyer.client.get(f"{path}/seats"), 404, "not_found")
    listed = expect(anon.get(f"/v1/events?q={event['name']}"), 200)["events"]
    assert listed == []
    assert_error(hold_seats(buyer.client, event["id"], [1]), 409, "sale_not_open")
    mine = expect(organizer.client.get(f"/v1/organizations/{event['organization_id']}/events"), 200)["events"]
    assert [e["published"] for e in mine if e["id"] == event["id"]] == [False]
    assert expect(organizer.client.get(path), 200)["published"] is False
    expect(organizer.client.request("PATCH", path, body={"published": True}), 200)
    assert [e["id"] for e in expect(anon.get(f"/v1/events?q={event['name']}"), 200)["events"]] == [event["id"]]
    expect(hold_seats(buyer.client, event["id"], [1]), 201)


def test_a_duplicate_is_an_unpublished_copy_with_new_dates(server: Server, anon: Client) -> None:
    organizer, event = _organized_event(server)
    expect(organizer.client.request("PATCH", f"/v1/events/{event['id']}", body={"description": "Tour date 1"}), 200)
    starts = now_utc() + dt.timedelta(days=60)
    copy = expect(organizer.client.post(f"/v1/events/{event['id']}/duplicate", {
        "starts_at": rfc3339(starts), "on_sale_at": rfc3339(now_utc() - dt.timedelta(minutes=1))}), 201)
    assert copy["id"] != event["id"] and copy["published"] is False and copy["name"] == event["name"] + " (copy)"
    assert (copy["prices"], copy["venue_id"], copy["description"]) == (event["prices"], event["venue_id"], "Tour date 1")
    assert_error(anon.get(f"/v1/events/{copy['id']}"), 404, "not_found")
    assert_error(organizer.client.post(f"/v1/events/{event['id']}/duplicate", {"starts_at": rfc3339(starts)}), 400)


def test_a_cancelled_event_keeps_its_words(server: Server) -> None:
    organizer, event = _organized_event(server)
    expect(organizer.client.post(f"/v1/events/{event['id']}/cancel", {"reason": "x"}), 202)
    assert_error(organizer.client.request("PATCH", f"/v1/events/{event['id']}", body={"name": "Back on"}), 409,
                 "event_cancelled")


def test_postponing_moves_the_dates_keeps_the_bookings_and_sales_follow_at_once(server: Server, anon: Client) -> None:
    organizer, event = _organized_event(server)
    path = f"/v1/events/{event['id']}"
    buyer = new_user(server)
    booking = expect(checkout(buyer.client, expect(hold_seats(buyer.client, event["id"], [0]), 201)["id"]), 201)
    new_start = now_utc() + dt.timedelta(days=90)
    later_sale = now_utc() + dt.timedelta(days=1)
    moved = expect(organizer.client.post(f"{path}/postpone", {"starts_at": rfc3339(new_start),
                                                              "on_sale_at": rfc3339(later_sale)}), 200)
    assert moved["postponed_from"] == event["starts_at"]
    assert moved["starts_at"] == rfc3339(new_start) and moved["on_sale_at"] == rfc3339(later_sale)
    assert expect(anon.get(path), 200)["starts_at"] == rfc3339(new_start)
    assert expect(buyer.client.get(f"/v1/bookings/{booking['id']}"), 200)["status"] == "CONFIRMED"
    # The sale follows the new on-sale time at once (the embedded store keeps it in memory).
    assert_error(hold_seats(new_user(server).client, event["id"], [2]), 409, "sale_not_open")
    # Tickets are good until the new date.
    (ticket,) = expect(buyer.client.get(f"/v1/bookings/{booking['id']}/tickets"), 200)["tickets"]
    assert ticket["valid_until"] > rfc3339(new_start)

    for body, status, code in [({"starts_at": rfc3339(now_utc() - dt.timedelta(days=1))}, 400, "invalid_request"),
                               ({"starts_at": moved["starts_at"]}, 400, "invalid_request"),
                               ({"starts_at": rfc3339(now_utc() + dt.timedelta(hours=1))}, 400, "invalid_request"),
                               ({}, 400, "invalid_request"), ({"starts_at": "soon"}, 400, "invalid_request"),
                               ({"starts_at": rfc3339(new_start), "venue_id": 1}, 400, "invalid_request")]:
        assert_error(organizer.client.post(f"{path}/postpone", body), status, code)
    expect(organizer.client.post(f"{path}/cancel", {"reason": "x"}), 202)
    assert_error(organizer.client.post(f"{path}/postpone", {"starts_at": rfc3339(new_start + dt.timedelta(days=1))}),
                 409, "event_cancelled")
