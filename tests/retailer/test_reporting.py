"""A payment report that got no answer is sent again as it was; a refusal is raised."""
from __future__ import annotations

from decimal import Decimal

import pytest

from entrygate.retailer.reporting import ATTEMPTS, FeedbackError, PlatformFeedback
from retailer.fake_platform import FakePlatform


def test_a_report_without_an_answer_is_sent_again_unchanged():
    platform = FakePlatform()
    platform.open_trip("trip_1")
    platform.failures = [None]
    feedback = PlatformFeedback("http://platform.test", "k", client=platform.client())
    assert feedback.report_payment(store_id="s", trip_id="trip_1", total=Decimal("9.90"), settled=Decimal(0),
                                   currency="USD") == "Accepted"
    first, second = platform.requests
    assert first.content == second.content
    assert platform.reports == [{"storeId": "s", "shoppingTripId": "trip_1",
                                 "totalAmount": {"amount": 9.9, "code": "USD"},
                                 "settledAmount": {"amount": 0.0, "code": "USD"},
                                 "paymentStatusTime": platform.reports[0]["paymentStatusTime"]}]


def test_a_platform_that_never_answers_or_refuses_is_an_error():
    platform = FakePlatform()
    platform.open_trip("trip_1")
    platform.failures = [None] * ATTEMPTS
    feedback = PlatformFeedback("http://platform.test", "k", client=platform.client())
    with pytest.raises(FeedbackError):
        feedback.report_payment(store_id="s", trip_id="trip_1", total=Decimal(1), settled=Decimal(1), currency="USD")
    platform.failures = [400]
    with pytest.raises(FeedbackError):
        feedback.report_payment(store_id="s", trip_id="trip_1", total=Decimal(1), settled=Decimal(1), currency="USD")
