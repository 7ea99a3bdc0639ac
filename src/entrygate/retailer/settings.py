"""The reference retailer's settings: ``ENTRYGATE_RETAILER_*`` from the environment, or flags."""
from __future__ import annotations

import hashlib
import hmac

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from entrygate.domain.webhooks import secret_key

# Domain separation: the QR key is derived from the signing secret, never the same bytes, so a
# leaked QR key does not let anyone sign connector calls, and the other way round.
_QR_KEY_LABEL = b"entrygate reference retailer: EG1 QR codes v1"


class RetailerSettingsError(ValueError):
    """Settings the retailer cannot run with."""


class RetailerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ENTRYGATE_RETAILER_", extra="ignore")

    database_url: str = "sqlite:///./retailer.db"
    signing_secret: str = Field(default="", repr=False)  # the whsec_ value the store's connector carries
    qr_secret: str = Field(default="", repr=False)  # optional: a separate key for QR codes

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if value.startswith("postgres://"):
            value = "postgresql://" + value[len("postgres://"):]
        if not value.startswith(("sqlite://", "postgresql://", "postgresql+psycopg://")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return value

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url.startswith("postgresql://"):
            return "postgresql+psycopg://" + self.database_url[len("postgresql://"):]
        return self.database_url

    def require_signing_secret(self) -> str:
        """The signing secret, refused when missing or not a ``whsec_`` value."""
        if not self.signing_secret:
            raise RetailerSettingsError("set ENTRYGATE_RETAILER_SIGNING_SECRET (or --signing-secret) to the whsec_ "
                                        "secret of the store's connector")
        try:
            secret_key(self.signing_secret)
        except ValueError as exc:
            raise RetailerSettingsError(f"the signing secret is malformed: {exc}") from None
        return self.signing_secret

    @property
    def qr_key(self) -> bytes:
        """The MAC key of the retailer's QR codes.

        ``ENTRYGATE_RETAILER_QR_SECRET`` when set (any string; rotate it to void every code out
        there), else HMAC-SHA256(signing key, a fixed label): one secret to manage, two keys.
        """
        if self.qr_secret:
            return hashlib.sha256(self.qr_secret.encode()).digest()
        return hmac.new(secret_key(self.require_signing_secret()), _QR_KEY_LABEL, hashlib.sha256).digest()

    def __repr__(self) -> str:
        return f"RetailerSettings(database_url={self.database_url!r})"
