"""The reference retailer over real HTTP, on SQLite and PostgreSQL: signatures first, then strict
validation one field at a time, then its identity and shopper-authorization logic."""
from __future__ import annotations

import base64
import copy
import time
import uuid
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import create_engine, inspect

from entrygate.domain import qr, webhooks
from retailer.harness import RunningRetailer, drop_retailer_database, fresh_retailer_database


@pytest.fixture(scope="module")
def shop(backend, tmp_path_factory):
    url = fresh_retailer_database(backend, tmp_path_factory.mktemp("retailer"))
    running = RunningRetailer(url)
    repo = running.retailer.repo
    repo.add_visitor("v-alice", "SHOPPER")
    repo.add_identity_key(b"member-0001", "v-alice")
    repo.add_visitor("v-bob", "ASSOCIATE")
    repo.add_badge("H10301:101:1337", "v-bob")
    repo.add_badge("CSN:04A1B2C3D4E5F6", "v-alice")
    yield running
    running.close()
    drop_retailer_database(url)


@pytest.fixture(scope="module")
def http(shop):
    with httpx.Client(base_url=shop.url, timeout=10) as client:
        yield client


def identity_body(key: bytes = b"member-0001", channel: str = "OPTICAL") -> dict:
    return {"requestId": str(uuid.uuid4()), "identityKey": base64.b64encode(key).decode(), "storeId": "store-001",
            "authEvent": {"id": str(uuid.uuid4()), "timestamp": "2026-11-27T18:00:00Z", "location": "ENTRY"},
            "keyChannel": channel}


def authorization_body(shopper: str = "pi_new", recommendation: dict | None = None) -> dict:
    interaction = {"shoppingTripId": "trip_1",
                   "gateAuthenticationEvent": {"id": str(uuid.uuid4()), "type": "CREDIT_CARD",
                                               "interactionType": "TAP", "timestamp": "2026-11-27T18:00:00.000Z",
                                               "location": "ENTRY", "data": {"brand": "VISA", "last4": "4242"}}}
    if recommendation is not None:
        interaction["recommendation"] = recommendation
    return {"storeId": "store-001", "shopperIdentity": {"id": shopper},
            "authorizedAmount": {"value": 25.0, "currencyCode": "USD"}, "shopperInteraction": interaction}


def post(http, shop, path: str, body, *, secret: str | None = None, now: float | None = None,
         signed: bool = True) -> httpx.Response:
    raw = body if isinstance(body, bytes) else httpx.Request("POST", "/", json=body).content
    headers = {"content-type": "application/json"}
    if signed:
        headers.update(webhooks.headers(secret or shop.secret, raw, now=now))
    return http.post(path, content=raw, headers=headers)


IDENTITY = "/v1/identity/identity-keys"
AUTHORIZATION = "/v1/fraudandabuse/shopperauthorization"


def identify(http, shop, key: bytes, channel: str = "OPTICAL") -> httpx.Response:
    return post(http, shop, IDENTITY, identity_body(key, channel))


# --- signatures come first --------------------------------------------------------------------


@pytest.mark.parametrize("path", [IDENTITY, AUTHORIZATION])
@pytest.mark.parametrize("how", ["unsigned", "other secret", "stale", "from the future", "tampered"])
def test_a_request_without_a_good_signature_is_refused_before_anything_else(http, shop, path, how):
    body = identity_body() if path == IDENTITY else authorization_body()
    raw = httpx.Request("POST", "/", json=body).content
    if how == "unsigned":
        r = post(http, shop, path, body, signed=False)
    elif how == "other secret":
        r = post(http, shop, path, body, secret=webhooks.new_secret())
    elif how == "stale":
        r = post(http, shop, path, body, now=time.time() - 301)
    elif how == "from the future":
        r = post(http, shop, path, body, now=time.time() + 301)
    else:
        headers = {"content-type": "application/json", **webhooks.headers(shop.secret, raw)}
        r = http.post(path, content=raw.replace(b"store-001", b"store-002"), headers=headers)
    assert r.status_code == 401, r.text
    assert r.json()["errorType"] == "UnauthorizedException"


def test_a_malformed_unsigned_request_is_still_a_401(http, shop):
    assert post(http, shop, IDENTITY, b"{nonsense", signed=False).status_code == 401


