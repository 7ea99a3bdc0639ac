"""The docs' console screenshots come from ``make screenshots`` (bench/screenshots.py), never from a test run.

The test drives that command into a scratch directory: the demo's world, every page the docs show,
a PNG of each, and not one byte written under docs/img.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from consolekit import DOCS_IMG

pytestmark = pytest.mark.browser

COMMAND = Path(__file__).resolve().parents[2] / "bench" / "screenshots.py"
PAGES = ("sign-in", "stores", "store", "setup", "setup-qr", "live", "trip", "balances", "dashboard")


def _docs_images() -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_mtime_ns, p.stat().st_size) for p in DOCS_IMG.glob("*.png")}


def test_the_screenshots_command_shoots_every_page_into_the_directory_given(tmp_path):
    if not (os.environ.get("ENTRYGATE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")):
        pytest.skip("no Chromium installed (apt-get install chromium)")
    before = _docs_images()
    out = tmp_path / "img"
    run = subprocess.run([sys.executable, str(COMMAND), "--out", str(out), "--entries", "120"],
                         capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert sorted(p.name for p in out.iterdir()) == sorted(f"console-{name}.png" for name in PAGES)
    for name in PAGES:
        with Image.open(out / f"console-{name}.png") as image:
            assert image.format == "PNG"
            assert image.width == 1280 and image.height >= 900  # the viewport; full-page shots are taller
    assert _docs_images() == before
