"""The gate agent: the gate API on the store's network, forwarding to the platform, deciding offline.

A reader is pointed at the agent instead of the platform, unchanged: the agent serves
``POST /v1/gates/{gateId}/entries`` and ``/exits``. Each request goes to the platform with the
online deadline (``--online-timeout-ms``, 800 ms by default); the platform's answer, whatever it
is, is the answer, except a 5xx or no answer in time: then the agent decides from its bundle
(``offline.decide``), stores the decision durably (``state``), and answers, within the deadline
plus the few milliseconds that takes.

Three loops run beside the requests: the bundle is fetched, checked and kept every
``bundle_refresh_s`` while the platform answers; offline decisions are uploaded in batches, every
``upload_interval_s`` and backing off (to at most 20 s) while the platform fails, so they reach it
within 30 s of its return; and, when no request has reached the platform lately, ``/healthz`` of
the platform is probed, so ``online`` in the agent's own ``/healthz`` stays true to what a tap
would meet.

Each request to the platform says what the agent holds (``Entrygate-Agent: bundle=<id>;
pending=<n>; version=<v>``), so the platform can show the agent in the console.
"""
from __future__ import annotations

import asyncio
import contextlib
import hmac
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import structlog
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from entrygate.agent.bundle import BundleRefused, VerifiedBundle, verify
from entrygate.agent.offline import decide, limit_reached
from entrygate.agent.state import AgentState
from entrygate.services.errors import InvalidRequest
from entrygate.wire.credentials import entry_event
from entrygate.wire.parse import parse, parse_json
from entrygate.wire.schemas import ExitIn

log = structlog.get_logger("entrygate.agent")

MAX_BODY_BYTES = 64 * 1024
UPLOAD_BATCH = 100
MAX_UPLOAD_BACKOFF_S = 20.0
_FORWARDED_HEADERS = ("authorization", "content-type", "x-request-id", "idempotency-key")


@dataclass
class AgentConfig:
    platform: str
    gate_id: str
    gate_key: str
    state_dir: Path
    online_timeout_ms: int = 800
    bundle_refresh_s: float = 300.0
    upload_interval_s: float = 5.0
    probe_interval_s: float = 5.0
    version: str = "0"
    transport: httpx.AsyncBaseTransport | None = field(default=None, repr=False)  # tests only


