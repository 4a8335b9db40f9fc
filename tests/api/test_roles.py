"""Organizations and roles (docs/console.md, "Organizations and roles"): every organizer route of
docs/api.md against every kind of caller. One organization's organizer manages its venues, events,
bookings and door staff; an organizer of another organization gets 404 (they learn nothing of it); an
account that organizes nothing (a buyer, door staff) gets 403 except where door staff scan; no account
gets 401; the administrator manages everything. Also: an organization that requires two-factor login,
the audit log of an organization, membership rules."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Callable

import pytest

from api_support import (USER_PASSWORD, Client, Server, assert_error, checkout, create_event, create_venue, expect,
                         grid, hold_seats, new_user, unique)

ROLES = ("anonymous", "buyer", "door_staff", "other_organizer", "organizer", "admin")
ALLOWED = ("organizer", "admin")
# What a refused caller gets, when the route is about organization A's things.
REFUSED = {"anonymous": 401, "buyer": 403, "door_staff": 403, "other_organizer": 404}


@dataclass
class World:
    server: Server
    clients: dict[str, Client]
    org_a: dict
    org_b: dict
    venue_a: dict
    event_a: dict
    booking_a: dict
    door: Any  # the door staff User
    fresh_event: Callable[[], dict]


def _organizer(server: Server, name: str):
    user = new_user(server)
    org = expect(user.client.post("/v1/organizations", {"name": name}), 201)
    return user, org


@pytest.fixture(scope="module")
def world(server: Server, admin: Client) -> World:
    organizer_a, org_a = _organizer(server, unique("Promoter A"))
    organizer_b, org_b = _organizer(server, unique("Promoter B"))
    buyer = new_user(server)
    door = new_user(server)
    venue_a = create_venue(organizer_a.client, [grid("Floor", "standard", 4, 10)])
    assert venue_a["organization_id"] == org_a["id"]
    event_a = create_event(organizer_a.client, venue_a)
    assert event_a["organization_id"] == org_a["id"]
    expect(organizer_a.client.post(f"/v1/events/{event_a['id']}/door-staff", {"email": door.email}), 201)
    hold = expect(hold_seats(buyer.client, event_a["id"], [0]), 201)
    booking = expect(checkout(buyer.client, hold["id"]), 201)
    assert booking["status"] == "CONFIRMED"
    clients = {"anonymous": server.client(), "buyer": buyer.client, "door_staff": door.client,
               "other_organizer": organizer_b.client, "organizer": organizer_a.client, "admin": admin}
    return World(server, clients, org_a, org_b, venue_a, event_a, booking, door,
                 lambda: create_event(organizer_a.client, venue_a))


@dataclass
class Case:
    method: str
    path: str  # may name {org}, {event}, {venue}, {booking}, {door}
    body: Any = None
    ok: int = 200
    allowed: tuple[str, ...] = ALLOWED
    refused: dict[str, int] | None = None  # overrides of REFUSED
    # Runs before each allowed call (a fresh target for calls that change it); returns path arguments.
    prepare: Callable[[World], dict] | None = None


def _fresh_member(w: World) -> dict:
    member = new_user(w.server)
    expect(w.clients["organizer"].post(f"/v1/organizations/{w.org_a['id']}/members", {"email": member.email}), 201)
    return {"member": member.id}


def _fresh_staff(w: World) -> dict:
    staff = new_user(w.server)
    expect(w.clients["organizer"].post(f"/v1/events/{w.event_a['id']}/door-staff", {"email": staff.email}), 201)
    return {"staff": staff.id}


def _fresh_event(w: World) -> dict:
    return {"event": w.fresh_event()["id"]}


def _new_member_email(w: World) -> dict:
    return {"email": new_user(w.server).email}


def _scan_body() -> dict:
    return {"code": "not-a-ticket", "gate": "north", "device_id": "phone-1", "scan_id": uuid.uuid4().hex,
            "direction": "in"}


ADMIN_ONLY = {"anonymous": 401, "buyer": 403, "door_staff": 403, "other_organizer": 403, "organizer": 403}

CASES = [
    Case("GET", "/v1/organizations/{org}", refused={"buyer": 403, "door_staff": 403}),
    Case("PATCH", "/v1/organizations/{org}", {"require_totp": False}),
    Case("GET", "/v1/organizations/{org}/members"),
    Case("POST", "/v1/organizations/{org}/members", {"email": "{email}"}, ok=201, prepare=_new_member_email),
    Case("DELETE", "/v1/organizations/{org}/members/{member}", ok=204, prepare=_fresh_member),
    Case("GET", "/v1/organizations/{org}/venues"),
    Case("GET", "/v1/organizations/{org}/events"),
    Case("GET", "/v1/organizations/{org}/audit"),
    Case("GET", "/v1/organizations/{org}/audit.csv"),
    Case("POST", "/v1/venues", {"name": "Hall", "organization_id": "{org}",
                                "sections": [{"name": "S", "price_tier": "t", "rows": [{"label": "A", "seats": 2}]}]},
         ok=201),
    Case("POST", "/v1/events", "EVENT_BODY", ok=201, refused={"other_organizer": 400}),
    Case("PUT", "/v1/events/{event}/waiting-room", {"enabled": False}),
    Case("PATCH", "/v1/events/{event}", {"description": "Doors at seven."}),
    Case("POST", "/v1/events/{event}/duplicate", {"starts_at": "2030-02-01T20:00:00Z",
                                                   "on_sale_at": "2029-02-01T00:00:00Z"}, ok=201),
    Case("POST", "/v1/events/{event}/ticket-keys", {}, ok=201),
    Case("GET", "/v1/events/{event}/door-staff"),
    Case("POST", "/v1/events/{event}/door-staff", {"email": "{email}"}, ok=201, prepare=_new_member_email),
    Case("DELETE", "/v1/events/{event}/door-staff/{staff}", ok=204, prepare=_fresh_staff),
    Case("GET", "/v1/events/{event}/attendees.csv"),
    Case("GET", "/v1/events/{event}/checkins/conflicts", allowed=ALLOWED + ("door_staff",)),
    Case("GET", "/v1/events/{event}/scanner-bundle", allowed=ALLOWED + ("door_staff",)),
    Case("POST", "/v1/events/{event}/checkins", "SCAN", allowed=ALLOWED + ("door_staff",)),
    Case("GET", "/v1/events/{event}/cancellation"),
    Case("GET", "/v1/events/{event}/orders?q=test"),
    Case("GET", "/v1/events/{event}/sales-report"),
    Case("GET", "/v1/events/{event}/sales-report.csv"),
    Case("POST", "/v1/events/{event}/cancel", {"reason": "matrix"}, ok=202, prepare=_fresh_event),
    Case("POST", "/v1/events/{event}/postpone", {"starts_at": "2031-03-01T20:00:00Z"}, prepare=_fresh_event),
    Case("POST", "/v1/bookings/{booking}/resend-confirmation", {}, ok=202),
    Case("POST", "/v1/bookings/{booking}/refund", {}),
    Case("GET", "/v1/admin/audit", allowed=("admin",), refused=ADMIN_ONLY),
    Case("GET", "/v1/admin/audit.csv", allowed=("admin",), refused=ADMIN_ONLY),
    Case("GET", "/v1/admin/notifications", allowed=("admin",), refused=ADMIN_ONLY),
]


def _fill(value: Any, args: dict) -> Any:
    if isinstance(value, str):
        if value.startswith("{") and value.endswith("}") and value[1:-1] in args and value.count("{") == 1:
            return args[value[1:-1]]
        return value.format(**args)
    if isinstance(value, dict):
        return {k: _fill(v, args) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, args) for v in value]
    return value


def _call(w: World, role: str, case: Case, extra: dict) -> Any:
    args = {"org": w.org_a["id"], "event": w.event_a["id"], "venue": w.venue_a["id"], "booking": w.booking_a["id"],
            "member": 0, "staff": w.door.id, "email": "nobody@example.com", **extra}
    body = case.body
    if body == "EVENT_BODY":
        body = {"name": unique("Matrix"), "venue_id": w.venue_a["id"], "starts_at": "2030-01-01T20:00:00Z",
                "on_sale_at": "2029-01-01T00:00:00Z", "currency": "EUR", "prices": {"standard": 1000}}
    elif body == "SCAN":
        body = _scan_body()
    else:
        body = _fill(body, args)
    path = case.path.format(**args)
    kw = {} if body is None else {"body": body}
    return w.clients[role].request(case.method, path, **kw)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method} {c.path}")
def test_every_route_answers_every_role_as_documented(world: World, case: Case) -> None:
    refused = dict(REFUSED, **(case.refused or {}))
    # Refused callers first: they must not change anything the allowed ones then act on.
    for role in ROLES:
        if role in case.allowed:
            continue
        resp = _call(world, role, case, {"member": world.door.id})
        expected = refused[role]
        assert resp.status == expected, f"{role}: {case.method} {case.path} -> {resp.status} {resp.body!r}"
    for role in case.allowed:
        extra = case.prepare(world) if case.prepare else {}
        resp = _call(world, role, case, extra)
        assert resp.status == case.ok, f"{role}: {case.method} {case.path} -> {resp.status} {resp.body!r}"


def test_an_organizer_never_reaches_the_platforms_or_another_organizations_event(world: World, admin: Client) -> None:
    platform_event = create_event(admin, create_venue(admin, [grid("P", "standard", 1, 4)]))
    assert platform_event["organization_id"] == 0
    organizer = world.clients["organizer"]
    for path in (f"/v1/events/{platform_event['id']}/attendees.csv", f"/v1/events/{platform_event['id']}/cancellation",
                 f"/v1/organizations/{world.org_b['id']}", f"/v1/organizations/{world.org_b['id']}/events",
                 "/v1/events/999999999/attendees.csv"):
        assert_error(organizer.get(path), 404, "not_found")
    # Public things stay public: the catalogue shows every organization's events to everyone.
    expect(world.clients["other_organizer"].get(f"/v1/events/{world.event_a['id']}"), 200)
    expect(world.clients["anonymous"].get(f"/v1/venues/{world.venue_a['id']}"), 200)


def test_me_lists_the_organizations_and_a_buyer_has_none(world: World) -> None:
    me = expect(world.clients["organizer"].get("/v1/me"), 200)
    assert [o["id"] for o in me["organizations"]] == [world.org_a["id"]]
    assert expect(world.clients["buyer"].get("/v1/me"), 200)["organizations"] == []
    listed = expect(world.clients["organizer"].get("/v1/organizations"), 200)["organizations"]
    assert [o["id"] for o in listed] == [world.org_a["id"]]
    every = expect(world.clients["admin"].get("/v1/organizations"), 200)["organizations"]
    assert {world.org_a["id"], world.org_b["id"]} <= {o["id"] for o in every}


def test_the_organization_audit_log_holds_its_own_actions_only(world: World) -> None:
    organizer = world.clients["organizer"]
    expect(organizer.request("PATCH", f"/v1/organizations/{world.org_a['id']}", body={"name": world.org_a["name"]}), 200)
    mine = expect(organizer.get(f"/v1/organizations/{world.org_a['id']}/audit?limit=500"), 200)["entries"]
    assert mine and all(e["organization_id"] == world.org_a["id"] for e in mine)
    patched = [e for e in mine if e["action"] == "PATCH /v1/organizations/{id}"]
    assert patched and patched[-1]["before"]["id"] == world.org_a["id"] and patched[-1]["result"]["name"]
    assert any(e["action"] == "POST /v1/events" for e in mine)
    csv_text = expect(organizer.get(f"/v1/organizations/{world.org_a['id']}/audit.csv"), 200)
    lines = csv_text.strip().split("\r\n")
    assert lines[0].startswith("id,at,actor_id,actor_email,action,target,status,organization_id,before")
    assert len(lines) == len(mine) + 1 and all(f",{world.org_a['id']}," in line for line in lines[1:])
    theirs = expect(world.clients["other_organizer"].get(f"/v1/organizations/{world.org_b['id']}/audit"), 200)["entries"]
    assert all(e["organization_id"] == world.org_b["id"] for e in theirs)
    assert not any(e["target"].startswith(f"/v1/organizations/{world.org_a['id']}") for e in theirs)


def test_membership_rules(server: Server, world: World) -> None:
    organizer = world.clients["organizer"]
    org = world.org_a["id"]
    member = new_user(server)
    expect(organizer.post(f"/v1/organizations/{org}/members", {"email": member.email}), 201)
    assert_error(organizer.post(f"/v1/organizations/{org}/members", {"email": member.email}), 409, "already_member")
    assert_error(organizer.post(f"/v1/organizations/{org}/members", {"email": "no-such-person@example.com"}), 404)
    # The new member manages at once; removed, they manage nothing.
    expect(member.client.get(f"/v1/events/{world.event_a['id']}/door-staff"), 200)
    expect(organizer.delete(f"/v1/organizations/{org}/members/{member.id}"), 204)
    assert_error(member.client.get(f"/v1/events/{world.event_a['id']}/door-staff"), 403, "forbidden")
    # The last member stays: an organization is never left with no one to run it.
    solo, solo_org = _organizer(server, unique("Solo"))
    assert_error(solo.client.delete(f"/v1/organizations/{solo_org['id']}/members/{solo.id}"), 409, "last_member")
    # Starting organizations is open, and bounded per account.
    for i in range(2):
        expect(solo.client.post("/v1/organizations", {"name": f"More {i}"}), 201)
    assert_error(solo.client.post("/v1/organizations", {"name": "One too many"}), 409, "limit_reached")
    assert_error(solo.client.post("/v1/organizations", {"name": ""}), 400, "invalid_request")
    assert_error(solo.client.post("/v1/organizations", {"name": "x", "first_member_email": member.email}), 400)


def test_an_organization_can_require_two_factor_login(server: Server, world: World) -> None:
    from test_two_factor import _code, _now_step  # RFC 6238, computed by the test

    organizer, org = _organizer(server, unique("Strict"))
    venue = create_venue(organizer.client, [grid("S", "standard", 1, 4)])
    event = create_event(organizer.client, venue)
    expect(organizer.client.request("PATCH", f"/v1/organizations/{org['id']}", body={"require_totp": True}), 200)
    refused = assert_error(organizer.client.get(f"/v1/events/{event['id']}/attendees.csv"), 403, "two_factor_required")
    assert "two-factor" in refused["message"]
    # Turning it on lets them in again; the organization's setting cannot be lifted without it.
    assert_error(organizer.client.request("PATCH", f"/v1/organizations/{org['id']}", body={"require_totp": False}),
                 403, "two_factor_required")
    secret = expect(organizer.client.post("/v1/users/me/totp", {}), 201)["secret"]
    expect(organizer.client.post("/v1/users/me/totp/confirm", {"code": _code(secret, _now_step())}), 200)
    expect(organizer.client.get(f"/v1/events/{event['id']}/attendees.csv"), 200)
    # The administrator is not held back by an organization's rule.
    expect(world.clients["admin"].get(f"/v1/events/{event['id']}/attendees.csv"), 200)
