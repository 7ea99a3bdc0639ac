"""The retailer connector client: signed HTTP calls with a hard deadline, retries and a breaker.

One ``ConnectorClient`` serves every store of the process. Per call (DESIGN 5):

- The body is the contract's JSON (``services/ports/connectors.py``), signed with Standard
  Webhooks headers under the store's connector secret (``domain/webhooks.py``). Retries reuse
  the same ``webhook-id`` and ``requestId``, so a retailer can recognise a repeated message.
- The deadline is the connector's ``timeoutMs`` for the whole call: connecting, sending,
  waiting, reading, every retry and every back-off pause. It is a monotonic instant; each attempt
  gets httpx timeouts no longer than what is left, and ``DeadlineTransport`` cuts every socket
  operation to it, so a server that trickles bytes cannot stretch the call.
- Retries happen only on connection errors (refused, reset, a pooled keep-alive connection the
  server had closed) and 5xx answers, and only while at least ``MIN_ATTEMPT_S`` of the deadline
  would remain after a short jittered back-off. A timeout is not retried: the budget is spent.
- A circuit breaker per (store, connector) fails calls at once while the retailer is down
  (``breaker.py``).
- Calls go only to https URLs at public addresses, checked at connect time (``outbound.py``),
  unless ``allow_private_urls``; a refused address fails, unretried, like an unreachable connector.
- The answer is parsed strictly: an unexpected status, a body over ``MAX_RESPONSE_BYTES``, or
  JSON that does not follow the contract is a failure, and the caller's fallback applies.
- Connections are pooled in one transport shared by all stores; idle ones are dropped after 4 s,
  under the 5 s keep-alive of common servers (uvicorn, Node), so a reused connection is rarely
  stale. Requests go straight to the transport: a connector call needs none of what
  ``httpx.Client`` adds per request (cookies, redirects, auth, URL merging); skipping it saves
  a good part of the client's CPU per call, and no cookie a retailer sets is ever sent back.

Every call leaves a structured log line and Prometheus samples: connector, store, outcome, status,
latency and attempts.
"""
from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import orjson
import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from entrygate import __version__
from entrygate.adapters.http.breaker import Breakers
from entrygate.adapters.http.outbound import OutboundPolicy, OutboundRefused
from entrygate.adapters.http.transport import DeadlineTransport, deadline
from entrygate.domain import webhooks
from entrygate.domain.decision import Visitor
from entrygate.domain.money import Money
from entrygate.domain.store import ConnectorConfig, StoreConfig
from entrygate.services.ports.connectors import (
    IDENTITY,
    IDENTITY_PATH,
    SHOPPER_AUTHORIZATION,
    SHOPPER_AUTHORIZATION_PATH,
    AuthEvent,
    ConnectorFailed,
    FailureKind,
    GateAuthEvent,
    IdentityRejected,
    KeyChannel,
    MalformedAnswer,
    ProbeAnswer,
    ShopperAuthorization,
    identity_request,
    parse_authorization,
    parse_identity_answer,
    shopper_authorization_request,
)

log = structlog.get_logger("entrygate.connectors")
T = TypeVar("T")

MAX_RESPONSE_BYTES = 64 * 1024
MAX_ATTEMPTS = 3
BACKOFF_S = 0.01
# An attempt with less time than this left cannot connect, send and hear back on any real network.
MIN_ATTEMPT_S = 0.02
LIMITS = httpx.Limits(max_connections=256, max_keepalive_connections=64, keepalive_expiry=4.0)
LATENCY_BUCKETS_S = (0.001, 0.002, 0.003, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.8, 1, 2, 5)
_HEADERS = {"user-agent": f"entrygate-connector/{__version__}", "accept": "application/json",
            "accept-encoding": "identity"}
_RETRYABLE_ERRORS = (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)