class GateAgent:
    """The agent's state and behaviour, independent of the HTTP server that exposes it."""

    def __init__(self, config: AgentConfig) -> None:
        self.config = config
        self.state = AgentState(config.state_dir)
        self.current: VerifiedBundle | None = None
        self.bundle_error: str | None = None
        self.online = False
        self._last_contact = float("-inf")
        self._http: httpx.AsyncClient | None = None
        self._tasks: list[asyncio.Task] = []
        self._upload_now = asyncio.Event()
        self._pending = self.state.pending_count()  # for the header the platform reads; exact after each upload
        self._restore_bundle()

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        self._http = httpx.AsyncClient(base_url=self.config.platform.rstrip("/"), transport=self.config.transport,
                                       timeout=httpx.Timeout(10.0))
        self._tasks = [asyncio.create_task(self._bundle_loop(), name="agent-bundle"),
                       asyncio.create_task(self._upload_loop(), name="agent-upload"),
                       asyncio.create_task(self._probe_loop(), name="agent-probe")]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._http is not None:
            await self._http.aclose()
        self.state.close()

    # -- the gate API ---------------------------------------------------------------------------

    async def entry(self, request: Request) -> Response:
        return await self._serve(request, "ENTRY")

    async def exit(self, request: Request) -> Response:
        return await self._serve(request, "EXIT")

    async def _serve(self, request: Request, kind: str) -> Response:
        started = time.perf_counter()
        gate_id = request.path_params["gateId"]
        if gate_id != self.config.gate_id:
            return _error(404, "NOT_FOUND", f"this agent serves gate {self.config.gate_id}, not {gate_id}")
        if not self._authorized(request.headers.get("authorization")):
            return _error(401, "UNAUTHORIZED", "missing or wrong gate key")
        raw = await request.body()
        if len(raw) > MAX_BODY_BYTES:
            return _error(413, "PAYLOAD_TOO_LARGE", f"body is larger than {MAX_BODY_BYTES} bytes")
        try:
            data = parse_json(raw, refuse_pan=True)  # before anything is forwarded or stored
        except InvalidRequest as exc:
            return _invalid(exc)
        event_id = data.get("eventId")
        if isinstance(event_id, str):
            earlier = await run_in_threadpool(self.state.decided, event_id)
            if earlier is not None:  # decided here offline: the platform has not heard of it yet
                return JSONResponse(earlier[1])
        answer = await self._forward(request, raw)
        if answer is not None:
            return answer
        try:
            return JSONResponse(await self._decide_offline(kind, data, started))
        except InvalidRequest as exc:
            return _invalid(exc)

    def _authorized(self, header: str | None) -> bool:
        scheme, _, token = (header or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), self.config.gate_key.encode())

    async def _forward(self, request: Request, raw: bytes) -> Response | None:
        """The platform's answer within the deadline, or None (no answer, or a 5xx: it did not decide)."""
        assert self._http is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() in _FORWARDED_HEADERS}
        headers["entrygate-agent"] = self._agent_header()
        deadline = self.config.online_timeout_ms / 1000
        try:
            r = await asyncio.wait_for(self._http.post(request.url.path, content=raw, headers=headers), deadline)
        except (TimeoutError, httpx.HTTPError) as exc:
            self._went_offline(type(exc).__name__)
            return None
        if r.status_code >= 500:
            self._went_offline(f"HTTP {r.status_code}")
            return None
        self._came_online()
        passed = {k: v for k, v in r.headers.items() if k.lower() in ("content-type", "retry-after", "x-request-id")}
        return Response(r.content, status_code=r.status_code, headers=passed)

    async def _decide_offline(self, kind: str, data: dict[str, Any], started: float) -> dict[str, Any]:
        now = datetime.now(UTC)
        current = self.current
        if kind == "EXIT":
            body = parse(ExitIn, data)
            answer = {"eventId": body.eventId, "shoppingTripId": body.shoppingTripId, "result": "RECORDED_OFFLINE",
                      "message": "The platform did not answer; the exit is recorded at the gate and sent later.",
                      "tripStatus": None, "decidedBy": "OFFLINE"}
            self._pending += 1
            return await run_in_threadpool(self.state.record, event_id=body.eventId, kind=kind, request=data,
                                           answer=answer, instrument_id=None, bundle_id=None, exposure_minor=0, at=now)
        event = entry_event(data)
        verdict = decide(event, current.bundle if current else None, now=now, started=started)

        def within_limits(state: AgentState) -> dict[str, Any] | None:
            if current is None or verdict.instrument_id is None:
                return None
            return limit_reached(event, current.bundle, verdict, started=started,
                                 entries=state.entries_of(verdict.instrument_id, current.bundle_id),
                                 exposure_minor=state.exposure_of(current.bundle_id))

        answer = await run_in_threadpool(
            self.state.record, event_id=event.event_id, kind=kind, request=data, answer=verdict.answer,
            instrument_id=verdict.instrument_id, bundle_id=current.bundle_id if current else None,
            exposure_minor=verdict.exposure_minor, at=now, check=within_limits)
        log.info("offline_decision", event_id=event.event_id, decision=answer["decision"],
                 reasons=[r["code"] for r in answer["reasons"]])
        self._pending += 1
        self._upload_now.set()
        return answer

    # -- health ---------------------------------------------------------------------------------

    async def health(self, request: Request) -> Response:
        current = self.current
        age = None if current is None else round((datetime.now(UTC) - current.issued_at).total_seconds(), 1)
        return JSONResponse({
            "online": self.online, "gateId": self.config.gate_id,
            "bundleId": current.bundle_id if current else None,
            "bundleExpiresAt": _iso(current.expires_at) if current else None,
            "bundleAgeSeconds": age, "pendingUploads": await run_in_threadpool(self.state.pending_count),
            "bundleError": self.bundle_error,
        })

    # -- the bundle -----------------------------------------------------------------------------

    def _restore_bundle(self) -> None:
        """The bundle kept in the state directory, checked again as if it had just arrived."""
        body = self.state.bundle()
        if body is None:
            return
        try:
            self.current = verify(body, self.state.signing_keys(), gate_id=self.config.gate_id, now=datetime.now(UTC))
        except BundleRefused as exc:
            self.bundle_error = f"kept bundle refused: {exc}"
            log.warning("offline_bundle_refused", reason=str(exc), source="state")

    async def refresh_bundle(self) -> bool:
        """Fetch, check and keep a new bundle; False (keeping the previous one) when any of it fails."""
        assert self._http is not None
        headers = {"authorization": f"Bearer {self.config.gate_key}", "entrygate-agent": self._agent_header()}
        try:
            keys = await self._http.get("/v1/offline/keys", headers=headers)
            keys.raise_for_status()
            published = {str(k["keyId"]): str(k["publicKey"]) for k in keys.json()["keys"]}
            r = await self._http.get(f"/v1/gates/{self.config.gate_id}/offline-bundle", headers=headers)
            r.raise_for_status()
            body = r.json()
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            log.warning("offline_bundle_fetch_failed", error=f"{type(exc).__name__}: {exc}"[:200])
            return False
        await run_in_threadpool(self.state.keep_signing_keys, published)
        try:
            verified = verify(body, await run_in_threadpool(self.state.signing_keys), gate_id=self.config.gate_id,
                              now=datetime.now(UTC))
        except BundleRefused as exc:
            self.bundle_error = str(exc)
            log.warning("offline_bundle_refused", reason=str(exc), source="platform")
            return False
        await run_in_threadpool(self.state.keep_bundle, body, at=datetime.now(UTC))
        self.current, self.bundle_error = verified, None
        log.info("offline_bundle_kept", bundle_id=verified.bundle_id, expires_at=_iso(verified.expires_at),
                 instruments=len(verified.bundle.instruments))
        return True

    async def _bundle_loop(self) -> None:
        while True:
            ok = await self.refresh_bundle()
            await asyncio.sleep(self.config.bundle_refresh_s if ok else min(30.0, self.config.bundle_refresh_s))

    # -- uploads --------------------------------------------------------------------------------

    async def upload_pending(self) -> int:
        """Send what was decided offline, in batches; how many the platform took. Raises on failure."""
        assert self._http is not None
        sent = 0
        while True:
            batch = await run_in_threadpool(self.state.pending, UPLOAD_BATCH)
            self._pending = await run_in_threadpool(self.state.pending_count)
            if not batch:
                return sent
            body = {"decisions": [_upload_item(p.request, p.answer) for p in batch if p.kind == "ENTRY"],
                    "exits": [{**p.answer, "timestamp": p.request.get("timestamp"), "request": p.request}
                              for p in batch if p.kind == "EXIT"]}
            headers = {"authorization": f"Bearer {self.config.gate_key}", "entrygate-agent": self._agent_header()}
            r = await self._http.post(f"/v1/gates/{self.config.gate_id}/offline-decisions", json=body, headers=headers)
            r.raise_for_status()
            await run_in_threadpool(self.state.mark_uploaded, [p.event_id for p in batch], at=datetime.now(UTC))
            sent += len(batch)
            log.info("offline_decisions_uploaded", count=len(batch))

    async def _upload_loop(self) -> None:
        backoff = self.config.upload_interval_s
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._upload_now.wait(), backoff)
            self._upload_now.clear()
            if not self.online and self._since_contact() < self.config.probe_interval_s:
                continue  # the platform failed moments ago: wait for the probe to see it back
            try:
                await self.upload_pending()
                backoff = self.config.upload_interval_s
            except (httpx.HTTPError, ValueError) as exc:
                log.warning("offline_upload_failed", error=f"{type(exc).__name__}: {exc}"[:200])
                backoff = min(MAX_UPLOAD_BACKOFF_S, backoff * 2) * random.uniform(0.8, 1.0)

    async def _probe_loop(self) -> None:
        assert self._http is not None
        while True:
            await asyncio.sleep(self.config.probe_interval_s)
            if self._since_contact() < self.config.probe_interval_s and self.online:
                continue
            try:
                r = await self._http.get("/healthz", timeout=self.config.online_timeout_ms / 1000)
                if r.status_code < 500:
                    was = self.online
                    self._came_online()
                    if not was:
                        self._upload_now.set()
                else:
                    self._went_offline(f"HTTP {r.status_code}")
            except httpx.HTTPError as exc:
                self._went_offline(type(exc).__name__)

    # -- internals ------------------------------------------------------------------------------

    def _came_online(self) -> None:
        if not self.online:
            log.info("platform_online")
        self.online, self._last_contact = True, time.monotonic()

    def _went_offline(self, why: str) -> None:
        if self.online:
            log.warning("platform_offline", reason=why)
        self.online = False

    def _since_contact(self) -> float:
        return time.monotonic() - self._last_contact

    def _agent_header(self) -> str:
        bundle = self.current.bundle_id if self.current else "none"
        return f"bundle={bundle}; pending={self._pending}; version={self.config.version}"


def _upload_item(request: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    """One offline decision as the platform takes it: the answer given, with when, how and what was read."""
    return {**answer, "timestamp": request.get("timestamp"), "channel": request.get("channel"),
            "interactionType": request.get("interactionType", "TAP"), "credential": request.get("credential")}


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _error(status: int, code: str, message: str, fields: list[str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "fields": fields or []}}, status_code=status)


def _invalid(exc: InvalidRequest) -> JSONResponse:
    return _error(400, exc.code, exc.message, exc.fields)


def create_app(config: AgentConfig) -> Starlette:
    """The agent's ASGI app; the agent itself is ``app.state.agent``."""
    agent = GateAgent(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):  # noqa: ANN202
        await agent.start()
        try:
            yield
        finally:
            await agent.stop()

    app = Starlette(routes=[
        Route("/v1/gates/{gateId}/entries", agent.entry, methods=["POST"]),
        Route("/v1/gates/{gateId}/exits", agent.exit, methods=["POST"]),
        Route("/healthz", agent.health, methods=["GET"]),
    ], lifespan=lifespan)
    app.state.agent = agent
    return app
