"""The retailer's side of the feedback API: reporting how trips' payments ended (DESIGN 4.2).

The demo's back office uses this for the trips it does not settle through their hold
(retailer/settlement.py): paid, unpaid (a debt that stops the shopper at stores under the
platform strategies), and later settled (access restored). A report that gets no answer is sent
again as it was: the same report twice records it once.
"""
from __future__ import annotations

import time
from decimal import Decimal

import httpx


class FeedbackError(Exception):
    """entrygate did not accept the report."""


ATTEMPTS = 3


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
        r = self._post("/v1/feedback/payment-status", body)
        if r.status_code != 200:
            raise FeedbackError(r.text[:300])
        return r.json()["status"]

    def _post(self, path: str, body: dict[str, object]) -> httpx.Response:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return self._client.post(path, json=body, headers=self._headers)
            except httpx.TransportError as exc:
                if attempt == ATTEMPTS:
                    raise FeedbackError(f"no answer from entrygate: {exc or type(exc).__name__}") from exc
        raise AssertionError("unreachable: the last attempt returns or raises")

    def close(self) -> None:
        self._client.close()