def test_key_rotation_any_listed_signature_passes(http, shop):
    raw = httpx.Request("POST", "/", json=identity_body()).content
    good = webhooks.headers(shop.secret, raw)
    old = webhooks.headers(webhooks.new_secret(), raw, msg_id=good["webhook-id"])
    good["webhook-signature"] = f"{old['webhook-signature']} {good['webhook-signature']}"
    assert http.post(IDENTITY, content=raw, headers=good).status_code == 200


# --- strict validation, one field at a time ---------------------------------------------------


def _without(body: dict, path: str) -> dict:
    body = copy.deepcopy(body)
    *parents, last = path.split(".")
    node = body
    for p in parents:
        node = node[p]
    node.pop(last)
    return body


def _with(body: dict, path: str, value) -> dict:
    body = copy.deepcopy(body)
    *parents, last = path.split(".")
    node = body
    for p in parents:
        node = node[p]
    node[last] = value
    return body


IDENTITY_CASES = [
    ("requestId", None), ("requestId", "not-a-uuid"), ("requestId", "3f0c8a0e7d7f4e529d3f2b9a0f4b8c11"),
    ("requestId", 42), ("identityKey", None), ("identityKey", ""), ("identityKey", "QUFB" * 251),
    ("identityKey", "not base64!"), ("identityKey", "QUFBQQ"), ("identityKey", "QU=B"), ("identityKey", ["QUFB"]),
    ("storeId", None), ("storeId", "s" * 256), ("storeId", ""), ("storeId", 7),
    ("authEvent", None), ("authEvent", "ENTRY"), ("authEvent.id", None), ("authEvent.id", "42"),
    ("authEvent.timestamp", None), ("authEvent.timestamp", "yesterday"), ("authEvent.timestamp", "2026-11-27"),
    ("authEvent.timestamp", "2026-11-27T18:00:00"), ("authEvent.timestamp", "2026-13-45T18:00:00Z"),
    ("authEvent.location", None), ("authEvent.location", "LOBBY"), ("authEvent.location", "entry"),
    ("keyChannel", None), ("keyChannel", "BLUETOOTH"),
]


@pytest.mark.parametrize("field, value", IDENTITY_CASES)
def test_identity_validation_names_the_field(http, shop, field, value):
    base = identity_body()
    body = _without(base, field) if value is None else _with(base, field, value)
    r = post(http, shop, IDENTITY, body)
    assert r.status_code == 400, r.text
    assert r.json()["field"] == field and r.json()["errorMsg"].startswith(field + ":")


AUTHORIZATION_CASES = [
    ("storeId", None), ("storeId", "s" * 256), ("shopperIdentity", None), ("shopperIdentity.id", None),
    ("shopperIdentity.id", ""), ("authorizedAmount", None), ("authorizedAmount.value", None),
    ("authorizedAmount.value", -5), ("authorizedAmount.value", "25"), ("authorizedAmount.value", True),
    ("authorizedAmount.currencyCode", "usd"), ("authorizedAmount.currencyCode", None),
    ("shopperInteraction", None), ("shopperInteraction.shoppingTripId", None),
    ("shopperInteraction.gateAuthenticationEvent", None),
    ("shopperInteraction.gateAuthenticationEvent.id", "42"),
    ("shopperInteraction.gateAuthenticationEvent.type", "QR_CODE"),
    ("shopperInteraction.gateAuthenticationEvent.timestamp", "soon"),
    ("shopperInteraction.gateAuthenticationEvent.location", "ROOF"),
    ("shopperInteraction.gateAuthenticationEvent.interactionType", ""),
    ("shopperInteraction.gateAuthenticationEvent.data", "VISA"),
    ("shopperInteraction.recommendation.shopperAuthorized", "yes"),
    ("shopperInteraction.recommendation.shopperRisks", "BadDebt"),
    ("shopperInteraction.recommendation.authorizationConditions", {"type": "ADJUST"}),
]


@pytest.mark.parametrize("field, value", AUTHORIZATION_CASES)
def test_authorization_validation_names_the_field(http, shop, field, value):
    base = authorization_body(recommendation={"shopperAuthorized": True, "authorizationConditions": [],
                                              "shopperRisks": []})
    body = _without(base, field) if value is None else _with(base, field, value)
    r = post(http, shop, AUTHORIZATION, body)
    assert r.status_code == 400, r.text
    assert r.json()["field"] == field


