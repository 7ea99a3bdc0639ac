"""The in-memory 1:N palm index: every enrolled template, searched for the best candidates.

Why this shape (measured, docs/palm.md): exact search is one float32 matrix-vector product, about
1 ms at 50,000 palms but 25 ms at 1,000,000 on 2 cores, far from DESIGN 9's 10 ms p99. Palm
signatures spread evenly over the sphere, which defeats graph indexes (faiss HNSW: 9 minutes to
build a million, rank-1 recall 0.33-0.84). So above ``exact_limit`` this is a faiss inverted file:
spherical k-means cells, 4-bit fast-scan PQ codes (16 bytes a palm), 1/8 of the cells probed
(``palm_ivf``). Its
candidates are re-scored exactly against the float32 templates kept here and the caller applies
the threshold to that score: an approximation can miss a match (a false reject), never create one.

Concurrency: one writer, any number of lock-free readers (threads). The writer publishes an
immutable ``_View`` after each change; rows are appended past every published count; removal
clears a per-row flag that readers check last, then zeroes the row. New palms go to an exactly
scanned tail; when it or the removed rows grow too large, a background rebuild runs. A rebuild
journals the writes made meanwhile, replays them onto the new generation and swaps it in.

Restarts: ``export_state`` captures the built layout (rows, ids, the faiss index serialised) with
the change-log position it covers, and ``restore`` installs such a state without building
anything; ``adapters.palm_snapshot`` keeps it on disk, encrypted, and ``services.palm.sync``
decides whether a state read back may be trusted.
"""
from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from entrygate.adapters.palm_ivf import Ivf, build_ivf, deserialize, serialize
from entrygate.domain.palm import DEFAULT_DIMENSION, PalmMatch
from entrygate.services.ports.palm import PalmIndexState

EXACT_LIMIT = 50_000  # exact scan p99 stays near 1.5 ms up to here
TAIL_LIMIT = 20_000  # palms added since the last build, scanned exactly (~0.5 ms)
DEAD_FRACTION = 0.10  # removed rows tolerated before compacting
CANDIDATES = 32  # approximate candidates re-scored exactly, beyond k

Item = tuple[str, np.ndarray]


@dataclass(frozen=True, slots=True)
class _View:
    """What a reader needs, captured at one instant."""

    vectors: np.ndarray
    alive: np.ndarray
    palm_ids: list[str]
    count: int
    ann: Ivf | None
    base: int  # rows below are covered by ann; rows from here to count are scanned exactly


class _Generation:
    """The rows of one build and the palms added since; changed only by the writer."""

    def __init__(self, dimension: int, *, capacity: int = 1024) -> None:
        self.vectors = np.zeros((max(capacity, 16), dimension), dtype=np.float32)
        self.alive = np.zeros(len(self.vectors), dtype=bool)
        self.palm_ids: list[str] = []
        self.rows: dict[str, int] = {}
        self.ann: Ivf | None = None
        self.base = 0

    @classmethod
    def adopting(cls, dimension: int, vectors: np.ndarray, alive: np.ndarray, *, headroom: int) -> _Generation:
        """A generation over a copy of these rows, with room for ``headroom`` more (palm ids set by the caller)."""
        gen = cls(dimension, capacity=16)
        count = len(vectors)
        gen.vectors = np.empty((count + headroom, dimension), dtype=np.float32)  # pages touched once, by the copy
        gen.vectors[:count] = vectors
        gen.vectors[count:] = 0.0
        gen.alive = np.zeros(count + headroom, dtype=bool)
        gen.alive[:count] = alive
        return gen

    @property
    def count(self) -> int:
        return len(self.palm_ids)

    @property
    def dead(self) -> int:
        return self.count - len(self.rows)

    def put(self, palm_id: str, vec: np.ndarray) -> None:
        self.delete(palm_id)
        row = self.count
        self._reserve(row + 1)
        self.vectors[row] = vec
        self.alive[row] = True
        self.palm_ids.append(palm_id)
        self.rows[palm_id] = row

    def extend(self, palm_ids: list[str], vecs: np.ndarray) -> None:
        """Append many palms at once (while building, before anyone reads this generation)."""
        if len(set(palm_ids)) != len(palm_ids) or not self.rows.keys().isdisjoint(palm_ids):
            for palm_id, vec in zip(palm_ids, vecs):
                self.put(palm_id, vec)
            return
        start, n = self.count, len(palm_ids)
        self._reserve(start + n)
        self.vectors[start : start + n] = vecs
        self.alive[start : start + n] = True
        self.palm_ids.extend(palm_ids)
        self.rows.update(zip(palm_ids, range(start, start + n)))

    def _reserve(self, rows: int) -> None:
        """Grow into new arrays when full: readers keep the arrays they already hold."""
        if rows <= len(self.vectors):
            return
        size = max(rows, 2 * len(self.vectors))
        vectors = np.zeros((size, self.vectors.shape[1]), dtype=np.float32)
        vectors[: self.count] = self.vectors[: self.count]
        alive = np.zeros(size, dtype=bool)
        alive[: self.count] = self.alive[: self.count]
        self.vectors, self.alive = vectors, alive

    def delete(self, palm_id: str) -> bool:
        row = self.rows.pop(palm_id, None)
        if row is None:
            return False
        self.alive[row] = False  # first: readers check this flag last
        self.vectors[row] = 0.0
        return True

    def view(self) -> _View:
        return _View(self.vectors, self.alive, self.palm_ids, self.count, self.ann, self.base)


