"""The storage schema (SQLAlchemy Core). Migrations in ``migrations/versions`` create it."""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.types import DateTime, TypeDecorator

metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})


class UTCDateTime(TypeDecorator):
    """Timestamps are stored in UTC and always come back timezone-aware (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):  # noqa: ANN001
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):  # noqa: ANN001
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Amount = Numeric(18, 4, asdecimal=True)

# The predicate of the partial unique index behind HARD anti-passback; inserts name it as their
# ON CONFLICT target, so the text must be the index's own.
OPEN_PASSBACK = "status = 'OPEN' AND passback_key IS NOT NULL"
# The predicate of the partial index behind the release sweep (migration 0005): closed trips whose hold
# is neither captured nor released. The sweep's query names it as written, so the planner takes the index.
UNSETTLED_HOLD = "status = 'CLOSED' AND preauth_id IS NOT NULL AND hold_settled = false"
# The predicate of the partial index behind the orphan sweep (migration 0006): denied decisions whose hold
# is not released yet. Written as the index has it, for the same reason.
ORPHAN_HOLD = "preauth_id IS NOT NULL AND preauth_released_at IS NULL AND outcome = 'DENY'"

operator_tokens = Table(
    "operator_tokens", metadata,
    Column("key_id", String(32), primary_key=True),
    Column("secret_hash", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

retailers = Table(
    "retailers", metadata,
    Column("retailer_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),  # its keys are in retailer_keys (migration 0007)
)

retailer_users = Table(
    "retailer_users", metadata,
    Column("user_id", String(64), primary_key=True),
    Column("retailer_id", String(64), ForeignKey("retailers.retailer_id"), nullable=False),
    Column("email", String(320), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # ADMIN, OPERATOR or VIEWER (domain/roles.py); the users made before roles existed are admins (0008).
    Column("role", String(16), nullable=False, server_default=text("'ADMIN'")),
)

stores = Table(
    "stores", metadata,
    Column("store_id", String(255), primary_key=True),
    Column("retailer_id", String(64), ForeignKey("retailers.retailer_id"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("config", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

gates = Table(
    "gates", metadata,
    Column("gate_pk", String(64), primary_key=True),
    Column("gate_id", String(255), nullable=False),
    Column("store_id", String(255), ForeignKey("stores.store_id"), nullable=False),
    Column("direction", String(8), nullable=False),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime, nullable=False),  # its keys are in gate_keys (migration 0007)
    UniqueConstraint("store_id", "gate_id", name="uq_gates_store_gate"),
    Index("ix_gates_gate_id", "gate_id"),
)

payment_instruments = Table(
    "payment_instruments", metadata,
    Column("instrument_id", String(64), primary_key=True),
    Column("brand", String(20), nullable=False),
    Column("last4", String(4), nullable=False),
    Column("exp_month", Integer, nullable=False),
    Column("exp_year", Integer, nullable=False),
    Column("funding", String(16)),
    Column("issuer_country", String(2)),
    Column("blocked", Boolean, nullable=False, default=False),
    Column("blocked_reason", String(40)),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
)

shopping_trips = Table(
    "shopping_trips", metadata,
    Column("trip_id", String(64), primary_key=True),
    Column("store_id", String(255), ForeignKey("stores.store_id"), nullable=False),
    Column("entry_gate_id", String(255), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("visitor_id", String(255), nullable=False),
    Column("instrument_id", String(64), ForeignKey("payment_instruments.instrument_id")),
    Column("party_size", Integer, nullable=False),
    Column("status", String(8), nullable=False),
    Column("entered_at", UTCDateTime, nullable=False),
    Column("exited_at", UTCDateTime),
    Column("exit_gate_id", String(255)),
    Column("authorized_amount", Amount),
    Column("currency", String(3), nullable=False),
    Column("preauth_id", String(64)),
    Column("total_amount", Amount),
    Column("settled_amount", Amount),
    Column("payment_status_time", UTCDateTime),
    Column("payment_reported_at", UTCDateTime),
    Column("passback_key", String(255)),  # the visitor id on a trip opened under HARD anti-passback, else NULL
    Column("closed_by", String(16)),  # EXIT_GATE, TIMEOUT, RETAILER or OPERATOR once closed (migration 0005)
    Column("passback_violation", Boolean, nullable=False, default=False, server_default=text("false")),
    Column("hold_settled", Boolean, nullable=False, default=False, server_default=text("false")),  # captured or released
    Index("ix_trips_store_status", "store_id", "status", "entered_at"),
    Index("ix_trips_visitor_store_status", "visitor_id", "store_id", "status"),
    Index("ix_trips_instrument", "instrument_id"),
    # HARD anti-passback, kept by the database: at most one open trip per visitor and store, whichever
    # process or gate inserts it (migration 0003).
    Index("uq_trips_open_passback", "store_id", "passback_key", unique=True,
          sqlite_where=text(OPEN_PASSBACK), postgresql_where=text(OPEN_PASSBACK)),
    Index("ix_trips_unsettled_holds", "store_id", "trip_id",
          sqlite_where=text(UNSETTLED_HOLD), postgresql_where=text(UNSETTLED_HOLD)),
)

decisions = Table(
    "decisions", metadata,
    Column("decision_id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("gate_pk", String(64), ForeignKey("gates.gate_pk"), nullable=False),
    Column("gate_id", String(255), nullable=False),
    Column("store_id", String(255), nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("outcome", String(8), nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("decided_by", String(10), nullable=False),
    Column("visitor_id", String(255)),
    Column("visitor_type", String(10)),
    Column("instrument_id", String(64)),
    Column("trip_id", String(64)),
    Column("party_size", Integer, nullable=False),
    Column("risk_score", Integer),
    Column("risk_level", String(8)),
    Column("authorized_amount", Amount),
    Column("currency", String(3)),
    Column("latency_ms", Numeric(10, 3, asdecimal=False), nullable=False),
    Column("event_time", UTCDateTime, nullable=False),
    Column("decided_at", UTCDateTime, nullable=False),
    Column("preauth_id", String(64)),
    Column("preauth_released_at", UTCDateTime),  # when a denied tap's hold was released (migration 0006)
    # The decisions feed (migration 0010, adapters/db/decision_feed.py): on PostgreSQL the id of the
    # transaction that wrote the row (its server default there is ``pg_current_xact_id()``), on SQLite,
    # where one writer at a time commits in decision id order, always 0. Rows from before the feed: 0.
    Column("feed_txid", BigInteger, nullable=False, server_default=text("0")),
    # What the gate sent (minus secrets) and the calls made to decide (domain/decision_trace.py, 0010).
    Column("gate_request", JSON),
    Column("connector_calls", JSON),
    # Risk operations (migration 0011): the model version that scored it, the explanation and what lists and
    # rules did (risk_detail); policy_denied: refused by the store's policy, not by the card (no velocity).
    Column("model_version", String(80)),
    Column("risk_detail", JSON),
    Column("policy_denied", Boolean, nullable=False, default=False, server_default=text("false")),
    UniqueConstraint("gate_pk", "event_id", name="uq_decisions_gate_event"),
    Index("ix_decisions_store_time", "store_id", "decided_at"),
    Index("ix_decisions_instrument_time", "instrument_id", "decided_at"),
    Index("ix_decisions_feed", "store_id", "feed_txid", "decision_id"),
    Index("ix_decisions_orphan_holds", "decided_at", "gate_pk", "event_id",
          sqlite_where=text(ORPHAN_HOLD), postgresql_where=text(ORPHAN_HOLD)),
)

exits = Table(
    "exits", metadata,
    Column("exit_id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("gate_pk", String(64), ForeignKey("gates.gate_pk"), nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("trip_id", String(64)),
    Column("result", String(16), nullable=False),  # CLOSED, ALREADY_CLOSED or NO_OPEN_TRIP (migration 0004)
    Column("decided_at", UTCDateTime, nullable=False),
    UniqueConstraint("gate_pk", "event_id", name="uq_exits_gate_event"),
)

instrument_labels = Table(
    "instrument_labels", metadata,
    Column("label_id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("instrument_id", String(64), ForeignKey("payment_instruments.instrument_id"), nullable=False, index=True),
    Column("store_id", String(255), nullable=False),
    Column("trip_id", String(64), nullable=False),
    Column("risk", String(20), nullable=False),
    Column("note", Text),
    Column("created_at", UTCDateTime, nullable=False),
)

palm_enrollments = Table(
    "palm_enrollments", metadata,
    Column("palm_id", String(64), primary_key=True),
    Column("instrument_id", String(64), ForeignKey("payment_instruments.instrument_id"), nullable=False),
    Column("retailer_id", String(64), ForeignKey("retailers.retailer_id"), nullable=False),
    Column("template", LargeBinary, nullable=False),
    Column("dimension", Integer, nullable=False),
    Column("card", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # The palm key the template is encrypted under (migration 0007): re-encryption finds the rest by it.
    Column("template_key_id", String(40), nullable=False, server_default=text("'palm-0'")),
    Index("ix_palm_enrollments_template_key_id", "template_key_id"),
)

palm_changes = Table(
    "palm_changes", metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("palm_id", String(64), nullable=False),
    Column("op", String(8), nullable=False),
    Column("changed_at", UTCDateTime, nullable=False),
)


# A trip's hold once an operation has touched it, and the intents written before each processor
# call (migration 0005; services/ports/payments.py says what each column is for).
preauthorizations = Table(
    "preauthorizations", metadata,
    Column("trip_id", String(64), ForeignKey("shopping_trips.trip_id"), primary_key=True),
    Column("preauth_id", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(10), nullable=False),
    Column("held_amount", Amount, nullable=False),
    Column("authorized_amount", Amount, nullable=False),
    Column("captured_amount", Amount, nullable=False),
    Column("refunded_amount", Amount, nullable=False),
    Column("captured_at", UTCDateTime),
    Column("history", JSON, nullable=False),  # the finished operations, oldest first
    Column("version", Integer, nullable=False),
    Column("pending_operation_id", String(64)),
    # The few holds with an operation in flight, for the release sweep.
    Index("ix_preauthorizations_pending", "trip_id", sqlite_where=text("pending_operation_id IS NOT NULL"),
          postgresql_where=text("pending_operation_id IS NOT NULL")),
)

preauthorization_operations = Table(
    "preauthorization_operations", metadata,
    Column("operation_id", String(64), primary_key=True),
    Column("trip_id", String(64), ForeignKey("preauthorizations.trip_id"), nullable=False, index=True),
    Column("scope", String(80), nullable=False),
    Column("idempotency_key", String(255), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("operation", String(10), nullable=False),
    Column("amount", Amount),
    Column("currency", String(3), nullable=False),
    Column("raise_to", Amount),
    Column("release", Boolean, nullable=False),
    Column("processor_key", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("lease_until", UTCDateTime, nullable=False),
    Column("completed_at", UTCDateTime),
    Column("result_status", String(10)),
    Column("result_held", Amount),
    Column("result_captured", Amount),
    Column("result_refunded", Amount),
    Column("outcome_total", Amount),
    Column("outcome_settled", Amount),
    Column("declined", String(10)),
    Column("refusal", Text),
    UniqueConstraint("scope", "idempotency_key", name="uq_preauth_operations_scope_key"),
)


# -- the audit log (migration 0008): every change through the admin API or the console ---------------
audit_entries = Table(
    "audit_entries", metadata,
    Column("entry_id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("retailer_id", String(64)),  # whose data: the retailer that sees it; NULL: platform-wide, operators only
    Column("store_id", String(255)),
    Column("actor_type", String(16), nullable=False),
    Column("actor_id", String(64), nullable=False),
    Column("actor_name", String(320), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target_type", String(32), nullable=False),
    Column("target_id", String(255), nullable=False),
    Column("before", JSON),
    Column("after", JSON),
    Index("ix_audit_entries_at", "at", "entry_id"),
    Index("ix_audit_entries_retailer_at", "retailer_id", "at"),
    Index("ix_audit_entries_store_at", "store_id", "at"),
)


# Risk operations (migration 0011): allow and block lists per retailer, rules per store, the review queue.
# The predicate of the partial unique index that keeps one FEEDBACK block item per retailer and instrument.
FEEDBACK_ITEM = "source = 'FEEDBACK'"

risk_list_items = Table(
    "risk_list_items", metadata,
    Column("item_id", String(64), primary_key=True),
    Column("retailer_id", String(64), ForeignKey("retailers.retailer_id"), nullable=False),
    Column("list_name", String(8), nullable=False),  # ALLOW or BLOCK
    Column("item_type", String(16), nullable=False),  # INSTRUMENT, ISSUER_COUNTRY or VISITOR
    Column("value", String(255), nullable=False),
    Column("note", Text),
    Column("expires_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("source", String(10), nullable=False),  # API, CONSOLE or FEEDBACK
    # The gate's lookup: the values a tap presents, across retailers for the platform-wide FEEDBACK blocks.
    Index("ix_risk_list_items_value", "value", "item_type"),
    Index("ix_risk_list_items_retailer", "retailer_id", "list_name", "created_at"),
    Index("uq_risk_list_items_feedback", "retailer_id", "value", unique=True,
          sqlite_where=text(FEEDBACK_ITEM), postgresql_where=text(FEEDBACK_ITEM)),
)

store_rules = Table(
    "store_rules", metadata,
    Column("store_id", String(255), ForeignKey("stores.store_id"), primary_key=True),
    Column("rules", JSON, nullable=False),
    Column("version", Integer, nullable=False),  # raised by every change: the compiled rules' cache key
    Column("updated_at", UTCDateTime, nullable=False),
)

reviews = Table(
    "reviews", metadata,
    Column("review_id", String(64), primary_key=True),
    Column("store_id", String(255), ForeignKey("stores.store_id"), nullable=False),
    Column("gate_pk", String(64), nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("trip_id", String(64)),
    Column("visitor_id", String(255)),
    Column("instrument_id", String(64)),
    Column("rule", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("outcome", String(10)),  # OK, FRAUD or BAD_DEBT once a verdict is given; set once (conditional write)
    Column("decided_at", UTCDateTime),
    UniqueConstraint("gate_pk", "event_id", name="uq_reviews_gate_event"),
    Index("ix_reviews_store_created", "store_id", "created_at"),
)


# --- Risk models (migration 0012): the current and shadow versions, shadow scores, backtests ------
# One row per role ("current", "shadow"); every process reads them every few seconds.
risk_model_roles = Table(
    "risk_model_roles", metadata,
    Column("role", String(16), primary_key=True),
    Column("version", String(64)),  # NULL: no shadow (a current row always names a version)
    Column("changed_at", UTCDateTime, nullable=False),
)

# What the shadow model said of a decision, stored with it; the answer never carries it.
decisions.append_column(Column("shadow_model_version", String(64)))
decisions.append_column(Column("shadow_score", Integer))
decisions.append_column(Column("shadow_level", String(8)))
SHADOWED = "shadow_model_version IS NOT NULL"
Index("ix_decisions_shadowed", decisions.c.shadow_model_version, decisions.c.decision_id,
      sqlite_where=text(SHADOWED), postgresql_where=text(SHADOWED))

# Each `entrygate risk backtest` run: its figures and the plot it wrote, for the console's model page.
risk_backtests = Table(
    "risk_backtests", metadata,
    Column("backtest_id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("ran_at", UTCDateTime, nullable=False),
    Column("candidate", String(64), nullable=False),
    Column("figures", JSON, nullable=False),
    Column("plot_png", LargeBinary),
)


# -- Keys and secrets (DESIGN 15, migration 0007) --------------------------------------------------
# API keys: the id part is the primary key, the secret only as its SHA-256. A gate key replaced by a
# newer one carries ``expires_at``; a revoked key keeps its row (``revoked_at``) so listings show it.
gate_keys = Table(
    "gate_keys", metadata,
    Column("key_id", String(32), primary_key=True),
    Column("gate_pk", String(64), ForeignKey("gates.gate_pk"), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),
    Column("last_used_at", UTCDateTime),  # written behind, at most once a key per flush interval
    Index("ix_gate_keys_gate_pk", "gate_pk"),
)

retailer_keys = Table(
    "retailer_keys", metadata,
    Column("key_id", String(32), primary_key=True),
    Column("retailer_id", String(64), ForeignKey("retailers.retailer_id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
    Column("last_used_at", UTCDateTime),
    Index("ix_retailer_keys_retailer_id", "retailer_id"),
)

# The keys of the rotatable secrets (domain/secrets.py): at most one active (``retired_at`` NULL) per
# purpose, kept by a partial unique index. ``material`` is the key wrapped (AES-256-GCM) under a key
# derived from ENTRYGATE_SECRET_KEY; NULL for a purpose's first key, derived from the secret itself.
ACTIVE_SECRET_KEY = "retired_at IS NULL"
secret_keys = Table(
    "secret_keys", metadata,
    Column("key_id", String(40), primary_key=True),
    Column("purpose", String(16), nullable=False),
    Column("material", LargeBinary),
    Column("created_at", UTCDateTime, nullable=False),
    Column("retired_at", UTCDateTime),
    Index("uq_secret_keys_active_purpose", "purpose", unique=True,
          sqlite_where=text(ACTIVE_SECRET_KEY), postgresql_where=text(ACTIVE_SECRET_KEY)),
)


# The webhook tables (migration 0009) live in their own module, on this metadata; named here too, so
# ``tables.webhook_endpoints`` and every reader of ``metadata`` (migrations, the schema check) see them.
from entrygate.adapters.db.tables_webhooks import (  # noqa: E402, F401 - after metadata and UTCDateTime exist
    PENDING_DELIVERY,
    webhook_attempts,
    webhook_deliveries,
    webhook_endpoints,
    webhook_events,
    webhook_subscriptions,
)
