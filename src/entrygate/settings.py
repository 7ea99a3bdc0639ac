"""Settings: one typed object read from the environment (``ENTRYGATE_*``) and flags."""
from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = frozenset({"", "change-me", "changeme", "secret", "placeholder", "demo"})
DEMO_SECRET = "entrygate-demo-secret-not-for-production-use-0000"


class SettingsError(ValueError):
    """Settings that cannot run: a placeholder secret outside the demo, a half-specified value."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ENTRYGATE_", extra="ignore")

    database_url: str = "sqlite:///./entrygate.db"
    secret_key: str = Field(default="change-me", repr=False)
    demo: bool = False
    palm_dimension: int = Field(default=128, ge=8, le=4096)
    palm_match_threshold: float | None = None
    palm_liveness_threshold: float = Field(default=0.8, ge=0, le=1)  # domain.palm.LIVENESS_THRESHOLD
    palm_sync_interval_s: float = 1.0
    # The payment processor: a plugin of the entry-point group ``entrygate.processors``
    # (docs/processors.md); ``sandbox`` decides by the payment token, ``stripe`` calls Stripe.
    processor: str = "sandbox"
    processor_timeout_ms: int = Field(default=2000, ge=10, le=60000)
    stripe_api_key: SecretStr | None = None
    stripe_api_base: str | None = None  # default Stripe's own; tests point it at a local server
    sandbox_ledger: str | None = None  # a file where the sandbox processor appends each hold and release
    # The trip sweeps (DESIGN 10) run in every process this often, jittered by a fifth either way; a
    # trip must close within 60 s of its maxTripMinutes, so 45 s is the most (45 x 1.2 = 54 s).
    # 0: no sweep in the background, for a deployment that runs `entrygate trips sweep` itself.
    sweep_interval_s: float = Field(default=30.0, ge=0, le=45)
    model_dir: str | None = None
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    cache_ttl_s: float = Field(default=2.0, ge=0)
    log_level: str = "INFO"
    log_json: bool = True
    db_pool_size: int = Field(default=16, ge=1)
    # Serving (docs/serving.md): a connection that holds a socket without sending a request is
    # closed, so idle or trickling clients cannot use up the process's open files.
    header_timeout_s: float = Field(default=5.0, gt=0, le=300)  # connect or first byte -> complete request head
    body_timeout_s: float = Field(default=10.0, gt=0, le=600)  # complete head -> complete body
    keep_alive_timeout_s: float = Field(default=5.0, gt=0, le=300)  # idle between requests
    max_connections: int = Field(default=2048, ge=1, le=1_000_000)  # per worker process; beyond it, 503 at once
    open_files_limit: int | None = Field(default=None, ge=64)  # soft RLIMIT_NOFILE at start; None: the hard limit
    # Connector URLs must be https to public addresses (DESIGN "Outbound addresses"); true lifts
    # that for development, the demo and tests, whose retailers listen on loopback.
    allow_private_urls: bool = False
    # Webhooks (DESIGN 13, docs/webhooks.md): every retry delay, the 24 h retry window and the 5 days
    # after which a failing endpoint is disabled are multiplied by this (tests use 0.01).
    webhook_backoff_scale: float = Field(default=1.0, gt=0, le=100)
    # How often each process's delivery worker looks for due deliveries when it found none last time.
    webhook_poll_interval_s: float = Field(default=1.0, gt=0, le=60)

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql://", "postgresql+psycopg://", "postgres://")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        if value.startswith("postgres://"):
            value = "postgresql://" + value[len("postgres://"):]
        return value

    def require_real_secret(self) -> None:
        """Refuse to serve with a placeholder secret, except in the demo."""
        if self.demo:
            return
        if self.secret_key.strip().lower() in PLACEHOLDER_SECRETS or self.secret_key == DEMO_SECRET:
            raise SettingsError("ENTRYGATE_SECRET_KEY is a placeholder: set a random value of at least 32 characters")
        if len(self.secret_key) < 32:
            raise SettingsError("ENTRYGATE_SECRET_KEY must be at least 32 characters")

    @cached_property
    def secret_bytes(self) -> bytes:
        return self.secret_key.encode()

    @property
    def sqlalchemy_url(self) -> str:
        url = self.database_url
        if url.startswith("postgresql://"):
            return "postgresql+psycopg://" + url[len("postgresql://"):]
        return url

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def model_path(self) -> Path | None:
        return Path(self.model_dir) if self.model_dir else None

    def __repr__(self) -> str:
        return f"Settings(database_url={self.database_url!r}, demo={self.demo})"
