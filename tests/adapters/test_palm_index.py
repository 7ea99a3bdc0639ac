"""The palm index: exact and approximate 1:N search, immediate removal, rebuilds under load."""
from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np
import pytest

from entrygate.adapters.palm_index import PalmIndex
from entrygate.domain.palm import MATCH_THRESHOLD, best_match
from entrygate.simulation.palm_reader import PalmPopulation, read_signatures

POP = PalmPopulation(seed=20)


def enrolled(n: int, *, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """Palm ids and one enrollment read for people 0..n-1."""
    return [f"palm_{i}" for i in range(n)], read_signatures(POP.signatures(np.arange(n)), np.random.default_rng(seed))


def probes(person_ids: np.ndarray, *, seed: int = 1) -> np.ndarray:
    return read_signatures(POP.signatures(person_ids), np.random.default_rng(seed))


def loaded(n: int, **options: object) -> PalmIndex:
    ids, vecs = enrolled(n)
    index = PalmIndex(**options)  # type: ignore[arg-type]
    index.build(zip(ids, vecs))
    return index


@pytest.fixture(scope="module")
def big() -> PalmIndex:
    """20,000 palms behind the approximate index (the exact limit lowered to force it)."""
    return loaded(20_000, exact_limit=1_000, auto_compact=False)


def test_an_empty_index_finds_nothing() -> None:
    index = PalmIndex()
    assert len(index) == 0
    assert index.search(probes(np.array([1]))[0]) == []
    assert index.exact_search(probes(np.array([1]))[0]) == []


def test_small_indexes_search_exactly() -> None:
    index = loaded(500)
    assert index.kind == "exact"
    for person, probe in enumerate(probes(np.arange(50))):
        found = index.search(probe, k=3)
        exact = index.exact_search(probe, k=3)
        assert [m.palm_id for m in found] == [m.palm_id for m in exact]
        assert [m.score for m in found] == pytest.approx([m.score for m in exact], abs=1e-5)
        assert best_match(found) is not None and best_match(found).palm_id == f"palm_{person}"
        assert [m.score for m in found] == sorted((m.score for m in found), reverse=True)


def test_strangers_are_not_matched() -> None:
    index = loaded(2_000)
    strangers = read_signatures(POP.strangers(500), np.random.default_rng(5))
    assert all(best_match(index.search(s)) is None for s in strangers)


def test_approximate_search_agrees_with_the_exact_oracle(big: PalmIndex) -> None:
    assert big.kind.startswith("IVF")
    people = np.random.default_rng(9).choice(20_000, 1_000, replace=False)
    queries = probes(people)
    scores = queries @ enrolled(20_000)[1].T  # the exact oracle, for all probes at once
    agree = correct = 0
    for person, probe, row in zip(people, queries, scores):
        approx = big.search(probe, k=5)
        rank1 = int(np.argmax(row))
        agree += approx[0].palm_id == f"palm_{rank1}"
        correct += best_match(approx) is not None and best_match(approx).palm_id == f"palm_{person}"
        # candidates are re-scored exactly: the same float32 dot product the oracle computes
        if approx[0].palm_id == f"palm_{rank1}":
            assert approx[0].score == pytest.approx(float(row[rank1]), abs=1e-5)
    assert agree / len(people) >= 0.995
    assert correct / len(people) >= 0.995


def test_no_stranger_passes_the_threshold_on_the_approximate_index(big: PalmIndex) -> None:
    strangers = read_signatures(POP.strangers(1_000), np.random.default_rng(6))
    assert max(big.search(s, k=1)[0].score for s in strangers) < MATCH_THRESHOLD


@pytest.mark.parametrize("exact_limit", [1_000_000, 1_000], ids=["exact", "approximate"])
def test_remove_is_immediate_and_add_replaces(exact_limit: int) -> None:
    index = loaded(3_000, exact_limit=exact_limit, auto_compact=False)
    probe = probes(np.array([17]))[0]
    assert index.search(probe)[0].palm_id == "palm_17"
    assert index.remove("palm_17") is True
    assert index.remove("palm_17") is False
    assert "palm_17" not in index and len(index) == 2_999
    assert all(m.palm_id != "palm_17" for m in index.search(probe, k=10))
    assert best_match(index.search(probe)) is None
    # the same palm re-enrolled under a new id, then that id pointed at someone else's palm
    index.add("palm_17b", enrolled(18)[1][17])
    assert index.search(probe)[0].palm_id == "palm_17b"
    index.add("palm_17b", enrolled(30)[1][29])
    assert best_match(index.search(probe)) is None
    assert len(index) == 3_000


def test_palms_added_after_a_build_are_found_at_once() -> None:
    index = loaded(3_000, exact_limit=1_000, auto_compact=False)
    new = POP.signatures(np.arange(3_000, 3_100))
    for i, vec in enumerate(read_signatures(new, np.random.default_rng(3))):
        index.add(f"palm_{3_000 + i}", vec)
    for i, probe in enumerate(read_signatures(new, np.random.default_rng(4))):
        assert best_match(index.search(probe)).palm_id == f"palm_{3_000 + i}"


def test_templates_and_probes_are_checked() -> None:
    index = PalmIndex(dimension=128)
    with pytest.raises(ValueError):
        index.add("p", np.ones(64, dtype=np.float32))
    with pytest.raises(ValueError):
        index.add("p", np.zeros(128, dtype=np.float32))
    with pytest.raises(ValueError):
        index.add("p", np.full(128, np.nan, dtype=np.float32))
    with pytest.raises(ValueError):
        index.search(np.ones(127, dtype=np.float32))
    with pytest.raises(ValueError):
        index.search(np.ones(128, dtype=np.float32), k=0)


def test_version_grows_and_watermark_never_goes_back() -> None:
    index = PalmIndex()
    v0 = index.version
    index.add("a", np.ones(128), watermark=10)
    index.remove("a", watermark=7)
    index.build([("b", np.ones(128))], watermark=5)
    assert index.version == v0 + 3
    assert index.watermark == 10
    index.add("c", np.ones(128), watermark=11)
    assert index.watermark == 11


def test_build_replaces_contents_and_keeps_the_last_duplicate() -> None:
    index = loaded(100)
    vec_a, vec_b = enrolled(2)[1]
    index.build([("x", vec_a), ("y", vec_b), ("x", vec_b)])
    assert len(index) == 2
    assert index.search(vec_b, k=2)[0].score == pytest.approx(1.0, abs=1e-5)
    assert {m.palm_id for m in index.search(vec_b, k=2)} == {"x", "y"}


def test_rebuild_swaps_under_concurrent_searches() -> None:
    ids, vecs = enrolled(3_000)
    index = PalmIndex(exact_limit=1_000, auto_compact=False)
    index.build(zip(ids, vecs))
    watched = np.arange(0, 3_000, 150)
    watched_probes = probes(watched)
    stop = threading.Event()
    failures: list[str] = []
    searches = [0]

    def reader() -> None:
        while not stop.is_set():
            for person, probe in zip(watched, watched_probes):
                top = best_match(index.search(probe))
                searches[0] += 1
                if top is None or top.palm_id != f"palm_{person}":
                    failures.append(f"palm_{person} -> {top}")

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        for limit in (1_000, 100_000, 1_000):  # approximate, exact, approximate again
            index.exact_limit = limit
            index.rebuild(zip(ids, vecs))
        index.rebuild()  # from its own contents, as the background compaction does
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert searches[0] > 0
    assert failures == []
    assert len(index) == 3_000


def test_writes_during_a_rebuild_are_kept() -> None:
    ids, vecs = enrolled(3_000)
    index = PalmIndex(exact_limit=1_000, auto_compact=False)
    index.build(zip(ids, vecs))
    extra = enrolled(3_001)[1][3_000]

    def items_while_writing() -> Iterator[tuple[str, np.ndarray]]:
        for i, (palm_id, vec) in enumerate(zip(ids, vecs)):
            if i == 1_500:  # the old generation still answers, and the journal records these
                index.remove("palm_10")
                index.remove("palm_2999")
                index.add("palm_3000", extra)
                assert best_match(index.search(extra)).palm_id == "palm_3000"
            yield palm_id, vec

    index.rebuild(items_while_writing(), watermark=3)
    assert "palm_10" not in index and "palm_2999" not in index and "palm_3000" in index
    assert len(index) == 2_999
    assert best_match(index.search(extra)).palm_id == "palm_3000"
    assert best_match(index.search(vecs[10])) is None
    assert best_match(index.search(vecs[2_999])) is None


def test_removal_is_immediate_while_a_writer_and_readers_run() -> None:
    index = loaded(3_000, exact_limit=1_000, tail_limit=200)
    victims = list(range(0, 3_000, 10))
    victim_probes = dict(zip(victims, probes(np.array(victims))))
    removed: set[str] = set()
    stop = threading.Event()
    failures: list[str] = []

    def reader() -> None:
        while not stop.is_set():
            for person, probe in victim_probes.items():
                gone = f"palm_{person}" in removed  # read before the search starts
                top = best_match(index.search(probe))
                if gone and top is not None and top.palm_id == f"palm_{person}":
                    failures.append(f"palm_{person} found after removal")

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        fresh = read_signatures(POP.signatures(np.arange(5_000, 5_400)), np.random.default_rng(7))
        for i, person in enumerate(victims):
            index.remove(f"palm_{person}")
            removed.add(f"palm_{person}")
            index.add(f"palm_{5_000 + i}", fresh[i])  # past tail_limit: compactions run meanwhile
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert index.wait_idle(timeout=30)
    assert failures == []
    assert len(index) == 3_000
    assert all(best_match(index.search(p)) is None for p in victim_probes.values())


def test_growing_past_the_exact_limit_compacts_in_the_background() -> None:
    ids, vecs = enrolled(1_500)
    index = PalmIndex(exact_limit=1_000)
    for palm_id, vec in zip(ids, vecs):
        index.add(palm_id, vec)
    assert index.wait_idle(timeout=30)
    assert index.kind.startswith("IVF")
    people = np.arange(0, 1_500, 7)
    for person, probe in zip(people, probes(people)):
        assert best_match(index.search(probe)).palm_id == f"palm_{person}"


def test_many_removals_compact_away_the_dead_rows() -> None:
    index = loaded(3_000)
    for i in range(1_200):
        index.remove(f"palm_{i}")
    assert index.wait_idle(timeout=30)
    assert len(index) == 1_800
    assert index._gen.dead < 1_000  # the removed rows are gone from memory
    assert best_match(index.search(probes(np.array([2_500]))[0])).palm_id == "palm_2500"
