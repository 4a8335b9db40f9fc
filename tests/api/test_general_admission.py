"""General-admission areas (docs/console.md, "General admission"): a section with a capacity instead
of numbered seats. Buyers hold a quantity; the same rules hold as for seats (all or nothing, never more
than the capacity, the per-user limit, expiry); tickets name the area, not a seat."""

from __future__ import annotations

from api_support import (Client, Server, assert_error, checkout, create_event, expect, grid, new_user, new_users,
                         unique, hold_best, compact_status)


def _concert(admin: Client, capacity: int) -> tuple[dict, dict]:
    venue = expect(admin.post("/v1/venues", {"name": unique("Club"), "sections": [
        {"name": "Standing floor", "price_tier": "floor", "general_admission": True, "capacity": capacity},
        grid("Balcony", "balcony", 2, 5)]}), 201)
    shown = expect(admin.get(f"/v1/venues/{venue['id']}"), 200)
    event = create_event(admin, dict(venue, layout=[{"price_tier": "floor"}, {"price_tier": "balcony"}]),
                         prices={"floor": 3500, "balcony": 6000}, max_tickets_per_user=6)
    return shown, event


def test_an_area_is_a_capacity_and_buyers_hold_a_quantity(server: Server, admin: Client, anon: Client) -> None:
    venue, event = _concert(admin, 2500)
    floor = venue["sections"][0]
    assert floor["general_admission"] is True and floor["capacity"] == 2500 and venue["seats_total"] == 2510
    assert sum(r["seats"] for r in floor["rows"]) == 2500  # places, kept as rows of at most 1,000
    buyer = new_user(server)
    hold = expect(hold_best(buyer.client, event["id"], 3, "Standing floor"), 201)
    assert hold["total_amount"] == 3 * 3500
    booking = expect(checkout(buyer.client, hold["id"]), 201)
    tickets = expect(buyer.client.get(f"/v1/bookings/{booking['id']}/tickets"), 200)["tickets"]
    assert [(t["section"], t["row"], t["seat_number"], t["general_admission"]) for t in tickets] == \
        [("Standing floor", "", 0, True)] * 3
    # The per-user limit counts places as it counts seats.
    assert_error(hold_best(buyer.client, event["id"], 4, "Standing floor"), 409, "ticket_limit_exceeded")
    assert compact_status(anon, event["id"])[:2500].count("S") == 3


def test_an_area_never_sells_more_than_its_capacity(server: Server, admin: Client, anon: Client) -> None:
    venue, event = _concert(admin, 10)
    buyers = new_users(server, 3)
    for b in buyers[:2]:
        expect(hold_best(b.client, event["id"], 4, "Standing floor"), 201)
    # 2 places left: a party of 3 is refused whole, a pair fits; then the area is full.
    assert_error(hold_best(buyers[2].client, event["id"], 3, "Standing floor"), 409, "insufficient_seats")
    expect(hold_best(buyers[2].client, event["id"], 2, "Standing floor"), 201)
    assert_error(hold_best(new_user(server).client, event["id"], 1, "Standing floor"), 409, "insufficient_seats")
    assert compact_status(anon, event["id"])[:10] == "H" * 10


def test_bad_areas_are_refused(admin: Client) -> None:
    def post(section):
        return admin.post("/v1/venues", {"name": unique("Bad"), "sections": [section]})

    for section, words in [
        ({"name": "F", "price_tier": "t", "general_admission": True}, "capacity"),
        ({"name": "F", "price_tier": "t", "general_admission": True, "capacity": 0}, "capacity"),
        ({"name": "F", "price_tier": "t", "general_admission": True, "capacity": 200_001}, "capacity"),
        ({"name": "F", "price_tier": "t", "general_admission": True, "capacity": 5,
          "rows": [{"label": "A", "seats": 5}]}, "not rows"),
        ({"name": "F", "price_tier": "t", "general_admission": "yes", "capacity": 5}, "true or false"),
    ]:
        error = assert_error(post(section), 400, "invalid_request")
        assert words in error["message"], (section, error)
