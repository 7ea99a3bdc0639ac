"""The OpenAPI document, built in process: valid OpenAPI, and complete for every operation."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI, Request
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate
from pydantic import BaseModel

from entrygate.api import openapi
from entrygate.api.openapi import body, secured
from entrygate.domain.keys import KeyKind
from entrygate.openapi_document import render
from entrygate.web import openapi_document

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return openapi_document()


def _operations(document: dict[str, Any]):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def _validator(document: dict[str, Any], schema: dict[str, Any]) -> OAS31Validator:
    return OAS31Validator({**schema, "components": document["components"]})


def test_the_document_is_valid_openapi(document):
    validate(document)


def test_the_committed_copy_is_the_document(document):
    assert COMMITTED.read_text(encoding="utf-8") == render(document), \
        "docs/openapi.json is stale: run `make openapi` and commit it"


def test_every_operation_says_who_may_call_it_and_how_it_answers(document):
    schemes = document["components"]["securitySchemes"]
    assert set(schemes) == {"gateKey", "retailerKey", "operatorToken"}
    for scheme in schemes.values():
        assert scheme["type"] == "http" and scheme["scheme"] == "bearer"
    assert "entrygate admin create-token" in schemes["operatorToken"]["description"]
    assert "POST /v1/admin/retailers" in schemes["retailerKey"]["description"]
    assert "POST /v1/admin/stores/{storeId}/gates" in schemes["gateKey"]["description"]
    for path, method, operation in _operations(document):
        where = f"{method.upper()} {path}"
        assert operation.get("summary"), where
        responses = operation["responses"]
        assert "422" not in responses, where
        assert "400" in responses, where
        if "{" in path:
            assert "404" in responses, where
        success = [code for code in responses if code.startswith("2")]
        assert len(success) == 1, where
        if success != ["204"]:
            schema = responses[success[0]]["content"]["application/json"]["schema"]
            assert "$ref" in schema, where
        assert all(answer["description"] for answer in responses.values()), where
        assert all(p.get("description") for p in operation.get("parameters", [])), where
        if path.startswith("/v1/"):
            assert operation["security"], where
            assert {"401", "403", "503"} <= set(responses), where
            for code in ("401", "403", "404", "409", "503"):
                if code in responses:
                    assert responses[code]["content"]["application/json"]["schema"] == \
                        {"$ref": "#/components/schemas/ErrorBody"}, where
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_rate_limited_keys_document_429_with_retry_after(document):
    entries = document["paths"]["/v1/gates/{gateId}/entries"]["post"]
    assert entries["security"] == [{"gateKey": []}]
    assert "Retry-After" in entries["responses"]["429"]["headers"]
    retailers = document["paths"]["/v1/admin/retailers"]["post"]
    assert retailers["security"] == [{"operatorToken": []}] and "429" not in retailers["responses"]


# The only open objects: the audit entry's before/after, views of whichever resource changed (DESIGN 15).
FREE_FORM = {("AuditEntryOut", "before"), ("AuditEntryOut", "after")}


def _open_objects(node: Any, where: tuple[str, ...] = ()):
    """The places in ``node`` of every schema with ``additionalProperties: true``."""
    if isinstance(node, dict):
        if node.get("additionalProperties") is True:
            yield where
        for key, value in node.items():
            yield from _open_objects(value, (*where, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _open_objects(value, (*where, str(i)))


def test_no_open_objects_where_the_shape_is_known(document):
    places = list(_open_objects(document))
    fields = {(p[2], p[4]) for p in places if p[:2] == ("components", "schemas") and len(p) > 4 and p[3] == "properties"}
    assert len(fields) == len(FREE_FORM) and fields == FREE_FORM, places
    assert all(p[:2] == ("components", "schemas") and (p[2], p[4]) in FREE_FORM for p in places), places
    schemas = document["components"]["schemas"]
    for name, field in FREE_FORM:
        assert schemas[name]["properties"][field]["description"].startswith("Free-form: "), (name, field)
    for name, schema in document["components"]["schemas"].items():
        if name.endswith("Out") or name in ("ErrorBody", "ErrorDetail", "SeedErrorBody"):
            assert schema.get("additionalProperties") is False, name


def test_every_request_body_has_examples_that_its_schema_accepts(document):
    for path, method, operation in _operations(document):
        if "requestBody" not in operation:
            continue
        content = operation["requestBody"]["content"]["application/json"]
        examples = [content["example"]] if "example" in content else []
        examples += [e["value"] for e in content.get("examples", {}).values()]
        assert examples, f"{method.upper()} {path} has no example"
        validator = _validator(document, content["schema"])
        for example in examples:
            errors = [e.message for e in validator.iter_errors(example)]
            assert not errors, f"{method.upper()} {path}: {errors}"


def test_an_entry_has_an_example_for_each_channel_and_a_schema_per_channel(document):
    content = document["paths"]["/v1/gates/{gateId}/entries"]["post"]["requestBody"]["content"]["application/json"]
    channels = {e["value"]["channel"] for e in content["examples"].values()}
    assert channels == {"CREDIT_CARD", "PALM", "QR_CODE", "BADGE"}
    entry = document["components"]["schemas"]["EntryRequest"]
    assert set(entry["discriminator"]["mapping"]) == channels
    validator = _validator(document, {"$ref": "#/components/schemas/EntryRequest"})
    palm_with_a_card = {"eventId": "e-1", "timestamp": "2026-11-27T18:00:00Z", "channel": "PALM",
                        "credential": {"paymentToken": "tok_visa_approve", "brand": "VISA", "last4": "4242",
                                       "expMonth": 12, "expYear": 2030}}
    assert list(validator.iter_errors(palm_with_a_card))


def test_fields_are_described(document):
    schemas = document["components"]["schemas"]
    answers = [name for name in schemas if name.endswith("Out")]
    assert len(answers) >= 25
    for name in ("StoreIn", "StorePatch", "CardCredentialIn", "PalmCredentialIn", "BadgeCredentialIn", "CardEntry",
                 "PaymentStatusIn", "ShopperRiskIn", "ConnectorIn", "GateIn", "MoneyIn", "ListItemIn", "RuleIn",
                 "RulesTestIn", "FactsIn", "CardFactsIn", "RiskFactsIn", "HistoryFactsIn", "VerdictIn", "GateKeyIn",
                 "RetailerKeyIn", *answers):
        undescribed = [field for field, prop in schemas[name]["properties"].items()
                       if "description" not in prop and "$ref" not in prop]
        assert not undescribed, f"{name}: {undescribed}"
    store = schemas["StoreIn"]["properties"]
    assert "IANA" in store["timezone"]["description"]


class _ThingIn(BaseModel):
    name: str


class _ThingOut(BaseModel):
    thingId: str


def test_a_new_route_needs_only_its_declaration_and_response_model():
    """The mechanism other routes use: ``secured`` and ``body`` as ``openapi_extra``, and a ``response_model``."""
    router = APIRouter()

    @router.post("/v1/stores/{storeId}/things", summary="Add a thing", status_code=201, response_model=_ThingOut,
                 openapi_extra=secured(KeyKind.RETAILER, KeyKind.OPERATOR, errors={409: "CONFLICT: the name is taken."})
                 | body(_ThingIn, example={"name": "x"}))
    async def add(storeId: str, request: Request) -> dict[str, str]:
        return {"thingId": "t"}

    app = FastAPI()
    app.include_router(router)
    openapi.install(app)
    document = app.openapi()
    validate(document)
    operation = document["paths"]["/v1/stores/{storeId}/things"]["post"]
    assert operation["security"] == [{"retailerKey": []}, {"operatorToken": []}]
    assert set(operation["responses"]) == {"201", "400", "401", "403", "404", "409", "429", "503"}
    assert operation["responses"]["409"]["description"] == "CONFLICT: the name is taken."
    assert operation["requestBody"]["content"]["application/json"]["example"] == {"name": "x"}
    assert "_ThingIn" in document["components"]["schemas"] and "_ThingOut" in document["components"]["schemas"]
    with pytest.raises(ValueError):
        secured()


def test_declarations_merge_deeply_whichever_side_they_are_on():
    header = {"parameters": [{"name": "Idempotency-Key", "in": "header"}], "responses": {"409": {"description": "x"}}}
    for merged in (secured(KeyKind.GATE) | header, header | secured(KeyKind.GATE)):
        assert set(merged["responses"]) == {"401", "403", "409", "429", "503"}
        assert merged["parameters"] == header["parameters"] and merged["security"] == [{"gateKey": []}]


def _stored_decision(**over: Any) -> Any:
    from datetime import UTC, datetime
    from decimal import Decimal

    from entrygate.domain.records import DecisionRecord

    at = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
    values: dict[str, Any] = dict(
        gate_pk="gpk_1", gate_id="lane-1", store_id="store-1", event_id="e-1", request_hash="h", channel="CREDIT_CARD",
        outcome="OPEN", reasons=[], decided_by="OFFLINE", visitor_id="pi_1", visitor_type="SHOPPER",
        instrument_id="pi_1", trip_id="trip_1", party_size=1, risk_score=61, risk_level="HIGH",
        authorized_amount=Decimal("25.0000"), currency="USD", latency_ms=3.2, event_time=at, decided_at=at,
        model_version="v2", risk_detail={"explanation": [{"feature": "declines_24h", "value": 3, "contribution": 1.2}],
                                         "ruleFailures": [{"name": "night", "error": "no such key: brand"}]},
        shadow_model_version="v3", shadow_score=40, shadow_level="MEDIUM")
    values.update(over)
    return DecisionRecord(**values)


def test_the_decisions_every_optional_part_is_in_its_schema(document):
    """What the conformance run rarely meets: a shadow score, rule failures, the allow list, the feed's cursor."""
    from entrygate.domain.decision import GateDecision
    from entrygate.wire.decisions import decision_answer, decision_view

    view_schema = _validator(document, {"$ref": "#/components/schemas/DecisionViewOut"})
    answer_schema = _validator(document, {"$ref": "#/components/schemas/DecisionOut"})
    full = decision_view(_stored_decision())
    assert full["risk"]["shadow"] == {"modelVersion": "v3", "score": 40, "level": "MEDIUM"} and full["ruleFailures"]
    assert not [e.message for e in view_schema.iter_errors(full)]
    allowed = _stored_decision(risk_score=None, risk_level=None, model_version=None,
                               risk_detail={"allowListed": True}, shadow_score=None, shadow_model_version=None)
    assert decision_view(allowed)["risk"] == {"allowListed": True}
    assert not list(view_schema.iter_errors(decision_view(allowed)))
    answer = decision_answer(GateDecision.of(_stored_decision()))
    assert not list(answer_schema.iter_errors(answer))
    assert list(answer_schema.iter_errors({**answer, "risk": full["risk"]})), "the gate's answer has no shadow"
    assert list(view_schema.iter_errors({**full, "undocumented": 1}))
    page = _validator(document, {"$ref": "#/components/schemas/DecisionListOut"})
    assert not list(page.iter_errors({"decisions": [full], "nextCursor": "17"}))
    assert not list(page.iter_errors({"decisions": []}))