@pytest.mark.parametrize("rec, field", [
    ({"shopperAuthorized": True, "shopperRisks": ["Sneaky"]}, "shopperInteraction.recommendation.shopperRisks[0]"),
    ({"shopperAuthorized": True, "authorizationConditions": [{"type": "WAIVE"}]},
     "shopperInteraction.recommendation.authorizationConditions[0].type"),
    ({"shopperAuthorized": True, "authorizationConditions": [{"type": "ADJUST", "amount": {"value": 5}}]},
     "shopperInteraction.recommendation.authorizationConditions[0].amount.currencyCode"),
])
def test_recommendation_parts_are_validated_too(http, shop, rec, field):
    r = post(http, shop, AUTHORIZATION, authorization_body(recommendation=rec))
    assert r.status_code == 400 and r.json()["field"] == field


@pytest.mark.parametrize("path", [IDENTITY, AUTHORIZATION])
@pytest.mark.parametrize("raw, status", [(b"", 400), (b"   ", 400), (b"{oops", 400), (b"[1, 2]", 400),
                                         (b"{" + b" " * 70_000 + b"}", 413)])
def test_bodies_that_are_not_a_json_object(http, shop, path, raw, status):
    r = post(http, shop, path, raw)
    assert r.status_code == status and r.json()["field"] == "body"


def test_unknown_extra_fields_are_ignored(http, shop):
    body = identity_body()
    body["somethingNew"] = {"nested": True}
    body["authEvent"]["extra"] = 1
    assert post(http, shop, IDENTITY, body).json() == {"visitorDetails": {"id": "v-alice", "type": "SHOPPER"}}


# --- identity ---------------------------------------------------------------------------------


def test_static_keys_and_badges_name_their_visitors(http, shop):
    assert identify(http, shop, b"member-0001").json() == {"visitorDetails": {"id": "v-alice", "type": "SHOPPER"}}
    assert identify(http, shop, b"H10301:101:1337", "RFID").json() == {
        "visitorDetails": {"id": "v-bob", "type": "ASSOCIATE"}}
    assert identify(http, shop, b"CSN:04A1B2C3D4E5F6", "RFID").json()["visitorDetails"]["id"] == "v-alice"


@pytest.mark.parametrize("key, channel", [(b"member-9999", "OPTICAL"), (b"H10301:101:1338", "RFID"),
                                          (b"member-0001", "RFID"), (b"\xff\xfe", "OPTICAL")])
def test_unknown_keys_are_a_401(http, shop, key, channel):
    r = identify(http, shop, key, channel)
    assert r.status_code == 401 and r.json()["errorType"] == "UnauthorizedException"


def new_visitor(shop, visitor_type: str = "SHOPPER"):
    """A visitor of its own: a code is single use per (visitor, time step), so tests must not share."""
    return shop.retailer.repo.add_visitor("v-" + uuid.uuid4().hex[:8], visitor_type)


def test_a_qr_code_opens_once(http, shop):
    visitor = new_visitor(shop)
    code = shop.retailer.decisions.issue_qr(visitor).encode()
    assert identify(http, shop, code).json()["visitorDetails"] == {"id": visitor.visitor_id, "type": "SHOPPER"}
    assert identify(http, shop, code).status_code == 401  # replayed


def test_an_associate_qr_code(http, shop):
    visitor = new_visitor(shop, "ASSOCIATE")
    code = shop.retailer.decisions.issue_qr(visitor).encode()
    assert identify(http, shop, code).json()["visitorDetails"] == {"id": visitor.visitor_id, "type": "ASSOCIATE"}


def test_a_qr_code_is_accepted_one_step_late_but_not_two(http, shop):
    key = shop.settings.qr_key
    token = new_visitor(shop).qr_token
    late = qr.issue(key, token, now=time.time() - qr.STEP_SECONDS).encode()
    expired = qr.issue(key, token, now=time.time() - 2 * qr.STEP_SECONDS - 1).encode()
    future = qr.issue(key, token, now=time.time() + 3 * qr.STEP_SECONDS).encode()
    assert identify(http, shop, late).status_code == 200
    assert identify(http, shop, expired).status_code == 401
    assert identify(http, shop, future).status_code == 401


