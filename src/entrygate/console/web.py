"""The console's plumbing: templates, the signed-in user, checked forms, and errors as pages.

Routes are thin: they read the request, call one service, and render a template. Errors from the
services become HTML pages here (the API keeps its JSON errors; ``ConsoleRoute`` catches them
before the API's handlers would).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.templating import Jinja2Templates

from entrygate.bootstrap import Container
from entrygate.console.display import amount_input, money_text, visitor_display
from entrygate.console.roles import least_role
from entrygate.console.session import CSRF_FIELD, Cookies, same_origin
from entrygate.domain.roles import ConsoleRole
from entrygate.services.auth import Principal
from entrygate.services.console.auth import ConsoleUser, SignInThrottled
from entrygate.services.errors import (
    Conflict,
    Forbidden,
    InvalidRequest,
    NotAuthenticated,
    NotFound,
    ServiceError,
    Unavailable,
)
from entrygate.services.ports.storage import StorageError
from entrygate.wire.explanations import explanation_in_words
from entrygate.wire.headers import CONSOLE_HEADERS

TEMPLATES = Path(__file__).with_name("templates")
STATIC = Path(__file__).with_name("static")
FRAGMENT_HEADER = "x-console-fragment"

# Pages are the retailer's own data: never cached, never framed, scripts only from this origin
# (wire/headers.py adds them to every answer under /console; rendered pages carry them in any case).
SECURITY_HEADERS = CONSOLE_HEADERS


class SignInRequired(Exception):
    """No valid session: pages redirect to the sign-in page, fragments answer 401."""


class FormRefused(Exception):
    """A POST without a valid CSRF token, or from another site."""


class RoleRefused(Exception):
    """The signed-in user's role does not allow this request (``console/roles.py``)."""

    def __init__(self, needed: str) -> None:
        super().__init__(needed)
        self.needed = needed


def container(request: Request) -> Container:
    return request.app.state.container


def cookies(request: Request) -> Cookies:
    return Cookies(container(request).keyring)


def is_fragment(request: Request) -> bool:
    return request.headers.get(FRAGMENT_HEADER) == "1"


# -- dependencies ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Visit:
    """The signed-in user and the session's CSRF token."""

    user: ConsoleUser
    session_id: str
    csrf: str

    @property
    def principal(self) -> Principal:
        return self.user.principal

    @property
    def may_change(self) -> bool:
        """Whether the pages show this user the forms that change the retailer's data."""
        return self.user.role.allows(ConsoleRole.OPERATOR)

    @property
    def is_admin(self) -> bool:
        return self.user.role.allows(ConsoleRole.ADMIN)


def signed_in(request: Request) -> Visit:
    jar = cookies(request)
    session_id = jar.session_id(request)
    user = container(request).console_auth.user(session_id) if session_id else None
    if user is None or session_id is None:
        raise SignInRequired()
    visit = Visit(user, session_id, jar.csrf_token(session_id))
    request.state.visit = visit
    needed = least_role(request)
    if not user.role.allows(needed):
        raise RoleRefused(needed.value)
    return visit


async def checked_form(request: Request, visit: Visit = Depends(signed_in)) -> FormData:
    """The POSTed form, once its CSRF token and origin are checked."""
    form = await request.form()
    if not same_origin(request) or not cookies(request).csrf_ok(visit.session_id, _str(form.get(CSRF_FIELD))):
        raise FormRefused()
    return form


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


# -- rendering ------------------------------------------------------------------------------------


def store_zone(tz: str | None) -> Any:
    """The store's time zone: the console's one clock (UTC for a zone this machine does not know)."""
    try:
        return ZoneInfo(tz) if tz else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def zone_label(tz: str | None) -> str:
    """The name of the clock the console shows a store's times on: its IANA zone, or UTC."""
    zone = store_zone(tz)
    return "UTC" if zone is UTC else str(tz)


def localtime(value: datetime | None, tz: str | None = None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    if value is None:
        return ""
    local = value.astimezone(store_zone(tz))
    return local.strftime(fmt) + " " + (local.tzname() or "")


def _make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES))
    env = templates.env
    env.trim_blocks = True
    env.lstrip_blocks = True
    env.filters["localtime"] = localtime
    env.filters["money"] = money_text
    env.filters["amount_input"] = amount_input
    env.filters["urlquote"] = lambda s: quote(str(s), safe="")
    env.filters["explain_in_words"] = explanation_in_words  # the _risk_explanation.html partial
    env.globals["CSRF_FIELD"] = CSRF_FIELD
    env.globals["visitor_display"] = visitor_display
    env.globals["zone_label"] = zone_label
    return templates


templates = _make_templates()


def render(request: Request, name: str, context: dict[str, Any] | None = None, *, status: int = 200,
           fragment: str | None = None) -> HTMLResponse:
    """A page (or, for a fragment request, just ``fragment``), with the console's headers."""
    ctx = {"visit": getattr(request.state, "visit", None), "path": request.url.path}
    ctx.update(context or {})
    visit = ctx["visit"]
    ctx.setdefault("csrf", visit.csrf if visit else "")
    template = fragment if (fragment and is_fragment(request)) else name
    response = templates.TemplateResponse(request, template, ctx, status_code=status)
    response.headers.update(SECURITY_HEADERS)
    return response


def redirect(url: str) -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    response.headers.update(SECURITY_HEADERS)
    return response


def error_page(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    return render(request, "error.html", {"title": title, "message": message}, status=status,
                  fragment="_error.html")


def _service_error(request: Request, exc: ServiceError) -> Response:
    if isinstance(exc, (NotFound, Forbidden)):
        # Another retailer's store looks exactly like a store that does not exist.
        return error_page(request, 404, "Not found", "There is nothing here, or it belongs to another retailer.")
    if isinstance(exc, SignInThrottled):
        return error_page(request, 429, "Too many attempts", exc.message)
    if isinstance(exc, NotAuthenticated):
        return _sign_in_redirect(request)
    if isinstance(exc, Unavailable):
        return error_page(request, 503, "Unavailable", exc.message)
    if isinstance(exc, (InvalidRequest, Conflict)):
        return error_page(request, 400, "That did not work", exc.message)
    return error_page(request, 500, "Error", exc.message)


def _sign_in_redirect(request: Request) -> Response:
    if is_fragment(request) or request.method != "GET":
        return error_page(request, 401, "Signed out", "Your session has ended. Sign in again.")
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return redirect(f"/console/sign-in?next={quote(target, safe='')}")


class ConsoleRoute(APIRoute):
    """Turns the console's exceptions into pages, so no console URL ever answers with API JSON."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired:
                return _sign_in_redirect(request)
            except FormRefused:
                return error_page(request, 403, "Form refused",
                                  "This form has expired or did not come from the console. "
                                  "Reload the page and try again.")
            except RoleRefused as exc:
                return error_page(request, 403, "Not allowed",
                                  f"Your role ({request.state.visit.user.role.value.lower()}) does not allow this: "
                                  f"it needs {exc.needed.lower()}. Ask an admin of your account.")
            except ServiceError as exc:
                return _service_error(request, exc)
            except StorageError:
                return _service_error(request, Unavailable("The database is unavailable; nothing was changed. "
                                                           "Try again in a moment."))

        return run


async def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a (blocking) service call off the event loop."""
    return await run_in_threadpool(fn, *args, **kwargs)
