"""Where labelled entries for training come from: the data they make, the sources' shapes, their errors.

Not an entry point: ``risk/cli.py`` takes these sources, and adapters (``adapters/db/training.py``)
implement them, without either importing the other.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple, Protocol

import numpy as np


class TrainingSourceError(Exception):
    """A source could not give labelled entries (say, the database cannot be reached)."""


class NotEnoughHistory(TrainingSourceError):
    """Too little labelled history to train on: the commands fall back to the simulated history."""

    def __init__(self, message: str, *, entries: int = 0, losses: int = 0) -> None:
        super().__init__(message)
        self.entries = entries
        self.losses = losses


class TrainingData(NamedTuple):
    """Labelled entries: feature rows, 1 = ended in a loss, the uncollected amount of each.

    ``groups`` (the instrument of each row) keeps one card's entries on one side of every split;
    ``trip_values`` (each basket) prices the good shoppers a threshold would turn away;
    ``provenance`` (plain JSON data: where the rows came from) goes into the model's metadata.
    """

    X: np.ndarray
    y: np.ndarray
    losses: np.ndarray
    groups: np.ndarray | None = None
    trip_values: np.ndarray | None = None
    provenance: dict[str, Any] | None = None


class TrainingSource(Protocol):
    """Labelled entries from a fixed place (embedding, tests)."""

    def __call__(self) -> TrainingData: ...


class DatabaseSource(Protocol):
    """Labelled entries recorded in the platform database at ``database_url`` (None: the configured one).

    ``since`` keeps the entries from then on (their features still count everything before);
    ``progress`` is called with (decisions replayed, decisions in all). Raises ``NotEnoughHistory``
    or ``TrainingSourceError``.
    """

    def __call__(self, database_url: str | None, *, since: datetime | None = None,
                 progress: Callable[[int, int], None] | None = None) -> TrainingData: ...