class PalmIndex:
    """Enrolled palm templates in memory, answering 1:N searches with exactly scored candidates."""

    def __init__(
        self,
        *,
        dimension: int = DEFAULT_DIMENSION,
        exact_limit: int = EXACT_LIMIT,
        tail_limit: int = TAIL_LIMIT,
        auto_compact: bool = True,
        build_threads: int | None = None,
        seed: int = 0,
    ) -> None:
        self.dimension = dimension
        self.exact_limit = max(exact_limit, 1_000)  # the inverted file needs points to train on
        self.tail_limit = tail_limit
        self.auto_compact = auto_compact
        # One OpenMP thread by default: a rebuild runs beside the searches, and OpenMP teams on a
        # busy 2-core machine stall (measured: 3,000 palms built in 0.24 s on one thread, 8.5 s on two).
        self.build_threads = build_threads or 1
        self.seed = seed
        self._lock = threading.Lock()  # one writer at a time
        self._rebuild_lock = threading.Lock()  # one rebuild at a time
        self._gen = _Generation(dimension)
        self._view = self._gen.view()
        self._journal: list[tuple[str, str, np.ndarray | None]] | None = None
        self._version = 0
        self._watermark = 0
        self._generation = 0
        self._compactor: threading.Thread | None = None

    # -- reading --------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._gen.rows)

    def __contains__(self, palm_id: object) -> bool:
        return palm_id in self._gen.rows

    @property
    def version(self) -> int:
        """A counter that grows with every add, remove and rebuild."""
        return self._version

    @property
    def generation(self) -> int:
        """A counter that grows each time a build or rebuild swaps in a new layout."""
        return self._generation

    @property
    def watermark(self) -> int:
        """The highest change-log position the caller reported applying; never goes back."""
        return self._watermark

    @property
    def kind(self) -> str:
        """The layout answering searches now ("exact" or the faiss IVF), for logs and benchmarks."""
        ann = self._view.ann
        return "exact" if ann is None else f"IVF{ann.nlist},PQx4fs nprobe={ann.index.nprobe}"

    def search(self, probe: np.ndarray, *, k: int = 5) -> list[PalmMatch]:
        """The up-to-k enrolled palms most similar to the probe, best first, with exact scores."""
        if k < 1:
            raise ValueError("k must be at least 1")
        q = self._probe(probe)
        view = self._view
        if view.count == 0:
            return []
        wanted = k + CANDIDATES
        found: list[np.ndarray] = []
        if view.ann is not None and view.base:
            _, ids = view.ann.index.search(q[None, :], wanted)
            found.append(ids[0][ids[0] >= 0])
        if view.count > view.base:
            scores = view.vectors[view.base : view.count] @ q
            found.append(_top(scores, wanted) + view.base)
        if not found:
            return []
        rows = np.concatenate(found)
        rows = rows[view.alive[rows]]
        exact = view.vectors[rows] @ q  # the score the threshold is applied to
        alive = view.alive[rows]  # re-checked: a row zeroed meanwhile was removed meanwhile
        rows, exact = rows[alive], exact[alive]
        order = np.argsort(-exact, kind="stable")[:k]
        return [PalmMatch(view.palm_ids[int(rows[i])], float(exact[i])) for i in order]

    def vector_of(self, palm_id: str) -> np.ndarray | None:
        """The unit template searched for ``palm_id`` (a copy), or None when it is not here."""
        view, row = self._view, self._gen.rows.get(palm_id)
        if row is None or row >= view.count or not view.alive[row]:
            return None
        return view.vectors[row].copy()

    def exact_search(self, probe: np.ndarray, *, k: int = 5) -> list[PalmMatch]:
        """Brute-force search over every template: the oracle the approximate path is held to."""
        q = self._probe(probe)
        view = self._view
        scores = view.vectors[: view.count] @ q
        alive = view.alive[: view.count]
        if not alive.all():
            scores[~alive] = -np.inf
        rows = _top(scores, k)
        rows = rows[np.isfinite(scores[rows])]
        rows = rows[np.argsort(-scores[rows], kind="stable")]
        return [PalmMatch(view.palm_ids[int(r)], float(scores[r])) for r in rows]

    # -- writing --------------------------------------------------------------------------------

    def add(self, palm_id: str, vec: np.ndarray, *, watermark: int | None = None) -> None:
        """Enroll (or replace) a palm's template; searched from the moment this returns."""
        v = self._template(vec)
        with self._lock:
            self._gen.put(palm_id, v)
            if self._journal is not None:
                self._journal.append(("add", palm_id, v))
            self._publish(watermark)
            self._maybe_compact()

    def remove(self, palm_id: str, *, watermark: int | None = None) -> bool:
        """Forget a palm; no search that starts after this returns will find it."""
        with self._lock:
            removed = self._gen.delete(palm_id)
            if self._journal is not None:
                self._journal.append(("remove", palm_id, None))
            self._publish(watermark)
            self._maybe_compact()
            return removed

    def build(self, items: Iterable[Item], *, watermark: int | None = None) -> None:
        """Bulk load: replace the contents with ``items`` and build the layout their number needs."""
        self.rebuild(items, watermark=watermark)

    def rebuild(self, items: Iterable[Item] | None = None, *, watermark: int | None = None) -> None:
        """Build a new generation off to the side from ``items`` (or the current palms), then swap."""
        with self._rebuild_lock:
            with self._lock:
                self._journal = []
                reuse = self._gen.ann if items is None else None
                source = self._snapshot() if items is None else items
            try:
                gen = self._build(source, reuse=reuse)
            except BaseException:
                with self._lock:
                    self._journal = None
                raise
            with self._lock:
                for op, palm_id, vec in self._journal:
                    if op == "add":
                        gen.put(palm_id, vec)
                    else:
                        gen.delete(palm_id)
                self._journal = None
                self._gen = gen
                self._generation += 1
                self._publish(watermark)

    def export_state(self) -> PalmIndexState:
        """The current generation, copied under the writer's lock (a removal zeroes rows in place)."""
        with self._lock:
            gen = self._gen
            vectors = gen.vectors[: gen.count].copy()
            alive = gen.alive[: gen.count].copy()
            palm_ids, ann, base, watermark = list(gen.palm_ids), gen.ann, gen.base, self._watermark
        packed = serialize(ann) if ann is not None else None
        return PalmIndexState(
            dimension=self.dimension, palm_ids=palm_ids, vectors=vectors, alive=alive, base=base,
            nlist=0 if ann is None else ann.nlist,
            ann=None if ann is None else packed[0], trained=None if ann is None else packed[1],
            watermark=watermark)

    def restore(self, state: PalmIndexState) -> None:
        """Replace the contents with an exported state; ValueError when it does not fit this index."""
        count = len(state.palm_ids)
        if state.dimension != self.dimension or state.vectors.shape != (count, self.dimension):
            raise ValueError(f"the state holds {state.vectors.shape} rows, this index has dimension {self.dimension}")
        if state.alive.shape != (count,) or not 0 <= state.base <= count or (state.ann is None) != (state.base == 0):
            raise ValueError("the state's rows, flags and layout do not agree")
        gen = _Generation.adopting(self.dimension, state.vectors, state.alive, headroom=1024)
        gen.palm_ids = list(state.palm_ids)
        if state.alive.all():
            gen.rows = dict(zip(gen.palm_ids, range(count)))
        else:
            gen.rows = {gen.palm_ids[row]: row for row in np.flatnonzero(state.alive).tolist()}
        if len(gen.rows) != int(state.alive.sum()):
            raise ValueError("the state names a palm twice")
        if state.ann is not None:
            ivf = deserialize(state.ann, state.trained or b"", state.nlist)
            if ivf.index.ntotal != state.base or ivf.index.d != self.dimension:
                raise ValueError("the state's faiss index does not cover its rows")
            gen.ann, gen.base = ivf, state.base
        with self._rebuild_lock, self._lock:
            self._gen = gen
            self._generation += 1
            self._publish(state.watermark)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait for a background compaction to finish; True when none is running."""
        compactor = self._compactor
        if compactor is not None:
            compactor.join(timeout)
            return not compactor.is_alive()
        return True

    # -- internals ------------------------------------------------------------------------------

    def _publish(self, watermark: int | None) -> None:
        self._view = self._gen.view()
        self._version += 1
        if watermark is not None and watermark > self._watermark:
            self._watermark = watermark

    def _maybe_compact(self) -> None:
        """Start a background rebuild when the layout no longer fits the palms it holds."""
        gen = self._gen
        alive = len(gen.rows)
        stale = (
            (gen.ann is None and alive >= self.exact_limit)
            or (gen.ann is not None and alive < self.exact_limit // 2)
            or (gen.ann is not None and gen.count - gen.base > self.tail_limit)
            or gen.dead > max(1_000, DEAD_FRACTION * gen.count)
        )
        if not (stale and self.auto_compact) or self._journal is not None:
            return
        if self._compactor is not None and self._compactor.is_alive():
            return
        self._compactor = threading.Thread(target=self.rebuild, name="palm-index-compact", daemon=True)
        self._compactor.start()

    def _snapshot(self) -> Iterable[Item]:
        """The current palms, read lazily: rows zeroed by a later removal are fixed by the journal."""
        return _read_rows(list(self._gen.rows.items()), self._gen.vectors)

    def _build(self, items: Iterable[Item], *, reuse: Ivf | None) -> _Generation:
        gen = _Generation(self.dimension)
        ids: list[str] = []
        batch: list[np.ndarray] = []
        for palm_id, vec in items:
            ids.append(palm_id)
            batch.append(vec)
            if len(batch) == 8192:
                gen.extend(ids, self._templates(batch))
                ids, batch = [], []
        if batch:
            gen.extend(ids, self._templates(batch))
        if gen.dead:  # duplicate ids in items: keep the rows dense for the index
            dense = _Generation(self.dimension, capacity=len(gen.rows))
            for palm_id, row in gen.rows.items():
                dense.put(palm_id, gen.vectors[row])
            gen = dense
        if gen.count >= self.exact_limit:
            gen.ann = build_ivf(gen.vectors[: gen.count], reuse=reuse, seed=self.seed, threads=self.build_threads)
            gen.base = gen.count
        return gen

    def _template(self, vec: np.ndarray) -> np.ndarray:
        return self._templates([np.asarray(vec).reshape(-1)])[0]

    def _templates(self, vecs: list[np.ndarray]) -> np.ndarray:
        """Templates as unit float32 rows; ValueError for a wrong size, NaN or a zero vector."""
        try:
            arr = np.array(vecs, dtype=np.float32)
        except ValueError:
            raise ValueError(f"a template has {self.dimension} values") from None
        if arr.ndim != 2 or arr.shape[1] != self.dimension:
            raise ValueError(f"a template has {self.dimension} values, got shape {arr.shape[1:]}")
        norms = np.linalg.norm(arr.astype(np.float64), axis=1, keepdims=True)
        if not np.all(np.isfinite(norms)) or np.any(norms == 0.0):
            raise ValueError("a template must be finite and non-zero")
        return (arr / norms).astype(np.float32)

    def _probe(self, probe: np.ndarray) -> np.ndarray:
        q = np.ascontiguousarray(probe, dtype=np.float32).reshape(-1)
        if q.shape != (self.dimension,):
            raise ValueError(f"a probe has {self.dimension} values, got {q.size}")
        return q


def _read_rows(pairs: list[tuple[str, int]], vectors: np.ndarray) -> Iterable[Item]:
    for palm_id, row in pairs:
        vec = vectors[row].copy()
        if vec.any():  # all zeros: removed since the snapshot, and the journal says so
            yield palm_id, vec


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the k highest scores, unordered."""
    if len(scores) <= k:
        return np.arange(len(scores))
    return np.argpartition(scores, -k)[-k:]
