"""A retailer's console users: add one with a role, list them, remove one (DESIGN 15).

Why a retailer keeps at least one ADMIN: the admins are who can add and remove users, so a
retailer whose last admin is removed could no longer manage its own access without the operator.
Removing the last ADMIN is refused (409), whoever asks; the check and the removal are one
transaction under a lock on the retailer, so two admins removing each other at once cannot
both succeed.
"""
from __future__ import annotations

import re

from entrygate.domain.audit import Target
from entrygate.domain.cards import new_id
from entrygate.domain.records import RetailerUser
from entrygate.domain.roles import ConsoleRole
from entrygate.domain.views import user_view
from entrygate.services.admin import audit
from entrygate.services.auth import Principal
from entrygate.services.errors import Conflict, InvalidRequest, NotFound
from entrygate.services.ports.clock import Clock
from entrygate.services.ports.security import PasswordHasher
from entrygate.services.ports.storage import AlreadyExists, UnitOfWorkFactory

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 10


def check_password(password: str, *, field: str = "password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidRequest(f"{field}: at least {MIN_PASSWORD_LENGTH} characters", fields=[field])


class UserAdmin:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, passwords: PasswordHasher) -> None:
        self._uow = uow
        self._clock = clock
        self._passwords = passwords

    def create(self, principal: Principal, retailer_id: str, *, email: str, password: str,
               role: ConsoleRole = ConsoleRole.ADMIN) -> RetailerUser:
        """A new console login of ``retailer_id`` (``Forbidden`` for another retailer's key)."""
        principal.require_retailer_scope(retailer_id)
        email = email.strip().lower()
        if not _EMAIL.match(email):
            raise InvalidRequest("email: not an email address", fields=["email"])
        check_password(password)
        now = self._clock.now()
        user = RetailerUser(new_id("usr", length=16), retailer_id, email, self._passwords.hash(password), role, now)
        with self._uow(write=True) as uow:
            if uow.retailers.get(retailer_id) is None:
                raise NotFound(f"retailer {retailer_id} not found")
            try:
                uow.retailers.add_user(user, at=now)
            except AlreadyExists:
                raise Conflict(f"a user with email {email} exists already", fields=["email"]) from None
            audit.record(uow, principal, "user.added", Target("user", user.user_id), retailer_id=retailer_id,
                         after=user_view(user), at=now)
            uow.commit()
        return user

    def list(self, principal: Principal, retailer_id: str) -> list[RetailerUser]:
        """The retailer's users (another retailer's are not found)."""
        principal.require_scope(retailer_id, otherwise=NotFound(f"retailer {retailer_id} not found"))
        with self._uow() as uow:
            if uow.retailers.get(retailer_id) is None:
                raise NotFound(f"retailer {retailer_id} not found")
            return uow.users.list(retailer_id)

    def remove(self, principal: Principal, retailer_id: str, user_id: str) -> RetailerUser:
        """Remove a user and end its sessions at once; the retailer's last ADMIN stays (``Conflict``)."""
        principal.require_scope(retailer_id, otherwise=NotFound(f"retailer {retailer_id} not found"))
        now = self._clock.now()
        with self._uow(write=True) as uow:
            uow.users.lock_retailer(retailer_id)
            user = uow.users.get(user_id)
            if user is None or user.retailer_id != retailer_id:
                raise NotFound(f"user {user_id} not found")
            if user.role is ConsoleRole.ADMIN and uow.users.count_role(retailer_id, ConsoleRole.ADMIN) <= 1:
                raise Conflict("this is the retailer's last ADMIN: add another ADMIN before removing this one")
            uow.users.delete(user_id)
            audit.record(uow, principal, "user.removed", Target("user", user_id), retailer_id=retailer_id,
                         before=user_view(user), at=now)
            uow.commit()
        return user
