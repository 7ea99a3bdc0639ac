"""``UserRepository``: a retailer's console users, their roles, removal and passwords."""
from __future__ import annotations

import uuid
from dataclasses import replace

from entrygate.domain.records import RetailerUser
from entrygate.domain.roles import ConsoleRole
from support.contracts import T0, new_id, retailer


def add_user(storage, retailer_id: str, role: ConsoleRole) -> RetailerUser:  # noqa: ANN001
    who = RetailerUser(new_id("usr"), retailer_id, f"{uuid.uuid4().hex[:10]}@example.com", "plain:x", role, T0)
    with storage(write=True) as u:
        u.retailers.add_user(who, at=T0)
        u.commit()
    return who


def test_users_read_back_with_their_role_and_never_another_retailers(storage):
    r, other = retailer(storage), retailer(storage)
    admin, viewer = add_user(storage, r, ConsoleRole.ADMIN), add_user(storage, r, ConsoleRole.VIEWER)
    add_user(storage, other, ConsoleRole.ADMIN)
    with storage() as u:
        assert u.users.get(viewer.user_id) == viewer
        assert u.retailers.get_user_by_email(admin.email) == admin
        assert sorted(x.user_id for x in u.users.list(r)) == sorted([admin.user_id, viewer.user_id])
        assert u.users.count_role(r, ConsoleRole.ADMIN) == 1
        assert u.users.count_role(r, ConsoleRole.OPERATOR) == 0
        assert u.users.get("usr_unknown") is None


def test_a_removed_user_is_gone_once_committed_and_stays_when_not(storage):
    r = retailer(storage)
    who = add_user(storage, r, ConsoleRole.OPERATOR)
    with storage(write=True) as u:
        assert u.users.delete(who.user_id) is True
    with storage() as u:
        assert u.users.get(who.user_id) == who  # rolled back
    with storage(write=True) as u:
        u.users.lock_retailer(r)
        assert u.users.delete(who.user_id) is True
        u.commit()
    with storage(write=True) as u:
        assert u.users.get(who.user_id) is None
        assert u.retailers.get_user_by_email(who.email) is None
        assert u.users.delete(who.user_id) is False


def test_a_new_password_hash_is_stored(storage):
    r = retailer(storage)
    who = add_user(storage, r, ConsoleRole.ADMIN)
    with storage(write=True) as u:
        u.users.set_password(who.user_id, "plain:new")
        u.commit()
    with storage() as u:
        assert u.users.get(who.user_id) == replace(who, password_hash="plain:new")
