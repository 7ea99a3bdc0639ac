"""Console roles on the real server, on SQLite and PostgreSQL: a viewer changes nothing (403 on every
form that changes something, found from the routes themselves), an operator runs stores but manages
no users, an admin manages users; and every change made in the console is in the audit log."""
from __future__ import annotations

import importlib
import pkgutil
import re
import uuid

import httpx
import pytest

import entrygate.console
from consolekit import PASSWORD, ConsoleClient, csrf_of, new_login, setup_form, tap
from entrygate.domain.roles import ConsoleRole


class _Route:
    def __init__(self, route) -> None:  # noqa: ANN001
        self.path, self.methods, self.endpoint = route.path, route.methods, route.endpoint


def console_changing_routes() -> list[_Route]:
    """Every console route that is not a read, from every module of the console package."""
    found = []
    for info in pkgutil.iter_modules(entrygate.console.__path__):
        router = getattr(importlib.import_module(f"entrygate.console.{info.name}"), "router", None)
        for route in getattr(router, "routes", []):
            if route.path.startswith("/console") and set(route.methods) - {"GET", "HEAD"}:
                found.append(_Route(route))
    return found


def declared(route: _Route) -> ConsoleRole | None:
    return getattr(route.endpoint, "__console_role__", None)


@pytest.fixture(scope="module")
def team(platform):
    """A retailer with a store, a gate, an open trip, and a signed-in admin, operator and viewer."""
    admin = new_login(platform, name="Role Retailer")
    store = platform.store(retailer=(admin.retailer_id, admin.retailer_key))
    trip_id = tap(platform, store)
    clients = {"ADMIN": ConsoleClient(platform)}
    assert clients["ADMIN"].sign_in(admin.email, admin.password).status_code == 303
    users = {"ADMIN": admin.email}
    for role in ("OPERATOR", "VIEWER"):
        email = f"{role.lower()}-{uuid.uuid4().hex[:8]}@example.com"
        r = platform.http.post(f"/v1/admin/retailers/{admin.retailer_id}/users", headers=admin.api,
                               json={"email": email, "password": PASSWORD, "role": role})
        assert r.status_code == 201 and r.json()["role"] == role, r.text
        clients[role] = ConsoleClient(platform)
        assert clients[role].sign_in(email, PASSWORD).status_code == 303
        users[role] = email
    listed = platform.http.get(f"/v1/admin/retailers/{admin.retailer_id}/users", headers=admin.api).json()["users"]
    ids = {u["email"]: u["userId"] for u in listed}
    yield {"admin": admin, "store": store, "trip": trip_id, "clients": clients, "emails": users,
           "ids": {role: ids[email] for role, email in users.items()}}
    for c in clients.values():
        c.close()


def _filled(path: str, team: dict) -> str:
    values = {"store_id": team["store"].store_id, "gate_id": "lane-1", "trip_id": team["trip"], "name": "identity",
              "user_id": team["ids"]["ADMIN"]}
    # Ids of things the viewer's team does not have: refused before they are looked up, as every other form.
    made_up = {"key_id": "gk_none", "list_path": "block", "item_id": "item_none", "review_id": "rev_none",
               "endpoint_id": "we_none", "delivery_id": "1"}
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1)) or made_up[m.group(1)], path)


def _state(platform, team: dict) -> dict:  # noqa: ANN001
    api, store = team["admin"].api, team["store"]
    return {"store": platform.http.get(f"/v1/admin/stores/{store.store_id}", headers=api).json(),
            "gates": platform.http.get(f"/v1/admin/stores/{store.store_id}/gates", headers=api).json(),
            "users": platform.http.get(f"/v1/admin/retailers/{team['admin'].retailer_id}/users", headers=api).json(),
            "trip": platform.http.get(f"/v1/trips/{team['trip']}", headers=api).json(),
            "audit": platform.http.get("/v1/audit", headers=api).json(),
            "decisions": platform.http.get(f"/v1/stores/{store.store_id}/decisions", headers=api).json()}


def test_the_routes_that_anyone_may_post_are_a_short_explicit_list():
    anyone = sorted(r.path for r in console_changing_routes() if declared(r) is ConsoleRole.VIEWER)
    assert anyone == ["/console/account", "/console/sign-out", "/console/stores/{store_id}/qr-test"]
    admins = sorted(r.path for r in console_changing_routes() if declared(r) is ConsoleRole.ADMIN)
    assert {"/console/users", "/console/users/{user_id}/remove"} <= set(admins)  # and key management, where it is


