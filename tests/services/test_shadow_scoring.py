"""The shadow model on the gate's path (DESIGN 14), on in-memory ports: stored, shown, never deciding."""
from __future__ import annotations

from entrygate.adapters.processors.sandbox import SandboxProcessor
from entrygate.domain.channels import Channel, RiskStrategy
from entrygate.domain.risk_policy import NO_HARD_FACTS, recommend
from entrygate.services.gate.admit import EntryService
from entrygate.services.gate.card import CardHandler
from entrygate.services.gate.strategies import StrategyAssessor
from entrygate.wire.decisions import decision_view
from support.factories import SECRET, World, card, event


class FixedScorer:
    """A model that gives every entry the same probability (or fails, as a broken candidate would)."""

    def __init__(self, version: str, probability: float, *, fails: bool = False) -> None:
        self.version, self.probability, self.fails = version, probability, fails

    def recommend(self, features, *, tolerance, authorized_amount, facts=NO_HARD_FACTS):  # noqa: ANN001
        if self.fails:
            raise RuntimeError("this candidate cannot score")
        return recommend(probability=self.probability, tolerance=tolerance, authorized_amount=authorized_amount,
                         facts=facts)


def world(shadow: FixedScorer | None) -> World:
    w = World(risk_strategy=RiskStrategy.PLATFORM_MANAGED)
    risk = StrategyAssessor(uow=w.memory, scorer=lambda: FixedScorer("v-current", 0.02), connector=None,
                            shadow=lambda: shadow)
    w.entries = EntryService(uow=w.memory, catalog=w.catalog, clock=w.clock, processor=SandboxProcessor(timeout_s=0.01),
                             handlers={Channel.CREDIT_CARD: CardHandler(secret=SECRET)}, risk=risk)
    return w


def stored(w: World, event_id: str):
    with w.memory() as uow:
        return uow.decisions.get_by_event(w.gate.gate_pk, event_id)


def without_latency(answer: dict) -> dict:
    return {k: v for k, v in answer.items() if k not in ("latencyMs", "eventId", "shoppingTripId", "visitor")}


def test_the_shadow_score_is_stored_and_shown_and_the_answer_is_the_current_models():
    plain, shadowed = world(None), world(FixedScorer("v-candidate", 0.97))
    a, b = (w.admit(event(card(par="V0010013022298169667504271781"))) for w in (plain, shadowed))
    assert without_latency(a) == without_latency(b)
    assert b["decision"] == "OPEN" and b["risk"] == {"score": 2, "level": "LOW"}
    record = stored(shadowed, b["eventId"])
    assert (record.shadow_model_version, record.shadow_score, record.shadow_level) == ("v-candidate", 97, "HIGH")
    assert decision_view(record)["risk"] == {"score": 2, "level": "LOW",
                                             "shadow": {"modelVersion": "v-candidate", "score": 97, "level": "HIGH"}}
    assert "shadow" not in decision_view(stored(plain, a["eventId"]))["risk"]


def test_a_failing_shadow_is_skipped_and_the_decision_goes_on():
    w = world(FixedScorer("v-broken", 0.5, fails=True))
    answer = w.admit(event(card()))
    assert answer["decision"] == "OPEN" and answer["risk"]["level"] == "LOW"
    record = stored(w, answer["eventId"])
    assert record.shadow_model_version is None and "shadow" not in decision_view(record)["risk"]
