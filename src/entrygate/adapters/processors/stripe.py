"""The Stripe processor: holds as PaymentIntents with manual capture, on Stripe's official client.

- hold: ``POST /v1/payment_intents`` (``capture_method=manual``, ``confirm=true``, the payment token
  as ``payment_method``, card only, incremental authorization requested where available);
- raise: ``/increment_authorization``; a card or merchant that cannot raise is a declined raise;
- capture: ``/capture`` with ``amount_to_capture`` (Stripe releases the rest);
- release: ``/cancel``; refund: ``POST /v1/refunds`` on the PaymentIntent.

The caller's idempotency key goes to Stripe as its ``Idempotency-Key``, so a retry, ours or the
platform's, replays Stripe's first answer. Amounts go in Stripe's minor units (``stripe_money``).
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import stripe

from entrygate.adapters.processors import stripe_transport
from entrygate.adapters.processors.stripe_money import from_stripe, to_stripe
from entrygate.domain.money import Money
from entrygate.services.ports.processor import (
    CaptureResult,
    HoldStateError,
    IncrementResult,
    InvalidProcessorRequest,
    PreauthResult,
    ProcessorConfigError,
    ProcessorError,
    RefundResult,
    UnknownHold,
)

# Stripe's decline codes (and error codes, when a decline has none) -> (decline code, block the card)
_DECLINES: dict[str, tuple[str, bool]] = {
    "insufficient_funds": ("insufficient_funds", False),
    # The issuer says the card is reported lost or stolen, or is to be retained: block it, as 6a does.
    "lost_card": ("lost_stolen", True),
    "stolen_card": ("lost_stolen", True),
    "pickup_card": ("lost_stolen", True),
    "expired_card": ("expired_card", False),
    "incorrect_number": ("invalid", False),
    "invalid_number": ("invalid", False),
    "invalid_expiry_month": ("invalid", False),
    "invalid_expiry_year": ("invalid", False),
    "invalid_account": ("invalid", False),
}
_GENERIC = ("generic", False)
_UNEXPECTED_STATE = "payment_intent_unexpected_state"


class StripeProcessor:
    """The ``stripe`` plugin: one StripeClient, every call bounded by ``timeout_s``."""

    def __init__(self, *, api_key: str, api_base: str | None = None, timeout_s: float = 2.0) -> None:
        self._timeout_s = timeout_s
        self._deadline = stripe_transport.CallDeadline()
        self._sessions = stripe_transport.DeadlineSession(self._deadline)
        http = stripe.RequestsClient(timeout=timeout_s, session=self._sessions)  # type: ignore[arg-type]
        self._client = stripe.StripeClient(
            api_key, base_addresses={"api": api_base} if api_base else None,
            max_network_retries=0,  # retries happen in stripe_transport.call, within the deadline
            http_client=http)
        self._intents = self._client.v1.payment_intents

    def close(self) -> None:
        """Close the connections to Stripe (at shutdown)."""
        self._sessions.close()

    def __repr__(self) -> str:
        return f"StripeProcessor(timeout_s={self._timeout_s})"  # never the key

    def preauthorize(self, *, token: str, amount: Money, idempotency_key: str) -> PreauthResult:
        params = {
            "amount": to_stripe(amount),
            "currency": amount.currency.lower(),
            "payment_method": token,
            "payment_method_types": ["card"],
            "capture_method": "manual",
            "confirm": True,
            # For cards Stripe calls it request_incremental_authorization (if_available); the
            # card-present form, request_incremental_authorization_support, needs a reader.
            "payment_method_options": {"card": {"request_incremental_authorization": "if_available"}},
        }
        try:
            intent = self._call("the pre-authorization", lambda: self._intents.create(
                params, {"idempotency_key": idempotency_key}))
        except stripe.CardError as exc:
            code, block = _decline(exc)
            return PreauthResult(approved=False, decline_code=code, block_instrument=block)
        except stripe.InvalidRequestError as exc:
            if _error(exc).get("param") == "payment_method":   # no such PaymentMethod, or not a card
                return PreauthResult(approved=False, decline_code="invalid")
            raise InvalidProcessorRequest(f"Stripe refused the pre-authorization: {exc.user_message}") from exc
        if intent.status != "requires_capture":
            # requires_action: the issuer wants the shopper to authenticate, which a gate cannot offer.
            return PreauthResult(approved=False, decline_code="generic")
        return PreauthResult(approved=True, preauth_id=intent.id)

    def increment(self, *, preauth_id: str, new_amount: Money, idempotency_key: str) -> IncrementResult:
        params = {"amount": to_stripe(new_amount, field="new_amount")}
        try:
            intent = self._call("the raise of the hold", lambda: self._intents.increment_authorization(
                preauth_id, params, {"idempotency_key": idempotency_key}))
        except stripe.CardError as exc:
            return IncrementResult(approved=False, decline_code=_decline(exc)[0])
        except stripe.InvalidRequestError as exc:
            _raise_for_hold(exc, preauth_id, "raise")
            if _error(exc).get("param") == "amount":
                raise HoldStateError(f"Stripe refused to raise {preauth_id} to {new_amount.amount} "
                                     f"{new_amount.currency}: {exc.user_message}") from exc
            # Not eligible (card brand, merchant category, SCA region): the hold stays as it is.
            return IncrementResult(approved=False, decline_code="generic")
        return IncrementResult(approved=True, held=from_stripe(intent.amount, intent.currency))

    def capture(self, *, preauth_id: str, amount: Money, idempotency_key: str) -> CaptureResult:
        params = {"amount_to_capture": to_stripe(amount)}
        try:
            intent = self._call("the capture", lambda: self._intents.capture(
                preauth_id, params, {"idempotency_key": idempotency_key}))
        except stripe.CardError as exc:
            return CaptureResult(approved=False, captured=Money.of(0, amount.currency), decline_code=_decline(exc)[0])
        except stripe.InvalidRequestError as exc:
            _raise_for_hold(exc, preauth_id, "capture")
            if _error(exc).get("param") == "amount_to_capture" or _error(exc).get("code") == "amount_too_large":
                raise HoldStateError(f"Stripe refused to capture {amount.amount} {amount.currency} on "
                                     f"{preauth_id}: {exc.user_message}") from exc
            raise InvalidProcessorRequest(f"Stripe refused the capture: {exc.user_message}") from exc
        if intent.status != "succeeded":
            raise ProcessorError(f"Stripe left {preauth_id} {intent.status} after the capture")
        return CaptureResult(approved=True, captured=from_stripe(intent.amount_received, intent.currency))

    def release(self, *, preauth_id: str, idempotency_key: str) -> None:
        try:
            self._call("the release", lambda: self._intents.cancel(
                preauth_id, {"cancellation_reason": "abandoned"}, {"idempotency_key": idempotency_key}))
        except stripe.InvalidRequestError as exc:
            if _intent_status(exc) == "canceled":
                return      # released already: the release sweep may run twice
            _raise_for_hold(exc, preauth_id, "release")
            raise InvalidProcessorRequest(f"Stripe refused the release: {exc.user_message}") from exc

    def refund(self, *, preauth_id: str, amount: Money, idempotency_key: str) -> RefundResult:
        params = {"payment_intent": preauth_id, "amount": to_stripe(amount)}
        try:
            refund = self._call("the refund", lambda: self._client.v1.refunds.create(
                params, {"idempotency_key": idempotency_key}))
        except stripe.InvalidRequestError as exc:
            _raise_for_hold(exc, preauth_id, "refund")
            # Nothing captured, already refunded, or more than is left: the hold's state forbids it.
            raise HoldStateError(f"Stripe refused to refund {amount.amount} {amount.currency} on "
                                 f"{preauth_id}: {exc.user_message}") from exc
        if refund.status in ("failed", "canceled"):
            raise ProcessorError(f"Stripe's refund {refund.id} of {preauth_id} is {refund.status}")
        return RefundResult(refund_id=refund.id, refunded=from_stripe(refund.amount, refund.currency))

    def _call(self, what: str, send: Any) -> Any:
        return stripe_transport.call(what, send, deadline=self._deadline, timeout_s=self._timeout_s)


def _error(exc: stripe.StripeError) -> dict[str, Any]:
    body = exc.json_body if isinstance(exc.json_body, dict) else {}
    error = body.get("error")
    return error if isinstance(error, dict) else {}


def _decline(exc: stripe.CardError) -> tuple[str, bool]:
    error = _error(exc)
    for code in (error.get("decline_code"), error.get("code")):
        if code in _DECLINES:
            return _DECLINES[code]
    return _GENERIC


def _intent_status(exc: stripe.StripeError) -> str | None:
    intent = _error(exc).get("payment_intent")
    return intent.get("status") if isinstance(intent, dict) else None


def _raise_for_hold(exc: stripe.InvalidRequestError, preauth_id: str, what: str) -> None:
    """The port's error when Stripe refused because of the hold itself: missing, or in the wrong state."""
    error = _error(exc)
    if error.get("code") == "resource_missing":
        raise UnknownHold(f"Stripe has no PaymentIntent {preauth_id}") from exc
    if error.get("code") == _UNEXPECTED_STATE:
        state = _intent_status(exc) or "in another state"
        raise HoldStateError(f"cannot {what} {preauth_id}: it is {state} at Stripe") from exc