class ConnectorMetrics:
    """Prometheus series for connector calls, on the registry ``/metrics`` serves."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.calls = Counter("entrygate_connector_calls", "Retailer connector calls by outcome",
                             ["store_id", "connector", "outcome"], registry=registry)
        # In base units (seconds): it replaces entrygate_connector_latency_ms (docs/deploy.md, renamed metrics).
        self.latency = Histogram("entrygate_connector_latency_seconds", "Retailer connector call latency in "
                                 "seconds, retries included", ["connector", "outcome"], buckets=LATENCY_BUCKETS_S,
                                 registry=registry)
        self.attempts = Counter("entrygate_connector_attempts", "HTTP attempts of connector calls, retries "
                                "included", ["connector"], registry=registry)
        # Each worker process has its own breakers; across workers the series shows the least
        # healthy one (any non-zero: some worker is failing calls fast), and a worker that has
        # exited leaves it.
        self.circuit = Gauge("entrygate_connector_circuit_state", "Circuit breaker: 0 closed, 1 open, 2 half-open",
                             ["store_id", "connector"], registry=registry, multiprocess_mode="livemax")

    def observe(self, *, store_id: str, connector: str, outcome: str, latency_ms: float, attempts: int,
                circuit: int) -> None:
        self.calls.labels(store_id, connector, outcome).inc()
        self.latency.labels(connector, outcome).observe(latency_ms / 1000)
        if attempts:
            self.attempts.labels(connector).inc(attempts)
        self.circuit.labels(store_id, connector).set(circuit)


@dataclass(slots=True)
class _Trace:
    attempts: int = 0
    status: int | None = None


class ConnectorClient:
    """Implements ``IdentityConnector``, ``ShopperAuthorizationConnector`` and ``ConnectorProbe``."""

    def __init__(self, *, transport: httpx.BaseTransport | None = None, metrics: ConnectorMetrics | None = None,
                 failure_threshold: int = 5, cooldown_s: float = 5.0, max_attempts: int = MAX_ATTEMPTS,
                 backoff_s: float = BACKOFF_S, max_response_bytes: int = MAX_RESPONSE_BYTES,
                 verify_tls: bool = True, allow_private_urls: bool = False,
                 rng: random.Random | None = None) -> None:
        # The outbound guard lives in the default transport; a transport given here (a test's) has none.
        self._transport = transport or DeadlineTransport(limits=LIMITS, verify=verify_tls,
                                                         policy=OutboundPolicy(allow_private=allow_private_urls))
        self._urls: dict[str, httpx.URL] = {}
        self._metrics = metrics
        self._breakers = Breakers(failure_threshold=failure_threshold, cooldown_s=cooldown_s)
        self._max_attempts = max(1, max_attempts)
        self._backoff_s = backoff_s
        self._max_bytes = max_response_bytes
        self._rng = rng or random.Random()

    def close(self) -> None:
        self._transport.close()

    # -- the two connectors ------------------------------------------------------------------------

    def identify(self, store: StoreConfig, *, identity_key: bytes, key_channel: KeyChannel,
                 auth_event: AuthEvent) -> Visitor:
        """Ask the store's identity connector whose key this is."""
        payload = identity_request(request_id=str(uuid.uuid4()), identity_key=identity_key, store_id=store.store_id,
                                   auth_event=auth_event, key_channel=key_channel)

        def interpret(status: int, raw: bytes) -> Visitor:
            if status == 200:
                return _parsed(raw, parse_identity_answer)
            if status == 401:
                raise IdentityRejected("the identity connector does not know this key")
            raise _unexpected(status, raw)

        return self._call(store, IDENTITY, IDENTITY_PATH, payload, interpret)

    def authorize_shopper(self, store: StoreConfig, *, instrument_id: str, authorized_amount: Money,
                          trip_id: str, gate_event: GateAuthEvent,
                          recommendation: ShopperAuthorization | None = None) -> ShopperAuthorization:
        """Ask the store's shopper-authorization connector about a card or palm entry."""
        payload = shopper_authorization_request(store_id=store.store_id, instrument_id=instrument_id,
                                                authorized_amount=authorized_amount, trip_id=trip_id,
                                                gate_event=gate_event, recommendation=recommendation)

        def interpret(status: int, raw: bytes) -> ShopperAuthorization:
            if status == 200:
                return _parsed(raw, lambda data: parse_authorization(data, currency=authorized_amount.currency))
            raise _unexpected(status, raw)

        return self._call(store, SHOPPER_AUTHORIZATION, SHOPPER_AUTHORIZATION_PATH, payload, interpret)

    # -- the connectivity test's raw requests ------------------------------------------------------

    def probe(self, connector: ConnectorConfig, path: str, body: bytes, headers: Mapping[str, str], *,
              budget_s: float) -> ProbeAnswer:
        """Send these bytes once, as they are (no signing, retry or breaker); report what came back."""
        started = time.monotonic()
        at = started + budget_s
        try:
            with deadline(at):
                status, raw = self._once(_url(connector, path), body,
                                         {"content-type": "application/json", **headers}, at)
        except ConnectorFailed as exc:
            return ProbeAnswer(exc.status, b"", _ms_since(started), exc.message)
        except httpx.TimeoutException:
            return ProbeAnswer(None, b"", _ms_since(started), f"no answer within {budget_s * 1000:.0f} ms")
        except httpx.HTTPError as exc:
            return ProbeAnswer(None, b"", _ms_since(started), _probe_error(exc))
        return ProbeAnswer(status, raw, _ms_since(started))

    # -- one call: breaker, attempts, metrics, log ------------------------------------------------

    def _call(self, store: StoreConfig, name: str, path: str, payload: dict[str, Any],
              interpret: Callable[[int, bytes], T]) -> T:
        started = time.monotonic()
        trace = _Trace()
        outcome, error = "ok", None
        config = store.connector(name)
        breaker = self._breakers.get(store.store_id, name, config.url) if config else None
        try:
            if config is None or breaker is None:
                raise ConnectorFailed(FailureKind.NOT_CONFIGURED, f"store {store.store_id} has no {name} connector")
            if not breaker.allow():
                raise ConnectorFailed(FailureKind.CIRCUIT_OPEN, "the circuit is open after repeated failures")
            try:
                status, raw = self._exchange(config, path, orjson.dumps(payload), started, trace)
                result = interpret(status, raw)
            except IdentityRejected:
                breaker.record_success()
                raise
            except ConnectorFailed as exc:
                if exc.kind.counts_against_breaker:
                    breaker.record_failure()
                else:
                    breaker.record_success()
                raise
            except BaseException:
                breaker.record_failure()
                raise
            breaker.record_success()
            return result
        except IdentityRejected:
            outcome = "rejected"
            raise
        except ConnectorFailed as exc:
            outcome, error = exc.kind.value, exc.message
            raise
        except BaseException as exc:
            outcome, error = "error", f"{type(exc).__name__}: {exc}"
            raise
        finally:
            latency_ms = _ms_since(started)
            circuit = breaker.state.gauge if breaker else 0
            if self._metrics is not None:
                self._metrics.observe(store_id=store.store_id, connector=name, outcome=outcome,
                                      latency_ms=latency_ms, attempts=trace.attempts, circuit=circuit)
            emit = log.info if outcome in ("ok", "rejected") else log.warning
            emit("connector_call", connector=name, store_id=store.store_id, outcome=outcome, status=trace.status,
                 latency_ms=latency_ms, attempts=trace.attempts, error=error)

    def _exchange(self, config: ConnectorConfig, path: str, body: bytes, started: float,
                  trace: _Trace) -> tuple[int, bytes]:
        """Send until an answer that is not a 5xx, a non-retryable failure, or the deadline."""
        at = started + config.timeout_ms / 1000
        url = _url(config, path)
        headers = {"content-type": "application/json", **webhooks.headers(config.secret, body)}
        for attempt in range(1, self._max_attempts + 1):
            trace.attempts = attempt
            try:
                with deadline(at):
                    status, raw = self._once(url, body, headers, at)
            except httpx.TimeoutException:
                raise ConnectorFailed(FailureKind.TIMEOUT, f"no answer within {config.timeout_ms} ms") from None
            except _RETRYABLE_ERRORS as exc:
                failure = ConnectorFailed(FailureKind.CONNECT_ERROR, f"{type(exc).__name__}: {exc}")
            except httpx.HTTPError as exc:
                raise ConnectorFailed(FailureKind.CONNECT_ERROR, f"{type(exc).__name__}: {exc}") from None
            else:
                trace.status = status
                if not 500 <= status <= 599:
                    return status, raw
                failure = ConnectorFailed(FailureKind.SERVER_ERROR, f"answered {status}", status=status)
            pause = self._backoff_s * 2 ** (attempt - 1) * self._rng.uniform(0.5, 1.5)
            if attempt == self._max_attempts or at - time.monotonic() - pause < MIN_ATTEMPT_S:
                raise failure
            time.sleep(pause)
        raise AssertionError("unreachable")

    def _once(self, url: str, body: bytes, headers: Mapping[str, str], at: float) -> tuple[int, bytes]:
        """One HTTP exchange, its body read in full within the size limit and the deadline."""
        left = at - time.monotonic()
        if left <= 0:
            raise httpx.ReadTimeout("the deadline has passed")
        request = httpx.Request("POST", self._url_of(url), content=body, headers={**_HEADERS, **headers},
                                extensions={"timeout": httpx.Timeout(left).as_dict()})
        response = self._transport.handle_request(request)
        try:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self._max_bytes:
                raise ConnectorFailed(FailureKind.MALFORMED, f"the answer is larger than {self._max_bytes} bytes",
                                      status=response.status_code)
            if response.headers.get("content-encoding", "identity").lower() != "identity":
                # Asked for identity; a compressed answer could inflate far past the size limit.
                raise ConnectorFailed(FailureKind.MALFORMED, "the answer is compressed although identity was asked",
                                      status=response.status_code)
            raw = bytearray()
            for chunk in response.iter_bytes():
                raw += chunk
                if len(raw) > self._max_bytes:
                    raise ConnectorFailed(FailureKind.MALFORMED, f"the answer is larger than {self._max_bytes} "
                                          "bytes", status=response.status_code)
                if time.monotonic() > at:
                    raise httpx.ReadTimeout("the deadline passed while reading the answer")
            return response.status_code, bytes(raw)
        finally:
            response.close()

    def _url_of(self, url: str) -> httpx.URL:
        parsed = self._urls.get(url)
        if parsed is None:
            try:
                parsed = httpx.URL(url)
            except httpx.InvalidURL as exc:  # not retried: the configuration must change
                raise httpx.UnsupportedProtocol(f"the connector URL is not valid: {exc}") from None
            if len(self._urls) > 10_000:
                self._urls.clear()
            self._urls[url] = parsed
        return parsed


