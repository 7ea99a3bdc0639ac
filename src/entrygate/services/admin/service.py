"""Administration: retailers, their console users, stores and gates."""
from __future__ import annotations

from dataclasses import dataclass

from entrygate.domain.audit import Target
from entrygate.domain.cards import new_id
from entrygate.domain.channels import GateDirection
from entrygate.domain.keys import KeyKind, new_key
from entrygate.domain.records import ApiKeyRecord, Gate, Retailer, RetailerUser
from entrygate.domain.roles import ConsoleRole
from entrygate.domain.store import ID_PATTERN, StoreConfig, StoreConfigError, check_store
from entrygate.domain.views import gate_view, retailer_view, store_view
from entrygate.domain.webhooks import new_secret
from entrygate.services.admin import audit
from entrygate.services.admin.store_changes import StoreChange, StoreDraft, StoreSaved, applied, drafted
from entrygate.services.admin.users import MIN_PASSWORD_LENGTH, UserAdmin
from entrygate.services.auth import Principal, store_in_scope
from entrygate.services.catalog import Catalog
from entrygate.services.errors import Conflict, Forbidden, InvalidRequest, NotFound
from entrygate.services.ports.clock import Clock
from entrygate.services.ports.security import PasswordHasher
from entrygate.services.ports.storage import AlreadyExists, UnitOfWorkFactory

__all__ = ["MIN_PASSWORD_LENGTH", "AdminService", "CreatedKey"]


@dataclass(frozen=True, slots=True)
class CreatedKey:
    id: str
    api_key: str


