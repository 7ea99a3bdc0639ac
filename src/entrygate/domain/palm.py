"""Palm signatures as a reader sends them, and the thresholds that turn a score into a decision.

A palm reader sends a signature vector (base64 of little-endian float32 values, DESIGN 4.1) and a
liveness score. Signatures are compared by cosine similarity, so they are kept L2-normalized and a
score is a plain float32 dot product. Two reads of one palm score about 0.8 or more; a stranger's
palm scores near 0.

Why MATCH_THRESHOLD = 0.6. For a palm nobody enrolled, each enrolled template is an independent
random direction, so the per-comparison false match rate is the tail of the cosine between two
random unit vectors in d dimensions: P(cos >= t) = 1/2 * I_{1-t^2}((d-1)/2, 1/2), whose standard
deviation is 1/sqrt(d) (0.088 for d = 128). With N enrolled palms the chance that a stranger
matches somebody is 1 - (1 - FMR)^N (VECTORS.md). At d = 128 and t = 0.6:

    exact tail:                 FMR = 2.9e-14   -> at N = 1,000,000: 2.9e-8 (0.000003%)
    normal approximation, z=6.8 FMR = 5.7e-12   -> at N = 1,000,000: 5.7e-6 (0.0006%)

Both are far below the 0.1% budget, with a margin of 170x even under the heavier normal tail; t =
0.5 would already cost 0.08% (exact) and t = 0.45 4%. On the genuine side, 0.6 sits well below the
~0.8 of two reads of the same palm, so a poor read still matches. ``false_match_rate`` and
``stranger_match_probability`` compute these numbers; tests pin them.

Why LIVENESS_THRESHOLD = 0.8. The reader's liveness score is its confidence that a live hand, not
a photo or replica, is in front of it: live hands read 0.9-0.99, presentation attacks score low. A
read below 0.8 fails closed (PALM_LIVENESS_FAILED) before any matching, so a spoof learns nothing
about who is enrolled.
"""
from __future__ import annotations

import base64
import binascii
import math
from dataclasses import dataclass

import numpy as np

# PalmCredentialError (ValueError)          a palm credential field is unusable; .field names it
#   ├── PalmSignatureError                  the signature: base64, length, values
#   └── PalmLivenessError                   the liveness score

DEFAULT_DIMENSION = 128
MATCH_THRESHOLD = 0.6
LIVENESS_THRESHOLD = 0.8

_FLOAT32_LE = np.dtype("<f4")


class PalmCredentialError(ValueError):
    """A field of a palm credential cannot be used; ``field`` names it for the 400 answer."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class PalmSignatureError(PalmCredentialError):
    """The palm signature is not base64 of the expected number of finite float32 values."""


class PalmLivenessError(PalmCredentialError):
    """The liveness score is not a number between 0 and 1."""


@dataclass(frozen=True, slots=True)
class PalmMatch:
    """One enrolled palm and its exact cosine similarity to the probe."""

    palm_id: str
    score: float


def decode_signature(b64: str, *, dimension: int, field: str = "signature") -> np.ndarray:
    """The L2-normalized float32 vector in a reader's base64 signature; PalmSignatureError if unusable."""
    if dimension < 1:
        raise ValueError(f"dimension must be positive, got {dimension}")
    if not isinstance(b64, str):
        raise PalmSignatureError(field, "must be a base64 string")
    expected_bytes = 4 * dimension
    expected_chars = 4 * math.ceil(expected_bytes / 3)
    if len(b64) > 2 * expected_chars:  # refuse before decoding anything large
        raise PalmSignatureError(
            field, f"is {len(b64)} characters; a {dimension}-value signature is {expected_chars}"
        )
    try:
        raw = base64.b64decode(b64.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise PalmSignatureError(field, "is not valid base64 (RFC 4648, standard alphabet)") from None
    if len(raw) != expected_bytes:
        raise PalmSignatureError(
            field,
            f"decodes to {len(raw)} bytes; expected {expected_bytes} "
            f"({dimension} little-endian float32 values)",
        )
    values = np.frombuffer(raw, dtype=_FLOAT32_LE).astype(np.float64)
    if not np.all(np.isfinite(values)):
        raise PalmSignatureError(field, "holds non-finite values (NaN or infinity)")
    norm = float(np.linalg.norm(values))
    if norm == 0.0:
        raise PalmSignatureError(field, "is all zeros")
    return (values / norm).astype(np.float32)


def encode_signature(vec: np.ndarray) -> str:
    """Base64 of a vector as little-endian float32, the way a reader sends it."""
    arr = np.asarray(vec)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError("a signature is a non-empty one-dimensional vector")
    return base64.b64encode(arr.astype(_FLOAT32_LE).tobytes()).decode("ascii")


def parse_liveness(value: object, *, field: str = "liveness") -> float:
    """The reader's liveness score as a float in [0, 1]; PalmLivenessError otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PalmLivenessError(field, "must be a number between 0 and 1")
    score = float(value)
    if not math.isfinite(score) or not 0.0 <= score <= 1.0:
        raise PalmLivenessError(field, "must be a number between 0 and 1")
    return score


def liveness_passed(score: float, *, threshold: float = LIVENESS_THRESHOLD) -> bool:
    """True when the read looks like a live hand; fails closed below the threshold."""
    return score >= threshold


def best_match(matches: list[PalmMatch], *, threshold: float = MATCH_THRESHOLD) -> PalmMatch | None:
    """The rank-1 candidate when its exact score reaches the threshold, else None."""
    if not matches:
        return None
    top = max(matches, key=lambda m: m.score)
    return top if top.score >= threshold else None


def false_match_rate(threshold: float, *, dimension: int = DEFAULT_DIMENSION) -> float:
    """P(cos >= threshold) between two independent random unit vectors in ``dimension`` dimensions."""
    if dimension < 3:
        raise ValueError(f"dimension must be at least 3, got {dimension}")
    if threshold >= 1.0:
        return 0.0
    if threshold <= -1.0:
        return 1.0
    if threshold < 0.0:
        return 1.0 - false_match_rate(-threshold, dimension=dimension)
    # density of the cosine: c * (1 - x^2)^((d - 3) / 2) on [-1, 1]; Simpson's rule on [t, 1]
    half = (dimension - 3) / 2.0
    log_c = math.lgamma(dimension / 2.0) - math.lgamma((dimension - 1) / 2.0) - 0.5 * math.log(math.pi)
    x = np.linspace(threshold, 1.0, 20001)
    with np.errstate(divide="ignore"):
        dens = np.exp(log_c + half * np.log1p(-(x * x)))
    h = (1.0 - threshold) / 20000
    simpson = dens[0] + dens[-1] + 4.0 * dens[1:-1:2].sum() + 2.0 * dens[2:-1:2].sum()
    return float(simpson * h / 3.0)


def stranger_match_probability(
    threshold: float, *, enrolled: int, dimension: int = DEFAULT_DIMENSION
) -> float:
    """The chance a stranger's palm matches any of ``enrolled`` palms: 1 - (1 - FMR)^N."""
    fmr = false_match_rate(threshold, dimension=dimension)
    return -math.expm1(enrolled * math.log1p(-fmr)) if fmr < 1.0 else 1.0
