"""Risk operations in the console (DESIGN 14): the retailer's allow and block lists, a store's rules with a
test box, and the review queue with its verdict buttons.

The forms call the same use cases as the API (``container.lists``, ``.rules``, ``.reviews``) with the
signed-in user's principal, and parse through ``wire.risk_ops`` so both edges accept and refuse the
same input. A refused form shows its page again with the reason (400); a done one redirects.
"""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response
from starlette.datastructures import FormData

from entrygate.console.web import ConsoleRoute, Visit, call, checked_form, container, redirect, render, signed_in
from entrygate.domain.risk_ops import ItemSource, ListName, RuleAction, RulesOutcome
from entrygate.services.errors import InvalidRequest
from entrygate.services.ports.risk_ops import sample_facts
from entrygate.wire.parse import parse
from entrygate.wire.risk_ops import ListItemIn, RulesIn, VerdictIn, list_name, rule_view

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
EXTRA_RULE_ROWS = 2  # empty rows under the stored rules, to add new ones


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _rules_url(store_id: str) -> str:
    return f"/console/stores/{quote(store_id, safe='')}/rules"


# --- lists ------------------------------------------------------------------------------------------

async def _lists_page(request: Request, visit: Visit, *, status: int = 200, problem: str | None = None,
                      typed: dict[str, str] | None = None) -> Response:
    c = container(request)
    lists = {name.path: await call(c.lists.list, visit.principal, name) for name in ListName}
    return render(request, "lists.html", {"lists": lists, "problem": problem, "typed": typed or {},
                                          "done": request.query_params.get("done") if status == 200 else None},
                  status=status)


@router.get("/console/lists")
async def lists_page(request: Request, visit: Visit = Depends(signed_in)) -> Response:
    return await _lists_page(request, visit)


@router.post("/console/lists/items")
async def add_item(request: Request, visit: Visit = Depends(signed_in),
                   form: FormData = Depends(checked_form)) -> Response:
    typed = {k: _field(form, k) for k in ("list", "type", "value", "note", "expiresAt")}
    try:
        name = list_name(typed["list"] or "block")
        given = parse(ListItemIn, {k: v for k, v in typed.items() if v and k != "list"})
        await call(container(request).lists.add, visit.principal, name, given.new_item(), source=ItemSource.CONSOLE)
    except InvalidRequest as exc:
        return await _lists_page(request, visit, status=400, problem=exc.message, typed=typed)
    return redirect("/console/lists?done=added")


@router.post("/console/lists/{list_path}/items/{item_id}/delete")
async def delete_item(list_path: str, item_id: str, request: Request, visit: Visit = Depends(signed_in),
                      form: FormData = Depends(checked_form)) -> Response:
    await call(container(request).lists.delete, visit.principal, list_name(list_path), item_id)
    return redirect("/console/lists?done=removed")


# --- rules ------------------------------------------------------------------------------------------

def _rows(rules: list[dict[str, Any]]) -> list[dict[str, str]]:
    rows = [{"name": r.get("name", ""), "when": r.get("when", ""), "action": r.get("action", "DENY"),
             "amount": str((r.get("amount") or {}).get("value", "")) if isinstance(r.get("amount"), dict)
             else str(r.get("amount") or "")} for r in rules]
    return rows + [{"name": "", "when": "", "action": "DENY", "amount": ""} for _ in range(EXTRA_RULE_ROWS)]


def _typed_rules(form: FormData) -> list[dict[str, str]]:
    """The rule rows as typed, in order; a row with neither name nor expression is left out."""
    out, i = [], 0
    while f"name-{i}" in form or f"when-{i}" in form:
        row = {k: _field(form, f"{k}-{i}") for k in ("name", "when", "action", "amount")}
        if row["name"] or row["when"]:
            out.append(row)
        i += 1
    return out


def _rules_body(rows: list[dict[str, str]], currency: str) -> list[dict[str, Any]]:
    body: list[dict[str, Any]] = []
    for row in rows:
        rule: dict[str, Any] = {"name": row["name"], "when": row["when"], "action": row["action"]}
        if row["action"] == RuleAction.ADJUST.value and row["amount"]:
            rule["amount"] = {"value": row["amount"], "currencyCode": currency}
        body.append(rule)
    return body


