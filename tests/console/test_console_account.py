"""One's own account and the removal of users, on the real server and both databases: a password
change ends the user's other sessions at once (this one stays); a removed user is signed out at once."""
from __future__ import annotations

import uuid

from consolekit import PASSWORD, ConsoleClient, new_login

NEW_PASSWORD = "a-brand-new-passphrase"


def _change(client: ConsoleClient, current: str, new: str):  # noqa: ANN202
    return client.http.post("/console/account", data={"csrf_token": client.csrf("/console/account"),
                                                      "currentPassword": current, "newPassword": new})


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(platform):
    login = new_login(platform)
    here, elsewhere = ConsoleClient(platform), ConsoleClient(platform)
    try:
        assert here.sign_in(login.email, PASSWORD).status_code == 303
        assert elsewhere.sign_in(login.email, PASSWORD).status_code == 303
        r = _change(here, "not my password", NEW_PASSWORD)
        assert r.status_code == 400 and "Is not your current password" in r.text
        r = _change(here, PASSWORD, "short")
        assert r.status_code == 400 and "At least 10 characters" in r.text
        assert elsewhere.http.get("/console/stores").status_code == 200  # refused changes end nothing

        r = _change(here, PASSWORD, NEW_PASSWORD)
        assert r.status_code == 200 and "1 other session signed out" in r.text
        assert here.http.get("/console/stores").status_code == 200
        gone = elsewhere.http.get("/console/stores")
        assert gone.status_code == 303 and "/console/sign-in" in gone.headers["location"]

        fresh = ConsoleClient(platform)
        assert fresh.sign_in(login.email, PASSWORD).status_code == 401
        assert fresh.sign_in(login.email, NEW_PASSWORD).status_code == 303
        fresh.close()
        entries = platform.http.get("/v1/audit", headers=login.api).json()["entries"]
        assert entries[0]["action"] == "user.passwordChanged" and entries[0]["actor"]["name"] == login.email
        assert PASSWORD not in str(entries) and NEW_PASSWORD not in str(entries)
    finally:
        here.close()
        elsewhere.close()


def test_a_removed_user_is_signed_out_at_once_and_the_last_admin_stays(platform):
    login = new_login(platform)
    email = f"op-{uuid.uuid4().hex[:8]}@example.com"
    r = platform.http.post(f"/v1/admin/retailers/{login.retailer_id}/users", headers=login.api,
                           json={"email": email, "password": PASSWORD, "role": "OPERATOR"})
    assert r.status_code == 201
    user_id = r.json()["userId"]
    listed = platform.http.get(f"/v1/admin/retailers/{login.retailer_id}/users", headers=login.api)
    assert listed.status_code == 200
    assert [set(u) for u in listed.json()["users"]] == [{"userId", "retailerId", "email", "role", "createdAt"}] * 2
    assert "argon2" not in listed.text and PASSWORD not in listed.text
    operator = ConsoleClient(platform)
    try:
        assert operator.sign_in(email, PASSWORD).status_code == 303
        assert operator.http.get("/console/stores").status_code == 200
        assert platform.http.delete(f"/v1/admin/retailers/{login.retailer_id}/users/{user_id}",
                                    headers=login.api).status_code == 204
        gone = operator.http.get("/console/stores")
        assert gone.status_code == 303 and "/console/sign-in" in gone.headers["location"]
        assert operator.sign_in(email, PASSWORD).status_code == 401
    finally:
        operator.close()
    assert platform.http.delete(f"/v1/admin/retailers/{login.retailer_id}/users/{user_id}",
                                headers=login.api).status_code == 404
    admin_id = next(u["userId"] for u in platform.http.get(f"/v1/admin/retailers/{login.retailer_id}/users",
                                                           headers=login.api).json()["users"])
    r = platform.http.delete(f"/v1/admin/retailers/{login.retailer_id}/users/{admin_id}", headers=platform.op)
    assert r.status_code == 409 and "last ADMIN" in r.json()["error"]["message"]
    # Another retailer's users are not found, to list or to remove.
    other = new_login(platform, name="Other")
    assert platform.http.get(f"/v1/admin/retailers/{login.retailer_id}/users", headers=other.api).status_code == 404
    assert platform.http.delete(f"/v1/admin/retailers/{login.retailer_id}/users/{admin_id}",
                                headers=other.api).status_code == 404
    r = platform.http.post(f"/v1/admin/retailers/{login.retailer_id}/users", headers=login.api,
                           json={"email": "r@example.com", "password": PASSWORD, "role": "OWNER"})
    assert r.status_code == 400 and r.json()["error"]["fields"] == ["role"]
