"""The order a tap meets the lists, and item expiry (DESIGN 14)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from entrygate.domain.risk_ops import ItemSource, ItemType, ListItem, ListName, Presented, check_item_value, list_verdict

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
TAP = Presented(instrument_id="ins_1", issuer_country="FR", visitor_id="ins_1")


def item(list_name: ListName, *, retailer: str = "r1", item_type: ItemType = ItemType.INSTRUMENT, value: str = "ins_1",
         source: ItemSource = ItemSource.API, expires: datetime | None = None, n: int = 0) -> ListItem:
    return ListItem(f"item_{list_name.value}_{retailer}_{n}", retailer, list_name, item_type, value, None, expires,
                    NOW - timedelta(days=1, seconds=-n), source)


def test_a_block_wins_over_an_allow():
    v = list_verdict([item(ListName.ALLOW), item(ListName.BLOCK, item_type=ItemType.ISSUER_COUNTRY, value="FR")], TAP,
                     retailer_id="r1", now=NOW)
    assert v.block is not None and v.block.item_type is ItemType.ISSUER_COUNTRY and v.allow is None


def test_another_retailer_s_items_apply_only_as_fraud_blocks():
    theirs = [item(ListName.BLOCK, retailer="r2"), item(ListName.ALLOW, retailer="r2")]
    assert list_verdict(theirs, TAP, retailer_id="r1", now=NOW) == list_verdict([], TAP, retailer_id="r1", now=NOW)
    fraud = item(ListName.BLOCK, retailer="r2", source=ItemSource.FEEDBACK)
    v = list_verdict([fraud, item(ListName.ALLOW)], TAP, retailer_id="r1", now=NOW)
    assert v.block == fraud and v.allow is None


def test_an_expired_item_has_no_effect_from_its_expiry_on():
    ending = item(ListName.BLOCK, expires=NOW + timedelta(seconds=1))
    assert list_verdict([ending], TAP, retailer_id="r1", now=NOW).block == ending
    assert list_verdict([ending], TAP, retailer_id="r1", now=NOW + timedelta(seconds=1)).block is None
    allow = item(ListName.ALLOW, expires=NOW)
    assert list_verdict([allow], TAP, retailer_id="r1", now=NOW).allow is None


def test_values_are_checked_by_type():
    assert check_item_value(ItemType.ISSUER_COUNTRY, "FR") is None
    assert check_item_value(ItemType.ISSUER_COUNTRY, "fr") and check_item_value(ItemType.ISSUER_COUNTRY, "FRA")
    assert check_item_value(ItemType.VISITOR, "visitor-42") is None
    assert check_item_value(ItemType.INSTRUMENT, "has space")
