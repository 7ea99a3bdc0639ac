"""Alembic environment of the reference retailer's database (its own history and version table)."""
from alembic import context
from sqlalchemy import create_engine, pool

from entrygate.retailer.tables import metadata

# Its own version table, so the retailer's history never mixes with the platform's even if
# someone points both at one database.
VERSION_TABLE = "retailer_alembic_version"

config = context.config
url = config.attributes.get("url")


def run(conn) -> None:  # noqa: ANN001
    context.configure(connection=conn, target_metadata=metadata, version_table=VERSION_TABLE,
                      render_as_batch=conn.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


engine = create_engine(url, poolclass=pool.NullPool)
with engine.connect() as conn:
    run(conn)
engine.dispose()