async def _rules_page(request: Request, visit: Visit, store_id: str, *, status: int = 200,
                      rows: list[dict[str, str]] | None = None, problem: str | None = None,
                      facts: str | None = None, tested: RulesOutcome | None = None) -> Response:
    c = container(request)
    store = await call(c.admin.get_store, visit.principal, store_id)
    if rows is None:
        rows = _rows([rule_view(r) for r in await call(c.rules.get, visit.principal, store_id)])
    else:
        rows = rows + _rows([])
    return render(request, "rules.html", {
        "store": store, "tab": "rules", "rows": rows, "actions": [a.value for a in RuleAction], "problem": problem,
        "facts": facts if facts is not None else json.dumps(sample_facts(), indent=2), "tested": tested,
        "done": request.query_params.get("done") if status == 200 else None}, status=status)


@router.get("/console/stores/{store_id}/rules")
async def rules_page(store_id: str, request: Request, visit: Visit = Depends(signed_in)) -> Response:
    return await _rules_page(request, visit, store_id)


@router.post("/console/stores/{store_id}/rules")
async def save_rules(store_id: str, request: Request, visit: Visit = Depends(signed_in),
                     form: FormData = Depends(checked_form)) -> Response:
    c = container(request)
    store = await call(c.admin.get_store, visit.principal, store_id)
    rows = _typed_rules(form)
    try:
        rules = parse(RulesIn, _rules_body(rows, store.currency)).rules()
        await call(c.rules.put, visit.principal, store_id, rules)
    except InvalidRequest as exc:
        return await _rules_page(request, visit, store_id, status=400, rows=rows, problem=exc.message,
                                 facts=_field(form, "facts") or None)
    return redirect(_rules_url(store_id) + "?done=saved")


@router.post("/console/stores/{store_id}/rules/test")
async def test_rules(store_id: str, request: Request, visit: Visit = Depends(signed_in),
                     form: FormData = Depends(checked_form)) -> Response:
    """Run the rules as typed (not saved) on the facts in the test box; records nothing."""
    c = container(request)
    store = await call(c.admin.get_store, visit.principal, store_id)
    rows, facts_text = _typed_rules(form), _field(form, "facts")
    try:
        try:
            facts = json.loads(facts_text or "{}")
        except json.JSONDecodeError as exc:
            raise InvalidRequest(f"facts: is not valid JSON ({exc.msg})", fields=["facts"]) from None
        if not isinstance(facts, dict):
            raise InvalidRequest("facts: must be a JSON object", fields=["facts"])
        rules = parse(RulesIn, _rules_body(rows, store.currency)).rules()
        tested = await call(c.rules.test, visit.principal, store_id, facts, rules)
    except InvalidRequest as exc:
        return await _rules_page(request, visit, store_id, status=400, rows=rows, problem=exc.message,
                                 facts=facts_text)
    return await _rules_page(request, visit, store_id, rows=rows, facts=facts_text, tested=tested)


# --- reviews ----------------------------------------------------------------------------------------

@router.get("/console/stores/{store_id}/reviews")
async def reviews_page(store_id: str, request: Request, visit: Visit = Depends(signed_in)) -> Response:
    c = container(request)
    store = await call(c.admin.get_store, visit.principal, store_id)
    queue = await call(c.reviews.list, visit.principal, store_id)
    return render(request, "reviews.html", {"store": store, "tab": "reviews", "reviews": queue,
                                            "done": request.query_params.get("done")})


@router.post("/console/stores/{store_id}/reviews/{review_id}")
async def decide_review(store_id: str, review_id: str, request: Request, visit: Visit = Depends(signed_in),
                        form: FormData = Depends(checked_form)) -> Response:
    given = parse(VerdictIn, {"outcome": _field(form, "outcome")})
    await call(container(request).reviews.decide, visit.principal, review_id, given.outcome)
    return redirect(f"/console/stores/{quote(store_id, safe='')}/reviews?done={given.outcome.value.lower()}")
