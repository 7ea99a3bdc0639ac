"""Signing in and out of the console."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from starlette.datastructures import FormData

from entrygate.console.roles import anyone
from entrygate.console.session import CSRF_FIELD, same_origin
from entrygate.console.web import (
    ConsoleRoute,
    SignInRequired,
    Visit,
    call,
    checked_form,
    container,
    cookies,
    redirect,
    render,
    signed_in,
)
from entrygate.services.console.auth import SignInFailed, SignInThrottled

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

HOME = "/console/stores"


def safe_next(target: str | None) -> str:
    """Only a console path: never another site (``//evil``, ``https://…``) after signing in."""
    if target and target.startswith("/console/") and not target.startswith("//") and "\\" not in target:
        return target
    return HOME


@router.get("/console")
async def home(request: Request) -> Response:
    try:
        await call(signed_in, request)
    except SignInRequired:
        return redirect("/console/sign-in")
    return redirect(HOME)


def _sign_in_page(request: Request, *, email: str = "", error: str | None = None, status: int = 200,
                  notice: str | None = None, headers: dict[str, str] | None = None) -> Response:
    jar = cookies(request)
    token, new_cookie = jar.presession_token(request)
    response = render(request, "sign_in.html", {
        "csrf": token, "email": email, "error": error, "notice": notice,
        "next": safe_next(request.query_params.get("next"))}, status=status)
    if new_cookie:
        jar.set_presession(request, response, new_cookie)
    response.headers.update(headers or {})
    return response


@router.get("/console/sign-in")
async def sign_in_form(request: Request) -> Response:
    try:
        await call(signed_in, request)
        return redirect(safe_next(request.query_params.get("next")))
    except SignInRequired:
        pass
    notice = "You are signed out." if request.query_params.get("signed_out") else None
    return _sign_in_page(request, notice=notice)


@router.post("/console/sign-in")
async def sign_in(request: Request) -> Response:
    form = await request.form()
    email = str(form.get("email") or "").strip()
    password = str(form.get("password") or "")
    if not same_origin(request) or not cookies(request).presession_ok(request, _text(form, CSRF_FIELD)):
        return _sign_in_page(request, email=email, status=403,
                             error="The sign-in form expired. Please try again.")
    if not email or not password:
        return _sign_in_page(request, email=email, status=400, error="Enter your email and password.")
    client = request.client.host if request.client else "unknown"
    try:
        done = await call(container(request).console_auth.sign_in, email, password, client=client)
    except SignInThrottled as exc:
        return _sign_in_page(request, email=email, status=429, error=exc.message,
                             headers={"Retry-After": str(exc.retry_after_s)})
    except SignInFailed:
        return _sign_in_page(request, email=email, status=401, error="Wrong email or password.")
    response = redirect(safe_next(_text(form, "next")))
    cookies(request).set_session(request, response, done.session_id)
    return response


@router.post("/console/sign-out")
@anyone
async def sign_out(request: Request, visit: Visit = Depends(signed_in),
                   form: FormData = Depends(checked_form)) -> Response:
    await call(container(request).console_auth.sign_out, visit.session_id)
    response = redirect("/console/sign-in?signed_out=1")
    cookies(request).clear_session(request, response)
    return response


def _text(form: FormData, name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) else None
