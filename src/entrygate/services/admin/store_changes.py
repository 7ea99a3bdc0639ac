"""A new store and a change to a store, typed as the edges give them, and what saving one returns.

A field of ``StoreChange`` left at ``UNSET`` keeps its current value; ``None`` clears it, and only
``country`` can be cleared (every other field always has a value). Connectors given without a
secret keep their current one, or get a new one that is returned once, in ``StoreSaved``.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from enum import Enum
from typing import Any, TypeVar

from entrygate.domain.channels import AntiPassback, Channel, FallbackDecision, RiskStrategy, RiskTolerance
from entrygate.domain.money import Money
from entrygate.domain.store import ConnectorConfig, StoreConfig

T = TypeVar("T")


class Unset(Enum):
    """The one value of a field a change leaves alone (``None`` would mean: clear it)."""

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


UNSET = Unset.UNSET
Change = T | Unset


@dataclass(frozen=True, slots=True)
class ConnectorSetting:
    """A connector as an edge gives it; without a secret, the current one is kept or a new one made."""

    url: str
    timeout_ms: int = 800
    secret: str | None = None


@dataclass(frozen=True, slots=True)
class StoreDraft:
    """A new store: its configuration, the connectors taken from ``connectors`` (not ``config.connectors``)."""

    config: StoreConfig
    connectors: Mapping[str, ConnectorSetting] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StoreChange:
    """The fields to change; ``connectors``, when given, is the whole new set (one left out is removed)."""

    name: Change[str] = UNSET
    timezone: Change[str] = UNSET
    currency: Change[str] = UNSET
    authorized_amount: Change[Money] = UNSET
    entry_methods: Change[frozenset[Channel]] = UNSET
    risk_strategy: Change[RiskStrategy] = UNSET
    risk_tolerance: Change[RiskTolerance] = UNSET
    fallback_decision: Change[FallbackDecision] = UNSET
    qr_pattern: Change[str] = UNSET
    badge_formats: Change[tuple[str, ...]] = UNSET
    max_party_size: Change[int] = UNSET
    anti_passback: Change[AntiPassback] = UNSET
    max_trip_minutes: Change[int] = UNSET
    preauth_release_hours: Change[int] = UNSET
    # Why clearable: the country is optional from the start (it only tells the risk model which
    # issuers are foreign), so a wrong one must be removable, not only replaceable.
    country: Change[str | None] = UNSET
    connectors: Change[Mapping[str, ConnectorSetting]] = UNSET
    rotate_secrets: frozenset[str] = frozenset()  # given connectors whose current secret is replaced


@dataclass(frozen=True, slots=True)
class StoreSaved:
    """The store as stored, and the connector secrets generated now (shown once, never again)."""

    store: StoreConfig
    generated_secrets: Mapping[str, str] = field(default_factory=dict)


_CONFIG_FIELDS = tuple(f.name for f in fields(StoreChange) if f.name not in ("connectors", "rotate_secrets"))


def applied(current: StoreConfig, change: StoreChange, new_secret: Callable[[], str]) -> StoreSaved:
    """``current`` with ``change`` applied; secrets for given connectors that have none are made with ``new_secret``."""
    updates: dict[str, Any] = {name: getattr(change, name) for name in _CONFIG_FIELDS
                               if getattr(change, name) is not UNSET}
    generated: dict[str, str] = {}
    if not isinstance(change.connectors, Unset):
        kept = {n: c for n, c in current.connectors.items() if n not in change.rotate_secrets}
        updates["connectors"], generated = settled_connectors(change.connectors, kept, new_secret)
    return StoreSaved(current.with_changes(**updates), generated)


def drafted(draft: StoreDraft, new_secret: Callable[[], str]) -> StoreSaved:
    """The configuration a draft describes, secrets made for connectors given without one."""
    connectors, generated = settled_connectors(draft.connectors, {}, new_secret)
    return StoreSaved(draft.config.with_changes(connectors=connectors), generated)


def settled_connectors(given: Mapping[str, ConnectorSetting], current: Mapping[str, ConnectorConfig],
                       new_secret: Callable[[], str]) -> tuple[dict[str, ConnectorConfig], dict[str, str]]:
    """The connectors to store, and the secrets generated now for those given without one and without one kept."""
    out: dict[str, ConnectorConfig] = {}
    generated: dict[str, str] = {}
    for name, c in given.items():
        secret = c.secret or (current[name].secret if name in current else None)
        if secret is None:
            secret = generated[name] = new_secret()
        out[name] = ConnectorConfig(url=c.url, secret=secret, timeout_ms=c.timeout_ms)
    return out, generated
