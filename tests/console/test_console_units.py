"""The console's parts that need no server: sign-in policy, form mapping, the QR tester, charts."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from starlette.datastructures import FormData

from entrygate.adapters.clock import FixedClock
from entrygate.adapters.memory.console import MemorySessions, MemorySignInFailures
from entrygate.adapters.memory.security import PlainPasswords
from entrygate.adapters.memory.storage import MemoryStore
from entrygate.console import charts, forms
from entrygate.console.routes_stores import qr_pattern_result
from entrygate.domain.channels import AntiPassback, Channel, FallbackDecision, RiskStrategy, RiskTolerance
from entrygate.domain.money import Money
from entrygate.domain.records import ApiKeyRecord, Retailer, RetailerUser
from entrygate.domain.store import ConnectorConfig, StoreConfig, StoreConfigError, check_store
from entrygate.services.admin.store_changes import drafted
from entrygate.services.console.auth import ConsoleAuthService, SignInFailed, SignInThrottled, lockout_seconds
from entrygate.services.errors import InvalidRequest
from entrygate.wire.parse import parse
from entrygate.wire.schemas import StoreIn
from entrygate.wire.stores import draft_from_input

# -- sign-in policy, on the in-memory ports ---------------------------------------------------------


@pytest.fixture
def auth():
    clock = FixedClock(datetime(2026, 11, 27, 18, 0, tzinfo=UTC))
    memory = MemoryStore()
    with memory(write=True) as uow:
        uow.retailers.add(Retailer("ret_1", "R", clock.now()), ApiKeyRecord("k_1", "hash", "ret_1"))
        uow.retailers.add_user(RetailerUser("usr_1", "ret_1", "ana@example.com", "plain:right-password"),
                               at=clock.now())
        uow.commit()
    service = ConsoleAuthService(uow=memory, clock=clock, passwords=PlainPasswords(),
                                 sessions=MemorySessions(), failures=MemorySignInFailures())
    return service, clock


def test_lockout_doubles_after_three_free_failures_up_to_fifteen_minutes():
    assert [lockout_seconds(n) for n in range(1, 8)] == [0, 0, 1, 2, 4, 8, 16]
    assert lockout_seconds(40) == 900


def test_sign_in_gives_a_session_scoped_to_the_users_retailer(auth):
    service, _ = auth
    done = service.sign_in(" Ana@Example.com ", "right-password", client="10.0.0.1")
    user = service.user(done.session_id)
    assert user is not None and user.principal.retailer_id == "ret_1" and not user.principal.is_operator
    service.sign_out(done.session_id)
    assert service.user(done.session_id) is None


def test_sessions_end_after_their_lifetime(auth):
    service, clock = auth
    done = service.sign_in("ana@example.com", "right-password", client="10.0.0.1")
    clock.advance(hours=12, seconds=1)
    assert service.user(done.session_id) is None


def test_failures_slow_down_one_email_from_one_client_only(auth):
    service, clock = auth
    for _ in range(2):
        with pytest.raises(SignInFailed):
            service.sign_in("ana@example.com", "guess", client="10.0.0.1")
    with pytest.raises(SignInThrottled) as third:
        service.sign_in("ana@example.com", "guess", client="10.0.0.1")
    assert third.value.retry_after_s == 1
    with pytest.raises(SignInThrottled):  # locked: not even the right password is looked at
        service.sign_in("ana@example.com", "right-password", client="10.0.0.1")
    service.sign_in("ana@example.com", "right-password", client="10.0.0.2")  # another client is not locked
    clock.advance(seconds=2)
    service.sign_in("ana@example.com", "right-password", client="10.0.0.1")
    with pytest.raises(SignInFailed):  # the success cleared the count
        service.sign_in("ana@example.com", "guess", client="10.0.0.1")


def test_unknown_email_fails_like_a_wrong_password(auth):
    service, _ = auth
    with pytest.raises(SignInFailed, match="Wrong email or password."):
        service.sign_in("nobody@example.com", "right-password", client="10.0.0.1")


# -- the setup form ----------------------------------------------------------------------------------


def _form(values: dict) -> FormData:
    items = []
    for key, value in values.items():
        if isinstance(value, (set, list)):
            items += [(key, v) for v in sorted(value)]
        elif isinstance(value, bool):
            continue
        else:
            items.append((key, value))
    return FormData(items)


def test_a_saved_store_survives_the_form_unchanged():
    store = StoreConfig(
        store_id="s-1", retailer_id="ret_1", name="Downtown", timezone="America/New_York", currency="USD",
        authorized_amount=Money(Decimal("25.50"), "USD"), entry_methods=frozenset(Channel),
        risk_strategy=RiskStrategy.PLATFORM_RECOMMENDATION, risk_tolerance=RiskTolerance.LOW,
        fallback_decision=FallbackDecision.USE_RECOMMENDATION, qr_pattern=r"^X-\d+$", badge_formats=("CSN", "H10301"),
        max_party_size=5, anti_passback=AntiPassback.HARD, country="US",
        connectors={"identity": ConnectorConfig("https://r.example/entry", "whsec_" + "A" * 44, 700),
                    "shopperAuthorization": ConnectorConfig("https://r.example/auth", "whsec_" + "B" * 44, 900)})
    check_store(store)
    values = forms.values_from_store(store)
    body = forms.store_body(_form(values))
    for name, c in store.connectors.items():  # secrets are never in the form; the API keeps them
        body["connectors"][name]["secret"] = c.secret
    saved = drafted(draft_from_input(parse(StoreIn, body), "ret_1"), new_secret=lambda: "whsec_never")
    assert saved.generated_secrets == {}
    assert saved.store.with_changes(badge_formats=tuple(sorted(saved.store.badge_formats))) == \
        store.with_changes(badge_formats=tuple(sorted(store.badge_formats)))


def test_validation_errors_land_next_to_their_fields():
    values = forms.new_store_values() | {"storeId": "bad id!", "authorizedAmount": "lots", "entryMethods": set(),
                                         "connectors.identity.url": "ftp://x", "maxPartySize": "many"}
    with pytest.raises(InvalidRequest) as exc:
        parse(StoreIn, forms.store_body(_form(values)))
    errors = forms.field_errors(exc.value)
    assert set(errors) >= {"storeId", "authorizedAmount", "entryMethods", "connectors.identity.url", "maxPartySize"}
    assert errors["entryMethods"] == "Choose at least one entry method."
    assert errors["connectors.identity.url"].startswith("Enter the connector's address")


def test_a_domain_error_keeps_its_own_sentence():
    exc = InvalidRequest("fallbackDecision: USE_RECOMMENDATION needs a platform recommendation; under "
                         "RETAILER_MANAGED choose DENY or ALLOW", fields=["fallbackDecision"])
    assert forms.field_errors(exc) == {"fallbackDecision": "USE_RECOMMENDATION needs a platform recommendation; "
                                                           "under RETAILER_MANAGED choose DENY or ALLOW"}
    error = StoreConfigError("connectors.identity", "is required when QR_CODE or BADGE entry is enabled")
    mapped = forms.field_errors(InvalidRequest(str(error), fields=[error.field]))
    assert mapped == {"connectors.identity.url": "Is required when QR_CODE or BADGE entry is enabled"}


def test_time_zones_must_be_real():
    forms.check_timezone("Europe/Berlin")
    for zone in ("Mars/Olympus", "America", "localtime", ""):  # "America" is a folder: once a 500
        with pytest.raises(InvalidRequest) as refused:
            forms.check_timezone(zone)
        assert refused.value.fields == ["timezone"]


# -- the QR tester -----------------------------------------------------------------------------------


@pytest.mark.parametrize("pattern, value, state", [
    (r"^EG1\.[A-Za-z0-9_-]+\.[0-9]+\.[A-Za-z0-9_-]+$", "EG1.tok.88123456.abc", "match"),
    (r"^EG1\.[A-Za-z0-9_-]+\.[0-9]+\.[A-Za-z0-9_-]+$", "EG1.tok.step.abc", "nomatch"),
    ("SHOP", "my-SHOP-code", "match"),  # re.search: unanchored patterns match anywhere, as at the gate
    ("^SHOP$", "SHOP\n", "nomatch"),  # RE2's $ is the end of the code, as at the gate
    ("(unclosed", "x", "error"),
    (r"^(a)\1$", "aa", "error"),  # a backreference: refused, as a save would be
    ("a" * 501, "a", "error"),
    ("x", "", "empty"),
    ("x", "x" * 5000, "error"),
])
def test_the_qr_tester_judges_as_the_gate_does(pattern, value, state):
    assert qr_pattern_result(pattern, value)["state"] == state


def test_the_qr_tester_says_why_a_pattern_is_refused():
    result = qr_pattern_result(r"^EG1(?=\.)", "EG1.x")
    assert result["state"] == "error" and "lookahead is not supported" in result["message"]


# -- charts ------------------------------------------------------------------------------------------


def test_charts_are_well_formed_accessible_svg_with_escaped_text():
    t0 = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
    svgs = [
        charts.stacked_columns("c1", "Decisions <per> minute", "desc & more", [t0 + timedelta(minutes=i) for i in range(3)],
                               [charts.Series("Opened", "bar-open", [1, 0, 5]), charts.Series("Denied", "bar-deny", [0, 2, 1])]),
        charts.columns("c2", "Latency", "p50", ["p50", "p99"], [1.5, 20.0], unit=" ms"),
        charts.bars("c3", "Reasons", "none", [("<script>", 3)]),
        charts.bars("c4", "Reasons", "none", []),
    ]
    for svg in svgs:
        root = ET.fromstring(str(svg))
        assert root.get("role") == "img"
        ns = "{http://www.w3.org/2000/svg}"
        title = root.find("title") if root.find("title") is not None else root.find(ns + "title")
        assert title is not None and title.text
    assert "&lt;script&gt;" in str(svgs[2]) and "<script>" not in str(svgs[2])
