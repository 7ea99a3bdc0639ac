"""Who is calling: an operator, a retailer, or a gate, from the bearer key they present."""
from __future__ import annotations

import time
from dataclasses import dataclass
from threading import Lock

from entrygate.domain.audit import Actor, ActorType
from entrygate.domain.keys import KeyKind, parse_key, secret_matches
from entrygate.domain.store import StoreConfig
from entrygate.services.errors import Forbidden, NotAuthenticated, NotFound, ServiceError
from entrygate.services.ports.storage import UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class Principal:
    kind: KeyKind
    retailer_id: str | None = None
    gate_pk: str | None = None
    actor: Actor | None = None  # who this is, as the audit log names it (services/admin/audit.py)

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


# The name a retailer's key goes by in the audit log while a retailer has its one key, made with it.
RETAILER_KEY_NAME = "default"


class Authenticator:
    """Checks bearer keys. Successful checks are cached briefly (by the key's hash) so a busy gate
    does not cost a database read per tap; a deleted key stops working within ``ttl_s``."""

    def __init__(self, uow: UnitOfWorkFactory, *, ttl_s: float = 2.0) -> None:
        self._uow = uow
        self._ttl = ttl_s
        self._cache: dict[str, tuple[float, Principal]] = {}
        self._lock = Lock()

    def authenticate(self, authorization: str | None, *, allow: set[KeyKind]) -> Principal:
        if not authorization:
            raise NotAuthenticated("missing Authorization: Bearer <key>")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthenticated("expected Authorization: Bearer <key>")
        token = token.strip()
        now = time.monotonic()
        cached = self._cache.get(token)
        principal = cached[1] if cached and cached[0] > now else self._lookup(token)
        if principal is None:
            raise NotAuthenticated("unknown or revoked key")
        if not cached or cached[0] <= now:
            with self._lock:
                if len(self._cache) > 10_000:
                    self._cache.clear()
                self._cache[token] = (now + self._ttl, principal)
        if principal.kind not in allow:
            raise Forbidden(f"a {principal.kind.name.lower()} key cannot be used here")
        return principal

    def _lookup(self, token: str) -> Principal | None:
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
            return Principal(presented.kind, retailer_id=record.owner,
                             actor=Actor(ActorType.RETAILER_KEY, record.key_id, RETAILER_KEY_NAME))
        if presented.kind is KeyKind.GATE:
            return Principal(presented.kind, gate_pk=record.owner)
        return Principal(presented.kind, actor=Actor(ActorType.OPERATOR, record.key_id, "operator"))

    def forget(self) -> None:
        with self._lock:
            self._cache.clear()
