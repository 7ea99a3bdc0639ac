"""The retailer's read API (DESIGN 4.2): its own trips and decisions."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import AwareDatetime, BaseModel, Field
from starlette.concurrency import run_in_threadpool

from entrygate.api.deps import container, principal
from entrygate.domain.channels import TripStatus
from entrygate.domain.keys import KeyKind
from entrygate.services.errors import InvalidRequest
from entrygate.wire.decisions import decision_view
from entrygate.wire.feed import DecisionList
from entrygate.wire.parse import parse
from entrygate.wire.trips import trip_view

router = APIRouter(tags=["retailer"])
READERS = (KeyKind.RETAILER, KeyKind.OPERATOR)


class TripQuery(BaseModel):
    status: TripStatus | None = None
    limit: int = Field(default=100, ge=1, le=1000)


class DecisionQuery(BaseModel):
    since: AwareDatetime | None = None
    after: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=100, ge=1, le=1000)


@router.get("/v1/trips/{shoppingTripId}")
async def get_trip(shoppingTripId: str, request: Request) -> dict[str, Any]:
    who = principal(request, *READERS)
    found = await run_in_threadpool(container(request).trip_views.trip, who, shoppingTripId)
    return trip_view(found.trip, found.hold)


@router.get("/v1/stores/{storeId}/trips")
async def list_trips(storeId: str, request: Request) -> dict[str, Any]:
    who = principal(request, *READERS)
    q = parse(TripQuery, dict(request.query_params))
    trips = await run_in_threadpool(container(request).trip_views.trips, who, storeId,
                                    status=q.status.value if q.status else None, limit=q.limit)
    return {"trips": [trip_view(t.trip, t.hold) for t in trips]}


@router.get("/v1/stores/{storeId}/decisions", response_model=DecisionList, response_model_exclude_unset=True,
            summary="A store's decisions: the feed (?after=cursor, every decision once, in commit order), or since a time")
async def list_decisions(storeId: str, request: Request) -> dict[str, Any]:
    """``?after=0`` starts the feed at the store's first decision; follow ``nextCursor`` from then on.
    ``?since=`` lists the decisions made after a moment, for people (a late commit can fall behind it)."""
    who = principal(request, *READERS)
    q = parse(DecisionQuery, dict(request.query_params))
    c = container(request)
    if q.after is not None:
        if q.since is not None:
            raise InvalidRequest("after and since cannot be combined: follow the feed with after alone",
                                 fields=["after", "since"])
        page = await run_in_threadpool(c.decision_feed.page, who, storeId, after=q.after, limit=q.limit)
        return {"decisions": [decision_view(r) for r in page.decisions], "nextCursor": page.next_cursor}
    since: datetime | None = q.since
    records = await run_in_threadpool(c.queries.decisions, who, storeId, since=since, limit=q.limit)
    return {"decisions": [decision_view(r) for r in records]}
