"""An explanation in a store manager's words, and the console partial that shows it."""
from __future__ import annotations

from entrygate.console.web import templates
from entrygate.wire.explanations import explanation_in_words


def test_each_feature_reads_as_a_plain_sentence_with_its_effect():
    words = explanation_in_words([
        {"feature": "entries_24h", "value": 6, "contribution": 1.4},
        {"feature": "foreign_issuer", "value": 1, "contribution": 0.5},
        {"feature": "days_since_first_seen", "value": 0.2, "contribution": 0.25},
        {"feature": "months_to_expiry", "value": 48, "contribution": -0.5},
        {"feature": "funding_prepaid", "value": 0, "contribution": -0.1},
    ])
    assert [(w.text, w.effect) for w in words] == [
        ("Presented 6 times in the day before", "raised the risk strongly"),
        ("Card issued abroad", "raised the risk somewhat"),
        ("First seen today", "raised the risk slightly"),
        ("Card expires in 48 months", "lowered the risk somewhat"),
        ("Not a prepaid card", "lowered the risk slightly"),
    ]


def test_every_feature_of_the_model_has_words():
    from entrygate.risk.features import FEATURE_NAMES

    for name in FEATURE_NAMES:
        [w] = explanation_in_words([{"feature": name, "value": 1, "contribution": 0.4}])
        assert "_" not in w.text and w.text[0].isupper(), (name, w.text)


def test_the_partial_renders_the_words_and_the_allow_list():
    partial = templates.env.get_template("_risk_explanation.html")
    html = partial.render(risk={"score": 61, "level": "HIGH", "modelVersion": "v1",
                                "explanation": [{"feature": "declines_24h", "value": 3, "contribution": 1.2}]})
    assert "Declined by the card issuer 3 times in the last day: raised the risk strongly." in html
    assert "Risk score <strong>61</strong>" in html and "v1" in html
    assert "allow list" in partial.render(risk={"allowListed": True})
    assert "No explanation of the score is recorded" in partial.render(risk=None)  # the place stays, and says so


def test_the_answer_s_risk_fits_its_response_model():
    from entrygate.domain.decision import RiskAssessment
    from entrygate.domain.risk_ops import Contribution
    from entrygate.wire.answers import RiskOut
    from entrygate.wire.decisions import risk_answer

    scored = risk_answer(RiskAssessment(61, "HIGH", "v1", (Contribution("declines_24h", 3.0, 1.2),)))
    assert RiskOut.model_validate(scored).model_dump(exclude_none=True) == scored
    assert scored["explanation"] == [{"feature": "declines_24h", "value": 3, "contribution": 1.2}]
    allowed = risk_answer(RiskAssessment(None, None, allow_listed=True))
    assert allowed == {"allowListed": True} and RiskOut.model_validate(allowed).allowListed is True
