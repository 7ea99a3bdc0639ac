"""A simulated palm reader and the palms of a simulated population.

Every person has a stable true palm signature, a random unit vector derived from the population
seed and the person's id, so the same seed always gives the same people. A read adds noise the way
a real reader does (pose, lighting, distance), so that two reads of one palm have cosine similarity
of about 0.8-0.95 (DESIGN 4.1: "about 0.8 or more") and a stranger's palm scores near 0.

Noise model: a read is normalize(s + sigma * g) with g ~ N(0, I/d), so cos(read, s) is about
1/sqrt(1 + sigma^2) and two reads with noise sigma1, sigma2 have cosine about
1/sqrt((1 + sigma1^2)(1 + sigma2^2)). sigma drawn per read from [0.22, 0.50] puts that between
0.80 (two poor reads) and 0.95 (two good ones), median about 0.88.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from entrygate.domain.palm import DEFAULT_DIMENSION, encode_signature

READ_NOISE = (0.22, 0.50)
LIVE_LIVENESS = (0.90, 0.99)
SPOOF_LIVENESS = (0.02, 0.45)
_BLOCK = 1024  # people are derived in blocks, so a million of them can be made quickly
_PEOPLE, _STRANGERS = 0, 1


@dataclass(frozen=True, slots=True, eq=False)
class PalmPerson:
    """A person's true palm: what every read of this palm is a noisy copy of."""

    person_id: int
    signature: np.ndarray


@dataclass(frozen=True, slots=True, eq=False)
class PalmRead:
    """What the reader sends: a signature and a liveness score."""

    signature: np.ndarray
    liveness: float

    def credential(self) -> dict[str, object]:
        """The PALM credential of a gate request (DESIGN 4.1)."""
        return {"signature": encode_signature(self.signature), "liveness": round(self.liveness, 4)}


class PalmPopulation:
    """The palms of a simulated population, deterministic given the seed."""

    def __init__(self, *, seed: int, dimension: int = DEFAULT_DIMENSION) -> None:
        self.seed = seed
        self.dimension = dimension

    def person(self, person_id: int) -> PalmPerson:
        """The person with this id (a non-negative integer)."""
        return PalmPerson(person_id, self.signatures([person_id])[0])

    def stranger(self, index: int) -> PalmPerson:
        """A palm from outside the population: never enrolled, same seed gives the same stranger."""
        if index < 0:
            raise ValueError("a stranger index is non-negative")
        return PalmPerson(-1 - index, self._rows(_STRANGERS, np.array([index]))[0])

    def signatures(self, person_ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """The true signatures of many people at once, one row each."""
        return self._rows(_PEOPLE, np.asarray(person_ids, dtype=np.int64))

    def strangers(self, count: int, *, start: int = 0) -> np.ndarray:
        """The true signatures of ``count`` strangers, one row each."""
        return self._rows(_STRANGERS, np.arange(start, start + count, dtype=np.int64))

    def _rows(self, stream: int, ids: np.ndarray) -> np.ndarray:
        if ids.size and ids.min() < 0:
            raise ValueError("person ids are non-negative")
        out = np.empty((ids.size, self.dimension), dtype=np.float32)
        blocks = ids // _BLOCK
        for block in np.unique(blocks):
            rng = np.random.default_rng([self.seed, stream, int(block)])
            rows = rng.standard_normal((_BLOCK, self.dimension), dtype=np.float32)
            where = np.flatnonzero(blocks == block)
            out[where] = rows[ids[where] % _BLOCK]
        return _unit(out)


def read(person: PalmPerson, rng: np.random.Generator, *, spoof: bool = False) -> PalmRead:
    """One read of a person's palm; a spoof (photo, replica) looks like the palm but fails liveness."""
    signature = read_signatures(person.signature[None, :], rng)[0]
    low, high = SPOOF_LIVENESS if spoof else LIVE_LIVENESS
    return PalmRead(signature, float(rng.uniform(low, high)))


def read_signatures(signatures: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Noisy reads of many true signatures at once (one read per row), L2-normalized."""
    sig = np.asarray(signatures, dtype=np.float32)
    n, d = sig.shape
    sigma = rng.uniform(*READ_NOISE, size=(n, 1)).astype(np.float32)
    noise = rng.standard_normal((n, d), dtype=np.float32) / np.float32(np.sqrt(d))
    return _unit(sig + sigma * noise)


def _unit(rows: np.ndarray) -> np.ndarray:
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    return rows.astype(np.float32, copy=False)
