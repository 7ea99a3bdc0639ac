"""The connectivity test: does a retailer's connector keep the contract? (the console's button)

It sends the configured connector a set of requests, each with one thing right or wrong on
purpose, and says per request what came back, whether that is what DESIGN 5 expects, and if
not, what exactly to change. Every request but the signature checks is signed correctly, so a
check fails for the one reason it tests:

- a well-formed request is understood (200 with a body that follows the contract, or for
  identity 401), within the connector's ``timeoutMs``;
- a key nobody was given is refused with 401 (identity);
- malformed requests, one defect each, are refused with 400;
- an unsigned request, one signed with another secret, and one signed ten minutes ago are
  refused with 401.

If the first request gets no HTTP answer at all, the others are not sent: the one thing to fix
is the connection.

A result carries the status, the time and a hint of entrygate's own wording, never the body of an
answer: a connector URL may lead somewhere its retailer should not read (DESIGN "Outbound
addresses"), and echoing what answers there would relay it. A 200 body is only parsed, and a
failure to parse is told by the contract's field names.
"""
from __future__ import annotations

import copy
import json
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from entrygate.domain import webhooks
from entrygate.domain.channels import Channel, ShopperRisk
from entrygate.domain.money import Money
from entrygate.domain.store import CONNECTOR_NAMES, ConnectorConfig, StoreConfig
from entrygate.services.auth import Principal, store_in_scope
from entrygate.services.errors import NotFound
from entrygate.services.ports.connectors import (
    IDENTITY,
    MAX_IDENTITY_KEY_CHARS,
    MAX_STORE_ID_CHARS,
    PATHS,
    AuthEvent,
    AuthorizationCondition,
    ConnectorProbe,
    GateAuthEvent,
    KeyChannel,
    MalformedAnswer,
    ProbeAnswer,
    ShopperAuthorization,
    identity_request,
    parse_authorization,
    parse_identity_answer,
    shopper_authorization_request,
)
from entrygate.services.ports.storage import UnitOfWorkFactory

STALE_SIGNATURE_S = 600  # twice the five minutes of skew a receiver may accept
MIN_BUDGET_S, MAX_BUDGET_S = 1.0, 5.0


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    request_summary: str
    expected: str
    got_status: int | None
    got_summary: str
    passed: bool
    hint: str | None = None  # what to change, when the check failed

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "request": self.request_summary, "expected": self.expected,
                "gotStatus": self.got_status, "got": self.got_summary, "passed": self.passed, "hint": self.hint}


@dataclass(frozen=True, slots=True)
class _Check:
    name: str
    summary: str
    body: dict[str, Any] | None  # None: an empty body
    expected: tuple[int, ...]
    signing: str = "valid"  # valid, none, other-secret, stale
    field: str = ""  # the field a 400-check breaks
    understood: Callable[[Any], object] | None = None  # parses a 200 body; raises MalformedAnswer


class ConnectivityService:
    def __init__(self, *, uow: UnitOfWorkFactory, probe: ConnectorProbe,
                 wall_clock: Callable[[], float] = time.time) -> None:
        self._uow = uow
        self._probe = probe
        self._wall_clock = wall_clock

    def run(self, principal: Principal, store_id: str, name: str) -> list[CheckResult]:
        """Send the test requests to the store's ``name`` connector; one result per request."""
        store = store_in_scope(self._uow, principal, store_id, hide_others=False)
        if name not in CONNECTOR_NAMES:
            raise NotFound(f"unknown connector {name!r}; known: {', '.join(CONNECTOR_NAMES)}")
        config = store.connector(name)
        if config is None:
            raise NotFound(f"store {store_id} has no {name} connector configured")
        now = datetime.fromtimestamp(self._wall_clock(), UTC)
        checks = _identity_checks(store, now) if name == IDENTITY else _authorization_checks(store, now)
        path = PATHS[name]
        budget_s = min(max(2 * config.timeout_ms / 1000, MIN_BUDGET_S), MAX_BUDGET_S)
        results: list[CheckResult] = []
        for check in checks:
            if results and results[0].got_status is None:
                results.append(CheckResult(check.name, check.summary, _expected(check), None, "not sent", False,
                                           "Not run: the first request got no answer; fix the connection first."))
                continue
            body = b"" if check.body is None else json.dumps(check.body, separators=(",", ":")).encode()
            answer = self._probe.probe(config, path, body, self._headers(config, body, check.signing),
                                       budget_s=budget_s)
            results.append(_judge(check, answer, config, path))
        return results

    def _headers(self, config: ConnectorConfig, body: bytes, signing: str) -> dict[str, str]:
        now = self._wall_clock()
        if signing == "none":
            return {}
        if signing == "other-secret":
            return webhooks.headers(webhooks.new_secret(), body, now=now)
        if signing == "stale":
            return webhooks.headers(config.secret, body, now=now - STALE_SIGNATURE_S)
        return webhooks.headers(config.secret, body, now=now)


