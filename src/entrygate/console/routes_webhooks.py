"""The retailer's webhook endpoints in the console: add one (its secret shown once), delete one, and each
endpoint's delivery log with a retry button. The same use cases as ``/v1/webhook-endpoints``, with the
signed-in user's principal; a refused form shows the page again with the reason next to the field."""
from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response
from starlette.datastructures import FormData

from entrygate.console.web import ConsoleRoute, Visit, call, checked_form, container, redirect, render, signed_in
from entrygate.domain.events import EventType
from entrygate.services.errors import InvalidRequest

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
EVENT_TYPES = [t.value for t in EventType]
STATUS_CSS = {"PENDING": "warn", "DELIVERED": "open", "FAILED": "deny", "DISABLED": "deny"}


def _endpoint_url(endpoint_id: str) -> str:
    return f"/console/webhooks/{quote(endpoint_id, safe='')}"


async def _list_page(request: Request, visit: Visit, *, status: int = 200, created: object = None,
                     errors: dict[str, str] | None = None, values: dict[str, object] | None = None) -> Response:
    endpoints = await call(container(request).webhooks.list, visit.principal)
    return render(request, "webhooks.html", {
        "endpoints": endpoints, "event_types": EVENT_TYPES, "created": created, "errors": errors or {},
        "values": values or {"url": "", "events": EVENT_TYPES}, "done": request.query_params.get("done")},
        status=status)


@router.get("/console/webhooks")
async def webhooks(request: Request, visit: Visit = Depends(signed_in)) -> Response:
    return await _list_page(request, visit)


@router.post("/console/webhooks")
async def add_webhook(request: Request, form: FormData = Depends(checked_form),
                      visit: Visit = Depends(signed_in)) -> Response:
    url = form.get("url")
    url = url if isinstance(url, str) else ""
    events = [e for e in form.getlist("events") if isinstance(e, str)]
    try:
        created = await call(container(request).webhooks.create, visit.principal, url=url, events=events)
    except InvalidRequest as exc:
        field = exc.fields[0] if exc.fields else "__all__"
        return await _list_page(request, visit, status=400, errors={field: exc.message},
                                values={"url": url, "events": events})
    # Not a redirect: the secret is shown on this one answer and never again.
    return await _list_page(request, visit, status=201, created=created)


@router.post("/console/webhooks/{endpoint_id}/delete")
async def delete_webhook(endpoint_id: str, request: Request, form: FormData = Depends(checked_form),
                         visit: Visit = Depends(signed_in)) -> Response:
    await call(container(request).webhooks.delete, visit.principal, endpoint_id)
    return redirect("/console/webhooks?done=deleted")


@router.get("/console/webhooks/{endpoint_id}")
async def webhook(endpoint_id: str, request: Request, visit: Visit = Depends(signed_in)) -> Response:
    c = container(request)
    endpoint = await call(c.webhooks.get, visit.principal, endpoint_id)
    deliveries = await call(c.webhooks.deliveries, visit.principal, endpoint_id, limit=200)
    done = request.query_params.get("done")
    return render(request, "webhook.html", {"endpoint": endpoint, "deliveries": deliveries, "status_css": STATUS_CSS,
                                            "retried": done if done and done.isdigit() else None})


@router.post("/console/webhooks/{endpoint_id}/deliveries/{delivery_id}/retry")
async def retry_delivery(endpoint_id: str, delivery_id: str, request: Request, form: FormData = Depends(checked_form),
                         visit: Visit = Depends(signed_in)) -> Response:
    await call(container(request).webhooks.retry, visit.principal, endpoint_id, delivery_id)
    return redirect(f"{_endpoint_url(endpoint_id)}?done={quote(delivery_id, safe='')}")
