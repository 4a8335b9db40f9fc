"""Venue geometry (docs/console.md, "Venue geometry"): sections placed on a plane (position, rotation,
straight or curved rows, spacing) and a stage, validated, stored exactly and served with the layout."""

from __future__ import annotations

from api_support import Client, assert_error, expect, grid, unique


def _curved(name: str, x: float, rotation: float) -> dict:
    return dict(grid(name, "standard", 5, 12),
                geometry={"x": x, "y": 8.5, "rotation_deg": rotation, "curve_deg": 40, "seat_spacing": 1.1,
                          "row_spacing": 1.4})


def test_a_placed_venue_is_served_as_it_was_designed(admin: Client, anon: Client) -> None:
    sections = [_curved("Left", -9.25, -20), _curved("Right", 9.25, 20)]
    stage = {"x": 0, "y": -4, "width": 16, "height": 5, "label": "Stage"}
    venue = expect(admin.post("/v1/venues", {"name": unique("Arena"), "sections": sections, "stage": stage}), 201)
    got = expect(anon.get(f"/v1/venues/{venue['id']}"), 200)
    assert got["stage"] == stage
    assert [s["geometry"] for s in got["sections"]] == [s["geometry"] for s in sections]
    # Hundredths are kept exactly; finer input is rounded once, on the way in.
    fine = [dict(grid("Only", "standard", 1, 3), geometry={"x": 1.234, "y": 0})]
    fine_venue = expect(admin.post("/v1/venues", {"name": unique("Fine"), "sections": fine}), 201)
    geometry = expect(anon.get(f"/v1/venues/{fine_venue['id']}"), 200)["sections"][0]["geometry"]
    assert geometry == {"x": 1.23, "y": 0, "rotation_deg": 0, "curve_deg": 0, "seat_spacing": 1, "row_spacing": 1}


def test_a_venue_without_geometry_says_none(admin: Client, anon: Client) -> None:
    venue = expect(admin.post("/v1/venues", {"name": unique("Plain"), "sections": [grid("A", "standard", 1, 2)]}), 201)
    got = expect(anon.get(f"/v1/venues/{venue['id']}"), 200)
    assert "stage" not in got and "geometry" not in got["sections"][0]


def test_bad_geometry_is_refused_naming_the_field(admin: Client) -> None:
    def post(sections, **extra):
        return admin.post("/v1/venues", {"name": unique("Bad"), "sections": sections, **extra})

    placed = _curved("P", 0, 0)
    cases = [
        ([placed, grid("Q", "standard", 1, 2)], {}, "every section has one"),
        ([dict(placed, geometry=dict(placed["geometry"], curve_deg=190))], {}, "curve_deg"),
        ([dict(placed, geometry=dict(placed["geometry"], rotation_deg=400))], {}, "rotation_deg"),
        ([dict(placed, geometry=dict(placed["geometry"], seat_spacing=0.1))], {}, "seat_spacing"),
        ([dict(placed, geometry=dict(placed["geometry"], x=20000))], {}, "x and y"),
        ([dict(placed, geometry=dict(placed["geometry"], x="left"))], {}, "a number"),
        ([dict(placed, geometry=dict(placed["geometry"], z=1))], {}, "unknown field"),
        ([dict(placed, geometry=[1, 2])], {}, "an object"),
        ([placed], {"stage": {"x": 0, "y": 0, "width": 0, "height": 3}}, "width and height"),
        ([placed], {"stage": "front"}, "stage"),
    ]
    for sections, extra, words in cases:
        error = assert_error(post(sections, **extra), 400, "invalid_request")
        assert words in error["message"], (words, error)


def test_a_damaged_stored_layout_is_not_served_and_the_server_stays_up(tmp_path) -> None:
    """No stored row reaches an assertion: a venue whose rows were damaged on disk reads as missing (404)
    and the log says why; everything else goes on."""
    import sqlite3

    import pytest

    from api_support import Server, admin_client, backend_is_embedded, create_event, new_user

    if not backend_is_embedded():
        pytest.skip("damages the embedded store's file")
    server = Server(tmp_path / "data", hold_ttl_s=600, log_path=tmp_path / "server.log")
    server.start()
    try:
        admin = admin_client(server)
        damaged = expect(admin.post("/v1/venues", {"name": unique("Arena"), "sections": [_curved("L", 0, 0)]}), 201)
        event = create_event(admin, dict(damaged, layout=[{"price_tier": "standard"}]))
        fine = expect(admin.post("/v1/venues", {"name": unique("Fine"), "sections": [grid("A", "standard", 1, 2)]}), 201)
        server.stop()
        db = sqlite3.connect(tmp_path / "data" / "ticketd.db")
        db.execute("UPDATE venue_section_shapes SET curve_c = 999999 WHERE venue_id = ?", (damaged["id"],))
        db.execute("UPDATE venue_rows SET accessible = '1,x,,99999999999' WHERE venue_id = ?", (fine["id"],))
        db.commit()
        db.close()
        server.start()
        anon = server.client()
        assert_error(anon.get(f"/v1/venues/{damaged['id']}"), 404, "not_found")
        buyer = new_user(server)
        hold = buyer.client.post(f"/v1/events/{event['id']}/holds", {"quantity": 1})
        assert 400 <= hold.status < 500, hold  # a clear refusal, not a crash or a 500
        assert expect(anon.get(f"/v1/venues/{fine['id']}"), 200)["sections"][0]["rows"][0]["accessible"] == [1]
        expect(anon.get("/healthz"), 200)
        assert "stored layout is damaged" in server.log_tail(200)
    finally:
        server.stop()
