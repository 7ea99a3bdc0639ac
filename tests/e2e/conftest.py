"""Fixtures shared by the end-to-end tests."""
from __future__ import annotations

import pytest

from retailer.harness import RunningRetailer, drop_retailer_database, fresh_retailer_database


@pytest.fixture(scope="module")
def shop(backend, tmp_path_factory):
    """The reference retailer on a fresh database of this backend; a module may override it."""
    url = fresh_retailer_database(backend, tmp_path_factory.mktemp("retailer"))
    running = RunningRetailer(url)
    yield running
    running.close()
    drop_retailer_database(url)
