"""``entrygate retailer …``: run the reference retailer and manage its records (DESIGN 7)."""
from __future__ import annotations

import os
import time
from decimal import Decimal, InvalidOperation
from pathlib import Path

import typer

from entrygate.domain import badges
from entrygate.retailer.settings import RetailerSettings, RetailerSettingsError

app = typer.Typer(help="The reference retailer: connector endpoints and its own records.", no_args_is_help=True)

DATABASE_URL = typer.Option(None, "--database-url", help="Overrides ENTRYGATE_RETAILER_DATABASE_URL "
                            "(default sqlite:///./retailer.db).")
SIGNING_SECRET = typer.Option(None, "--signing-secret", help="The store connector's whsec_ secret; overrides "
                              "ENTRYGATE_RETAILER_SIGNING_SECRET.")
VISITOR_TYPES = ("SHOPPER", "ASSOCIATE")


def _settings(database_url: str | None, signing_secret: str | None = None) -> RetailerSettings:
    given = {k: v for k, v in (("database_url", database_url), ("signing_secret", signing_secret)) if v}
    return RetailerSettings(**given)


def _repo(settings: RetailerSettings):  # noqa: ANN202
    from entrygate.retailer.db import connect
    from entrygate.retailer.repository import RetailerRepository

    return RetailerRepository(connect(settings.sqlalchemy_url, pool_size=1))


def _fail(message: str) -> typer.Exit:
    typer.echo(f"entrygate retailer: {message}", err=True)
    return typer.Exit(2)


@app.command()
def serve(host: str = typer.Option("127.0.0.1", help="Address to listen on."),
          port: int = typer.Option(8100, help="Port to listen on."),
          database_url: str | None = DATABASE_URL, signing_secret: str | None = SIGNING_SECRET) -> None:
    """Serve the identity and shopper-authorization connector endpoints; migrates the database first."""
    import uvicorn

    from entrygate.logs import configure
    from entrygate.retailer.app import create_retailer_app

    settings = _settings(database_url, signing_secret)
    try:
        settings.require_signing_secret()
    except RetailerSettingsError as exc:
        raise _fail(str(exc)) from None
    configure(level=os.environ.get("ENTRYGATE_LOG_LEVEL", "INFO"), json=True)
    uvicorn.run(create_retailer_app(settings), host=host, port=port, log_level="warning", access_log=False)


def _add_visitor_with_key(identity_key: str, visitor_id: str, visitor_type: str, database_url: str | None) -> None:
    from entrygate.retailer.repository import RegistrationError

    if not identity_key:
        raise _fail("--identity-key must not be empty")
    if len(identity_key.encode()) > 750:
        raise _fail("--identity-key: at most 750 bytes (its base64 must fit the connector's 1000 characters)")
    repo = _repo(_settings(database_url))
    try:
        repo.add_visitor(visitor_id, visitor_type)
        repo.add_identity_key(identity_key.encode(), visitor_id)
    except RegistrationError as exc:
        raise _fail(str(exc)) from None
    finally:
        repo.engine.dispose()
    typer.echo(f"{visitor_type.lower()} {visitor_id} registered with the given identity key")


@app.command("add-shopper")
def add_shopper(identity_key: str = typer.Option(..., help="The raw key the app shows (sent base64-encoded)."),
                visitor_id: str = typer.Option(..., help="The id the connector answers with."),
                database_url: str | None = DATABASE_URL) -> None:
    """Register a shopper's static identity key."""
    _add_visitor_with_key(identity_key, visitor_id, "SHOPPER", database_url)


@app.command("add-associate")
def add_associate(identity_key: str = typer.Option(..., help="The raw key the app shows (sent base64-encoded)."),
                  visitor_id: str = typer.Option(..., help="The id the connector answers with."),
                  database_url: str | None = DATABASE_URL) -> None:
    """Register a store associate's static identity key (associates enter with no trip)."""
    _add_visitor_with_key(identity_key, visitor_id, "ASSOCIATE", database_url)


