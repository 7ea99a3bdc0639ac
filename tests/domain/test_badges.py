from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from entrygate.domain import badges
from entrygate.domain.badges import (
    FORMAT_NAMES,
    FORMATS,
    BadgeFormatUnsupported,
    BadgeId,
    BadgeParityError,
    BadgeReadMalformed,
    badge_id,
    csn_badge,
    decode,
    encode,
    encode_bits,
    frame_from_bits,
    frame_from_hex,
    normalize_csn,
    parse_canonical,
)
from entrygate.domain.reasons import ReasonCode

ALL = sorted(FORMAT_NAMES)

# VECTORS.md, badge table: (format, facility, card, bits, integer).
VECTORS = [
    ("H10301", 101, 1337, "00110010100000101001110011", 0xCA0A73),
    ("H10301", 7, 12, "10000011100000000000011001", 0x20E0019),
    ("H10304", 101, 1337, "0000000000110010100000000101001110011", 0x6500A73),
    ("H10304", 4242, 500000, "0000100001001001011110100001001000001", 0x1092F4241),
    ("H10302", None, 1337, "0000000000000000000000000101001110011", 0xA73),
    ("H10306", 101, 1337, "0000000000110010100000101001110011", 0xCA0A73),
    ("C1K35", 101, 1337, "00000001100101000000000101001110011", 0xCA00A73),
    ("C1K35", 4000, 1000000, "10111110100000111101000010010000001", 0x5F41E8481),
    ("C1K48", 101, 1337, "000000000000000001100101000000000000101001110011", 0x65000A73),
    ("C1K48", 4000000, 8000000, "101111010000100100000000111101000010010000000000", 0xBD0900F42400),
]
IDS = [f"{v[0]}-{v[1]}-{v[2]}" for v in VECTORS]


# --- the vectors ------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "facility", "card", "bits", "value"), VECTORS, ids=IDS)
def test_vector_decodes_from_bits(name, facility, card, bits, value):
    assert frame_from_bits(bits) == (value, len(bits))
    assert decode(value, len(bits), [name]) == BadgeId(name, facility, card)


@pytest.mark.parametrize(("name", "facility", "card", "bits", "value"), VECTORS, ids=IDS)
def test_vector_decodes_from_hex_and_length(name, facility, card, bits, value):
    for text in (f"{value:x}", f"{value:X}", f"{value:0{(len(bits) + 3) // 4}x}", f"0x{value:x}"):
        frame = frame_from_hex(text, len(bits))
        assert decode(*frame, [name]) == BadgeId(name, facility, card)


@pytest.mark.parametrize(("name", "facility", "card", "bits", "value"), VECTORS, ids=IDS)
def test_encode_reproduces_the_vector(name, facility, card, bits, value):
    assert encode(name, facility, card) == (value, len(bits))
    assert encode_bits(name, facility, card) == bits


@pytest.mark.parametrize(("name", "facility", "card", "bits", "value"), VECTORS, ids=IDS)
def test_vector_decodes_with_every_format_enabled(name, facility, card, bits, value):
    got = decode(value, len(bits), ALL)
    if name == "H10302":
        # Same length and parity bits as H10304, which takes precedence: the H10302 frame is
        # also a valid H10304 frame with facility 0.
        assert got == BadgeId("H10304", 0, card)
    else:
        assert got == BadgeId(name, facility, card)


def test_design_hex_example_is_facility_123_card_4567():
    assert decode(*frame_from_hex("2006f623ae", 26), ALL) == BadgeId("H10301", 123, 4567)


def test_proxmark_documentation_example():
    # proxmark3's `lf hid sim -r 2006ec0c86`: H10301, facility 118, card 1603.
    assert decode(*frame_from_hex("2006ec0c86", 26), ["H10301"]).canonical == "H10301:118:1603"


def test_preamble_bits_above_the_frame_are_ignored():
    value, length = encode("H10304", 4242, 500000)
    for preamble in (1, 0b10, 0x801, 0xFFFF):
        with_preamble = (preamble << length) | value
        assert frame_from_hex(f"{with_preamble:x}", length) == (value, length)


