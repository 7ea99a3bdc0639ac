"""The console's cookies: a signed session cookie, and CSRF tokens for every form.

The session cookie carries only the session id (signed with the server secret, so a forged or
altered cookie is refused before any database read); the session itself is in the database
(``services/console/auth.py``), so signing out ends it for good. It is ``HttpOnly`` (scripts
cannot read it), ``SameSite=Lax`` (other sites' forms do not carry it) and ``Secure`` whenever the
console is reached over https.

CSRF: every POST form carries a token; the token is an HMAC of the session id, so it is per
session, needs no storage and changes at every sign-in (OWASP CSRF Prevention Cheat Sheet,
"Synchronizer token pattern" with HMAC-based tokens). The sign-in form, which has no session yet,
uses the double-submit pattern with a signed pre-session cookie. A POST whose ``Origin`` header
names another site is refused as well (defence in depth).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from entrygate.services.console.auth import SESSION_LIFETIME

SESSION_COOKIE = "eg_console"
PRESESSION_COOKIE = "eg_console_pre"
CSRF_FIELD = "csrf_token"
COOKIE_PATH = "/console"
_PRESESSION_MAX_AGE = 2 * 60 * 60


@dataclass(frozen=True, slots=True)
class Cookies:
    secret: bytes

    def _serializer(self, purpose: str) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self.secret, salt=f"entrygate.console.{purpose}")

    # -- session ---------------------------------------------------------------------------------

    def session_id(self, request: Request) -> str | None:
        raw = request.cookies.get(SESSION_COOKIE)
        if not raw:
            return None
        try:
            value = self._serializer("session").loads(raw, max_age=int(SESSION_LIFETIME.total_seconds()))
        except BadSignature:
            return None
        return value if isinstance(value, str) else None

    def set_session(self, request: Request, response: Response, session_id: str) -> None:
        response.set_cookie(SESSION_COOKIE, self._serializer("session").dumps(session_id),
                            max_age=int(SESSION_LIFETIME.total_seconds()), path=COOKIE_PATH, httponly=True,
                            samesite="lax", secure=_https(request))
        response.delete_cookie(PRESESSION_COOKIE, path=COOKIE_PATH)

    def clear_session(self, request: Request, response: Response) -> None:
        response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH, httponly=True, samesite="lax",
                               secure=_https(request))

    # -- CSRF ------------------------------------------------------------------------------------

    def csrf_token(self, session_id: str) -> str:
        return hmac.new(self.secret, b"console-csrf:" + session_id.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, session_id: str, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(self.csrf_token(session_id), str(given))

    def presession_token(self, request: Request) -> tuple[str, str | None]:
        """The sign-in form's token, and a new cookie value when the browser has none yet."""
        current = self._presession(request)
        if current is not None:
            return current, None
        token = secrets.token_urlsafe(24)
        return token, self._serializer("presession").dumps(token)

    def set_presession(self, request: Request, response: Response, cookie_value: str) -> None:
        response.set_cookie(PRESESSION_COOKIE, cookie_value, max_age=_PRESESSION_MAX_AGE, path=COOKIE_PATH,
                            httponly=True, samesite="lax", secure=_https(request))

    def presession_ok(self, request: Request, given: str | None) -> bool:
        current = self._presession(request)
        return bool(current and given) and hmac.compare_digest(current, str(given))

    def _presession(self, request: Request) -> str | None:
        raw = request.cookies.get(PRESESSION_COOKIE)
        if not raw:
            return None
        try:
            value = self._serializer("presession").loads(raw, max_age=_PRESESSION_MAX_AGE)
        except BadSignature:
            return None
        return value if isinstance(value, str) else None


def same_origin(request: Request) -> bool:
    """False when the browser says the request comes from another site (``Origin``, then ``Referer``)."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source:
        return True  # some browsers and proxies drop both; the CSRF token still decides
    if source == "null":
        return False  # an opaque origin: a sandboxed frame or a data: page
    parts = urlsplit(source)
    return parts.netloc == request.headers.get("host", request.url.netloc)


def _https(request: Request) -> bool:
    return request.url.scheme == "https"
