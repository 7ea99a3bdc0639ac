"""The store setup form: from a configuration to form values, and from a posted form to the API's
request shapes, so the console validates exactly as ``POST|PATCH /v1/admin/stores`` does.

Form fields are named after the API's JSON paths (``authorizedAmount``, ``connectors.identity.url``),
so an ``InvalidRequest`` naming a field lands next to that field.
"""
from __future__ import annotations

import re
from typing import Any

from starlette.datastructures import FormData

from entrygate.domain.patterns import MAX_PATTERN_LENGTH
from entrygate.domain.store import CONNECTOR_NAMES, DEFAULT_QR_PATTERN, StoreConfig, timezone_refusal
from entrygate.domain.trips import DEFAULT_MAX_TRIP_MINUTES, DEFAULT_PREAUTH_RELEASE_HOURS
from entrygate.services.errors import InvalidRequest, ServiceError

FORM_LEVEL = "__all__"

_FRIENDLY = {
    "storeId": "Use 1 to 255 letters, digits, hyphens or underscores.",
    "name": "Give the store a name.",
    "timezone": "Choose a time zone, like America/New_York.",
    "currency": "Three capital letters, like USD.",
    "country": "Two capital letters, like US, or leave it empty.",
    "authorizedAmount": "Enter an amount greater than zero, like 25.00.",
    "entryMethods": "Choose at least one entry method.",
    "maxPartySize": "Enter a whole number from 1 to 20.",
    "maxTripMinutes": "Enter a whole number of minutes from 5 to 1440.",
    "preauthReleaseHours": "Enter a whole number of hours from 0 to 720.",
    "qrPattern": f"Enter a regular expression (RE2 syntax) of at most {MAX_PATTERN_LENGTH} characters.",
    "badgeFormats": "Choose from the listed formats.",
    **{f"connectors.{n}.url": "Enter the connector's address, starting with http:// or https://."
       for n in CONNECTOR_NAMES},
    **{f"connectors.{n}.timeoutMs": "Enter a timeout in milliseconds, from 10 to 30000." for n in CONNECTOR_NAMES},
    **{f"connectors.{n}.secret": "A secret is whsec_ followed by base64; leave it empty to keep the current one."
       for n in CONNECTOR_NAMES},
}
# The form's fields in the order the page shows them.
_ORDER = ["storeId", "name", "timezone", "country", "currency", "authorizedAmount", "entryMethods", "riskStrategy",
          "riskTolerance", "fallbackDecision", "qrPattern", "badgeFormats", "maxPartySize", "antiPassback",
          "maxTripMinutes", "preauthReleaseHours",
          *[f"connectors.{n}.{leaf}" for n in CONNECTOR_NAMES for leaf in ("url", "timeoutMs", "secret")]]
# pydantic's wording, which names types rather than what to type; a service's own message is kept.
_PYDANTIC_PHRASES = ("Input ", "String ", "List ", "Decimal ", "Value error", "Field required", "Extra ",
                     "Dictionary ")


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _list(form: FormData, name: str) -> list[str]:
    return [v for v in form.getlist(name) if isinstance(v, str) and v]


def values_from_store(store: StoreConfig) -> dict[str, Any]:
    """What the setup form shows for a saved store."""
    values: dict[str, Any] = {
        "storeId": store.store_id, "name": store.name, "timezone": store.timezone, "country": store.country or "",
        "currency": store.currency, "authorizedAmount": f"{store.authorized_amount.amount:.2f}",
        "entryMethods": {m.value for m in store.entry_methods}, "riskStrategy": store.risk_strategy.value,
        "riskTolerance": store.risk_tolerance.value, "fallbackDecision": store.fallback_decision.value,
        "qrPattern": store.qr_pattern, "badgeFormats": set(store.badge_formats),
        "maxPartySize": str(store.max_party_size), "antiPassback": store.anti_passback.value,
        "maxTripMinutes": str(store.max_trip_minutes), "preauthReleaseHours": str(store.preauth_release_hours),
    }
    for name in CONNECTOR_NAMES:
        c = store.connectors.get(name)
        values[f"connectors.{name}.url"] = c.url if c else ""
        values[f"connectors.{name}.timeoutMs"] = str(c.timeout_ms) if c else "800"
        values[f"connectors.{name}.secretSet"] = bool(c and c.secret)
    return values


def new_store_values() -> dict[str, Any]:
    """Defaults for a new store: card entry, the baseline strategy, USD 25."""
    values: dict[str, Any] = {
        "storeId": "", "name": "", "timezone": "UTC", "country": "", "currency": "USD", "authorizedAmount": "25.00",
        "entryMethods": {"CREDIT_CARD"}, "riskStrategy": "NONE", "riskTolerance": "MEDIUM",
        "fallbackDecision": "DENY", "qrPattern": DEFAULT_QR_PATTERN, "badgeFormats": {"H10301"},
        "maxPartySize": "4", "antiPassback": "NONE",
        "maxTripMinutes": str(DEFAULT_MAX_TRIP_MINUTES), "preauthReleaseHours": str(DEFAULT_PREAUTH_RELEASE_HOURS),
    }
    for name in CONNECTOR_NAMES:
        values.update({f"connectors.{name}.url": "", f"connectors.{name}.timeoutMs": "800",
                       f"connectors.{name}.secretSet": False})
    return values