# --- the test plans ---------------------------------------------------------------------------


def _identity_checks(store: StoreConfig, now: datetime) -> list[_Check]:

    def valid(key: bytes, channel: KeyChannel) -> dict[str, Any]:
        return identity_request(request_id=str(uuid.uuid4()), identity_key=key, store_id=store.store_id,
                                auth_event=AuthEvent(str(uuid.uuid4()), now, "ENTRY"), key_channel=channel)

    step = int(now.timestamp()) // 20
    sample_qr = f"EG1.connectivitytest.{step}.{secrets.token_urlsafe(16)}".encode()
    unknown = f"CSN:{secrets.token_hex(7).upper()}".encode()
    base = valid(b"entrygate-connectivity-test-" + secrets.token_hex(8).encode(), KeyChannel.OPTICAL)
    broken = _Variants(base)
    return [
        _Check("well-formed request", "a correctly signed identity request for a QR code (keyChannel OPTICAL)",
               valid(sample_qr, KeyChannel.OPTICAL), (200, 401), understood=parse_identity_answer),
        _Check("unknown key", "a correctly signed request for a badge nobody was given (keyChannel RFID)",
               valid(unknown, KeyChannel.RFID), (401,)),
        _Check("requestId missing", "requestId left out", broken.drop("requestId"), (400,), field="requestId"),
        _Check("requestId not a UUID", "requestId = \"not-a-uuid\"", broken.set("requestId", "not-a-uuid"), (400,),
               field="requestId"),
        _Check("identityKey too long", f"identityKey of {MAX_IDENTITY_KEY_CHARS + 4} base64 characters",
               broken.set("identityKey", "QUFB" * (MAX_IDENTITY_KEY_CHARS // 4 + 1)), (400,), field="identityKey"),
        _Check("identityKey not base64", "identityKey = \"not base64!\"", broken.set("identityKey", "not base64!"),
               (400,), field="identityKey"),
        _Check("storeId too long", f"storeId of {MAX_STORE_ID_CHARS + 1} characters",
               broken.set("storeId", "s" * (MAX_STORE_ID_CHARS + 1)), (400,), field="storeId"),
        _Check("authEvent missing", "authEvent left out", broken.drop("authEvent"), (400,), field="authEvent"),
        _Check("authEvent.id not a UUID", "authEvent.id = \"42\"", broken.set("authEvent.id", "42"), (400,),
               field="authEvent.id"),
        _Check("authEvent.timestamp not ISO-8601", "authEvent.timestamp = \"yesterday\"",
               broken.set("authEvent.timestamp", "yesterday"), (400,), field="authEvent.timestamp"),
        _Check("authEvent.location unknown", "authEvent.location = \"LOBBY\"",
               broken.set("authEvent.location", "LOBBY"), (400,), field="authEvent.location"),
        _Check("keyChannel unknown", "keyChannel = \"BLUETOOTH\"", broken.set("keyChannel", "BLUETOOTH"), (400,),
               field="keyChannel"),
        _Check("empty body", "a correctly signed request with an empty body", None, (400,), field="body"),
        *_signature_checks(base),
    ]


def _authorization_checks(store: StoreConfig, now: datetime) -> list[_Check]:
    amount = store.authorized_amount
    event = GateAuthEvent(str(uuid.uuid4()), Channel.CREDIT_CARD, "TAP", now, "ENTRY",
                          {"brand": "VISA", "last4": "4242"})
    recommendation = ShopperAuthorization(True, (AuthorizationCondition("ADJUST", Money(amount.amount * 2,
                                                                                        amount.currency)),),
                                          (ShopperRisk.HighVelocity,))

    def valid(rec: ShopperAuthorization | None) -> dict[str, Any]:
        return shopper_authorization_request(store_id=store.store_id,
                                             instrument_id="pi_connectivitytest_" + secrets.token_hex(8),
                                             authorized_amount=amount, trip_id="trip_connectivitytest",
                                             gate_event=event, recommendation=rec)

    def understood(data: Any) -> ShopperAuthorization:
        return parse_authorization(data, currency=amount.currency)

    base = valid(None)
    broken = _Variants(valid(recommendation))
    gae = "shopperInteraction.gateAuthenticationEvent"
    return [
        _Check("well-formed request", "a correctly signed request without a recommendation (RETAILER_MANAGED)",
               base, (200,), understood=understood),
        _Check("well-formed request with a recommendation", "a correctly signed request with the platform's "
               "recommendation (PLATFORM_RECOMMENDATION)", valid(recommendation), (200,), understood=understood),
        _Check("storeId missing", "storeId left out", broken.drop("storeId"), (400,), field="storeId"),
        _Check("shopperIdentity.id missing", "shopperIdentity.id left out", broken.drop("shopperIdentity.id"),
               (400,), field="shopperIdentity.id"),
        _Check("authorizedAmount.currencyCode malformed", "authorizedAmount.currencyCode = \"usd\"",
               broken.set("authorizedAmount.currencyCode", "usd"), (400,), field="authorizedAmount.currencyCode"),
        _Check("authorizedAmount.value negative", "authorizedAmount.value = -5",
               broken.set("authorizedAmount.value", -5), (400,), field="authorizedAmount.value"),
        _Check("shoppingTripId missing", "shopperInteraction.shoppingTripId left out",
               broken.drop("shopperInteraction.shoppingTripId"), (400,), field="shopperInteraction.shoppingTripId"),
        _Check("gateAuthenticationEvent.id not a UUID", f"{gae}.id = \"42\"", broken.set(f"{gae}.id", "42"),
               (400,), field=f"{gae}.id"),
        _Check("gateAuthenticationEvent.type unknown", f"{gae}.type = \"TELEPATHY\"",
               broken.set(f"{gae}.type", "TELEPATHY"), (400,), field=f"{gae}.type"),
        _Check("gateAuthenticationEvent.timestamp not ISO-8601", f"{gae}.timestamp = \"yesterday\"",
               broken.set(f"{gae}.timestamp", "yesterday"), (400,), field=f"{gae}.timestamp"),
        _Check("recommendation.shopperAuthorized not a boolean",
               "shopperInteraction.recommendation.shopperAuthorized = \"yes\"",
               broken.set("shopperInteraction.recommendation.shopperAuthorized", "yes"), (400,),
               field="shopperInteraction.recommendation.shopperAuthorized"),
        _Check("empty body", "a correctly signed request with an empty body", None, (400,), field="body"),
        *_signature_checks(base),
    ]


def _signature_checks(base: dict[str, Any]) -> list[_Check]:
    return [
        _Check("unsigned request", "a well-formed request without webhook-* headers", base, (401,), signing="none"),
        _Check("wrong signature", "a well-formed request signed with another secret", base, (401,),
               signing="other-secret"),
        _Check("stale signature", f"a well-formed request correctly signed {STALE_SIGNATURE_S // 60} minutes ago",
               base, (401,), signing="stale"),
    ]


class _Variants:
    """Copies of a valid body, each with one field removed or replaced (paths are dotted)."""

    def __init__(self, body: dict[str, Any]) -> None:
        self._body = body

    def _at(self, path: str) -> tuple[dict[str, Any], dict[str, Any], str]:
        body = copy.deepcopy(self._body)
        *parents, last = path.split(".")
        node = body
        for p in parents:
            node = node[p]
        return body, node, last

    def drop(self, path: str) -> dict[str, Any]:
        body, node, last = self._at(path)
        node.pop(last, None)
        return body

    def set(self, path: str, value: Any) -> dict[str, Any]:
        body, node, last = self._at(path)
        node[last] = value
        return body


# --- judging an answer ------------------------------------------------------------------------


def _expected(check: _Check) -> str:
    return " or ".join(str(s) for s in check.expected)


def _judge(check: _Check, answer: ProbeAnswer, config: ConnectorConfig, path: str) -> CheckResult:
    def result(passed: bool, hint: str | None = None, got: str | None = None) -> CheckResult:
        return CheckResult(check.name, check.summary, _expected(check), answer.status,
                           got or _summary(answer), passed, None if passed else hint)

    status = answer.status
    if status is None:
        return result(False, f"No HTTP answer from {config.url.rstrip('/')}{path}: {answer.error}. Check the URL, "
                      "that the service is running, and that entrygate can reach it (firewall, TLS certificate).")
    if status not in check.expected:
        return result(False, _hint(check, status, answer, config, path))
    if status == 200 and check.understood is not None:
        try:
            check.understood(json.loads(answer.body))
        except MalformedAnswer as exc:  # its message names a field of the contract, never a value
            return result(False, f"The answer is 200 but its body does not follow the contract ({exc}). "
                          "See docs/connectors.md for the answer's shape.")
        except ValueError:
            return result(False, "The answer is 200 but its body is not JSON. See docs/connectors.md for the "
                          "answer's shape.")
    if check.understood is not None and answer.elapsed_ms > config.timeout_ms:
        return result(False, f"The answer is right but took {answer.elapsed_ms:.0f} ms, over the connector's "
                      f"timeoutMs of {config.timeout_ms}: at the gate this call would fail and the fallback apply. "
                      "Make the endpoint faster or raise timeoutMs.")
    return result(True)


def _hint(check: _Check, status: int, answer: ProbeAnswer, config: ConnectorConfig, path: str) -> str:
    url = f"{config.url.rstrip('/')}{path}"
    if status in (404, 405):
        return (f"Nothing handles POST {url} ({status}). The connector url is the base under which entrygate "
                f"calls {path}; check it.")
    if 300 <= status < 400:
        return f"{url} redirects ({status}); entrygate does not follow redirects. Configure the final URL."
    if status >= 500:
        return f"The connector failed with {status}; its logs say why."
    if check.signing == "none" and status < 300:
        return ("Your connector accepted a request that carries no signature, so anyone who can reach the URL can "
                "ask it. Verify the Standard Webhooks headers (webhook-id, webhook-timestamp, webhook-signature) "
                "with the connector secret before anything else, and answer 401 when they are missing.")
    if check.signing == "other-secret" and status < 300:
        return ("Your connector accepted a request signed with a secret that is not the store's. Compute "
                "HMAC-SHA256 over \"{webhook-id}.{webhook-timestamp}.{body}\" with the bytes after whsec_ "
                "(base64-decoded), compare it with each v1 signature in constant time, and answer 401 on mismatch.")
    if check.signing == "stale" and status < 300:
        return ("Your connector accepted a correctly signed request whose webhook-timestamp is "
                f"{STALE_SIGNATURE_S // 60} minutes old. Refuse timestamps more than 5 minutes from your clock "
                "(replay protection) with 401.")
    if check.signing != "valid":
        return (f"Answered {status}; a request with a missing or wrong signature gets 401. Check the signature "
                "before validating the body.")
    if check.field and status == 401:
        return (f"Answered 401 where a malformed {check.field} should get 400. If every malformed-request check "
                "shows 401, your connector refuses entrygate's signature: verify with the store's connector secret "
                "(the whsec_ value shown when the connector was configured). Otherwise validate the request before "
                "looking up the key.")
    if check.field:
        return (f"Your connector answered {status} to a request with {check.summary}. Validate {check.field} and "
                "answer 400 with a message that names it: a connector that accepts malformed requests may decide "
                "on garbage.")
    if check.name == "unknown key":
        return (f"Your connector answered {status} for a key nobody was given. Answer 401 for any key you do not "
                "know, and 200 only with the visitor a key belongs to.")
    if status == 400:
        return ("Your connector refused a request that follows the contract as malformed (400). Compare its "
                "validation with docs/connectors.md.")
    if status == 401:
        return ("Your connector refused a correctly signed request with 401: check that it verifies with the "
                "store's connector secret and that its clock is within 5 minutes of the true time.")
    return f"Answered {status}, which the contract does not use here; expected {_expected(check)}."


def _summary(answer: ProbeAnswer) -> str:
    """The status and time only; ``error`` is the client's own text, never the peer's."""
    if answer.status is None:
        return answer.error or "no answer"
    return f"{answer.status} in {answer.elapsed_ms:.0f} ms"
