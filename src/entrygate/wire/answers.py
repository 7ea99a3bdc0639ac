"""The shapes of the API's answers, for the OpenAPI document (pydantic).

The routes render their answers with the functions of ``wire.decisions``, ``wire.trips`` and
``wire.stores`` and send them as they are; these models describe those answers, field by field,
as a route's ``response_model``. Every answer model is closed (``additionalProperties: false``) in
the document, so a field an answer gains without its model is caught by the schema-conformance
test, while at run time nothing is ever dropped or refused for it. A field the answer always
carries is required (``X | None`` where it can be null); one it sometimes leaves out has a default
(``= Field(default=None, ...)``) and says in its description when it is absent.
"""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from entrygate.domain.channels import (
    AntiPassback,
    Channel,
    DecidedBy,
    DecisionOutcome,
    FallbackDecision,
    GateDirection,
    RiskStrategy,
    RiskTolerance,
    TripStatus,
    VisitorType,
)
from entrygate.domain.decision import ExitResult
from entrygate.domain.holds import HoldStatus, ProcessorStep
from entrygate.domain.reasons import ReasonCode
from entrygate.domain.risk_policy import RiskLevel
from entrygate.domain.roles import ConsoleRole
from entrygate.domain.trips import ClosedBy, CloseResult
from entrygate.wire.schemas import STORE_FIELDS


class Answer(BaseModel):
    """An answer's model: its required fields always present (null where the contract allows it), no other field."""

    model_config = ConfigDict(json_schema_extra={"additionalProperties": False})


# -- the shared pieces ---------------------------------------------------------------------------

class MoneyOut(Answer):
    """Money as the contract writes it (DESIGN 4), at the currency's ISO 4217 minor units."""

    value: float = Field(description="The amount in the currency's major unit (dollars, not cents).",
                         examples=[25.0])
    currencyCode: str = Field(description="ISO 4217 code.", examples=["USD"])


class ErrorDetail(Answer):
    code: str = Field(description="A stable machine code: VALIDATION_ERROR, PAYLOAD_TOO_LARGE, UNAUTHENTICATED, "
                                  "FORBIDDEN, NOT_FOUND, CONFLICT, RATE_LIMITED, UNAVAILABLE, ...",
                      examples=["VALIDATION_ERROR"])
    message: str = Field(description="What was wrong, for a person; names the field. Never echoes card data.",
                         examples=["timezone: unknown time zone 'Mars/Olympus'; use an IANA name such as "
                                   "'America/New_York'"])
    fields: list[str] = Field(description="The JSON paths of the fields at fault (`connectors.identity.url`, "
                                          "`entryMethods[0]`); empty when no field is at fault.",
                              examples=[["timezone"]])
    reason: str | None = Field(default=None, description="Which rule refused, where there are several for one code "
                                                         "(a pre-authorization's state: ALREADY_CAPTURED, ...).")


class ErrorBody(Answer):
    """Every error of the API, except the feedback endpoints' 400 (``SeedErrorBody``)."""

    error: ErrorDetail


class SeedErrorBody(Answer):
    """The feedback endpoints' 400, in the seed system's connector format, so existing retailer back ends
    read it unchanged."""

    errorType: Literal["BadRequestException"] = Field(description="Always `BadRequestException`.")
    errorMsg: str = Field(description="What was wrong; names the field.",
                          examples=["shoppingTripId: unknown trip trip_x at store store-001"])


# -- the gate API (DESIGN 4.1) -------------------------------------------------------------------

class VisitorOut(Answer):
    id: str = Field(description="Card and palm: the payment instrument's id (never a PAN), the same "
                                "`shopperIdentity.id` connectors receive. QR and badge: the id the retailer's "
                                "identity connector returned.")
    type: VisitorType = Field(description="An ASSOCIATE gets no trip and no pre-authorization.")


class ReasonOut(Answer):
    code: ReasonCode = Field(description="One code of the closed set (DESIGN 4.1).")
    message: str = Field(description="The code's sentence, for a person at the gate or in the console.")


class ContributionOut(Answer):
    """One feature's push on the model's log-odds of a loss (DESIGN 14)."""

    feature: str = Field(description="The feature's name, as `docs/risk-model.md` lists it.", examples=["declines_24h"])
    value: float = Field(description="The feature's value for this entry.", examples=[3])
    contribution: float = Field(description="Its contribution in log-odds of a loss: positive raises the risk.",
                                examples=[1.2])


