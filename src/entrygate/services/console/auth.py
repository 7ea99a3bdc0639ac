"""Console sign-in: retailer users, their sessions, and a backoff on repeated wrong passwords.

A session is a random id held by the browser (in a signed cookie, see ``console/session.py``) and,
hashed, in the database, so signing out ends it everywhere and any process can check it.

Why a backoff and not a lock-out: a hard lock after N failures lets anyone lock a retailer out of
its console by typing wrong passwords for it. A delay that doubles with each failure, counted per
email *and* client address, costs a guesser from one address exponentially more time while the
real user elsewhere signs in as usual (OWASP Authentication Cheat Sheet, "Protect against
automated attacks"; NIST SP 800-63B section 5.2.2, rate limiting). The counter lives in the
database so that several processes behind a load balancer share it.

    ServiceError
    └── NotAuthenticated
        ├── SignInFailed        wrong email or password (which one is never said)
        └── SignInThrottled     too many recent failures from this client for this email
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from entrygate.domain.audit import Actor, ActorType, Target
from entrygate.domain.keys import KeyKind
from entrygate.domain.roles import ConsoleRole
from entrygate.domain.views import user_view
from entrygate.services.admin import audit
from entrygate.services.admin.users import check_password
from entrygate.services.auth import Principal
from entrygate.services.errors import InvalidRequest, NotAuthenticated
from entrygate.services.ports.clock import Clock
from entrygate.services.ports.console import ConsoleSession, SessionStore, SignInFailureStore
from entrygate.services.ports.security import PasswordHasher
from entrygate.services.ports.storage import UnitOfWorkFactory

SESSION_LIFETIME = timedelta(hours=12)
FREE_FAILURES = 3            # typos happen: the first three failures cost nothing
MAX_LOCK_SECONDS = 15 * 60   # the delay doubles up to this
FORGET_FAILURES_AFTER = timedelta(hours=24)


def lockout_seconds(failures: int) -> float:
    """How long sign-in stays closed after the ``failures``-th consecutive failure: 1 s, 2 s, 4 s … 15 min."""
    if failures < FREE_FAILURES:
        return 0.0
    return float(min(2 ** (failures - FREE_FAILURES), MAX_LOCK_SECONDS))


class SignInFailed(NotAuthenticated):
    """The email is unknown or the password does not match."""


class SignInThrottled(NotAuthenticated):
    """Sign-in is closed for a while for this email from this client."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"Too many failed sign-ins. Wait {retry_after_s} seconds and try again.")
        self.retry_after_s = retry_after_s


@dataclass(frozen=True, slots=True)
class ConsoleUser:
    user_id: str
    retailer_id: str
    email: str
    role: ConsoleRole = ConsoleRole.ADMIN  # what the console lets it do (console/roles.py checks it)

    @property
    def principal(self) -> Principal:
        """A console user acts with the scope of its retailer's API key, and is named as itself in the audit log."""
        return Principal(KeyKind.RETAILER, retailer_id=self.retailer_id,
                         actor=Actor(ActorType.CONSOLE_USER, self.user_id, self.email))


@dataclass(frozen=True, slots=True)
class SignedIn:
    session_id: str  # the plaintext the browser keeps; only its hash is stored
    user: ConsoleUser
    expires_at: datetime


def session_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def throttle_key(email: str, client: str) -> str:
    return hashlib.sha256(f"{email}\n{client}".encode()).hexdigest()


