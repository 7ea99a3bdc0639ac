"""Labelled entries from the platform's own record of decisions and feedback (DESIGN 7).

``read_training_data(url)`` is the database source of ``entrygate risk train`` and ``entrygate risk
evaluate``. It replays every recorded card or palm decision that reached a payment instrument,
instrument by instrument in time order, and rebuilds the instrument's ``InstrumentHistory`` as it
stood just before that decision, by the definitions of ``history.py`` (the gate's own reader). A
row's features are therefore the ones the gate could compute at that moment, never a later payment
report or label:

- entries, declines (reasons ``PREAUTH_DECLINED``, ``CARD_EXPIRED``, ``INSTRUMENT_BLOCKED``,
  ``INVALID_CREDENTIAL``), the one-hour and one-day windows and the stores of the last day: the
  instrument's earlier decisions, except those the store's policy refused (``policy_denied``);
- trips: its earlier entries that opened one; unpaid trips and the outstanding balance: its earlier
  trips whose payment report (total > settled) had reached the platform by then. That moment is
  ``payment_reported_at``, when the platform wrote the report and the gate could first read it
  (``payment_status_time``, the retailer's own time, only for rows without it: a retailer may
  report a status time hours before it sends the report);
- labels: from their ``created_at`` on; days since first seen: ``payment_instruments.first_seen_at``.

Approximations: the credential features (brand, funding, issuer country, expiry) come from the
instrument's row, which holds the card as last presented; and a trip keeps only its last payment
report, so a balance that was owed for a while and paid later does not show in the entries of that
while. The store's country and time zone come from its current configuration.

Labels, outcomes and exclusions are documented in ``docs/risk-model.md`` ("Training from your own
history") and in ``outcome_of``. Decisions are streamed in chunks (a server-side cursor on
PostgreSQL), ordered by instrument so that only one instrument's history is held at a time; stores
and labels (a label is one retailer report, orders of magnitude rarer than decisions) are read
whole. Everything is read in one transaction, so the rows describe one consistent snapshot.
"""
from __future__ import annotations

import heapq
from array import array
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import groupby
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Connection, func, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from entrygate.adapters.db import tables as t
from entrygate.adapters.db.engine import make_engine
from entrygate.adapters.db.history import DECLINE_CODES
from entrygate.domain.cards import CardCredential
from entrygate.domain.channels import Channel, ShopperRisk
from entrygate.risk.features import FEATURE_NAMES, InstrumentHistory, RiskFeatures, to_vector
from entrygate.risk.sources import NotEnoughHistory, TrainingData, TrainingSourceError

# Why 200 and 20: below that the four-way split leaves the calibration part a handful of losses,
# and thresholds chosen on a handful mean nothing; the simulated history is the better start.
MIN_ENTRIES = 200
MIN_LOSSES = 20
# Why 14 days: a stolen card's burst lasts hours to a day or two, and the retailer learns of the
# fraud from the cardholder's dispute within days; a longer window would start to mark the honest
# trips of the card's owner, made before the theft, as fraud.
FRAUD_WINDOW = timedelta(days=14)
CHUNK_ROWS = 5_000

CARD_CHANNELS = (Channel.CREDIT_CARD.value, Channel.PALM.value)
_DECLINES = frozenset(DECLINE_CODES)
_HOUR, _DAY = timedelta(hours=1), timedelta(days=1)
_FRAUD, _BAD_DEBT, _INVALID = ShopperRisk.CustomerFraud.value, ShopperRisk.BadDebt.value, ShopperRisk.InvalidCard.value

ProgressCallback = Callable[[int, int], None]  # (decisions replayed, decisions in all)


@dataclass(frozen=True, slots=True)
class Outcome:
    """How an admitted entry ended, by the retailer's feedback."""

    loss: bool
    uncollected: float  # what the entry cost: the unpaid amount, or the whole trip for fraud
    trip_value: float  # the reported trip total
    why: tuple[str, ...]  # "unpaid", "bad_debt_label", "fraud_label", "fraud_label_on_instrument"


@dataclass(frozen=True, slots=True)
class ReplayedEntry:
    """One recorded card or palm decision, with what the gate could know at that moment."""

    decision_id: int
    instrument_id: str
    trip_id: str | None
    decided_at: datetime
    history: InstrumentHistory
    features: RiskFeatures | None  # None only when the instrument has no row to read the card from
    outcome: Outcome | None  # None: denied (no trip), or a trip never reported (outcome unknown)
    store_id: str = ""  # the store the entry was presented at


@dataclass(frozen=True, slots=True)
class _Label:
    created_at: datetime
    risk: str
    trip_id: str


