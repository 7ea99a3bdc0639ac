"""The faiss inverted file behind the palm index above ``palm_index.EXACT_LIMIT`` palms.

Spherical k-means cells (about 4·√n, as a power of two), 4-bit fast-scan PQ codes (16 bytes a palm
at 128 dimensions), 1/8 of the cells probed and never fewer than ``MIN_NPROBE``: the layout
measured in docs/palm.md. An ``Ivf`` is built once and never modified; ``serialize`` and
``deserialize`` carry it through the index's file on disk (``palm_snapshot``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import faiss
import numpy as np

MIN_NPROBE = 192
TRAIN_POINTS_PER_CELL = 16  # 16 points and 8 iterations give the recall of 32 and 10, at half the cost
TRAIN_ITERATIONS = 8


@dataclass(frozen=True, slots=True)
class Ivf:
    """A filled faiss IVF index over rows [0, size) of one generation; never modified once built."""

    index: faiss.Index
    trained: faiss.Index  # the same index empty, to fold new rows in without retraining
    nlist: int


def build_ivf(vectors: np.ndarray, *, reuse: Ivf | None, seed: int, threads: int) -> Ivf:
    """An inverted file over ``vectors``, trained afresh unless ``reuse`` has the cells this size needs."""
    n, d = vectors.shape
    nlist = cells_for(n)
    faiss.omp_set_num_threads(threads)  # this thread's OpenMP setting only
    if reuse is not None and reuse.nlist == nlist:
        trained = reuse.trained
    else:
        sample_size = min(n, nlist * TRAIN_POINTS_PER_CELL)
        rng = np.random.default_rng(seed)
        sample = vectors[np.sort(rng.choice(n, sample_size, replace=False))]
        trained = faiss.index_factory(d, f"IVF{nlist},PQ{subquantizers(d)}x4fs", faiss.METRIC_INNER_PRODUCT)
        ivf = faiss.extract_index_ivf(trained)
        ivf.cp.niter = TRAIN_ITERATIONS
        ivf.cp.spherical = True  # cells by direction: the score is a cosine
        ivf.cp.seed = seed
        ivf.cp.max_points_per_centroid = TRAIN_POINTS_PER_CELL
        ivf.cp.min_points_per_centroid = 1
        trained.train(np.ascontiguousarray(sample))
    index = faiss.clone_index(trained)
    index.add(np.ascontiguousarray(vectors))
    faiss.extract_index_ivf(index).nprobe = min(nlist, max(MIN_NPROBE, nlist // 8))
    return Ivf(index=index, trained=trained, nlist=nlist)


def serialize(ivf: Ivf) -> tuple[bytes, bytes]:
    """The filled index and the trained one, as faiss writes them."""
    return faiss.serialize_index(ivf.index).tobytes(), faiss.serialize_index(ivf.trained).tobytes()


def deserialize(index: bytes, trained: bytes, nlist: int) -> Ivf:
    return Ivf(index=faiss.deserialize_index(np.frombuffer(index, dtype=np.uint8)),
               trained=faiss.deserialize_index(np.frombuffer(trained, dtype=np.uint8)), nlist=nlist)


def cells_for(n: int) -> int:
    """About 4 * sqrt(n) inverted lists, as a power of two (4096 at a million palms)."""
    cells = 2 ** round(math.log2(max(4.0 * math.sqrt(n), 16.0)))
    return int(min(cells, 2 ** max(0, int(math.log2(max(n // 8, 1))))))  # k-means needs points


def subquantizers(d: int) -> int:
    """Four dimensions per 4-bit sub-quantizer where the dimension allows it."""
    for per in (4, 2, 1):
        if d % per == 0:
            return d // per
    return d
