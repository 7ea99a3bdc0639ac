"""Fixtures for the processor tests: a fake Stripe on loopback, and a Stripe processor aimed at it."""
from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from entrygate.adapters.processors.stripe import StripeProcessor
from support import fake_stripe


@pytest.fixture
def stripe_api() -> Iterator[fake_stripe.FakeStripe]:
    fake, server = fake_stripe.start()
    yield fake
    fake_stripe.stop(server)


@pytest.fixture
def make_stripe(stripe_api: fake_stripe.FakeStripe) -> Callable[..., StripeProcessor]:
    def make(*, timeout_s: float = 2.0, api_key: str = fake_stripe.API_KEY) -> StripeProcessor:
        return StripeProcessor(api_key=api_key, api_base=stripe_api.url, timeout_s=timeout_s)
    return make
