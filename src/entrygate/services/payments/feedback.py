"""Feedback from the retailer (DESIGN 4.2): how a trip's payment ended, and risk labels.

Payment reports drive the outstanding balance of a payment instrument: the sum over its trips of
``total - settled`` as last reported. A later report for a trip replaces the earlier one, so a
debt paid off later restores access. "Later" is by ``paymentStatusTime``: a report that arrives
late but describes an older state is acknowledged and does not undo a newer one.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import structlog

from entrygate.domain.channels import ShopperRisk
from entrygate.services.auth import Principal
from entrygate.services.errors import InvalidRequest
from entrygate.services.events.recorder import EventRecorder, no_events
from entrygate.services.ports.clock import Clock
from entrygate.services.ports.storage import UnitOfWorkFactory
from entrygate.services.risk_ops.lists import feedback_block

log = structlog.get_logger("entrygate.feedback")

# A report "from the future" would outrank every later one, the platform's own captures included
# (they are stamped with the platform's clock), and freeze the trip's balance until that time. The
# five minutes match the clock skew the connector signatures allow (DESIGN 5).
MAX_CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class PaymentReport:
    store_id: str
    trip_id: str
    total: Decimal
    total_currency: str
    settled: Decimal
    settled_currency: str
    status_time: datetime


@dataclass(frozen=True, slots=True)
class FeedbackOutcome:
    """The seed system's answer: ``Accepted``, or ``Rejected`` with what contradicts what (``reason``)."""

    status: str
    reason: str | None = None


ACCEPTED = FeedbackOutcome("Accepted")


class FeedbackService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, *, events: EventRecorder | None = None) -> None:
        self._uow = uow
        self._clock = clock
        self._events = events or no_events()

    def _trip_of(self, uow, principal: Principal, store_id: str, trip_id: str):  # noqa: ANN001, ANN202
        store = uow.stores.get(store_id)
        if store is None or not principal.may_manage(store.retailer_id):
            raise InvalidRequest(f"storeId: unknown store {store_id}", fields=["storeId"])
        trip = uow.trips.get(trip_id)
        if trip is None or trip.store_id != store_id:
            raise InvalidRequest(f"shoppingTripId: unknown trip {trip_id} at store {store_id}",
                                 fields=["shoppingTripId"])
        return trip

    def report_payment(self, principal: Principal, report: PaymentReport) -> FeedbackOutcome:
        """``Accepted`` when recorded, ``Rejected`` when well formed but contradictory."""
        with self._uow(write=True) as uow:
            trip = self._trip_of(uow, principal, report.store_id, report.trip_id)
            if report.total_currency != report.settled_currency:
                return _rejected(report, f"settledAmount.code {report.settled_currency} differs from "
                                         f"totalAmount.code {report.total_currency}")
            if report.total_currency != trip.currency:
                return _rejected(report, f"totalAmount.code {report.total_currency} is not the trip's currency, "
                                         f"{trip.currency}")
            if report.settled > report.total:
                return _rejected(report, "settledAmount.amount is more than totalAmount.amount")
            if trip.payment_status_time is not None and report.status_time < trip.payment_status_time:
                log.info("payment_report_stale", trip_id=trip.trip_id)
                return ACCEPTED
            now = self._clock.now()
            if report.status_time > now + MAX_CLOCK_SKEW:
                raise InvalidRequest("paymentStatusTime: is more than 5 minutes ahead of the platform's clock",
                                     fields=["paymentStatusTime"])
            if not uow.trips.report_payment(trip.trip_id, total=report.total, settled=report.settled,
                                            status_time=report.status_time, at=now):
                log.info("payment_report_stale", trip_id=trip.trip_id)  # a newer report was stored meanwhile
                return ACCEPTED
            uow.commit()
        log.info("payment_reported", store_id=report.store_id, trip_id=report.trip_id,
                 outstanding=str(report.total - report.settled))
        return ACCEPTED

    def label(self, principal: Principal, *, store_id: str, trip_id: str, risk: ShopperRisk,
              note: str | None) -> FeedbackOutcome:
        """Label the trip's payment instrument; ``CustomerFraud`` blocks it from then on."""
        with self._uow(write=True) as uow:
            trip = self._trip_of(uow, principal, store_id, trip_id)
            if trip.instrument_id is None:
                log.info("risk_label_without_instrument", trip_id=trip_id)
                return FeedbackOutcome("Rejected", "the trip has no payment instrument to label (a QR or badge "
                                                   "entry)")
            now = self._clock.now()
            uow.labels.add(instrument_id=trip.instrument_id, store_id=store_id, trip_id=trip_id, risk=risk.value,
                           note=note, at=now)
            if risk is ShopperRisk.CustomerFraud:
                # DESIGN 14: the block is the retailer's FEEDBACK item in its block list, platform-wide while it stands.
                store = uow.stores.get(store_id)
                assert store is not None  # _trip_of found it
                feedback_block(uow, retailer_id=store.retailer_id, instrument_id=trip.instrument_id, note=note, at=now)
                self._events.instrument_blocked(uow, instrument_id=trip.instrument_id, reason="customer_fraud",
                                                store_id=store_id, trip_id=trip_id)
            uow.commit()
        log.info("risk_labelled", store_id=store_id, trip_id=trip_id, risk=risk.value)
        return ACCEPTED


def _rejected(report: PaymentReport, why: str) -> FeedbackOutcome:
    log.info("payment_report_rejected", store_id=report.store_id, trip_id=report.trip_id, why=why)
    return FeedbackOutcome("Rejected", why)