@dataclass(frozen=True, slots=True)
class _Store:
    country: str | None
    zone: ZoneInfo | None


_NO_STORE = _Store(None, None)  # a store since deleted: no country, UTC hours


def read_training_data(database_url: str, *, since: datetime | None = None,
                       progress: ProgressCallback | None = None,
                       min_entries: int = MIN_ENTRIES, min_losses: int = MIN_LOSSES,
                       fraud_window: timedelta = FRAUD_WINDOW, chunk_rows: int = CHUNK_ROWS) -> TrainingData:
    """The labelled entries of the database at ``database_url`` (entries from ``since`` on, if given).

    Raises ``NotEnoughHistory`` when there are fewer than ``min_entries`` labelled entries, or fewer
    than ``min_losses`` that ended in a loss (or did not); ``TrainingSourceError`` when the database
    cannot be read.
    """
    where = describe(database_url)
    _require_file(database_url, where)
    since = since.replace(tzinfo=UTC) if since is not None and since.tzinfo is None else since
    rows = _Rows()
    try:
        engine = make_engine(database_url, pool_size=1)
    except ArgumentError as exc:
        raise TrainingSourceError(f"not a database URL: {where}") from exc
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":  # one snapshot across the count, the labels and the stream
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                if not inspect(conn).has_table(t.decisions.name):
                    raise NotEnoughHistory(f"{where} has no entrygate tables yet (entrygate db upgrade creates them)")
                for entry in replay_entries(conn, fraud_window=fraud_window, chunk_rows=chunk_rows,
                                            progress=progress):
                    rows.add(entry, since=since)
    except SQLAlchemyError as exc:
        raise TrainingSourceError(f"cannot read {where}: {_first_line(exc)}") from exc
    finally:
        engine.dispose()
    n, losses = rows.count, rows.losses
    if n < min_entries or losses < min_losses or n - losses < min_losses:
        raise NotEnoughHistory(
            f"{where} holds {n:,} labelled entries, {losses:,} of them ended in a loss; training needs at "
            f"least {min_entries:,}, with at least {min_losses:,} losses and {min_losses:,} good entries",
            entries=n, losses=losses)
    return rows.data(provenance={
        "source": "database", "database": where, "decisions": rows.replayed, "admitted": rows.admitted,
        "unreported": rows.unreported, "rows": n, "losses": losses,
        "first_entry": rows.first.isoformat() if rows.first else None,
        "last_entry": rows.last.isoformat() if rows.last else None,
        "since": since.isoformat() if since else None, "fraud_window_days": fraud_window / _DAY})


def replay_entries(conn: Connection, *, fraud_window: timedelta = FRAUD_WINDOW, chunk_rows: int = CHUNK_ROWS,
                   progress: ProgressCallback | None = None) -> Iterator[ReplayedEntry]:
    """Every card or palm decision that reached an instrument, instrument by instrument, in time order."""
    d, tr, pi = t.decisions.c, t.shopping_trips.c, t.payment_instruments.c
    mine = (d.instrument_id.is_not(None), d.channel.in_(CARD_CHANNELS))
    # A tap the store's policy refused is no entry of the instrument's history (``history.py``): left out here too.
    mine = (*mine, d.policy_denied.is_(False))
    total = conn.execute(select(func.count()).select_from(t.decisions).where(*mine)).scalar_one()
    stores, labels = _stores(conn), _labels(conn)
    stmt = (select(d.decision_id, d.decided_at, d.store_id, d.instrument_id, d.channel, d.party_size, d.reasons,
                   tr.trip_id, tr.total_amount, tr.settled_amount, tr.payment_status_time, tr.payment_reported_at,
                   pi.brand, pi.last4, pi.exp_month, pi.exp_year, pi.funding, pi.issuer_country, pi.first_seen_at)
            .select_from(t.decisions.outerjoin(t.shopping_trips, tr.trip_id == d.trip_id)
                         .outerjoin(t.payment_instruments, pi.instrument_id == d.instrument_id))
            .where(*mine)
            # Grouped by instrument (only one instrument's state in memory; the instrument-time index
            # serves it), in time order within each: any collation keeps equal ids together.
            .order_by(d.instrument_id, d.decided_at, d.decision_id)
            .execution_options(yield_per=chunk_rows))
    result = conn.execute(stmt)
    for instrument_id, group in groupby(_chunks(result, total, progress), key=lambda r: r.instrument_id):
        yield from _replay_instrument(instrument_id, group, labels.get(instrument_id, ()), stores, fraud_window)


