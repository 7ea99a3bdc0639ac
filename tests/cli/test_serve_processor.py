"""`entrygate serve` refuses to start with a processor plugin that is missing or broken (DESIGN 10)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def _serve(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    environ = {**os.environ, "ENTRYGATE_DATABASE_URL": f"sqlite:///{tmp_path / 'eg.db'}",
               "ENTRYGATE_SECRET_KEY": "a-real-secret-for-this-test-0123456789abcdef", **env}
    return subprocess.run([sys.executable, "-m", "entrygate.cli.main", "serve", "--port", "0"], env=environ,
                          capture_output=True, text=True, timeout=60)


def test_a_missing_processor_plugin_stops_serve_naming_it(tmp_path: Path) -> None:
    done = _serve(tmp_path, ENTRYGATE_PROCESSOR="no-such-processor")
    assert done.returncode == 2
    assert "'no-such-processor' is not installed" in done.stderr
    assert "sandbox" in done.stderr and "stripe" in done.stderr  # the ones that are
    assert not (tmp_path / "eg.db").exists()  # stopped before touching the database


def test_a_broken_processor_plugin_stops_serve_naming_it(tmp_path: Path) -> None:
    done = _serve(tmp_path, ENTRYGATE_PROCESSOR="stripe")  # no ENTRYGATE_STRIPE_API_KEY
    assert done.returncode == 2
    assert "processor plugin 'stripe' failed to start" in done.stderr
