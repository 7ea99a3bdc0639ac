"""A store's entry configuration: what it accepts, how it weighs risk, whom it asks."""
from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

from entrygate.domain.badges import FORMAT_NAMES as BADGE_FORMATS
from entrygate.domain.channels import AntiPassback, Channel, FallbackDecision, RiskStrategy, RiskTolerance
from entrygate.domain.money import Money
from entrygate.domain.outbound import url_refusal
from entrygate.domain.patterns import PatternRefused, check_pattern
from entrygate.domain.trips import DEFAULT_MAX_TRIP_MINUTES, DEFAULT_PREAUTH_RELEASE_HOURS

DEFAULT_QR_PATTERN = r"^EG1\.[A-Za-z0-9_-]+\.[0-9]+\.[A-Za-z0-9_-]+$"
CONNECTOR_NAMES = ("identity", "shopperAuthorization")
ID_PATTERN = re.compile(r"^[0-9A-Za-z_-]{1,255}$")

# Why a cap: a party shares one credential and one pre-authorization; beyond a family or a small
# group, the store should see separate taps.
MAX_PARTY_SIZE_LIMIT = 20
# DESIGN 10: a trip lasts 5 minutes to a day before the platform closes it; a hold nobody settled
# is released from the moment its trip closes (0) up to 30 days later, about as long as card
# networks keep an authorization.
MAX_TRIP_MINUTES_RANGE = (5, 1440)
PREAUTH_RELEASE_HOURS_RANGE = (0, 720)


@dataclass(frozen=True, slots=True)
class ConnectorConfig:
    url: str
    secret: str
    timeout_ms: int = 800

    def public(self) -> dict[str, Any]:
        """The connector as it may be shown: the signing secret never leaves the platform."""
        return {"url": self.url, "secretSet": bool(self.secret), "timeoutMs": self.timeout_ms}


@dataclass(frozen=True, slots=True)
class StoreConfig:
    store_id: str
    retailer_id: str
    name: str
    timezone: str
    currency: str
    authorized_amount: Money
    entry_methods: frozenset[Channel]
    risk_strategy: RiskStrategy = RiskStrategy.NONE
    risk_tolerance: RiskTolerance = RiskTolerance.MEDIUM
    fallback_decision: FallbackDecision = FallbackDecision.DENY
    qr_pattern: str = DEFAULT_QR_PATTERN
    badge_formats: tuple[str, ...] = ("H10301",)
    max_party_size: int = 4
    anti_passback: AntiPassback = AntiPassback.NONE
    connectors: dict[str, ConnectorConfig] = field(default_factory=dict)
    country: str | None = None
    max_trip_minutes: int = DEFAULT_MAX_TRIP_MINUTES
    preauth_release_hours: int = DEFAULT_PREAUTH_RELEASE_HOURS

    def accepts(self, channel: Channel) -> bool:
        return channel in self.entry_methods

    def connector(self, name: str) -> ConnectorConfig | None:
        return self.connectors.get(name)

    def with_changes(self, **changes: Any) -> StoreConfig:
        return replace(self, **changes)


# Files of the time zone database that are no zone of the IANA list.
_NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) - _NOT_ZONES


def timezone_refusal(name: str) -> str | None:
    """Why ``name`` is no IANA time zone name (None when it is one): a store shows local times in it."""
    if name in _zone_names():
        return None
    return f"unknown time zone {name!r}; use an IANA name such as 'America/New_York', 'Europe/Paris' or 'UTC'"


class StoreConfigError(ValueError):
    """A store configuration that contradicts itself; ``field`` names the offending field."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


def check_store(config: StoreConfig, *, allow_private_urls: bool = False) -> None:
    """Refuse a configuration whose parts do not fit together, or whose connectors entrygate would not call."""
    zone_refusal = timezone_refusal(config.timezone)
    if zone_refusal is not None:
        raise StoreConfigError("timezone", zone_refusal)
    if config.authorized_amount.currency != config.currency:
        raise StoreConfigError("authorizedAmount.currencyCode", "must equal the store's currency")
    if config.authorized_amount.amount <= 0:
        raise StoreConfigError("authorizedAmount.value", "must be greater than zero")
    if not 1 <= config.max_party_size <= MAX_PARTY_SIZE_LIMIT:
        raise StoreConfigError("maxPartySize", f"must be between 1 and {MAX_PARTY_SIZE_LIMIT}")
    for name, value, (low, high) in (("maxTripMinutes", config.max_trip_minutes, MAX_TRIP_MINUTES_RANGE),
                                     ("preauthReleaseHours", config.preauth_release_hours,
                                      PREAUTH_RELEASE_HOURS_RANGE)):
        if not low <= value <= high:
            raise StoreConfigError(name, f"must be between {low} and {high}")
    try:
        check_pattern(config.qr_pattern)
    except PatternRefused as exc:
        raise StoreConfigError("qrPattern", str(exc)) from None
    for fmt in config.badge_formats:
        if fmt not in BADGE_FORMATS:
            raise StoreConfigError("badgeFormats", f"unknown format {fmt!r}; known: {', '.join(BADGE_FORMATS)}")
    needs_identity = config.accepts(Channel.QR_CODE) or config.accepts(Channel.BADGE)
    if needs_identity and "identity" not in config.connectors:
        raise StoreConfigError("connectors.identity", "is required when QR_CODE or BADGE entry is enabled")
    retailer_decides = config.risk_strategy in (RiskStrategy.PLATFORM_RECOMMENDATION, RiskStrategy.RETAILER_MANAGED)
    if retailer_decides and "shopperAuthorization" not in config.connectors:
        raise StoreConfigError("connectors.shopperAuthorization", f"is required under {config.risk_strategy.value}")
    if config.fallback_decision is FallbackDecision.USE_RECOMMENDATION and config.risk_strategy is RiskStrategy.RETAILER_MANAGED:
        raise StoreConfigError("fallbackDecision", "USE_RECOMMENDATION needs a platform recommendation; "
                               "under RETAILER_MANAGED choose DENY or ALLOW")
    for name, connector in config.connectors.items():
        if name not in CONNECTOR_NAMES:
            raise StoreConfigError(f"connectors.{name}", f"unknown connector; known: {', '.join(CONNECTOR_NAMES)}")
        # Only the URL as written is judged here; where a name resolves is checked at each call.
        refusal = url_refusal(connector.url, allow_private=allow_private_urls)
        if refusal is not None:
            raise StoreConfigError(f"connectors.{name}.url", refusal)
