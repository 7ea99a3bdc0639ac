"""Allow and block lists, store rules, the review queue, risk explanations

- ``decisions`` gains ``model_version`` and ``risk_detail`` (the explanation, list and rule
  outcomes) and ``policy_denied``: a tap refused by the store's policy (balance, anti-passback,
  a rule, a list block, a disabled gate or entry method, a party too large) rather than by the
  card. Such taps do not count as the instrument's entries or declines. Decisions stored before
  this revision are marked from their reason codes.
- ``risk_list_items``: allow and block lists per retailer. Every instrument a ``CustomerFraud``
  label names gets its retailer's ``FEEDBACK`` block item, and the instruments blocked for
  customer fraud are unblocked: the item is the block from now on (deleting it lifts it).
- ``store_rules`` (a store's CEL rules and their version) and ``reviews`` (the review queue).

Revision ID: 0011_risk_lists_rules
Revises: 0010_decision_feed
"""
import sqlalchemy as sa
from alembic import op

import entrygate.adapters.db.tables

revision = '0011_risk_lists_rules'
down_revision = '0010_decision_feed'
branch_labels = None
depends_on = None

# Written out, not imported: a migration must not change when the code does.
FEEDBACK_ITEM = "source = 'FEEDBACK'"
POLICY_CODES = ("OUTSTANDING_BALANCE", "ALREADY_INSIDE", "GATE_DISABLED", "ENTRY_METHOD_DISABLED", "PARTY_TOO_LARGE")


def upgrade() -> None:
    utc = entrygate.adapters.db.tables.UTCDateTime(timezone=True)
    op.add_column('decisions', sa.Column('model_version', sa.String(80), nullable=True))
    op.add_column('decisions', sa.Column('risk_detail', sa.JSON(), nullable=True))
    op.add_column('decisions', sa.Column('policy_denied', sa.Boolean(), nullable=False, server_default=sa.text('false')))
    policy = " OR ".join(f"CAST(reasons AS TEXT) LIKE '%\"{code}\"%'" for code in POLICY_CODES)
    op.execute(f"UPDATE decisions SET policy_denied = true WHERE outcome = 'DENY' AND ({policy})")
    op.create_table(
        'risk_list_items',
        sa.Column('item_id', sa.String(64), nullable=False),
        sa.Column('retailer_id', sa.String(64), sa.ForeignKey('retailers.retailer_id',
                                                              name='fk_risk_list_items_retailer_id_retailers'),
                  nullable=False),
        sa.Column('list_name', sa.String(8), nullable=False),
        sa.Column('item_type', sa.String(16), nullable=False),
        sa.Column('value', sa.String(255), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('expires_at', utc, nullable=True),
        sa.Column('created_at', utc, nullable=False),
        sa.Column('source', sa.String(10), nullable=False),
        sa.PrimaryKeyConstraint('item_id', name='pk_risk_list_items'),
    )
    op.create_index('ix_risk_list_items_value', 'risk_list_items', ['value', 'item_type'])
    op.create_index('ix_risk_list_items_retailer', 'risk_list_items', ['retailer_id', 'list_name', 'created_at'])
    op.create_index('uq_risk_list_items_feedback', 'risk_list_items', ['retailer_id', 'value'], unique=True,
                    sqlite_where=sa.text(FEEDBACK_ITEM), postgresql_where=sa.text(FEEDBACK_ITEM))
    # One FEEDBACK block item per retailer and instrument its CustomerFraud labels name, dated by the first label.
    op.execute(
        "INSERT INTO risk_list_items (item_id, retailer_id, list_name, item_type, value, note, expires_at, "
        "created_at, source) "
        "SELECT 'item_fb' || CAST(MIN(l.label_id) AS TEXT), s.retailer_id, 'BLOCK', 'INSTRUMENT', l.instrument_id, "
        "'CustomerFraud label', NULL, MIN(l.created_at), 'FEEDBACK' "
        "FROM instrument_labels l JOIN stores s ON s.store_id = l.store_id "
        "WHERE l.risk = 'CustomerFraud' GROUP BY s.retailer_id, l.instrument_id")
    op.execute("UPDATE payment_instruments SET blocked = false, blocked_reason = NULL "
               "WHERE blocked_reason = 'customer_fraud'")
    op.create_table(
        'store_rules',
        sa.Column('store_id', sa.String(255), sa.ForeignKey('stores.store_id', name='fk_store_rules_store_id_stores'),
                  nullable=False),
        sa.Column('rules', sa.JSON(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('updated_at', utc, nullable=False),
        sa.PrimaryKeyConstraint('store_id', name='pk_store_rules'),
    )
    op.create_table(
        'reviews',
        sa.Column('review_id', sa.String(64), nullable=False),
        sa.Column('store_id', sa.String(255), sa.ForeignKey('stores.store_id', name='fk_reviews_store_id_stores'),
                  nullable=False),
        sa.Column('gate_pk', sa.String(64), nullable=False),
        sa.Column('event_id', sa.String(64), nullable=False),
        sa.Column('trip_id', sa.String(64), nullable=True),
        sa.Column('visitor_id', sa.String(255), nullable=True),
        sa.Column('instrument_id', sa.String(64), nullable=True),
        sa.Column('rule', sa.String(200), nullable=False),
        sa.Column('created_at', utc, nullable=False),
        sa.Column('outcome', sa.String(10), nullable=True),
        sa.Column('decided_at', utc, nullable=True),
        sa.PrimaryKeyConstraint('review_id', name='pk_reviews'),
        sa.UniqueConstraint('gate_pk', 'event_id', name='uq_reviews_gate_event'),
    )
    op.create_index('ix_reviews_store_created', 'reviews', ['store_id', 'created_at'])


def downgrade() -> None:
    op.drop_index('ix_reviews_store_created', table_name='reviews')
    op.drop_table('reviews')
    op.drop_table('store_rules')
    op.execute("UPDATE payment_instruments SET blocked = true, blocked_reason = 'customer_fraud' "
               "WHERE instrument_id IN (SELECT value FROM risk_list_items WHERE source = 'FEEDBACK')")
    op.drop_index('uq_risk_list_items_feedback', table_name='risk_list_items')
    op.drop_index('ix_risk_list_items_retailer', table_name='risk_list_items')
    op.drop_index('ix_risk_list_items_value', table_name='risk_list_items')
    op.drop_table('risk_list_items')
    with op.batch_alter_table('decisions') as batch_op:
        batch_op.drop_column('policy_denied')
        batch_op.drop_column('risk_detail')
        batch_op.drop_column('model_version')