def _probe_error(exc: httpx.HTTPError) -> str:
    """A failed exchange in the client's own words: a protocol error's text can quote the peer's bytes."""
    if isinstance(exc, (OutboundRefused, httpx.NetworkError, httpx.UnsupportedProtocol)):
        return f"{type(exc).__name__}: {exc}"  # the guard's, the operating system's or the URL parser's words
    if isinstance(exc, httpx.RemoteProtocolError):
        return "RemoteProtocolError: the answer is not HTTP/1.1"
    return f"{type(exc).__name__}: the exchange failed"


def _url(config: ConnectorConfig, path: str) -> str:
    return config.url.rstrip("/") + path


def _ms_since(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 3)


def _parsed(raw: bytes, parse: Callable[[Any], T]) -> T:
    try:
        return parse(orjson.loads(raw))
    except orjson.JSONDecodeError:
        raise ConnectorFailed(FailureKind.MALFORMED, "the answer is not JSON", status=200) from None
    except MalformedAnswer as exc:
        raise ConnectorFailed(FailureKind.MALFORMED, f"the answer does not follow the contract: {exc}",
                              status=200) from None


def _unexpected(status: int, raw: bytes) -> ConnectorFailed:
    snippet = raw[:200].decode("utf-8", "replace")
    if status == 400:
        return ConnectorFailed(FailureKind.BAD_REQUEST, f"the connector refused the request as malformed: {snippet}",
                               status=status)
    return ConnectorFailed(FailureKind.BAD_STATUS, f"unexpected status {status}", status=status)
