"""The retailer's read API (DESIGN 4.2): its own trips and decisions."""
from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import AwareDatetime, BaseModel, Field
from starlette.concurrency import run_in_threadpool

from entrygate.api.deps import container, principal
from entrygate.api.openapi import query, secured
from entrygate.api.responses import FastJSONResponse
from entrygate.domain.channels import TripStatus
from entrygate.domain.keys import KeyKind
from entrygate.services.errors import InvalidRequest
from entrygate.wire.answers import DecisionListOut, TripListOut, TripOut
from entrygate.wire.decisions import decision_view
from entrygate.wire.parse import parse
from entrygate.wire.trips import trip_view

router = APIRouter(tags=["retailer"])
READERS = (KeyKind.RETAILER, KeyKind.OPERATOR)


class TripQuery(BaseModel):
    status: TripStatus | None = Field(default=None, description="Only trips in this status; all when absent.")
    limit: int = Field(default=100, ge=1, le=1000, description="At most this many trips, newest first.")


class DecisionQuery(BaseModel):
    since: AwareDatetime | None = Field(default=None, description="Only decisions made after this time (ISO 8601 "
                                                                  "with a UTC offset), oldest first; without it, "
                                                                  "the newest first.")
    limit: int = Field(default=100, ge=1, le=1000, description="At most this many decisions.")
    after: str | None = Field(default=None, max_length=200,
                              description="The feed's cursor: 0 for the store's first decision, then each answer's "
                                          "nextCursor; every decision comes once, in commit order. Not with since.")


_TRIP_404 = {404: "NOT_FOUND: no such trip, or one of another retailer."}
_STORE_404 = {404: "NOT_FOUND: no such store, or one of another retailer."}


@router.get("/v1/trips/{shoppingTripId}", summary="Get a trip", response_model=TripOut,
            openapi_extra=secured(*READERS, errors=_TRIP_404))
async def get_trip(shoppingTripId: str, request: Request) -> FastJSONResponse:
    who = principal(request, *READERS)
    found = await run_in_threadpool(container(request).trip_views.trip, who, shoppingTripId)
    return FastJSONResponse(trip_view(found.trip, found.hold))


@router.get("/v1/stores/{storeId}/trips", summary="List a store's trips", response_model=TripListOut,
            openapi_extra=secured(*READERS, errors=_STORE_404) | query(TripQuery))
async def list_trips(storeId: str, request: Request) -> FastJSONResponse:
    who = principal(request, *READERS)
    q = parse(TripQuery, dict(request.query_params))
    trips = await run_in_threadpool(container(request).trip_views.trips, who, storeId,
                                    status=q.status.value if q.status else None, limit=q.limit)
    return FastJSONResponse({"trips": [trip_view(t.trip, t.hold) for t in trips]})


@router.get("/v1/stores/{storeId}/decisions", response_model=DecisionListOut,
            summary="A store's decisions: the feed (?after=cursor, every decision once, in commit order), or since a time",
            openapi_extra=secured(*READERS, errors=_STORE_404) | query(DecisionQuery))
async def list_decisions(storeId: str, request: Request) -> FastJSONResponse:
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
        return FastJSONResponse({"decisions": [decision_view(r) for r in page.decisions], "nextCursor": page.next_cursor})
    since: datetime | None = q.since
    records = await run_in_threadpool(c.queries.decisions, who, storeId, since=since, limit=q.limit)
    return FastJSONResponse({"decisions": [decision_view(r) for r in records]})
