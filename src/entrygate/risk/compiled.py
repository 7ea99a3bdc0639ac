"""The booster's trees as flat numpy arrays, traversed for one row in a few vector operations.

Why: ``Booster.predict`` on a single row pays for argument checking, a C call and thread setup,
tens to hundreds of microseconds, which does not fit the 0.3 ms p99 budget for scoring at the
gate (DESIGN 9) alongside everything else a decision does. The trees are small, so all the
nodes of all the trees fit in a few arrays:

1. ``route = where(x[feature] <= threshold, left, right)`` over every internal node at once:
   where each node would send this row; the leaves are appended pointing to themselves.
2. Starting from every tree's root, ``idx = route[idx]`` as many times as the deepest tree is
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
    """All trees of a booster as node arrays; see the module docstring for the walk.

    Nodes are numbered internal nodes first (``0 .. n_internal - 1``), then leaves, so the
    per-row comparison runs over the internal nodes only and leaves are appended as themselves.
    """

    feature: np.ndarray  # (internal,) intp: split feature
    threshold: np.ndarray  # (internal,) float64: go left when x[feature] <= threshold
    left: np.ndarray  # (internal,) intp: left child (internal or leaf node number)
    right: np.ndarray  # (internal,) intp: right child
    value: np.ndarray  # (nodes,) float64: the internal node's expected value, or the leaf value
    node_feature: np.ndarray  # (nodes,) intp: the split feature; 0 for leaves (their credit is 0)
    leaf_ids: np.ndarray  # (leaves,) intp: the leaves' own node numbers
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
        # Renumber: internal nodes first, in preorder, then the leaves.
        is_leaf = np.array([f is None for f in cols["feature"]], dtype=bool)
        order = np.r_[np.flatnonzero(~is_leaf), np.flatnonzero(is_leaf)]
        number = np.empty(len(order), dtype=np.intp)
        number[order] = np.arange(len(order))
        internal = np.flatnonzero(~is_leaf)
        feature = np.array([cols["feature"][i] for i in internal], dtype=np.intp)
        node_feature = np.zeros(len(order), dtype=np.intp)
        node_feature[: len(internal)] = feature
        return cls(
            feature=feature,
            threshold=np.array([cols["threshold"][i] for i in internal], dtype=np.float64),
            left=number[np.array([cols["left"][i] for i in internal], dtype=np.intp)],
            right=number[np.array([cols["right"][i] for i in internal], dtype=np.intp)],
            value=np.asarray(cols["value"], dtype=np.float64)[order], node_feature=node_feature,
            leaf_ids=np.arange(len(internal), len(order), dtype=np.intp),
            roots=number[np.asarray(roots, dtype=np.intp)], depth=depth,
            n_features=int(dump["max_feature_idx"]) + 1)

    @property
    def n_trees(self) -> int:
        """How many trees were compiled."""
        return len(self.roots)

    @property
    def n_nodes(self) -> int:
        """Internal nodes and leaves of all trees."""
        return len(self.value)

    def route(self, x: np.ndarray) -> np.ndarray:
        """Where every node sends the float64 row ``x``: its child, or itself for a leaf."""
        return np.concatenate((np.where(x[self.feature] <= self.threshold, self.left, self.right), self.leaf_ids))

    def walk(self, route: np.ndarray) -> list[np.ndarray]:
        """The node of each tree at every level, from the roots (first) to the leaves (last)."""
        path = [self.roots]
        for _ in range(self.depth):
            path.append(route[path[-1]])
        return path

    def leaves(self, route: np.ndarray) -> np.ndarray:
        """The leaf node of each tree, following ``route`` from the roots."""
        return self.walk(route)[-1]

    def margin(self, x: np.ndarray) -> float:
        """The raw score (log-odds) of one float64 row; equals ``booster.predict(raw_score=True)``."""
        return float(self.value[self.leaves(self.route(x))].sum())

    def contributions(self, path: list[np.ndarray], *, node_key: np.ndarray | None = None,
                      n_keys: int | None = None) -> np.ndarray:
        """Saabas contributions to the margin along a ``walk``.

        Each step from a node to its child credits the node's split feature with the change in
        expected value (zero once a tree sits on its leaf). Per feature by default; per
        ``node_key`` (one key per node, e.g. the risk group of its split feature) when given.
        """
        nodes = np.concatenate(path)
        values = self.value[nodes].reshape(len(path), -1)
        delta = (values[1:] - values[:-1]).ravel()
        parents = nodes[: -len(self.roots)]
        if node_key is None:
            return np.bincount(self.node_feature[parents], weights=delta, minlength=self.n_features)
        return np.bincount(node_key[parents], weights=delta, minlength=n_keys or 0)

    def margin_and_contributions(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        """The raw score and the per-feature contributions that add up to it (with the expected margin)."""
        path = self.walk(self.route(x))
        return float(self.value[path[-1]].sum()), self.contributions(path)

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
        cols["value"][me] = node["leaf_value"]  # feature None marks a leaf
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