class RiskOut(Answer):
    """The gate answer's ``risk`` (DESIGN 14): the model's score and level, with ``modelVersion`` and
    ``explanation`` when a trained model ran; ``{"allowListed": true}`` alone when the allow list skipped it."""

    score: int | None = Field(default=None, ge=0, le=100,
                              description="The risk model's score, 0-100; absent when the allow list skipped the model.")
    level: RiskLevel | None = Field(default=None, description="The score's band under the store's risk tolerance; "
                                                              "absent when the allow list skipped the model.")
    modelVersion: str | None = Field(default=None, description="The model version that scored the entry; absent when "
                                                               "no trained model ran.")
    explanation: list[ContributionOut] | None = Field(default=None, max_length=5,
                                                      description="At most five features, by descending |contribution|; "
                                                                  "present with modelVersion.")
    allowListed: Literal[True] | None = Field(default=None, description="Only `true`, and then alone: the allow list skipped "
                                                               "the model.")


class ShadowOut(Answer):
    """What a shadow (candidate) model would have said of the entry (DESIGN 14); it never decides."""

    modelVersion: str = Field(description="The candidate model's version.")
    score: int = Field(ge=0, le=100, description="The candidate's score, 0-100.")
    level: RiskLevel = Field(description="The candidate score's band under the store's risk tolerance.")


class RiskViewOut(RiskOut):
    """A stored decision's ``risk``: the gate's, with what a shadow model said of it."""

    shadow: ShadowOut | None = Field(default=None, description="Present when a shadow model scored the entry "
                                                               "(`entrygate risk shadow VERSION`); the gate's answer "
                                                               "never carries it.")


class RuleFailureOut(Answer):
    name: str = Field(description="The store rule that failed at run time and was skipped.")
    error: str = Field(description="Why it failed (a missing fact, a wrong type, the iteration budget).")


class DecisionOut(Answer):
    """The gate's answer: 200 for every decision, open or deny."""

    eventId: str = Field(description="The request's eventId: its idempotency key.")
    decision: DecisionOutcome = Field(description="OPEN the gate, or keep it shut (DENY).")
    shoppingTripId: str | None = Field(description="The trip this entry opened (null when denied, and for an "
                                                   "associate).")
    visitor: VisitorOut | None = Field(description="Who was identified; null when nobody was.")
    reasons: list[ReasonOut] = Field(description="Why it was denied, and informational codes of an OPEN "
                                                 "(FALLBACK_APPLIED, PREAUTH_ADJUSTED); empty for a plain OPEN.")
    risk: RiskOut | None = Field(description="The risk model's verdict; null when the model did not run.")
    authorizedAmount: MoneyOut | None = Field(description="The amount pre-authorized on the card; null when nothing "
                                                          "was held.")
    decidedBy: DecidedBy = Field(description="PLATFORM, the RETAILER's connector, the store's FALLBACK when a "
                                             "connector failed, or OFFLINE: the gate agent decided from its bundle "
                                             "while the platform did not answer.")
    latencyMs: float = Field(description="Time the platform spent deciding, in milliseconds.")
    partySize: int = Field(description="How many people the gate lets in on this credential.")


class ExitOut(Answer):
    """An exit's answer: people are always let out; ``result`` says what happened to the trip."""

    eventId: str = Field(description="The request's eventId: its idempotency key.")
    shoppingTripId: str | None = Field(description="The trip the exit closed, or null when there was none.")
    result: ExitResult = Field(description="CLOSED now, ALREADY_CLOSED (a repeated exit, nothing changed), or "
                                           "NO_OPEN_TRIP (the credential had no visit in progress).")
    message: str = Field(description="The result in a sentence.")
    tripStatus: TripStatus | None = Field(description="The trip's status after the exit; null without a trip.")


# -- the retailer API (DESIGN 4.2, 10) -------------------------------------------------------------

class DecisionViewOut(DecisionOut):
    """A stored decision: the gate's answer, with where and when it was given."""

    storeId: str = Field(description="The store of the gate.")
    gateId: str = Field(description="The gate that asked.")
    channel: Channel = Field(description="How the visitor presented.")
    decidedAt: datetime = Field(description="When the decision was made (UTC).")
    risk: RiskViewOut | None = Field(description="The risk model's verdict, with a shadow model's; null when the model "
                                                 "did not run.")
    ruleFailures: list[RuleFailureOut] | None = Field(default=None, description="Store rules that failed at run time "
                                                                                "and were skipped; absent when none did.")