def test_a_viewer_is_refused_every_form_that_changes_something_and_nothing_changes(platform, team):
    viewer: httpx.Client = team["clients"]["VIEWER"].http
    csrf = team["clients"]["VIEWER"].csrf()
    before = _state(platform, team)
    refused = []
    for route in console_changing_routes():
        if route.path == "/console/sign-in" or declared(route) is ConsoleRole.VIEWER:
            continue
        path = _filled(route.path, team)
        form = setup_form(before["store"], name="Changed by a viewer") | {"csrf_token": csrf, "gateId": "new-lane",
                                                                          "email": "x@example.com",
                                                                          "password": PASSWORD, "role": "ADMIN"}
        r = viewer.post(path, data=form)
        assert r.status_code == 403, (path, r.status_code, r.text[:300])
        assert "does not allow this" in r.text
        refused.append(route.path)
    assert len(refused) >= 11  # stores, setup, gates, gate on/off, simulate, connector test, 3 trip forms, 2 user forms
    assert _state(platform, team) == before
    # What a viewer may do: read every page, test a QR value.
    store_id = team["store"].store_id
    for path in ("/console/stores", f"/console/stores/{store_id}", f"/console/stores/{store_id}/setup",
                 f"/console/stores/{store_id}/trips", f"/console/stores/{store_id}/trips/{team['trip']}",
                 f"/console/stores/{store_id}/dashboard", f"/console/stores/{store_id}/live",
                 f"/console/stores/{store_id}/balances", "/console/audit", "/console/users", "/console/account"):
        assert viewer.get(path).status_code == 200, path
    overview = viewer.get(f"/console/stores/{store_id}").text
    assert "read-only access" in overview
    assert ">Add gate</button>" not in overview and ">Run simulated entry</button>" not in overview
    assert ">Capture</button>" not in viewer.get(f"/console/stores/{store_id}/trips/{team['trip']}").text
    r = viewer.post(f"/console/stores/{store_id}/qr-test", data={"csrf_token": csrf, "qrPattern": "^A",
                                                                 "qrTestValue": "ABC"})
    assert r.status_code == 200 and "would pass this code" in r.text
    # And change its own password (the last thing here: it writes to the log).
    r = viewer.post("/console/account", data={"csrf_token": csrf, "currentPassword": PASSWORD,
                                              "newPassword": "the-viewers-new-passphrase"})
    assert r.status_code == 200 and "Your password is changed" in r.text


def test_an_operator_runs_stores_but_manages_no_users(platform, team):
    operator: httpx.Client = team["clients"]["OPERATOR"].http
    csrf = team["clients"]["OPERATOR"].csrf()
    users_before = _state(platform, team)["users"]
    r = operator.post("/console/users", data={"csrf_token": csrf, "email": "new@example.com", "password": PASSWORD,
                                              "role": "ADMIN"})
    assert r.status_code == 403 and "it needs admin" in r.text
    r = operator.post(f"/console/users/{team['ids']['VIEWER']}/remove", data={"csrf_token": csrf})
    assert r.status_code == 403
    assert _state(platform, team)["users"] == users_before
    page = operator.get("/console/users").text
    assert "Add a user" not in page and "/remove" not in page  # no forms it may not send

    store_id = team["store"].store_id
    store = platform.http.get(f"/v1/admin/stores/{store_id}", headers=team["admin"].api).json()
    r = operator.post(f"/console/stores/{store_id}/setup",
                      data=setup_form(store, name="Run by the operator") | {"csrf_token": csrf})
    assert r.status_code == 303, r.text[:500]
    r = operator.post(f"/console/stores/{store_id}/gates", data={"csrf_token": csrf, "gateId": "lane-op",
                                                                 "direction": "EXIT"})
    assert r.status_code == 201
    entries = platform.http.get("/v1/audit", params={"storeId": store_id}, headers=team["admin"].api).json()["entries"]
    by_operator = {"type": "CONSOLE_USER", "id": team["ids"]["OPERATOR"], "name": team["emails"]["OPERATOR"]}
    gate, setup = entries[0], entries[1]
    assert (gate["action"], gate["actor"], gate["after"]["direction"]) == ("gate.created", by_operator, "EXIT")
    assert (setup["action"], setup["actor"]) == ("store.updated", by_operator)
    assert (setup["before"]["name"], setup["after"]["name"]) == (store["name"], "Run by the operator")
    # The console's audit page shows it, filtered by store and date.
    page = operator.get("/console/audit", params={"store": store_id, "since": setup["at"][:10]})
    assert page.status_code == 200 and "store.updated" in page.text and team["emails"]["OPERATOR"] in page.text
    assert "Run by the operator" in page.text
    assert operator.get("/console/audit", params={"since": "not a date"}).status_code == 400
    assert "No changes" in operator.get("/console/audit", params={"store": store_id, "since": "2999-01-01"}).text


def test_an_admin_adds_and_removes_users_in_the_console_and_the_log_says_so(platform, team):
    admin: httpx.Client = team["clients"]["ADMIN"].http
    csrf = team["clients"]["ADMIN"].csrf("/console/users")
    email = f"added-{uuid.uuid4().hex[:8]}@example.com"
    r = admin.post("/console/users", data={"csrf_token": csrf, "email": email, "password": PASSWORD, "role": "VIEWER"})
    assert r.status_code == 201 and f"{email} can sign in now" in r.text
    listed = platform.http.get(f"/v1/admin/retailers/{team['admin'].retailer_id}/users",
                               headers=team["admin"].api).json()["users"]
    added = next(u for u in listed if u["email"] == email)
    assert added["role"] == "VIEWER"
    assert admin.post("/console/users", data={"csrf_token": csrf, "email": email, "password": PASSWORD,
                                              "role": "VIEWER"}).status_code == 400  # taken
    r = admin.post(f"/console/users/{added['userId']}/remove", data={"csrf_token": csrf})
    assert r.status_code == 200 and f"{email} is removed" in r.text
    entries = platform.http.get("/v1/audit", headers=team["admin"].api).json()["entries"]
    by_admin = {"type": "CONSOLE_USER", "id": team["ids"]["ADMIN"], "name": team["emails"]["ADMIN"]}
    assert [(e["action"], e["actor"], e["target"]["id"]) for e in entries[:2]] == [
        ("user.removed", by_admin, added["userId"]), ("user.added", by_admin, added["userId"])]
    assert entries[0]["before"]["email"] == email and entries[0]["after"] is None
    # The retailer's only admin stays.
    r = admin.post(f"/console/users/{team['ids']['ADMIN']}/remove", data={"csrf_token": csrf})
    assert r.status_code == 409 and "last ADMIN" in r.text
    assert csrf_of(admin.get("/console/users").text)  # still signed in