def outcome_of(*, decided_at: datetime, total: Decimal | None, settled: Decimal | None,
               reported: bool, trip_risks: Iterable[str], fraud_times: Iterable[datetime],
               fraud_window: timedelta = FRAUD_WINDOW) -> Outcome | None:
    """How an admitted entry at ``decided_at`` ended; None while its trip is unreported (unknown).

    A loss when the trip's payment report says total > settled (uncollected: the difference), when
    the trip was labelled ``BadDebt`` (the unpaid amount, 0 if the report says it was paid), or when
    the trip was labelled ``CustomerFraud``, or the instrument was within ``fraud_window`` after the
    entry (``fraud_times``; uncollected: the trip total, which a chargeback takes back). ``BadDebt``
    counts on its own trip only: each other trip's payment report already says whether it was paid.
    """
    if not reported or total is None or settled is None:
        return None
    total, settled = Decimal(total), Decimal(settled)
    unpaid = max(total - settled, Decimal(0))
    risks = set(trip_risks)
    why = []
    if unpaid > 0:
        why.append("unpaid")
    if _BAD_DEBT in risks:
        why.append("bad_debt_label")
    fraud = _FRAUD in risks or any(decided_at <= at <= decided_at + fraud_window for at in fraud_times)
    if _FRAUD in risks:
        why.append("fraud_label")
    elif fraud:
        why.append("fraud_label_on_instrument")
    return Outcome(bool(why), float(total if fraud else unpaid), float(total), tuple(why))


