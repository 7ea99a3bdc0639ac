"""A loopback HTTP server that answers as Stripe's API does, for the Stripe processor's tests.

It keeps PaymentIntents and refunds, takes form-encoded bodies, answers with Stripe's JSON
objects and error shape, and honours ``Idempotency-Key`` as Stripe does: the same key with the
same request replays the first answer; with another request it is a 400 ``idempotency_error``.
Payment methods behave as Stripe's test PaymentMethods named after them. Faults are switched on
per test: answers of a given status before the next requests (``fail_next``, ``fault_delay_s``),
and requests that hang until the test ends (``stall``, ``stall_after``).
"""
from __future__ import annotations

import json
import secrets
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

API_KEY = "sk_test_entrygate_fake_0000"
# payment method -> (error code, decline code) of the card_error its confirmation gets
DECLINING = {
    "pm_card_chargeDeclined": ("card_declined", "generic_decline"),
    "pm_card_chargeDeclinedInsufficientFunds": ("card_declined", "insufficient_funds"),
    "pm_card_chargeDeclinedLostCard": ("card_declined", "lost_card"),
    "pm_card_chargeDeclinedStolenCard": ("card_declined", "stolen_card"),
    "pm_card_chargeDeclinedExpiredCard": ("expired_card", "expired_card"),
    "pm_card_chargeDeclinedIncorrectNumber": ("incorrect_number", None),
    "pm_card_chargeDeclinedFraudulent": ("card_declined", "fraudulent"),
}
APPROVING = {"pm_card_visa", "pm_card_mastercard", "pm_card_discover"}
# Discover allows raises only in some merchant categories: not a shop's.
NO_INCREMENTAL = {"pm_card_discover"}
NEEDS_AUTHENTICATION = {"pm_card_authenticationRequired"}


@dataclass
class Seen:
    method: str
    path: str
    params: dict[str, str]
    idempotency_key: str | None


