"""A store's traffic: live decisions and the dashboard (trips and balances: ``routes_trips.py``)."""
from __future__ import annotations

from datetime import UTC
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, Request, Response

from entrygate.console import charts
from entrygate.console.routes_investigation import gate_context
from entrygate.console.web import ConsoleRoute, Visit, call, container, localtime, render, signed_in
from entrygate.domain.channels import Channel, DecisionOutcome
from entrygate.services.console.dashboard import WINDOWS_MINUTES, Dashboard, LiveFilter

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

CHANNELS = [c.value for c in Channel]
OUTCOMES = [o.value for o in DecisionOutcome]


def _filters(request: Request) -> LiveFilter:
    q = request.query_params
    channel = q.get("channel") if q.get("channel") in CHANNELS else None
    outcome = q.get("decision") if q.get("decision") in OUTCOMES else None
    return LiveFilter(gate_id=(q.get("gate") or None), channel=channel, outcome=outcome)


@router.get("/console/stores/{store_id}/live")
async def live(store_id: str, request: Request, visit: Visit = Depends(signed_in)) -> Response:
    c = container(request)
    store = await call(c.admin.get_store, visit.principal, store_id)
    gates = await call(c.admin.list_gates, visit.principal, store_id)
    filters = _filters(request)
    rows = await call(c.dashboard.live, visit.principal, store_id, filters=filters)
    event_id = request.query_params.get("event")
    simulated = await call(c.dashboard.decision, visit.principal, store_id, event_id) if event_id else None
    query = urlencode({k: v for k, v in (("gate", filters.gate_id), ("channel", filters.channel),
                                         ("decision", filters.outcome)) if v})
    statuses = await call(c.investigation.gate_statuses, visit.principal, store_id)
    return render(request, "live.html", {
        "store": store, "tab": "live", "rows": rows, "filters": filters, "gates": gates, "channels": CHANNELS,
        "outcomes": OUTCOMES, "after": max((r.decision_id for r in rows), default=0), "query": query,
        "simulated": simulated, "simulated_event": event_id, "updated": _store_now(request, store.timezone),
        **gate_context(store, statuses)})


@router.get("/console/stores/{store_id}/live/rows")
async def live_rows(store_id: str, request: Request, visit: Visit = Depends(signed_in)) -> Response:
    c = container(request)
    store = await call(c.admin.get_store, visit.principal, store_id)
    after = request.query_params.get("after", "0")
    after_id = int(after) if after.isdigit() else 0
    rows = await call(c.dashboard.live, visit.principal, store_id, filters=_filters(request), after_id=after_id)
    response = render(request, "_live_rows.html", {"store": store, "rows": rows})
    response.headers["X-Console-After"] = str(max([after_id, *(r.decision_id for r in rows)]))
    # The page says when it was last updated on the store's clock, never the browser's (one clock).
    response.headers["X-Console-Updated"] = _store_now(request, store.timezone)
    return response


def _store_now(request: Request, tz: str) -> str:
    return localtime(container(request).clock.now(), tz, "%H:%M:%S")


@router.get("/console/stores/{store_id}/dashboard")
async def dashboard(store_id: str, request: Request, visit: Visit = Depends(signed_in)) -> Response:
    window = request.query_params.get("window", "60")
    minutes = int(window) if window.isdigit() and int(window) in WINDOWS_MINUTES else 60
    board = await call(container(request).dashboard.dashboard, visit.principal, store_id, window_minutes=minutes)
    return render(request, "dashboard.html", {"store": board.store, "tab": "dashboard", "board": board,
                                              "windows": WINDOWS_MINUTES, "charts": dashboard_charts(board)},
                  fragment="_dashboard_charts.html")


def dashboard_charts(board: Dashboard) -> dict[str, Any]:
    try:
        zone: Any = ZoneInfo(board.store.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    minutes = [m.minute.astimezone(zone) for m in board.per_minute]
    step = max(1, len(minutes) // 6)
    return {
        "per_minute": charts.stacked_columns(
            "chart-decisions", "Decisions per minute by outcome",
            f"{board.opened} opened and {board.denied} denied in the last {board.window_minutes} minutes.",
            minutes, [charts.Series("Opened", "bar-open", [m.opened for m in board.per_minute]),
                      charts.Series("Denied", "bar-deny", [m.denied for m in board.per_minute])],
            label_every=step),
        "reasons": charts.bars(
            "chart-reasons", "Denial reasons",
            "; ".join(f"{code} {n}" for code, _, n in board.denial_reasons) or "No denials in this window.",
            [(code, n) for code, _, n in board.denial_reasons]),
        "risk": charts.columns(
            "chart-risk", "Risk score distribution",
            f"Decisions by risk score in bands of ten; {sum(n for _, n in board.risk_buckets)} scored.",
            [f"{start}–{start + 9 if start < 90 else 100}" for start, _ in board.risk_buckets],
            [n for _, n in board.risk_buckets], css="bar"),
        "latency": charts.columns(
            "chart-latency", "Decision latency percentiles",
            ", ".join(f"p{p} {v:.1f} ms" for p, v in board.latency.items()) or "No decisions in this window.",
            [f"p{p}" for p in board.latency] + (["max"] if board.latency_max is not None else []),
            list(board.latency.values()) + ([board.latency_max] if board.latency_max is not None else []),
            css="bar-latency", unit=" ms"),
    }
