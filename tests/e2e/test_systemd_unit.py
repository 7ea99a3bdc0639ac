"""deploy/entrygate.service runs: its ExecStart, started as systemd would start it (its Environment=
lines, then the EnvironmentFile over them, ``${VAR}`` expanded, in its WorkingDirectory), serves."""
from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from entrygate.cli.serverthread import free_port
from support.server import TEST_SECRET, entrygate_exe

UNIT = Path(__file__).resolve().parents[2] / "deploy" / "entrygate.service"


def parse_unit(text: str) -> dict[str, dict[str, list[str]]]:
    """Sections of a unit file, each key with every value it is given (systemd allows repeats)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for line in re.sub(r"\\\n", " ", text).splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def assignments(values: list[str]) -> dict[str, str]:
    """``Environment=`` values (each may hold several quoted ``NAME=value`` words) or an EnvironmentFile's lines."""
    env: dict[str, str] = {}
    for value in values:
        for word in shlex.split(value, comments=True):
            name, _, setting = word.partition("=")
            env[name] = setting
    return env


def expand(command: str, env: dict[str, str]) -> list[str]:
    """ExecStart's words with ``${NAME}`` replaced within a word and ``$NAME`` standing alone (systemd's rules)."""
    words = []
    for word in shlex.split(command.lstrip("-@:+!")):
        if re.fullmatch(r"\$[A-Za-z_]\w*", word):
            words += env.get(word[1:], "").split()
        else:
            words.append(re.sub(r"\$\{([A-Za-z_]\w*)\}", lambda m: env.get(m.group(1), ""), word))
    return words


def test_the_unit_names_a_command_systemd_accepts():
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    r = subprocess.run(["systemd-analyze", "verify", str(UNIT)], capture_output=True, text=True, timeout=60)
    complaints = [x for x in (r.stdout + r.stderr).splitlines() if x.strip()]
    # The one thing this machine cannot have: the install under /opt the unit expects.
    assert all("/opt/entrygate/venv/bin/entrygate is not executable" in x for x in complaints), complaints


def test_the_units_exec_start_with_its_environment_serves(db_url, tmp_path):
    service = parse_unit(UNIT.read_text())["Service"]
    port = free_port()
    # What an operator writes in the EnvironmentFile; here the test's database and a free port.
    env_file = tmp_path / "entrygate.env"
    env_file.write_text(f"ENTRYGATE_SECRET_KEY={TEST_SECRET}\nENTRYGATE_DATABASE_URL={db_url}\n"
                        f"ENTRYGATE_PORT={port}\n")
    assert service["EnvironmentFile"] == ["/etc/entrygate/entrygate.env"]
    unit_env = assignments(service["Environment"])
    env = {**unit_env, **assignments(env_file.read_text().splitlines())}
    [exec_start] = service["ExecStart"]
    argv = expand(exec_start, env)
    assert argv[0] == "/opt/entrygate/venv/bin/entrygate" and argv[1] == "serve"
    assert argv[2:] == ["--host", "127.0.0.1", "--port", str(port), "--workers", unit_env["ENTRYGATE_WORKERS"]]

    # systemd starts a service with an empty environment but for PATH and the unit's variables;
    # PYTHONPATH only points this test run at the source tree under test.
    clean = {"PATH": os.environ["PATH"], **env}
    if "PYTHONPATH" in os.environ:
        clean["PYTHONPATH"] = os.environ["PYTHONPATH"]
    workdir = tmp_path / "var-lib-entrygate"
    workdir.mkdir()
    proc = subprocess.Popen([*entrygate_exe(), *argv[1:]], cwd=workdir, env=clean, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        ready = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                ready = httpx.get(url + "/readyz", timeout=1)
                if ready.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        assert ready is not None and ready.status_code == 200, proc.stdout.read() if proc.poll() is not None else ready
        assert ready.json()["status"] == "ok"
        # Two workers: /metrics sums them, and lists each live worker's process metrics by pid.
        families = {f.name: f for f in text_string_to_metric_families(httpx.get(url + "/metrics").text)}
        pids = {s.labels["pid"] for s in families["process_resident_memory_bytes"].samples}
        workers = set(Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split())
        assert pids and pids <= workers, (pids, workers)
    finally:
        os.kill(proc.pid, signal.SIGTERM)  # KillMode=mixed: the main process first
        try:
            proc.wait(int(service["TimeoutStopSec"][0]))
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
    said = proc.stdout.read()
    assert f"listening on http://127.0.0.1:{port} (2 workers)" in said, said
    assert proc.returncode == 0, said