class DecisionListOut(Answer):
    decisions: list[DecisionViewOut] = Field(description="The newest first; with `since`, the oldest after it first; "
                                                         "with `after`, in commit order.")
    nextCursor: str | None = Field(default=None, description="With `after`: the cursor to ask with next (the same as "
                                                             "`after` when the page is empty); absent otherwise.")


class PreauthorizationOut(Answer):
    """A trip's hold on the shopper's card (DESIGN 10)."""

    id: str = Field(description="The processor's id of the pre-authorization.")
    status: HoldStatus = Field(description="HELD, CAPTURED, RELEASED, or FAILED (the capture was declined and "
                                           "nothing was collected).")
    heldAmount: MoneyOut
    capturedAmount: MoneyOut
    refundedAmount: MoneyOut


class TripOut(Answer):
    """A shopping trip (``GET /v1/trips/{id}``)."""

    shoppingTripId: str = Field(description="The trip's id (`trip_…`).")
    storeId: str = Field(description="Where it happens.")
    status: TripStatus
    channel: Channel = Field(description="How the visitor entered.")
    visitorId: str | None = Field(description="The decision's `visitor.id`.")
    partySize: int = Field(description="People who entered on the credential.")
    entryGateId: str = Field(description="The entry lane.")
    exitGateId: str | None = Field(description="The exit gate that closed it, if one did.")
    enteredAt: datetime = Field(description="When the entry was decided (UTC).")
    exitedAt: datetime | None = Field(description="When it closed; null while open.")
    closedBy: ClosedBy | None = Field(description="Who closed it; null while open.")
    passbackViolation: bool = Field(description="A SOFT anti-passback store let the visitor in while another trip "
                                                "of theirs was open.")
    authorizedAmount: MoneyOut | None = Field(description="The amount pre-authorized at entry.")
    totalAmount: MoneyOut | None = Field(description="The basket, as reported or captured; null until then.")
    settledAmount: MoneyOut | None = Field(description="What was collected of it; null until reported.")
    outstanding: MoneyOut | None = Field(description="totalAmount - settledAmount; null until reported.")
    preauthorization: PreauthorizationOut | None = Field(description="The trip's hold; null when none was taken "
                                                                     "(QR, badge, an associate).")


class TripListOut(Answer):
    trips: list[TripOut] = Field(description="Newest first.")


class CloseOut(Answer):
    shoppingTripId: str = Field(description="The trip.")
    result: CloseResult = Field(description="CLOSED now, or ALREADY_CLOSED (closedBy says who closed it).")
    closedBy: ClosedBy | None = Field(description="Who closed it: this call (RETAILER, OPERATOR) or earlier.")


class HoldOut(Answer):
    """A capture's, cancel's, adjust's or refund's answer: the pre-authorization as it now stands."""

    shoppingTripId: str = Field(description="The trip whose hold this is.")
    preauthorization: PreauthorizationOut
    declined: ProcessorStep | None = Field(description="The processor step that said no: INCREMENT (the raise was "
                                                       "declined, only the hold was captured) or CAPTURE (nothing "
                                                       "was collected); null when nothing was declined.")


class FeedbackOut(Answer):
    """The seed system's answer, kept as it is; ``reason`` is added to a ``Rejected``."""

    status: Literal["Accepted", "Rejected"] = Field(description="Accepted: recorded (or older than what is "
                                                                "recorded). Rejected: well formed but contradictory.")
    reason: str | None = Field(default=None, description="Only with Rejected: what contradicts what.",
                               examples=["settledAmount.amount is more than totalAmount.amount"])


class PalmEnrolledOut(Answer):
    palmId: str = Field(description="The enrollment's id, to delete it later.")


# -- administration (DESIGN 4.3) -------------------------------------------------------------------

class RetailerCreatedOut(Answer):
    retailerId: str = Field(description="The new retailer's id (`ret_…`).")
    apiKey: str = Field(description="The retailer's API key (`egrk_…`): shown once, never again.")


class UserOut(Answer):
    userId: str = Field(description="The login's id.")
    retailerId: str = Field(description="The retailer it signs in for.")
    email: str = Field(description="As given, in lower case.")
    role: ConsoleRole = Field(description="ADMIN, OPERATOR or VIEWER (DESIGN 15).")
    createdAt: datetime | None = Field(description="When the login was made (UTC); null for logins made before roles.")


class ConnectorOut(Answer):
    url: str = Field(description="The connector's base URL.")
    secretSet: bool = Field(description="Whether a signing secret is set; the secret itself is never shown again.")
    timeoutMs: int = Field(description="The call's hard deadline, connection included.")
    secret: str | None = Field(default=None, description="The signing secret (`whsec_…`), only in the answer of the "
                                                         "call that generated it.")


