"""What ``entrygate serve`` loads: the platform's app, with its model and a shadow, but no plotting library."""
from __future__ import annotations

import os
import subprocess
import sys

from support.server import TEST_SECRET

PROGRAM = """
import sys
from entrygate.adapters.db.engine import upgrade
upgrade(sys.argv[1])
import entrygate.cli.main, entrygate.cli.serving
from entrygate.asgi import create
app = create()
container = app.state.container
container.model_operations.start_shadow(sys.argv[2])
container.risk_model.refresh()
assert container.risk_model.shadow() is not None
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("matplotlib", "PIL"))
print("loaded:", heavy)
"""


def test_serve_loads_no_plotting_library(tmp_path):
    from support.risk_models import save_always_high

    candidate = save_always_high(tmp_path / "models")
    url = f"sqlite:///{tmp_path / 'eg.db'}"
    env = {**os.environ, "ENTRYGATE_DATABASE_URL": url, "ENTRYGATE_SECRET_KEY": TEST_SECRET,
           "ENTRYGATE_MODEL_DIR": str(tmp_path / "models"), "ENTRYGATE_LOG_LEVEL": "WARNING"}
    out = subprocess.run([sys.executable, "-c", PROGRAM, url, candidate], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "loaded: []"
