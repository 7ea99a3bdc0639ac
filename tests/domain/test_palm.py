"""Palm signatures: decoding what a reader sends, the thresholds and the arithmetic behind them."""
from __future__ import annotations

import base64
import struct

import numpy as np
import pytest

from entrygate.domain.palm import (
    DEFAULT_DIMENSION,
    LIVENESS_THRESHOLD,
    MATCH_THRESHOLD,
    PalmCredentialError,
    PalmLivenessError,
    PalmMatch,
    PalmSignatureError,
    best_match,
    decode_signature,
    encode_signature,
    false_match_rate,
    liveness_passed,
    parse_liveness,
    stranger_match_probability,
)


def _b64(values: list[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode()


def test_round_trip_gives_the_unit_vector() -> None:
    vec = np.random.default_rng(3).standard_normal(DEFAULT_DIMENSION).astype(np.float32) * 7
    decoded = decode_signature(encode_signature(vec), dimension=DEFAULT_DIMENSION)
    assert decoded.dtype == np.float32
    assert decoded.shape == (DEFAULT_DIMENSION,)
    assert np.linalg.norm(decoded) == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_allclose(decoded, vec / np.linalg.norm(vec), rtol=1e-6, atol=1e-7)


def test_little_endian_float32_on_the_wire() -> None:
    decoded = decode_signature(_b64([3.0, 4.0]), dimension=2)
    np.testing.assert_allclose(decoded, [0.6, 0.8], rtol=1e-6)
    assert base64.b64decode(encode_signature(np.array([1.0, -2.0]))) == struct.pack("<2f", 1.0, -2.0)


def test_dimension_is_a_parameter() -> None:
    vec = np.ones(64, dtype=np.float32)
    assert decode_signature(encode_signature(vec), dimension=64).shape == (64,)
    with pytest.raises(PalmSignatureError, match="decodes to 256 bytes; expected 512"):
        decode_signature(encode_signature(vec), dimension=128)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("not base64!!", "not valid base64"),
        ("AAAA====", "decodes to 3 bytes"),
        ("QUJD\n" * 4, "not valid base64"),
        ("é" * 8, "not valid base64"),
        (_b64([1.0] * 127), "decodes to 508 bytes; expected 512"),
        (_b64([1.0] * 129), "decodes to 516 bytes; expected 512"),
        ("", "decodes to 0 bytes"),
        (base64.b64encode(b"\x00" * 513).decode(), "decodes to 513 bytes"),
        ("A" * 10_000, "is 10000 characters"),
        (_b64([float("nan")] + [1.0] * 127), "non-finite"),
        (_b64([float("inf")] + [1.0] * 127), "non-finite"),
        (_b64([0.0] * 128), "all zeros"),
    ],
)
def test_malformed_signatures_are_refused_naming_the_field(value: str, fragment: str) -> None:
    with pytest.raises(PalmSignatureError, match=fragment) as raised:
        decode_signature(value, dimension=128)
    assert raised.value.field == "signature"
    assert isinstance(raised.value, PalmCredentialError)
    assert isinstance(raised.value, ValueError)


def test_a_non_string_is_refused() -> None:
    with pytest.raises(PalmSignatureError, match="base64 string"):
        decode_signature(12345, dimension=128)  # type: ignore[arg-type]


def test_the_caller_names_the_field_path() -> None:
    with pytest.raises(PalmSignatureError) as raised:
        decode_signature("%%%", dimension=128, field="credential.signature")
    assert raised.value.field == "credential.signature"
    assert str(raised.value).startswith("credential.signature: ")


def test_huge_but_finite_values_normalize_without_overflow() -> None:
    decoded = decode_signature(_b64([3.0e38, 3.0e38]), dimension=2)
    np.testing.assert_allclose(decoded, [2**-0.5, 2**-0.5], rtol=1e-6)


@pytest.mark.parametrize("value", [0.0, 0.5, 1, 1.0])
def test_liveness_in_range(value: float) -> None:
    assert parse_liveness(value) == float(value)


@pytest.mark.parametrize("value", [-0.01, 1.01, float("nan"), float("inf"), "0.9", None, True])
def test_liveness_out_of_range_is_refused(value: object) -> None:
    with pytest.raises(PalmLivenessError) as raised:
        parse_liveness(value)
    assert raised.value.field == "liveness"


def test_liveness_fails_closed_below_the_threshold() -> None:
    assert liveness_passed(0.97)
    assert liveness_passed(LIVENESS_THRESHOLD)
    assert not liveness_passed(LIVENESS_THRESHOLD - 1e-9)
    assert not liveness_passed(0.2)


def test_best_match_applies_the_threshold_to_the_top_score() -> None:
    matches = [PalmMatch("a", 0.31), PalmMatch("b", 0.87), PalmMatch("c", 0.62)]
    assert best_match(matches) == PalmMatch("b", 0.87)
    assert best_match([PalmMatch("a", MATCH_THRESHOLD - 1e-6)]) is None
    assert best_match([]) is None


def test_false_match_rate_matches_the_incomplete_beta_function() -> None:
    # reference values: 1/2 * I_{1-t^2}((d-1)/2, 1/2), from scipy.special.betainc
    assert false_match_rate(0.6, dimension=128) == pytest.approx(2.8617753136931255e-14, rel=1e-6)
    assert false_match_rate(0.5, dimension=128) == pytest.approx(8.053684986607423e-10, rel=1e-6)
    assert false_match_rate(0.3, dimension=16) == pytest.approx(0.12101893949791846, rel=1e-6)
    assert false_match_rate(0.0, dimension=128) == pytest.approx(0.5)
    assert false_match_rate(-0.2, dimension=128) == pytest.approx(0.9884707463105822)
    assert false_match_rate(1.0) == 0.0


def test_random_strangers_follow_the_computed_tail() -> None:
    rng = np.random.default_rng(11)
    a = rng.standard_normal((200_000, 16))
    b = rng.standard_normal((200_000, 16))
    cos = np.sum(a * b, axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert np.mean(cos >= 0.3) == pytest.approx(false_match_rate(0.3, dimension=16), rel=0.03)
    assert np.std(cos) == pytest.approx(1 / np.sqrt(16), rel=0.02)


def test_the_match_threshold_keeps_a_million_enrolled_far_below_one_in_a_thousand() -> None:
    assert stranger_match_probability(MATCH_THRESHOLD, enrolled=1_000_000) < 1e-6
    # and stays below 0.1% even with ten times more palms than DESIGN 9 asks for
    assert stranger_match_probability(MATCH_THRESHOLD, enrolled=10_000_000) < 1e-6
    # VECTORS.md: FMR 1e-6 at a million is 63%
    assert stranger_match_probability(0.4, enrolled=1_000_000) > 0.5
