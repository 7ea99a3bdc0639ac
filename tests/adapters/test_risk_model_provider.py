"""The model loader (``adapters/risk_model.py``): it follows the recorded roles, loads off the caller's
path, and keeps serving when a version or the database fails."""
from __future__ import annotations

import shutil
import time

from entrygate.adapters.risk_model import ModelProvider
from entrygate.risk.model_store import ModelStore
from entrygate.risk.operations import ModelRoles
from support.risk_models import bundled_version, save_always_high


class Roles:
    """A settable record of the roles; ``fail`` stands for the database being away."""

    def __init__(self) -> None:
        self.now, self.fail = ModelRoles(), False

    def __call__(self) -> ModelRoles:
        if self.fail:
            raise ConnectionError("database away")
        return self.now


def test_it_serves_the_bundled_model_until_a_version_is_recorded_then_follows_the_record(tmp_path):
    candidate = save_always_high(tmp_path)
    roles = Roles()
    provider = ModelProvider(ModelStore(tmp_path), roles=roles, check_every_s=0)
    assert provider.version == bundled_version() and provider.shadow() is None
    roles.now = ModelRoles(shadow=candidate)
    provider.refresh()
    assert provider.version == bundled_version() and provider.shadow().version == candidate
    roles.now = ModelRoles(current=candidate)
    provider.refresh()
    assert provider.version == candidate and provider.shadow() is None


def test_a_broken_shadow_is_not_scored_and_a_broken_current_keeps_the_old_model(tmp_path):
    broken = "v20990101T000000Z-deadbeef"
    (tmp_path / f"risk-model-{broken}.joblib").write_bytes(b"not a model")
    roles = Roles()
    provider = ModelProvider(ModelStore(tmp_path), roles=roles, check_every_s=0)
    provider()
    roles.now = ModelRoles(shadow=broken)
    provider.refresh()
    assert provider.shadow() is None
    roles.now = ModelRoles(current=broken)
    provider.refresh()
    assert provider.version == bundled_version()
    roles.fail = True
    provider.refresh()
    assert provider.version == bundled_version()


def test_the_background_check_picks_a_promotion_up(tmp_path):
    candidate = save_always_high(tmp_path)
    roles = Roles()
    provider = ModelProvider(ModelStore(tmp_path), roles=roles, check_every_s=0.05)
    try:
        assert provider.version == bundled_version()
        roles.now = ModelRoles(current=candidate)
        deadline = time.monotonic() + 5
        while provider.version != candidate and time.monotonic() < deadline:
            time.sleep(0.02)
        assert provider.version == candidate
    finally:
        provider.close()


def test_a_process_starting_without_the_recorded_file_serves_the_default_until_it_appears(tmp_path):
    elsewhere, here = tmp_path / "elsewhere", tmp_path / "here"
    candidate = save_always_high(elsewhere)  # promoted on another host; not copied here yet
    roles = Roles()
    roles.now = ModelRoles(current=candidate)
    provider = ModelProvider(ModelStore(here), roles=roles, check_every_s=0)
    assert provider.version == bundled_version()
    shutil.copytree(elsewhere, here)
    provider.refresh()
    assert provider.version == candidate
