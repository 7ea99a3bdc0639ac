"""The console screenshots in docs/img, taken from the demo's own data (``make screenshots``).

Starts ``entrygate demo`` on a free port in a scratch directory, waits until its simulated gates
have decided a few hundred entries (exits and payment reports included, debts left unpaid), then
drives headless Chromium through the console's main pages as the demo user and writes
``console-*.png``. The test suite never writes here, so a test run leaves the work tree clean.

    .venv/bin/python bench/screenshots.py [--out docs/img] [--entries 240]

Needs Chromium (Debian: ``apt-get install chromium``; ``ENTRYGATE_CHROMIUM`` overrides the path).
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

from entrygate.simulation.demo_setup import DEMO_EMAIL, DEMO_PASSWORD

ROOT = Path(__file__).resolve().parents[1]
STORE = "demo-downtown"  # the demo store that takes every entry method
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
START_TIMEOUT_S = 120.0
_SERVING = re.compile(r"serving on (http://\S+)")


@dataclass
class DemoProcess:
    """``entrygate demo`` in a child process; its stdout read on a thread, a line per decision."""

    process: subprocess.Popen[str]
    url: str | None = None
    decided: int = 0
    want: int = 0
    ready: threading.Event = field(default_factory=threading.Event)
    failed: list[str] = field(default_factory=list)

    def read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if self.url is None and (match := _SERVING.search(line)):
                self.url = match[1]
            elif line.startswith(("OPEN", "DENY")):
                self.decided += 1
            elif self.url is None:
                self.failed.append(line)
            if self.url is not None and self.decided >= self.want:
                self.ready.set()
        self.ready.set()  # the demo ended: whoever waits must not wait for lines that never come


@contextmanager
def running_demo(entries: int) -> Iterator[str]:
    """The console's base URL once the demo has decided ``entries`` entries; the demo stops after."""
    with tempfile.TemporaryDirectory(prefix="entrygate-screenshots-") as scratch:
        # A debt settles after a day, so the balances page and the OUTSTANDING_BALANCE denials have
        # something to show; 40 entries a second keeps the wait short without starving the server.
        command = [sys.executable, "-m", "entrygate.cli.main", "demo", "--port", "0", "--data-dir", scratch,
                   "--rate", "40", "--debt-seconds", "86400"]
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                                   cwd=ROOT)
        demo = DemoProcess(process, want=entries)
        reader = threading.Thread(target=demo.read, daemon=True)
        reader.start()
        try:
            if not demo.ready.wait(START_TIMEOUT_S) or demo.url is None or demo.decided < entries:
                raise SystemExit("entrygate demo did not get going:\n" + "".join(demo.failed[-30:]))
            yield demo.url
        finally:
            process.send_signal(signal.SIGINT)  # the demo stops its servers on Ctrl-C
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            reader.join(timeout=5)


def take(page: Page, out: Path) -> list[Path]:
    """Every console page the docs show, in the state the docs describe."""
    written: list[Path] = []

    def shot(name: str, *, full: bool = False) -> None:
        path = out / f"console-{name}.png"
        page.screenshot(path=str(path), full_page=full, animations="disabled")
        written.append(path)

    page.goto("/console/sign-in")
    shot("sign-in")
    page.get_by_label("Email").fill(DEMO_EMAIL)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/console/stores")
    shot("stores")

    page.goto(f"/console/stores/{STORE}")
    page.get_by_label("New gate id").fill("lane-3")
    page.get_by_role("button", name="Add gate").click()
    expect(page.locator("#gate-key")).to_be_visible()
    shot("store", full=True)

    page.goto(f"/console/stores/{STORE}/setup")
    shot("setup")
    page.get_by_label("Test a scanned value").fill("EG1.shopper-42.88123456.Xq3Lw9Vt2PZ0aYbCdEfGhI")
    expect(page.locator("#qr-result")).to_contain_text("Match.")
    page.locator("#f-qrPattern").evaluate("e => e.closest('fieldset').scrollIntoView()")
    shot("setup-qr")

    page.goto(f"/console/stores/{STORE}")
    page.get_by_label("Test card").select_option(label="Visa 9995 — insufficient funds")
    page.get_by_role("button", name="Run simulated entry").click()
    expect(page.locator(".simulated")).to_contain_text("DENY")
    shot("live")

    page.goto(f"/console/stores/{STORE}/trips?status=CLOSED")
    page.locator("table.data tbody tr", has_text="CREDIT_CARD").locator("a").first.click()  # a paid card trip
    page.wait_for_url(f"**/console/stores/{STORE}/trips/*")
    shot("trip")
    page.goto(f"/console/stores/{STORE}/balances")
    shot("balances")
    page.goto(f"/console/stores/{STORE}/dashboard?window=15")
    shot("dashboard", full=True)
    return written


def chromium() -> str:
    executable = os.environ.get("ENTRYGATE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        raise SystemExit("no Chromium installed (apt-get install chromium, or set ENTRYGATE_CHROMIUM)")
    return executable


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img", help="Where the PNGs go.")
    parser.add_argument("--entries", type=int, default=240, help="Entries the demo decides before the shots.")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with running_demo(args.entries) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=url, viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        try:
            written = take(context.new_page(), args.out)
        finally:
            browser.close()
    for path in written:
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


if __name__ == "__main__":
    main()