def describe(database_url: str) -> str:
    """The URL without its password, fit for messages and model metadata."""
    try:
        return make_url(database_url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


# --- the replay ------------------------------------------------------------------------------

def _replay_instrument(instrument_id: str, rows: Iterable[Any], labels: tuple[_Label, ...],
                       stores: Mapping[str, _Store], fraud_window: timedelta) -> Iterator[ReplayedEntry]:
    entries = declines = trips = unpaid = 0
    balance = Decimal(0)
    hour: deque[datetime] = deque()  # earlier decisions of the last hour
    day: deque[tuple[datetime, str, bool]] = deque()  # ... of the last day: time, store, declined
    day_stores: Counter[str] = Counter()
    declines_day = 0
    owed: list[tuple[datetime, Decimal]] = []  # reported unpaid trips, by when the platform learnt of them
    known = Counter[str]()  # labels created so far
    next_label = 0
    fraud_times = [label.created_at for label in labels if label.risk == _FRAUD]
    trip_risks: dict[str, set[str]] = {}
    for label in labels:
        trip_risks.setdefault(label.trip_id, set()).add(label.risk)
    card: CardCredential | None = None
    for (decision_id, now, store_id, _, channel, party_size, reasons, trip_id, total, settled, status_time,
         reported_at, brand, last4, exp_month, exp_year, funding, issuer_country, seen) in rows:
        while owed and owed[0][0] <= now:
            unpaid, balance = unpaid + 1, balance + heapq.heappop(owed)[1]
        while next_label < len(labels) and labels[next_label].created_at <= now:
            known[labels[next_label].risk] += 1
            next_label += 1
        while hour and hour[0] <= now - _HOUR:
            hour.popleft()
        while day and day[0][0] <= now - _DAY:
            _, gone, was_declined = day.popleft()
            declines_day -= was_declined
            day_stores[gone] -= 1
            if not day_stores[gone]:
                del day_stores[gone]
        history = InstrumentHistory(
            entries_1h=len(hour), entries_24h=len(day), entries_total=entries,
            distinct_stores_24h=len(day_stores), declines_24h=declines_day, declines_total=declines,
            trips_total=trips, unpaid_trips=unpaid, outstanding_balance=float(balance),
            fraud_labels=known[_FRAUD], bad_debt_labels=known[_BAD_DEBT], invalid_card_labels=known[_INVALID],
            days_since_first_seen=max((now - seen).total_seconds() / 86400, 0.0) if seen else 0.0)
        features = None
        if brand is not None:  # the instrument's row: the card as last presented
            card = card or CardCredential(payment_token="", par=None, brand=brand, last4=last4, exp_month=exp_month,
                                          exp_year=exp_year, funding=funding, issuer_country=issuer_country)
            store = stores.get(store_id, _NO_STORE)
            features = RiskFeatures.from_parts(
                history, card=card, channel=Channel(channel), party_size=party_size,
                local_hour=now.astimezone(store.zone).hour if store.zone else now.hour,
                store_country=store.country, today=now.date())
        reported = status_time is not None
        outcome = None
        if trip_id is not None:
            outcome = outcome_of(decided_at=now, total=total, settled=settled, reported=reported,
                                 trip_risks=trip_risks.get(trip_id, ()), fraud_times=fraud_times,
                                 fraud_window=fraud_window)
        yield ReplayedEntry(decision_id, instrument_id, trip_id, now, history, features, outcome, store_id)

        declined = not _DECLINES.isdisjoint(reasons or ())
        entries, declines, declines_day = entries + 1, declines + declined, declines_day + declined
        hour.append(now)
        day.append((now, store_id, declined))
        day_stores[store_id] += 1
        if trip_id is not None:
            trips += 1
            if reported and total > settled:
                heapq.heappush(owed, (reported_at or status_time, Decimal(total) - Decimal(settled)))


def _chunks(result: Any, total: int, progress: ProgressCallback | None) -> Iterator[Any]:
    done = 0
    for part in result.partitions():
        yield from part
        done += len(part)
        if progress is not None:
            progress(done, total)


def _stores(conn: Connection) -> dict[str, _Store]:
    out = {}
    for store_id, config in conn.execute(select(t.stores.c.store_id, t.stores.c.config)):
        config = config or {}
        try:
            zone = ZoneInfo(config.get("timezone") or "UTC")
        except (KeyError, ValueError):  # the gate falls back to UTC too
            zone = None
        out[store_id] = _Store(config.get("country"), zone)
    return out


def _labels(conn: Connection) -> dict[str, tuple[_Label, ...]]:
    lb = t.instrument_labels.c
    grouped: dict[str, list[_Label]] = {}
    stmt = select(lb.instrument_id, lb.trip_id, lb.risk, lb.created_at).order_by(lb.created_at, lb.label_id)
    for row in conn.execute(stmt):
        grouped.setdefault(row.instrument_id, []).append(_Label(row.created_at, row.risk, row.trip_id))
    return {k: tuple(v) for k, v in grouped.items()}


class _Rows:
    """The labelled rows in typed arrays (no object per row: ~150 bytes each), and what was left out."""

    _BLOCK = 8_192

    def __init__(self) -> None:
        self.blocks: list[np.ndarray] = []
        self.block = np.empty((self._BLOCK, len(FEATURE_NAMES)), dtype=np.float32)
        self.filled = 0
        self.y, self.groups, self.ids = array("b"), array("l"), array("q")
        self.uncollected, self.values, self.times = array("d"), array("d"), array("d")
        self.replayed = self.admitted = self.unreported = self.losses = 0
        self.first: datetime | None = None
        self.last: datetime | None = None
        self._instrument: str | None = None
        self._group = -1

    @property
    def count(self) -> int:
        return len(self.y)

    def add(self, entry: ReplayedEntry, *, since: datetime | None) -> None:
        self.replayed += 1
        if entry.trip_id is None or (since is not None and entry.decided_at < since):
            return
        self.admitted += 1
        if entry.outcome is None:
            self.unreported += 1
            return
        if entry.features is None:
            return
        if entry.instrument_id != self._instrument:
            self._instrument, self._group = entry.instrument_id, self._group + 1
        self.block[self.filled] = to_vector(entry.features)
        self.filled += 1
        if self.filled == self._BLOCK:
            self.blocks.append(self.block)
            self.block, self.filled = np.empty_like(self.block), 0
        outcome = entry.outcome
        self.y.append(int(outcome.loss))
        self.losses += outcome.loss
        self.uncollected.append(outcome.uncollected if outcome.loss else 0.0)
        self.values.append(outcome.trip_value)
        self.groups.append(self._group)
        self.times.append(entry.decided_at.timestamp())
        self.ids.append(entry.decision_id)
        self.first = min(self.first or entry.decided_at, entry.decided_at)
        self.last = max(self.last or entry.decided_at, entry.decided_at)

    def data(self, *, provenance: dict[str, Any]) -> TrainingData:
        """The rows in time order (ties by decision id), with one group number per instrument."""
        X = np.concatenate([*self.blocks, self.block[: self.filled]])
        self.blocks = []
        order = np.lexsort((np.frombuffer(self.ids, dtype=np.int64), np.frombuffer(self.times)))
        return TrainingData(X=X[order], y=np.frombuffer(self.y, dtype=np.int8)[order],
                            losses=np.frombuffer(self.uncollected)[order],
                            groups=np.asarray(self.groups, dtype=np.int32)[order],
                            trip_values=np.frombuffer(self.values)[order], provenance=provenance)


def _require_file(database_url: str, where: str) -> None:
    """A SQLite file that does not exist holds no history (and must not be created by reading it)."""
    try:
        url = make_url(database_url)
    except ArgumentError as exc:
        raise TrainingSourceError(f"not a database URL: {where}") from exc
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        if not Path(url.database).exists():
            raise NotEnoughHistory(f"there is no database at {url.database} yet: nothing has been recorded")


def _first_line(exc: SQLAlchemyError) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    return f"{type(orig).__name__}: {text[0] if text else ''}"