def values_from_form(form: FormData, *, saved: dict[str, Any] | None = None) -> dict[str, Any]:
    """A posted form's values, to show it again after an error (never a pasted secret)."""
    values: dict[str, Any] = {k: _text(form, k) for k in (
        "storeId", "name", "timezone", "country", "currency", "authorizedAmount", "riskStrategy", "riskTolerance",
        "fallbackDecision", "maxPartySize", "antiPassback", "maxTripMinutes", "preauthReleaseHours")}
    values["qrPattern"] = form.get("qrPattern") if isinstance(form.get("qrPattern"), str) else ""
    values["entryMethods"] = set(_list(form, "entryMethods"))
    values["badgeFormats"] = set(_list(form, "badgeFormats"))
    for name in CONNECTOR_NAMES:
        values[f"connectors.{name}.url"] = _text(form, f"connectors.{name}.url")
        values[f"connectors.{name}.timeoutMs"] = _text(form, f"connectors.{name}.timeoutMs")
        values[f"connectors.{name}.secretSet"] = bool(saved and saved.get(f"connectors.{name}.secretSet"))
    return values


def store_body(form: FormData) -> dict[str, Any]:
    """The posted form as the API's store JSON (``StoreIn`` / ``StorePatch``); validation is theirs."""
    currency = _text(form, "currency").upper()
    body: dict[str, Any] = {
        "name": _text(form, "name"), "timezone": _text(form, "timezone"), "currency": currency,
        "authorizedAmount": {"value": _text(form, "authorizedAmount") or None, "currencyCode": currency},
        "entryMethods": _list(form, "entryMethods"),
        "riskStrategy": _text(form, "riskStrategy") or "NONE",
        "riskTolerance": _text(form, "riskTolerance") or "MEDIUM",
        "fallbackDecision": _text(form, "fallbackDecision") or "DENY",
        "qrPattern": form.get("qrPattern") or None,
        "badgeFormats": _list(form, "badgeFormats"),
        "maxPartySize": _text(form, "maxPartySize") or None,
        "antiPassback": _text(form, "antiPassback") or "NONE",
        "country": _text(form, "country").upper() or None,
        "connectors": {},
    }
    if _text(form, "storeId"):
        body["storeId"] = _text(form, "storeId")
    for name in ("maxTripMinutes", "preauthReleaseHours"):
        if name in form:  # a form without the field leaves the setting as it is (or at its default)
            body[name] = _text(form, name) or None
    for name in CONNECTOR_NAMES:
        url = _text(form, f"connectors.{name}.url")
        if not url:
            continue  # an empty address removes the connector
        connector: dict[str, Any] = {"url": url, "timeoutMs": _text(form, f"connectors.{name}.timeoutMs") or 800}
        if _text(form, f"connectors.{name}.secret"):
            connector["secret"] = _text(form, f"connectors.{name}.secret")
        body["connectors"][name] = connector
    return body


def rotated(form: FormData) -> set[str]:
    """Connectors whose signing secret the user asked to replace with a new one."""
    return {name for name in CONNECTOR_NAMES if form.get(f"connectors.{name}.rotate")}


def check_timezone(name: str) -> None:
    """The console refuses a time zone it could not show local times in (the API's rule, ``timezone_refusal``)."""
    refusal = timezone_refusal(name)
    if refusal is not None:
        raise InvalidRequest(f"timezone: {refusal}", fields=["timezone"])


def field_errors(exc: ServiceError) -> dict[str, str]:
    """Messages by form field; what names no field goes under ``FORM_LEVEL``."""
    out: dict[str, str] = {}
    if len(exc.fields) <= 1:
        # One field: the whole message is about it (and may itself contain "; ").
        path = exc.fields[0] if exc.fields else "body"
        parts = [exc.message if exc.message.startswith(path + ": ") else f"{path}: {exc.message}"]
    else:
        parts = exc.message.split("; ")
    for part in parts:
        path, sep, message = part.partition(": ")
        if not sep:
            path, message = "body", part
        key = _form_field(path)
        if key in _FRIENDLY and (message.startswith(_PYDANTIC_PHRASES) or message == "is required"):
            message = _FRIENDLY[key]
        message = message[:1].upper() + message[1:]
        out.setdefault(key, message)
    for path in exc.fields:
        out.setdefault(_form_field(path), _FRIENDLY.get(_form_field(path), exc.message))
    # In the order the form asks, so the summary at the top reads like the page.
    return dict(sorted(out.items(), key=lambda kv: _ORDER.index(kv[0]) if kv[0] in _ORDER else len(_ORDER)))


def _form_field(path: str) -> str:
    path = re.sub(r"\[\d+\]", "", path)
    if path.startswith("authorizedAmount.currencyCode"):
        return "currency"
    if path.startswith("authorizedAmount"):
        return "authorizedAmount"
    if path.startswith("connectors."):
        parts = path.split(".")
        if len(parts) >= 2 and parts[1] in CONNECTOR_NAMES:
            leaf = parts[2] if len(parts) > 2 and parts[2] in ("url", "timeoutMs", "secret") else "url"
            return f"connectors.{parts[1]}.{leaf}"
        return FORM_LEVEL
    if path in ("storeId", "name", "timezone", "currency", "country", "entryMethods", "riskStrategy",
                "riskTolerance", "fallbackDecision", "qrPattern", "badgeFormats", "maxPartySize", "antiPassback",
                "maxTripMinutes", "preauthReleaseHours"):
        return path
    return FORM_LEVEL
