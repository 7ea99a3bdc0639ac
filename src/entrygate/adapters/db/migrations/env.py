"""Alembic environment: the URL comes from the caller (entrygate db upgrade), never from a file."""
from alembic import context
from sqlalchemy import create_engine, pool

import entrygate.adapters.db.console_store  # noqa: F401 - registers the console tables on the metadata
from entrygate.adapters.db.tables import metadata

config = context.config
url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
connection = config.attributes.get("connection")


def run(conn) -> None:  # noqa: ANN001
    context.configure(connection=conn, target_metadata=metadata, render_as_batch=conn.dialect.name == "sqlite",
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    run(connection)
else:
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        run(conn)
    engine.dispose()
