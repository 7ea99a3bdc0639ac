"""Risk operations (DESIGN 14): allow and block lists, store rules and their test, the review queue.

A retailer key acts on its own lists, stores and reviews; the operator's token on any (naming the
retailer of a new list item with ``retailerId``). Another retailer's item, store or review is 404.
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from entrygate.api.body import read_bytes, read_json
from entrygate.api.deps import container, principal
from entrygate.api.openapi import body, query, secured
from entrygate.api.responses import FastJSONResponse
from entrygate.domain.keys import KeyKind
from entrygate.wire.parse import parse, parse_json_array
from entrygate.wire.risk_ops import (
    LIST_ITEM_EXAMPLE,
    RULES_EXAMPLE,
    ListItemIn,
    ListItemOut,
    ListItemsOut,
    ReviewOut,
    ReviewsOut,
    RulesIn,
    RulesTestIn,
    RulesTestOut,
    StoreRules,
    VerdictIn,
    item_view,
    list_name,
    review_view,
    rule_view,
    rules_test_answer,
)

router = APIRouter(tags=["risk operations"])
MANAGERS = (KeyKind.RETAILER, KeyKind.OPERATOR)


async def _json(request: Request) -> Any:
    return await read_json(request, max_bytes=container(request).settings.max_body_bytes, refuse_pan=True)


class _ListQuery(BaseModel):
    retailerId: str | None = Field(default=None, max_length=64,
                                   description="With the operator's token (and then required): whose list. A retailer "
                                               "key reads its own list only.")


@router.post("/v1/lists/{listName}/items", status_code=201, response_model=ListItemOut,
             summary="Add an item to the retailer's allow or block list",
             openapi_extra=secured(*MANAGERS) | body(ListItemIn, example=LIST_ITEM_EXAMPLE))
async def add_list_item(listName: str, request: Request) -> FastJSONResponse:
    who = principal(request, *MANAGERS)
    name = list_name(listName)
    given = parse(ListItemIn, await _json(request))
    item = await run_in_threadpool(container(request).lists.add, who, name, given.new_item(),
                                   retailer_id=given.retailerId)
    return FastJSONResponse(item_view(item), status_code=201)


@router.get("/v1/lists/{listName}/items", response_model=ListItemsOut, summary="The retailer's allow or block list",
            openapi_extra=secured(*MANAGERS) | query(_ListQuery))
async def list_items(listName: str, request: Request) -> dict[str, Any]:
    who = principal(request, *MANAGERS)
    name = list_name(listName)
    q = parse(_ListQuery, dict(request.query_params))
    items = await run_in_threadpool(container(request).lists.list, who, name, retailer_id=q.retailerId)
    return {"items": [item_view(i) for i in items]}


@router.get("/v1/lists/{listName}/items/{itemId}", response_model=ListItemOut, summary="One list item",
            openapi_extra=secured(*MANAGERS))
async def get_list_item(listName: str, itemId: str, request: Request) -> dict[str, Any]:
    who = principal(request, *MANAGERS)
    return item_view(await run_in_threadpool(container(request).lists.get, who, list_name(listName), itemId))


@router.delete("/v1/lists/{listName}/items/{itemId}", status_code=204,
               summary="Remove a list item (a FEEDBACK block is lifted unless another retailer's label holds it)",
               openapi_extra=secured(*MANAGERS))
async def delete_list_item(listName: str, itemId: str, request: Request) -> Response:
    who = principal(request, *MANAGERS)
    await run_in_threadpool(container(request).lists.delete, who, list_name(listName), itemId)
    return Response(status_code=204)


@router.put("/v1/stores/{storeId}/rules", response_model=StoreRules, response_model_exclude_none=True,
            summary="Replace the store's rules (CEL expressions); [] clears them",
            openapi_extra=secured(*MANAGERS) | body(RulesIn, example=RULES_EXAMPLE))  # type: ignore[arg-type]
async def put_rules(storeId: str, request: Request) -> list[dict[str, Any]]:
    who = principal(request, *MANAGERS)
    raw = await read_bytes(request, max_bytes=container(request).settings.max_body_bytes)
    given = parse(RulesIn, parse_json_array(raw, refuse_pan=True))
    stored = await run_in_threadpool(container(request).rules.put, who, storeId, given.rules())
    return [rule_view(r) for r in stored]


@router.get("/v1/stores/{storeId}/rules", response_model=StoreRules, response_model_exclude_none=True,
            summary="The store's rules, in order", openapi_extra=secured(*MANAGERS))
async def get_rules(storeId: str, request: Request) -> list[dict[str, Any]]:
    who = principal(request, *MANAGERS)
    return [rule_view(r) for r in await run_in_threadpool(container(request).rules.get, who, storeId)]


@router.post("/v1/stores/{storeId}/rules/test", response_model=RulesTestOut,
             summary="Run rules (the given ones, or the stored ones) on sample facts; records nothing",
             openapi_extra=secured(*MANAGERS)
             | body(RulesTestIn, example={"facts": {"partySize": 5, "localHour": 3}, "rules": RULES_EXAMPLE}))
async def test_rules(storeId: str, request: Request) -> dict[str, Any]:
    who = principal(request, *MANAGERS)
    given = parse(RulesTestIn, await _json(request))
    rules = [r.rule() for r in given.rules] if given.rules is not None else None
    outcome = await run_in_threadpool(container(request).rules.test, who, storeId, given.facts.facts(), rules)
    return rules_test_answer(outcome)


class _ReviewQuery(BaseModel):
    pending: bool = Field(default=False, description="true: only the reviews still without a verdict.")


@router.get("/v1/stores/{storeId}/reviews", response_model=ReviewsOut,
            summary="The store's review queue: entries a REVIEW rule let in, newest first",
            openapi_extra=secured(*MANAGERS) | query(_ReviewQuery))
async def list_reviews(storeId: str, request: Request) -> dict[str, Any]:
    who = principal(request, *MANAGERS)
    q = parse(_ReviewQuery, dict(request.query_params))
    reviews = await run_in_threadpool(container(request).reviews.list, who, storeId, pending_only=q.pending)
    return {"reviews": [review_view(r) for r in reviews]}


@router.post("/v1/reviews/{reviewId}", response_model=ReviewOut,
             summary="Give a review its verdict (FRAUD: a CustomerFraud label; BAD_DEBT: BadDebt; OK: none); once",
             openapi_extra=secured(*MANAGERS, errors={409: "CONFLICT: the review has its verdict already."})
             | body(VerdictIn, example={"outcome": "FRAUD"}))
async def decide_review(reviewId: str, request: Request) -> dict[str, Any]:
    who = principal(request, *MANAGERS)
    given = parse(VerdictIn, await _json(request))
    return review_view(await run_in_threadpool(container(request).reviews.decide, who, reviewId, given.outcome))
