"""The console's cookies: a signed session cookie, and CSRF tokens for every form.

The session cookie carries only the session id (signed with the console's sessions key, so a
forged or altered cookie is refused before any database read); the session itself is in the database
(``services/console/auth.py``), so signing out ends it for good. It is ``HttpOnly`` (scripts
cannot read it), ``SameSite=Lax`` (other sites' forms do not carry it) and ``Secure`` whenever the
console is reached over https.

CSRF: every POST form carries a token; the token is an HMAC of the session id, so it is per
session, needs no storage and changes at every sign-in (OWASP CSRF Prevention Cheat Sheet,
"Synchronizer token pattern" with HMAC-based tokens). The sign-in form, which has no session yet,
uses the double-submit pattern with a signed pre-session cookie. A POST whose ``Origin`` header
names another site is refused as well (defence in depth).

Keys rotate (``entrygate keys rotate --purpose sessions``, DESIGN 15): every cookie and token
carries the id of the key that made it (``<key id>~<value>``) and is checked with that key for as
long as it may be valid, so a rotation ends no session and voids no form in flight. A value without
a key id was made before keys rotated, with the first key (``sessions-0``, the server secret).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from entrygate.domain.secrets import Purpose, root_key_id
from entrygate.services.console.auth import SESSION_LIFETIME
from entrygate.services.ports.secrets import SessionKeys

SESSION_COOKIE = "eg_console"
PRESESSION_COOKIE = "eg_console_pre"
CSRF_FIELD = "csrf_token"
COOKIE_PATH = "/console"
_PRESESSION_MAX_AGE = 2 * 60 * 60
_KEY_SEP = "~"  # never in itsdangerous's output (URL-safe base64 and dots) nor in hex
_LEGACY_KEY_ID = root_key_id(Purpose.SESSIONS)


@dataclass(frozen=True, slots=True)
class Cookies:
    keys: SessionKeys

    def _serializer(self, purpose: str, key: bytes) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(key, salt=f"entrygate.console.{purpose}")

    def _sign(self, purpose: str, value: str) -> str:
        key_id, key = self.keys.session_key()
        return key_id + _KEY_SEP + self._serializer(purpose, key).dumps(value)

    def _unsign(self, purpose: str, raw: str, *, max_age: int) -> str | None:
        key_id, sep, signed = raw.rpartition(_KEY_SEP)
        key = self.keys.session_key_for(key_id if sep else _LEGACY_KEY_ID)
        if key is None:
            return None
        try:
            value = self._serializer(purpose, key).loads(signed, max_age=max_age)
        except BadSignature:
            return None
        return value if isinstance(value, str) else None

    # -- session ---------------------------------------------------------------------------------

    def session_id(self, request: Request) -> str | None:
        raw = request.cookies.get(SESSION_COOKIE)
        if not raw:
            return None
        return self._unsign("session", raw, max_age=int(SESSION_LIFETIME.total_seconds()))

    def set_session(self, request: Request, response: Response, session_id: str) -> None:
        response.set_cookie(SESSION_COOKIE, self._sign("session", session_id),
                            max_age=int(SESSION_LIFETIME.total_seconds()), path=COOKIE_PATH, httponly=True,
                            samesite="lax", secure=_https(request))
        response.delete_cookie(PRESESSION_COOKIE, path=COOKIE_PATH)

    def clear_session(self, request: Request, response: Response) -> None:
        response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH, httponly=True, samesite="lax",
                               secure=_https(request))

    # -- CSRF ------------------------------------------------------------------------------------

    def csrf_token(self, session_id: str) -> str:
        key_id, key = self.keys.session_key()
        return key_id + _KEY_SEP + _csrf_mac(key, session_id)

    def csrf_ok(self, session_id: str, given: str | None) -> bool:
        if not given:
            return False
        key_id, sep, mac = str(given).rpartition(_KEY_SEP)
        key = self.keys.session_key_for(key_id if sep else _LEGACY_KEY_ID)
        return key is not None and hmac.compare_digest(_csrf_mac(key, session_id), mac)

    def presession_token(self, request: Request) -> tuple[str, str | None]:
        """The sign-in form's token, and a new cookie value when the browser has none yet."""
        current = self._presession(request)
        if current is not None:
            return current, None
        token = secrets.token_urlsafe(24)
        return token, self._sign("presession", token)

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
        return self._unsign("presession", raw, max_age=_PRESESSION_MAX_AGE)


def _csrf_mac(key: bytes, session_id: str) -> str:
    return hmac.new(key, b"console-csrf:" + session_id.encode(), hashlib.sha256).hexdigest()


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
