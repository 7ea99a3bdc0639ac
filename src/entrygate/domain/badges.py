"""Badge credentials: Wiegand frames in the common HID layouts, and card serial numbers.

A badge reader reports either a Wiegand frame (as bits, or as hex with a bit length) or the
serial number (UID) of a contactless card. entrygate decodes the frame with the formats the store
enables, checks its parity, and hands the retailer a canonical badge id:

- ``<FORMAT>:<facility>:<card>`` for a Wiegand badge, e.g. ``H10301:101:1337``. A 26-bit badge
  is only unique with its facility code, so the id always carries format, facility and card.
  ``H10302`` has no facility field; its id uses facility ``0`` (``H10302:0:1337``), the value
  HID readers and tools print for it, so every Wiegand id keeps the same three-part shape.
- ``CSN:<hex uid>`` for a serial number, in upper-case hex without separators.

Bit positions follow VECTORS.md: bit 0 is the first bit transmitted.

Exception hierarchy::

    BadgeError
    ├── BadgeReadMalformed      the read is not a frame at all (400, names the field)
    ├── BadgeFormatUnsupported  no enabled format has that bit length (BADGE_FORMAT_UNSUPPORTED)
    └── BadgeParityError        a format of that length is enabled, but parity fails
                                (BADGE_PARITY_ERROR)
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import ClassVar

from entrygate.domain.reasons import ReasonCode


class BadgeError(Exception):
    """A badge read that cannot become a badge id."""

    reason: ClassVar[ReasonCode | None] = None


class BadgeReadMalformed(BadgeError):
    """The read is not well formed: not bits, not hex, a bad length, not a serial number."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class BadgeFormatUnsupported(BadgeError):
    """No format the store enables has the frame's bit length."""

    reason = ReasonCode.BADGE_FORMAT_UNSUPPORTED

    def __init__(self, bit_length: int) -> None:
        super().__init__(f"no enabled badge format has {bit_length} bits")
        self.bit_length = bit_length


class BadgeParityError(BadgeError):
    """The frame's length matches an enabled format, but no such format's parity holds."""

    reason = ReasonCode.BADGE_PARITY_ERROR

    def __init__(self, bit_length: int, tried: tuple[str, ...]) -> None:
        super().__init__(f"{bit_length}-bit frame fails the parity of {', '.join(tried)}")
        self.bit_length = bit_length
        self.tried = tried


# A Wiegand frame never comes near this; anything longer is refused before any arithmetic.
MAX_FRAME_BITS = 256
CSN = "CSN"
# ISO 14443 UIDs are 4, 7 or 10 bytes, iCLASS / ISO 15693 / FeliCa serials 8, EM4100 ids 5.
CSN_MIN_BYTES = 4
CSN_MAX_BYTES = 10

_BITS = re.compile(r"[01]+")
_HEX = re.compile(r"[0-9A-Fa-f]+")
_CSN_SEPARATORS = re.compile(r"[:\- ]")
_CANONICAL = re.compile(r"([A-Z0-9]+):([0-9]{1,20}):([0-9]{1,20})")


# --- the format table -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Field:
    """A run of bits holding an unsigned number, most significant bit first."""

    start: int
    width: int

    @property
    def max(self) -> int:
        """The largest number the field holds."""
        return (1 << self.width) - 1


@dataclass(frozen=True, slots=True)
class Parity:
    """One parity bit at ``position`` over the bits ``covers`` (the position itself excluded)."""

    position: int
    odd: bool
    covers: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class BadgeFormat:
    """A Wiegand layout: length, fields, and parity bits in the order they are computed."""

    name: str
    bit_length: int
    facility: Field | None
    card: Field
    parity: tuple[Parity, ...]
    _masks: tuple[int, ...] = dataclass_field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        masks = tuple(sum(1 << self._shift(i) for i in p.covers) for p in self.parity)
        object.__setattr__(self, "_masks", masks)

    def _shift(self, position: int) -> int:
        return self.bit_length - 1 - position

    def _parity_bit(self, value: int, index: int) -> int:
        ones = (value & self._masks[index]).bit_count()
        return (ones + self.parity[index].odd) % 2

    def parity_ok(self, value: int) -> bool:
        """True when every parity bit of the frame holds."""
        return all(
            (value >> self._shift(p.position)) & 1 == self._parity_bit(value, i)
            for i, p in enumerate(self.parity)
        )

    def field(self, value: int, field: Field) -> int:
        """The number a field of the frame holds."""
        shift = self.bit_length - field.start - field.width
        return (value >> shift) & field.max

    def pack(self, facility: int | None, card: int) -> int:
        """The frame for ``facility`` and ``card``, parity included."""
        value = 0
        for field, number in ((self.facility, facility), (self.card, card)):
            if field is not None:
                value |= number << (self.bit_length - field.start - field.width)
        for i, p in enumerate(self.parity):
            value |= self._parity_bit(value, i) << self._shift(p.position)
        return value


