"""A store's trips: the list, a trip's page with its pre-authorization, its capture, release and close; balances.

The buttons call the same use cases as the retailer API (``container.holds``,
``container.trip_closing``) with the signed-in user's principal, its retailer's. A refused
operation shows the trip page again with the reason in words (409 or 400); a done one redirects to
the trip page, so reloading it sends nothing again.
"""
from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response
from starlette.datastructures import FormData

from entrygate.console import holds
from entrygate.console.display import amount_input
from entrygate.console.web import ConsoleRoute, Visit, call, checked_form, container, redirect, render, signed_in
from entrygate.domain.channels import TripStatus
from entrygate.domain.records import Trip
from entrygate.domain.store import StoreConfig
from entrygate.services.errors import Conflict, InvalidRequest, NotFound, Unavailable

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

_DONE = ("capture", "release", "closed", "already_closed")


def _trip_url(store_id: str, trip_id: str) -> str:
    return f"/console/stores/{quote(store_id, safe='')}/trips/{quote(trip_id, safe='')}"


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


async def _store_trip(request: Request, visit: Visit, store_id: str, trip_id: str) -> tuple[StoreConfig, Trip]:
    """The store and its trip; a trip of another store (or retailer) is not found."""
    c = container(request)
    store = await call(c.admin.get_store, visit.principal, store_id)
    trip = await call(c.queries.trip, visit.principal, trip_id)
    if trip.store_id != store.store_id:
        raise NotFound(f"trip {trip_id} not found")
    return store, trip


@router.get("/console/stores/{store_id}/trips")
async def trips(store_id: str, request: Request, visit: Visit = Depends(signed_in)) -> Response:
    c = container(request)
    store = await call(c.admin.get_store, visit.principal, store_id)
    status = request.query_params.get("status")
    status = status if status in ("OPEN", "CLOSED") else None
    listed = await call(c.queries.trips, visit.principal, store_id, status=status, limit=200)
    statuses = await call(c.dashboard.hold_statuses, visit.principal, store_id, listed)
    return render(request, "trips.html", {"store": store, "tab": "trips", "trips": listed, "status": status,
                                          "hold_statuses": statuses, "hold_css": holds.STATUS_CSS})


async def _trip_page(request: Request, visit: Visit, store_id: str, trip_id: str, *, status: int = 200,
                     problem: holds.Problem | None = None, typed_amount: str | None = None,
                     keys: dict[str, str] | None = None) -> Response:
    c = container(request)
    store, trip = await _store_trip(request, visit, store_id, trip_id)
    decisions, exits = await call(c.dashboard.trip_history, visit.principal, trip)
    hold = await call(c.holds.get, visit.principal, trip_id)
    done = request.query_params.get("done") if status == 200 else None
    return render(request, "trip.html", {
        "store": store, "tab": "trips", "trip": trip, "decisions": decisions, "exits": exits, "hold": hold,
        "open": trip.status is TripStatus.OPEN, "problem": problem,
        "notice": holds.notice(done if done in _DONE else None, hold),
        # A key per rendered form: sending one of this page's forms twice is one operation. After a 503
        # the form comes back with its key, so sending it again finishes that same operation.
        "capture_key": holds.new_operation_key(), "release_key": holds.new_operation_key(), **(keys or {}),
        "key_field": holds.KEY_FIELD,
        "amount_value": typed_amount if typed_amount is not None else (amount_input(hold.held) if hold else ""),
        "operations": holds.OPERATIONS, "declined": holds.DECLINED, "closed_by": holds.CLOSED_BY,
        "hold_css": holds.STATUS_CSS}, status=status)


def _kept(exc: Exception, name: str, form: FormData) -> dict[str, str]:
    """The sent form's key, kept when the operation may be pending (a 503); otherwise a fresh one is rendered."""
    key = _field(form, holds.KEY_FIELD)
    return {name: key} if isinstance(exc, Unavailable) and key else {}


@router.get("/console/stores/{store_id}/trips/{trip_id}")
async def trip(store_id: str, trip_id: str, request: Request, visit: Visit = Depends(signed_in)) -> Response:
    return await _trip_page(request, visit, store_id, trip_id)


@router.post("/console/stores/{store_id}/trips/{trip_id}/capture")
async def capture(store_id: str, trip_id: str, request: Request, visit: Visit = Depends(signed_in),
                  form: FormData = Depends(checked_form)) -> Response:
    _, found = await _store_trip(request, visit, store_id, trip_id)
    typed = _field(form, holds.AMOUNT_FIELD)
    try:
        amount = holds.parse_amount(typed, found.currency)
        await call(container(request).holds.capture, visit.principal, trip_id, amount=amount,
                   idempotency_key=_field(form, holds.KEY_FIELD) or None)
    except holds.AmountRefused as exc:
        return await _trip_page(request, visit, store_id, trip_id, status=400, problem=holds.amount_problem(exc),
                                typed_amount=typed)
    except (InvalidRequest, Conflict, Unavailable) as exc:
        refused = holds.problem(exc)
        return await _trip_page(request, visit, store_id, trip_id, status=refused.status, problem=refused,
                                typed_amount=typed, keys=_kept(exc, "capture_key", form))
    return redirect(_trip_url(store_id, trip_id) + "?done=capture#hold")


@router.post("/console/stores/{store_id}/trips/{trip_id}/release")
async def release(store_id: str, trip_id: str, request: Request, visit: Visit = Depends(signed_in),
                  form: FormData = Depends(checked_form)) -> Response:
    await _store_trip(request, visit, store_id, trip_id)
    try:
        await call(container(request).holds.cancel, visit.principal, trip_id,
                   idempotency_key=_field(form, holds.KEY_FIELD) or None)
    except (InvalidRequest, Conflict, Unavailable) as exc:
        refused = holds.problem(exc)
        return await _trip_page(request, visit, store_id, trip_id, status=refused.status, problem=refused,
                                keys=_kept(exc, "release_key", form))
    return redirect(_trip_url(store_id, trip_id) + "?done=release#hold")


@router.post("/console/stores/{store_id}/trips/{trip_id}/close")
async def close(store_id: str, trip_id: str, request: Request, visit: Visit = Depends(signed_in),
                form: FormData = Depends(checked_form)) -> Response:
    await _store_trip(request, visit, store_id, trip_id)
    # Closing is idempotent by itself: a second close answers ALREADY_CLOSED and changes nothing.
    closed = await call(container(request).trip_closing.close_trip, visit.principal, trip_id)
    return redirect(_trip_url(store_id, trip_id) + f"?done={closed.result.value.lower()}")


@router.get("/console/stores/{store_id}/balances")
async def balances(store_id: str, request: Request, visit: Visit = Depends(signed_in)) -> Response:
    c = container(request)
    store = await call(c.admin.get_store, visit.principal, store_id)
    owed = await call(c.dashboard.balances, visit.principal, store_id)
    return render(request, "balances.html", {"store": store, "tab": "balances", "balances": owed})
