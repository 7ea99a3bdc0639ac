"""Where a database URL points, said plainly: a SQLite file's absolute path, a PostgreSQL URL without its password."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import URL, make_url


def sqlite_file(url: str) -> Path | None:
    """The absolute path of a file-backed SQLite database (relative paths read from the current
    directory, as SQLite does); None for PostgreSQL and in-memory SQLite."""
    if not url.startswith("sqlite"):
        return None
    database = make_url(url).database
    if not database or database == ":memory:" or "mode=memory" in url:
        return None
    return Path(database).expanduser().resolve()


def describe_database(url: str) -> str:
    """``SQLite /abs/path/entrygate.db``, ``SQLite in memory`` or ``PostgreSQL postgresql://user@host:5432/db``."""
    if url.startswith("sqlite"):
        path = sqlite_file(url)
        return f"SQLite {path}" if path is not None else "SQLite in memory"
    return "PostgreSQL " + libpq_url_without_password(url)


def libpq_url_without_password(url: str) -> str:
    """``postgresql://user@host:port/db?...``: the URL libpq tools (psql, pg_dump) take, the password left out."""
    parsed = make_url(url)
    bare = URL.create("postgresql", username=parsed.username, host=parsed.host, port=parsed.port,
                      database=parsed.database, query=parsed.query)
    return bare.render_as_string(hide_password=False)