def _span(first: int, last: int) -> tuple[int, ...]:
    return tuple(range(first, last + 1))


def _skip_every_third(first: int, last: int) -> tuple[int, ...]:
    """Bits first..last where (i - first) mod 3 != 2: the Corporate 1000 parity pattern."""
    return tuple(i for i in range(first, last + 1) if (i - first) % 3 != 2)


def _even(position: int, covers: tuple[int, ...]) -> Parity:
    return Parity(position, False, tuple(i for i in covers if i != position))


def _odd(position: int, covers: tuple[int, ...]) -> Parity:
    return Parity(position, True, tuple(i for i in covers if i != position))


# Layouts from VECTORS.md. Order matters where two formats share a length: H10304 and H10302 are
# both 37 bits with the same parity bits, so every valid H10304 frame is also a valid H10302 one.
# A store that enables both gets the H10304 reading (the facility-bearing, more specific layout);
# a store should enable only the 37-bit layout its badges really use.
FORMATS: dict[str, BadgeFormat] = {
    f.name: f
    for f in (
        BadgeFormat("H10301", 26, Field(1, 8), Field(9, 16),
                    (_even(0, _span(1, 12)), _odd(25, _span(13, 24)))),
        BadgeFormat("H10304", 37, Field(1, 16), Field(17, 19),
                    (_even(0, _span(1, 18)), _odd(36, _span(18, 35)))),
        BadgeFormat("H10302", 37, None, Field(1, 35),
                    (_even(0, _span(1, 18)), _odd(36, _span(18, 35)))),
        BadgeFormat("H10306", 34, Field(1, 16), Field(17, 16),
                    (_even(0, _span(1, 16)), _odd(33, _span(17, 32)))),
        BadgeFormat("C1K35", 35, Field(2, 12), Field(14, 20),
                    (_even(1, _skip_every_third(2, 33)), _odd(34, _skip_every_third(1, 33)),
                     _odd(0, _span(1, 34)))),
        BadgeFormat("C1K48", 48, Field(2, 22), Field(24, 23),
                    (_even(1, _skip_every_third(3, 46)), _odd(47, _skip_every_third(2, 45)),
                     _odd(0, _span(1, 47)))),
    )
}
# Every name a store's ``badgeFormats`` may list.
FORMAT_NAMES: frozenset[str] = frozenset(FORMATS) | {CSN}


# --- badge ids --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BadgeId:
    """A decoded badge: a Wiegand format with facility and card, or a card serial number."""

    format: str
    facility: int | None = None
    card: int | None = None
    csn: str | None = None

    @property
    def canonical(self) -> str:
        """The id sent to the retailer: ``<FORMAT>:<facility>:<card>`` or ``CSN:<hex uid>``."""
        if self.format == CSN:
            return f"{CSN}:{self.csn}"
        return f"{self.format}:{self.facility or 0}:{self.card}"


def badge_id(format_name: str, facility: int | None, card: int) -> BadgeId:
    """The id of a Wiegand badge, checking that facility and card fit the format's fields."""
    fmt = _format(format_name)
    _check_numbers(fmt, facility, card)
    return BadgeId(fmt.name, facility if fmt.facility is not None else None, card)


def csn_badge(csn: str) -> BadgeId:
    """The id of a card known by its serial number."""
    return BadgeId(CSN, csn=normalize_csn(csn))


def parse_canonical(text: str) -> BadgeId:
    """The badge id a canonical string names (the inverse of ``BadgeId.canonical``)."""
    if text.startswith(f"{CSN}:"):
        try:
            return csn_badge(text[len(CSN) + 1:])
        except BadgeReadMalformed as exc:
            raise ValueError(f"not a canonical badge id: {text!r}") from exc
    match = _CANONICAL.fullmatch(text)
    if not match:
        raise ValueError(f"not a canonical badge id: {text!r}")
    fmt = _format(match[1])
    facility: int | None = int(match[2])
    if fmt.facility is None:
        if facility != 0:
            raise ValueError(f"{fmt.name} has no facility code; its canonical id carries 0")
        facility = None
    return badge_id(fmt.name, facility, int(match[3]))


# --- reading frames ---------------------------------------------------------------------------


def frame_from_bits(bits: str) -> tuple[int, int]:
    """The frame (value, bit length) of a string of bits, first transmitted bit first."""
    if not isinstance(bits, str) or not _BITS.fullmatch(bits):
        raise BadgeReadMalformed("credential.bits", "must be a string of 0 and 1")
    if len(bits) > MAX_FRAME_BITS:
        raise BadgeReadMalformed("credential.bits", f"at most {MAX_FRAME_BITS} bits")
    return int(bits, 2), len(bits)