class AdminService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, catalog: Catalog, passwords: PasswordHasher, *,
                 allow_private_urls: bool = False) -> None:
        self._uow = uow
        self._clock = clock
        self._catalog = catalog
        self._passwords = passwords
        self._allow_private_urls = allow_private_urls  # ENTRYGATE_ALLOW_PRIVATE_URLS
        self.users = UserAdmin(uow, clock, passwords)  # console users (services/admin/users.py)

    def create_operator_token(self) -> str:
        key = new_key(KeyKind.OPERATOR)
        with self._uow(write=True) as uow:
            uow.keys.add_operator(ApiKeyRecord(key.key_id, key.secret_hash, "operator"), at=self._clock.now())
            uow.commit()
        return key.plaintext

    def create_retailer(self, principal: Principal, *, name: str) -> CreatedKey:
        if not principal.is_operator:
            raise Forbidden("only an operator can create retailers")
        retailer = Retailer(new_id("ret", length=16), name.strip(), self._clock.now())
        key = new_key(KeyKind.RETAILER)
        with self._uow(write=True) as uow:
            uow.retailers.add(retailer, ApiKeyRecord(key.key_id, key.secret_hash, retailer.retailer_id))
            audit.record(uow, principal, "retailer.created", Target("retailer", retailer.retailer_id),
                         retailer_id=retailer.retailer_id, after=retailer_view(retailer), at=retailer.created_at)
            uow.commit()
        return CreatedKey(retailer.retailer_id, key.plaintext)

    def create_user(self, principal: Principal, retailer_id: str, *, email: str, password: str,
                    role: ConsoleRole = ConsoleRole.ADMIN) -> RetailerUser:
        """A console login (``services/admin/users.py`` manages them)."""
        return self.users.create(principal, retailer_id, email=email, password=password, role=role)

    def add_store(self, principal: Principal, draft: StoreDraft) -> StoreSaved:
        """A new store as the API and the console describe it; connector secrets not given are made now."""
        saved = drafted(draft, new_secret)
        self._insert(principal, saved.store)
        return saved

    def create_store(self, principal: Principal, config: StoreConfig) -> StoreConfig:
        """A new store whose whole configuration, connector secrets included, the caller holds."""
        self._insert(principal, config)
        return config

    def _insert(self, principal: Principal, config: StoreConfig) -> None:
        principal.require_retailer_scope(config.retailer_id)
        if not ID_PATTERN.match(config.store_id):
            raise InvalidRequest("storeId: up to 255 characters of [0-9a-zA-Z_-]", fields=["storeId"])
        _check(config, allow_private_urls=self._allow_private_urls)
        now = self._clock.now()
        with self._uow(write=True) as uow:
            if uow.retailers.get(config.retailer_id) is None:
                raise NotFound(f"retailer {config.retailer_id} not found")
            try:
                uow.stores.add(config, at=now)
            except AlreadyExists:
                raise Conflict(f"store {config.store_id} exists already", fields=["storeId"]) from None
            audit.record(uow, principal, "store.created", Target("store", config.store_id),
                         retailer_id=config.retailer_id, store_id=config.store_id, after=store_view(config), at=now)
            uow.commit()

    def get_store(self, principal: Principal, store_id: str) -> StoreConfig:
        return store_in_scope(self._uow, principal, store_id, hide_others=False)

    def list_stores(self, principal: Principal) -> list[StoreConfig]:
        with self._uow() as uow:
            return uow.stores.list(retailer_id=None if principal.is_operator else principal.retailer_id)

    def update_store(self, principal: Principal, store_id: str, change: StoreChange) -> StoreSaved:
        """Apply a change in one write transaction; the whole result must still be a valid configuration.

        Reading the store, applying the change (new connector secrets included) and writing it back
        are one transaction: the change is made to the store as it is read there, not to a copy an
        edge read earlier in a transaction of its own.
        """
        with self._uow(write=True) as uow:
            current = uow.stores.get(store_id, for_change=True)
            if current is None:
                raise NotFound(f"store {store_id} not found")
            principal.require_retailer_scope(current.retailer_id)
            saved = applied(current, change, new_secret)
            _check(saved.store, allow_private_urls=self._allow_private_urls)
            now = self._clock.now()
            uow.stores.update(saved.store, at=now)
            before, after = store_view(current), store_view(saved.store)
            if saved.generated_secrets:
                # A rotated connector secret shows as set before and after: say that it changed.
                after["rotatedSecrets"] = sorted(saved.generated_secrets)
            audit.record(uow, principal, "store.updated", Target("store", store_id), retailer_id=current.retailer_id,
                         store_id=store_id, before=before, after=after, at=now)
            uow.commit()
        self._catalog.invalidate()
        return saved

    def add_gate(self, principal: Principal, store_id: str, *, gate_id: str, direction: GateDirection) -> CreatedKey:
        if not ID_PATTERN.match(gate_id):
            raise InvalidRequest("gateId: up to 255 characters of [0-9a-zA-Z_-]", fields=["gateId"])
        store = self.get_store(principal, store_id)
        key = new_key(KeyKind.GATE)
        gate = Gate(new_id("gpk", length=16), gate_id, store.store_id, direction, True, self._clock.now())
        with self._uow(write=True) as uow:
            try:
                uow.gates.add(gate, ApiKeyRecord(key.key_id, key.secret_hash, gate.gate_pk))
            except AlreadyExists:
                raise Conflict(f"gate {gate_id} exists already at store {store_id}", fields=["gateId"]) from None
            audit.record(uow, principal, "gate.created", Target("gate", gate_id), retailer_id=store.retailer_id,
                         store_id=store.store_id, after=gate_view(gate), at=gate.created_at)
            uow.commit()
        return CreatedKey(gate_id, key.plaintext)

    def list_gates(self, principal: Principal, store_id: str) -> list[Gate]:
        self.get_store(principal, store_id)
        with self._uow() as uow:
            return uow.gates.list(store_id)

    def set_gate_enabled(self, principal: Principal, store_id: str, gate_id: str, *, enabled: bool) -> Gate:
        store = self.get_store(principal, store_id)
        with self._uow(write=True) as uow:
            gate = uow.gates.find(store_id, gate_id)
            if gate is None:
                raise NotFound(f"gate {gate_id} not found at store {store_id}")
            uow.gates.set_enabled(gate.gate_pk, enabled)
            changed = Gate(gate.gate_pk, gate.gate_id, gate.store_id, gate.direction, enabled, gate.created_at)
            audit.record(uow, principal, "gate.updated", Target("gate", gate_id), retailer_id=store.retailer_id,
                         store_id=store_id, before=gate_view(gate), after=gate_view(changed), at=self._clock.now())
            uow.commit()
        self._catalog.invalidate()
        return changed


def _check(config: StoreConfig, *, allow_private_urls: bool) -> None:
    try:
        check_store(config, allow_private_urls=allow_private_urls)
    except StoreConfigError as exc:
        raise InvalidRequest(str(exc), fields=[exc.field]) from None