class ConnectorsOut(Answer):
    identity: ConnectorOut | None = Field(default=None, description="Asked for QR and badge entries.")
    shopperAuthorization: ConnectorOut | None = Field(default=None, description="Asked for card and palm entries "
                                                                                "under the retailer strategies.")


class StoreOut(Answer):
    """A store as configured; the fields mean what they mean in ``StoreIn``."""

    retailerId: str = Field(description="The retailer that owns it.")
    storeId: str = Field(description="The store's id.")
    name: str = Field(description=STORE_FIELDS["name"])
    timezone: str = Field(description=STORE_FIELDS["timezone"])
    currency: str = Field(description=STORE_FIELDS["currency"])
    authorizedAmount: MoneyOut = Field(description=STORE_FIELDS["authorizedAmount"])
    entryMethods: list[Channel] = Field(description=STORE_FIELDS["entryMethods"])
    riskStrategy: RiskStrategy = Field(description=STORE_FIELDS["riskStrategy"])
    riskTolerance: RiskTolerance = Field(description=STORE_FIELDS["riskTolerance"])
    fallbackDecision: FallbackDecision = Field(description=STORE_FIELDS["fallbackDecision"])
    qrPattern: str = Field(description=STORE_FIELDS["qrPattern"])
    badgeFormats: list[str] = Field(description=STORE_FIELDS["badgeFormats"])
    maxPartySize: int = Field(description=STORE_FIELDS["maxPartySize"])
    antiPassback: AntiPassback = Field(description=STORE_FIELDS["antiPassback"])
    maxTripMinutes: int = Field(description=STORE_FIELDS["maxTripMinutes"])
    preauthReleaseHours: int = Field(description=STORE_FIELDS["preauthReleaseHours"])
    country: str | None = Field(description=STORE_FIELDS["country"])
    connectors: ConnectorsOut = Field(description="The store's connectors, never their secrets (but in the answer "
                                                  "that generated one).")


class StoreListOut(Answer):
    stores: list[StoreOut] = Field(description="By store id: every store for the operator, its own for a retailer.")


class GateCreatedOut(Answer):
    gateId: str = Field(description="The gate's id at its store.")
    apiKey: str = Field(description="The gate's API key (`eggk_…`), which the gate sends as `Authorization: Bearer "
                                    "<key>`: shown once, never again.")
    direction: GateDirection


class GateOut(Answer):
    gateId: str = Field(description="The gate's id at its store.")
    direction: GateDirection
    enabled: bool = Field(description="A disabled gate's entries are denied GATE_DISABLED.")


class GateListOut(Answer):
    gates: list[GateOut] = Field(description="The store's gates, by id.")


class ConnectorCheckOut(Answer):
    name: str = Field(description="What the check tries.")
    request: str = Field(description="What was sent.")
    expected: str = Field(description="What the contract expects back.")
    gotStatus: int | None = Field(description="The HTTP status the connector answered; null when it did not answer.")
    got: str = Field(description="What came back, summarised (never the answer's body).")
    passed: bool = Field(description="The connector answered as the contract expects.")
    hint: str | None = Field(description="What to change, when the check failed.")


class ConnectivityOut(Answer):
    storeId: str = Field(description="The store whose connector was tested.")
    connector: str = Field(description="identity or shopperAuthorization.")
    passed: bool = Field(description="Every check passed.")
    checks: list[ConnectorCheckOut] = Field(description="One line per test request, in the order sent.")


# -- operations ------------------------------------------------------------------------------------

class HealthOut(Answer):
    status: Literal["ok"] = Field(description="The process serves.")


class PalmIndexOut(Answer):
    state: Literal["ready", "loading"] = Field(description="ready once the index holds every enrollment.")
    palms: int = Field(description="Palms in this process's index.")
    layout: str = Field(description="The index's kind.")
    syncedSeq: int | None = Field(description="The last change of the enrollment log the index has applied.")
    lastSyncAgeS: float | None = Field(description="Seconds since the index last caught up.")
    unreadableTemplates: int = Field(description="Templates that could not be decrypted (a wrong key).")


class ReadyOut(Answer):
    status: Literal["ok", "loading", "unavailable"] = Field(description="ok: ready to decide entries.")
    palm: PalmIndexOut | None = Field(default=None, description="The palm index; absent when the database is down.")
