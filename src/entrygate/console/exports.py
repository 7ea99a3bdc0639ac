"""CSV exports of decisions and trips: a stable list of columns, written a chunk at a time.

The columns are the contract of the export (``docs/console.md`` lists them): new ones are added at
the end, none is renamed or dropped. Times are ISO-8601, in UTC (``..._utc``) and in the store's time
zone with its offset (``..._store``). Amounts are at the currency's minor units. A text cell that a
spreadsheet would run as a formula (one starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return; OWASP's CSV injection) is written with a leading apostrophe.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from entrygate.console.display import money_text
from entrygate.domain.records import Trip
from entrygate.services.ports.console import DecisionRow

CHUNK_CHARS = 64 * 1024

DECISION_COLUMNS = ("decision_id", "decided_at_utc", "decided_at_store", "store_id", "gate_id", "event_id", "channel",
                    "decision", "decided_by", "reasons", "visitor_id", "visitor_type", "card_brand", "card_last4",
                    "trip_id", "party_size", "risk_score", "risk_level", "authorized_amount", "currency", "latency_ms")
TRIP_COLUMNS = ("trip_id", "store_id", "status", "channel", "visitor_id", "instrument_id", "party_size", "entry_gate_id",
                "entered_at_utc", "entered_at_store", "exit_gate_id", "exited_at_utc", "exited_at_store", "closed_by",
                "currency", "authorized_amount", "total_amount", "settled_amount", "outstanding_amount",
                "payment_status_time_utc", "passback_violation")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str | None) -> str:
    if value is None:
        return ""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _utc(at: datetime | None) -> str:
    return at.isoformat().replace("+00:00", "Z") if at else ""


def _local(at: datetime | None, zone: ZoneInfo) -> str:
    return at.astimezone(zone).isoformat() if at else ""


def _amount(value: Any, currency: str | None) -> str:
    if value is None:
        return ""
    return money_text(value, currency).replace(",", "").split(" ")[0]


def decision_cells(r: DecisionRow, zone: ZoneInfo, store_id: str) -> list[Any]:
    return [r.decision_id, _utc(r.decided_at), _local(r.decided_at, zone), _text(store_id), _text(r.gate_id), _text(r.event_id),
            r.channel, r.outcome, r.decided_by, " ".join(r.reasons), _text(r.visitor_id), r.visitor_type or "",
            r.brand or "", r.last4 or "", _text(r.trip_id), r.party_size,
            "" if r.risk_score is None else r.risk_score, r.risk_level or "",
            _amount(r.authorized_amount, r.currency), r.currency or "", f"{r.latency_ms:.3f}"]


def trip_cells(t: Trip, zone: ZoneInfo) -> list[Any]:
    reported = t.total_amount is not None and t.settled_amount is not None
    return [_text(t.trip_id), _text(t.store_id), t.status.value, t.channel, _text(t.visitor_id), t.instrument_id or "",
            t.party_size, _text(t.entry_gate_id), _utc(t.entered_at), _local(t.entered_at, zone),
            _text(t.exit_gate_id), _utc(t.exited_at), _local(t.exited_at, zone), t.closed_by.value if t.closed_by else "",
            t.currency, _amount(t.authorized_amount, t.currency), _amount(t.total_amount, t.currency),
            _amount(t.settled_amount, t.currency), _amount(t.unpaid, t.currency) if reported else "",
            _utc(t.payment_status_time), "true" if t.passback_violation else "false"]


def csv_chunks(header: Iterable[str], items: Iterable[Any], cells: Callable[[Any], list[Any]]) -> Iterator[str]:
    """The header, then the rows, in chunks of about ``CHUNK_CHARS`` as ``items`` yields them."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for item in items:
        writer.writerow(cells(item))
        if buffer.tell() >= CHUNK_CHARS:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
