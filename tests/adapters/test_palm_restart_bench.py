"""The restart benchmark runs (small sizes, docs left alone): a file restored after changes agrees
with an index rebuilt from the database."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_restart_benchmark_runs():
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "palm_restart.py"), "--sizes", "3000", "--changes", "200",
                          "--probes", "50", "--no-doc"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "| 3,000 |" in out.stdout and "palm_index_restored" in out.stdout + out.stderr
