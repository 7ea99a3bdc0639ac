"""Resources as the API shows them, never with a secret: what the answers and the audit log's
``before`` / ``after`` both show (so an audit entry reads exactly like the API's view of the time).

Connector secrets appear as ``"secretSet": true``; a key or a password hash never appears at all.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from entrygate.domain.records import Gate, Retailer, RetailerUser
from entrygate.domain.risk_ops import ListItem, Review
from entrygate.domain.store import StoreConfig


def store_view(store: StoreConfig) -> dict[str, Any]:
    """A store's configuration, its connectors' secrets shown only as set or not."""
    return {
        "retailerId": store.retailer_id, "storeId": store.store_id, "name": store.name, "timezone": store.timezone,
        "currency": store.currency,
        "authorizedAmount": store.authorized_amount.to_json(),
        "entryMethods": sorted(m.value for m in store.entry_methods),
        "riskStrategy": store.risk_strategy.value, "riskTolerance": store.risk_tolerance.value,
        "fallbackDecision": store.fallback_decision.value, "qrPattern": store.qr_pattern,
        "badgeFormats": list(store.badge_formats), "maxPartySize": store.max_party_size,
        "antiPassback": store.anti_passback.value, "maxTripMinutes": store.max_trip_minutes,
        "preauthReleaseHours": store.preauth_release_hours, "country": store.country,
        "connectors": {name: c.public() for name, c in store.connectors.items()},
    }


def gate_view(gate: Gate) -> dict[str, Any]:
    return {"gateId": gate.gate_id, "storeId": gate.store_id, "direction": gate.direction.value,
            "enabled": gate.enabled}


def user_view(user: RetailerUser) -> dict[str, Any]:
    """A console user: never its password hash."""
    return {"userId": user.user_id, "retailerId": user.retailer_id, "email": user.email, "role": user.role.value,
            "createdAt": user.created_at.isoformat().replace("+00:00", "Z") if user.created_at else None}


def retailer_view(retailer: Retailer) -> dict[str, Any]:
    return {"retailerId": retailer.retailer_id, "name": retailer.name}


def _time(at: datetime | None) -> str | None:
    return at.isoformat().replace("+00:00", "Z") if at else None


def item_view(item: ListItem) -> dict[str, Any]:
    return {"itemId": item.item_id, "list": item.list_name.path, "type": item.item_type.value, "value": item.value,
            "note": item.note, "expiresAt": _time(item.expires_at), "createdAt": _time(item.created_at),
            "source": item.source.value}


def review_view(review: Review) -> dict[str, Any]:
    return {"reviewId": review.review_id, "storeId": review.store_id, "eventId": review.event_id,
            "shoppingTripId": review.trip_id, "visitorId": review.visitor_id, "rule": review.rule,
            "createdAt": _time(review.created_at), "outcome": review.outcome.value if review.outcome else None}
