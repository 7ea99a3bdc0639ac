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
    WithJsonSchema,
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
from entrygate.domain.store import timezone_refusal
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
    """Money as the contract writes it: ``{"value": 25.0, "currencyCode": "USD"}``."""

    # The currency is declared first so that the amount's check can see it.
    currencyCode: Currency = Field(description="ISO 4217 code, three capital letters.", examples=["USD"])
    value: Decimal = Field(ge=0, le=Decimal("1000000"), allow_inf_nan=False, decimal_places=4,
                           description="The amount in the currency's major unit, with at most its minor units' "
                                       "decimals (USD 2, JPY 0).", examples=[25.0])

    @field_validator("value")
    @classmethod
    def _precision(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        return within_minor_units(value, info.data.get("currencyCode"))


class CardCredentialIn(Model):
    """What the payment terminal reports of a card: a processor token, never the card number."""

    paymentToken: Annotated[str, StringConstraints(min_length=1, max_length=255)] = Field(
        description="The processor's payment token. With the sandbox processor the token chooses the outcome "
                    "(`tok_visa_approve` approves, `tok_decline_insufficient_funds` declines; docs/quickstart.md).",
        examples=["tok_visa_approve"])
    par: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{29}$")] | None = Field(
        default=None, description="The Payment Account Reference (29 characters): links a plastic card and its "
                                  "wallet tokens into one payment instrument. Without it, the instrument is a keyed "
                                  "hash of the token.", examples=["V0010013022298169667504271781"])
    brand: Annotated[str, StringConstraints(pattern=r"^[A-Z_]{2,20}$")] = Field(description="VISA, MASTERCARD, ...",
                                                                               examples=["VISA"])
    last4: Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$")] = Field(description="The card number's last 4.")
    expMonth: int = Field(ge=1, le=12, description="Expiry month, 1-12.")
    expYear: int = Field(ge=2000, le=2100, description="Expiry year, four digits.")
    funding: Literal["credit", "debit", "prepaid", "unknown"] | None = Field(default=None, description="Card funding.")
    issuerCountry: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = Field(
        default=None, description="The issuer's country, ISO 3166-1 alpha-2.")


class PalmCredentialIn(Model):
    """A palm reader's read."""

    signature: Annotated[str, StringConstraints(min_length=1, max_length=100_000)] = Field(
        description="Base64 of a little-endian float32 vector (128 dimensions unless ENTRYGATE_PALM_DIMENSION says "
                    "otherwise); matched 1:N against enrolled palms.")
    liveness: float = Field(ge=0, le=1, allow_inf_nan=False, description="The reader's liveness score, 0-1.")


class QrCredentialIn(Model):
    """A scanned code; the store's ``qrPattern`` filters it, the retailer's identity connector decides."""

    scanValue: Annotated[str, StringConstraints(min_length=1, max_length=4096)] = Field(
        description="The string as scanned.", examples=["EG1.shopper-7.117636544.q7mZ3R1cM1Xo"])


class BadgeCredentialIn(Model):
    """A badge read: exactly one of ``bits``, ``hex`` with ``bitLength``, or ``csn``."""

    bits: Annotated[str, StringConstraints(pattern=r"^[01]{1,256}$")] | None = Field(
        default=None, description="The Wiegand frame, first transmitted bit first.",
        examples=["00110010100000101001110011"])
    hex: Annotated[str, StringConstraints(pattern=r"^(0x)?[0-9A-Fa-f]{1,64}$")] | None = Field(
        default=None, description="The frame as hex: its low `bitLength` bits, first transmitted bit highest.",
        examples=["2006f623ae"])
    bitLength: int | None = Field(default=None, ge=1, le=256, description="The frame's length in bits, with `hex`.")
    csn: Annotated[str, StringConstraints(pattern=r"^[0-9A-Fa-f:]{2,64}$")] | None = Field(
        default=None, description="A card serial number (MIFARE, DESFire, iCLASS UID) as hex.",
        examples=["04A1B2C3D4E5F6"])

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


class GateEventFields(Model):
    eventId: EventId = Field(description="The gate's id of this event (a UUID is fine): the idempotency key. The same "
                                         "eventId with the same body answers the first decision again; with another "
                                         "body, 409.", examples=["3f0c8a0e-7d7f-4e52-9d3f-2b9a0f4b8c11"])
    timestamp: AwareDatetime = Field(description="When it happened at the gate, ISO 8601 with a UTC offset.",
                                     examples=["2026-11-27T18:00:00Z"])
    interactionType: InteractionType = Field(default=InteractionType.TAP,
                                             description="How the credential was presented.")


class EntryFields(GateEventFields):
    partySize: int = Field(default=1, ge=1, le=100, description="People entering on this credential (group entry: "
                                                                "one trip); the store's maxPartySize bounds it.")


