"""The reference retailer's own database (SQLAlchemy Core); ``migrations/`` creates it.

Times are unix seconds: the retailer compares them with QR time steps, which are unix time too.
"""
from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, ForeignKey, MetaData, Numeric, PrimaryKeyConstraint, String, Table

metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

# Shoppers and associates, as the retailer knows them. ``qr_token`` is the opaque id inside the
# visitor's rotating QR codes (EG1.<qr_token>.<step>.<MAC>).
visitors = Table(
    "visitors", metadata,
    Column("visitor_id", String(255), primary_key=True),
    Column("visitor_type", String(9), nullable=False),  # SHOPPER or ASSOCIATE
    Column("qr_token", String(64), nullable=False, unique=True),
    Column("created_at", Float, nullable=False),
)

# Static keys an app shows (a loyalty number, a member QR): stored as SHA-256 of the raw key, so the
# table does not hand out working keys if it leaks.
identity_keys = Table(
    "identity_keys", metadata,
    Column("key_hash", String(64), primary_key=True),
    Column("visitor_id", String(255), ForeignKey("visitors.visitor_id"), nullable=False, index=True),
    Column("created_at", Float, nullable=False),
)

# Badges by canonical id: <FORMAT>:<facility>:<card> or CSN:<hex uid>.
badges = Table(
    "badges", metadata,
    Column("badge_id", String(64), primary_key=True),
    Column("visitor_id", String(255), ForeignKey("visitors.visitor_id"), nullable=False, index=True),
    Column("created_at", Float, nullable=False),
)

# The retailer's own outstanding balance per shopper identity (the platform's shopperIdentity.id).
balances = Table(
    "balances", metadata,
    Column("shopper_id", String(255), primary_key=True),
    Column("amount", Numeric(18, 4, asdecimal=True), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("updated_at", Float, nullable=False),
)

deny_list = Table(
    "deny_list", metadata,
    Column("shopper_id", String(255), primary_key=True),
    Column("risk", String(32), nullable=False),  # the label answered with the denial, e.g. CustomerFraud
    Column("created_at", Float, nullable=False),
)

loyalty_members = Table(
    "loyalty_members", metadata,
    Column("shopper_id", String(255), primary_key=True),
    Column("created_at", Float, nullable=False),
)

# QR codes already used: a code opens once (DESIGN 6). Rows past ``expires_at`` are pruned.
qr_claims = Table(
    "qr_claims", metadata,
    Column("qr_token", String(64), nullable=False),
    Column("step", BigInteger, nullable=False),
    Column("claimed_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False, index=True),
    PrimaryKeyConstraint("qr_token", "step"),
)
