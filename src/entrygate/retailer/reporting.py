"""The retailer's side of the feedback API: reporting how trips' payments ended (DESIGN 4.2).

The reference retailer's back office uses this after each trip: paid, unpaid (a debt that stops
the shopper at stores under the platform strategies), and later settled (access restored).
"""
from __future__ import annotations

import time
from decimal import Decimal

import httpx


class FeedbackError(Exception):
    """entrygate did not accept the report."""


class PlatformFeedback:
    def __init__(self, base_url: str, api_key: str, *, client: httpx.Client | None = None) -> None:
        self._client = client or httpx.Client(base_url=base_url, timeout=10.0)
        self._headers = {"Authorization": f"Bearer {api_key}"}

    def report_payment(self, *, store_id: str, trip_id: str, total: Decimal, settled: Decimal, currency: str,
                       at: float | None = None) -> str:
        """``Accepted`` or ``Rejected``; raises FeedbackError on a 4xx."""
        body = {"storeId": store_id, "shoppingTripId": trip_id,
                "totalAmount": {"amount": float(total), "code": currency},
                "settledAmount": {"amount": float(settled), "code": currency},
                "paymentStatusTime": int((at if at is not None else time.time()) * 1000)}
        r = self._client.post("/v1/feedback/payment-status", json=body, headers=self._headers)
        if r.status_code != 200:
            raise FeedbackError(r.text[:300])
        return r.json()["status"]

    def close(self) -> None:
        self._client.close()
