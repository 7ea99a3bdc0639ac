"""The audit page's reading of an entry: which fields changed, from what to what."""
from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from entrygate.domain.audit import AuditEntry


def flat(view: Mapping[str, Any] | None, prefix: str = "") -> dict[str, Any]:
    """A view's fields by dotted path (``connectors.identity.url``); lists stay whole."""
    out: dict[str, Any] = {}
    for key, value in (view or {}).items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(flat(value, path + "."))
        else:
            out[path] = value
    return out


def changes(entry: AuditEntry) -> list[tuple[str, str, str]]:
    """The fields that differ between ``before`` and ``after``: (path, before, after) as text."""
    if entry.before is None or entry.after is None:
        return []
    before, after = flat(entry.before), flat(entry.after)
    return [(path, _text(before.get(path)), _text(after.get(path)))
            for path in sorted(before.keys() | after.keys()) if before.get(path) != after.get(path)]


def pretty(view: Mapping[str, Any] | None) -> str:
    return json.dumps(view, indent=2, sort_keys=True) if view is not None else ""


def _text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value)