@dataclass
class FakeStripe:
    """The server's state, and the knobs a test turns."""

    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    answers: dict[str, tuple[str, list[tuple[str, str]], int, bytes]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    fail_next: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    stall: bool = False
    stall_after: int | None = None      # stall every request after this many
    fault_delay_s: float = 0.0          # how long an injected fault takes to answer
    released: threading.Event = field(default_factory=threading.Event)
    increment_decline: str | None = None
    capture_decline: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def posts(self, path_end: str) -> list[Seen]:
        return [s for s in self.seen if s.path.endswith(path_end)]


def _error(status: int, type_: str, message: str, **extra: Any) -> tuple[int, dict[str, Any]]:
    return status, {"error": {"type": type_, "message": message, **extra}}


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args: Any) -> None:   # keep test output clean
        pass

    def do_POST(self) -> None:
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        pairs = parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True)
        key = self.headers.get("Idempotency-Key")
        with fake.lock:
            fake.seen.append(Seen("POST", self.path, dict(pairs), key))
            fault = fake.fail_next.pop(0) if fake.fail_next else None
            stall = fake.stall or (fake.stall_after is not None and len(fake.seen) > fake.stall_after)
        if stall:
            fake.released.wait(10)
        if fault is not None:   # failed before Stripe's idempotency layer: nothing saved
            fake.released.wait(fake.fault_delay_s)
            self._send(fault[0], {"error": {"type": "api_error", "message": "fault injected"}}, fault[1])
            return
        if self.headers.get("Authorization") != f"Bearer {API_KEY}":
            self._send(*_error(401, "invalid_request_error", "Invalid API Key provided"))
            return
        with fake.lock:
            if key is not None and key in fake.answers:
                path, first, status, body = fake.answers[key]
                if (path, first) != (self.path, sorted(pairs)):
                    self._send(*_error(400, "idempotency_error", "Keys for idempotent requests can only be used "
                                       "with the same parameters they were first used with."))
                    return
                self._send_raw(status, body, {"Idempotent-Replayed": "true"})
                return
            status, obj = self._route(fake, dict(pairs))
            body = json.dumps(obj).encode()
            if key is not None:
                fake.answers[key] = (self.path, sorted(pairs), status, body)
        self._send_raw(status, body, {})

    # -- Stripe's resources -------------------------------------------------------------------

    def _route(self, fake: FakeStripe, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        parts = self.path.strip("/").split("/")
        if parts == ["v1", "payment_intents"]:
            return _create_intent(fake, form)
        if parts == ["v1", "refunds"]:
            return _create_refund(fake, form)
        if len(parts) == 4 and parts[:2] == ["v1", "payment_intents"]:
            intent = fake.intents.get(parts[2])
            if intent is None:
                return _error(404, "invalid_request_error", f"No such payment_intent: '{parts[2]}'",
                              code="resource_missing", param="intent")
            action = {"capture": _capture, "cancel": _cancel, "increment_authorization": _increment}.get(parts[3])
            if action is not None:
                return action(fake, intent, form)
        return _error(404, "invalid_request_error", f"Unrecognized request URL (POST: {self.path})")

    def _send(self, status: int, obj: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        self._send_raw(status, json.dumps(obj).encode(), headers or {})

    def _send_raw(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Request-Id", "req_" + secrets.token_hex(7))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


def _amount(form: dict[str, str], name: str) -> int | None:
    value = form.get(name)
    return int(value) if value is not None and value.isdigit() and int(value) > 0 else None


def _unexpected_state(intent: dict[str, Any], what: str) -> tuple[int, dict[str, Any]]:
    return _error(400, "invalid_request_error",
                  f"This PaymentIntent could not be {what} because it has a status of {intent['status']}.",
                  code="payment_intent_unexpected_state", payment_intent=intent)


def _create_intent(fake: FakeStripe, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
    amount = _amount(form, "amount")
    if amount is None:
        return _error(400, "invalid_request_error", "Invalid positive integer", param="amount")
    method = form.get("payment_method", "")
    if method not in APPROVING | NEEDS_AUTHENTICATION | set(DECLINING):
        return _error(400, "invalid_request_error", f"No such PaymentMethod: '{method}'",
                      code="resource_missing", param="payment_method")
    intent = {
        "id": "pi_" + secrets.token_hex(12), "object": "payment_intent", "amount": amount,
        "amount_capturable": 0, "amount_received": 0, "currency": form.get("currency"),
        "capture_method": form.get("capture_method", "automatic"), "payment_method": method,
        "status": "requires_capture", "livemode": False, "refunded": 0,
        "incremental": (form.get("payment_method_options[card][request_incremental_authorization]") == "if_available"
                        and method not in NO_INCREMENTAL),
    }
    fake.intents[intent["id"]] = intent
    if method in DECLINING:
        intent["status"] = "requires_payment_method"
        code, decline = DECLINING[method]
        extra = {"decline_code": decline} if decline else {}
        return _error(402, "card_error", "Your card was declined.", code=code, payment_intent=intent, **extra)
    if method in NEEDS_AUTHENTICATION:
        intent["status"] = "requires_action"
    else:
        intent["amount_capturable"] = amount
    return 200, intent


def _capture(fake: FakeStripe, intent: dict[str, Any], form: dict[str, str]) -> tuple[int, dict[str, Any]]:
    if intent["status"] != "requires_capture":
        return _unexpected_state(intent, "captured")
    amount = _amount(form, "amount_to_capture") or intent["amount_capturable"]
    if amount > intent["amount_capturable"]:
        return _error(400, "invalid_request_error", "The amount to capture must be less than or equal to the "
                      "amount capturable.", code="amount_too_large", param="amount_to_capture")
    if fake.capture_decline:
        return _error(402, "card_error", "Your card was declined.", code="card_declined",
                      decline_code=fake.capture_decline, payment_intent=intent)
    intent.update(status="succeeded", amount_received=amount, amount_capturable=0)
    return 200, intent


def _cancel(fake: FakeStripe, intent: dict[str, Any], form: dict[str, str]) -> tuple[int, dict[str, Any]]:
    if intent["status"] not in ("requires_payment_method", "requires_capture", "requires_confirmation",
                                "requires_action"):
        return _unexpected_state(intent, "canceled")
    intent.update(status="canceled", amount_capturable=0, cancellation_reason=form.get("cancellation_reason"))
    return 200, intent


def _increment(fake: FakeStripe, intent: dict[str, Any], form: dict[str, str]) -> tuple[int, dict[str, Any]]:
    if intent["status"] != "requires_capture":
        return _unexpected_state(intent, "incremented")
    if not intent["incremental"]:
        return _error(400, "invalid_request_error", "This PaymentIntent is not eligible for incremental "
                      "authorization.")
    amount = _amount(form, "amount")
    if amount is None or amount <= intent["amount"]:
        return _error(400, "invalid_request_error", "The amount must be greater than the PaymentIntent's "
                      "current amount.", param="amount")
    if fake.increment_decline:
        return _error(402, "card_error", "Your card was declined.", code="card_declined",
                      decline_code=fake.increment_decline, payment_intent=intent)
    intent.update(amount=amount, amount_capturable=amount)
    return 200, intent


def _create_refund(fake: FakeStripe, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
    intent = fake.intents.get(form.get("payment_intent", ""))
    if intent is None:
        return _error(404, "invalid_request_error", f"No such payment_intent: '{form.get('payment_intent')}'",
                      code="resource_missing", param="payment_intent")
    if intent["status"] != "succeeded":
        return _error(400, "invalid_request_error", "This PaymentIntent does not have a successful charge to "
                      "refund.", code="charge_not_refundable")
    left = intent["amount_received"] - intent["refunded"]
    amount = _amount(form, "amount") or left
    if amount > left:
        return _error(400, "invalid_request_error", f"Refund amount ({amount}) is greater than unrefunded amount "
                      f"on charge ({left})", code="amount_too_large", param="amount")
    intent["refunded"] += amount
    refund = {"id": "re_" + secrets.token_hex(12), "object": "refund", "amount": amount,
              "currency": intent["currency"], "payment_intent": intent["id"], "status": "succeeded"}
    fake.refunds[refund["id"]] = refund
    return 200, refund


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeStripe

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return      # a stalled answer whose client gave up at its deadline, as it should
        super().handle_error(request, client_address)


def start() -> tuple[FakeStripe, _Server]:
    """A fake Stripe on 127.0.0.1 and a free port, serving in a thread."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.fake = FakeStripe(url=f"http://127.0.0.1:{server.server_address[1]}")
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-stripe",
                     daemon=True).start()
    return server.fake, server


def stop(server: _Server) -> None:
    server.fake.released.set()
    server.shutdown()
    server.server_close()
