"""Stores and gates: list, create, set up, test the QR pattern and the connectors, simulate an entry."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

import structlog
from fastapi import APIRouter, Depends, Request, Response
from starlette.datastructures import FormData

from entrygate.console import forms
from entrygate.console.roles import anyone
from entrygate.console.simulate import TEST_CARDS, simulate_entry
from entrygate.console.web import (
    ConsoleRoute,
    Visit,
    call,
    checked_form,
    container,
    is_fragment,
    redirect,
    render,
    signed_in,
)
from entrygate.domain import patterns
from entrygate.domain.badges import FORMAT_NAMES
from entrygate.domain.channels import (
    AntiPassback,
    Channel,
    FallbackDecision,
    GateDirection,
    RiskStrategy,
    RiskTolerance,
)
from entrygate.domain.store import CONNECTOR_NAMES, DEFAULT_QR_PATTERN, MAX_PARTY_SIZE_LIMIT, StoreConfig
from entrygate.services.errors import Conflict, InvalidRequest, ServiceError
from entrygate.wire.parse import parse
from entrygate.wire.schemas import StoreIn, StorePatch
from entrygate.wire.stores import change_from_patch, draft_from_input

log = structlog.get_logger("entrygate.console")
router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

MAX_SCAN_LENGTH = patterns.MAX_SCAN_LENGTH  # the gate API's limit for a QR scan value

OPTIONS = {
    "channels": [(Channel.CREDIT_CARD.value, "Credit card", "Tap or insert a payment card; entrygate authenticates it."),
                 (Channel.PALM.value, "Palm", "A palm enrolled with a payment card; entrygate matches it."),
                 (Channel.QR_CODE.value, "QR code", "A code from your app; your identity connector decides who it is."),
                 (Channel.BADGE.value, "Badge", "An RFID badge; your identity connector decides who it is.")],
    "strategies": [
        (RiskStrategy.PLATFORM_MANAGED.value, "Platform managed",
         "entrygate decides card and palm entries: its risk model, deny list and outstanding balances."),
        (RiskStrategy.PLATFORM_RECOMMENDATION.value, "Platform recommendation",
         "entrygate recommends; your shopper-authorization connector decides."),
        (RiskStrategy.RETAILER_MANAGED.value, "Retailer managed",
         "Your shopper-authorization connector owns the risk decision and the balance data."),
        (RiskStrategy.NONE.value, "Baseline only",
         "A valid card and an approved pre-authorization open the gate.")],
    "tolerances": [(t.value, t.value) for t in RiskTolerance],
    "fallbacks": [(FallbackDecision.DENY.value, "Deny", "Keep the gate closed."),
                  (FallbackDecision.ALLOW.value, "Allow", "Open the gate (the pre-authorization still applies)."),
                  (FallbackDecision.USE_RECOMMENDATION.value, "Use the recommendation",
                   "Follow entrygate's own recommendation (not under Retailer managed).")],
    "passbacks": [(AntiPassback.NONE.value, "Off", "A credential may enter again while its trip is open."),
                  (AntiPassback.SOFT.value, "Soft", "Let it in again, and note the repeat."),
                  (AntiPassback.HARD.value, "Hard", "Refuse a second entry while a trip is open.")],
    "badge_formats": sorted(FORMAT_NAMES),
    "connectors": [("identity", "Identity connector", "Asked who a QR code or badge belongs to."),
                   ("shopperAuthorization", "Shopper-authorization connector",
                    "Asked to authorize card and palm entries under the recommendation and retailer strategies.")],
    "max_party": MAX_PARTY_SIZE_LIMIT,
    "default_qr": DEFAULT_QR_PATTERN,
}

# Names match the API's (one vocabulary): every choice is labelled with its words and its API value,
# "Baseline only (NONE)", so what the console shows is what a request sends.
for _group in ("channels", "strategies", "fallbacks", "passbacks"):
    OPTIONS[_group] = [(value, f"{label} ({value})", hint) for value, label, hint in OPTIONS[_group]]


def _form_page(request: Request, template: str, *, values: dict[str, Any], store: StoreConfig | None = None,
               errors: dict[str, str] | None = None, status: int = 200, **extra: Any) -> Response:
    return render(request, template, {"store": store, "values": values, "errors": errors or {}, "opt": OPTIONS,
                                      "tab": "setup", **extra}, status=status)


# -- list and create ------------------------------------------------------------------------------


@router.get("/console/stores")
async def list_stores(request: Request, visit: Visit = Depends(signed_in)) -> Response:
    stores = await call(container(request).admin.list_stores, visit.principal)
    return render(request, "stores.html", {"stores": stores})


@router.get("/console/new-store")
async def new_store(request: Request, visit: Visit = Depends(signed_in)) -> Response:
    return _form_page(request, "store_new.html", values=forms.new_store_values())


@router.post("/console/stores")
async def create_store(request: Request, visit: Visit = Depends(signed_in),
                       form: FormData = Depends(checked_form)) -> Response:
    try:
        body = forms.store_body(form)
        forms.check_timezone(body["timezone"])
        draft = draft_from_input(parse(StoreIn, body), visit.user.retailer_id)
        saved = await call(container(request).admin.add_store, visit.principal, draft)
    except (InvalidRequest, Conflict) as exc:
        return _form_page(request, "store_new.html", values=forms.values_from_form(form),
                          errors=forms.field_errors(exc), status=400)
    store = saved.store
    if saved.generated_secrets:
        return _form_page(request, "setup.html", store=store, values=forms.values_from_store(store),
                          secrets=saved.generated_secrets, notice="The store is created.", status=201)
    return redirect(f"/console/stores/{quote(store.store_id)}")


# -- a store's overview: gates and the simulated entry ------------------------------------------


async def _overview(request: Request, visit: Visit, store_id: str, *, status: int = 200, **extra: Any) -> Response:
    c = container(request)
    store = await call(c.admin.get_store, visit.principal, store_id)
    gates = await call(c.admin.list_gates, visit.principal, store_id)
    return render(request, "store.html", {"store": store, "gates": gates, "tab": "overview", "cards": TEST_CARDS,
                                          "entry_gates": [g for g in gates if g.direction is GateDirection.ENTRY],
                                          "errors": {}, **extra}, status=status)


@router.get("/console/stores/{store_id}")
async def store_page(store_id: str, request: Request, visit: Visit = Depends(signed_in)) -> Response:
    return await _overview(request, visit, store_id)


@router.post("/console/stores/{store_id}/gates")
async def add_gate(store_id: str, request: Request, visit: Visit = Depends(signed_in),
                   form: FormData = Depends(checked_form)) -> Response:
    gate_id = str(form.get("gateId") or "").strip()
    direction = str(form.get("direction") or "ENTRY")
    try:
        if direction not in GateDirection.__members__:
            raise InvalidRequest("direction: choose entry or exit", fields=["direction"])
        created = await call(container(request).admin.add_gate, visit.principal, store_id, gate_id=gate_id,
                             direction=GateDirection(direction))
    except (InvalidRequest, Conflict) as exc:
        return await _overview(request, visit, store_id, status=400, errors=_gate_errors(exc),
                               gate_values={"gateId": gate_id, "direction": direction})
    return await _overview(request, visit, store_id, status=201, new_gate=created, new_gate_direction=direction)


def _gate_errors(exc: ServiceError) -> dict[str, str]:
    if "direction" in exc.fields:
        return {"direction": "Choose entry or exit."}
    if isinstance(exc, Conflict):
        return {"gateId": exc.message[:1].upper() + exc.message[1:] + "."}
    return {"gateId": "Use 1 to 255 letters, digits, hyphens or underscores."}


@router.post("/console/stores/{store_id}/gates/{gate_id}/enabled")
async def set_gate_enabled(store_id: str, gate_id: str, request: Request, visit: Visit = Depends(signed_in),
                           form: FormData = Depends(checked_form)) -> Response:
    enabled = form.get("enabled") == "true"
    await call(container(request).admin.set_gate_enabled, visit.principal, store_id, gate_id, enabled=enabled)
    return redirect(f"/console/stores/{quote(store_id)}#gates")


@router.post("/console/stores/{store_id}/simulate")
async def simulate(store_id: str, request: Request, visit: Visit = Depends(signed_in),
                   form: FormData = Depends(checked_form)) -> Response:
    party = str(form.get("partySize") or "1")
    try:
        if not party.isdigit() or not 1 <= int(party) <= 100:
            raise InvalidRequest("partySize: enter a whole number from 1 to 100", fields=["partySize"])
        answer = await call(simulate_entry, container(request), visit.principal, store_id,
                            gate_id=str(form.get("gate") or ""), card_number=str(form.get("card") or ""),
                            party_size=int(party))
    except InvalidRequest as exc:
        field = exc.fields[0] if exc.fields else "card"
        return await _overview(request, visit, store_id, status=400,
                               errors={f"sim.{field}": exc.message.split(": ", 1)[-1].capitalize()})
    return redirect(f"/console/stores/{quote(store_id)}/live?event={quote(answer['eventId'])}")


# -- setup ----------------------------------------------------------------------------------------


@router.get("/console/stores/{store_id}/setup")
async def setup_page(store_id: str, request: Request, visit: Visit = Depends(signed_in)) -> Response:
    store = await call(container(request).admin.get_store, visit.principal, store_id)
    notice = "Saved." if request.query_params.get("saved") else None
    return _form_page(request, "setup.html", store=store, values=forms.values_from_store(store), notice=notice)


@router.post("/console/stores/{store_id}/setup")
async def save_setup(store_id: str, request: Request, visit: Visit = Depends(signed_in),
                     form: FormData = Depends(checked_form)) -> Response:
    c = container(request)
    try:
        body = forms.store_body(form)
        body.pop("storeId", None)
        forms.check_timezone(body["timezone"])
        # The form always sends country, empty when emptied: a null country, which clears it.
        change = change_from_patch(parse(StorePatch, body), rotate_secrets=forms.rotated(form))
        saved = await call(c.admin.update_store, visit.principal, store_id, change)
    except InvalidRequest as exc:
        current = await call(c.admin.get_store, visit.principal, store_id)  # another retailer's: not found
        return _form_page(request, "setup.html", store=current, status=400, errors=forms.field_errors(exc),
                          values=forms.values_from_form(form, saved=forms.values_from_store(current)))
    store = saved.store
    if saved.generated_secrets:
        return _form_page(request, "setup.html", store=store, values=forms.values_from_store(store),
                          secrets=saved.generated_secrets, notice="Saved.")
    return redirect(f"/console/stores/{quote(store_id)}/setup?saved=1")


def qr_pattern_result(pattern: str, value: str) -> dict[str, Any]:
    """Whether a scanned value passes a QR pattern, judged by the gate's own compiled pattern (RE2, searched)."""
    if not value:
        return {"state": "empty", "message": "Paste a scanned value to test it."}
    if len(value) > MAX_SCAN_LENGTH:
        return {"state": "error", "message": f"A scan value is at most {MAX_SCAN_LENGTH} characters."}
    try:
        compiled = patterns.compile_pattern(pattern or DEFAULT_QR_PATTERN)
    except patterns.PatternRefused as exc:
        return {"state": "error", "message": f"The pattern {exc}."}
    if compiled.matches(value):
        return {"state": "match", "message": "The gate would pass this code to your identity connector."}
    return {"state": "nomatch",
            "message": "The gate would refuse this code (QR_PATTERN_MISMATCH) without asking your connector."}


