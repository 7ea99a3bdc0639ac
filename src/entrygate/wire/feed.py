"""The retailer's decision list and the decisions feed (DESIGN 4.2, 13) as OpenAPI sees them."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ReasonView(BaseModel):
    code: str
    message: str


class DecisionView(BaseModel):
    """A stored decision: the gate's answer (DESIGN 4.1), and where and when it was given."""

    model_config = ConfigDict(extra="allow")

    eventId: str
    decision: str = Field(description="OPEN or DENY")
    shoppingTripId: str | None
    visitor: dict[str, Any] | None
    reasons: list[ReasonView]
    risk: dict[str, Any] | None
    authorizedAmount: dict[str, Any] | None
    decidedBy: str
    latencyMs: float
    partySize: int
    storeId: str
    gateId: str
    channel: str
    decidedAt: str = Field(description="when the decision was made, ISO-8601 UTC")


class DecisionList(BaseModel):
    decisions: list[DecisionView]
    nextCursor: str | None = Field(
        default=None, description="with ?after=: the cursor to ask with next (the same as after when the page is "
                                  "empty); absent for ?since=")
