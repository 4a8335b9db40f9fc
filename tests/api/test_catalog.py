"""Catalog: venues, events, event listing, seat maps."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re

from api_support import (Client, UserPool, checkout, compact_status, create_event, create_venue,
                         event_counts, expect, grid, hold_seats, metrics_text, now_utc, raw_get, section, seat_list,
                         unique, with_query)


def metric_value(server, name: str) -> float:
    m = re.search(rf"^{re.escape(name)} (\S+)$", metrics_text(server.port), re.M)
    assert m, f"{name} is not in /metrics"
    return float(m.group(1))


def test_admin_creates_a_venue_whose_seat_ids_follow_the_layout(admin: Client, anon: Client) -> None:
    sections = [
        section("Stalls", "premium", [4, 3], accessible={0: [1, 2]}, companion={0: [3]}),
        section("Balcony", "standard", [5], restricted_view={0: [5]}),
    ]
    venue = create_venue(admin, sections, name="Concert Hall")
    assert isinstance(venue["id"], int) and venue["id"] > 0
    assert venue["name"] == "Concert Hall"
    assert venue["seats_total"] == 12

    body = expect(anon.get(f"/v1/venues/{venue['id']}"), 200)
    assert body["id"] == venue["id"] and body["seats_total"] == 12
    assert [s["name"] for s in body["sections"]] == ["Stalls", "Balcony"]
    assert [s["price_tier"] for s in body["sections"]] == ["premium", "standard"]
    rows = [(r["label"], r["seats"], r["first_seat_id"]) for s in body["sections"] for r in s["rows"]]
    assert rows == [("A", 4, 0), ("B", 3, 4), ("A", 5, 7)]
    first_row = body["sections"][0]["rows"][0]
    assert first_row["accessible"] == [1, 2] and first_row["companion"] == [3]
    assert body["sections"][1]["rows"][0]["restricted_view"] == [5]


def test_venue_of_fifty_thousand_seats_is_created_in_one_request(admin: Client, anon: Client) -> None:
    sections = [grid(f"Block {n}", "standard" if n % 2 else "premium", 50, 100) for n in range(10)]
    venue = create_venue(admin, sections)
    assert venue["seats_total"] == 50_000
    event = create_event(admin, venue)
    assert event["seats_total"] == 50_000
    status = compact_status(anon, event["id"])
    assert len(status) == 50_000 and set(status) == {"A"}


def test_venue_at_the_seat_limit_is_accepted(admin: Client) -> None:
    venue = create_venue(admin, [grid("Field", "standard", 200, 1000)])
    assert venue["seats_total"] == 200_000


def test_admin_creates_an_event_on_sale(admin: Client, anon: Client) -> None:
    venue = create_venue(admin, [grid("Stalls", "premium", 2, 5), grid("Balcony", "standard", 1, 5)],
                         name="Opera House")
    starts_at = now_utc() + dt.timedelta(days=30)
    event = create_event(admin, venue, name="Tosca", prices={"premium": 12_500, "standard": 4_000},
                         starts_at=starts_at, currency="EUR")
    assert isinstance(event["id"], int) and event["id"] > 0
    assert event["name"] == "Tosca" and event["venue_id"] == venue["id"]
    assert event["max_tickets_per_user"] == 8, "the default limit"

    body = expect(anon.get(f"/v1/events/{event['id']}"), 200)
    assert body["name"] == "Tosca"
    assert body["venue_id"] == venue["id"] and body["venue_name"] == "Opera House"
    assert body["currency"] == "EUR"
    assert body["prices"] == {"premium": 12_500, "standard": 4_000}
    assert body["seats_total"] == 15
    assert body["counts"] == {"available": 15, "held": 0, "sold": 0}
    assert body["starts_at"].endswith("Z")
    assert dt.datetime.fromisoformat(body["starts_at"].replace("Z", "+00:00")) == starts_at


def _listing_events(admin: Client, token: str) -> list[dict]:
    """Five events named with `token`, created out of date order; two share a start time."""
    venue = create_venue(admin, [grid("Main", "standard", 1, 10)])
    base = now_utc().replace(hour=19, minute=0, second=0) + dt.timedelta(days=400)
    day_offsets = [3, 0, 1, 4, 1]
    return [create_event(admin, venue, name=f"Gala {token} night {n}", starts_at=base + dt.timedelta(days=days))
            for n, days in enumerate(day_offsets)]


def _in_listing_order(events: list[dict]) -> list[int]:
    return [e["id"] for e in sorted(events, key=lambda e: (e["starts_at"], e["id"]))]


def test_event_list_filters_by_name_case_insensitively_in_start_order(admin: Client, anon: Client) -> None:
    token = unique("listing")
    events = _listing_events(admin, token)
    body = expect(anon.get(with_query("/v1/events", q=token.upper(), limit=100)), 200)
    assert [e["id"] for e in body["events"]] == _in_listing_order(events)
    assert body["next"] is None
    body = expect(anon.get(with_query("/v1/events", q=unique("no-such-event"))), 200)
    assert body == {"events": [], "next": None}


def test_event_list_bounds_start_time_from_inclusive_to_exclusive(admin: Client, anon: Client) -> None:
    token = unique("window")
    events = _listing_events(admin, token)
    ordered = sorted(events, key=lambda e: (e["starts_at"], e["id"]))
    # ordered start days: 0, 1, 1, 3, 4. [day 1, day 3) holds the two day-1 events.
    path = with_query("/v1/events", q=token, **{"from": ordered[1]["starts_at"], "to": ordered[3]["starts_at"]})
    body = expect(anon.get(path), 200)
    assert [e["id"] for e in body["events"]] == [ordered[1]["id"], ordered[2]["id"]]


def test_event_list_pages_through_results_with_next(admin: Client, anon: Client) -> None:
    token = unique("pages")
    events = _listing_events(admin, token)
    seen: list[int] = []
    after = None
    page_sizes = []
    for _ in range(10):
        body = expect(anon.get(with_query("/v1/events", q=token, limit=2, after=after)), 200)
        seen += [e["id"] for e in body["events"]]
        page_sizes.append(len(body["events"]))
        after = body["next"]
        if after is None:
            break
    assert page_sizes == [2, 2, 1]
    assert seen == _in_listing_order(events)


def test_event_counts_follow_holds_sales_and_releases(admin: Client, anon: Client, users: UserPool) -> None:
    (user,) = users.take(1)
    event = create_event(admin, create_venue(admin, [grid("Main", "standard", 2, 5)]))
    eid = event["id"]
    assert event_counts(anon, eid) == {"available": 10, "held": 0, "sold": 0}

    sold_hold = expect(hold_seats(user.client, eid, [0, 1]), 201)
    assert event_counts(anon, eid) == {"available": 8, "held": 2, "sold": 0}
    expect(checkout(user.client, sold_hold["id"]), 201)
    assert event_counts(anon, eid) == {"available": 8, "held": 0, "sold": 2}

    released = expect(hold_seats(user.client, eid, [5, 6, 7]), 201)
    assert event_counts(anon, eid) == {"available": 5, "held": 3, "sold": 2}
    assert user.client.delete(f"/v1/holds/{released['id']}").status == 204
    assert event_counts(anon, eid) == {"available": 8, "held": 0, "sold": 2}


def test_seat_list_reports_each_seat_with_price_flags_and_status(admin: Client, anon: Client,
                                                                  users: UserPool) -> None:
    (user,) = users.take(1)
    venue = create_venue(admin, [
        section("Stalls", "premium", [3], accessible={0: [2]}, companion={0: [3]}),
        section("Balcony", "standard", [2], restricted_view={0: [1]}),
    ])
    event = create_event(admin, venue, prices={"premium": 9_000, "standard": 3_000})
    expect(hold_seats(user.client, event["id"], [0]), 201)
    sold = expect(hold_seats(user.client, event["id"], [4]), 201)
    expect(checkout(user.client, sold["id"]), 201)

    seats = seat_list(anon, event["id"])
    assert [s["id"] for s in seats] == [0, 1, 2, 3, 4]
    described = [(s["section"], s["row"], s["number"], s["price"], s["status"]) for s in seats]
    assert described == [
        ("Stalls", "A", 1, 9_000, "HELD"),
        ("Stalls", "A", 2, 9_000, "AVAILABLE"),
        ("Stalls", "A", 3, 9_000, "AVAILABLE"),
        ("Balcony", "A", 1, 3_000, "AVAILABLE"),
        ("Balcony", "A", 2, 3_000, "SOLD"),
    ]
    flags = [(s["accessible"], s["companion"], s["restricted_view"]) for s in seats]
    assert flags == [(False, False, False), (True, False, False), (False, True, False),
                     (False, False, True), (False, False, False)]


def test_seat_list_can_be_limited_to_one_section(admin: Client, anon: Client) -> None:
    venue = create_venue(admin, [grid("Stalls", "premium", 2, 3), grid("Balcony", "standard", 1, 4)])
    event = create_event(admin, venue)
    seats = seat_list(anon, event["id"], "Balcony")
    assert [s["id"] for s in seats] == [6, 7, 8, 9]
    assert {s["section"] for s in seats} == {"Balcony"}


def test_the_full_seat_list_comes_in_bounded_pages(admin: Client, anon: Client) -> None:
    """A 200,000-seat venue's list was one 30 MB answer for anyone, ~0.3 s of CPU each: six looping
    clients starved /healthz. Now a page holds at most 1,000 seats and names the next."""
    venue = create_venue(admin, [grid("Lower", "std", 3, 500), grid("Upper", "std", 2, 500)])
    event = create_event(admin, venue, prices={"std": 1000})
    first = expect(anon.get(f"/v1/events/{event['id']}/seats"), 200)
    assert len(first["seats"]) == 500 and first["seats"][0]["id"] == 0 and first["next"] == "499"
    page = expect(anon.get(with_query(f"/v1/events/{event['id']}/seats", limit=1000, after=first["next"])), 200)
    assert [s["id"] for s in page["seats"]] == list(range(500, 1500)) and page["next"] == "1499"
    last = expect(anon.get(with_query(f"/v1/events/{event['id']}/seats", limit=1000, after=page["next"])), 200)
    assert [s["id"] for s in last["seats"]] == list(range(1500, 2500)) and last["next"] is None
    upper = seat_list(anon, event["id"], "Upper")
    assert [s["id"] for s in upper] == list(range(1500, 2500)) and {s["section"] for s in upper} == {"Upper"}
    paged = expect(anon.get(with_query(f"/v1/events/{event['id']}/seats", section="Upper", limit=600)), 200)
    assert len(paged["seats"]) == 600 and paged["next"] == "2099"
    for bad in [{"limit": 0}, {"limit": 1001}, {"limit": "x"}, {"after": "-1"}, {"after": "1e3"},
                {"after": "9" * 10}]:
        resp = anon.get(with_query(f"/v1/events/{event['id']}/seats", **bad))
        assert resp.status == 400 and resp.error_code == "invalid_request", (bad, resp)


def test_answers_are_gzipped_for_clients_that_accept_it(admin: Client, anon: Client, server) -> None:
    """Static files and JSON went out uncompressed."""
    event = create_event(admin, create_venue(admin, [grid("Hall", "std", 20, 100)]), prices={"std": 100})
    path = f"/v1/events/{event['id']}/seats?format=compact"
    plain = raw_get(server.port, path, {"Accept-Encoding": "identity"})
    packed = raw_get(server.port, path, {"Accept-Encoding": "gzip, br"})
    assert plain.status == packed.status == 200
    assert "Content-Encoding" not in plain.headers and "accept-encoding" in plain.headers["Vary"].lower()
    assert packed.headers["Content-Encoding"] == "gzip" and "accept-encoding" in packed.headers["Vary"].lower()
    assert gzip.decompress(packed.body) == plain.body and len(packed.body) < len(plain.body) // 10
    script = raw_get(server.port, "/js/app.js", {"Accept-Encoding": "gzip"})
    if script.status == 404:
        return  # no web app next to this binary
    assert script.headers["Content-Encoding"] == "gzip" and script.headers["ETag"].endswith('-gzip"')
    revalidated = raw_get(server.port, "/js/app.js", {"Accept-Encoding": "gzip",
                                                      "If-None-Match": script.headers["ETag"]})
    assert revalidated.status == 304


def test_a_repeated_compact_map_is_the_kept_bytes_until_the_next_seat_change(admin: Client, anon: Client, server,
                                                                            users: UserPool) -> None:
    """Finding 4 of the security review: every read of a big map was a JSON build and a deflate."""
    (user,) = users.take(1)
    event = create_event(admin, create_venue(admin, [grid("Hall", "std", 20, 100)]), prices={"std": 100})
    path = f"/v1/events/{event['id']}/seats?format=compact"
    expect(hold_seats(user.client, event["id"], [0]), 201)  # a seat change: the map has a version
    hits = lambda: metric_value(server, "ticketd_seat_map_cache_hits_total")  # noqa: E731
    first = raw_get(server.port, path, {"Accept-Encoding": "gzip"})
    before = hits()
    again = [raw_get(server.port, path, {"Accept-Encoding": "gzip"}) for _ in range(3)]
    assert all(a.body == first.body for a in again) and hits() >= before + 3
    assert json.loads(gzip.decompress(first.body))["status"][:2] == "HA"
    expect(hold_seats(user.client, event["id"], [1]), 201)
    fresh = raw_get(server.port, path, {"Accept-Encoding": "identity"})
    assert json.loads(fresh.body)["status"][:3] == "HHA", "a seat change is seen by the next read"


def test_compact_seat_map_has_one_status_char_per_seat(admin: Client, anon: Client, users: UserPool) -> None:
    (user,) = users.take(1)
    venue = create_venue(admin, [grid("Stalls", "premium", 3, 7), grid("Balcony", "standard", 2, 11)])
    event = create_event(admin, venue)
    expect(hold_seats(user.client, event["id"], [2, 3]), 201)
    sold = expect(hold_seats(user.client, event["id"], [40]), 201)
    expect(checkout(user.client, sold["id"]), 201)

    body = expect(anon.get(f"/v1/events/{event['id']}/seats?format=compact"), 200)
    assert body["event_id"] == event["id"]
    assert body["seats_total"] == 43
    status = body["status"]
    assert len(status) == body["seats_total"]
    assert set(status) <= set("AHS")
    assert status == "AA" + "HH" + "A" * 36 + "S" + "AA"
    assert status == "".join(s["status"][0] for s in seat_list(anon, event["id"]))


def test_anonymous_callers_can_read_venues_events_and_seat_maps(admin: Client, anon: Client) -> None:
    venue = create_venue(admin, [grid("Main", "standard", 1, 3)])
    event = create_event(admin, venue)
    expect(anon.get(f"/v1/venues/{venue['id']}"), 200)
    expect(anon.get(f"/v1/events/{event['id']}"), 200)
    expect(anon.get(f"/v1/events/{event['id']}/seats"), 200)
    expect(anon.get(f"/v1/events/{event['id']}/seats?format=compact"), 200)
    expect(anon.get("/v1/events"), 200)
