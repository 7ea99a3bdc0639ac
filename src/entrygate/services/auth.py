"""Who is calling: an operator, a retailer, or a gate, from the bearer key they present."""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from threading import Lock

from entrygate.domain.audit import Actor, ActorType
from entrygate.domain.keys import KeyKind, parse_key, secret_matches
from entrygate.domain.store import StoreConfig
from entrygate.services.errors import Forbidden, NotAuthenticated, NotFound, ServiceError
from entrygate.services.ports.api_keys import ApiKeyStore
from entrygate.services.ports.clock import Clock
from entrygate.services.ports.storage import StorageError, UnitOfWorkFactory

# A revoked key must be refused within a second in every process (DESIGN 15), so no process keeps
# a key's check longer than this, whatever ENTRYGATE_CACHE_TTL_S says.
MAX_KEY_CACHE_S = 0.5


@dataclass(frozen=True, slots=True)
class Principal:
    kind: KeyKind
    retailer_id: str | None = None
    gate_pk: str | None = None
    actor: Actor | None = None  # who this is, as the audit log names it (services/admin/audit.py)
    key_id: str | None = None  # the key presented (None for a console user)
    key_name: str | None = None  # a retailer key's name

    @property
    def is_operator(self) -> bool:
        return self.kind is KeyKind.OPERATOR

    def may_manage(self, retailer_id: str) -> bool:
        """The scope rule: an operator may act for any retailer, a retailer key only for its own."""
        return self.is_operator or (self.kind is KeyKind.RETAILER and self.retailer_id == retailer_id)

    def require_scope(self, retailer_id: str, *, otherwise: ServiceError) -> None:
        """Raise ``otherwise`` unless this key may act for ``retailer_id``.

        Each caller keeps its own answer: where ids must not be confirmed to strangers, another
        retailer's thing is answered like an unknown one (``NotFound``); where the caller already
        knows it exists, ``Forbidden``; where the id came in a request body, ``InvalidRequest``.
        """
        if not self.may_manage(retailer_id):
            raise otherwise

    def require_retailer_scope(self, retailer_id: str) -> None:
        """Operators may act for any retailer; a retailer key only for its own (else ``Forbidden``)."""
        self.require_scope(retailer_id, otherwise=Forbidden("this key may not act for that retailer"))


def store_in_scope(uow: UnitOfWorkFactory, principal: Principal, store_id: str, *,
                   hide_others: bool = True) -> StoreConfig:
    """The store ``principal`` may act on, read in a transaction of its own; ``NotFound`` when unknown.

    Another retailer's store is ``NotFound`` too where ids must not be confirmed to strangers
    (``hide_others``), ``Forbidden`` where the administration API has always said so.
    """
    with uow() as u:
        store = u.stores.get(store_id)
    if store is None or (hide_others and not principal.may_manage(store.retailer_id)):
        raise NotFound(f"store {store_id} not found")
    principal.require_retailer_scope(store.retailer_id)
    return store


@dataclass(frozen=True, slots=True)
class _Checked:
    principal: Principal
    expires_at: datetime | None  # a replaced gate key stops then, whatever the cache holds
    cached_until: float


class Authenticator:
    """Checks bearer keys.

    A successful check is cached for at most ``MAX_KEY_CACHE_S`` (by the key's text), so a busy gate
    does not cost a database read per tap and a revoked key stops within that time in every
    process. A key's use is noted in memory and written behind by ``flush_uses`` (a thread calls it
    every few seconds, ``KeyUseFlusher``): one write per key per flush, never one per request.
    """

    def __init__(self, uow: UnitOfWorkFactory, *, ttl_s: float = MAX_KEY_CACHE_S, clock: Clock | None = None,
                 uses: ApiKeyStore | None = None) -> None:
        self._uow = uow
        self._ttl = min(max(ttl_s, 0.0), MAX_KEY_CACHE_S)
        self._clock = clock
        self._uses_store = uses
        self._cache: dict[str, _Checked] = {}
        self._lock = Lock()
        self._uses: dict[tuple[KeyKind, str], datetime] = {}

    def authenticate(self, authorization: str | None, *, allow: set[KeyKind]) -> Principal:
        if not authorization:
            raise NotAuthenticated("missing Authorization: Bearer <key>")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthenticated("expected Authorization: Bearer <key>")
        token = token.strip()
        now = time.monotonic()
        checked = self._cache.get(token)
        if checked is None or checked.cached_until <= now:
            checked = self._lookup(token, now)
            if checked is None:
                raise NotAuthenticated("unknown or revoked key")
            with self._lock:
                if len(self._cache) > 10_000:
                    self._cache.clear()
                self._cache[token] = checked
        principal = checked.principal
        if checked.expires_at is not None or self._uses_store is not None:
            wall = self._now()
            if checked.expires_at is not None and wall >= checked.expires_at:
                raise NotAuthenticated("this key was replaced and its grace period is over")
            if self._uses_store is not None and principal.key_id is not None and principal.kind is not KeyKind.OPERATOR:
                with self._lock:
                    self._uses[(principal.kind, principal.key_id)] = wall
        if principal.kind not in allow:
            raise Forbidden(f"a {principal.kind.name.lower()} key cannot be used here")
        return principal

    def _now(self) -> datetime:
        return self._clock.now() if self._clock is not None else datetime.now(UTC)

    def _lookup(self, token: str, now: float) -> _Checked | None:
        presented = parse_key(token)
        if presented is None:
            return None
        with self._uow() as uow:
            if presented.kind is KeyKind.OPERATOR:
                record = uow.keys.get_operator(presented.key_id)
            elif presented.kind is KeyKind.RETAILER:
                record = uow.keys.get_retailer_key(presented.key_id)
            else:
                record = uow.keys.get_gate_key(presented.key_id)
        if record is None or not secret_matches(presented, record.secret_hash):
            return None
        if presented.kind is KeyKind.RETAILER:
            principal = Principal(presented.kind, retailer_id=record.owner, key_id=record.key_id, key_name=record.name,
                                  actor=Actor(ActorType.RETAILER_KEY, record.key_id, record.name or "retailer key"))
        elif presented.kind is KeyKind.GATE:
            principal = Principal(presented.kind, gate_pk=record.owner, key_id=record.key_id)
        else:
            principal = Principal(presented.kind, key_id=record.key_id,
                                  actor=Actor(ActorType.OPERATOR, record.key_id, "operator"))
        return _Checked(principal, record.expires_at, now + self._ttl)

    def forget(self) -> None:
        with self._lock:
            self._cache.clear()

    def flush_uses(self) -> int:
        """Write the keys' uses noted since the last flush (one row each); how many keys were written.

        Uses that cannot be written (the database is away) are kept for the next flush.
        """
        if self._uses_store is None or not self._uses:
            return 0
        with self._lock:
            uses, self._uses = self._uses, {}
        gate = {key_id: at for (kind, key_id), at in uses.items() if kind is KeyKind.GATE}
        retailer = {key_id: at for (kind, key_id), at in uses.items() if kind is KeyKind.RETAILER}
        try:
            self._uses_store.record_uses(gate_keys=gate, retailer_keys=retailer)
        except StorageError:
            with self._lock:
                for key, at in uses.items():
                    if key not in self._uses or self._uses[key] < at:
                        self._uses[key] = at
            raise
        return len(uses)
