"""Backups (docs/deploy.md): `entrygate db backup` of a serving platform, restored into a fresh database
(a copied file on SQLite, pg_restore on PostgreSQL), serves the same stores, gates, trips and decisions."""
from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path

import psycopg
from typer.testing import CliRunner

from entrygate.adapters.db.locations import libpq_url_without_password
from entrygate.cli.main import app
from support.databases import drop_database, postgres_admin_url
from support.server import Platform, StoreHandle, card, entry, new_par, start_server, stop_server


def seed(p: Platform) -> tuple[StoreHandle, list[dict]]:
    """A store with an entry and an exit gate, three trips (one exited) and a denied tap."""
    store = p.store(gates=("lane-1",), exit_gates=("exit-1",))
    bodies = [entry(card(par=new_par())) for _ in range(3)] + [entry(card("tok_decline_generic", par=new_par()))]
    answers = [p.enter(store, body).json() for body in bodies]
    assert [a["decision"] for a in answers] == ["OPEN", "OPEN", "OPEN", "DENY"], answers
    exit_body = {"eventId": str(uuid.uuid4()), "timestamp": bodies[0]["timestamp"], "interactionType": "TAP",
                 "shoppingTripId": answers[0]["shoppingTripId"]}
    assert p.exit(store, exit_body, gate="exit-1").status_code == 200
    return store, bodies


def seen(p: Platform, store: StoreHandle) -> dict:
    """What the platform serves about the store, to its operator and to its retailer."""
    def get(path: str, headers: dict) -> dict:
        r = p.http.get(path, headers=headers)
        assert r.status_code == 200, (path, r.text)
        return r.json()
    trips = get(f"/v1/stores/{store.store_id}/trips", p.as_retailer(store))
    return {"store": get(f"/v1/admin/stores/{store.store_id}", p.op),
            "gates": get(f"/v1/admin/stores/{store.store_id}/gates", p.op),
            "trips": trips,
            "trip": [get(f"/v1/trips/{t['shoppingTripId']}", p.as_retailer(store)) for t in trips["trips"]],
            "decisions": get(f"/v1/stores/{store.store_id}/decisions", p.as_retailer(store))}


def restore(backend: str, backup: Path, tmp: Path) -> str:
    """The backup in a fresh database, as docs/deploy.md restores it; returns that database's URL."""
    if backend == "sqlite":
        target = tmp / "restored.db"
        shutil.copyfile(backup, target)
        return f"sqlite:///{target}"
    name = f"eg_test_restored_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_admin_url(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = postgres_admin_url().rsplit("/", 1)[0] + "/" + name
    subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", "--dbname", libpq_url_without_password(url),
                    str(backup)], check=True, capture_output=True, text=True, timeout=120)
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def test_a_backup_of_a_serving_platform_restores_into_a_fresh_database_that_serves_the_same(
        ops_platform, backend, tmp_path, monkeypatch):
    p = ops_platform
    store, bodies = seed(p)
    before = seen(p, store)

    backup = tmp_path / "entrygate.backup"
    monkeypatch.setenv("ENTRYGATE_DATABASE_URL", p.database_url)
    r = CliRunner().invoke(app, ["db", "backup", str(backup)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("backed up ") and f" to {backup} (" in r.stdout and backup.stat().st_size > 0
    again = CliRunner().invoke(app, ["db", "backup", str(backup)], catch_exceptions=False)
    assert again.exit_code == 1 and "already exists" in again.stderr  # never overwritten

    p.enter(store, entry(card(par=new_par())))  # the original moves on; the copy is of the moment it was taken
    restored_url = restore(backend, backup, tmp_path)
    try:
        url, proc = start_server(restored_url, args=("--no-migrate",))  # the copy's schema is at head
        try:
            copy = Platform(url, p.op["Authorization"].removeprefix("Bearer "), restored_url, proc)
            assert seen(copy, store) == before
            # The keys work there, and a gate's retried event gets its first decision back.
            replay = copy.enter(store, bodies[3])
            assert replay.status_code == 200 and replay.json()["decision"] == "DENY"
            assert copy.enter(store, entry(card(par=new_par()))).json()["decision"] == "OPEN"
            copy.http.close()
        finally:
            stop_server(proc)
    finally:
        drop_database(restored_url)
