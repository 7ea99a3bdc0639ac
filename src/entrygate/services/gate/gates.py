"""Which gate a gate key speaks for, and its store: the first step of every entry and exit."""
from __future__ import annotations

from dataclasses import dataclass

from entrygate.domain.records import Gate
from entrygate.domain.store import StoreConfig
from entrygate.services.auth import Principal
from entrygate.services.catalog import Catalog
from entrygate.services.errors import Forbidden, NotFound
from entrygate.services.ports.storage import UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class GateAtStore:
    gate: Gate
    store: StoreConfig


def resolve_gate(catalog: Catalog, uow: UnitOfWorkFactory, principal: Principal, gate_id: str) -> GateAtStore:
    """The gate a gate key belongs to and its store, checked against the gate named in the path."""
    gate = catalog.gate(principal.gate_pk or "")
    if gate is None:
        raise NotFound(f"gate {gate_id} not found")
    if gate.gate_id != gate_id:
        with uow() as u:
            elsewhere = u.gates.exists(gate_id)
        if elsewhere:
            raise Forbidden(f"this key belongs to another gate than {gate_id}")
        raise NotFound(f"gate {gate_id} not found")
    store = catalog.store(gate.store_id)
    if store is None:
        raise NotFound(f"store {gate.store_id} not found")
    return GateAtStore(gate, store)
