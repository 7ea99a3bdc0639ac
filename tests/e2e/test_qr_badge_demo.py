"""``entrygate demo`` runs QR and badge lanes against the reference retailer it starts in-process."""
from __future__ import annotations

import os
import random
import subprocess
import sys

from entrygate.domain import qr
from entrygate.simulation.population import AppUser, BadgeLane, DemoBadge, QrLane


def test_the_demo_admits_and_refuses_qr_codes_and_badges(tmp_path):
    env = dict(os.environ, COLUMNS="200")
    env.pop("ENTRYGATE_SECRET_KEY", None)
    out = subprocess.run([sys.executable, "-m", "entrygate.cli.main", "demo", "--port", "0", "--data-dir",
                          str(tmp_path), "--rate", "100", "--count", "90", "--seed", "3"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.splitlines()
    assert any("reference retailer" in line for line in lines)
    decided = [line.split()[:3] for line in lines if line.startswith(("OPEN", "DENY"))]
    assert len(decided) == 90
    assert ["OPEN", "demo-downtown", "QR_CODE"] in decided and ["OPEN", "demo-downtown", "BADGE"] in decided
    stores = {store for _, store, _ in decided}
    assert stores == {"demo-downtown", "demo-airport", "demo-campus", "demo-kiosk"}, "a store of every kind"
    assert any("IDENTITY_REJECTED" in line for line in lines)
    assert (tmp_path / "retailer.db").exists()


def test_the_qr_lane_never_shows_a_fresh_code_twice_and_says_what_each_scan_is():
    now = [1_800_000_000.0]
    users = [AppUser(f"app-{i}", f"tok{i}") for i in range(3)]
    lane = QrLane(random.Random(1), qr_key=b"k", shoppers=users, associates=[AppUser("a", "toka", associate=True)],
                  clock=lambda: now[0])
    seen: dict[str, str] = {}
    labels = set()
    for _ in range(200):
        shopper = lane.next()
        code = shopper.credential["scanValue"]
        if shopper.label in ("registered shopper (app)", "associate (app)"):
            assert code not in seen, "a fresh code was shown twice"
            assert qr.verify(b"k", code, now=now[0])
        seen.setdefault(code, shopper.label)
        labels.add(shopper.label)
        if shopper.label == "replayed screenshot":
            assert code in seen  # a replay shows a code that was shown before
        now[0] += 1.0
    assert {"registered shopper (app)", "replayed screenshot", "expired code"} <= labels


def test_the_badge_lane_mixes_known_badges_and_misreads():
    badges = [DemoBadge("H10301", 12, 345), DemoBadge("C1K35", 4000, 1000000, associate=True),
              DemoBadge("CSN", csn="04A1B2C3D4E5F6")]
    lane = BadgeLane(random.Random(2), badges=badges)
    labels = {lane.next().label for _ in range(300)}
    assert {"unknown badge", "badge misread (parity)", "34-bit badge (not accepted)", "registered badge (CSN)",
            "associate badge (C1K35)"} <= labels