def frame_from_hex(hex: str, bit_length: int) -> tuple[int, int]:
    """The frame (value, bit length) in the low ``bit_length`` bits of a hex value.

    The first transmitted bit is the highest of those bits; bits above them (a reader's
    preamble, for example) are ignored.
    """
    if isinstance(bit_length, bool) or not isinstance(bit_length, int) \
            or not 1 <= bit_length <= MAX_FRAME_BITS:
        raise BadgeReadMalformed(
            "credential.bitLength", f"must be a whole number from 1 to {MAX_FRAME_BITS}"
        )
    if not isinstance(hex, str):
        raise BadgeReadMalformed("credential.hex", "must be a string of hex digits")
    digits = hex[2:] if hex[:2] in ("0x", "0X") else hex
    if not _HEX.fullmatch(digits):
        raise BadgeReadMalformed("credential.hex", "must be a string of hex digits")
    if len(digits) > MAX_FRAME_BITS // 4:
        raise BadgeReadMalformed("credential.hex", f"at most {MAX_FRAME_BITS // 4} hex digits")
    return int(digits, 16) & ((1 << bit_length) - 1), bit_length


def normalize_csn(csn: str) -> str:
    """A card serial number as upper-case hex, whole bytes, no separators.

    Colons, dashes and spaces between digits are dropped (readers print UIDs all three ways). An
    odd number of digits is refused rather than padded: guessing the missing nibble could name
    another card.
    """
    if not isinstance(csn, str):
        raise BadgeReadMalformed("credential.csn", "must be a string of hex digits")
    digits = _CSN_SEPARATORS.sub("", csn.strip())
    if not _HEX.fullmatch(digits):
        raise BadgeReadMalformed("credential.csn", "must be a string of hex digits")
    if len(digits) % 2:
        raise BadgeReadMalformed("credential.csn", "must be whole bytes (an even number of digits)")
    if not CSN_MIN_BYTES <= len(digits) // 2 <= CSN_MAX_BYTES:
        raise BadgeReadMalformed(
            "credential.csn", f"must be {CSN_MIN_BYTES} to {CSN_MAX_BYTES} bytes"
        )
    return digits.upper()


# --- decoding and encoding --------------------------------------------------------------------


def decode(frame_value: int, bit_length: int, enabled: Iterable[str]) -> BadgeId:
    """The badge id of a Wiegand frame, trying each enabled format of that length in table order."""
    if bit_length < 1 or not 0 <= frame_value < (1 << bit_length):
        raise ValueError(f"frame value does not fit in {bit_length} bits")
    names = set(enabled)
    unknown = names - FORMAT_NAMES
    if unknown:
        raise ValueError(f"unknown badge formats: {', '.join(sorted(unknown))}")
    candidates = [f for f in FORMATS.values() if f.name in names and f.bit_length == bit_length]
    if not candidates:
        raise BadgeFormatUnsupported(bit_length)
    for fmt in candidates:
        if fmt.parity_ok(frame_value):
            facility = fmt.field(frame_value, fmt.facility) if fmt.facility is not None else None
            return BadgeId(fmt.name, facility, fmt.field(frame_value, fmt.card))
    raise BadgeParityError(bit_length, tuple(f.name for f in candidates))


def encode(format_name: str, facility: int | None, card: int) -> tuple[int, int]:
    """The frame (value, bit length) of a badge, with correct parity."""
    fmt = _format(format_name)
    _check_numbers(fmt, facility, card)
    return fmt.pack(facility if fmt.facility is not None else None, card), fmt.bit_length


def encode_bits(format_name: str, facility: int | None, card: int) -> str:
    """The frame of a badge as a string of bits, first transmitted bit first."""
    value, bit_length = encode(format_name, facility, card)
    return format(value, f"0{bit_length}b")


def _format(name: str) -> BadgeFormat:
    try:
        return FORMATS[name]
    except KeyError:
        hint = " (a serial number is not a Wiegand format)" if name == CSN else ""
        known = ", ".join(FORMATS)
        raise ValueError(f"unknown Wiegand format {name!r}{hint}; known: {known}") from None


def _check_numbers(fmt: BadgeFormat, facility: int | None, card: int) -> None:
    if fmt.facility is None:
        if facility not in (None, 0):
            raise ValueError(f"{fmt.name} has no facility code; pass none (or 0)")
    else:
        _check_fits(fmt, "facility", facility, fmt.facility)
    _check_fits(fmt, "card", card, fmt.card)


def _check_fits(fmt: BadgeFormat, what: str, number: int | None, field: Field) -> None:
    if isinstance(number, bool) or not isinstance(number, int):
        raise ValueError(f"{fmt.name} {what} must be a whole number, got {number!r}")
    if not 0 <= number <= field.max:
        raise ValueError(
            f"{fmt.name} {what} {number} does not fit its {field.width}-bit field (0-{field.max})"
        )
