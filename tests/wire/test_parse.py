"""Parsing a body without the web framework: every refusal names its field and never echoes a card number."""
from __future__ import annotations

import pytest

from entrygate.services.errors import InvalidRequest
from entrygate.wire.parse import parse, parse_json
from entrygate.wire.schemas import EntryIn


@pytest.mark.parametrize("raw, field", [(b"", "body"), (b"{", "body"), (b"[1]", "body"),
                                        (b'{"a": {"b": "x\\u0000"}}', "a.b")])
def test_a_body_that_is_no_json_object_is_refused_naming_the_field(raw, field):
    with pytest.raises(InvalidRequest) as raised:
        parse_json(raw)
    assert raised.value.fields == [field]


def test_a_card_number_is_refused_by_where_it_was_not_by_what_it_was():
    raw = b'{"credential": {"note": "4242424242424242"}, "eventId": "3f0c8a0e-7d7f-4e52-9d3f-2b9a0f4b8c11"}'
    assert parse_json(raw)["credential"]["note"] == "4242424242424242"  # only where asked
    with pytest.raises(InvalidRequest) as raised:
        parse_json(raw, refuse_pan=True)
    assert raised.value.fields == ["credential.note"] and "4242" not in raised.value.message


def test_validation_names_every_wrong_field_under_its_prefix():
    with pytest.raises(InvalidRequest) as raised:
        parse(EntryIn, {"eventId": "bad id!", "partySize": 0}, prefix="entry")
    assert raised.value.fields == ["entry.channel", "entry.credential", "entry.eventId", "entry.partySize",
                                   "entry.timestamp"]
