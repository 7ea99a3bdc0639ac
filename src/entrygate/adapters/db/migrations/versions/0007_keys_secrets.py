"""Gate keys that rotate, named retailer keys, secrets per purpose

A gate's key moves from ``gates`` to ``gate_keys`` (several per gate: a new one, and the previous
ones until they expire), a retailer's from ``retailers`` to ``retailer_keys`` (several, named; the
key that existed is named "initial key"). Every key that worked before works after: its id and
hash are copied as they are. ``secret_keys`` holds each rotatable purpose's keys; this revision
records each purpose's first key, derived from ENTRYGATE_SECRET_KEY as before (no material stored),
so palm templates, session cookies and CSRF tokens made before it stay readable. Palm templates
record the key they are under (``template_key_id``); every one that exists is under ``palm-0``.

Revision ID: 0007_keys_secrets
Revises: 0006_orphan_holds
"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import entrygate.adapters.db.tables

revision = '0007_keys_secrets'
down_revision = '0006_orphan_holds'
branch_labels = None
depends_on = None

_UTC = entrygate.adapters.db.tables.UTCDateTime(timezone=True)
ACTIVE_SECRET_KEY = "retired_at IS NULL"  # tables.ACTIVE_SECRET_KEY
ROOT_KEYS = ("palm-0", "sessions-0", "offline-0")  # domain.secrets.root_key_id, written out
INITIAL_RETAILER_KEY_NAME = "initial key"


def upgrade() -> None:
    op.create_table(
        'gate_keys',
        sa.Column('key_id', sa.String(length=32), nullable=False),
        sa.Column('gate_pk', sa.String(length=64), nullable=False),
        sa.Column('secret_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', _UTC, nullable=False),
        sa.Column('expires_at', _UTC, nullable=True),
        sa.Column('revoked_at', _UTC, nullable=True),
        sa.Column('last_used_at', _UTC, nullable=True),
        sa.ForeignKeyConstraint(['gate_pk'], ['gates.gate_pk'], name=op.f('fk_gate_keys_gate_pk_gates')),
        sa.PrimaryKeyConstraint('key_id', name=op.f('pk_gate_keys')),
    )
    op.create_index('ix_gate_keys_gate_pk', 'gate_keys', ['gate_pk'])
    op.create_table(
        'retailer_keys',
        sa.Column('key_id', sa.String(length=32), nullable=False),
        sa.Column('retailer_id', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('secret_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', _UTC, nullable=False),
        sa.Column('revoked_at', _UTC, nullable=True),
        sa.Column('last_used_at', _UTC, nullable=True),
        sa.ForeignKeyConstraint(['retailer_id'], ['retailers.retailer_id'],
                                name=op.f('fk_retailer_keys_retailer_id_retailers')),
        sa.PrimaryKeyConstraint('key_id', name=op.f('pk_retailer_keys')),
    )
    op.create_index('ix_retailer_keys_retailer_id', 'retailer_keys', ['retailer_id'])
    op.create_table(
        'secret_keys',
        sa.Column('key_id', sa.String(length=40), nullable=False),
        sa.Column('purpose', sa.String(length=16), nullable=False),
        sa.Column('material', sa.LargeBinary(), nullable=True),
        sa.Column('created_at', _UTC, nullable=False),
        sa.Column('retired_at', _UTC, nullable=True),
        sa.PrimaryKeyConstraint('key_id', name=op.f('pk_secret_keys')),
    )
    op.create_index('uq_secret_keys_active_purpose', 'secret_keys', ['purpose'], unique=True,
                    sqlite_where=sa.text(ACTIVE_SECRET_KEY), postgresql_where=sa.text(ACTIVE_SECRET_KEY))

    op.execute("INSERT INTO gate_keys (key_id, gate_pk, secret_hash, created_at) "
               "SELECT key_id, gate_pk, secret_hash, created_at FROM gates")
    retailer_keys = sa.table('retailer_keys', sa.column('key_id'), sa.column('retailer_id'), sa.column('name'),
                             sa.column('secret_hash'), sa.column('created_at'))
    retailers = sa.table('retailers', sa.column('key_id'), sa.column('retailer_id'), sa.column('secret_hash'),
                         sa.column('created_at'))
    op.execute(retailer_keys.insert().from_select(
        ['key_id', 'retailer_id', 'name', 'secret_hash', 'created_at'],
        sa.select(retailers.c.key_id, retailers.c.retailer_id, sa.literal(INITIAL_RETAILER_KEY_NAME),
                  retailers.c.secret_hash, retailers.c.created_at)))
    secret_keys = sa.table('secret_keys', sa.column('key_id'), sa.column('purpose'), sa.column('created_at', _UTC))
    now = datetime.now(UTC)
    op.bulk_insert(secret_keys, [{"key_id": k, "purpose": k.split("-")[0], "created_at": now} for k in ROOT_KEYS])

    with op.batch_alter_table('gates') as batch_op:
        batch_op.drop_constraint('uq_gates_key_id', type_='unique')
        batch_op.drop_column('key_id')
        batch_op.drop_column('secret_hash')
    with op.batch_alter_table('retailers') as batch_op:
        batch_op.drop_constraint('uq_retailers_key_id', type_='unique')
        batch_op.drop_column('key_id')
        batch_op.drop_column('secret_hash')

    op.add_column('palm_enrollments', sa.Column('template_key_id', sa.String(length=40), nullable=False,
                                                server_default=sa.text("'palm-0'")))
    op.create_index('ix_palm_enrollments_template_key_id', 'palm_enrollments', ['template_key_id'])


def downgrade() -> None:
    """Back to one key per gate and retailer: each keeps its newest key that still works (or its newest)."""
    op.drop_index('ix_palm_enrollments_template_key_id', table_name='palm_enrollments')
    with op.batch_alter_table('palm_enrollments') as batch_op:
        batch_op.drop_column('template_key_id')
    for owner, table, keys in (('gate_pk', 'gates', 'gate_keys'), ('retailer_id', 'retailers', 'retailer_keys')):
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column('key_id', sa.String(length=32), nullable=True))
            batch_op.add_column(sa.Column('secret_hash', sa.String(length=64), nullable=True))
        newest = (f"(SELECT k.{{col}} FROM {keys} k WHERE k.{owner} = {table}.{owner} "
                  f"ORDER BY (k.revoked_at IS NULL) DESC, k.created_at DESC LIMIT 1)")
        op.execute(f"UPDATE {table} SET key_id = {newest.format(col='key_id')}, "
                   f"secret_hash = {newest.format(col='secret_hash')}")
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column('key_id', existing_type=sa.String(length=32), nullable=False)
            batch_op.alter_column('secret_hash', existing_type=sa.String(length=64), nullable=False)
            batch_op.create_unique_constraint(f'uq_{table}_key_id', ['key_id'])
    op.drop_index('uq_secret_keys_active_purpose', table_name='secret_keys')
    op.drop_table('secret_keys')
    op.drop_index('ix_retailer_keys_retailer_id', table_name='retailer_keys')
    op.drop_table('retailer_keys')
    op.drop_index('ix_gate_keys_gate_pk', table_name='gate_keys')
    op.drop_table('gate_keys')
