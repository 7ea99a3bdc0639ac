"""The one closed set of reasons a decision can carry.

The API, the logs, the metrics and the console all speak these codes; each carries the sentence a
person at the gate or in the console reads. Nothing else in entrygate invents a reason code.
"""
from __future__ import annotations

from enum import Enum


class ReasonCode(str, Enum):
    ENTRY_METHOD_DISABLED = "ENTRY_METHOD_DISABLED"
    GATE_DISABLED = "GATE_DISABLED"
    INVALID_CREDENTIAL = "INVALID_CREDENTIAL"
    CARD_EXPIRED = "CARD_EXPIRED"
    PREAUTH_DECLINED = "PREAUTH_DECLINED"
    INSTRUMENT_BLOCKED = "INSTRUMENT_BLOCKED"
    OUTSTANDING_BALANCE = "OUTSTANDING_BALANCE"
    HIGH_RISK = "HIGH_RISK"
    RETAILER_DENIED = "RETAILER_DENIED"
    IDENTITY_REJECTED = "IDENTITY_REJECTED"
    QR_PATTERN_MISMATCH = "QR_PATTERN_MISMATCH"
    BADGE_FORMAT_UNSUPPORTED = "BADGE_FORMAT_UNSUPPORTED"
    BADGE_PARITY_ERROR = "BADGE_PARITY_ERROR"
    PALM_NO_MATCH = "PALM_NO_MATCH"
    PALM_LIVENESS_FAILED = "PALM_LIVENESS_FAILED"
    CONNECTOR_UNAVAILABLE = "CONNECTOR_UNAVAILABLE"
    ALREADY_INSIDE = "ALREADY_INSIDE"
    PARTY_TOO_LARGE = "PARTY_TOO_LARGE"
    OFFLINE_UNKNOWN_CREDENTIAL = "OFFLINE_UNKNOWN_CREDENTIAL"
    OFFLINE_LIMIT_REACHED = "OFFLINE_LIMIT_REACHED"
    FALLBACK_APPLIED = "FALLBACK_APPLIED"
    PREAUTH_ADJUSTED = "PREAUTH_ADJUSTED"
    RULE_DENIED = "RULE_DENIED"

    @property
    def message(self) -> str:
        return _MESSAGES[self]

    @property
    def informational(self) -> bool:
        """True for codes that explain an OPEN decision rather than cause a DENY."""
        return self in (ReasonCode.FALLBACK_APPLIED, ReasonCode.PREAUTH_ADJUSTED)


_MESSAGES: dict[ReasonCode, str] = {
    ReasonCode.ENTRY_METHOD_DISABLED: "This store does not accept this entry method.",
    ReasonCode.GATE_DISABLED: "This gate is disabled.",
    ReasonCode.INVALID_CREDENTIAL: "The credential could not be read or is not valid.",
    ReasonCode.CARD_EXPIRED: "The card has expired.",
    ReasonCode.PREAUTH_DECLINED: "The card issuer declined the pre-authorization.",
    ReasonCode.INSTRUMENT_BLOCKED: "This payment method is blocked at this platform.",
    ReasonCode.OUTSTANDING_BALANCE: "There is an unpaid balance from an earlier visit.",
    ReasonCode.HIGH_RISK: "The risk of this entry is above what the store accepts.",
    ReasonCode.RETAILER_DENIED: "The retailer declined this shopper.",
    ReasonCode.IDENTITY_REJECTED: "The retailer did not recognise this code or badge.",
    ReasonCode.QR_PATTERN_MISMATCH: "The scanned code is not one of this store's entry codes.",
    ReasonCode.BADGE_FORMAT_UNSUPPORTED: "This badge format is not accepted at this store.",
    ReasonCode.BADGE_PARITY_ERROR: "The badge read failed its parity check; please scan again.",
    ReasonCode.PALM_NO_MATCH: "This palm is not enrolled.",
    ReasonCode.PALM_LIVENESS_FAILED: "The palm read did not pass the liveness check; please try again.",
    ReasonCode.CONNECTOR_UNAVAILABLE: "The retailer's system did not answer in time.",
    ReasonCode.ALREADY_INSIDE: "This credential already has an open visit at this store.",
    ReasonCode.PARTY_TOO_LARGE: "The group is larger than this store admits on one credential.",
    ReasonCode.OFFLINE_UNKNOWN_CREDENTIAL: "The gate is offline and cannot admit this credential without the platform.",
    ReasonCode.OFFLINE_LIMIT_REACHED: "The gate is offline and has reached what it may admit until the platform is back.",
    ReasonCode.FALLBACK_APPLIED: "The retailer's system did not answer; the store's fallback decided.",
    ReasonCode.PREAUTH_ADJUSTED: "The pre-authorized amount was adjusted for this entry.",
    ReasonCode.RULE_DENIED: "One of the store's rules denied this entry.",
}

# Refusals by the store's own policy, not by the card or its issuer: a tap refused for one of these
# (or by a list block) is not one of the instrument's entries or declines in the risk model's history,
# so a shopper who paid a debt, or waited at a passback gate, never looks like a card tester.
POLICY_CODES: frozenset[ReasonCode] = frozenset({
    ReasonCode.OUTSTANDING_BALANCE, ReasonCode.ALREADY_INSIDE, ReasonCode.RULE_DENIED, ReasonCode.GATE_DISABLED,
    ReasonCode.ENTRY_METHOD_DISABLED, ReasonCode.PARTY_TOO_LARGE,
})
