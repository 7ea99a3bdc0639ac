"""The risk model page (DESIGN 14): current and shadow versions, their figures, the shadow report, the
latest backtest; promote and shadow start/stop for the platform's model administrators.

The buttons call ``container.model_page`` (``services/risk_models/page.py``), which goes through the
same ``ModelOperations`` as ``entrygate risk promote`` / ``shadow``; every process serves the
change within its check interval. A refused change shows the page again with the reason.
"""
from __future__ import annotations

import functools

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import Response as PlainResponse
from starlette.datastructures import FormData

from entrygate.console import charts
from entrygate.console.web import (
    SECURITY_HEADERS,
    ConsoleRoute,
    Visit,
    call,
    checked_form,
    container,
    redirect,
    render,
    signed_in,
)
from entrygate.domain.audit import Actor, ActorType
from entrygate.risk.backtest import SCORE_BINS
from entrygate.services.errors import InvalidRequest, NotFound

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

PAGE = "/console/models"
_DONE = {"promoted": "Promoted: every process serves it within 10 seconds.",
         "shadow": "Shadow started: every process scores live decisions with it within 10 seconds.",
         "stopped": "Shadow stopped."}
_BIN_LABELS = [f"{i * 100 // SCORE_BINS}" for i in range(SCORE_BINS)]


def _version(form: FormData) -> str:
    value = form.get("version")
    return value.strip() if isinstance(value, str) else ""


async def _page(request: Request, visit: Visit, *, status: int = 200, problem: str | None = None) -> Response:
    page = await call(container(request).model_page.page, visit.user.email)
    done = request.query_params.get("done") if status == 200 else None
    report = page.report
    histograms = {}
    if report is not None:
        for side, css in (("current", "bar"), ("shadow", "bar-deny")):
            histograms[side] = charts.columns(
                f"shadow-{side}", f"Scores by the {side} model",
                f"How many of the {report.decisions} shadowed decisions the {side} model scored in each band of "
                "five points; the table beside it gives the same counts by level.", _BIN_LABELS,
                report.histograms[side], css=css)
    return render(request, "models.html", {
        "page": page, "problem": problem, "notice": _DONE.get(done or ""), "histograms": histograms,
        "tolerances": ("LOW", "MEDIUM", "HIGH")}, status=status)


@router.get(PAGE)
async def models(request: Request, visit: Visit = Depends(signed_in)) -> Response:
    return await _page(request, visit)


@router.get(PAGE + "/backtest.png")
async def backtest_plot(request: Request, visit: Visit = Depends(signed_in)) -> Response:
    png = await call(container(request).model_page.backtest_plot, visit.user.email)
    if png is None:
        raise NotFound("no backtest plot recorded")
    return PlainResponse(png, media_type="image/png", headers=SECURITY_HEADERS)


@router.post(PAGE + "/promote")
async def promote(request: Request, form: FormData = Depends(checked_form), visit: Visit = Depends(signed_in)) -> Response:
    return await _change(request, visit, "promoted", container(request).model_page.promote, _version(form))


@router.post(PAGE + "/shadow")
async def start_shadow(request: Request, form: FormData = Depends(checked_form),
                       visit: Visit = Depends(signed_in)) -> Response:
    return await _change(request, visit, "shadow", container(request).model_page.start_shadow, _version(form))


@router.post(PAGE + "/shadow/stop")
async def stop_shadow(request: Request, form: FormData = Depends(checked_form),
                      visit: Visit = Depends(signed_in)) -> Response:
    return await _change(request, visit, "stopped", container(request).model_page.stop_shadow)


async def _change(request: Request, visit: Visit, done: str, change, *args: str) -> Response:  # noqa: ANN001
    try:
        by = Actor(ActorType.CONSOLE_USER, visit.user.user_id, visit.user.email)  # as the audit log names people
        await call(functools.partial(change, by=by), visit.user.email, *args)
    except InvalidRequest as exc:
        return await _page(request, visit, status=400, problem=exc.message)
    return redirect(f"{PAGE}?done={done}")
