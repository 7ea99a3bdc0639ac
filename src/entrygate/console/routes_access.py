"""Who may do what in the console: one's own account (password), the retailer's users, the audit log."""
from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from starlette.datastructures import FormData

from entrygate.console import audit_view
from entrygate.console.roles import anyone, needs
from entrygate.console.web import ConsoleRoute, Visit, call, checked_form, container, cookies, redirect, render, signed_in
from entrygate.domain.roles import ConsoleRole
from entrygate.services.console.auth import SignInThrottled
from entrygate.services.errors import Conflict, InvalidRequest, NotFound

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

AUDIT_PAGE_LIMIT = 200
ROLES = [(ConsoleRole.ADMIN.value, "Admin", "Everything, and who has access: users and keys."),
         (ConsoleRole.OPERATOR.value, "Operator", "Runs stores and gates; manages no users or keys."),
         (ConsoleRole.VIEWER.value, "Viewer", "Reads everything, changes nothing.")]


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# -- one's own account ----------------------------------------------------------------------------


def _account_page(request: Request, *, status: int = 200, errors: dict[str, str] | None = None,
                  notice: str | None = None) -> Response:
    return render(request, "account.html", {"errors": errors or {}, "notice": notice}, status=status)


@router.get("/console/account")
async def account(request: Request, visit: Visit = Depends(signed_in)) -> Response:
    return _account_page(request)


@router.post("/console/account")
@anyone
async def change_password(request: Request, visit: Visit = Depends(signed_in),
                          form: FormData = Depends(checked_form)) -> Response:
    try:
        ended = await call(container(request).console_auth.change_password, visit.user, visit.session_id,
                           current=_field(form, "currentPassword"), new=_field(form, "newPassword"),
                           client=_client(request))
    except InvalidRequest as exc:
        field = exc.fields[0] if exc.fields else "newPassword"
        return _account_page(request, status=400, errors={field: exc.message.split(": ", 1)[-1].capitalize() + "."})
    except SignInThrottled as exc:
        response = _account_page(request, status=429, errors={"currentPassword": exc.message})
        response.headers["Retry-After"] = str(exc.retry_after_s)
        return response
    others = f"{ended} other session{'s' if ended != 1 else ''} signed out." if ended else "No other session was open."
    return _account_page(request, notice=f"Your password is changed. {others}")


# -- the retailer's users -------------------------------------------------------------------------


async def _users_page(request: Request, visit: Visit, *, status: int = 200, errors: dict[str, str] | None = None,
                      values: dict[str, str] | None = None, notice: str | None = None) -> Response:
    users = await call(container(request).users.list, visit.principal, visit.user.retailer_id)
    return render(request, "users.html", {"users": users, "roles": ROLES, "errors": errors or {},
                                          "values": values or {"role": ConsoleRole.VIEWER.value}, "notice": notice},
                  status=status)


@router.get("/console/users")
async def users(request: Request, visit: Visit = Depends(signed_in)) -> Response:
    return await _users_page(request, visit)


@router.post("/console/users")
@needs(ConsoleRole.ADMIN)
async def add_user(request: Request, visit: Visit = Depends(signed_in),
                   form: FormData = Depends(checked_form)) -> Response:
    values = {"email": _field(form, "email").strip(), "role": _field(form, "role")}
    try:
        if values["role"] not in ConsoleRole.__members__:
            raise InvalidRequest("role: choose admin, operator or viewer", fields=["role"])
        user = await call(container(request).users.create, visit.principal, visit.user.retailer_id,
                          email=values["email"], password=_field(form, "password"), role=ConsoleRole(values["role"]))
    except (InvalidRequest, Conflict) as exc:
        field = exc.fields[0] if exc.fields else "email"
        message = exc.message.split(": ", 1)[-1]
        return await _users_page(request, visit, status=400, values=values,
                                 errors={field: message[:1].upper() + message[1:] + "."})
    return await _users_page(request, visit, status=201, notice=f"{user.email} can sign in now.")


@router.post("/console/users/{user_id}/remove")
@needs(ConsoleRole.ADMIN)
async def remove_user(user_id: str, request: Request, visit: Visit = Depends(signed_in),
                      form: FormData = Depends(checked_form)) -> Response:
    try:
        removed = await call(container(request).users.remove, visit.principal, visit.user.retailer_id, user_id)
    except Conflict as exc:
        return await _users_page(request, visit, status=409, errors={"__all__": exc.message[:1].upper()
                                                                                 + exc.message[1:] + "."})
    if removed.user_id == visit.user.user_id:  # its session ended with it
        response = redirect("/console/sign-in?signed_out=1")
        cookies(request).clear_session(request, response)
        return response
    return await _users_page(request, visit, notice=f"{removed.email} is removed and signed out.")


# -- the audit log --------------------------------------------------------------------------------


def _since(text: str) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.combine(datetime.strptime(text, "%Y-%m-%d").date(), time.min, tzinfo=UTC)
    except ValueError:
        raise InvalidRequest("since: a date as YYYY-MM-DD", fields=["since"]) from None


@router.get("/console/audit")
async def audit(request: Request, visit: Visit = Depends(signed_in)) -> Response:
    c = container(request)
    stores = await call(c.admin.list_stores, visit.principal)
    store_id = request.query_params.get("store") or None
    since_text = request.query_params.get("since") or ""
    errors: dict[str, str] = {}
    entries: list[Any] = []
    try:
        since = _since(since_text)
        entries = await call(c.audit.list, visit.principal, store_id=store_id, since=since, limit=AUDIT_PAGE_LIMIT)
    except InvalidRequest:
        errors["since"] = "Enter a date as YYYY-MM-DD."
    except NotFound:
        errors["store"] = "Choose one of your stores."
    rows = [{"entry": e, "changes": audit_view.changes(e), "before": audit_view.pretty(e.before),
             "after": audit_view.pretty(e.after)} for e in entries]
    return render(request, "audit.html", {"stores": stores, "rows": rows, "store_id": store_id, "since": since_text,
                                          "errors": errors, "limit": AUDIT_PAGE_LIMIT},
                  status=400 if errors else 200)
