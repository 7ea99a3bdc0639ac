"""Store configurations between the API's JSON and the domain."""
from __future__ import annotations

from typing import Any

from entrygate.api.schemas import ConnectorIn, StoreFields, StoreIn, StorePatch
from entrygate.domain.money import Money
from entrygate.domain.store import DEFAULT_QR_PATTERN, ConnectorConfig, StoreConfig
from entrygate.domain.webhooks import new_secret


def connectors_from(given: dict[str, ConnectorIn], current: dict[str, ConnectorConfig]) -> tuple[dict[str, ConnectorConfig], dict[str, str]]:
    """Connector settings; a connector given without a secret keeps its old one or gets a new one.

    Returns the connectors and the secrets that were generated now (shown once, to the caller).
    """
    out, generated = {}, {}
    for name, c in given.items():
        secret = c.secret or (current[name].secret if name in current else None)
        if secret is None:
            secret = generated[name] = new_secret()
        out[name] = ConnectorConfig(url=c.url, secret=secret, timeout_ms=c.timeoutMs)
    return out, generated


def _common(body: StoreFields) -> dict[str, Any]:
    return dict(name=body.name, timezone=body.timezone, currency=body.currency,
                authorized_amount=Money(body.authorizedAmount.value, body.authorizedAmount.currencyCode),
                entry_methods=frozenset(body.entryMethods), risk_strategy=body.riskStrategy,
                risk_tolerance=body.riskTolerance, fallback_decision=body.fallbackDecision,
                qr_pattern=body.qrPattern or DEFAULT_QR_PATTERN,
                badge_formats=tuple(body.badgeFormats) if body.badgeFormats is not None else ("H10301",),
                max_party_size=body.maxPartySize, anti_passback=body.antiPassback, country=body.country)


def store_from_input(body: StoreIn, retailer_id: str) -> tuple[StoreConfig, dict[str, str]]:
    connectors, generated = connectors_from(body.connectors or {}, {})
    return StoreConfig(store_id=body.storeId, retailer_id=retailer_id, connectors=connectors,
                       **_common(body)), generated


_PATCH_FIELDS = {
    "name": "name", "timezone": "timezone", "currency": "currency", "riskStrategy": "risk_strategy",
    "riskTolerance": "risk_tolerance", "fallbackDecision": "fallback_decision", "qrPattern": "qr_pattern",
    "maxPartySize": "max_party_size", "antiPassback": "anti_passback", "country": "country",
}


def changes_from_patch(body: StorePatch, current: StoreConfig) -> tuple[dict[str, Any], dict[str, str]]:
    given = body.model_dump(exclude_unset=True)
    changes: dict[str, Any] = {_PATCH_FIELDS[k]: getattr(body, k) for k in given if k in _PATCH_FIELDS}
    if "authorizedAmount" in given and body.authorizedAmount is not None:
        changes["authorized_amount"] = Money(body.authorizedAmount.value, body.authorizedAmount.currencyCode)
    if "entryMethods" in given and body.entryMethods is not None:
        changes["entry_methods"] = frozenset(body.entryMethods)
    if "badgeFormats" in given and body.badgeFormats is not None:
        changes["badge_formats"] = tuple(body.badgeFormats)
    generated: dict[str, str] = {}
    if "connectors" in given and body.connectors is not None:
        changes["connectors"], generated = connectors_from(body.connectors, current.connectors)
    return {k: v for k, v in changes.items() if v is not None}, generated


def store_view(store: StoreConfig, *, generated_secrets: dict[str, str] | None = None) -> dict[str, Any]:
    connectors = {name: c.public() for name, c in store.connectors.items()}
    for name, secret in (generated_secrets or {}).items():
        connectors[name]["secret"] = secret  # shown once, when it is made
    return {
        "retailerId": store.retailer_id, "storeId": store.store_id, "name": store.name, "timezone": store.timezone,
        "currency": store.currency,
        "authorizedAmount": {"value": store.authorized_amount.as_float(),
                             "currencyCode": store.authorized_amount.currency},
        "entryMethods": sorted(m.value for m in store.entry_methods),
        "riskStrategy": store.risk_strategy.value, "riskTolerance": store.risk_tolerance.value,
        "fallbackDecision": store.fallback_decision.value, "qrPattern": store.qr_pattern,
        "badgeFormats": list(store.badge_formats), "maxPartySize": store.max_party_size,
        "antiPassback": store.anti_passback.value, "country": store.country, "connectors": connectors,
    }