def test_forged_and_foreign_qr_codes_are_refused(http, shop):
    token = new_visitor(shop).qr_token
    code = qr.issue(shop.settings.qr_key, token, now=time.time())
    forged = code[:-2] + ("AA" if not code.endswith("AA") else "BB")
    other_key = qr.issue(b"someone else's key", token, now=time.time())
    stranger = qr.issue(shop.settings.qr_key, "nobody-has-this-token", now=time.time())
    for bad in (forged, other_key, stranger, "EG1.garbage"):
        assert identify(http, shop, bad.encode()).status_code == 401
    assert identify(http, shop, code.encode()).status_code == 200  # the refusals did not use it up


def test_the_retailer_clock_decides_expiry(http, shop):
    code = shop.retailer.decisions.issue_qr(new_visitor(shop)).encode()
    shop.offset_s = 3 * qr.STEP_SECONDS
    try:
        assert identify(http, shop, code).status_code == 401
    finally:
        shop.offset_s = 0.0


# --- shopper authorization --------------------------------------------------------------------


def authorize(http, shop, shopper: str, recommendation: dict | None = None) -> dict:
    r = post(http, shop, AUTHORIZATION, authorization_body(shopper, recommendation))
    assert r.status_code == 200, r.text
    return r.json()


HIGH_VELOCITY_ONLY = {"shopperAuthorized": False, "authorizationConditions": [], "shopperRisks": ["HighVelocity"]}


def test_a_clean_shopper_is_authorized_without_a_recommendation(http, shop):
    assert authorize(http, shop, "pi_clean") == {"shopperAuthorized": True, "authorizationConditions": [],
                                                 "shopperRisks": []}


def test_an_outstanding_balance_refuses_whatever_the_platform_recommends(http, shop):
    shop.retailer.repo.set_balance("pi_debt", Decimal("18.40"), "USD")
    answer = authorize(http, shop, "pi_debt", {"shopperAuthorized": True})
    assert answer["shopperAuthorized"] is False and answer["shopperRisks"] == ["BadDebt"]
    shop.retailer.repo.set_balance("pi_debt", Decimal(0), "USD")  # paid off: access restored
    assert authorize(http, shop, "pi_debt", {"shopperAuthorized": True})["shopperAuthorized"] is True


def test_the_deny_list_refuses(http, shop):
    shop.retailer.repo.deny("pi_fraud")
    answer = authorize(http, shop, "pi_fraud", {"shopperAuthorized": True, "shopperRisks": ["HighVelocity"]})
    assert answer == {"shopperAuthorized": False, "authorizationConditions": [],
                      "shopperRisks": ["CustomerFraud", "HighVelocity"]}


def test_the_recommendation_is_followed_with_its_adjust_condition(http, shop):
    adjust = [{"type": "ADJUST", "amount": {"value": 50.0, "currencyCode": "USD"}}]
    answer = authorize(http, shop, "pi_rec", {"shopperAuthorized": True, "authorizationConditions": adjust,
                                              "shopperRisks": []})
    assert answer == {"shopperAuthorized": True, "authorizationConditions": adjust, "shopperRisks": []}
    refused = authorize(http, shop, "pi_rec", {"shopperAuthorized": False, "shopperRisks": ["InvalidCard"]})
    assert refused["shopperAuthorized"] is False and refused["shopperRisks"] == ["InvalidCard"]


def test_a_loyalty_member_flagged_only_for_velocity_is_admitted(http, shop):
    assert authorize(http, shop, "pi_loyal", HIGH_VELOCITY_ONLY)["shopperAuthorized"] is False
    shop.retailer.repo.add_loyalty_member("pi_loyal")
    answer = authorize(http, shop, "pi_loyal", HIGH_VELOCITY_ONLY)
    assert answer["shopperAuthorized"] is True and answer["shopperRisks"] == ["HighVelocity"]
    both = dict(HIGH_VELOCITY_ONLY, shopperRisks=["HighVelocity", "BadDebt"])
    assert authorize(http, shop, "pi_loyal", both)["shopperAuthorized"] is False


# --- its own migrations -----------------------------------------------------------------------


def test_the_retailer_has_its_own_migration_history(shop):
    engine = create_engine(shop.settings.sqlalchemy_url)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert {"visitors", "identity_keys", "badges", "balances", "deny_list", "loyalty_members", "qr_claims",
            "retailer_alembic_version"} <= tables
    assert "alembic_version" not in tables and "trips" not in tables
