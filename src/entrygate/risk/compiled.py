"""The booster's trees as flat numpy arrays, traversed for one row in a few vector operations.

Why: ``Booster.predict`` on a single row pays for argument checking, a C call and thread setup,
tens to hundreds of microseconds, which does not fit the 0.3 ms p99 budget for scoring at the
gate (DESIGN 9) alongside everything else a decision does. The trees are small, so all the
nodes of all the trees fit in a few arrays:

1. ``nxt = where(x[feature] <= threshold, left, right)`` over every node at once: where each
   node would send this row. Leaves point to themselves (threshold +inf, left = self).
2. Starting from every tree's root, ``idx = nxt[idx]`` as many times as the deepest tree is
   deep; every tree then sits on its leaf.
3. The raw margin is the sum of the leaf values (LightGBM folds the initial score into the
   first tree, so there is no separate bias).

The same walk gives per-feature contributions for free (Saabas' method: along the path, each
split's feature is credited with the change of the node's expected value), which is how the
scorer names reasons without calling ``pred_contrib``.

Only numerical ``<=`` splits are compiled (features are one-hot encoded, ``features.py``). A row
with NaN takes the booster's own path, since LightGBM's missing-value routing is per node.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np


class UnsupportedModel(ValueError):
    """The booster uses a split kind the compiled path does not implement."""


@dataclass(frozen=True)
class CompiledForest:
    """All trees of a booster as node arrays; see the module docstring for the walk."""

    feature: np.ndarray  # (nodes,) intp: split feature; 0 for leaves
    threshold: np.ndarray  # (nodes,) float64: split threshold; +inf for leaves
    left: np.ndarray  # (nodes,) intp: left child; self for leaves
    right: np.ndarray  # (nodes,) intp: right child; self for leaves
    value: np.ndarray  # (nodes,) float64: leaf value, or the internal node's expected value
    roots: np.ndarray  # (trees,) intp
    depth: int
    n_features: int

    @classmethod
    def from_booster(cls, booster: lgb.Booster) -> CompiledForest:
        """Flatten every tree of ``booster`` (all its iterations) into node arrays."""
        dump = booster.dump_model(num_iteration=-1)
        if dump.get("num_class", 1) != 1:
            raise UnsupportedModel("only single-output (binary or regression) boosters compile")
        if any(t.get("num_cat", 0) for t in dump["tree_info"]):
            raise UnsupportedModel("categorical splits are not compiled; one-hot encode instead")
        cols: dict[str, list[Any]] = {k: [] for k in ("feature", "threshold", "left", "right", "value")}
        roots: list[int] = []
        depth = 0
        for tree in dump["tree_info"]:
            roots.append(len(cols["value"]))
            depth = max(depth, _flatten(tree["tree_structure"], cols, 0))
        return cls(
            feature=np.asarray(cols["feature"], dtype=np.intp),
            threshold=np.asarray(cols["threshold"], dtype=np.float64),
            left=np.asarray(cols["left"], dtype=np.intp), right=np.asarray(cols["right"], dtype=np.intp),
            value=np.asarray(cols["value"], dtype=np.float64), roots=np.asarray(roots, dtype=np.intp),
            depth=depth, n_features=int(dump["max_feature_idx"]) + 1)

    @property
    def n_trees(self) -> int:
        return len(self.roots)

    def leaves(self, x: np.ndarray) -> np.ndarray:
        """The node index of the leaf each tree sends the float64 row ``x`` to."""
        nxt = np.where(x[self.feature] <= self.threshold, self.left, self.right)
        idx = self.roots
        for _ in range(self.depth):
            idx = nxt[idx]
        return idx

    def margin(self, x: np.ndarray) -> float:
        """The raw score (log-odds) of one float64 row; equals ``booster.predict(raw_score=True)``."""
        return float(self.value[self.leaves(x)].sum())

    def margin_and_contributions(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        """The raw score and each feature's Saabas contribution to it, for one float64 row."""
        nxt = np.where(x[self.feature] <= self.threshold, self.left, self.right)
        path = [self.roots]
        for _ in range(self.depth):
            path.append(nxt[path[-1]])
        nodes = np.concatenate(path[:-1])
        delta = self.value[nxt[nodes]] - self.value[nodes]  # zero once a tree sits on its leaf
        contributions = np.bincount(self.feature[nodes], weights=delta, minlength=self.n_features)
        return float(self.value[path[-1]].sum()), contributions

    def expected_margin(self) -> float:
        """The margin before any split is looked at: the sum of the roots' expected values."""
        return float(self.value[self.roots].sum())

    def margins(self, X: np.ndarray) -> np.ndarray:
        """Raw scores of many rows (a loop over ``margin``; for tests and batch checks)."""
        X64 = np.asarray(X, dtype=np.float32).astype(np.float64)
        return np.array([self.margin(row) for row in X64])


def _flatten(node: dict[str, Any], cols: dict[str, list[Any]], level: int) -> int:
    """Append ``node``'s subtree in preorder; return its depth below ``level``."""
    me = len(cols["value"])
    for key in cols:
        cols[key].append(None)
    if "leaf_value" in node:
        cols["feature"][me], cols["threshold"][me] = 0, np.inf
        cols["left"][me] = cols["right"][me] = me
        cols["value"][me] = node["leaf_value"]
        return level
    if node.get("decision_type") != "<=":
        raise UnsupportedModel(f"split {node.get('decision_type')!r} is not compiled")
    if node.get("missing_type", "None") == "Zero":
        raise UnsupportedModel("zero-as-missing splits are not compiled")
    cols["feature"][me] = node["split_feature"]
    cols["threshold"][me] = node["threshold"]
    cols["value"][me] = node["internal_value"]
    cols["left"][me] = len(cols["value"])
    left_depth = _flatten(node["left_child"], cols, level + 1)
    cols["right"][me] = len(cols["value"])
    right_depth = _flatten(node["right_child"], cols, level + 1)
    return max(left_depth, right_depth)
