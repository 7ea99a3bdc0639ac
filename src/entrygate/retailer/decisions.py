"""What the reference retailer answers: who a key belongs to, and whether a shopper may enter.

Identity (``OPTICAL`` and ``RFID``):

- An ``EG1.`` code is one of the retailer's rotating QR codes (domain/qr.py): its MAC and time
  step must check out (at most one step late) and the (token, step) pair must not have been used
  before; it is then recorded, so the code opens once. Any other optical key is looked up among
  the static keys registered with ``add-shopper`` / ``add-associate``.
- A badge key is the canonical badge id (``H10301:101:1337``, ``CSN:04A1B2C3D4E5F6``), looked up
  among the badges registered with ``add-badge``.
- Anything unknown, forged, expired or used is ``None``: the endpoint answers 401.

Shopper authorization, in order (the first rule that applies decides):

1. On the deny list: refused, with the deny-list entry's risk label (``CustomerFraud`` by default).
2. A positive outstanding balance in the retailer's own books: refused, ``BadDebt``.
3. No recommendation (``RETAILER_MANAGED``): authorized; the retailer's data found nothing.
4. The platform recommends authorizing: authorized, its conditions (``ADJUST``) passed through.
5. The platform recommends refusing only for ``HighVelocity`` and the shopper is a loyalty
   member: authorized anyway. A regular customer shopping often is not a risk to this retailer.
6. Otherwise the recommendation is followed: refused, with its risks.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from entrygate.domain import qr
from entrygate.retailer.repository import KnownVisitor, RetailerRepository
from entrygate.retailer.validation import AuthorizationRequest, IdentityRequest

QR_PREFIX = b"EG1."


@dataclass(frozen=True, slots=True)
class IdentityAnswer:
    visitor: KnownVisitor | None
    why: str  # for the retailer's log: matched, unknown key, expired, replayed, ...


class RetailerDecisions:
    def __init__(self, repo: RetailerRepository, *, qr_key: bytes, clock: Callable[[], float] = time.time) -> None:
        self._repo = repo
        self._qr_key = qr_key
        self._clock = clock

    def identify(self, req: IdentityRequest) -> IdentityAnswer:
        if req.key_channel == "RFID":
            return _found(self._repo.visitor_by_badge(req.identity_key.decode("ascii", "replace")))
        if req.identity_key.startswith(QR_PREFIX):
            return self._qr(req.identity_key.decode("ascii", "replace"))
        return _found(self._repo.visitor_by_key(req.identity_key))

    def _qr(self, code: str) -> IdentityAnswer:
        now = self._clock()
        try:
            claim = qr.verify(self._qr_key, code, now=now)
        except qr.QrCodeExpired:
            return IdentityAnswer(None, "QR code expired")
        except qr.QrCodeError as exc:
            return IdentityAnswer(None, f"QR code refused: {type(exc).__name__}")
        visitor = self._repo.visitor_by_qr_token(claim.token)
        if visitor is None:
            return IdentityAnswer(None, "QR code of an unknown visitor")
        if not self._repo.claim_qr(claim.token, claim.step, expires_at=claim.remember_until(), now=now):
            return IdentityAnswer(None, "QR code already used")
        return IdentityAnswer(visitor, "matched")

    def issue_qr(self, visitor: KnownVisitor) -> str:
        """A fresh rotating code for a registered visitor (what the retailer's app shows)."""
        return qr.issue(self._qr_key, visitor.qr_token, now=self._clock())

    def authorize(self, req: AuthorizationRequest) -> dict[str, Any]:
        account = self._repo.account(req.shopper_id)
        rec = req.recommendation
        conditions = [c.as_json() for c in rec.conditions] if rec else []
        risks = list(rec.risks) if rec else []
        if account.denied_as is not None:
            return _answer(False, conditions, [account.denied_as, *risks])
        if account.balance > 0:
            return _answer(False, conditions, ["BadDebt", *risks])
        if rec is None or rec.shopper_authorized:
            return _answer(True, conditions, risks)
        if set(rec.risks) == {"HighVelocity"} and account.loyalty_member:
            return _answer(True, conditions, risks)
        return _answer(False, conditions, risks)


def _found(visitor: KnownVisitor | None) -> IdentityAnswer:
    return IdentityAnswer(visitor, "matched" if visitor else "unknown key")


def _answer(authorized: bool, conditions: list[dict[str, Any]], risks: list[str]) -> dict[str, Any]:
    return {"shopperAuthorized": authorized, "authorizationConditions": conditions,
            "shopperRisks": list(dict.fromkeys(risks))}
