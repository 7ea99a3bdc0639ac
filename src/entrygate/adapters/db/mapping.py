"""Store configurations to and from their JSON column."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from entrygate.domain.channels import AntiPassback, Channel, FallbackDecision, RiskStrategy, RiskTolerance
from entrygate.domain.money import Money
from entrygate.domain.store import ConnectorConfig, StoreConfig
from entrygate.domain.trips import DEFAULT_MAX_TRIP_MINUTES, DEFAULT_PREAUTH_RELEASE_HOURS


def store_to_json(config: StoreConfig) -> dict[str, Any]:
    return {
        "timezone": config.timezone,
        "currency": config.currency,
        "authorizedAmount": str(config.authorized_amount.amount),
        "entryMethods": sorted(m.value for m in config.entry_methods),
        "riskStrategy": config.risk_strategy.value,
        "riskTolerance": config.risk_tolerance.value,
        "fallbackDecision": config.fallback_decision.value,
        "qrPattern": config.qr_pattern,
        "badgeFormats": list(config.badge_formats),
        "maxPartySize": config.max_party_size,
        "antiPassback": config.anti_passback.value,
        "country": config.country,
        "maxTripMinutes": config.max_trip_minutes,
        "preauthReleaseHours": config.preauth_release_hours,
        "connectors": {name: {"url": c.url, "secret": c.secret, "timeoutMs": c.timeout_ms}
                       for name, c in config.connectors.items()},
    }


def store_from_json(store_id: str, retailer_id: str, name: str, data: dict[str, Any]) -> StoreConfig:
    return StoreConfig(
        store_id=store_id,
        retailer_id=retailer_id,
        name=name,
        timezone=data["timezone"],
        currency=data["currency"],
        authorized_amount=Money(Decimal(data["authorizedAmount"]), data["currency"]),
        entry_methods=frozenset(Channel(m) for m in data["entryMethods"]),
        risk_strategy=RiskStrategy(data["riskStrategy"]),
        risk_tolerance=RiskTolerance(data["riskTolerance"]),
        fallback_decision=FallbackDecision(data["fallbackDecision"]),
        qr_pattern=data["qrPattern"],
        badge_formats=tuple(data["badgeFormats"]),
        max_party_size=int(data["maxPartySize"]),
        anti_passback=AntiPassback(data["antiPassback"]),
        country=data.get("country"),
        # Written into every store by migration 0005; the defaults stand in for a config written before it.
        max_trip_minutes=int(data.get("maxTripMinutes", DEFAULT_MAX_TRIP_MINUTES)),
        preauth_release_hours=int(data.get("preauthReleaseHours", DEFAULT_PREAUTH_RELEASE_HOURS)),
        connectors={name: ConnectorConfig(url=c["url"], secret=c["secret"], timeout_ms=int(c["timeoutMs"]))
                    for name, c in (data.get("connectors") or {}).items()},
    )