# --- single-bit errors ------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "facility", "card", "bits", "value"), VECTORS, ids=IDS)
def test_every_single_bit_flip_is_a_parity_error(name, facility, card, bits, value):
    # Each bit of every layout is covered by a parity bit (or is one), so one flipped bit breaks
    # the format's own parity. The only other format of the same length is H10302/H10304, which
    # share their parity bits, so a flip cannot pass as the other 37-bit format either.
    for i in range(len(bits)):
        flipped = value ^ (1 << (len(bits) - 1 - i))
        with pytest.raises(BadgeParityError) as info:
            decode(flipped, len(bits), ALL)
        assert info.value.reason is ReasonCode.BADGE_PARITY_ERROR


@pytest.mark.parametrize("fmt", list(FORMATS.values()), ids=list(FORMATS))
def test_every_bit_is_covered_by_some_parity(fmt):
    covered = set()
    for p in fmt.parity:
        covered |= {p.position, *p.covers}
    assert covered == set(range(fmt.bit_length))


def test_parity_error_names_the_formats_tried():
    value, length = encode("H10304", 1, 2)
    with pytest.raises(BadgeParityError) as info:
        decode(value ^ 1, length, ["H10302", "H10304"])
    assert set(info.value.tried) == {"H10302", "H10304"}
    assert info.value.bit_length == 37


def test_parity_error_when_only_one_of_two_same_length_formats_is_enabled():
    value, length = encode("H10304", 1, 2)
    assert decode(value, length, ["H10302"]) == BadgeId("H10302", None, (1 << 19) | 2)
    with pytest.raises(BadgeParityError):
        decode(value ^ (1 << 5), length, ["H10302"])


# --- format selection -------------------------------------------------------------------------


@pytest.mark.parametrize("length", [1, 24, 25, 27, 32, 36, 40, 64, 256])
def test_length_without_a_format_is_unsupported(length):
    with pytest.raises(BadgeFormatUnsupported) as info:
        decode(0, length, ALL)
    assert info.value.bit_length == length
    assert info.value.reason is ReasonCode.BADGE_FORMAT_UNSUPPORTED


@pytest.mark.parametrize(("name", "facility", "card", "bits", "value"), VECTORS, ids=IDS)
def test_a_format_the_store_disabled_is_unsupported(name, facility, card, bits, value):
    same_length = {f.name for f in FORMATS.values() if f.bit_length == len(bits)}
    others = [n for n in ALL if n not in same_length]
    with pytest.raises(BadgeFormatUnsupported):
        decode(value, len(bits), others)


def test_nothing_enabled_is_unsupported():
    with pytest.raises(BadgeFormatUnsupported):
        decode(0xCA0A73, 26, [])


def test_only_csn_enabled_refuses_every_frame():
    with pytest.raises(BadgeFormatUnsupported):
        decode(0xCA0A73, 26, ["CSN"])


def test_unknown_format_name_in_the_store_configuration_is_a_value_error():
    with pytest.raises(ValueError, match="H99999"):
        decode(0xCA0A73, 26, ["H10301", "H99999"])


def test_enabled_may_be_any_iterable():
    assert decode(0xCA0A73, 26, iter(("H10301",))).card == 1337
    assert decode(0xCA0A73, 26, frozenset({"H10301"})).card == 1337


def test_frame_value_must_fit_its_length():
    with pytest.raises(ValueError):
        decode(1 << 26, 26, ALL)
    with pytest.raises(ValueError):
        decode(-1, 26, ALL)


# --- round trips ------------------------------------------------------------------------------


@st.composite
def wiegand_badges(draw):
    fmt = draw(st.sampled_from(list(FORMATS.values())))
    facility = None if fmt.facility is None else draw(st.integers(0, fmt.facility.max))
    card = draw(st.integers(0, fmt.card.max))
    return fmt.name, facility, card