@app.command("add-badge")
def add_badge(visitor_id: str = typer.Option(..., help="The id the connector answers with."),
              format: str | None = typer.Option(None, "--format", help="Wiegand format: "
                                                   f"{', '.join(badges.FORMATS)}."),
              facility: int | None = typer.Option(None, help="Facility (or company) code."),
              card: int | None = typer.Option(None, help="Card number."),
              csn: str | None = typer.Option(None, help="Card serial number (hex), instead of a format."),
              type: str = typer.Option("SHOPPER", "--type", help="SHOPPER or ASSOCIATE."),
              database_url: str | None = DATABASE_URL) -> None:
    """Register a badge by format, facility and card number, or by card serial number."""
    from entrygate.retailer.repository import RegistrationError

    visitor_type = type.upper()
    if visitor_type not in VISITOR_TYPES:
        raise _fail("--type must be SHOPPER or ASSOCIATE")
    try:
        if csn is not None:
            if format or facility is not None or card is not None:
                raise _fail("give --csn, or --format with --facility and --card, not both")
            badge = badges.csn_badge(csn)
        else:
            if not format or card is None:
                raise _fail("give --format, --facility and --card (or --csn)")
            badge = badges.badge_id(format.upper(), facility, card)
    except (ValueError, badges.BadgeError) as exc:
        raise _fail(str(exc)) from None
    repo = _repo(_settings(database_url))
    try:
        repo.add_visitor(visitor_id, visitor_type)
        repo.add_badge(badge.canonical, visitor_id)
    except RegistrationError as exc:
        raise _fail(str(exc)) from None
    finally:
        repo.engine.dispose()
    typer.echo(f"badge {badge.canonical} registered for {visitor_type.lower()} {visitor_id}")


@app.command("issue-qr")
def issue_qr(visitor_id: str = typer.Option(..., help="A registered visitor."),
             png: Path | None = typer.Option(None, help="Also write the code as a PNG image here."),
             database_url: str | None = DATABASE_URL, signing_secret: str | None = SIGNING_SECRET) -> None:
    """Print a fresh rotating QR code for a registered visitor (valid for about 20-40 s, once)."""
    from entrygate.domain import qr

    settings = _settings(database_url, signing_secret)
    try:
        key = settings.qr_key
    except RetailerSettingsError as exc:
        raise _fail(str(exc)) from None
    repo = _repo(settings)
    try:
        visitor = repo.visitor(visitor_id)
    finally:
        repo.engine.dispose()
    if visitor is None:
        raise _fail(f"no visitor {visitor_id}; register one with add-shopper, add-associate or add-badge")
    code = qr.issue(key, visitor.qr_token, now=time.time())
    if png is not None:
        import qrcode

        qrcode.make(code).save(png)
    typer.echo(code)


@app.command("set-balance")
def set_balance(shopper_id: str = typer.Option(..., help="The shopper identity (the platform's shopperIdentity.id)."),
                amount: str = typer.Option(..., help="The outstanding amount; 0 clears it."),
                currency: str = typer.Option(..., help="ISO 4217 code, e.g. USD."),
                database_url: str | None = DATABASE_URL) -> None:
    """Set the retailer's own outstanding balance for a shopper (a positive balance refuses entry)."""
    try:
        value = Decimal(amount)
    except InvalidOperation:
        raise _fail("--amount must be a number") from None
    if not value.is_finite() or value < 0:
        raise _fail("--amount must be zero or more")
    if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        raise _fail("--currency must be three capital letters")
    repo = _repo(_settings(database_url))
    try:
        repo.set_balance(shopper_id, value, currency)
    finally:
        repo.engine.dispose()
    typer.echo(f"balance of {shopper_id} set to {value} {currency}")


@app.command("deny")
def deny(shopper_id: str = typer.Option(..., help="The shopper identity to refuse."),
         risk: str = typer.Option("CustomerFraud", help="The risk label answered with the refusal."),
         database_url: str | None = DATABASE_URL) -> None:
    """Put a shopper on the retailer's deny list."""
    from entrygate.retailer.validation import RISKS

    if risk not in RISKS:
        raise _fail(f"--risk must be one of {', '.join(RISKS)}")
    repo = _repo(_settings(database_url))
    try:
        repo.deny(shopper_id, risk=risk)
    finally:
        repo.engine.dispose()
    typer.echo(f"{shopper_id} is on the deny list ({risk})")


@app.command("add-loyalty-member")
def add_loyalty_member(shopper_id: str = typer.Option(..., help="The shopper identity."),
                       database_url: str | None = DATABASE_URL) -> None:
    """Mark a shopper as a loyalty member (admitted despite a HighVelocity-only flag)."""
    repo = _repo(_settings(database_url))
    try:
        repo.add_loyalty_member(shopper_id)
    finally:
        repo.engine.dispose()
    typer.echo(f"{shopper_id} is a loyalty member")
