from datetime import date

import pytest

from entrygate.domain.cards import (
    CardCredential,
    card_brand,
    find_pan_field,
    instrument_id,
    is_par,
    looks_like_pan,
    luhn_valid,
)


@pytest.mark.parametrize("pan", ["4242424242424242", "4000000000009995", "5555555555554444", "378282246310005",
                                 "6011111111111117", "2223003122003222", "4111111111111111"])
def test_public_test_cards_pass_luhn(pan):
    assert luhn_valid(pan)


@pytest.mark.parametrize("pan", ["4242424242424241", "1234567812345678", "", "abc"])
def test_luhn_failures(pan):
    assert not luhn_valid(pan)


@pytest.mark.parametrize("pan, brand", [("4242424242424242", "VISA"), ("5555555555554444", "MASTERCARD"),
                                        ("2223003122003222", "MASTERCARD"), ("378282246310005", "AMEX"),
                                        ("341111111111111", "AMEX"), ("6011111111111117", "DISCOVER"),
                                        ("6445644564456445", "DISCOVER"), ("6500000000000002", "DISCOVER"),
                                        ("3530111333300000", None)])
def test_brand_by_iin_range(pan, brand):
    assert card_brand(pan) == brand


@pytest.mark.parametrize("text", ["4242424242424242", "4242 4242 4242 4242", "4242-4242-4242-4242",
                                  "card 4242424242424242 here", "378282246310005"])
def test_pan_like_text_is_found(text):
    assert looks_like_pan(text)


@pytest.mark.parametrize("text", ["4242424242424241", "tok_visa_approve", "V0010013022298169667504271781",
                                  "2026-11-27T18:00:00Z", "12345", "1764266400000"])
def test_harmless_text_is_not_a_pan(text):
    assert not looks_like_pan(text)


def test_pan_is_found_anywhere_in_a_payload_and_reported_by_path():
    payload = {"eventId": "e", "credential": {"paymentToken": "tok_x", "extra": ["a", "4242424242424242"]}}
    assert find_pan_field(payload) == "credential.extra[1]"
    assert find_pan_field({"credential": {"n": 4242424242424242}}) == "credential.n"
    assert find_pan_field({"ok": True, "n": 12}) is None


def test_par_shape():
    assert is_par("V0010013022298169667504271781")
    assert not is_par("V001")


def test_instrument_id_is_keyed_by_par_and_by_secret():
    a = CardCredential("tok_a", "V0010013022298169667504271781", "VISA", "4242", 12, 2030)
    b = CardCredential("tok_b", "V0010013022298169667504271781", "VISA", "4242", 12, 2030)
    assert instrument_id(a, secret=b"k1") == instrument_id(b, secret=b"k1")
    assert instrument_id(a, secret=b"k1") != instrument_id(a, secret=b"k2")
    assert "V001" not in instrument_id(a, secret=b"k1")


def test_expiry_is_the_end_of_the_month():
    c = CardCredential("tok", None, "VISA", "4242", 11, 2026)
    assert not c.expired_on(date(2026, 11, 30))
    assert c.expired_on(date(2026, 12, 1))