def _reference_bits(name: str, facility: int | None, card: int) -> str:
    """VECTORS.md's layout table transcribed a second time, directly on bit strings."""
    def put(bits, start, width, number):
        bits[start:start + width] = [int(c) for c in format(number, f"0{width}b")]

    def ones(bits, positions):
        return sum(bits[i] for i in positions)

    def skip3(first, last):
        return [i for i in range(first, last + 1) if (i - first) % 3 != 2]

    if name == "H10301":
        b = [0] * 26
        put(b, 1, 8, facility)
        put(b, 9, 16, card)
        b[0] = ones(b, range(1, 13)) % 2
        b[25] = 1 - ones(b, range(13, 25)) % 2
    elif name in ("H10302", "H10304"):
        b = [0] * 37
        if name == "H10302":
            put(b, 1, 35, card)
        else:
            put(b, 1, 16, facility)
            put(b, 17, 19, card)
        b[0] = ones(b, range(1, 19)) % 2
        b[36] = 1 - ones(b, range(18, 36)) % 2
    elif name == "H10306":
        b = [0] * 34
        put(b, 1, 16, facility)
        put(b, 17, 16, card)
        b[0] = ones(b, range(1, 17)) % 2
        b[33] = 1 - ones(b, range(17, 33)) % 2
    elif name == "C1K35":
        b = [0] * 35
        put(b, 2, 12, facility)
        put(b, 14, 20, card)
        b[1] = ones(b, skip3(2, 33)) % 2
        b[34] = 1 - ones(b, skip3(1, 33)) % 2
        b[0] = 1 - ones(b, range(1, 35)) % 2
    else:
        b = [0] * 48
        put(b, 2, 22, facility)
        put(b, 24, 23, card)
        b[1] = ones(b, skip3(3, 46)) % 2
        b[47] = 1 - ones(b, skip3(2, 45)) % 2
        b[0] = 1 - ones(b, range(1, 48)) % 2
    return "".join(map(str, b))


@given(wiegand_badges())
def test_encode_then_decode_round_trips(badge):
    name, facility, card = badge
    bits = encode_bits(name, facility, card)
    assert decode(*frame_from_bits(bits), [name]) == BadgeId(name, facility, card)
    value, length = encode(name, facility, card)
    assert decode(*frame_from_hex(f"{value:x}", length), [name]) == BadgeId(name, facility, card)


@given(wiegand_badges())
def test_encode_matches_an_independent_reading_of_the_layout_table(badge):
    assert encode_bits(*badge) == _reference_bits(*badge)


@given(wiegand_badges())
def test_canonical_round_trips(badge):
    bid = badge_id(*badge)
    assert parse_canonical(bid.canonical) == bid


@given(st.integers(26, 48).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, (1 << n) - 1))))
def test_decode_of_any_frame_answers_a_badge_or_a_badge_error(frame):
    length, value = frame
    try:
        bid = decode(value, length, ALL)
    except (BadgeFormatUnsupported, BadgeParityError):
        return
    assert encode(bid.format, bid.facility, bid.card) == (value, length)


# --- encode validation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "facility", "card", "match"),
    [
        ("H10301", 256, 1, "facility 256 does not fit its 8-bit field"),
        ("H10301", 1, 65536, "card 65536 does not fit its 16-bit field"),
        ("H10301", -1, 1, "facility -1"),
        ("H10301", 1, -1, "card -1"),
        ("H10304", 65536, 1, "16-bit"),
        ("H10304", 1, 1 << 19, "19-bit"),
        ("H10302", None, 1 << 35, "35-bit"),
        ("H10306", 1, 65536, "16-bit"),
        ("C1K35", 4096, 1, "12-bit"),
        ("C1K35", 1, 1 << 20, "20-bit"),
        ("C1K48", 1 << 22, 1, "22-bit"),
        ("C1K48", 1, 1 << 23, "23-bit"),
        ("H10301", None, 1, "whole number"),
        ("H10301", True, 1, "whole number"),
        ("H10301", 1, "12", "whole number"),
        ("H10301", 1.0, 1, "whole number"),
        ("H10302", 5, 1, "no facility"),
        ("H99999", 1, 1, "unknown Wiegand format"),
        ("CSN", 1, 1, "serial number"),
    ],
)
def test_encode_refuses_what_does_not_fit(name, facility, card, match):
    with pytest.raises(ValueError, match=match):
        encode(name, facility, card)


@pytest.mark.parametrize("name", list(FORMATS))
def test_field_extremes_encode(name):
    fmt = FORMATS[name]
    facility = None if fmt.facility is None else fmt.facility.max
    for card in (0, fmt.card.max):
        assert decode(*encode(name, facility, card), [name]) == BadgeId(name, facility, card)


def test_h10302_accepts_facility_zero_as_none():
    assert encode("H10302", 0, 1337) == encode("H10302", None, 1337)
    assert badge_id("H10302", 0, 1337) == BadgeId("H10302", None, 1337)


# --- canonical ids ----------------------------------------------------------------------------


