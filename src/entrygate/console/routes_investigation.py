"""Investigating decisions: a decision's page, the search with its date range, CSV exports, silent gates.

Dates in the search are days in the store's time zone (the console's one clock): ``from`` is taken
from the start of its day, ``to`` up to the end of its day. The same filters narrow the CSV export.
"""
from __future__ import annotations

import json
import re
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import StreamingResponse

from entrygate.console.exports import DECISION_COLUMNS, TRIP_COLUMNS, csv_chunks, decision_cells, trip_cells
from entrygate.console.web import SECURITY_HEADERS, ConsoleRoute, Visit, call, container, render, signed_in, store_zone
from entrygate.domain.decision import GateDecision
from entrygate.domain.reasons import ReasonCode
from entrygate.services.console.investigation import SEARCH_PAGE, SILENT_AFTER, TRAFFIC_WINDOW
from entrygate.services.ports.investigation import DecisionCriteria
from entrygate.wire.decisions import decision_answer, decision_view

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

REASONS = [r.value for r in ReasonCode]
_LAST4 = re.compile(r"[0-9]{4}")
_MAX_ID = 255
FILTER_FIELDS = ("visitor", "last4", "trip", "reason", "from", "to")


class Filters:
    """The search form as typed, what it asks for, and what was wrong with it."""

    def __init__(self, request: Request, zone: Any) -> None:
        q = request.query_params
        self.values = {name: (q.get(name) or "").strip() for name in FILTER_FIELDS}
        self.errors: dict[str, str] = {}
        v = self.values
        for name, label in (("visitor", "Visitor id"), ("trip", "Trip id")):
            if len(v[name]) > _MAX_ID:
                self.errors[name] = f"{label}: at most {_MAX_ID} characters."
        if v["last4"] and not _LAST4.fullmatch(v["last4"]):
            self.errors["last4"] = "Last 4: four digits, as printed on the card."
        if v["reason"] and v["reason"] not in REASONS:
            self.errors["reason"] = "Reason: one of the listed reason codes."
        since = self._day(v["from"], "from", zone)
        until = self._day(v["to"], "to", zone)
        if since and until and until < since:
            self.errors["to"] = "To: on or after From."
        self.criteria = DecisionCriteria(
            visitor_id=v["visitor"] or None, last4=v["last4"] or None, trip_id=v["trip"] or None,
            reason=v["reason"] or None, since=since, until=until + timedelta(days=1) if until else None)

    def _day(self, text: str, name: str, zone: Any) -> datetime | None:
        if not text:
            return None
        try:
            day = date.fromisoformat(text)
        except ValueError:
            self.errors[name] = f"{name.title()}: a date like 2026-11-27."
            return None
        return datetime.combine(day, time.min, tzinfo=zone)

    @property
    def query(self) -> str:
        return urlencode({k: v for k, v in self.values.items() if v})

    @property
    def date_query(self) -> str:
        """Just the date range: what the trips export takes."""
        return urlencode({k: self.values[k] for k in ("from", "to") if self.values[k]})


@router.get("/console/stores/{store_id}/decisions")
async def search(store_id: str, request: Request, visit: Visit = Depends(signed_in)) -> Response:
    c = container(request)
    store = await call(c.admin.get_store, visit.principal, store_id)
    filters = Filters(request, store_zone(store.timezone))
    before = request.query_params.get("before", "")
    rows = [] if filters.errors else await call(c.investigation.search, visit.principal, store_id, filters.criteria,
                                                before_id=int(before) if before.isdigit() else None)
    older = rows[-1].decision_id if len(rows) == SEARCH_PAGE else None
    return render(request, "decisions.html", {
        "store": store, "tab": "decisions", "rows": rows, "filters": filters, "reasons": REASONS, "older": older},
        status=400 if filters.errors else 200)


@router.get("/console/stores/{store_id}/decisions/{decision_id:int}")
async def decision(store_id: str, decision_id: int, request: Request, visit: Visit = Depends(signed_in)) -> Response:
    c = container(request)
    store = await call(c.admin.get_store, visit.principal, store_id)
    detail = await call(c.investigation.decision, visit.principal, store_id, decision_id)
    answer = decision_answer(GateDecision.of(detail.record))
    return render(request, "decision.html", {
        "store": store, "tab": "decisions", "detail": detail, "d": detail.row, "record": detail.record,
        "answer_json": json.dumps(answer, indent=2), "view": decision_view(detail.record)})


async def _export_filters(request: Request, visit: Visit, store_id: str) -> tuple[Any, Any, Filters, Response | None]:
    """The store, its zone and the export's filters; the search page with a 400 when a filter is wrong."""
    store = await call(container(request).admin.get_store, visit.principal, store_id)
    zone = store_zone(store.timezone)
    filters = Filters(request, zone)
    if filters.errors:
        return store, zone, filters, render(request, "decisions.html", {
            "store": store, "tab": "decisions", "rows": [], "filters": filters, "reasons": REASONS, "older": None},
            status=400)
    return store, zone, filters, None


def _download(chunks: Any, filename: str) -> StreamingResponse:
    headers = {**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{filename}"'}
    return StreamingResponse(chunks, media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/console/stores/{store_id}/decisions.csv")
async def decisions_csv(store_id: str, request: Request, visit: Visit = Depends(signed_in)) -> Response:
    c = container(request)
    store, zone, filters, refused = await _export_filters(request, visit, store_id)
    if refused is not None:
        return refused
    rows = await call(c.investigation.export_decisions, visit.principal, store_id, filters.criteria)
    chunks = csv_chunks(DECISION_COLUMNS, rows, lambda r: decision_cells(r, zone, store.store_id))
    return _download(chunks, f"decisions-{store.store_id}.csv")


@router.get("/console/stores/{store_id}/trips.csv")
async def trips_csv(store_id: str, request: Request, visit: Visit = Depends(signed_in)) -> Response:
    c = container(request)
    store, zone, filters, refused = await _export_filters(request, visit, store_id)
    if refused is not None:
        return refused
    trips = await call(c.investigation.export_trips, visit.principal, store_id, since=filters.criteria.since,
                       until=filters.criteria.until)
    return _download(csv_chunks(TRIP_COLUMNS, trips, lambda t: trip_cells(t, zone)), f"trips-{store.store_id}.csv")


@router.get("/console/stores/{store_id}/live/gates")
async def live_gates(store_id: str, request: Request, visit: Visit = Depends(signed_in)) -> Response:
    c = container(request)
    store = await call(c.admin.get_store, visit.principal, store_id)
    statuses = await call(c.investigation.gate_statuses, visit.principal, store_id)
    return render(request, "_gate_status.html", gate_context(store, statuses))


def gate_context(store: Any, statuses: Any) -> dict[str, Any]:
    return {"store": store, "gate_statuses": statuses, "silent_minutes": int(SILENT_AFTER.total_seconds() // 60),
            "window_minutes": int(TRAFFIC_WINDOW.total_seconds() // 60)}