class ConsoleAuthService:
    def __init__(self, *, uow: UnitOfWorkFactory, clock: Clock, passwords: PasswordHasher,
                 sessions: SessionStore, failures: SignInFailureStore) -> None:
        self._uow = uow
        self._clock = clock
        self._passwords = passwords
        self._sessions = sessions
        self._failures = failures
        self._dummy_hash: str | None = None

    def sign_in(self, email: str, password: str, *, client: str) -> SignedIn:
        """A new session for a retailer user; SignInFailed or SignInThrottled otherwise."""
        email = email.strip().lower()
        now = self._clock.now()
        key = throttle_key(email, client)
        record = self._failures.get(key)
        if record is not None and record.locked_until is not None and record.locked_until > now:
            # Refused before the password is looked at: a locked client learns nothing by guessing.
            raise SignInThrottled(_seconds_until(record.locked_until, now))
        with self._uow() as uow:
            user = uow.retailers.get_user_by_email(email) if email else None
        # An unknown email costs the same Argon2 work as a known one, so timing does not tell them apart.
        matched = self._passwords.verify(user.password_hash if user else self._dummy(), password)
        if user is None or not matched:
            record = self._failures.record_failure(key, now=now, forget_after=FORGET_FAILURES_AFTER,
                                                   lockout=lockout_seconds)
            if record.locked_until is not None and record.locked_until > now:
                raise SignInThrottled(_seconds_until(record.locked_until, now))
            raise SignInFailed("Wrong email or password.")
        if record is not None:
            self._failures.clear(key)
        # Housekeeping rides on sign-ins: expired sessions, and failures long forgotten.
        self._sessions.purge_expired(now=now)
        self._failures.purge_stale(before=now - FORGET_FAILURES_AFTER)
        session_id = secrets.token_urlsafe(32)
        expires = now + SESSION_LIFETIME
        self._sessions.create(ConsoleSession(session_hash(session_id), user.user_id, user.retailer_id, user.email,
                                             now, expires))
        return SignedIn(session_id, ConsoleUser(user.user_id, user.retailer_id, user.email, user.role), expires)

    def user(self, session_id: str) -> ConsoleUser | None:
        """The user a session belongs to, while it lasts and while the user exists, with its role as it is now."""
        session = self._sessions.get(session_hash(session_id))
        if session is None or session.expires_at <= self._clock.now():
            return None
        with self._uow() as uow:
            user = uow.users.get(session.user_id)
        if user is None:
            return None  # removed: its sessions are gone too, this read only came first
        return ConsoleUser(user.user_id, user.retailer_id, user.email, user.role)

    def change_password(self, user: ConsoleUser, session_id: str, *, current: str, new: str, client: str) -> int:
        """Set a new password and end the user's other sessions (this one stays); how many ended.

        A wrong current password counts as a failed sign-in (the same backoff, so the form is no way
        around it). The new hash is committed before the other sessions end: a session made in between
        needed the new password, and every one made with the old one is ended.
        """
        now = self._clock.now()
        key = throttle_key(user.email, client)
        record = self._failures.get(key)
        if record is not None and record.locked_until is not None and record.locked_until > now:
            raise SignInThrottled(_seconds_until(record.locked_until, now))
        with self._uow() as uow:
            stored = uow.users.get(user.user_id)
        if stored is None:
            raise SignInFailed("Your account was removed.")
        if not self._passwords.verify(stored.password_hash, current):
            self._failures.record_failure(key, now=now, forget_after=FORGET_FAILURES_AFTER, lockout=lockout_seconds)
            raise InvalidRequest("currentPassword: is not your current password", fields=["currentPassword"])
        check_password(new, field="newPassword")
        if new == current:
            raise InvalidRequest("newPassword: must differ from the current password", fields=["newPassword"])
        new_hash = self._passwords.hash(new)
        with self._uow(write=True) as uow:
            uow.users.set_password(user.user_id, new_hash)
            audit.record(uow, user.principal, "user.passwordChanged", Target("user", user.user_id),
                         retailer_id=user.retailer_id, after=user_view(stored), at=now)
            uow.commit()
        if record is not None:
            self._failures.clear(key)
        return self._sessions.delete_for_user(user.user_id, keep=session_hash(session_id))

    def sign_out(self, session_id: str) -> None:
        self._sessions.delete(session_hash(session_id))

    def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = self._passwords.hash(secrets.token_hex(16))
        return self._dummy_hash


def _seconds_until(at: datetime, now: datetime) -> int:
    return max(1, int((at - now).total_seconds() + 0.999))
