"""``entrygate db backup``: a consistent copy of a running platform's database (docs/deploy.md).

SQLite: the online backup API (``sqlite3.Connection.backup``), which copies the database page by
page while servers keep writing and restarts when a page it copied changes, so the copy is one
committed state. PostgreSQL: ``pg_dump --format=custom``, one snapshot of the database, restored
with ``pg_restore``. Either way the copy is written beside the target and renamed into place, so
a failed backup never leaves a half-written file under the name asked for.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import make_url

from entrygate.adapters.db.locations import libpq_url_without_password, sqlite_file

PAGES_PER_STEP = 1024  # copied under one short read lock each, so writers are held only briefly


class BackupError(RuntimeError):
    """The backup could not be made; nothing was written at the target."""


def backup(url: str, target: Path) -> Path:
    """Copy the database at ``url`` to ``target`` (which must not exist); returns the target's absolute path."""
    target = target.expanduser().resolve()
    if target.exists():
        raise BackupError(f"{target} already exists; give a new file name")
    if not target.parent.is_dir():
        raise BackupError(f"{target.parent} is not a directory")
    partial = target.with_name(target.name + ".partial")
    try:
        if url.startswith("sqlite"):
            _sqlite(url, partial)
        else:
            _postgres(url, partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def _sqlite(url: str, partial: Path) -> None:
    source_path = sqlite_file(url)
    if source_path is None or not source_path.exists():
        raise BackupError(f"no SQLite database at {source_path or url}")
    source = sqlite3.connect(f"file:{source_path}?mode=rw", uri=True, timeout=30)  # rw: never creates the file
    copy = sqlite3.connect(partial)
    try:
        source.backup(copy, pages=PAGES_PER_STEP)
        copy.execute("PRAGMA journal_mode=WAL")  # as the platform opens it
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite backup failed: {exc}") from None
    finally:
        copy.close()
        source.close()


def _postgres(url: str, partial: Path) -> None:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise BackupError("pg_dump is not installed (Debian: apt-get install postgresql-client); it must be of the "
                          "server's major version or newer")
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)  # not on the command line, where `ps` would show it
    dsn = libpq_url_without_password(url)
    run = subprocess.run([pg_dump, "--format=custom", "--no-owner", "--file", str(partial), "--dbname", dsn],
                         env=env, capture_output=True, text=True)
    if run.returncode != 0:
        raise BackupError(f"pg_dump failed: {run.stderr.strip()}")
