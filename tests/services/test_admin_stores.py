"""A store is created and changed by one service call each: typed changes, secrets made once, one transaction."""
from __future__ import annotations

from decimal import Decimal

import pytest

from entrygate.adapters.clock import FixedClock
from entrygate.adapters.memory.storage import MemoryStore
from entrygate.domain.channels import Channel, RiskStrategy
from entrygate.domain.keys import KeyKind
from entrygate.domain.money import Money
from entrygate.domain.store import ConnectorConfig
from entrygate.services.admin.service import AdminService
from entrygate.services.admin.store_changes import UNSET, ConnectorSetting, StoreChange, StoreDraft
from entrygate.services.auth import Principal
from entrygate.services.catalog import Catalog
from entrygate.services.errors import Forbidden, InvalidRequest, NotFound
from support.factories import NOW, OPERATOR, PlainPasswords, store_config

URL = "https://retailer.example/entry"
GIVEN_SECRET = "whsec_" + "A" * 44


class CountingUnitOfWork:
    """The in-memory unit of work, counting the transactions opened (True: a write one)."""

    def __init__(self, inner: MemoryStore) -> None:
        self.inner = inner
        self.opened: list[bool] = []

    def __call__(self, *, write: bool = False):  # noqa: ANN204
        self.opened.append(write)
        return self.inner(write=write)


@pytest.fixture
def world():
    uow = CountingUnitOfWork(MemoryStore())
    admin = AdminService(uow, FixedClock(NOW), Catalog(uow, ttl_s=0), PlainPasswords())
    retailer = admin.create_retailer(OPERATOR, name="R")
    store = admin.create_store(OPERATOR, store_config(
        retailer.id, country="US",
        connectors={"identity": ConnectorConfig(URL, GIVEN_SECRET, 700)}))
    uow.opened.clear()
    return admin, uow, store


def test_a_new_store_gets_a_secret_for_each_connector_given_without_one(world):
    admin, uow, store = world
    draft = StoreDraft(store_config(store.retailer_id, risk_strategy=RiskStrategy.RETAILER_MANAGED),
                       connectors={"identity": ConnectorSetting(URL, 500, GIVEN_SECRET),
                                   "shopperAuthorization": ConnectorSetting(URL, 900)})
    saved = admin.add_store(OPERATOR, draft)
    assert set(saved.generated_secrets) == {"shopperAuthorization"}
    assert saved.store.connectors["shopperAuthorization"].secret == saved.generated_secrets["shopperAuthorization"]
    assert saved.store.connectors["identity"] == ConnectorConfig(URL, GIVEN_SECRET, 500)
    assert admin.get_store(OPERATOR, draft.config.store_id) == saved.store
    assert uow.opened.count(True) == 1


def test_a_change_is_one_write_transaction_and_leaves_unset_fields_alone(world):
    admin, uow, store = world
    saved = admin.update_store(OPERATOR, store.store_id, StoreChange(name="Renamed",
                                                                     authorized_amount=Money(Decimal("30"), "USD")))
    assert uow.opened == [True]  # get, apply and update: no read of its own beforehand
    assert saved.generated_secrets == {}
    assert saved.store == store.with_changes(name="Renamed", authorized_amount=Money(Decimal("30"), "USD"))
    assert admin.get_store(OPERATOR, store.store_id) == saved.store


def test_the_country_is_cleared_by_none_and_kept_by_unset(world):
    admin, _, store = world
    assert admin.update_store(OPERATOR, store.store_id, StoreChange(country=UNSET)).store.country == "US"
    assert admin.update_store(OPERATOR, store.store_id, StoreChange(country="CA")).store.country == "CA"
    assert admin.update_store(OPERATOR, store.store_id, StoreChange(country=None)).store.country is None


def test_connectors_keep_their_secret_unless_rotated(world):
    admin, _, store = world
    kept = admin.update_store(OPERATOR, store.store_id,
                              StoreChange(connectors={"identity": ConnectorSetting("https://new.example/", 900)}))
    assert kept.generated_secrets == {}
    assert kept.store.connectors["identity"] == ConnectorConfig("https://new.example/", GIVEN_SECRET, 900)
    rotated = admin.update_store(OPERATOR, store.store_id,
                                 StoreChange(connectors={"identity": ConnectorSetting(URL, 800)},
                                             rotate_secrets=frozenset({"identity"})))
    new = rotated.generated_secrets["identity"]
    assert new.startswith("whsec_") and new != GIVEN_SECRET
    assert rotated.store.connectors["identity"].secret == new
    assert admin.get_store(OPERATOR, store.store_id).connectors["identity"].secret == new


def test_a_connector_left_out_is_removed(world):
    admin, _, store = world
    change = StoreChange(connectors={}, entry_methods=frozenset({Channel.CREDIT_CARD}))
    assert admin.update_store(OPERATOR, store.store_id, change).store.connectors == {}


def test_an_invalid_result_changes_nothing(world):
    admin, _, store = world
    with pytest.raises(InvalidRequest) as raised:
        admin.update_store(OPERATOR, store.store_id, StoreChange(currency="EUR"))
    assert raised.value.fields == ["authorizedAmount.currencyCode"]
    assert admin.get_store(OPERATOR, store.store_id) == store


def test_only_the_owner_or_the_operator_changes_a_store(world):
    admin, _, store = world
    other = Principal(KeyKind.RETAILER, retailer_id="ret_other")
    with pytest.raises(Forbidden):
        admin.update_store(other, store.store_id, StoreChange(name="mine now"))
    with pytest.raises(NotFound):
        admin.update_store(OPERATOR, "no-such-store", StoreChange(name="x"))
    assert admin.get_store(OPERATOR, store.store_id) == store