def test_canonical_ids():
    assert BadgeId("H10301", 101, 1337).canonical == "H10301:101:1337"
    assert BadgeId("H10302", None, 1337).canonical == "H10302:0:1337"
    assert BadgeId("C1K48", 4000000, 8000000).canonical == "C1K48:4000000:8000000"
    assert csn_badge("04a1b2c3d4e5f6").canonical == "CSN:04A1B2C3D4E5F6"


def test_same_card_number_at_two_facilities_are_two_badges():
    assert badge_id("H10301", 1, 1337).canonical != badge_id("H10301", 2, 1337).canonical
    assert badge_id("H10301", 1, 1337).canonical != badge_id("H10306", 1, 1337).canonical


@pytest.mark.parametrize(
    "text",
    ["", "H10301", "H10301:1", "H10301:1:", "H10301::1", "H10301:a:1", "H10301:1:2:3",
     "h10301:1:2", "H10301:256:1", "H99999:1:1", "H10302:1:5", "CSN:", "CSN:XYZ",
     "H10301:1:2\n", "H10301:١:2"],
)
def test_parse_canonical_refuses(text):
    with pytest.raises(ValueError):
        parse_canonical(text)


# --- reading frames ---------------------------------------------------------------------------


@pytest.mark.parametrize("bits", ["", "0102", "01 01", "0101\n", "0b0101", "١٠", 101, None])
def test_malformed_bits(bits):
    with pytest.raises(BadgeReadMalformed) as info:
        frame_from_bits(bits)
    assert info.value.field == "credential.bits"
    assert "credential.bits" in str(info.value)
    assert info.value.reason is None


def test_bits_longer_than_any_frame_are_malformed():
    assert frame_from_bits("1" * badges.MAX_FRAME_BITS)[1] == badges.MAX_FRAME_BITS
    with pytest.raises(BadgeReadMalformed, match="credential.bits"):
        frame_from_bits("1" * (badges.MAX_FRAME_BITS + 1))


def test_leading_zero_bits_count_toward_the_length():
    assert frame_from_bits("0001") == (1, 4)


@pytest.mark.parametrize(
    "text", ["", "0x", "xyz", "12 34", "12\n", "-12", "+12", "0x-1", "１２", None, 12]
)
def test_malformed_hex(text):
    with pytest.raises(BadgeReadMalformed) as info:
        frame_from_hex(text, 26)
    assert info.value.field == "credential.hex"


def test_hex_longer_than_any_frame_is_malformed():
    with pytest.raises(BadgeReadMalformed, match="credential.hex"):
        frame_from_hex("f" * (badges.MAX_FRAME_BITS // 4 + 1), 26)


@pytest.mark.parametrize("length", [0, -1, badges.MAX_FRAME_BITS + 1, True, 26.0, "26", None])
def test_malformed_bit_length(length):
    with pytest.raises(BadgeReadMalformed) as info:
        frame_from_hex("ca0a73", length)
    assert info.value.field == "credential.bitLength"


def test_short_hex_is_a_frame_with_leading_zeros():
    assert frame_from_hex("a73", 37) == (0xA73, 37)


# --- card serial numbers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("04a1b2c3", "04A1B2C3"),
        ("04A1B2C3D4E5F6", "04A1B2C3D4E5F6"),
        ("04:a1:b2:c3:d4:e5:f6", "04A1B2C3D4E5F6"),
        ("04 A1 B2 C3 D4 E5 F6", "04A1B2C3D4E5F6"),
        ("04-A1-B2-C3", "04A1B2C3"),
        (" 04a1b2c3d4 ", "04A1B2C3D4"),
        ("00112233445566778899", "00112233445566778899"),
    ],
)
def test_csn_is_normalized(raw, normal):
    assert normalize_csn(raw) == normal
    assert csn_badge(raw) == BadgeId("CSN", None, None, normal)


@pytest.mark.parametrize(
    "raw",
    ["", "04A1B2C", "04A1B2", "0011223344556677889900", "04A1B2CG", "0x04A1B2C3", "04.A1.B2.C3",
     "04a1b2c3\x00", None, 0x04A1B2C3],
)
def test_malformed_csn(raw):
    with pytest.raises(BadgeReadMalformed) as info:
        normalize_csn(raw)
    assert info.value.field == "credential.csn"


def test_exceptions_share_one_base():
    for exc in (BadgeReadMalformed, BadgeFormatUnsupported, BadgeParityError):
        assert issubclass(exc, badges.BadgeError)
