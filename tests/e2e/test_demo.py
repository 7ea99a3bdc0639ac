"""``entrygate demo`` tells the whole story: every store kind, debts stopped and forgiven once paid."""
from __future__ import annotations

import os
import subprocess
import sys


def test_the_demo_stops_debt_and_lets_the_shopper_in_once_paid(tmp_path):
    env = dict(os.environ, COLUMNS="200")
    env.pop("ENTRYGATE_SECRET_KEY", None)
    out = subprocess.run([sys.executable, "-m", "entrygate.cli.main", "demo", "--port", "0", "--data-dir",
                          str(tmp_path), "--rate", "100", "--count", "300", "--seed", "3", "--debt-seconds", "1"],
                         env=env, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.splitlines()
    assert any(line.startswith("DEBT") for line in lines), "the back office reported no unpaid trip"
    assert any(line.startswith("PAID") for line in lines), "no debt was settled"
    assert any("HIGH_RISK" in line for line in lines), "the model stopped nobody"
    assert any("http://127.0.0.1:" in line and "/console" in line for line in lines)
    kinds = {line.split()[-3] for line in lines if line.startswith(("OPEN", "DENY"))}
    assert {"PLATFORM", "RETAILER"} <= kinds
    assert any("50 palms enrolled" in line for line in lines)
    palm = [line for line in lines if line.startswith(("OPEN", "DENY")) and line.split()[2] == "PALM"]
    assert any(line.startswith("OPEN demo-downtown") for line in palm), "no enrolled palm entered"
    assert any("PALM_NO_MATCH" in line or "PALM_LIVENESS_FAILED" in line for line in palm), "no palm was refused"
