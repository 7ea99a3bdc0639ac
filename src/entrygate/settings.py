"""Settings: one typed object read from the environment (``ENTRYGATE_*``) and flags."""
from __future__ import annotations

import hashlib
import os
from functools import cached_property
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

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
    # The palm index kept on disk between restarts (docs/palm.md): a file path, "off", or unset for
    # the default: beside a SQLite database file, or under $XDG_STATE_HOME/entrygate for PostgreSQL.
    palm_snapshot: str | None = None
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
    model_dir: str | None = None  # the model store (default ./models); the bundled model is always its first version
    # How often every process reads which model is current and which is the shadow (DESIGN 14: a
    # promotion reaches every process within 10 s).
    model_check_s: float = Field(default=5.0, gt=0, le=10)
    # Console users (emails, comma-separated) who may promote or shadow a model from the console's
    # model page; a model serves every retailer, so by default nobody may (the CLI is the operator's).
    model_admin_emails: str = ""
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    cache_ttl_s: float = Field(default=2.0, ge=0)
    # Keys and secrets (docs/security.md): every process reads the rotatable secrets' keys again this
    # often, so a rotation reaches all of them within twice this (at most 10 s); keys' last use is
    # written this often (one write per key), so lastUsedAt trails a use by at most this.
    key_refresh_s: float = Field(default=4.0, gt=0, le=5)
    key_use_flush_s: float = Field(default=15.0, gt=0, le=50)
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
    # Rate limits per API key (DESIGN 15, docs/deploy.md), in `limits` notation ("50/second",
    # "1000/minute", "10/second;300/minute"); beyond them 429 with Retry-After. Operator tokens are
    # not limited. The storage is memory:// (each process counts for itself) or redis://host:port/db
    # (every process and host shares one count).
    rate_limit_retailer: str = "50/second"
    rate_limit_gate: str = "20/second"  # an honest gate sends a tap every second or two
    rate_limit_storage: str = "memory://"
    # The addresses (or networks, as CIDR) of the reverse proxies whose X-Forwarded-Proto and
    # X-Forwarded-For this process believes, comma-separated; "*" believes any. Empty (the default):
    # none, so only a direct https connection counts as https (Strict-Transport-Security, Secure cookies).
    trusted_proxies: str = ""
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

    @field_validator("rate_limit_retailer", "rate_limit_gate")
    @classmethod
    def _rate_in_limits_notation(cls, value: str) -> str:
        from limits import parse_many

        try:
            parse_many(value)
        except ValueError:
            raise ValueError("not a rate in limits notation, such as 20/second, 600/minute or "
                             "10/second;300/minute") from None
        return value

    @field_validator("rate_limit_storage")
    @classmethod
    def _known_rate_storage(cls, value: str) -> str:
        if not value.startswith(("memory://", "redis://", "rediss://", "redis+unix://")):
            raise ValueError("must be memory:// or a redis:// URL")
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

    def palm_snapshot_path(self) -> Path | None:
        """Where this process keeps its palm index between restarts; None when it keeps none."""
        if self.palm_snapshot is not None:
            return None if self.palm_snapshot.strip().lower() in {"", "off", "none"} else Path(self.palm_snapshot)
        if self.is_sqlite:
            path = self.database_url.split(":///", 1)[-1].split("?", 1)[0]
            if not path or path == ":memory:" or "mode=memory" in self.database_url:
                return None
            return Path(path).resolve().with_name(Path(path).name + ".palm-index")
        state = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "entrygate"
        return state / f"palm-index-{hashlib.sha256(self.database_identity.encode()).hexdigest()[:16]}"

    @property
    def database_identity(self) -> str:
        """The database URL without its password: what a palm snapshot is bound to."""
        url = make_url(self.sqlalchemy_url)
        if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
            url = url.set(database=str(Path(url.database).resolve()))
        return url.render_as_string(hide_password=True)
    @property
    def trusted_proxy_list(self) -> list[str]:
        return [p.strip() for p in self.trusted_proxies.split(",") if p.strip()]

    def model_path(self) -> Path | None:
        return Path(self.model_dir) if self.model_dir else None

    def __repr__(self) -> str:
        return f"Settings(database_url={self.database_url!r}, demo={self.demo})"
