"""Every sub-command is registered plainly: one that cannot be imported stops the command line."""
from __future__ import annotations

import subprocess
import sys

import pytest
from typer.main import get_command

from entrygate.cli.main import app


def test_every_feature_sub_command_is_registered():
    names = set(get_command(app).commands)
    assert {"serve", "db", "admin", "trips", "demo", "simulate", "risk", "retailer"} <= names


@pytest.mark.parametrize("module", ["entrygate.risk.cli", "entrygate.retailer.cli"])
def test_a_sub_command_that_cannot_be_imported_fails_loudly(module):
    # A None entry in sys.modules makes the import raise ImportError, as a broken module would.
    script = f"import sys; sys.modules[{module!r}] = None; import entrygate.cli.main"
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert run.returncode != 0
    assert f"import of {module} halted" in run.stderr