class EntryIn(EntryFields):
    channel: Channel
    credential: dict[str, Any]


class ExitFields(GateEventFields):
    pass


class ExitIn(ExitFields):
    shoppingTripId: Id | None = None
    channel: Channel | None = None
    credential: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _trip_or_credential(self) -> ExitIn:
        if self.shoppingTripId is None and (self.channel is None or self.credential is None):
            raise ValueError("give shoppingTripId, or channel and credential")
        return self


class RetailerIn(Model):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)] = Field(
        description="The retailer's name.", examples=["Acme Markets"])


class UserIn(Model):
    """A console login for the retailer."""

    email: Annotated[str, StringConstraints(min_length=3, max_length=320)] = Field(description="The login's email.")
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)] = Field(
        description="The login's password (stored as an Argon2id hash).")
    role: ConsoleRole = Field(default=ConsoleRole.ADMIN, description="ADMIN (everything, users and keys), OPERATOR "
                              "(stores and gates, no users or keys) or VIEWER (reads everything, changes nothing).")


class ConnectorIn(Model):
    """A retailer endpoint entrygate calls during a decision (DESIGN 5)."""

    url: Annotated[str, StringConstraints(pattern=r"^https?://[^\s]+$", max_length=2000)] = Field(
        description="The connector's base URL: https to a public address (ENTRYGATE_ALLOW_PRIVATE_URLS lifts it for "
                    "development).", examples=["https://retailer.example/entry"])
    secret: Annotated[str, StringConstraints(pattern=r"^whsec_[A-Za-z0-9+/=]{16,200}$")] | None = Field(
        default=None, description="The Standard Webhooks signing secret; omitted, entrygate generates one and "
                                  "shows it once in the answer.")
    timeoutMs: int = Field(default=800, ge=10, le=30_000, description="The call's hard deadline, connection included.")


def _iana_time_zone(name: str) -> str:
    refusal = timezone_refusal(name)
    if refusal is not None:
        raise PydanticCustomError("timezone", "{refusal}", {"refusal": refusal})
    return name


TimeZone = Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(_iana_time_zone)]
_CONNECTOR_REF = {"$ref": "#/components/schemas/ConnectorIn"}
# The names are checked with the store (a 400 naming an unknown one), so the map is read as given;
# the document lists the two the contract has.
Connectors = Annotated[dict[str, ConnectorIn], WithJsonSchema({
    "type": "object", "additionalProperties": False,
    "description": "The retailer's connectors, by name: `identity` (needed for QR_CODE and BADGE entry) and "
                   "`shopperAuthorization` (needed under PLATFORM_RECOMMENDATION and RETAILER_MANAGED).",
    "properties": {"identity": _CONNECTOR_REF, "shopperAuthorization": _CONNECTOR_REF}})]

_NAME = "The store's name, as the console shows it."
_TIMEZONE = "IANA time zone name (America/New_York, Europe/Paris, UTC): the store's local times."
_CURRENCY = "The store's ISO 4217 currency; authorizedAmount is in it."
_AMOUNT = "What each card or palm entry pre-authorizes on the shopper's card; above zero, in the store's currency."
_METHODS = "The channels the store's gates accept."
_STRATEGY = "Who decides card and palm entries (DESIGN 3): PLATFORM_MANAGED, PLATFORM_RECOMMENDATION, " \
            "RETAILER_MANAGED, or NONE (the baseline only: a valid credential and an approved pre-authorization)."
_TOLERANCE = "How much risk the store accepts under the platform strategies."
_FALLBACK = "What decides when a connector fails or runs out of time: DENY, ALLOW or USE_RECOMMENDATION."
_QR = "The regular expression (RE2) a scanned code must match before the identity connector is asked."
_BADGES = "The badge formats the store's readers decode: H10301, H10302, H10304, H10306, C1K35, C1K48, CSN."
_PARTY = "The most people one credential lets in (group entry), 1-20."
_PASSBACK = "NONE, SOFT (let in, flagged), or HARD (denied ALREADY_INSIDE) when the credential has an open trip."
_TRIP_MINUTES = "An open trip is closed by the platform this many minutes after entry (closedBy TIMEOUT)."
_RELEASE_HOURS = "A hold neither captured nor cancelled is released this many hours after its trip closed."
_COUNTRY = "The store's country, ISO 3166-1 alpha-2 (a risk feature: cards issued elsewhere)."
# What each field of a store means, for the store's answer too (wire/answers.py).
STORE_FIELDS = {"name": _NAME, "timezone": _TIMEZONE, "currency": _CURRENCY, "authorizedAmount": _AMOUNT,
                "entryMethods": _METHODS, "riskStrategy": _STRATEGY, "riskTolerance": _TOLERANCE,
                "fallbackDecision": _FALLBACK, "qrPattern": _QR, "badgeFormats": _BADGES, "maxPartySize": _PARTY,
                "antiPassback": _PASSBACK, "maxTripMinutes": _TRIP_MINUTES, "preauthReleaseHours": _RELEASE_HOURS,
                "country": _COUNTRY}