def from_settings(settings: object) -> StripeProcessor:
    """The ``stripe`` plugin's factory: ENTRYGATE_STRIPE_API_KEY, ENTRYGATE_STRIPE_API_BASE, the processor timeout."""
    key = getattr(settings, "stripe_api_key", None)
    if hasattr(key, "get_secret_value"):
        key = key.get_secret_value()
    if not key or not str(key).strip():
        raise ProcessorConfigError("ENTRYGATE_STRIPE_API_KEY is not set: the stripe processor needs a secret key "
                                   "(sk_test_... in test mode, sk_live_... or a restricted rk_... key)")
    key = str(key).strip()
    if not key.startswith(("sk_", "rk_")):
        raise ProcessorConfigError("ENTRYGATE_STRIPE_API_KEY must be a secret or restricted key (sk_... or rk_...), "
                                   "not a publishable key")
    base = getattr(settings, "stripe_api_base", None) or None
    if base is not None:
        _check_base(base)
    timeout_ms = getattr(settings, "processor_timeout_ms", 2000)
    return StripeProcessor(api_key=key, api_base=base, timeout_s=timeout_ms / 1000)


def _check_base(base: str) -> None:
    # The secret key travels with every request: plain http only to this machine (a test server).
    parts = urlsplit(base)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1"):
        return
    raise ProcessorConfigError(f"ENTRYGATE_STRIPE_API_BASE must be an https:// URL (http:// only to loopback), "
                               f"got {base!r}")
