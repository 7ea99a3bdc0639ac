"""The simulated palm reader: stable people, realistic read noise, liveness, determinism."""
from __future__ import annotations

import numpy as np
import pytest

from entrygate.domain.palm import LIVENESS_THRESHOLD, MATCH_THRESHOLD, decode_signature
from entrygate.simulation.palm_reader import PalmPopulation, read, read_signatures


def test_people_are_stable_and_deterministic() -> None:
    a, b = PalmPopulation(seed=5), PalmPopulation(seed=5)
    np.testing.assert_array_equal(a.person(42).signature, b.person(42).signature)
    np.testing.assert_array_equal(a.person(42).signature, a.signatures([7, 42])[1])
    assert not np.allclose(a.person(42).signature, PalmPopulation(seed=6).person(42).signature)
    assert not np.allclose(a.person(42).signature, a.person(43).signature)
    assert np.linalg.norm(a.person(3000).signature) == pytest.approx(1.0, abs=1e-6)


def test_reads_are_deterministic_given_the_rng_seed() -> None:
    person = PalmPopulation(seed=1).person(9)
    r1 = read(person, np.random.default_rng(4))
    r2 = read(person, np.random.default_rng(4))
    np.testing.assert_array_equal(r1.signature, r2.signature)
    assert r1.liveness == r2.liveness


def test_two_reads_of_one_palm_score_about_point_eight_or_more() -> None:
    pop, rng = PalmPopulation(seed=2), np.random.default_rng(2)
    truth = pop.signatures(np.arange(5000))
    cos = np.sum(read_signatures(truth, rng) * read_signatures(truth, rng), axis=1)
    assert np.percentile(cos, 1) > 0.78
    assert 0.85 < np.median(cos) < 0.92
    assert cos.max() < 0.97
    assert cos.min() > MATCH_THRESHOLD + 0.1  # a margin for false rejects


def test_strangers_score_near_zero() -> None:
    pop, rng = PalmPopulation(seed=2), np.random.default_rng(3)
    enrolled = read_signatures(pop.signatures(np.arange(2000)), rng)
    strangers = read_signatures(pop.strangers(2000), rng)
    cos = np.sum(enrolled * strangers, axis=1)
    assert abs(cos.mean()) < 0.01
    assert np.std(cos) == pytest.approx(1 / np.sqrt(128), rel=0.1)
    np.testing.assert_array_equal(pop.stranger(3).signature, pop.strangers(1, start=3)[0])
    assert pop.stranger(3).person_id < 0


def test_liveness_live_and_spoofed() -> None:
    person, rng = PalmPopulation(seed=8).person(1), np.random.default_rng(8)
    live = [read(person, rng).liveness for _ in range(300)]
    spoof = [read(person, rng, spoof=True) for _ in range(300)]
    assert min(live) >= 0.9 and max(live) <= 0.99
    assert max(s.liveness for s in spoof) < LIVENESS_THRESHOLD
    # a spoof looks like the palm: only liveness stops it
    assert min(float(s.signature @ person.signature) for s in spoof) > MATCH_THRESHOLD


def test_a_read_is_a_gate_credential() -> None:
    r = read(PalmPopulation(seed=1).person(1), np.random.default_rng(1))
    credential = r.credential()
    assert set(credential) == {"signature", "liveness"}
    np.testing.assert_allclose(decode_signature(credential["signature"], dimension=128), r.signature, atol=1e-6)


def test_other_dimensions() -> None:
    pop = PalmPopulation(seed=1, dimension=64)
    assert read(pop.person(1), np.random.default_rng(1)).signature.shape == (64,)