@router.post("/console/stores/{store_id}/qr-test")
@anyone  # tests a value against a pattern; changes nothing
async def qr_test(store_id: str, request: Request, visit: Visit = Depends(signed_in),
                  form: FormData = Depends(checked_form)) -> Response:
    store = await call(container(request).admin.get_store, visit.principal, store_id)
    pattern = form.get("qrPattern") if isinstance(form.get("qrPattern"), str) else ""
    value = form.get("qrTestValue") if isinstance(form.get("qrTestValue"), str) else ""
    result = await call(qr_pattern_result, str(pattern), str(value))  # off the event loop, like a gate's scan
    values = forms.values_from_form(form, saved=forms.values_from_store(store))
    return render(request, "setup.html", {"store": store, "values": values, "errors": {}, "opt": OPTIONS,
                                          "tab": "setup", "qr_result": result, "qr_value": value},
                  fragment="_qr_result.html")


@router.post("/console/stores/{store_id}/connectors/{name}/test")
async def connectivity_test(store_id: str, name: str, request: Request, visit: Visit = Depends(signed_in),
                            form: FormData = Depends(checked_form)) -> Response:
    c = container(request)
    store = await call(c.admin.get_store, visit.principal, store_id)
    if name not in CONNECTOR_NAMES:
        raise InvalidRequest(f"unknown connector {name}")
    service = getattr(c, "connectivity", None)
    outcome: dict[str, Any] = {"name": name, "available": service is not None, "checks": None, "error": None}
    if service is not None:
        try:
            outcome["checks"] = await call(service.run, visit.principal, store_id, name)
        except ServiceError as exc:
            outcome["error"] = exc.message
        except Exception as exc:  # noqa: BLE001 - a broken test must not break the page
            log.exception("connectivity_test_failed", store_id=store_id, connector=name)
            outcome["error"] = f"The test could not run ({type(exc).__name__})."
    saved = forms.values_from_store(store)
    # Without JavaScript the whole setup form came along: show it again as it was, unsaved edits included.
    values = forms.values_from_form(form, saved=saved) if "name" in form else saved
    context = {"store": store, "values": values, "errors": {}, "opt": OPTIONS, "tab": "setup",
               "connectivity": outcome}
    if is_fragment(request):
        return render(request, "_connectivity.html", context)
    return render(request, "setup.html", context)
