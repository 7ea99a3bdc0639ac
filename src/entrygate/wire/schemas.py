"""Request bodies of the HTTP API, which the console's forms become too (pydantic).

Unknown fields are ignored, as DESIGN 4 asks.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from entrygate.domain.channels import (
    AntiPassback,
    Channel,
    FallbackDecision,
    GateDirection,
    InteractionType,
    RiskStrategy,
    RiskTolerance,
)
from entrygate.domain.currencies import UnknownCurrency, minor_units
from entrygate.domain.roles import ConsoleRole
from entrygate.domain.trips import DEFAULT_MAX_TRIP_MINUTES, DEFAULT_PREAUTH_RELEASE_HOURS

Id = Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z_-]{1,255}$")]
EventId = Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z_.:-]{1,64}$")]


def _iso4217(code: str) -> str:
    try:
        minor_units(code)
    except UnknownCurrency as exc:
        # Not a ValueError's "Value error, ...": the console shows this sentence as it is.
        raise PydanticCustomError("currency", str(exc)) from None
    return code


def within_minor_units(amount: Decimal, currency: str | None) -> Decimal:
    """``amount`` if it has no more decimals than ISO 4217 gives ``currency`` (JPY 1.5 is refused).

    The one check of every money input's precision; a currency that failed its own check is
    left to that error.
    """
    if currency is None:
        return amount
    places = minor_units(currency)
    exponent = amount.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        raise PydanticCustomError("money_precision", "has more decimals than {currency} has ({places})",
                                  {"currency": currency, "places": places})
    return amount


# Three capital letters that ISO 4217 lists as a currency one can be charged in.
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$"), AfterValidator(_iso4217)]


class Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, str_strip_whitespace=False)


class MoneyIn(Model):
    # The currency is declared first so that the amount's check can see it.
    currencyCode: Currency
    value: Decimal = Field(ge=0, le=Decimal("1000000"), allow_inf_nan=False, decimal_places=4)

    @field_validator("value")
    @classmethod
    def _precision(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        return within_minor_units(value, info.data.get("currencyCode"))


class CardCredentialIn(Model):
    paymentToken: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    par: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{29}$")] | None = None
    brand: Annotated[str, StringConstraints(pattern=r"^[A-Z_]{2,20}$")]
    last4: Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$")]
    expMonth: int = Field(ge=1, le=12)
    expYear: int = Field(ge=2000, le=2100)
    funding: Literal["credit", "debit", "prepaid", "unknown"] | None = None
    issuerCountry: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = None


class PalmCredentialIn(Model):
    signature: Annotated[str, StringConstraints(min_length=1, max_length=100_000)]
    liveness: float = Field(ge=0, le=1, allow_inf_nan=False)


class QrCredentialIn(Model):
    scanValue: Annotated[str, StringConstraints(min_length=1, max_length=4096)]


class BadgeCredentialIn(Model):
    bits: Annotated[str, StringConstraints(pattern=r"^[01]{1,256}$")] | None = None
    hex: Annotated[str, StringConstraints(pattern=r"^(0x)?[0-9A-Fa-f]{1,64}$")] | None = None
    bitLength: int | None = Field(default=None, ge=1, le=256)
    csn: Annotated[str, StringConstraints(pattern=r"^[0-9A-Fa-f:]{2,64}$")] | None = None

    @model_validator(mode="after")
    def _one_form(self) -> BadgeCredentialIn:
        forms = [self.bits is not None, self.hex is not None, self.csn is not None]
        if sum(forms) != 1:
            raise ValueError("give exactly one of bits, hex (with bitLength) or csn")
        if self.hex is not None and self.bitLength is None:
            raise ValueError("hex needs bitLength")
        return self


CREDENTIAL_MODELS: dict[Channel, type[Model]] = {
    Channel.CREDIT_CARD: CardCredentialIn,
    Channel.PALM: PalmCredentialIn,
    Channel.QR_CODE: QrCredentialIn,
    Channel.BADGE: BadgeCredentialIn,
}


class EntryIn(Model):
    eventId: EventId
    timestamp: AwareDatetime
    channel: Channel
    interactionType: InteractionType = InteractionType.TAP
    partySize: int = Field(default=1, ge=1, le=100)
    credential: dict[str, Any]


class ExitIn(Model):
    eventId: EventId
    timestamp: AwareDatetime
    shoppingTripId: Id | None = None
    channel: Channel | None = None
    interactionType: InteractionType = InteractionType.TAP
    credential: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _trip_or_credential(self) -> ExitIn:
        if self.shoppingTripId is None and (self.channel is None or self.credential is None):
            raise ValueError("give shoppingTripId, or channel and credential")
        return self


class RetailerIn(Model):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]


class UserIn(Model):
    email: Annotated[str, StringConstraints(min_length=3, max_length=320)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]
    role: ConsoleRole = ConsoleRole.ADMIN


class ConnectorIn(Model):
    url: Annotated[str, StringConstraints(pattern=r"^https?://[^\s]+$", max_length=2000)]
    secret: Annotated[str, StringConstraints(pattern=r"^whsec_[A-Za-z0-9+/=]{16,200}$")] | None = None
    timeoutMs: int = Field(default=800, ge=10, le=30_000)


class StoreFields(Model):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
    timezone: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    currency: Currency
    authorizedAmount: MoneyIn
    entryMethods: list[Channel] = Field(min_length=1)
    riskStrategy: RiskStrategy = RiskStrategy.NONE
    riskTolerance: RiskTolerance = RiskTolerance.MEDIUM
    fallbackDecision: FallbackDecision = FallbackDecision.DENY
    qrPattern: Annotated[str, StringConstraints(min_length=1, max_length=500)] | None = None
    badgeFormats: list[str] | None = None
    maxPartySize: int = Field(default=4, ge=1, le=100)
    antiPassback: AntiPassback = AntiPassback.NONE
    maxTripMinutes: int = Field(default=DEFAULT_MAX_TRIP_MINUTES, ge=5, le=1440)
    preauthReleaseHours: int = Field(default=DEFAULT_PREAUTH_RELEASE_HOURS, ge=0, le=720)
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = None
    connectors: dict[str, ConnectorIn] | None = None


class StoreIn(StoreFields):
    retailerId: Id | None = None
    storeId: Id


class StorePatch(Model):
    """Every field optional: only what is given changes."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)] | None = None
    timezone: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    currency: Currency | None = None
    authorizedAmount: MoneyIn | None = None
    entryMethods: list[Channel] | None = Field(default=None, min_length=1)
    riskStrategy: RiskStrategy | None = None
    riskTolerance: RiskTolerance | None = None
    fallbackDecision: FallbackDecision | None = None
    qrPattern: Annotated[str, StringConstraints(min_length=1, max_length=500)] | None = None
    badgeFormats: list[str] | None = None
    maxPartySize: int | None = Field(default=None, ge=1, le=100)
    antiPassback: AntiPassback | None = None
    maxTripMinutes: int | None = Field(default=None, ge=5, le=1440)
    preauthReleaseHours: int | None = Field(default=None, ge=0, le=720)
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = None
    connectors: dict[str, ConnectorIn] | None = None


class GateIn(Model):
    gateId: Id
    direction: GateDirection = GateDirection.ENTRY


class GatePatch(Model):
    enabled: bool


class HoldAmountIn(Model):
    """The body of a capture, an adjust or a refund of a trip's pre-authorization."""

    amount: MoneyIn


class CancelIn(Model):
    """The body of a cancel: nothing (no body, or an object whose fields are ignored)."""
