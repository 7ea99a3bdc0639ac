"""Gate decisions and exits as JSON (DESIGN 4.1): the gate's answer, and the retailer's decision list.

Rendered from the typed results, the same way for a first answer and a replay, so a retried
event id hears the very bytes it heard the first time. The console renders its simulated
entries here too.
"""
from __future__ import annotations

from typing import Any

from entrygate.domain.decision import ExitOutcome, GateDecision, RiskAssessment
from entrygate.domain.records import DecisionRecord


def decision_answer(d: GateDecision) -> dict[str, Any]:
    """The answer to ``POST /v1/gates/{gateId}/entries``."""
    return {
        "eventId": d.event_id,
        "decision": d.outcome.value,
        "shoppingTripId": d.trip_id,
        "visitor": {"id": d.visitor.id, "type": d.visitor.type.value} if d.visitor else None,
        "reasons": [{"code": r.value, "message": d.message(r)} for r in d.reasons],
        "risk": risk_answer(d.risk) if d.risk else None,
        "authorizedAmount": d.authorized_amount.to_json() if d.authorized_amount else None,
        "decidedBy": d.decided_by.value,
        "latencyMs": d.latency_ms,
        "partySize": d.party_size,
    }


def risk_answer(risk: RiskAssessment) -> dict[str, Any]:
    """The answer's ``risk`` (DESIGN 14): the score and level, with ``modelVersion`` and ``explanation`` when
    the model ran; ``{"allowListed": true}`` alone when the allow list skipped the model."""
    if risk.allow_listed:
        return {"allowListed": True}
    out: dict[str, Any] = {"score": risk.score, "level": risk.level}
    if risk.model_version is not None:
        out["modelVersion"] = risk.model_version
        out["explanation"] = [c.to_json() for c in risk.explanation]
    return out


def exit_answer(o: ExitOutcome) -> dict[str, Any]:
    """The answer to ``POST /v1/gates/{gateId}/exits``."""
    status = o.trip_status
    return {"eventId": o.event_id, "shoppingTripId": o.trip_id, "result": o.result.value,
            "message": o.result.message, "tripStatus": status.value if status else None}


def decision_view(record: DecisionRecord) -> dict[str, Any]:
    """A stored decision in the retailer's list: the gate's answer, and where and when it was given.

    When a shadow model scored the entry (DESIGN 14), ``risk.shadow`` says what it would have
    said; the gate's own answer never carries it.
    """
    d = GateDecision.of(record)
    view = {**decision_answer(d), "storeId": record.store_id, "gateId": record.gate_id,
            "channel": record.channel, "decidedAt": record.decided_at.isoformat().replace("+00:00", "Z")}
    if d.detail.rule_failures:  # recorded on the decision, for the console and the retailer's own checks
        view["ruleFailures"] = [{"name": f.name, "error": f.error} for f in d.detail.rule_failures]
    shadow = shadow_view(record)
    if shadow is not None and view["risk"] is not None:
        view["risk"] = {**view["risk"], "shadow": shadow}
    return view


def shadow_view(record: DecisionRecord) -> dict[str, Any] | None:
    """``{"modelVersion", "score", "level"}`` of the shadow model's score of a decision, or None."""
    if record.shadow_model_version is None or record.shadow_score is None:
        return None
    return {"modelVersion": record.shadow_model_version, "score": record.shadow_score, "level": record.shadow_level}