class StoreFields(Model):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)] = Field(
        description=_NAME)
    timezone: TimeZone = Field(description=_TIMEZONE, examples=["America/New_York"])
    currency: Currency = Field(description=_CURRENCY)
    authorizedAmount: MoneyIn = Field(description=_AMOUNT)
    entryMethods: list[Channel] = Field(min_length=1, description=_METHODS)
    riskStrategy: RiskStrategy = Field(default=RiskStrategy.NONE, description=_STRATEGY)
    riskTolerance: RiskTolerance = Field(default=RiskTolerance.MEDIUM, description=_TOLERANCE)
    fallbackDecision: FallbackDecision = Field(default=FallbackDecision.DENY, description=_FALLBACK)
    qrPattern: Annotated[str, StringConstraints(min_length=1, max_length=500)] | None = Field(
        default=None, description=_QR + " Default: the reference retailer's rotating codes.")
    badgeFormats: list[str] | None = Field(default=None, description=_BADGES + " Default: H10301.")
    maxPartySize: int = Field(default=4, ge=1, le=100, description=_PARTY)
    antiPassback: AntiPassback = Field(default=AntiPassback.NONE, description=_PASSBACK)
    maxTripMinutes: int = Field(default=DEFAULT_MAX_TRIP_MINUTES, ge=5, le=1440, description=_TRIP_MINUTES)
    preauthReleaseHours: int = Field(default=DEFAULT_PREAUTH_RELEASE_HOURS, ge=0, le=720, description=_RELEASE_HOURS)
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = Field(default=None,
                                                                                    description=_COUNTRY)
    connectors: Connectors | None = Field(default=None, description="The connectors the store's entry methods and "
                                                                    "strategy need; a connector without `secret` "
                                                                    "gets a generated one, shown once.")


class StoreIn(StoreFields):
    """A new store."""

    retailerId: Id | None = Field(default=None, description="The retailer that owns it: required with the operator "
                                                            "token; a retailer key creates stores of its own.")
    storeId: Id = Field(description="The store's id, chosen by the retailer: up to 255 of [0-9A-Za-z_-].",
                        examples=["store-001"])


class StorePatch(Model):
    """A change to a store, as a JSON merge patch: only the fields given change; a null ``country`` clears it."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)] | None = Field(
        default=None, description=_NAME)
    timezone: TimeZone | None = Field(default=None, description=_TIMEZONE)
    currency: Currency | None = Field(default=None, description=_CURRENCY)
    authorizedAmount: MoneyIn | None = Field(default=None, description=_AMOUNT)
    entryMethods: list[Channel] | None = Field(default=None, min_length=1, description=_METHODS)
    riskStrategy: RiskStrategy | None = Field(default=None, description=_STRATEGY)
    riskTolerance: RiskTolerance | None = Field(default=None, description=_TOLERANCE)
    fallbackDecision: FallbackDecision | None = Field(default=None, description=_FALLBACK)
    qrPattern: Annotated[str, StringConstraints(min_length=1, max_length=500)] | None = Field(default=None,
                                                                                            description=_QR)
    badgeFormats: list[str] | None = Field(default=None, description=_BADGES)
    maxPartySize: int | None = Field(default=None, ge=1, le=100, description=_PARTY)
    antiPassback: AntiPassback | None = Field(default=None, description=_PASSBACK)
    maxTripMinutes: int | None = Field(default=None, ge=5, le=1440, description=_TRIP_MINUTES)
    preauthReleaseHours: int | None = Field(default=None, ge=0, le=720, description=_RELEASE_HOURS)
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = Field(default=None,
                                                                                    description=_COUNTRY)
    connectors: Connectors | None = Field(default=None, description="Replaces the store's connectors as a whole; a "
                                                                    "connector given without `secret` keeps its "
                                                                    "secret.")


class GateIn(Model):
    """A new gate at the store: an entry lane or an exit."""

    gateId: Id = Field(description="The gate's id, chosen by the retailer: unique at the store.",
                       examples=["lane-1"])
    direction: GateDirection = Field(default=GateDirection.ENTRY, description="ENTRY lanes take entries, EXIT gates "
                                                                              "exits.")


class GatePatch(Model):
    enabled: bool = Field(description="A disabled gate's entries are denied GATE_DISABLED.")


class HoldAmountIn(Model):
    """The body of a capture, an adjust or a refund of a trip's pre-authorization."""

    amount: MoneyIn = Field(description="In the trip's currency.")


class CancelIn(Model):
    """The body of a cancel: nothing (no body, or an object whose fields are ignored)."""
